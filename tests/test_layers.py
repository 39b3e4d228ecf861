"""Apps depend one way: each imports only the apps below it, and each model points only at
models of its own app or of apps below it. The order is STYLE.md's, with the outbox near
the bottom so that every channel can use it and the demo at the top.

The check reads the source (every import, also those inside functions) and Django's model
registry (every foreign key and many-to-many field), so a dependency cannot hide in a lazy
import or a string reference."""

import ast
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
# Bottom first; apps on one line are side by side and may not import each other.
LAYERS = [
    ("core",),
    ("responsibility",),
    ("outbox",),
    ("tasks",),
    ("notifications", "imports"),
    ("bulletins",),
    ("pages",),
    ("demo",),
    ("backend",),
]
LAYER_OF = {app: rank for rank, apps_ in enumerate(LAYERS) for app in apps_}


def _may_use(user: str, used: str) -> bool:
    return used == user or LAYER_OF[used] < LAYER_OF[user]


def imported_apps(source: str) -> set[str]:
    """The project apps a module's source imports, wherever in the module it does."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split(".")[0] for name in names} & LAYER_OF.keys()
    return found


def upward_imports(app: str, source: str) -> set[str]:
    return {used for used in imported_apps(source) if not _may_use(app, used)}


def _modules():
    for app in LAYER_OF:
        folder = ROOT / app
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.py")):
            # Historical migrations record the order the models were made in; the models'
            # fields are checked below, from the registry.
            if "migrations" not in path.parts:
                yield app, path


def test_the_apps_named_here_are_the_projects_apps():
    project = {config.name for config in apps.get_app_configs() if Path(config.path).parent == ROOT}
    assert project <= LAYER_OF.keys()
    # Not a layer merely planned: every app the project has is placed.
    assert project >= LAYER_OF.keys() - {"pages", "backend"}


def test_no_module_imports_an_app_above_its_own():
    violations = [
        f"{path.relative_to(ROOT)} imports {sorted(used)}"
        for app, path in _modules()
        if (used := upward_imports(app, path.read_text()))
    ]
    assert violations == []


def test_no_model_points_at_a_model_above_its_app():
    violations = []
    for model in apps.get_models():
        app = model._meta.app_label
        if app not in LAYER_OF:
            continue
        for field in model._meta.get_fields():
            if not field.is_relation or field.auto_created or field.related_model is None:
                continue
            target = field.related_model._meta.app_label
            if target in LAYER_OF and not _may_use(app, target):
                violations.append(f"{model._meta.label}.{field.name} → {field.related_model._meta.label}")
    assert violations == []


@pytest.mark.parametrize(
    ("app", "source", "expected"),
    [
        ("tasks", "from bulletins.models import Bulletin", {"bulletins"}),
        ("tasks", "def f():\n    import notifications.services\n", {"notifications"}),
        ("notifications", "from imports.plan import build_plan", {"imports"}),
        ("core", "from responsibility.models import Unit", {"responsibility"}),
        ("bulletins", "from notifications.models import Escalation\nfrom core.errors import NotFound", set()),
        ("tasks", "from .models import Task\nimport django.db", set()),
    ],
)
def test_the_check_sees_an_import_that_runs_back_down(app, source, expected):
    assert upward_imports(app, source) == expected
