from django.apps import AppConfig


class TasksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tasks"

    def ready(self) -> None:
        # Connects the receiver that rewrites the scope of tasks under a unit that moved.
        from . import scope  # noqa: F401
