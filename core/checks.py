"""Start-up checks: a production shape never runs with the demo's public secret."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def demo_secret_outside_debug(app_configs, **kwargs) -> list[Error]:
    # The settings name the demo's key (DEMO_SECRET_KEY) beside the key in use.
    if settings.DEBUG or settings.SECRET_KEY != settings.DEMO_SECRET_KEY:
        return []
    return [
        Error(
            "DEBUG is off but SECRET_KEY is the demo's public key.",
            hint="Set DJANGO_SECRET_KEY in the environment.",
            id="duban.E001",
        )
    ]
