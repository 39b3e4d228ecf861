"""The directory (通讯录): a dry run, row-and-column errors, all or nothing, an idempotent
re-import, the export round trip, and the importer's jurisdiction."""

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook
from rest_framework.test import APIClient

from core.errors import Forbidden
from imports.directory.export import directory_export
from imports.directory.services import directory_export_units, directory_import
from imports.services import ImportInvalid
from responsibility.models import Membership, Role, Unit, UnitKind, User, path_segment
from responsibility.services import unit_create, user_create
from tasks.models import Task
from tests.helpers import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "通讯录.csv"
HEADER = ["单位", "上级单位", "类别", "简称", "单位邮箱", "姓名", "职务", "手机", "邮箱", "角色"]


def example_rows() -> list[list[str]]:
    with EXAMPLE.open(encoding="utf-8") as source:
        return list(csv.reader(source))[1:]


def as_csv(rows, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def as_xlsx(rows, header=HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["锦州市脱贫攻坚通讯录"])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def admin(db) -> User:
    user = user_create(username="admin", full_name="系统管理员", password="Duban-test-2018", is_staff=True)
    User.objects.filter(pk=user.pk).update(is_superuser=True)
    user.is_superuser = True
    return user


def load(actor, data: bytes, *, dry_run: bool = False, name: str = "通讯录.csv"):
    return directory_import(actor=actor, data=data, filename=name, dry_run=dry_run)


def tables() -> tuple:
    return (
        sorted(
            Unit.objects.values_list(
                "pk", "name", "kind", "parent_id", "path", "depth", "short_name", "email"
            )
        ),
        sorted(User.objects.values_list("pk", "username", "full_name", "title", "phone", "email")),
        sorted(Membership.objects.values_list("user_id", "unit_id", "role")),
    )


def test_the_example_directory_in_a_dry_run_lists_what_it_would_create_and_writes_nothing(admin):
    before = tables()
    result = load(admin, EXAMPLE.read_bytes(), dry_run=True)

    assert result.errors == []
    units = {(row[0], row[1]) for row in example_rows()}
    people = {row[7] for row in example_rows()}
    assert result.counts["units_created"] == len(units) == 25
    assert result.counts["people_created"] == len(people) == 30  # the mayor heads the 指挥部 too
    assert result.counts["memberships_created"] == len(example_rows())
    assert {row["unit_action"] for row in result.rows} == {"created"}
    assert tables() == before


def test_the_example_directory_builds_the_tree_its_people_and_their_roles(admin):
    load(admin, EXAMPLE.read_bytes())

    city = Unit.objects.get(name="锦州市", parent=None)
    assert city.kind == UnitKind.CITY and city.depth == 0
    village = Unit.objects.get(name="大榆树堡村")
    assert [Unit.objects.get(pk=pk).name for pk in village.ancestor_ids()] == ["锦州市", "义县", "七里河镇"]
    # Every path as unit_create writes it: the parent's path and the unit's own id.
    for unit in Unit.objects.select_related("parent"):
        expected = (unit.parent.path if unit.parent else "") + path_segment(unit.pk)
        assert (unit.path, unit.depth) == (expected, unit.parent.depth + 1 if unit.parent else 0)
    assert Unit.objects.get(name="凌海市").kind == UnitKind.COUNTY
    assert Unit.objects.filter(name="县委督查室").count() == 2
    assert Unit.objects.get(name="市委督查室").email == "ducha@jinzhou.example"

    mayor = User.objects.get(username="13904160001")
    assert (mayor.full_name, mayor.phone, mayor.email) == (
        "王建国",
        "13904160001",
        "wangjianguo@jinzhou.example",
    )
    assert not mayor.has_usable_password()
    assert set(mayor.memberships.values_list("unit__name", "role")) == {
        ("锦州市", Role.HEAD),
        ("市脱贫攻坚指挥部", Role.HEAD),
    }
    assert set(Membership.objects.filter(unit__name="市委督查室").values_list("user__full_name", "role")) == {
        ("刘淑珍", Role.HEAD),
        ("陈海涛", Role.SUPERVISOR),
    }


def test_importing_the_same_directory_again_changes_nothing(admin):
    load(admin, EXAMPLE.read_bytes())
    before = tables()

    result = load(admin, EXAMPLE.read_bytes())

    assert tables() == before
    assert result.counts["units_created"] == result.counts["people_created"] == 0
    assert result.counts["memberships_created"] == 0
    assert {row["unit_action"] for row in result.rows} == {"unchanged"}
    assert {row["membership_action"] for row in result.rows} == {"unchanged"}


def test_a_corrected_directory_updates_and_adds_and_keeps_what_it_no_longer_lists(admin):
    load(admin, EXAMPLE.read_bytes())
    rows = example_rows()
    rows = [row for row in rows if row[5] != "朱长青"]  # no longer listed: kept
    zhao = next(row for row in rows if row[5] == "赵立新")
    zhao[6] = "副主任"
    rows.append(["地藏寺满族乡", "义县", "乡", "", "", "苏晓燕", "乡长", "13904161301", "", "负责人"])

    result = load(admin, as_xlsx(rows), name="通讯录.xlsx")

    assert result.errors == []
    assert User.objects.get(full_name="赵立新").title == "副主任"
    assert Unit.objects.get(name="地藏寺满族乡").parent.name == "义县"
    assert User.objects.filter(full_name="朱长青", memberships__unit__name="市扶贫办").exists()
    assert result.missing == ["市扶贫办 · 朱长青 · 成员"]
    assert result.counts == {
        "units_created": 1,
        "units_updated": 0,
        "units_unchanged": 25,
        "people_created": 1,
        "people_updated": 1,
        "people_unchanged": 28,
        "memberships_created": 1,
        "missing": 1,
    }


def test_blank_cells_leave_what_is_stored(admin):
    load(admin, EXAMPLE.read_bytes())
    rows = [row[:7] + [row[7], "", ""] for row in example_rows()]  # no e-mail, no role column values

    result = load(admin, as_csv(rows))

    assert result.errors == []
    assert User.objects.get(username="13904160001").email == "wangjianguo@jinzhou.example"
    # A blank role is a member: rows that named another role add a membership, never remove one.
    assert Membership.objects.filter(user__username="13904160001", role=Role.HEAD).count() == 2


def test_the_export_reads_back_as_the_same_directory(admin):
    load(admin, EXAMPLE.read_bytes())
    before = tables()
    units = directory_export_units(actor=admin)

    with directory_export(reader=admin, units=units) as output:
        exported = output.read()
    sheet = load_workbook(io.BytesIO(exported)).active
    lines = [[cell or "" for cell in row] for row in sheet.iter_rows(values_only=True)]
    result = load(admin, exported, name="通讯录.xlsx")

    assert lines[0] == [*HEADER[:5], *HEADER[5:], "用户名"]
    # As written, but for the kinds' own names and one title per person (the first row's).
    assert {(*line[:6], *line[7:10]) for line in lines[1:]} == {
        (*row[:2], "县(市)区" if row[2] == "县级市" else row[2], *row[3:6], *row[7:])
        for row in example_rows()
    }
    assert {line[6] for line in lines[1:] if line[5] == "王建国"} == {"市长"}
    assert result.errors == []
    assert result.counts["units_created"] == result.counts["people_created"] == 0
    assert result.counts["units_updated"] == result.counts["people_updated"] == 0
    assert tables() == before


def test_the_export_qualifies_a_parent_whose_name_is_not_unique_and_reads_it_back(admin):
    load(admin, EXAMPLE.read_bytes())
    rows = [
        ["东村", "七里河镇", "村", "", "", "", "", "", "", ""],
        ["东村", "芳山镇", "村", "", "", "", "", "", "", ""],
        ["一组", "义县/七里河镇/东村", "村", "", "", "", "", "", "", ""],
    ]
    assert load(admin, as_csv(rows)).errors == []
    group = Unit.objects.get(name="一组")
    assert group.parent.parent.name == "七里河镇"
    before = tables()

    with directory_export(reader=admin, units=directory_export_units(actor=admin)) as output:
        exported = output.read()
    sheet = load_workbook(io.BytesIO(exported)).active
    parents = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}

    assert parents["一组"] == "锦州市/义县/七里河镇/东村"
    assert load(admin, exported, name="通讯录.xlsx").counts["units_created"] == 0
    assert tables() == before


