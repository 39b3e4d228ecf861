"""From the rows of a problem list to the rectification items it describes, with every error.

Nothing here writes. Units are read by the task table's rules (``imports.unitnames``, set
phrases, aliases, the issuer's reach); each distinct cell is resolved once, so the list is
planned with a fixed number of queries whatever its length.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from responsibility.jurisdiction import ANSWERING_ROLES
from responsibility.models import Membership, Unit, User
from tasks.models import Campaign, Task, TaskUnitRole
from tasks.services import due_date_bounds
from tasks.workdays import add_working_days

from ..deadlines import Deadline, DeadlineError, parse_rectification_deadline
from ..plan import _Context, _leader, _units, clean_mark, level_leaders
from ..table import RowError, SourceRow, parse_number
from ..text import compact, compact_expression
from ..unitnames import AmbiguousName, UnitMatcher, UnknownName, normalize_name, split_units
from .table import COLUMNS, LABELS

MAX_TITLE = Task._meta.get_field("title").max_length
MAX_NUMBER = Task._meta.get_field("number").max_length
# Closing punctuation does not make a problem another one.
_CLOSING = "。．.;；,，、 "
GROUP_NOTE = "“%(heading)s”一行是分组标题，其下未填所在单位的问题按“%(unit)s”计。"


def problem_key(text: str) -> str:
    """The problem's text as its identity compares it (``ProblemRecord.key``)."""
    return compact(text).rstrip(_CLOSING)


@dataclass
class ProblemSpec:
    """One problem of the list, as the importer read it."""

    row: int
    number: str
    title: str
    key: str
    location: Unit | None
    lead_unit: Unit
    responsible_units: list[Unit]
    due_date: datetime.date
    deadline_text: str
    measures: str
    source: str
    remarks: str
    # The cells as written: 所在单位, 责任单位, 责任人, 责任领导, 整改时限.
    words: dict[str, str] = field(default_factory=dict)
    immediate: bool = False
    # The 责任人 the list names, a member or head of the lead unit (``_people``).
    responsible_person: User | None = None
    # The 责任领导 it names, a leader of the issuing level, the item's 牵头领导.
    lead_leader: User | None = None

    @property
    def anchor(self) -> Unit:
        return self.location or self.lead_unit

    def units(self) -> list[list]:
        """The unit links, as ``ProblemRecord.resolved`` keeps them."""
        return sorted(
            [unit.pk, TaskUnitRole.RESPONSIBLE]
            for unit in dict.fromkeys([self.lead_unit, *self.responsible_units])
        )

    def resolved(self) -> dict:
        return {
            "location": self.location.pk if self.location else None,
            "lead_unit": self.lead_unit.pk,
            "units": self.units(),
            "due_date": None if self.immediate else self.due_date.isoformat(),
            "responsible_person": self.responsible_person.pk if self.responsible_person else None,
            "lead_leader": self.lead_leader.pk if self.lead_leader else None,
        }


@dataclass
class ProblemPlan:
    specs: list[ProblemSpec] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Rows read as group headings ("一、义县"): not problems.
    headings: list[int] = field(default_factory=list)


def _context(campaign: Campaign, rows: list[SourceRow]) -> _Context:
    issuer = campaign.issuing_unit
    level = issuer if issuer.jurisdiction_id == issuer.pk else Unit.objects.get(pk=issuer.jurisdiction_id)
    # A 责任领导 is matched as a task table's 牵头领导 is, among the level's leaders.
    named = [row.values["lead_leader"] for row in rows]
    leaders, not_leaders = level_leaders(issuer, named) if any(named) else ({}, set())
    return _Context(
        campaign=campaign,
        level=level,
        matcher=UnitMatcher(Unit.objects.filter(path__startswith=level.path)),
        leaders=leaders,
        not_leaders=not_leaders,
        has_lead_column=True,
        due_bounds=due_date_bounds(campaign),
        default_deadline=campaign.ends_on,
    )


def _elsewhere(rows: list[SourceRow], context: _Context) -> set[str]:
    """Names of the list that are units outside the issuer's level (another county, another
    city): one query for all of them, so that such a row says "outside the jurisdiction"
    rather than "no such unit"."""
    unknown = set()
    for text in {row.values[column] for row in rows for column in ("location", "responsible_units")}:
        for name in split_units(text):
            if context.matcher.expand(name, context.level) is not None:
                continue
            try:
                context.matcher.match(name)
            except UnknownName:
                unknown.add(normalize_name(name))
            except AmbiguousName:
                pass
    if not unknown:
        return set()
    found = set()
    outside = Unit.objects.exclude(path__startswith=context.level.path).filter(
        Q(name__in=unknown) | Q(short_name__in=unknown)
    )
    for name, short_name in outside.values_list("name", "short_name"):
        found.update({normalize_name(name), normalize_name(short_name)} & unknown)
    return found


