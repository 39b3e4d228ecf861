"""Importing a directory (通讯录): a dry run first, then all or nothing, within the importer's
jurisdiction (``responsibility.jurisdiction.DirectoryScope``)."""

from dataclasses import asdict, dataclass, field

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.errors import Conflict, Forbidden, NotFound
from imports.readers import read_rows
from imports.services import ImportInvalid, error_fields
from responsibility.jurisdiction import DirectoryScope
from responsibility.models import Membership, Unit, User, path_segment
from responsibility.selectors import access_forget, is_directory_admin

from .plan import CREATED, PERSON_FIELDS, UNCHANGED, UPDATED, DirectoryPlan, UnitNode, build_directory_plan
from .table import DIRECTORY, LABELS, kind_label, role_label


@dataclass
class DirectoryImportResult:
    dry_run: bool
    notes: list[str]
    rows: list[dict]
    errors: list[dict]
    counts: dict[str, int] = field(default_factory=dict)
    # Memberships of the table's units that it no longer lists: kept, not deleted.
    missing: list[str] = field(default_factory=list)


def directory_scope(actor: User) -> DirectoryScope:
    """Where ``actor`` may import a directory; refused before the file is read when nowhere."""
    scope = DirectoryScope.for_user(actor, is_admin=is_directory_admin(actor))
    if scope.is_empty:
        raise Forbidden(_("只有单位负责人和管理员可以导入通讯录。"), code="not_a_directory_keeper")
    return scope


def directory_import(*, actor: User, data: bytes, filename: str, dry_run: bool) -> DirectoryImportResult:
    """Read the directory and show, row by row, which units, people and memberships would be
    created or changed; unless it is a dry run, write them, in one transaction. Any row error
    and nothing is written; a row outside the importer's jurisdiction makes it a 403."""
    scope = directory_scope(actor)
    source_rows, notes = read_rows(data, filename, DIRECTORY)
    with transaction.atomic():
        plan = build_directory_plan(source_rows, scope)
        result = _result(plan, [*notes, *plan.notes], dry_run)
        if plan.errors and not dry_run:
            fields = error_fields(plan.errors)
            message = _("通讯录有 %(count)d 处错误，未导入任何内容。请先试导入（dry run）查看逐行错误。") % {
                "count": len(plan.errors)
            }
            if any(error.code.endswith("outside_jurisdiction") for error in plan.errors):
                raise Forbidden(message, code="outside_jurisdiction", fields=fields)
            raise ImportInvalid(message, fields=fields)
        if not dry_run:
            try:
                with transaction.atomic():
                    _write(plan)
            except IntegrityError as error:
                # Another import created the same unit or person a moment ago.
                raise Conflict(
                    _("通讯录正被另一次导入修改，请重新导入。"), code="concurrent_change"
                ) from error
    return result


def _write(plan: DirectoryPlan) -> None:
    created = [node for node in plan.units if node.unit is None]
    # Parents first: a generation at a time, each one INSERT and one UPDATE of the paths,
    # which hold the new ids.
    while created:
        ready = [node for node in created if node.parent is None or node.parent.unit is not None]
        units = Unit.objects.bulk_create(
            [
                Unit(
                    name=node.name,
                    kind=node.kind,
                    parent=node.parent.unit if node.parent else None,
                    short_name=node.short_name,
                    email=node.email,
                    path="",
                    depth=node.parent.unit.depth + 1 if node.parent else 0,
                )
                for node in ready
            ]
        )
        for node, unit in zip(ready, units, strict=True):
            unit.path = (unit.parent.path if unit.parent else "") + path_segment(unit.pk)
            node.unit = unit
        Unit.objects.bulk_update(units, ["path"])
        created = [node for node in created if node.unit is None]
    changed_units = [node for node in plan.units if node.changed]
    for node in changed_units:
        node.unit.short_name, node.unit.email = node.short_name, node.email
    Unit.objects.bulk_update([node.unit for node in changed_units], ["short_name", "email"])

    new_people = [node for node in plan.people if node.user is None]
    users = []
    for node in new_people:
        user = User(username=node.username, **{name: node.values.get(name, "") for name in PERSON_FIELDS})
        user.set_unusable_password()
        users.append(user)
    for node, user in zip(new_people, User.objects.bulk_create(users), strict=True):
        node.user = user
    changed_people = [node for node in plan.people if node.changed]
    for node in changed_people:
        for name in node.changed:
            setattr(node.user, name, node.values[name])
    User.objects.bulk_update([node.user for node in changed_people], list(PERSON_FIELDS))

    Membership.objects.bulk_create(
        [Membership(user=person.user, unit=unit.unit, role=role) for person, unit, role in plan.memberships]
    )
    access_forget()


def _result(plan: DirectoryPlan, notes: list[str], dry_run: bool) -> DirectoryImportResult:
    rows = []
    for line in plan.lines:
        unit = line.unit if isinstance(line.unit, UnitNode) else None
        rows.append(
            {
                "row": line.row,
                "unit": line.values["unit"],
                "parent": unit.parent.name if unit and unit.parent else line.values["parent"],
                "kind": kind_label(unit.kind) if unit and unit.kind else "",
                "unit_action": unit.action if unit else None,
                "unit_changed": [LABELS.get(name, name) for name in (unit.changed if unit else [])],
                "person": line.values["full_name"],
                "username": line.person.username if line.person else "",
                "person_action": line.person.action if line.person else None,
                "person_changed": line.person.changed if line.person else [],
                "role": role_label(line.role) if line.role else "",
                "membership_action": line.membership_action or None,
            }
        )
    units, people = plan.units, plan.people
    return DirectoryImportResult(
        dry_run=dry_run,
        notes=notes,
        rows=rows,
        errors=[
            {**asdict(error), "column_label": LABELS.get(error.column, error.column)} for error in plan.errors
        ],
        counts={
            "units_created": sum(1 for node in units if node.action == CREATED),
            "units_updated": sum(1 for node in units if node.action == UPDATED),
            "units_unchanged": sum(1 for node in units if node.action == UNCHANGED),
            "people_created": sum(1 for node in people if node.action == CREATED),
            "people_updated": sum(1 for node in people if node.action == UPDATED),
            "people_unchanged": sum(1 for node in people if node.action == UNCHANGED),
            "memberships_created": len(plan.memberships),
            "missing": len(plan.missing),
        },
        missing=plan.missing,
    )


def directory_export_units(*, actor: User, within: int | None = None):
    """The units ``actor`` may export: the subtrees they keep (all for an administrator),
    narrowed to the subtree of ``within``; a unit outside them is not found."""
    scope = directory_scope(actor)
    units = Unit.objects.filter(scope.q())
    if within is None:
        return units
    root = units.filter(pk=within).values_list("path", flat=True).first()
    if root is None:
        raise NotFound()
    return units.filter(path__startswith=root)
