"""Jurisdiction (管辖): which units and people a unit may direct. The one place it is written.

Seeing work is a different question (``tasks.selectors``); this module answers who may be
told to do work, named as responsible, or named in a bulletin or a 约谈. The rule:

- a geographic unit (province … village) reaches every unit below it, which includes the
  departments, leading groups and supervision offices attached to its own level;
- a leading group (领导小组/指挥部) or a supervision office acts for the level it is
  attached to, and so reaches what that level reaches;
- a department reaches only its own subtree, except through a task its level gave it:
  splitting that task (牵头单位 to 责任单位), it reaches what its level reaches;
- a unit never reaches itself, nor the level it acts for: work is handed down or across.

People follow the units: a responsible person answers for a unit they are a member or head
of; a lead leader (牵头领导) is a leader or head at the level of the unit that issues the
task or at a level above it (never a sibling's or one below). Each ``ensure_*`` raises
``Forbidden`` with a code naming the rule it applied.
"""

from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from core.errors import Forbidden

from .models import GEOGRAPHIC_KINDS, Membership, Role, Unit, UnitKind, User, ancestor_paths, subtree_q

# Units that act for the level they are attached to rather than for themselves.
ACTS_FOR_LEVEL = frozenset({UnitKind.LEADING_GROUP, UnitKind.SUPERVISION_OFFICE})
# Levels whose heads publish bulletins: a village committee is not a level of government.
GOVERNMENT_LEVELS = frozenset({UnitKind.PROVINCE, UnitKind.CITY, UnitKind.COUNTY, UnitKind.TOWNSHIP})

ANSWERING_ROLES = (Role.MEMBER, Role.HEAD)
LEADING_ROLES = (Role.LEADER, Role.HEAD)


def level_path(unit: Unit) -> str:
    """The path of the level a unit acts for: its own, or the level it is attached to."""
    if unit.is_geographic or unit.parent_id is None:
        return unit.path
    return ancestor_paths(unit.path)[-1]


def reach_path(unit: Unit, *, through_task: bool = False) -> str:
    """The root of the subtree ``unit`` may direct (see the module's rule)."""
    if unit.is_geographic or unit.kind in ACTS_FOR_LEVEL or through_task:
        return level_path(unit)
    return unit.path


def reaches(unit: Unit, target: Unit, *, through_task: bool = False) -> bool:
    root = reach_path(unit, through_task=through_task)
    return target.pk != unit.pk and target.path != root and target.path.startswith(root)


def outside_reach(unit: Unit, targets: Iterable[Unit], *, through_task: bool = False) -> list[Unit]:
    return [target for target in targets if not reaches(unit, target, through_task=through_task)]


def _refuse(code: str, message, field: str | None = None) -> Forbidden:
    return Forbidden(message, code=code, fields={field: [message]} if field else None)


def ensure_reaches(
    unit: Unit, targets_by_field: dict[str, Iterable[Unit]], *, through_task: bool = False
) -> None:
    """Every unit named in each field is within ``unit``'s reach."""
    for field, targets in targets_by_field.items():
        outside = outside_reach(unit, [t for t in targets if t is not None], through_task=through_task)
        if outside:
            message = _("%(units)s不在%(unit)s的管辖范围内。") % {
                "units": "、".join(target.name for target in outside),
                "unit": unit.name,
            }
            raise _refuse("outside_jurisdiction", message, field)


def ensure_may_issue_in(campaign_issuer: Unit, issuing_unit: Unit) -> None:
    """A campaign's work is issued by its issuing unit or a unit within its reach."""
    if issuing_unit.pk != campaign_issuer.pk and not reaches(
        campaign_issuer, issuing_unit, through_task=True
    ):
        message = _("%(unit)s不在本次攻坚行动下达单位的管辖范围内。") % {"unit": issuing_unit.name}
        raise _refuse("outside_campaign", message, "issuing_unit")


