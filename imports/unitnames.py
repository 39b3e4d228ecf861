"""Unit names as tables write them: lists to split, set phrases to expand, names to match.

Matching is exact on a unit's name, short name or one of its aliases, after ignoring
whitespace and full-width/half-width differences. Anything looser (dropping "锦州",
guessing that 住建局 is 住建委) belongs in the unit's ``aliases``, where an office
decided it, not in a heuristic here.
"""

import difflib
import re
from collections.abc import Iterable
from typing import Protocol

from django.utils.translation import gettext as _

from imports.text import compact
from responsibility.models import UnitKind

_SEPARATORS = "、，,;；/\n\r"
_OPENING = "（("
_CLOSING = "）)"
# "市住建委、市财政局等相关部门": the trailing words add no unit that could be named.
_TRAILING_ETC = re.compile(r"等(?:有关|相关)?(?:单位|部门)?$")
_QUALIFIED = ("各部门", "有关部门", "各有关部门")

# Set phrases, in the form names are compared in (``normalize_name``), by what they select
# among the units directly under the level: each kind, and for townships the kind of
# township its name says (乡, 镇, 街道).
_COUNTY_PHRASES = frozenset({"各县(市)区", "各县市区", "各县(市、区)", "各县(区)", "各县区", "各县(市)"})
_DEPARTMENT_PHRASES = frozenset(
    {"各有关部门", "各相关部门", "各部门"}
    | {f"{qualifier}{rest}" for qualifier in ("省直", "市直", "县直", "区直") for rest in _QUALIFIED}
)
_TOWNSHIP_PHRASES = {
    # "各乡镇" is every township, streets included, as offices use it.
    "各乡镇": ("乡", "镇", "街道", ""),
    "各乡(镇)": ("乡", "镇", "街道", ""),
    "各乡镇(街道)": ("乡", "镇", "街道", ""),
    "各乡镇街道": ("乡", "镇", "街道", ""),
    "各乡镇(街道办事处)": ("乡", "镇", "街道", ""),
    "各镇(街道)": ("镇", "街道"),
    "各镇街": ("镇", "街道"),
    "各镇街道": ("镇", "街道"),
    "各镇": ("镇",),
    "各街道": ("街道",),
    "各街道办事处": ("街道",),
    "各乡": ("乡",),
}
_ZONE_PHRASES = frozenset({"各开发区", "各园区", "各开发区(园区)", "各园区(开发区)", "各功能区"})
# What makes a unit a development zone (开发区, 工业园区, 高新区, 滨海新区): zones are named by
# "各开发区" and left out of the sets of counties, townships and departments.
_ZONE_NAME = re.compile(r"开发区|园区|新区")
# A unit named by the part it plays in some other division of work ("各主要经济指标牵头单位",
# "各行业主管部门"): which units those are, the table does not say.
_ROLE_NAME = re.compile(r"(牵头|责任|主管|主责|成员|配合|协办|承办|主办|职能|归口)(单位|部门)$")


class UnitLike(Protocol):
    pk: int
    name: str
    short_name: str
    aliases: list[str]
    kind: str
    parent_id: int | None


class UnitNameError(LookupError):
    def __init__(self, name: str, message: str):
        self.name = name
        self.message = message
        super().__init__(message)


class UnknownName(UnitNameError):
    """No unit has this name, short name or alias; ``suggestions`` are the closest known names."""

    code = "unknown_unit"

    def __init__(self, name: str, suggestions: list[str]):
        self.suggestions = suggestions
        message = _("没有名为“%(name)s”的单位。") % {"name": name}
        if suggestions:
            message += _("您是否要找：%(names)s？") % {"names": "、".join(suggestions)}
        super().__init__(name, message)


class AmbiguousName(UnitNameError):
    """Several units answer to this name; ``candidates`` are all of them."""

    code = "ambiguous_unit"

    def __init__(self, name: str, candidates: list[UnitLike]):
        self.candidates = candidates
        names = "、".join(candidate.name for candidate in candidates)
        super().__init__(name, _("“%(name)s”可以指多个单位：%(names)s。") % {"name": name, "names": names})


def normalize_name(name: str) -> str:
    """The form names are compared in: NFKC (so （ is ( ), no whitespace at all."""
    return compact(name)


def split_units(text: str) -> list[str]:
    """Split "市住建委、市财政局；各县（市）区等" into names, in order and without repeats.

    Separators inside parentheses do not split, so "各县（市、区）" stays one name.
    """
    names: list[str] = []
    current: list[str] = []
    depth = 0

    def flush() -> None:
        name = _TRAILING_ETC.sub("", "".join(current).strip()).strip()
        if name and name not in names:
            names.append(name)
        current.clear()

    for char in text:
        if char in _OPENING:
            depth += 1
        elif char in _CLOSING:
            depth = max(0, depth - 1)
        elif char in _SEPARATORS and depth == 0:
            flush()
            continue
        current.append(char)
    flush()
    return names