def _named(text, row, column, context, elsewhere, errors) -> list[Unit]:
    names = split_units(text)
    outside = [name for name in names if normalize_name(name) in elsewhere]
    for name in outside:
        message = _("“%(name)s”不在%(issuer)s的管辖范围内，不能承担本清单的整改事项。") % {
            "name": name,
            "issuer": context.campaign.issuing_unit.name,
        }
        errors.append(RowError(row, column, "outside_jurisdiction", message))
    rest = "、".join(name for name in names if name not in outside)
    return _units(rest, row, column, context, errors) if rest else []


def _person_key(text: str) -> str:
    """A 责任人 cell as a name is compared: its first name ("刘洋；" is 刘洋), no whitespace."""
    names = split_units(text)
    return compact(names[0]) if names else ""


def _heading(row: SourceRow, context: _Context, elsewhere: set[str]) -> tuple[bool, Unit | None]:
    """Whether the row is a group heading ("一、义县", "（二）黑山县"), and the unit it names,
    which the problems under it are located in."""
    values = row.values
    # A heading fills its number or its problem cell and nothing else but perhaps a remark.
    filled = [column for column in COLUMNS if column not in ("number", "problem", "remarks")]
    if any(values[column] for column in filled):
        return False, None
    text = values["problem"] or values["number"]
    mark = parse_number(values["number"] or text)
    if mark is None or mark.level > 2:
        return False, None
    rest = text if values["number"] else mark.rest
    try:
        return True, context.matcher.match(rest)
    except (UnknownName, AmbiguousName):
        return True, None


def build_problem_plan(rows: list[SourceRow], campaign: Campaign) -> ProblemPlan:
    """The rectification items ``rows`` describe, with every error at its row and column."""
    plan = ProblemPlan()
    context = _context(campaign, rows)
    elsewhere = _elsewhere(rows, context)
    deadlines: dict[str, Deadline | DeadlineError] = {}
    # "立行立改": due the campaign's working days after the import, by the office's calendar.
    immediate_due = add_working_days(timezone.localdate(), campaign.immediate_working_days)
    group: Unit | None = None
    seen: dict[tuple[int, str], int] = {}
    for row in rows:
        plan.errors.extend(row.errors)
        is_heading, unit = _heading(row, context, elsewhere)
        if is_heading:
            plan.headings.append(row.row)
            group = unit
            if unit is not None:
                heading = (row.values["number"] + row.values["problem"]).strip()
                plan.notes.append(_(GROUP_NOTE) % {"heading": heading, "unit": unit.name})
            continue
        spec = _spec(row, context, elsewhere, deadlines, immediate_due, group, plan.errors)
        if spec is None:
            continue
        identity = (spec.anchor.pk, spec.key)
        if identity in seen:
            message = _("与第 %(row)d 行是同一问题（同一所在单位或责任单位）。") % {"row": seen[identity]}
            plan.errors.append(RowError(row.row, "problem", "duplicate_problem", message))
            continue
        seen[identity] = row.row
        plan.specs.append(spec)
    _people(plan)
    return plan


def _people(plan: ProblemPlan) -> None:
    """Each 责任人 cell's person: the one member or head of the row's lead unit
    (``responsibility.jurisdiction.ANSWERING_ROLES``, the rule ``ensure_answers_for``
    applies) whose name is the cell's, compared without whitespace as the task table
    compares its 牵头领导. Nobody, or several, is an error at the row, and the row is not
    planned. One query, whatever the length of the list."""
    named = [spec for spec in plan.specs if spec.words["responsible_person"]]
    if not named:
        return
    found: dict[tuple[int, str], list[User]] = {}
    memberships = (
        Membership.objects.filter(unit__in={spec.lead_unit.pk for spec in named}, role__in=ANSWERING_ROLES)
        .annotate(compact_name=compact_expression("user__full_name"))
        .filter(compact_name__in={_person_key(spec.words["responsible_person"]) for spec in named})
        .select_related("user")
        .order_by("user_id")
    )
    for membership in memberships:
        people = found.setdefault((membership.unit_id, membership.compact_name), [])
        if membership.user not in people:
            people.append(membership.user)
    refused = set()
    for spec in named:
        text = spec.words["responsible_person"]
        names = split_units(text)
        people = found.get((spec.lead_unit.pk, _person_key(text)), [])
        values = {"name": text, "unit": spec.lead_unit.name}
        if len(names) > 1:
            code = "one_person"
            message = _("责任人只能填一人（%(unit)s的成员或负责人），表中为“%(name)s”。") % values
        elif len(people) == 1:
            spec.responsible_person = people[0]
            continue
        elif people:
            code = "ambiguous_person"
            message = _("%(unit)s有多位人员名为“%(name)s”，无法确定责任人；请在人员名录中加以区分。") % values
        else:
            code = "unknown_person"
            message = _("%(unit)s的成员或负责人中没有“%(name)s”，不能担任该事项的责任人。") % values
        plan.errors.append(RowError(spec.row, "responsible_person", code, message))
        refused.add(spec.row)
    if refused:
        plan.specs = [spec for spec in plan.specs if spec.row not in refused]
        plan.errors.sort(key=lambda error: error.row)


