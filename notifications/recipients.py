"""Who is told about an escalation: the responsibility chain, resolved for a whole batch.

The audience of a rung climbs the tree: the responsible person and unit, the unit's
head, the issuing unit, the supervision offices from the work up to the issuing level and
the lead leader, and at the top the head the issuer answers to (the level above a
geographic issuer; a department's own level). Everything is loaded with a fixed
number of queries for the batch, never per item.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from responsibility.models import GEOGRAPHIC_KINDS, PATH_SEPARATOR, Membership, Role, Unit, UnitKind, User

USER = "user"
UNIT = "unit"
Recipient = tuple[str, int]  # (USER or UNIT, id)


def path_ids(path: str) -> list[int]:
    return [int(segment) for segment in path.split(PATH_SEPARATOR) if segment]


@dataclass
class Chain:
    """The tree around a batch of tasks: units, their heads, offices and people."""

    units: dict[int, Unit] = field(default_factory=dict)
    heads: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    supervisors: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    office_of_level: dict[int, int] = field(default_factory=dict)
    users: dict[int, User] = field(default_factory=dict)

    @classmethod
    def load(cls, unit_paths: set[str], user_ids: set[int]) -> "Chain":
        chain = cls()
        ancestor_ids = {unit_id for path in unit_paths for unit_id in path_ids(path)}
        for unit in Unit.objects.filter(pk__in=ancestor_ids):
            chain.units[unit.pk] = unit
        offices = list(Unit.objects.filter(kind=UnitKind.SUPERVISION_OFFICE, parent_id__in=ancestor_ids))
        for office in offices:
            chain.units[office.pk] = office
            chain.office_of_level.setdefault(office.parent_id, office.pk)
        memberships = Membership.objects.filter(
            unit_id__in=set(chain.units), role__in=[Role.HEAD, Role.SUPERVISOR]
        ).values_list("unit_id", "user_id", "role")
        for unit_id, user_id, role in memberships:
            (chain.heads if role == Role.HEAD else chain.supervisors)[unit_id].append(user_id)
            user_ids.add(user_id)
        chain.users = User.objects.in_bulk(user_ids)
        return chain

    def nearest_office(self, unit_path: str) -> int | None:
        for unit_id in reversed(path_ids(unit_path)):
            if unit_id in self.office_of_level:
                return self.office_of_level[unit_id]
        return None

    def level_of(self, unit_id: int | None) -> int | None:
        """The geographic level a unit is or acts for: a department, a leading group or an
        office acts for the nearest geographic unit above it."""
        unit = self.units.get(unit_id)
        while unit is not None and unit.kind not in GEOGRAPHIC_KINDS:
            unit = self.units.get(unit.parent_id)
        return unit.pk if unit is not None else None

    def level_above(self, unit_id: int) -> int | None:
        """The level whose head the issuer answers to: the level above a geographic unit;
        for a department (or a leading group, an office), the level it acts for, whose head
        it answers to. A task a city department split out to a county is the city's work,
        and the city's head hears of its public criticism."""
        unit = self.units.get(unit_id)
        if unit is None:
            return None
        if unit.kind in GEOGRAPHIC_KINDS:
            return unit.parent_id
        return self.level_of(unit_id)

    def offices_up_the_chain(self, lead_unit_path: str, issuing_unit_id: int) -> set[int]:
        """The supervision offices of every level from the work up to the level that issued
        it, whoever issued it (a head, a department, a leading group): the county's office
        and the city's for a county task the city or one of its departments gave out. Work
        whose chain holds no office (a village task of a township) is followed by the
        nearest office above it."""
        issuing_level = self.level_of(issuing_unit_id)
        offices = set()
        for unit_id in reversed(path_ids(lead_unit_path)):
            if unit_id in self.office_of_level:
                offices.add(self.office_of_level[unit_id])
            if unit_id == issuing_level:
                break
        if issuing_level in self.office_of_level:
            offices.add(self.office_of_level[issuing_level])
        if not offices:
            nearest = self.nearest_office(lead_unit_path)
            offices = {nearest} if nearest is not None else set()
        return offices

    def with_head(self, unit_id: int | None) -> set[Recipient]:
        if unit_id is None:
            return set()
        return {(UNIT, unit_id), *((USER, user_id) for user_id in self.heads.get(unit_id, []))}


def audience_recipients(item, audience: frozenset[str], chain: Chain) -> set[Recipient]:
    """The people and units one escalated task must reach for the given audience flags."""
    found: set[Recipient] = set()
    if "notify_responsible" in audience:
        found.add((UNIT, item.lead_unit_id))
        if item.responsible_person_id:
            found.add((USER, item.responsible_person_id))
    if "notify_unit_head" in audience:
        found |= {(USER, user_id) for user_id in chain.heads.get(item.lead_unit_id, [])}
    if "notify_issuer" in audience:
        found |= chain.with_head(item.issuing_unit_id)
    if "notify_supervision_office" in audience:
        for office in chain.offices_up_the_chain(item.lead_unit_path, item.issuing_unit_id):
            found.add((UNIT, office))
            found |= {(USER, user_id) for user_id in chain.supervisors.get(office, [])}
    if "notify_lead_leader" in audience and item.lead_leader_id:
        found.add((USER, item.lead_leader_id))
    if "notify_unit_above" in audience:
        above = chain.level_above(item.issuing_unit_id)
        found |= {(USER, user_id) for user_id in chain.heads.get(above, [])} if above else set()
    return found
