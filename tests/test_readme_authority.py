"""The README's table of who may act on a task is the permission matrix, in words.

Each cell of the README table is compared with the answer the permission matrix
(tests/test_permission_matrix.py) expects and checks by making the request, so the table a
reader trusts cannot drift from what the API does."""

from pathlib import Path

from tests.test_permission_matrix import EXPECTED, SCHEDULES, TRANSITIONS, WRITES, parse

README = Path(__file__).resolve().parent.parent / "README.md"
MEANING = {"✓": "allowed", "✗": 403, "404": 404}


def readme_table() -> tuple[list[str], list[list[str]]]:
    """The header and rows of the README table whose first column is "action" and which
    has a "lead_leader" column."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("| action |") and "lead_leader" in line)
    header = [cell.strip() for cell in lines[start].strip("|").split("|")]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return header, rows


def test_every_cell_of_the_readme_table_is_what_the_matrix_checks():
    header, rows = readme_table()
    callers = [name for name in header[1:] if name != "scope"]
    compared = 0
    for row in rows:
        action, cells = row[0], row[1 : 1 + len(callers)]
        for caller, cell in zip(callers, cells, strict=True):
            status = EXPECTED[action, caller]
            answer = "allowed" if 200 <= status < 300 else status
            assert MEANING[cell] == answer, (action, caller, cell, status)
            compared += 1
    assert compared == len(rows) * len(callers) > 100


def test_the_readme_table_names_every_action_of_the_matrix():
    _header, rows = readme_table()
    writes = {**parse(TRANSITIONS), **parse(WRITES), **parse(SCHEDULES)}
    # Reading the report schedule is a read, as the task's other reads: not in the table.
    actions = {action for action, _caller in writes if action != "schedule"}
    assert {row[0] for row in rows} == actions
