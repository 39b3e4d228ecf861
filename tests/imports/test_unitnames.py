from types import SimpleNamespace

import pytest

from imports.text import compact
from imports.unitnames import (
    AmbiguousName,
    UnitMatcher,
    UnknownName,
    is_role_name,
    role_name_message,
    split_units,
)


def unit(pk, name, kind, parent_id, short_name="", aliases=()):
    return SimpleNamespace(
        pk=pk, name=name, kind=kind, parent_id=parent_id, short_name=short_name, aliases=list(aliases)
    )


CITY = unit(1, "锦州市", "city", None)
UNITS = [
    CITY,
    unit(2, "市住建委", "department", 1, aliases=["市住建局", "住建委", "锦州市住房和城乡建设局"]),
    unit(3, "市卫计委", "department", 1, short_name="卫计委"),
    unit(4, "市农委", "department", 1),
    unit(5, "市扶贫办", "department", 1, aliases=["锦州市扶贫开发办公室"]),
    unit(6, "市委督查室", "supervision_office", 1),
    unit(7, "义县", "county", 1),
    unit(8, "黑山县", "county", 1),
    unit(9, "凌海市", "county", 1),
    unit(10, "北镇市", "county", 1),
    unit(11, "县委督查室", "supervision_office", 7),
    unit(12, "七里河镇", "township", 7),
    unit(13, "县住建局", "department", 7),
    unit(14, "县委督查室", "supervision_office", 8),
    unit(15, "芳山镇", "township", 8),
]
BY_NAME = {u.name: u for u in UNITS}


@pytest.fixture
def matcher():
    return UnitMatcher(UNITS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("市住建委、市财政局", ["市住建委", "市财政局"]),
        ("市住建委，市财政局", ["市住建委", "市财政局"]),
        ("市住建委,市财政局", ["市住建委", "市财政局"]),
        ("市住建委;市财政局", ["市住建委", "市财政局"]),
        ("市住建委；市财政局", ["市住建委", "市财政局"]),
        ("市住建委/市财政局", ["市住建委", "市财政局"]),
        ("市住建委\n市财政局", ["市住建委", "市财政局"]),
        ("市住建委\r\n市财政局\n", ["市住建委", "市财政局"]),
        (" 市住建委 、 市财政局 ", ["市住建委", "市财政局"]),
        ("市住建委、市财政局等", ["市住建委", "市财政局"]),
        ("市农委、市扶贫办等有关部门", ["市农委", "市扶贫办"]),
        ("市卫计委等单位", ["市卫计委"]),
        ("各县（市）区", ["各县（市）区"]),
        ("各县(市)区、市住建委", ["各县(市)区", "市住建委"]),
        ("各县（市、区）；市扶贫办", ["各县（市、区）", "市扶贫办"]),
        ("市住建委、、市住建委", ["市住建委"]),
        ("", []),
        ("、，", []),
    ],
)
def test_split_units(text, expected):
    assert split_units(text) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("市住建委", "市住建委"),
        ("市住建局", "市住建委"),
        ("住建委", "市住建委"),
        ("锦州市住房和城乡建设局", "市住建委"),
        ("卫计委", "市卫计委"),
        ("锦州市扶贫开发办公室", "市扶贫办"),
        (" 义 县 ", "义县"),
        ("凌海市", "凌海市"),
        ("市农委", "市农委"),
    ],
)
def test_match_by_name_short_name_or_alias(matcher, name, expected):
    assert matcher.match(name) is BY_NAME[expected]


def test_full_width_and_half_width_parentheses_are_the_same():
    matcher = UnitMatcher([unit(20, "市医管局（市卫计委）", "department", 1)])

    assert matcher.match("市医管局(市卫计委)").pk == 20


def test_no_fuzzy_guessing(matcher):
    for name in ["锦州市住建委", "住建局", "市住建", "义县县委"]:
        with pytest.raises(UnknownName):
            matcher.match(name)


def test_unknown_name_suggests_the_closest_names(matcher):
    with pytest.raises(UnknownName) as error:
        matcher.match("市住建厅")

    assert error.value.name == "市住建厅"
    assert error.value.suggestions[0] == "市住建委"
    assert len(error.value.suggestions) <= 3
    assert len(set(error.value.suggestions)) == len(error.value.suggestions)
    assert "市住建委" in error.value.message
    assert error.value.code == "unknown_unit"


def test_unknown_name_offers_at_most_three(matcher):
    with pytest.raises(UnknownName) as error:
        matcher.match("市委")

    assert 1 <= len(error.value.suggestions) <= 3


def test_unknown_name_far_from_everything_suggests_nothing(matcher):
    with pytest.raises(UnknownName) as error:
        matcher.match("国家统计局驻辽宁调查总队")

    assert error.value.suggestions == []


def test_a_name_shared_by_two_units_is_ambiguous(matcher):
    with pytest.raises(AmbiguousName) as error:
        matcher.match("县委督查室")

    assert {candidate.pk for candidate in error.value.candidates} == {11, 14}


def test_a_matcher_built_from_one_subtree_is_not_ambiguous():
    matcher = UnitMatcher(u for u in UNITS if u.pk in {7, 11, 12, 13})

    assert matcher.match("县委督查室").pk == 11