ERROR_CASES = [
    (["义县", "锦州市", "县", "", "", "孙县长", "县长", "", "", "负责人"], "mobile", "missing_contact"),
    (["义县", "锦州市", "州", "", "", "", "", "", "", ""], "kind", "unknown_kind"),
    (["义县", "锦州市", "县", "", "", "孙县长", "", "139", "", "负责人"], "mobile", "invalid_phone"),
    (
        ["义县", "锦州市", "县", "", "", "孙县长", "", "13900000001", "sun@", "负责人"],
        "email",
        "invalid_email",
    ),
    (["义县", "锦州市", "县", "", "yi@", "", "", "", "", ""], "unit_email", "invalid_email"),
    (["义县", "锦州市", "县", "", "", "孙县长", "", "13900000001", "", "老板"], "role", "unknown_role"),
    (["义县", "辽宁省", "县", "", "", "", "", "", "", ""], "parent", "parent_missing"),
    (["义县", "锦州市", "", "", "", "", "", "", "", ""], "kind", "missing_kind"),
    (["义县", "锦州市", "县", "", "", "", "县长", "", "", ""], "full_name", "missing_name"),
    (["锦州市", "", "乡镇", "", "", "", "", "", "", ""], "kind", "kind_mismatch"),
]


@pytest.mark.parametrize(("row", "column", "code"), ERROR_CASES, ids=[case[2] for case in ERROR_CASES])
def test_a_bad_cell_is_an_error_on_its_row_and_column_and_nothing_is_written(admin, row, column, code):
    unit_create(name="锦州市", kind=UnitKind.CITY)
    rows = [["市委督查室", "锦州市", "督查室", "", "", "", "", "", "", ""], row]
    before = tables()

    result = load(admin, as_csv(rows), dry_run=True)
    with pytest.raises(ImportInvalid) as refused:
        load(admin, as_csv(rows))

    (error,) = result.errors
    assert (error["row"], error["column"], error["code"]) == (3, column, code)
    assert (
        error["column_label"]
        == dict(
            zip(
                [
                    "unit",
                    "parent",
                    "kind",
                    "short_name",
                    "unit_email",
                    "full_name",
                    "title",
                    "mobile",
                    "email",
                    "role",
                ],
                HEADER,
                strict=True,
            )
        )[column]
    )
    assert any("\u4e00" <= char <= "\u9fff" for char in error["message"])
    assert f"3:{column}" in refused.value.fields
    assert tables() == before


