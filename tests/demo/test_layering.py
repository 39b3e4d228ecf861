"""The demo sits at the top of the app stack: it uses every app, and no app below it uses it."""

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import get_commands

BELOW_DEMO = ["core", "responsibility", "tasks", "notifications", "imports", "bulletins"]


def imported_apps(app: str) -> set[str]:
    """The top-level packages an app's own modules import, at any depth of the code."""
    found: set[str] = set()
    for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("app", BELOW_DEMO)
def test_no_app_below_the_demo_imports_it(app):
    assert "demo" not in imported_apps(app)


def test_tasks_does_not_import_the_bulletins():
    assert "bulletins" not in imported_apps("tasks")


def test_the_load_demo_command_belongs_to_the_demo_app():
    assert get_commands()["load_demo"] == "demo"
