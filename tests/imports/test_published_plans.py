"""Plans as offices publish them, imported as printed: names typeset with spaces, unit cells
listing several sets, the sets a county-level city (县级市) uses, lead units named by their
role, no 完成时限 at all, and the office's own words kept and given back by the export."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from core.errors import InvalidInput
from imports.export import table_export
from imports.models import TaskWording
from imports.services import ImportInvalid, parse_unit_map, table_import
from responsibility.models import Role, UnitKind
from responsibility.services import membership_create, unit_create, user_create
from tasks.models import Campaign, EventAction, Task, TaskEvent, TaskUnit, TaskUnitRole
from tasks.services import task_update
from tests.helpers import assert_error

from .test_flows import snapshot
from .test_flows import xlsx as table_xlsx

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

HEADER = ["序号", "任务", "牵头领导", "牵头单位", "责任单位", "配合单位", "完成时限"]
DEPARTMENTS = {"凌海市发改局", "凌海市统计局", "凌海市住建局"}
ROLE = "各主要经济指标牵头单位"
ROLE_MAP = f"{ROLE}=凌海市发改局、凌海市统计局"


@pytest.fixture
def linghai(world):
    """凌海市, a county-level city under 锦州市, issuing its own plan for 2023."""
    city = world.unit("锦州市")
    level = unit_create(name="凌海市", kind=UnitKind.COUNTY, parent=city)
    world.units["凌海市"] = level
    for name, kind in [
        ("凌海市发改局", UnitKind.DEPARTMENT),
        ("凌海市统计局", UnitKind.DEPARTMENT),
        ("凌海市住建局", UnitKind.DEPARTMENT),
        ("凌海市委督查室", UnitKind.SUPERVISION_OFFICE),
        ("凌海经济开发区", UnitKind.TOWNSHIP),
        ("石山镇", UnitKind.TOWNSHIP),
        ("金城街道", UnitKind.TOWNSHIP),
        ("安屯乡", UnitKind.TOWNSHIP),
    ]:
        world.units[name] = unit_create(name=name, kind=kind, parent=level)
    # 李 明 is kept in the directory with a space, as his name was typed once.
    for username, full_name, unit_name, role in [
        ("lh_head", "刘市长", "凌海市", Role.HEAD),
        ("lh_wang", "王某", "凌海市", Role.LEADER),
        ("lh_li", "李 明", "凌海市", Role.LEADER),
        ("lh_zhao", "赵某", "凌海市发改局", Role.MEMBER),
    ]:
        person = user_create(username=username, full_name=full_name)
        membership_create(user=person, unit=world.unit(unit_name), role=role)
        world.people[username] = person
    world.campaign = Campaign.objects.create(
        name="凌海市2023年重点工作", issuing_unit=level, starts_on=datetime.date(2023, 3, 1),
        ends_on=datetime.date(2023, 11, 30),
    )  # fmt: skip
    return world


def xlsx(rows, header=HEADER) -> bytes:
    return table_xlsx(rows, header=header, title="凌海市2023年重点工作任务分解表")


def run(world, data, *, dry_run=False, actor="lh_head", **options):
    return table_import(
        actor=world.person(actor),
        campaign=world.campaign,
        data=data,
        filename="分解表.xlsx",
        dry_run=dry_run,
        **options,
    )


def row(leader="", lead="凌海市发改局", responsible="", cooperating="", deadline="6月底前", number="1"):
    return [number, "推进重点项目建设", leader, lead, responsible, cooperating, deadline]


def units_of(number: str, role: str = TaskUnitRole.RESPONSIBLE) -> set[str]:
    return set(TaskUnit.objects.filter(task__number=number, role=role).values_list("unit__name", flat=True))


def errors_of(result) -> set[tuple[int, str, str]]:
    return {(error["row"], error["column"], error["code"]) for error in result.errors}


# Names typeset with spaces ---------------------------------------------------------------


@pytest.mark.parametrize("written", ["王 某", "王　某", "王\u00a0某", " 王  某 ", "王某"])
def test_spaces_inside_a_leaders_name_do_not_matter(linghai, written):
    result = run(linghai, xlsx([row(leader=written)]))

    assert result.errors == []
    assert Task.objects.get(number="1").lead_leader == linghai.person("lh_wang")


def test_a_name_stored_with_a_space_matches_the_name_written_without(linghai):
    run(linghai, xlsx([row(leader="李明")]))

    assert Task.objects.get(number="1").lead_leader == linghai.person("lh_li")


def test_a_person_who_is_no_leader_is_told_so_whatever_the_spaces(linghai):
    result = run(linghai, xlsx([row(leader="赵 某")]), dry_run=True)

    assert errors_of(result) == {(3, "lead_leader", "leader_not_of_level")}


def test_an_unknown_leader_is_offered_the_names_as_the_directory_writes_them(linghai):
    result = run(linghai, xlsx([row(leader="李 名")]), dry_run=True)

    assert errors_of(result) == {(3, "lead_leader", "unknown_leader")}
    assert "李 明" in result.errors[0]["message"]


def test_spaces_inside_a_unit_name_do_not_matter(linghai):
    result = run(linghai, xlsx([row(lead="凌海市 发改局", responsible="石 山 镇、金城　街道")]))

    assert result.errors == []
    assert Task.objects.get(number="1").lead_unit == linghai.unit("凌海市发改局")
    assert units_of("1") == {"凌海市发改局", "石山镇", "金城街道"}


# Unit cells that list several sets -------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        "各有关部门，各开发区、镇（街道）",
        "各有关部门、各开发区、镇（街道）",
        "各有关部门,各开发区、镇(街道)",
        "各有关部门；各开发区；各镇（街道）",
        "各有关部门;各开发区，镇（街道）",
    ],
)
def test_every_part_of_a_unit_cell_is_read_and_a_list_of_sets_shares_its_ge(linghai, cell):
    result = run(linghai, xlsx([row(responsible=cell)]))

    assert result.errors == []
    assert units_of("1") == DEPARTMENTS | {"凌海经济开发区", "石山镇", "金城街道"}


def test_a_part_after_a_set_that_names_a_unit_is_that_unit(linghai):
    run(linghai, xlsx([row(responsible="各开发区、安屯乡")]))

    assert units_of("1") == {"凌海市发改局", "凌海经济开发区", "安屯乡"}


def test_a_part_after_a_name_is_not_read_as_a_set(linghai):
    result = run(linghai, xlsx([row(responsible="凌海市统计局、镇（街道）")]), dry_run=True)

    assert errors_of(result) == {(3, "responsible_units", "unknown_unit")}


# The sets a county-level city uses ------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("市直各部门", DEPARTMENTS),
        ("市直有关部门", DEPARTMENTS),
        ("各开发区", {"凌海经济开发区"}),
        ("各镇（街道）", {"石山镇", "金城街道"}),
        ("各乡镇（街道）", {"石山镇", "金城街道", "安屯乡"}),
    ],
)
def test_a_county_level_city_resolves_the_sets_a_city_uses(linghai, cell, expected):
    result = run(linghai, xlsx([row(lead="", responsible=cell)]))

    assert result.errors == []
    assert units_of("1") == expected


def test_a_set_with_no_unit_under_the_level_is_an_error_not_nothing(world):
    data = xlsx([["1", "园区招商", "", "市住建委", "各开发区", "", "10月底前"]])

    result = table_import(
        actor=world.person("city_head"), campaign=world.campaign, data=data, filename="t.xlsx", dry_run=True
    )

    assert errors_of(result) == {(3, "responsible_units", "empty_set")}
    assert "各开发区" in result.errors[0]["message"] and "锦州市" in result.errors[0]["message"]


# Lead units named by their role -------------------------------------------------------------


def test_a_lead_unit_named_by_its_role_is_explained(linghai):
    result = run(linghai, xlsx([row(lead=ROLE)]), dry_run=True)

    assert errors_of(result) == {(3, "lead_unit", "role_unit")}
    message = result.errors[0]["message"]
    assert "不是单位名称" in message and "“主要经济指标”的牵头单位" in message
    assert f"{ROLE}=单位名称、单位名称" in message
    assert "没有名为" not in message


def test_the_office_maps_a_role_name_with_the_import(linghai):
    result = run(
        linghai, xlsx([row(lead=ROLE, responsible="各镇（街道）")]), unit_map=parse_unit_map([ROLE_MAP])
    )

    assert result.errors == []
    task = Task.objects.get(number="1")
    assert task.lead_unit == linghai.unit("凌海市发改局")
    assert units_of("1") == {"凌海市发改局", "凌海市统计局", "石山镇", "金城街道"}


def test_a_mapping_may_name_sets_and_spaces_and_full_width_equals(linghai):
    mapping = parse_unit_map([" 各主要经济指标 牵头单位 ＝ 市直各部门 "])

    run(linghai, xlsx([row(lead=ROLE)]), unit_map=mapping)

    assert units_of("1") == DEPARTMENTS


def test_a_mapping_to_an_unknown_unit_is_an_error_that_names_the_mapping(linghai):
    result = run(linghai, xlsx([row(lead=ROLE)]), dry_run=True, unit_map={ROLE: "凌海市发改委"})

    assert errors_of(result) == {(3, "lead_unit", "unknown_unit")}
    assert result.errors[0]["message"].startswith(f"按“{ROLE}=凌海市发改委”：")


def test_a_mapping_the_table_does_not_use_is_noted(linghai):
    result = run(linghai, xlsx([row()]), dry_run=True, unit_map={"各行业主管部门": "凌海市住建局"})

    assert result.errors == []
    assert any("各行业主管部门" in note and "没有出现" in note for note in result.notes)


def test_mapped_units_stay_within_the_issuers_jurisdiction(linghai):
    result = run(linghai, xlsx([row(lead=ROLE)]), dry_run=True, unit_map={ROLE: "义县"})

    assert (3, "lead_unit", "unknown_unit") in errors_of(result)
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    "entries",
    [["各主要经济指标牵头单位"], ["=凌海市发改局"], [ROLE_MAP, f"{ROLE} =凌海市统计局"], ["x=y"] * 201],
    ids=["no-equals", "no-name", "twice", "too-many"],
)
def test_a_malformed_mapping_is_refused(entries):
    with pytest.raises(InvalidInput) as refused:
        parse_unit_map(entries)

    assert refused.value.code == "invalid_unit_map" and set(refused.value.fields) == {"unit_map"}


# Plans that print no 完成时限 -----------------------------------------------------------------

NO_DEADLINES = ["序号", "任务", "牵头领导", "牵头单位", "责任单位"]
UNDATED = [
    ["一、", "经济运行", "", "", ""],
    ["1", "确保地区生产总值增长6%", "王 某", "凌海市发改局", "各有关部门"],
    ["2", "提升统计数据质量", "", "凌海市统计局", "各镇（街道）"],
]


PASTED_WITHOUT_DEADLINES = """凌海市2023年重点工作任务分解
一、稳增长
1. 确保地区生产总值增长6%
牵头领导：王 某
牵头单位：凌海市发改局
责任单位：各有关部门，各开发区、镇（街道）
2. 提升统计数据质量
牵头单位：凌海市统计局
"""


def test_a_pasted_plan_without_deadline_lines_is_offered_the_default(linghai):
    data = PASTED_WITHOUT_DEADLINES.encode()
    options = {"actor": linghai.person("lh_head"), "campaign": linghai.campaign, "data": data}

    dry = table_import(**options, filename="方案.txt", dry_run=True)
    table_import(**options, filename="方案.txt", dry_run=False, accept_default_deadline=True)

    assert dry.errors == []
    assert [r["deadline_defaulted"] for r in dry.rows] == [False, True, True]
    assert set(Task.objects.filter(number__startswith="一.").values_list("due_date", flat=True)) == {
        datetime.date(2023, 11, 30)
    }
    assert units_of("一.1") == DEPARTMENTS | {"凌海经济开发区", "石山镇", "金城街道"}


def test_a_dry_run_offers_the_campaigns_end_and_marks_the_rows(linghai):
    result = run(linghai, xlsx(UNDATED, NO_DEADLINES), dry_run=True)

    assert result.errors == []
    assert [(r["number"], r["deadline_defaulted"], r["action"]) for r in result.rows] == [
        ("一", False, "created"),
        ("一.1", True, "created"),
        ("一.2", True, "created"),
    ]
    assert result.default_deadline == {"date": "2023-11-30", "rows": 2, "accepted": False}
    assert any("2 项任务表中没有完成时限" in note and "2023-11-30" in note for note in result.notes)
    assert not Task.objects.exists()


def test_an_import_takes_the_default_only_once_accepted(linghai):
    with pytest.raises(ImportInvalid) as refused:
        run(linghai, xlsx(UNDATED, NO_DEADLINES))

    assert set(refused.value.fields) == {"4:deadline", "5:deadline"}
    assert "accept_default_deadline" in refused.value.fields["4:deadline"][0]
    assert not Task.objects.exists()

    result = run(linghai, xlsx(UNDATED, NO_DEADLINES), accept_default_deadline=True)

    assert result.default_deadline["accepted"] is True
    assert Task.objects.get(number="一.1").due_date == datetime.date(2023, 11, 30)
    assert Task.objects.get(number="一").due_date == datetime.date(2023, 11, 30)


def test_a_date_given_with_the_import_is_the_default(linghai):
    given = datetime.date(2023, 9, 30)

    dry = run(linghai, xlsx(UNDATED, NO_DEADLINES), dry_run=True, default_deadline=given)
    run(linghai, xlsx(UNDATED, NO_DEADLINES), default_deadline=given, accept_default_deadline=True)

    assert dry.default_deadline["date"] == "2023-09-30"
    assert set(Task.objects.values_list("due_date", flat=True)) == {given}


def test_only_rows_without_a_deadline_take_the_default(linghai):
    rows = [row(number="1", deadline="6月底前"), row(number="2", deadline="")]

    result = run(linghai, xlsx(rows), accept_default_deadline=True)

    assert [r["deadline_defaulted"] for r in result.rows] == [False, True]
    assert Task.objects.get(number="1").due_date == datetime.date(2023, 6, 30)
    assert Task.objects.get(number="2").due_date == datetime.date(2023, 11, 30)


def test_a_default_outside_the_campaigns_years_is_refused(linghai):
    with pytest.raises(InvalidInput) as refused:
        run(linghai, xlsx(UNDATED, NO_DEADLINES), default_deadline=datetime.date(2030, 1, 1))

    assert refused.value.code == "due_date_outside_campaign"
    assert set(refused.value.fields) == {"default_deadline"}


# The office's words, kept and exported ----------------------------------------------------

# Each rule in one table: a name with spaces, a multi-part cell, a county-level city's sets,
# a lead unit named by its role, no deadline, deadlines as people write them.
PUBLISHED = [
    ["一、", "稳增长", "", "", "", "", ""],
    ["1", "确保地区生产总值增长6%", "王 某", ROLE, "各有关部门，各开发区、镇（街道）", "", "年底前"],
    ["2", "提升统计数据质量", "李明", "凌海市 统计局", "各乡镇（街道）", "市直各部门", "6月底前"],
    ["3", "推进重点项目建设", "", "凌海市住建局", "各开发区、安屯乡", "", ""],
    ["二、", "抓落实", "", "", "", "", ""],
    ["1", "每月报送工作进展", "王某", "市直各部门", "", "", "每月28日前"],
]


def exported_rows(campaign) -> list[list[str]]:
    sheet = load_workbook(io.BytesIO(table_export(campaign).read())).active
    return [
        [cell if cell is not None else "" for cell in line] for line in sheet.iter_rows(values_only=True)
    ][2:]


def import_published(world, **options):
    return run(world, xlsx(PUBLISHED), unit_map={ROLE: "凌海市发改局、凌海市统计局"}, **options)


def test_what_the_office_wrote_is_kept_beside_what_it_resolved_to(linghai):
    import_published(linghai, accept_default_deadline=True)

    task = Task.objects.get(number="一.1")
    wording = TaskWording.objects.get(task=task)
    assert (wording.lead_leader, wording.lead_unit, wording.responsible_units, wording.deadline) == (
        "王 某",
        ROLE,
        "各有关部门，各开发区、镇（街道）",
        "年底前",
    )
    assert task.due_date == datetime.date(2023, 12, 31)
    assert wording.resolved["due_date"] == "2023-12-31"
    assert wording.resolved["lead_unit"] == linghai.unit("凌海市发改局").pk
    # 发改局 leads; 统计局 from the lead cell, the other departments, a zone, a town, a street.
    assert len(wording.resolved["units"]) == 6
    assert not TaskWording.objects.filter(task__number="一").exists()


def test_the_export_gives_back_the_offices_words(linghai):
    import_published(linghai, accept_default_deadline=True)

    # The plan prints neither 来源 nor 备注: both empty.
    expected = [[cell.strip() for cell in line] + ["", ""] for line in PUBLISHED]
    assert exported_rows(linghai.campaign) == expected


def test_the_published_table_round_trips_unchanged(linghai):
    first = import_published(linghai, accept_default_deadline=True)
    before = snapshot(linghai.campaign)
    exported = table_export(linghai.campaign).read()

    options = {"unit_map": {ROLE: "凌海市发改局、凌海市统计局"}, "accept_default_deadline": True}
    dry = run(linghai, exported, dry_run=True, **options)
    again = run(linghai, exported, **options)

    assert first.counts["created"] == 6
    assert dry.errors == [] and [r["action"] for r in dry.rows] == ["unchanged"] * 6
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 6, "missing": 0}
    assert snapshot(linghai.campaign) == before
    assert TaskWording.objects.count() == 4
    assert not TaskEvent.objects.exclude(action=EventAction.CREATED).exists()


def test_a_reassigned_task_exports_what_it_has_now(linghai):
    import_published(linghai, accept_default_deadline=True)
    task = Task.objects.get(number="一.3")

    task_update(task_id=task.pk, actor=linghai.person("lh_head"), lead_unit=linghai.unit("凌海市统计局"))

    exported = {line[1]: line for line in exported_rows(linghai.campaign)}
    assert exported["推进重点项目建设"][3:5] == ["凌海市统计局", "凌海经济开发区、安屯乡"]
    # Its other cells still say what the task has.
    assert exported["推进重点项目建设"][6] == ""
    assert exported["确保地区生产总值增长6%"][3] == ROLE


def test_new_words_for_the_same_units_are_an_update_of_the_wording_alone(linghai):
    import_published(linghai, accept_default_deadline=True)
    reworded = [list(line) for line in PUBLISHED]
    reworded[2][2] = "李 明"
    reworded[2][4] = "石山镇、金城街道、安屯乡"

    result = run(
        linghai, xlsx(reworded), unit_map={ROLE: "凌海市发改局、凌海市统计局"}, accept_default_deadline=True
    )

    changed = {r["number"]: (r["action"], r["changed"]) for r in result.rows if r["action"] != "unchanged"}
    assert changed == {"一.2": ("updated", ["wording"])}
    wording = TaskWording.objects.get(task__number="一.2")
    assert (wording.lead_leader, wording.responsible_units) == ("李 明", "石山镇、金城街道、安屯乡")
    assert exported_rows(linghai.campaign)[2][4] == "石山镇、金城街道、安屯乡"


# Through the API and the command -----------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def post(api, world, data, **fields):
    body = {"file": SimpleUploadedFile("分解表.xlsx", data, content_type=XLSX), **fields}
    client = api.as_user("lh_head")
    return client.post(f"/api/v1/campaigns/{world.campaign.pk}/import/", body, format="multipart")


def test_the_api_takes_a_mapping_per_field_and_accepts_the_default(api, linghai):
    response = post(
        api,
        linghai,
        xlsx(PUBLISHED),
        dry_run="false",
        unit_map=[f"{ROLE}=凌海市发改局、凌海市统计局", "各行业主管部门=凌海市住建局"],
        default_deadline="2023-10-31",
        accept_default_deadline="true",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["default_deadline"] == {"date": "2023-10-31", "rows": 1, "accepted": True}
    assert [r["deadline_defaulted"] for r in body["rows"]] == [False, False, False, True, False, False]
    assert Task.objects.get(number="一.3").due_date == datetime.date(2023, 10, 31)
    assert any("各行业主管部门" in note for note in body["notes"])


def test_the_api_refuses_an_unaccepted_default_with_each_row(api, linghai):
    response = post(api, linghai, xlsx(UNDATED, NO_DEADLINES), dry_run="false")

    body = assert_error(response, 400, "import_invalid", fields={"4:deadline", "5:deadline"})
    assert "accept_default_deadline" in body["fields"]["4:deadline"][0]
    assert not Task.objects.exists()


def test_the_api_explains_a_role_name(api, linghai):
    response = post(api, linghai, xlsx([row(lead=ROLE)]))

    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert (error["code"], error["column_label"]) == ("role_unit", "牵头单位")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"unit_map": ["各主要经济指标牵头单位"]}, "unit_map"),
        ({"default_deadline": "2030-01-01"}, "default_deadline"),
        ({"default_deadline": "6月底前"}, "default_deadline"),
    ],
)
def test_the_api_refuses_a_malformed_option(api, linghai, fields, field):
    response = post(api, linghai, xlsx(UNDATED, NO_DEADLINES), **fields)

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not Task.objects.exists()


def command(world, path, *options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_table",
        path,
        "--campaign",
        str(world.campaign.pk),
        "--as",
        "lh_head",
        *options,
        stdout=out,
        stderr=err,
    )
    return out.getvalue(), err.getvalue()


def test_the_command_maps_names_and_accepts_the_default(linghai, tmp_path):
    path = tmp_path / "分解表.xlsx"
    path.write_bytes(xlsx(PUBLISHED))

    out, _err = command(
        linghai,
        str(path),
        "--map",
        f"{ROLE}=凌海市发改局、凌海市统计局",
        "--default-deadline",
        "2023-10-31",
        "--accept-default-deadline",
    )

    assert "第6行 一.3 推进重点项目建设：新建，完成时限按默认 2023-10-31" in out.splitlines()
    assert out.splitlines()[-1] == "已导入：新建 6 项，更新 0 项，不变 0 项。"
    assert Task.objects.get(number="一.3").due_date == datetime.date(2023, 10, 31)


def test_the_command_dry_run_marks_the_default_and_the_import_refuses_it(linghai, tmp_path):
    path = tmp_path / "分解表.xlsx"
    path.write_bytes(xlsx(UNDATED, NO_DEADLINES))

    out, _err = command(linghai, str(path), "--dry-run")

    assert "第4行 一.1 确保地区生产总值增长6%：新建，完成时限按默认 2023-11-30（待确认）" in out.splitlines()
    with pytest.raises(CommandError) as refused:
        command(linghai, str(path))
    assert "未导入任何内容" in str(refused.value)
    assert not Task.objects.exists()


def test_the_command_fails_on_a_role_name_in_a_dry_run(linghai, tmp_path):
    path = tmp_path / "分解表.xlsx"
    path.write_bytes(xlsx([row(lead=ROLE)]))
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command(
            "import_table",
            str(path),
            campaign=linghai.campaign.pk,
            username="lh_head",
            dry_run=True,
            stdout=out,
        )

    assert any(
        line.startswith("第3行 牵头单位：“各主要经济指标牵头单位”不是单位名称")
        for line in out.getvalue().splitlines()
    )


@pytest.mark.parametrize(
    ("options", "expected"),
    [(["--map", "没有等号"], "名称=单位名称"), (["--default-deadline", "6月底前"], "YYYY-MM-DD")],
)
def test_the_command_refuses_malformed_options_in_words(linghai, tmp_path, options, expected):
    path = tmp_path / "分解表.xlsx"
    path.write_bytes(xlsx([row()]))

    with pytest.raises(CommandError) as refused:
        command(linghai, str(path), *options)

    assert expected in str(refused.value)
    assert not Task.objects.exists()


def test_an_outsiders_options_are_refused_for_who_they_are_first(api, linghai):
    client = api.as_user("yi_head")
    body = {
        "file": SimpleUploadedFile("分解表.xlsx", xlsx([row()]), content_type=XLSX),
        "default_deadline": "2030-01-01",
    }

    response = client.post(f"/api/v1/campaigns/{linghai.campaign.pk}/import/", body, format="multipart")

    assert response.status_code == 403 and "default_deadline" not in response.json()["fields"]
    assert not Task.objects.exists()