def test_rows_that_disagree_about_one_person_or_unit_are_errors(admin):
    rows = [
        ["锦州市", "", "市", "", "", "王建国", "市长", "13904160001", "wang@jinzhou.example", "负责人"],
        ["市委督查室", "锦州市", "督查室", "", "", "王建国", "主任", "13904160001", "w@j.example", "领导"],
        ["市委督查室", "锦州市", "部门", "", "", "", "", "", "", ""],
    ]
    result = load(admin, as_csv(rows), dry_run=True)

    assert [(e["row"], e["column"], e["code"]) for e in result.errors] == [
        (3, "email", "conflicting_rows"),
        (4, "kind", "conflicting_rows"),
    ]


def test_a_parent_named_twice_must_be_qualified(admin):
    city = unit_create(name="锦州市", kind=UnitKind.CITY)
    for county in ("义县", "黑山县"):
        unit_create(
            name="县委督查室",
            kind=UnitKind.SUPERVISION_OFFICE,
            parent=unit_create(name=county, kind=UnitKind.COUNTY, parent=city),
        )
    rows = [
        ["督查一科", "县委督查室", "部门", "", "", "", "", "", "", ""],
        ["督查二科", "黑山县/县委督查室", "部门", "", "", "", "", "", "", ""],
    ]
    result = load(admin, as_csv(rows), dry_run=True)

    assert [(e["row"], e["code"]) for e in result.errors] == [(2, "parent_ambiguous")]
    assert "/县委督查室" in result.errors[0]["message"]
    assert result.rows[1]["parent"] == "县委督查室" and result.rows[1]["unit_action"] == "created"


def test_units_may_come_before_their_parents_in_the_table(admin):
    rows = [
        ["大榆树堡村", "七里河镇", "村", "", "", "", "", "", "", ""],
        ["七里河镇", "义县", "乡镇", "", "", "", "", "", "", ""],
        ["义县", "锦州市", "县", "", "", "", "", "", "", ""],
        ["锦州市", "", "市", "", "", "", "", "", "", ""],
    ]
    load(admin, as_csv(rows))
    assert Unit.objects.get(name="大榆树堡村").depth == 3


def test_units_that_name_each_other_as_parents_are_an_error(admin):
    rows = [
        ["甲镇", "乙镇", "乡镇", "", "", "", "", "", "", ""],
        ["乙镇", "甲镇", "乡镇", "", "", "", "", "", "", ""],
    ]
    result = load(admin, as_csv(rows), dry_run=True)
    assert {(e["row"], e["code"]) for e in result.errors} == {(2, "parent_cycle"), (3, "parent_cycle")}


def test_the_directory_is_read_only_from_spreadsheets(admin):
    with pytest.raises(Exception) as refused:
        load(admin, "单位\t上级单位\n".encode(), name="通讯录.txt")
    assert refused.value.code == "unsupported_format"


