from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BulletinsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "bulletins"
    verbose_name = _("督查通报")

    def ready(self) -> None:
        from notifications.documents import document_provider_register
        from tasks.models import ObligationKind

        from .notice_services import notice_pdfs_for_obligations

        # A missing 回执 is chased with the notice it answers.
        document_provider_register(ObligationKind.REPLY, notice_pdfs_for_obligations)
