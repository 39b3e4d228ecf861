from django.apps import AppConfig


class ResponsibilityConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "responsibility"