# Jurisdiction: a head imports below the units they head, nowhere else ----------------------


def test_a_county_head_adds_townships_villages_and_people_below_the_county(world):
    rows = [
        ["义县", "锦州市", "县", "", "", "孙县长", "", "", "", "负责人", "yi_head"],
        ["头道河镇", "义县", "乡镇", "", "", "梁树林", "镇长", "13904161201", "", "负责人", ""],
        ["西山村", "头道河镇", "村", "", "", "宋金凤", "书记", "13904161211", "", "负责人", ""],
        ["七里河镇", "义县", "乡镇", "", "", "郑镇长", "镇长", "13900000099", "", "负责人", "qilihe_head"],
    ]
    result = load(world.person("yi_head"), as_csv(rows, [*HEADER, "用户名"]))

    assert result.errors == []
    assert Unit.objects.get(name="西山村").parent.parent == world.unit("义县")
    assert User.objects.get(username="qilihe_head").phone == "13900000099"
    assert Membership.objects.filter(
        user__username="13904161211", unit__name="西山村", role=Role.HEAD
    ).exists()


REFUSED = [
    (["芳山村", "芳山镇", "村", "", "", "", "", "", "", "", ""], "unit", "outside_jurisdiction"),
    (
        ["义县", "锦州市", "县", "", "", "周干事", "", "", "", "负责人", "yi_member"],
        "role",
        "outside_jurisdiction",
    ),
    (
        ["锦州市", "", "市", "", "", "王市长", "", "", "", "负责人", "city_head"],
        "unit",
        "outside_jurisdiction",
    ),
    (
        ["七里河镇", "义县", "乡镇", "", "", "王市长", "", "13900000001", "", "成员", "city_head"],
        "full_name",
        "person_outside_jurisdiction",
    ),
    (["新县", "", "县", "", "", "", "", "", "", "", ""], "parent", "missing_parent"),
]


@pytest.mark.parametrize(
    ("row", "column", "code"),
    REFUSED,
    ids=[
        "a_unit_in_another_county",
        "a_head_of_its_own_level",
        "the_city_itself",
        "a_city_leader's_details",
        "a_new_top_unit",
    ],
)
def test_a_county_head_is_refused_outside_the_county_and_nothing_is_written(world, api, row, column, code):
    data = as_csv([row], [*HEADER, "用户名"])
    before = tables()

    result = load(world.person("yi_head"), data, dry_run=True)
    response = api.as_user("yi_head").post(
        "/api/v1/directory/import/",
        {"file": SimpleUploadedFile("通讯录.csv", data), "dry_run": "false"},
        format="multipart",
    )

    assert [(e["row"], e["column"], e["code"]) for e in result.errors] == [(2, column, code)]
    status, error_code = (403, "outside_jurisdiction") if "outside" in code else (400, "import_invalid")
    assert_error(response, status, error_code, fields={f"2:{column}"})
    assert tables() == before


def test_someone_who_heads_no_unit_may_not_import_a_directory(world, api):
    data = as_csv([["头道河镇", "义县", "乡镇", "", "", "", "", "", "", ""]])
    with pytest.raises(Forbidden):
        load(world.person("yi_member"), data, dry_run=True)
    response = api.as_user("yi_member").post(
        "/api/v1/directory/import/", {"file": SimpleUploadedFile("通讯录.csv", data)}, format="multipart"
    )
    assert_error(response, 403, "not_a_directory_keeper")
    assert_error(api.as_user("yi_member").get("/api/v1/directory/export.xlsx"), 403, "not_a_directory_keeper")


# The API and the commands ---------------------------------------------------------------------


def test_the_api_answers_a_dry_run_row_by_row_and_imports_on_request(world, api):
    data = as_xlsx([["头道河镇", "义县", "乡镇", "", "", "梁树林", "镇长", "13904161201", "", "负责人"]])
    client = api.as_user("yi_head")

    dry = client.post(
        "/api/v1/directory/import/", {"file": SimpleUploadedFile("通讯录.xlsx", data)}, format="multipart"
    )
    assert dry.status_code == 200, dry.content
    body = dry.json()
    assert body["dry_run"] is True and body["errors"] == []
    assert body["rows"][0]["unit_action"] == "created" and body["rows"][0]["person_action"] == "created"
    assert not Unit.objects.filter(name="头道河镇").exists()

    done = client.post(
        "/api/v1/directory/import/",
        {"file": SimpleUploadedFile("通讯录.xlsx", data), "dry_run": "false"},
        format="multipart",
    )
    assert done.status_code == 200, done.content
    assert Unit.objects.get(name="头道河镇").parent == world.unit("义县")