@pytest.mark.parametrize(
    "phrase", ["各县(市)区", "各县（市）区", "各县市区", "各县（市、区）", " 各县 (市) 区 "]
)
def test_county_phrases_expand_to_the_counties_of_the_level(matcher, phrase):
    assert [u.name for u in matcher.expand(phrase, CITY)] == ["义县", "黑山县", "凌海市", "北镇市"]


@pytest.mark.parametrize("phrase", ["各有关部门", "市直各部门", "市直有关部门", "各部门"])
def test_department_phrases_expand_to_the_departments_of_the_level(matcher, phrase):
    assert [u.name for u in matcher.expand(phrase, CITY)] == ["市住建委", "市卫计委", "市农委", "市扶贫办"]


def test_phrases_are_relative_to_the_level(matcher):
    county = BY_NAME["义县"]

    assert [u.name for u in matcher.expand("各有关部门", county)] == ["县住建局"]
    assert [u.name for u in matcher.expand("各乡镇", county)] == ["七里河镇"]
    assert matcher.expand("各县（市）区", county) == []
    assert [u.name for u in matcher.expand("县直各部门", county)] == ["县住建局"]


def test_city_and_county_qualifiers_must_fit_the_level(matcher):
    assert matcher.expand("市直各部门", BY_NAME["义县"]) is None
    assert matcher.expand("县直各部门", CITY) is None


@pytest.mark.parametrize("name", ["市住建委", "义县", "各单位", "有关部门", ""])
def test_other_names_are_not_set_phrases(matcher, name):
    assert matcher.expand(name, CITY) is None


# A county-level city (县级市) with its own departments, zones, towns, streets and a 乡, and a
# county-level zone under the city.
LINGHAI = unit(30, "凌海市", "county", 1)
LINGHAI_UNITS = [
    CITY,
    LINGHAI,
    unit(31, "凌海市发改局", "department", 30),
    unit(32, "凌海市统计局", "department", 30),
    unit(33, "凌海经济开发区", "township", 30),
    unit(34, "大有工业园区", "township", 30),
    unit(35, "石山镇", "township", 30),
    unit(36, "金城街道", "township", 30),
    unit(37, "安屯乡", "township", 30),
    unit(38, "市委督查室", "supervision_office", 30),
    unit(39, "锦州经济技术开发区", "county", 1),
    unit(40, "义县", "county", 1),
]
LH = {u.name: u for u in LINGHAI_UNITS}


@pytest.fixture
def linghai():
    return UnitMatcher(LINGHAI_UNITS)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("市直各部门", ["凌海市发改局", "凌海市统计局"]),
        ("市直有关部门", ["凌海市发改局", "凌海市统计局"]),
        ("各有关部门", ["凌海市发改局", "凌海市统计局"]),
        ("各开发区", ["凌海经济开发区", "大有工业园区"]),
        ("各园区", ["凌海经济开发区", "大有工业园区"]),
        ("各镇（街道）", ["石山镇", "金城街道"]),
        ("各镇街", ["石山镇", "金城街道"]),
        ("各乡镇（街道）", ["石山镇", "金城街道", "安屯乡"]),
        ("各乡镇", ["石山镇", "金城街道", "安屯乡"]),
        ("各 镇（ 街道 ）", ["石山镇", "金城街道"]),
        ("各街道", ["金城街道"]),
        ("各乡", ["安屯乡"]),
    ],
)
def test_a_county_level_city_resolves_the_sets_a_city_uses(linghai, phrase, expected):
    assert [u.name for u in linghai.expand(phrase, LINGHAI)] == expected


def test_zones_are_their_own_set_at_a_city_too(linghai):
    assert [u.name for u in linghai.expand("各开发区", CITY)] == ["锦州经济技术开发区"]
    assert [u.name for u in linghai.expand("各县（市）区", CITY)] == ["凌海市", "义县"]


@pytest.mark.parametrize(
    ("qualified", "level", "is_set"),
    [
        ("市直各部门", "凌海市", True),
        ("市直各部门", "义县", False),
        ("县直各部门", "义县", True),
        ("县直各部门", "锦州市", False),
        ("省直各部门", "锦州市", False),
    ],
)
def test_a_qualifier_fits_a_level_by_its_kind_and_name(linghai, qualified, level, is_set):
    level_unit = LH.get(level, CITY)
    assert (linghai.expand(qualified, level_unit) is not None) is is_set


@pytest.mark.parametrize(
    ("name", "subject"),
    [
        ("各主要经济指标牵头单位", "主要经济指标"),
        ("各行业主管部门", "行业"),
        ("领导小组各成员单位", "领导小组"),
        ("各 主要经济指标 牵头单位", "主要经济指标"),
    ],
)
def test_a_unit_named_by_its_role_is_recognised_and_explained(name, subject):
    assert is_role_name(name)
    message = role_name_message(name)
    assert f"“{subject}”" in message
    assert "不是单位名称" in message and "=单位名称" in message


@pytest.mark.parametrize("name", ["市住建委", "各有关部门", "牵头单位办公室", "市统计局"])
def test_unit_names_are_not_role_names(name):
    assert not is_role_name(name)


@pytest.mark.parametrize("text", ["王 某", "王　某", "王\u00a0某", " 王某 ", "王\t某"])
def test_whitespace_inside_a_name_is_not_compared(text):
    assert compact(text) == "王某"
