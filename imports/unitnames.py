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

_COUNTY_PHRASES = frozenset({"各县(市)区", "各县市区", "各县(市、区)", "各县(区)", "各县区"})
_DEPARTMENT_PHRASES = frozenset(
    {"各有关部门", "各相关部门", "各部门", "市直各部门", "市直有关部门", "市直各有关部门"}
    | {"县直各部门", "县直有关部门", "县直各有关部门"}
)
_TOWNSHIP_PHRASES = frozenset({"各乡镇", "各乡(镇)", "各乡镇(街道)"})


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
        department under it, "各乡镇" every township. "市直…" applies only at a city and
        "县直…" only at a county; elsewhere they are not set phrases.
        """
        key = normalize_name(name)
        if key in _COUNTY_PHRASES:
            kind = UnitKind.COUNTY
        elif key in _DEPARTMENT_PHRASES:
            if key.startswith("市直") and level.kind != UnitKind.CITY:
                return None
            if key.startswith("县直") and level.kind != UnitKind.COUNTY:
                return None
            kind = UnitKind.DEPARTMENT
        elif key in _TOWNSHIP_PHRASES:
            kind = UnitKind.TOWNSHIP
        else:
            return None
        return [unit for unit in self._units if unit.parent_id == level.pk and unit.kind == kind]