def test_a_head_exports_only_the_units_below_their_reach_and_contacts_they_may_read(world, api):
    response = api.as_user("yi_head").get("/api/v1/directory/export.xlsx")

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    units = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert units == {"义县", "县委督查室", "七里河镇", "大榆树堡村", "王家屯村"}
    within = api.as_user("yi_head").get(f"/api/v1/directory/export.xlsx?within={world.unit('黑山县').pk}")
    assert_error(within, 404, "not_found")


def test_a_client_stating_the_workbook_type_gets_the_directory_and_another_type_a_406(world, api):
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    client = api.as_user("yi_head")

    stated = client.get("/api/v1/directory/export.xlsx", HTTP_ACCEPT=xlsx)
    assert stated.status_code == 200
    assert stated["Content-Type"] == xlsx
    assert_error(client.get("/api/v1/directory/export.xlsx", HTTP_ACCEPT="text/csv"), 406, "not_acceptable")


def test_an_import_costs_the_same_queries_whatever_the_number_of_rows(admin):
    small = [row for row in example_rows() if row[0] in ("锦州市", "义县", "七里河镇")]

    def queries(rows) -> int:
        with CaptureQueriesContext(connection) as captured:
            load(admin, as_csv(rows), dry_run=True)
        return len(captured)

    assert queries(small) == queries(example_rows())


def test_the_commands_import_and_export_and_fail_in_words(admin, tmp_path):
    out = io.StringIO()
    call_command("import_directory", str(EXAMPLE), "--as", "admin", "--dry-run", stdout=out)
    assert "试导入：单位新建 25 个" in out.getvalue()
    assert not Unit.objects.exists()

    call_command("import_directory", str(EXAMPLE), "--as", "admin", stdout=io.StringIO())
    exported = tmp_path / "通讯录.xlsx"
    call_command("export_directory", str(exported), "--as", "admin", stdout=io.StringIO())
    out = io.StringIO()
    call_command("import_directory", str(exported), "--as", "admin", stdout=out)
    assert "单位新建 0 个、修改 0 个、不变 25 个" in out.getvalue()

    bad = tmp_path / "bad.csv"
    bad.write_bytes(as_csv([["义县", "锦州市", "州", "", "", "", "", "", "", ""]]))
    err = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command(
            "import_directory", str(bad), "--as", "admin", "--dry-run", stdout=io.StringIO(), stderr=err
        )
    assert failed.value.returncode == 1
    assert "第2行 类别" in err.getvalue()


def test_people_can_be_found_by_username(world, api):
    response = api.as_user("yi_head").get("/api/v1/people/?username=qilihe_head")

    assert response.status_code == 200
    assert [person["full_name"] for person in response.json()["results"]] == ["郑镇长"]
    # A person outside the caller's reach is not found by name either.
    assert api.as_user("yi_head").get("/api/v1/people/?username=heishan_head").json()["results"] == []


def test_an_office_goes_from_its_directory_to_its_campaign_with_no_ids_typed(admin, tmp_path):
    """The examples in the repository: the directory, then a campaign set up through the API
    with ids it looked up, then the city's table imported as the mayor the directory made."""
    call_command("import_directory", str(EXAMPLE), "--as", "admin", stdout=io.StringIO())
    client = APIClient()
    client.force_authenticate(admin)
    (city,) = client.get("/api/v1/units/", {"name": "锦州市", "kind": "city"}).json()["results"]
    (mayor,) = client.get("/api/v1/people/", {"username": "13904160001"}).json()["results"]
    assert mayor["full_name"] == "王建国"
    campaign = client.post(
        "/api/v1/campaigns/",
        {
            "name": "精准脱贫百日攻坚行动",
            "issuing_unit": city["id"],
            "starts_on": "2018-09-01",
            "ends_on": "2018-12-10",
        },
        format="json",
    )
    assert campaign.status_code == 201, campaign.content

    table = EXAMPLE.with_name("任务分解表.csv")
    out = io.StringIO()
    call_command(
        "import_table",
        str(table),
        "--campaign",
        str(campaign.json()["id"]),
        "--as",
        "13904160001",
        stdout=out,
    )

    assert "第" in out.getvalue()
    tasks = Task.objects.filter(campaign_id=campaign.json()["id"])
    assert tasks.count() == 10  # four headings, six tasks
    houses = tasks.get(title__startswith="完成D级危房改造950户")
    assert houses.lead_unit.name == "市住建委" and houses.lead_leader.full_name == "李志刚"
    assert houses.due_date.isoformat() == "2018-10-31"
