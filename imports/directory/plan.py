"""From the rows of a directory to what the database should hold: which units, people and
memberships exist already, which are new, which change, and every error with its row and
column. Nothing here writes; the whole file is read with a fixed number of queries.

Identity: a unit is its name under its parent (上级单位 may be written "义县/七里河镇" where a
name alone is ambiguous); a person is their 用户名 when given, else the one whose user name,
mobile or e-mail is the row's, else a new person whose user name is the mobile or e-mail.
A blank cell leaves what is stored: an import adds and corrects, it never erases.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from imports.table import RowError, SourceRow
from responsibility.jurisdiction import DirectoryScope, outside_directory_error
from responsibility.models import PATH_SEPARATOR, Membership, Unit, User

from .table import LABELS, kind_label, read_email, read_kind, read_mobile, read_role, role_label

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
UNIT_FIELDS = ("short_name", "email")
PERSON_FIELDS = ("full_name", "title", "phone", "email")
_MAX_LENGTHS = {"unit": 100, "short_name": 50, "full_name": 50, "title": 100, "mobile": 30, "username": 150}


@dataclass
class UnitNode:
    name: str
    kind: str
    parent: UnitNode | None
    unit: Unit | None = None  # the stored unit; None for a new one
    row: int = 0
    short_name: str = ""
    email: str = ""
    changed: list[str] = field(default_factory=list)

    @property
    def action(self) -> str:
        return CREATED if self.unit is None else UPDATED if self.changed else UNCHANGED


@dataclass
class PersonNode:
    username: str
    user: User | None = None
    row: int = 0
    values: dict[str, str] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)

    @property
    def action(self) -> str:
        return CREATED if self.user is None else UPDATED if self.changed else UNCHANGED


@dataclass
class Line:
    row: int
    values: dict[str, str]
    unit: UnitNode | None = None
    person: PersonNode | None = None
    role: str = ""
    membership_action: str = ""


@dataclass
class DirectoryPlan:
    lines: list[Line]
    units: list[UnitNode]
    people: list[PersonNode]
    memberships: list[tuple[PersonNode, UnitNode, str]]
    errors: list[RowError]
    notes: list[str]
    missing: list[str]


class _Planner:
    def __init__(self, rows: list[SourceRow], scope: DirectoryScope):
        self.scope = scope
        self.errors: list[RowError] = [error for row in rows for error in row.errors]
        self.notes: list[str] = []
        self.lines = [self._line(row) for row in rows]
        self.db_nodes: dict[int, UnitNode] = {}
        self.new_nodes: dict[tuple[int, str], UnitNode] = {}

    def error(self, row: int, column: str, code: str, message: str) -> None:
        self.errors.append(RowError(row, column, code, message))

    # Cells ------------------------------------------------------------------------------
    def _line(self, row: SourceRow) -> Line:
        values = {column: " ".join(text.split()) for column, text in row.values.items()}
        number = row.row
        for column, limit in _MAX_LENGTHS.items():
            if len(values[column]) > limit:
                self.error(
                    number,
                    column,
                    "too_long",
                    _("“%(label)s”超过 %(limit)d 个字符。") % {"label": LABELS[column], "limit": limit},
                )
                values[column] = ""
        values["kind"], kind_error = read_kind(values["kind"], number)
        values["role"], role_error = read_role(values["role"], number)
        values["mobile"], mobile_error = read_mobile(values["mobile"], number)
        values["email"], email_error = read_email(values["email"], number, "email")
        values["unit_email"], unit_email_error = read_email(values["unit_email"], number, "unit_email")
        for error in (kind_error, role_error, mobile_error, email_error, unit_email_error):
            if error is not None:
                self.errors.append(error)
        if not values["unit"]:
            self.error(number, "unit", "missing_unit", _("请填写单位。"))
        has_person = any(values[c] for c in ("full_name", "title", "mobile", "email", "username"))
        if has_person and not values["full_name"]:
            self.error(number, "full_name", "missing_name", _("请填写姓名。"))
        elif values["full_name"] and not (values["mobile"] or values["email"] or values["username"]):
            if not (self._has_error(number, "mobile") or self._has_error(number, "email")):
                self.error(
                    number,
                    "mobile",
                    "missing_contact",
                    _("请至少填写手机、邮箱或用户名之一，以便识别此人。"),
                )
        if values["username"]:
            try:
                UnicodeUsernameValidator()(values["username"])
            except ValidationError:
                self.error(
                    number,
                    "username",
                    "invalid_username",
                    _("用户名只能包含字母、数字和 @/./+/-/_ 字符。"),
                )
                values["username"] = ""
        return Line(row=number, values=values)

    def _has_error(self, row: int, column: str) -> bool:
        return any(error.row == row and error.column == column for error in self.errors)

    def _usable(self, line: Line) -> bool:
        return not any(error.row == line.row for error in self.errors)

    # Units ------------------------------------------------------------------------------
    def _load_units(self) -> None:
        names = set()
        for line in self.lines:
            names.add(line.values["unit"])
            names.update(_segments(line.values["parent"]))
        stored = list(Unit.objects.filter(name__in=names - {""}))
        ancestor_ids = {int(s) for unit in stored for s in unit.path.split(PATH_SEPARATOR) if s}
        self.by_id = Unit.objects.in_bulk(ancestor_ids | {unit.pk for unit in stored})
        self.by_name: dict[str, list[Unit]] = {}
        for unit in stored:
            self.by_name.setdefault(unit.name, []).append(unit)

    def _db_node(self, unit: Unit) -> UnitNode:
        if unit.pk not in self.db_nodes:
            parent = self.by_id.get(unit.parent_id) if unit.parent_id else None
            self.db_nodes[unit.pk] = UnitNode(
                name=unit.name,
                kind=unit.kind,
                parent=self._db_node(parent) if parent else None,
                unit=unit,
                short_name=unit.short_name,
                email=unit.email,
            )
        return self.db_nodes[unit.pk]

    def _candidates(self, segments: list[str]) -> list[UnitNode]:
        name, qualifiers = segments[-1], segments[:-1]
        found = {id(node): node for node in self.new_nodes.values() if node.name == name}
        for unit in self.by_name.get(name, []):
            node = self._db_node(unit)
            found[id(node)] = node
        return [node for node in found.values() if _ancestors_end_with(node, qualifiers)]

    def _child(self, parent: UnitNode, name: str, row: int) -> UnitNode:
        if parent.unit is not None:
            for unit in self.by_name.get(name, []):
                if unit.parent_id == parent.unit.pk:
                    return self._db_node(unit)
        key = (id(parent), name)
        if key not in self.new_nodes:
            self.new_nodes[key] = UnitNode(name=name, kind="", parent=parent, row=row)
        return self.new_nodes[key]

    def _resolve_units(self) -> None:
        pending = [line for line in self.lines if line.values["unit"]]
        while pending:
            waiting = []
            for line in pending:
                node = self._resolve_unit(line, pending)
                if node is None:
                    waiting.append(line)
                else:
                    line.unit = node
            if len(waiting) == len(pending):
                for line in waiting:
                    if not self._has_error(line.row, "parent"):
                        self.error(
                            line.row,
                            "parent",
                            "parent_cycle",
                            _("上级单位“%(parent)s”无法确定：表中的单位互为上级。")
                            % {"parent": line.values["parent"]},
                        )
                return
            pending = waiting

    def _resolve_unit(self, line: Line, pending: list[Line]) -> UnitNode | bool | None:
        """The line's unit; None while its parent is a unit of the table not yet resolved."""
        name, parent_ref, row = line.values["unit"], line.values["parent"], line.row
        if not parent_ref:
            stored = self.by_name.get(name, [])
            if len(stored) > 1:
                self.error(
                    row,
                    "parent",
                    "unit_ambiguous",
                    _("系统中有多个名为“%(unit)s”的单位，请填写上级单位。") % {"unit": name},
                )
                return _failed(line)
            if stored:
                return self._db_node(stored[0])
            key = (0, name)
            if key not in self.new_nodes:
                self.new_nodes[key] = UnitNode(name=name, kind="", parent=None, row=row)
            return self.new_nodes[key]
        segments = _segments(parent_ref)
        if any(
            other is not line and other.unit is None and other.values["unit"] == segments[-1]
            for other in pending
        ):
            return None
        candidates = self._candidates(segments)
        if not candidates:
            self.error(
                row,
                "parent",
                "parent_missing",
                _("上级单位“%(parent)s”既不在表中，也不在系统中。") % {"parent": parent_ref},
            )
            return _failed(line)
        if len(candidates) > 1:
            self.error(
                row,
                "parent",
                "parent_ambiguous",
                _("有多个名为“%(parent)s”的单位，请写出其上级，如“%(example)s”。")
                % {"parent": parent_ref, "example": f"{_ancestor_names(candidates[0])[0]}/{segments[-1]}"}
                if _ancestor_names(candidates[0])
                else _("有多个名为“%(parent)s”的单位。") % {"parent": parent_ref},
            )
            return _failed(line)
        return self._child(candidates[0], name, row)

    def _settle_units(self) -> list[UnitNode]:
        first_row: dict[int, Line] = {}
        for line in self.lines:
            node = line.unit
            if not isinstance(node, UnitNode):
                continue
            earlier = first_row.setdefault(id(node), line)
            values = line.values
            for column, attribute in (
                ("kind", "kind"),
                ("short_name", "short_name"),
                ("unit_email", "email"),
            ):
                given = values[column]
                if not given:
                    continue
                if earlier is not line and earlier.values[column] and earlier.values[column] != given:
                    self.error(
                        line.row,
                        column,
                        "conflicting_rows",
                        _("与第 %(row)d 行填写的“%(label)s”不一致。")
                        % {"row": earlier.row, "label": LABELS[column]},
                    )
                    continue
                if node.unit is None:
                    setattr(node, attribute, given)
                elif attribute == "kind":
                    if given != node.unit.kind:
                        self.error(
                            line.row,
                            "kind",
                            "kind_mismatch",
                            _("系统中“%(unit)s”的类别是%(stored)s，表中是%(given)s；类别请在管理后台修改。")
                            % {
                                "unit": node.name,
                                "stored": kind_label(node.unit.kind),
                                "given": kind_label(given),
                            },
                        )
                elif given != getattr(node.unit, attribute) and attribute not in node.changed:
                    setattr(node, attribute, given)
                    node.changed.append(attribute)
        nodes = []
        for line in first_row.values():
            node = line.unit
            nodes.append(node)
            if node.unit is None and not node.kind and not self._has_error(line.row, "kind"):
                self.error(
                    line.row, "kind", "missing_kind", _("新单位“%(unit)s”请填写类别。") % {"unit": node.name}
                )
            if node.parent is None and node.unit is None and not self.scope.is_everything:
                self.error(line.row, "parent", "missing_parent", _("请填写上级单位。"))
            elif not self._holds(node, below_root=False) or (
                node.action != UNCHANGED and not self._holds(node, below_root=True)
            ):
                self.error(line.row, "unit", "outside_jurisdiction", outside_directory_error(node.name))
        return nodes

    def _holds(self, node: UnitNode, *, below_root: bool) -> bool:
        if node.unit is not None:
            return self.scope.holds(node.unit.path, below_root=below_root)
        if node.parent is None:
            return self.scope.is_everything
        return self._holds(node.parent, below_root=False)

    # People -----------------------------------------------------------------------------
    def _resolve_people(self) -> list[PersonNode]:
        person_lines = [line for line in self.lines if line.values["full_name"] and self._usable(line)]
        usernames = {line.values["username"] or _derived_username(line.values) for line in person_lines}
        phones = {line.values["mobile"] for line in person_lines} - {""}
        emails = {line.values["email"] for line in person_lines} - {""}
        stored = list(
            User.objects.filter(Q(username__in=usernames) | Q(phone__in=phones) | Q(email__in=emails))
        )
        by_username = {user.username: user for user in stored}
        by_phone: dict[str, list[User]] = {}
        by_email: dict[str, list[User]] = {}
        for user in stored:
            by_phone.setdefault(user.phone, []).append(user)
            by_email.setdefault(user.email, []).append(user)
        self.memberships = set(
            Membership.objects.filter(user__in=stored).values_list("user_id", "unit_id", "role", "unit__path")
        )
        people: dict[str, PersonNode] = {}
        for line in person_lines:
            values = line.values
            user, problem = None, ""
            if values["username"]:
                user = by_username.get(values["username"])
            else:
                user = by_username.get(_derived_username(values))
                for column, index in (("mobile", by_phone), ("email", by_email)):
                    if user is None and values[column]:
                        matches = index.get(values[column], [])
                        if len(matches) > 1:
                            problem = column
                        elif matches:
                            user = matches[0]
            if problem:
                self.error(
                    line.row,
                    problem,
                    "person_ambiguous",
                    _("系统中有多人的%(label)s是“%(value)s”，请填写用户名。")
                    % {"label": LABELS[problem], "value": values[problem]},
                )
                continue
            username = user.username if user else values["username"] or _derived_username(values)
            node = people.get(username)
            if node is None:
                node = people[username] = PersonNode(username=username, user=user, row=line.row)
            self._settle_person(node, line)
            line.person = node
        return list(people.values())

    def _settle_person(self, node: PersonNode, line: Line) -> None:
        for field_name, column in (
            ("full_name", "full_name"),
            ("title", "title"),
            ("phone", "mobile"),
            ("email", "email"),
        ):
            given = line.values[column]
            if not given:
                continue
            if field_name in node.values and node.values[field_name] != given:
                if field_name == "title":
                    # One title per person is stored; a second post (市长 and 总指挥) is not
                    # an error, the first row's title is kept.
                    continue
                self.error(
                    line.row,
                    column,
                    "conflicting_rows",
                    _("与第 %(row)d 行填写的“%(label)s”不一致。")
                    % {"row": node.row, "label": LABELS[column]},
                )
                continue
            node.values[field_name] = given
            if (
                node.user is not None
                and given != getattr(node.user, field_name)
                and field_name not in node.changed
            ):
                node.changed.append(field_name)

    def _check_people(self, people: list[PersonNode]) -> None:
        if self.scope.is_everything:
            return
        held: dict[int, list[str]] = {}
        for user_id, _unit_id, _role, path in self.memberships:
            held.setdefault(user_id, []).append(path)
        for node in people:
            if node.user is None or not node.changed or node.user.pk == self.scope.user_id:
                continue
            paths = held.get(node.user.pk, [])
            if not paths or not all(self.scope.holds(path, below_root=True) for path in paths):
                self.error(
                    node.row,
                    "full_name",
                    "person_outside_jurisdiction",
                    _("%(person)s在您管辖范围以外的单位任职，其信息只能由管理员或其所在单位修改。")
                    % {"person": node.user},
                )

    # Memberships ------------------------------------------------------------------------
    def _plan_memberships(self) -> list[tuple[PersonNode, UnitNode, str]]:
        existing = {(user_id, unit_id, role) for user_id, unit_id, role, _path in self.memberships}
        planned: dict[tuple[int, int, str], tuple[PersonNode, UnitNode, str]] = {}
        for line in self.lines:
            if line.person is None or not isinstance(line.unit, UnitNode):
                continue
            person, unit, role = line.person, line.unit, line.values["role"]
            line.role = role
            key = (id(person), id(unit), role)
            if key in planned:
                line.membership_action = UNCHANGED
                continue
            stored = person.user and unit.unit and (person.user.pk, unit.unit.pk, role) in existing
            line.membership_action = UNCHANGED if stored else CREATED
            if stored:
                continue
            if not self._holds(unit, below_root=True):
                self.error(line.row, "role", "outside_jurisdiction", outside_directory_error(unit.name))
            planned[key] = (person, unit, role)
        return list(planned.values())

    def _missing(self, units: list[UnitNode]) -> list[str]:
        """Memberships of the table's stored units that the table no longer lists: kept."""
        listed = {
            (line.person.user.pk, line.unit.unit.pk, line.role)
            for line in self.lines
            if line.person and line.person.user and isinstance(line.unit, UnitNode) and line.unit.unit
        }
        stored_units = [node.unit.pk for node in units if node.unit is not None]
        rows = (
            Membership.objects.filter(unit_id__in=stored_units)
            .select_related("user", "unit")
            .order_by("unit__path", "pk")
        )
        return [
            f"{m.unit.name} · {m.user} · {role_label(m.role)}"
            for m in rows
            if (m.user_id, m.unit_id, m.role) not in listed
        ]

    def run(self) -> DirectoryPlan:
        self._load_units()
        self._resolve_units()
        units = self._settle_units()
        people = self._resolve_people()
        self._check_people(people)
        memberships = self._plan_memberships()
        return DirectoryPlan(
            lines=self.lines,
            units=units,
            people=people,
            memberships=memberships,
            errors=sorted(self.errors, key=lambda e: e.row),
            notes=self.notes,
            missing=self._missing(units),
        )


def _failed(line: Line) -> bool:
    """A line whose unit cannot be resolved: it stops waiting, its error is recorded."""
    line.unit = False  # type: ignore[assignment]
    return False


def _segments(reference: str) -> list[str]:
    return [part.strip() for part in reference.replace("／", "/").split("/") if part.strip()]


def _ancestor_names(node: UnitNode) -> list[str]:
    names, parent = [], node.parent
    while parent is not None:
        names.append(parent.name)
        parent = parent.parent
    return names


def _ancestors_end_with(node: UnitNode, qualifiers: list[str]) -> bool:
    names = _ancestor_names(node)
    return names[: len(qualifiers)] == list(reversed(qualifiers))


def _derived_username(values: dict[str, str]) -> str:
    mobile = "".join(char for char in values["mobile"] if char.isdigit() or char == "+")
    return mobile or values["email"]


def build_directory_plan(rows: list[SourceRow], scope: DirectoryScope) -> DirectoryPlan:
    return _Planner(rows, scope).run()
