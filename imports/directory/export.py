"""The directory written back as the spreadsheet it is imported from, so that an office can
export it, correct it and import it again (a round trip changes nothing)."""

import tempfile

from django.db.models import Count
from openpyxl import Workbook

from responsibility.models import PATH_SEPARATOR, Membership, Role, Unit, User
from responsibility.selectors import person_list_for_user

from .table import COLUMNS, LABELS, kind_label, role_label

_ROLE_ORDER = {
    role: index for index, role in enumerate((Role.HEAD, Role.LEADER, Role.SUPERVISOR, Role.MEMBER))
}


def _parent_references(units: list[Unit]) -> dict[int, str]:
    """Each parent by its name, or by its chain of names ("锦州市/义县/七里河镇") where the
    name alone is not unique."""
    parent_ids = {unit.parent_id for unit in units if unit.parent_id}
    ancestor_ids = {int(s) for unit in units for s in unit.path.split(PATH_SEPARATOR) if s}
    by_id = Unit.objects.in_bulk(ancestor_ids)
    names = {by_id[pk].name for pk in parent_ids}
    shared = {
        row["name"]
        for row in Unit.objects.filter(name__in=names).values("name").annotate(n=Count("pk")).filter(n__gt=1)
    }
    references = {}
    for pk in parent_ids:
        parent = by_id[pk]
        if parent.name in shared:
            chain = [by_id[int(s)].name for s in parent.path.split(PATH_SEPARATOR) if s]
            references[pk] = "/".join(chain)
        else:
            references[pk] = parent.name
    return references


def directory_export(*, reader: User, units) -> tempfile.SpooledTemporaryFile:
    """``units`` (a queryset the caller may export) as a directory: a row per membership, a
    row of its own for a unit nobody holds a role in. E-mail and phone only where
    ``reader`` may read them."""
    units = list(units.order_by("path"))
    memberships: dict[int, list[Membership]] = {}
    for membership in Membership.objects.filter(unit__in=[unit.pk for unit in units]).select_related("user"):
        memberships.setdefault(membership.unit_id, []).append(membership)
    people = {m.user_id for held in memberships.values() for m in held}
    contact = dict(person_list_for_user(reader).filter(pk__in=people).values_list("pk", "contact_visible"))
    parents = _parent_references(units)

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("通讯录")
    sheet.append([LABELS[column] for column in COLUMNS])
    for unit in units:
        head = [
            unit.name,
            parents.get(unit.parent_id, ""),
            kind_label(unit.kind),
            unit.short_name,
            unit.email,
        ]
        held = sorted(memberships.get(unit.pk, []), key=lambda m: (_ROLE_ORDER[m.role], m.user_id))
        if not held:
            sheet.append(head)
        for membership in held:
            person = membership.user
            visible = contact.get(person.pk, False)
            sheet.append(
                [
                    *head,
                    person.full_name,
                    person.title,
                    person.phone if visible else "",
                    person.email if visible else "",
                    role_label(membership.role),
                    person.username,
                ]
            )
    output = tempfile.SpooledTemporaryFile(max_size=2 * 1024 * 1024)
    workbook.save(output)
    output.seek(0)
    return output
