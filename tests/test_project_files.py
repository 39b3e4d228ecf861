"""The files a newcomer reads first stay true: every setting the code reads is in the example
environment file and in the README, and that file is one a shell can load."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READ_BY_SETTINGS = re.compile(
    r"""(?:os\.environ(?:\.get)?|env_bool|env_list)\s*[(\[]\s*["']([A-Z][A-Z0-9_]+)["']"""
)


def setting_names() -> set[str]:
    # Production's settings: the test and local modules read nothing an office sets.
    names = set(READ_BY_SETTINGS.findall((ROOT / "backend" / "settings" / "base.py").read_text()))
    # Read through dj-database-url and Django itself rather than by name in the settings.
    return names | {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}


def example_names() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))


def test_every_setting_is_in_the_example_environment_and_the_readme():
    names = setting_names()
    readme = (ROOT / "README.md").read_text()
    assert len(names) > 30
    assert sorted(names - example_names()) == []
    assert sorted(name for name in names if f"`{name}`" not in readme) == []


def test_the_example_environment_loads_in_a_shell_as_bin_production_loads_it():
    script = 'set -a; . "$1"; set +a; printf "%s\\n" "$DEFAULT_FROM_EMAIL" "$DJANGO_SETTINGS_MODULE"'
    loaded = subprocess.run(
        ["bash", "-c", script, "-", str(ROOT / ".env.example")],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert loaded.stdout.splitlines() == ["督查室 <duban@example.gov.cn>", "backend.settings.base"]


def test_the_project_files_a_newcomer_looks_for_are_there():
    assert (ROOT / "LICENSE").read_text().lstrip().startswith("Apache License")
    assert "## [" in (ROOT / "CHANGELOG.md").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "Apache License 2.0" in readme and "/api/schema/" in readme
    for example in ("通讯录.csv", "任务分解表.csv"):
        assert (ROOT / "examples" / example).stat().st_size > 0