def ensure_answers_for(person: User | None, unit: Unit, field: str = "responsible_person") -> None:
    """A responsible person is a member or head of the unit they answer for."""
    if person is not None:
        ensure_all_answer_for([(person, unit)], field)


def ensure_all_answer_for(pairs: list[tuple[User, Unit]], field: str = "responsible_person") -> None:
    """``ensure_answers_for`` for several (person, unit) pairs, in one query."""
    if not pairs:
        return
    held = set(
        Membership.objects.filter(
            user__in={person.pk for person, _unit in pairs},
            unit__in={unit.pk for _person, unit in pairs},
            role__in=ANSWERING_ROLES,
        ).values_list("user_id", "unit_id")
    )
    for person, unit in pairs:
        if (person.pk, unit.pk) not in held:
            message = _("%(person)s不是%(unit)s的成员，不能担任责任人。") % {
                "person": person,
                "unit": unit.name,
            }
            raise _refuse("person_not_of_unit", message, field)


def level_leaders_q(issuing_unit: Unit, prefix: str = "") -> Q:
    """Memberships of people who may lead (牵头) the issuing unit's work: a leader or head of
    its level, or of a level above it (a deputy mayor leading a county's item, a provincial
    leader linked to a county, 对口联系), or of the leading group (指挥部) of one of those
    levels. Never a department's head, nor a leader of a sibling or of a level below."""
    level = level_path(issuing_unit)
    levels = [*ancestor_paths(level), level]
    attached = Q(**{f"{prefix}unit__kind": UnitKind.LEADING_GROUP, f"{prefix}unit__parent__path__in": levels})
    return Q(**{f"{prefix}role__in": LEADING_ROLES}) & (Q(**{f"{prefix}unit__path__in": levels}) | attached)


def ensure_leads_level(person: User | None, issuing_unit: Unit, field: str = "lead_leader") -> None:
    """A lead leader (牵头领导) is a leader of the level that issues the task."""
    if person is not None:
        ensure_all_lead_level(issuing_unit, {person}, field)


def ensure_all_lead_level(issuing_unit: Unit, people: set[User], field: str = "lead_leader") -> None:
    """``ensure_leads_level`` for several people, in one query."""
    if not people:
        return
    leading = set(
        Membership.objects.filter(level_leaders_q(issuing_unit), user__in=people).values_list(
            "user_id", flat=True
        )
    )
    outside = sorted((person for person in people if person.pk not in leading), key=lambda p: p.pk)
    if outside:
        message = _("%(people)s不是下达单位本级或上级的领导，不能担任牵头领导。") % {
            "people": "、".join(str(person) for person in outside)
        }
        raise _refuse("leader_not_of_level", message, field)


def may_publish_bulletins(access, issuer: Unit) -> bool:
    """Bulletins are drafted and published by supervision offices (their supervisors and
    heads) and by the heads of a level of government, as that office or level."""
    if access.is_admin:
        return True
    if issuer.kind == UnitKind.SUPERVISION_OFFICE:
        return access.has_role(issuer.pk, Role.SUPERVISOR, Role.HEAD)
    return issuer.kind in GOVERNMENT_LEVELS and access.has_role(issuer.pk, Role.HEAD)


def copy_to_q(issuer: Unit) -> Q:
    """Units a bulletin may be copied to (抄送): within the issuer's level, or up the tree —
    the units above the issuer and the offices attached to the levels above; never itself."""
    level = level_path(issuer)
    return (
        subtree_q([level])
        | Q(path__in=ancestor_paths(issuer.path))
        | (Q(parent__path__in=ancestor_paths(level)) & ~Q(kind__in=GEOGRAPHIC_KINDS))
    ) & ~Q(pk=issuer.pk)


def ensure_bulletin_recipients(
    issuer: Unit, main_recipients: Iterable[Unit], copy_to: Iterable[Unit]
) -> None:
    ensure_reaches(issuer, {"main_recipients": main_recipients})
    copy_to = list(copy_to)
    allowed = set(
        Unit.objects.filter(copy_to_q(issuer), pk__in=[u.pk for u in copy_to]).values_list("pk", flat=True)
    )
    outside = [unit for unit in copy_to if unit.pk not in allowed]
    if outside:
        message = _("%(units)s不在抄送范围内：只能抄送本级以下或上级单位。") % {
            "units": "、".join(unit.name for unit in outside)
        }
        raise _refuse("outside_jurisdiction", message, "copy_to")