class UnitMatcher:
    """Finds units by the names a table uses for them, among the units it was built from."""

    def __init__(self, units: Iterable[UnitLike]):
        self._units = list(units)
        self._by_key: dict[str, list[UnitLike]] = {}
        for unit in self._units:
            for key in {normalize_name(text) for text in self._names_of(unit)} - {""}:
                self._by_key.setdefault(key, []).append(unit)

    @staticmethod
    def _names_of(unit: UnitLike) -> list[str]:
        return [unit.name, unit.short_name or "", *(unit.aliases or [])]

    def match(self, name: str) -> UnitLike:
        """The one unit called ``name``; raises ``UnknownName`` or ``AmbiguousName``."""
        candidates = self._by_key.get(normalize_name(name), [])
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            raise AmbiguousName(name, candidates)
        raise UnknownName(name, self.suggestions(name))

    def suggestions(self, name: str, limit: int = 3) -> list[str]:
        """Up to ``limit`` unit names closest to ``name``, best first, for a person to choose from."""
        key = normalize_name(name)
        scored: dict[str, float] = {}
        for known, candidates in self._by_key.items():
            ratio = difflib.SequenceMatcher(None, key, known).ratio()
            for candidate in candidates:
                scored[candidate.name] = max(scored.get(candidate.name, 0.0), ratio)
        ranked = sorted((item for item in scored.items() if item[1] >= 0.4), key=lambda item: -item[1])
        return [unit_name for unit_name, _ratio in ranked[:limit]]

    def expand(self, name: str, level: UnitLike) -> list[UnitLike] | None:
        """The units a set phrase stands for at ``level``, or None if ``name`` is not one.

        "各县(市)区" is every county under ``level``, "各有关部门" / "市直各部门" every
        department under it, "各乡镇" every township, "各镇（街道）" the towns and streets
        among them, "各开发区" the development zones (whatever their level). A qualifier
        must fit the level: "市直…" a city or a county-level city (县级市, a county named
        …市), "县直…" a county, "区直…" a district, "省直…" a province; elsewhere they are
        not set phrases.
        """
        key = normalize_name(name)
        if key in _COUNTY_PHRASES:
            return self._children(level, lambda unit: unit.kind == UnitKind.COUNTY)
        if key in _DEPARTMENT_PHRASES:
            if not _qualifier_fits(key[:2], level):
                return None
            return self._children(level, lambda unit: unit.kind == UnitKind.DEPARTMENT)
        if key in _TOWNSHIP_PHRASES:
            kinds = _TOWNSHIP_PHRASES[key]
            return self._children(
                level, lambda unit: unit.kind == UnitKind.TOWNSHIP and township_kind(unit.name) in kinds
            )
        if key in _ZONE_PHRASES:
            return [
                unit
                for unit in self._units
                if unit.parent_id == level.pk and unit.kind in _ZONE_KINDS and is_zone(unit)
            ]
        return None

    def _children(self, level: UnitLike, wanted) -> list[UnitLike]:
        """The units directly under ``level`` that ``wanted`` selects, development zones aside."""
        return [
            unit for unit in self._units if unit.parent_id == level.pk and wanted(unit) and not is_zone(unit)
        ]


# Zones are geographic units (a county-level zone under a city, a township-level one under a
# county) or, where an office keeps its management committee as one, a department.
_ZONE_KINDS = frozenset({UnitKind.COUNTY, UnitKind.TOWNSHIP, UnitKind.DEPARTMENT})


def is_zone(unit: UnitLike) -> bool:
    return bool(_ZONE_NAME.search(normalize_name(unit.name)))


def township_kind(name: str) -> str:
    """ "乡", "镇" or "街道", as a township's name says; "" when it says none of them."""
    key = normalize_name(name)
    if "街道" in key:
        return "街道"
    return key[-1] if key[-1:] in ("乡", "镇") else ""


def is_county_level_city(unit: UnitLike) -> bool:
    """A 县级市 (凌海市, 北镇市): a county-level unit named as a city, which its own plans
    address as a city ("市直各部门")."""
    return unit.kind == UnitKind.COUNTY and normalize_name(unit.name).endswith("市")


def _qualifier_fits(qualifier: str, level: UnitLike) -> bool:
    if qualifier == "省直":
        return level.kind == UnitKind.PROVINCE
    if qualifier == "市直":
        return level.kind == UnitKind.CITY or is_county_level_city(level)
    if qualifier == "县直":
        return level.kind == UnitKind.COUNTY
    if qualifier == "区直":
        return level.kind == UnitKind.COUNTY and normalize_name(level.name).endswith("区")
    return True


def is_role_name(name: str) -> bool:
    """Whether ``name`` names units by their part in another division of work, not by name."""
    return bool(_ROLE_NAME.search(normalize_name(name)))


def role_name_message(name: str) -> str:
    """What a role name is, and how the office says which units it means."""
    key = normalize_name(name)
    match = _ROLE_NAME.search(key)
    subject = key[: match.start()].strip("各") if match else ""
    role = match.group(0) if match else ""
    what = (
        _("“%(subject)s”的%(role)s") % {"subject": subject, "role": role}
        if subject
        else _("承担该项工作的%(role)s") % {"role": role}
    )
    return _(
        "“%(name)s”不是单位名称，而是按职责指称的单位：%(what)s，由另行确定的分工决定，"
        "本表没有写明是哪些单位。请在导入时给出它对应的单位（写作“%(name)s=单位名称、单位名称”），"
        "或在表中改写为单位名称。"
    ) % {"name": name.strip(), "what": what}