def _spec(row, context, elsewhere, deadlines, immediate_due, group, errors) -> ProblemSpec | None:
    values = row.values
    before = len(errors)
    number, title = values["number"].strip(), values["problem"].strip()
    mark = parse_number(title) if not number else None
    if mark is not None and mark.rest:
        number, title = clean_mark(mark.mark), mark.rest
    if not title:
        errors.append(RowError(row.row, "problem", "problem_missing", _("问题为空。")))
    elif len(title) > MAX_TITLE:
        message = _("问题有 %(count)d 字，超过 %(max)d 字的上限；可将详情写入整改措施或备注。") % {
            "count": len(title),
            "max": MAX_TITLE,
        }
        errors.append(RowError(row.row, "problem", "too_long", message))
    if len(number) > MAX_NUMBER:
        message = _("序号超过 %(max)d 字。") % {"max": MAX_NUMBER}
        errors.append(RowError(row.row, "number", "too_long", message))

    location = None
    if values["location"].strip():
        located = _named(values["location"], row.row, "location", context, elsewhere, errors)
        if len(located) > 1:
            message = _("所在单位只能填一个单位，表中为 %(count)d 个。") % {"count": len(located)}
            errors.append(RowError(row.row, "location", "one_location", message))
        location = located[0] if located else None
    elif group is not None:
        location = group
    responsible = _named(
        values["responsible_units"], row.row, "responsible_units", context, elsewhere, errors
    )
    lead = (responsible or [location])[0]
    if lead is None and len(errors) == before:
        message = _("没有责任单位：请填写责任单位或所在单位。")
        errors.append(RowError(row.row, "responsible_units", "unit_missing", message))

    due_date, deadline_text, immediate = _due(
        values["deadline"], row.row, context, deadlines, immediate_due, errors
    )
    leader = _leader(values["lead_leader"], row.row, context, errors)
    if len(errors) > before:
        return None
    return ProblemSpec(
        row=row.row,
        number=number,
        title=title,
        key=problem_key(title),
        location=location,
        lead_unit=lead,
        responsible_units=[unit for unit in responsible if unit != lead],
        due_date=due_date,
        deadline_text=deadline_text,
        measures=values["measures"].strip(),
        source=values["source"].strip(),
        remarks=values["remarks"].strip(),
        words={
            column: values[column].strip()
            for column in ("location", "responsible_units", "responsible_person", "lead_leader", "deadline")
        },
        immediate=immediate,
        lead_leader=leader,
    )


def _due(text, row, context, deadlines, immediate_due, errors):
    """The item's due date, the words kept when they are not a date, and whether it is 立行立改."""
    if text not in deadlines:
        try:
            deadlines[text] = parse_rectification_deadline(text, context.campaign.starts_on.year)
        except DeadlineError as error:
            deadlines[text] = error
    deadline = deadlines[text]
    if isinstance(deadline, DeadlineError):
        message = deadline.message.replace("完成时限", LABELS["deadline"])
        errors.append(RowError(row, "deadline", deadline.code, message))
        return None, "", False
    due_date, deadline_text = deadline.due_date, ""
    if deadline.immediate:
        due_date, deadline_text = immediate_due, text.strip()
    elif due_date is None:
        # 长期坚持: kept as written, due at the campaign's end, as in a task table.
        due_date, deadline_text = context.campaign.ends_on, text.strip()
    earliest, latest = context.due_bounds
    if not earliest <= due_date <= latest:
        message = _("整改时限 %(date)s 不在 %(start)s 至 %(end)s 之间（攻坚行动所在年度及其后一年）。") % {
            "date": due_date,
            "start": earliest,
            "end": latest,
        }
        errors.append(RowError(row, "deadline", "deadline_outside_campaign", message))
    return due_date, deadline_text, deadline.immediate