def people_outside(access, people: Iterable[User], chain: Iterable[Unit]) -> list[User]:
    """Of ``people``, those an office may not name in a 约谈 or 问责 of a task: it may name
    the people of the task's own units (``chain``) and the heads and leaders of the units
    above them, within what it supervises."""
    people = list(people)
    if access.is_admin or not people:
        return []
    chain = list(chain)
    above = {path for unit in chain for path in ancestor_paths(unit.path)}
    named = set(
        Membership.objects.filter(subtree_q(list(access.supervised_paths), "unit__path"))
        .filter(
            Q(unit_id__in=[unit.pk for unit in chain]) | Q(unit__path__in=above, role__in=LEADING_ROLES),
            user__in=people,
        )
        .values_list("user_id", flat=True)
    )
    return [person for person in people if person.pk not in named]


def units_one_level_down(unit: Unit, *, through_task: bool = False) -> QuerySet[Unit]:
    """The units directly under what ``unit`` reaches (the townships of a county, the
    departments and offices attached to its level, the villages of a township): whom a
    form offers for handing work down. Each is within ``reaches``."""
    root = reach_path(unit, through_task=through_task)
    return Unit.objects.filter(parent__path=root).exclude(pk=unit.pk).order_by("kind", "name")


def headed_reach_paths(user_id: int | None) -> tuple[str, ...]:
    """The roots of what a person keeps as a head: the reach of each unit they head (a
    county's head keeps the county's level; a department's head its own subtree). The
    directory and the group robots are both kept by it."""
    headed = Unit.objects.filter(memberships__user_id=user_id, memberships__role=Role.HEAD).distinct()
    return tuple(sorted({reach_path(unit) for unit in headed}))


class DirectoryScope:
    """Where a person keeps the directory (通讯录): the subtrees they reach as head of one of
    their units (``reach_path``), or all of it for an administrator.

    Within a subtree its root itself may be listed and its people's details read, but new
    units, new memberships and changed details are only for what lies below the root, as
    work is only handed down: a county's head keeps the county's townships, villages and
    offices, and nobody appoints themselves or their own level's head."""

    def __init__(self, roots: tuple[str, ...] | None, user_id: int | None = None):
        self.roots = roots
        self.user_id = user_id

    @classmethod
    def for_user(cls, user: User, *, is_admin: bool) -> "DirectoryScope":
        return cls(None if is_admin else headed_reach_paths(user.pk), user.pk)

    @property
    def is_everything(self) -> bool:
        return self.roots is None

    @property
    def is_empty(self) -> bool:
        return self.roots == ()

    def holds(self, path: str, *, below_root: bool = False) -> bool:
        """Whether the unit at ``path`` is kept: inside a subtree, or strictly below its root."""
        if self.roots is None:
            return True
        return any(path.startswith(root) and not (below_root and path == root) for root in self.roots)

    def q(self, field: str = "path") -> Q:
        return Q() if self.roots is None else subtree_q(list(self.roots), field)


def outside_directory_error(name: str) -> str:
    return _("%(unit)s不在您管辖的范围内，不能在其中新建单位、任职或修改人员信息。") % {"unit": name}


def channel_units_q(access, field: str = "path") -> Q:
    """Units whose group robots a person sets up: the units within the reach of a unit they
    head (its own subtree for a department; the whole level for a level's head or an
    office's), and the levels their supervision office supervises. The reach's root is
    included: a county's head sets up the county's own group."""
    if access.is_admin:
        return Q()
    roots = set(headed_reach_paths(access.user_id)) | set(access.supervised_paths)
    return subtree_q(sorted(roots), field) if roots else Q(**{f"{field}__in": []})
