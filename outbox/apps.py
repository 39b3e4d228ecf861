from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    """Messages stored before they are sent, for every channel: the ladder's digests, the
    sweep's problems and the bulletins all go out through it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "outbox"
    verbose_name = _("发件箱")
