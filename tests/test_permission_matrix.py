"""The permission matrix: every task endpoint against every kind of caller.

One task, 危房改造, is issued by 锦州市 (the city) to 七里河镇 (the lead unit), with 市住建委
cooperating and 蒋副市长 (``leader``) as its lead leader. Seen from the task, the tree of
tests/conftest.py plus the units this module adds (marked +) gives every relation once:

    锦州市                 issuing    (市委督查室 supervises the city level)
    ├── 市住建委           cooperating (+ 市住建委督查科 supervises the department)
    ├── 义县               above      (县委督查室 supervises the county level)
    │   ├── 七里河镇       own        (+ 七里河镇督查室)
    │   │   └── 大榆树堡村 below      (+ 大榆树堡村督查组)
    │   └── + 头台镇       sibling    (+ 头台镇督查室)
    └── 黑山县
        └── 芳山镇         unrelated  (+ 芳山镇督查室), a township of another county

Each relation has a member, a head, a supervisor (a supervisor of the office attached to
that unit, so the office's level is the unit) and a leader (a person holding the leader role
in that unit, who is not the task's lead leader). Three more callers: ``anonymous``, the
task's ``lead_leader`` and the system ``admin``. That is 7 x 4 + 3 = 31 callers.

The expected answers are written below, once, as five tables with one line per caller and
one column per endpoint (reads, transitions, other writes, signing-for decisions, the report
schedule): 9 + 9 + 8 + 4 + 3 = 33 endpoints, so 31 x 33 = 1023 cells, each a test. They
follow the written rules (tasks/rules.py, the selectors' visibility, the supervision
office's escalation right), not the code:

- a caller sees the task if a unit they are member or head of, or the level their office
  supervises, contains the issuing, lead, responsible or cooperating unit, or if they are
  its lead leader; anyone else gets 404 from every endpoint, never 403;
- the issuing side (heads of 锦州市, and administrators) assigns, edits, closes, returns,
  suspends, resumes, cancels and decides extensions; it alone sets, replaces and removes the
  report schedule (按期反馈, as it edits the task), which whoever sees the task reads;
- the responsible side (members and heads of 七里河镇) accepts, submits, reports, requests
  extensions and completes steps; the head of 七里河镇 alone decomposes;
- before signing for it, the lead unit alone (members and heads of 七里河镇, not the
  cooperating unit) returns the task to its issuer (退回) or asks for its transfer (转办),
  which the issuing side decides, and the unit that asked alone withdraws;
- reopening is for the issuing side or an office supervising the issuing unit (市委督查室);
- recording a closed item's re-check (回头看) is for the issuing side alone;
- a manual escalation is for an office supervising the lead or the issuing unit, and
  administrators.

Each write runs against a task put in the one state where that action is possible, so the
only question a cell asks is permission. A refused write must leave the task, its history
and what hangs off it unchanged; an allowed one must change something.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings
from django.utils import translation
from rest_framework.test import APIClient

from notifications.models import Escalation
from responsibility.models import Role, Unit, UnitKind, User
from responsibility.services import membership_create, unit_create, user_create
from tasks.models import (
    Campaign,
    ExtensionRequest,
    Obligation,
    ProcedureStep,
    ProgressReport,
    RecheckAttachment,
    ReportSchedule,
    Task,
    TaskEvent,
    TaskKind,
    TransferRequest,
)
from tasks.services import (
    StepSpec,
    extension_request_create,
    progress_report_create,
    report_schedule_set,
    task_create,
    task_recheck_record,
    task_transition,
    transfer_request_create,
)
from tests.conftest import PASSWORD, _tree
from tests.conftest import PEOPLE as WORLD_PEOPLE

pytestmark = pytest.mark.django_db

CELL_COUNT = 1023

READS = """
                        detail history transitions reports extensions escalations trace download recheck_files
issuing member          200    200     200         200     200        200         200   200        200
issuing head            200    200     200         200     200        200         200   200        200
issuing supervisor      200    200     200         200     200        200         200   200        200
issuing leader          404    404     404         404     404        404         404   404        404
above member            200    200     200         200     200        200         200   200        200
above head              200    200     200         200     200        200         200   200        200
above supervisor        200    200     200         200     200        200         200   200        200
above leader            404    404     404         404     404        404         404   404        404
own member              200    200     200         200     200        200         200   200        200
own head                200    200     200         200     200        200         200   200        200
own supervisor          200    200     200         200     200        200         200   200        200
own leader              404    404     404         404     404        404         404   404        404
below member            404    404     404         404     404        404         404   404        404
below head              404    404     404         404     404        404         404   404        404
below supervisor        404    404     404         404     404        404         404   404        404
below leader            404    404     404         404     404        404         404   404        404
sibling member          404    404     404         404     404        404         404   404        404
sibling head            404    404     404         404     404        404         404   404        404
sibling supervisor      404    404     404         404     404        404         404   404        404
sibling leader          404    404     404         404     404        404         404   404        404
unrelated member        404    404     404         404     404        404         404   404        404
unrelated head          404    404     404         404     404        404         404   404        404
unrelated supervisor    404    404     404         404     404        404         404   404        404
unrelated leader        404    404     404         404     404        404         404   404        404
cooperating member      200    200     200         200     200        200         200   200        200
cooperating head        200    200     200         200     200        200         200   200        200
cooperating supervisor  200    200     200         200     200        200         200   200        200
cooperating leader      404    404     404         404     404        404         404   404        404
anonymous               401    401     401         401     401        401         401   401        401
lead_leader             200    200     200         200     200        200         200   200        200
admin                   200    200     200         200     200        200         200   200        200
"""

# assign acts on a draft, which only the issuing side sees: the other units get 404.
TRANSITIONS = """
                        assign accept submit close return suspend resume cancel reopen
issuing member          403    403    403    403   403    403     403    403    403
issuing head            200    403    403    200   200    200     200    200    200
issuing supervisor      403    403    403    403   403    403     403    403    200
issuing leader          404    404    404    404   404    404     404    404    404
above member            404    403    403    403   403    403     403    403    403
above head              404    403    403    403   403    403     403    403    403
above supervisor        404    403    403    403   403    403     403    403    403
above leader            404    404    404    404   404    404     404    404    404
own member              404    200    200    403   403    403     403    403    403
own head                404    200    200    403   403    403     403    403    403
own supervisor          404    403    403    403   403    403     403    403    403
own leader              404    404    404    404   404    404     404    404    404
below member            404    404    404    404   404    404     404    404    404
below head              404    404    404    404   404    404     404    404    404
below supervisor        404    404    404    404   404    404     404    404    404
below leader            404    404    404    404   404    404     404    404    404
sibling member          404    404    404    404   404    404     404    404    404
sibling head            404    404    404    404   404    404     404    404    404
sibling supervisor      404    404    404    404   404    404     404    404    404
sibling leader          404    404    404    404   404    404     404    404    404
unrelated member        404    404    404    404   404    404     404    404    404
unrelated head          404    404    404    404   404    404     404    404    404
unrelated supervisor    404    404    404    404   404    404     404    404    404
unrelated leader        404    404    404    404   404    404     404    404    404
cooperating member      404    403    403    403   403    403     403    403    403
cooperating head        404    403    403    403   403    403     403    403    403
cooperating supervisor  404    403    403    403   403    403     403    403    403
cooperating leader      404    404    404    404   404    404     404    404    404
anonymous               401    401    401    401   401    401     401    401    401
lead_leader             403    403    403    403   403    403     403    403    403
admin                   200    403    403    200   200    200     200    200    200
"""

WRITES = """
                        edit decompose report extension decision step escalate recheck
issuing member          403  403       403    403       403      403  403      403
issuing head            200  403       403    403       200      403  403      200
issuing supervisor      403  403       403    403       403      403  201      403
issuing leader          404  404       404    404       404      404  404      404
above member            403  403       403    403       403      403  403      403
above head              403  403       403    403       403      403  403      403
above supervisor        403  403       403    403       403      403  201      403
above leader            404  404       404    404       404      404  404      404
own member              403  403       201    201       403      200  403      403
own head                403  201       201    201       403      200  403      403
own supervisor          403  403       403    403       403      403  201      403
own leader              404  404       404    404       404      404  404      404
below member            404  404       404    404       404      404  404      404
below head              404  404       404    404       404      404  404      404
below supervisor        404  404       404    404       404      404  404      404
below leader            404  404       404    404       404      404  404      404
sibling member          404  404       404    404       404      404  404      404
sibling head            404  404       404    404       404      404  404      404
sibling supervisor      404  404       404    404       404      404  404      404
sibling leader          404  404       404    404       404      404  404      404
unrelated member        404  404       404    404       404      404  404      404
unrelated head          404  404       404    404       404      404  404      404
unrelated supervisor    404  404       404    404       404      404  404      404
unrelated leader        404  404       404    404       404      404  404      404
cooperating member      403  403       403    403       403      403  403      403
cooperating head        403  403       403    403       403      403  403      403
cooperating supervisor  403  403       403    403       403      403  403      403
cooperating leader      404  404       404    404       404      404  404      404
anonymous               401  401       401    401       401      401  401      401
lead_leader             403  403       403    403       403      403  403      403
admin                   200  403       403    403       200      403  201      200
"""

# The report schedule (按期反馈) of the task in progress: read it, set it (a monthly report),
# and remove the one a task in progress has (``scheduled``).
SCHEDULES = """
                        schedule schedule_set schedule_remove
issuing member          200      403          403
issuing head            200      200          204
issuing supervisor      200      403          403
issuing leader          404      404          404
above member            200      403          403
above head              200      403          403
above supervisor        200      403          403
above leader            404      404          404
own member              200      403          403
own head                200      403          403
own supervisor          200      403          403
own leader              404      404          404
below member            404      404          404
below head              404      404          404
below supervisor        404      404          404
below leader            404      404          404
sibling member          404      404          404
sibling head            404      404          404
sibling supervisor      404      404          404
sibling leader          404      404          404
unrelated member        404      404          404
unrelated head          404      404          404
unrelated supervisor    404      404          404
unrelated leader        404      404          404
cooperating member      200      403          403
cooperating head        200      403          403
cooperating supervisor  200      403          403
cooperating leader      404      404          404
anonymous               401      401          401
lead_leader             200      403          403
admin                   200      200          204
"""

# Before the lead unit signs for the task: returning it to the issuer (``back``), asking
# for its transfer to 黑山县 (``transfer``), deciding a pending request, and withdrawing it.
SIGN_FOR = """
                        back transfer transfer_decision transfer_withdraw
issuing member          403  403      403                403
issuing head            403  403      200                403
issuing supervisor      403  403      403                403
issuing leader          404  404      404                404
above member            403  403      403                403
above head              403  403      403                403
above supervisor        403  403      403                403
above leader            404  404      404                404
own member              200  201      403                200
own head                200  201      403                200
own supervisor          403  403      403                403
own leader              404  404      404                404
below member            404  404      404                404
below head              404  404      404                404
below supervisor        404  404      404                404
below leader            404  404      404                404
sibling member          404  404      404                404
sibling head            404  404      404                404
sibling supervisor      404  404      404                404
sibling leader          404  404      404                404
unrelated member        404  404      404                404
unrelated head          404  404      404                404
unrelated supervisor    404  404      404                404
unrelated leader        404  404      404                404
cooperating member      403  403      403                403
cooperating head        403  403      403                403
cooperating supervisor  403  403      403                403
cooperating leader      404  404      404                404
anonymous               401  401      401                401
lead_leader             403  403      403                403
admin                   403  403      200                403
"""


def parse(table: str) -> dict[tuple[str, str], int]:
    """{(endpoint, caller): status} from a table: a header of endpoints, then one line per
    caller, its name first."""
    header, *lines = table.strip("\n").splitlines()
    endpoints = header.split()
    cells = {}
    for line in lines:
        words = line.split()
        caller, codes = " ".join(words[: -len(endpoints)]), words[-len(endpoints) :]
        assert len(codes) == len(endpoints) and caller, line
        for endpoint, code in zip(endpoints, codes, strict=True):
            cells[endpoint, caller] = int(code)
    return cells


EXPECTED = {
    **parse(READS),
    **parse(TRANSITIONS),
    **parse(WRITES),
    **parse(SIGN_FOR),
    **parse(SCHEDULES),
}

# Units this module adds to the conftest's tree: name, kind, parent.
UNITS = [
    ("头台镇", UnitKind.TOWNSHIP, "义县"),
    ("七里河镇督查室", UnitKind.SUPERVISION_OFFICE, "七里河镇"),
    ("大榆树堡村督查组", UnitKind.SUPERVISION_OFFICE, "大榆树堡村"),
    ("头台镇督查室", UnitKind.SUPERVISION_OFFICE, "头台镇"),
    ("芳山镇督查室", UnitKind.SUPERVISION_OFFICE, "芳山镇"),
    ("市住建委督查科", UnitKind.SUPERVISION_OFFICE, "市住建委"),
]

# People this module adds: username, unit, role. The others come from tests/conftest.py.
PEOPLE = [
    ("city_member", "锦州市", Role.MEMBER),
    ("city_leader", "锦州市", Role.LEADER),
    ("yi_leader", "义县", Role.LEADER),
    ("qilihe_member", "七里河镇", Role.MEMBER),
    ("qilihe_supervisor", "七里河镇督查室", Role.SUPERVISOR),
    ("qilihe_leader", "七里河镇", Role.LEADER),
    ("village_a_member", "大榆树堡村", Role.MEMBER),
    ("village_a_supervisor", "大榆树堡村督查组", Role.SUPERVISOR),
    ("village_a_leader", "大榆树堡村", Role.LEADER),
    ("toutai_member", "头台镇", Role.MEMBER),
    ("toutai_head", "头台镇", Role.HEAD),
    ("toutai_supervisor", "头台镇督查室", Role.SUPERVISOR),
    ("toutai_leader", "头台镇", Role.LEADER),
    ("fangshan_member", "芳山镇", Role.MEMBER),
    ("fangshan_head", "芳山镇", Role.HEAD),
    ("fangshan_supervisor", "芳山镇督查室", Role.SUPERVISOR),
    ("fangshan_leader", "芳山镇", Role.LEADER),
    ("housing_supervisor", "市住建委督查科", Role.SUPERVISOR),
    ("housing_leader", "市住建委", Role.LEADER),
]

# Caller (a line of the tables) -> username; None is an anonymous request.
CALLERS: dict[str, str | None] = {
    "issuing member": "city_member",
    "issuing head": "city_head",
    "issuing supervisor": "city_supervisor",
    "issuing leader": "city_leader",
    "above member": "yi_member",
    "above head": "yi_head",
    "above supervisor": "yi_supervisor",
    "above leader": "yi_leader",
    "own member": "qilihe_member",
    "own head": "qilihe_head",
    "own supervisor": "qilihe_supervisor",
    "own leader": "qilihe_leader",
    "below member": "village_a_member",
    "below head": "village_a_head",
    "below supervisor": "village_a_supervisor",
    "below leader": "village_a_leader",
    "sibling member": "toutai_member",
    "sibling head": "toutai_head",
    "sibling supervisor": "toutai_supervisor",
    "sibling leader": "toutai_leader",
    "unrelated member": "fangshan_member",
    "unrelated head": "fangshan_head",
    "unrelated supervisor": "fangshan_supervisor",
    "unrelated leader": "fangshan_leader",
    "cooperating member": "housing_member",
    "cooperating head": "housing_head",
    "cooperating supervisor": "housing_supervisor",
    "cooperating leader": "housing_leader",
    "anonymous": None,
    "lead_leader": "leader",
    "admin": "admin",
}


@dataclass(frozen=True)
class Endpoint:
    method: str
    # Formatted with the ids ``prepare`` returns: task, step, extension, attachment,
    # recheck_attachment.
    path: str
    # The task's situation in which the action is possible (see ``prepare``).
    setup: str
    success: int = 200
    payload: Callable[[dict], dict] = field(default=lambda units: {})

    @property
    def writes(self) -> bool:
        return self.method != "get"


def transition(name: str, setup: str) -> Endpoint:
    return Endpoint(
        "post",
        f"/api/v1/tasks/{{task}}/transitions/{name}/",
        setup,
        payload=lambda units: {"comment": "理由"},
    )


ENDPOINTS: dict[str, Endpoint] = {
    "detail": Endpoint("get", "/api/v1/tasks/{task}/", "in_progress"),
    "history": Endpoint("get", "/api/v1/tasks/{task}/history/", "in_progress"),
    "transitions": Endpoint("get", "/api/v1/tasks/{task}/transitions/", "in_progress"),
    "reports": Endpoint("get", "/api/v1/tasks/{task}/reports/", "in_progress"),
    "extensions": Endpoint("get", "/api/v1/tasks/{task}/extensions/", "in_progress"),
    "escalations": Endpoint("get", "/api/v1/tasks/{task}/escalations/", "in_progress"),
    "trace": Endpoint("get", "/api/v1/tasks/{task}/trace/", "in_progress"),
    "download": Endpoint("get", "/api/v1/attachments/{attachment}/", "evidence"),
    "recheck_files": Endpoint("get", "/api/v1/recheck-attachments/{recheck_attachment}/", "rechecked"),
    "schedule": Endpoint("get", "/api/v1/tasks/{task}/report-schedule/", "in_progress"),
    "assign": transition("assign", "draft"),
    "accept": transition("accept", "assigned"),
    "submit": transition("submit", "in_progress"),
    "close": transition("close", "submitted"),
    "return": transition("return", "submitted"),
    "suspend": transition("suspend", "in_progress"),
    "resume": transition("resume", "suspended"),
    "cancel": transition("cancel", "in_progress"),
    "reopen": transition("reopen", "closed_rectification"),
    "edit": Endpoint(
        "patch", "/api/v1/tasks/{task}/", "in_progress", payload=lambda units: {"title": "危房改造（第二批）"}
    ),
    "decompose": Endpoint(
        "post",
        "/api/v1/tasks/{task}/decompose/",
        "in_progress",
        201,
        lambda units: {
            "children": [{"title": "入户核查", "lead_unit": units["大榆树堡村"].pk, "due_date": "2018-11-20"}]
        },
    ),
    "report": Endpoint(
        "post", "/api/v1/tasks/{task}/reports/", "in_progress", 201, lambda units: {"text": "已核查 12 户"}
    ),
    "extension": Endpoint(
        "post",
        "/api/v1/tasks/{task}/extensions/",
        "in_progress",
        201,
        lambda units: {"requested_due_date": "2018-12-07", "reason": "雨季影响施工"},
    ),
    "decision": Endpoint(
        "post",
        "/api/v1/extensions/{extension}/decision/",
        "extension_pending",
        payload=lambda units: {"approve": True},
    ),
    "step": Endpoint("post", "/api/v1/tasks/{task}/steps/{step}/complete/", "procedure"),
    "recheck": Endpoint(
        "post",
        "/api/v1/tasks/{task}/recheck/",
        "closed_rectification",
        payload=lambda units: {"result": "passed"},
    ),
    "schedule_set": Endpoint(
        "put",
        "/api/v1/tasks/{task}/report-schedule/",
        "in_progress",
        payload=lambda units: {"cadence": "monthly", "day": 28},
    ),
    "schedule_remove": Endpoint("delete", "/api/v1/tasks/{task}/report-schedule/", "scheduled", 204),
    "back": transition("return_to_issuer", "assigned"),
    "transfer": Endpoint(
        "post",
        "/api/v1/tasks/{task}/transfers/",
        "assigned",
        201,
        lambda units: {"to_unit": units["黑山县"].pk, "reason": "属黑山县职责"},
    ),
    "transfer_decision": Endpoint(
        "post",
        "/api/v1/transfers/{transfer}/decision/",
        "transfer_pending",
        payload=lambda units: {"approve": True},
    ),
    "transfer_withdraw": Endpoint(
        "post",
        "/api/v1/transfers/{transfer}/withdraw/",
        "transfer_pending",
        payload=lambda units: {"comment": "本镇办理"},
    ),
    "escalate": Endpoint(
        "post",
        "/api/v1/tasks/{task}/escalations/",
        "in_progress",
        201,
        lambda units: {"level": "listed", "reason": "进度滞后"},
    ),
}

CELLS = [
    pytest.param(endpoint, caller, EXPECTED[endpoint, caller], id=f"{endpoint}-{caller.replace(' ', '_')}")
    for endpoint in ENDPOINTS
    for caller in CALLERS
]

ERROR_CODES = {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(32))
NOW = datetime.datetime(2018, 10, 8, 9, 0, tzinfo=datetime.UTC)


@dataclass
class Matrix:
    units: dict[str, Unit]
    # setup -> the ids of its task and of what hangs off it (see ``prepare``)
    ids: dict[str, dict[str, int]]


def person(username: str) -> User:
    # A fresh instance each time: access is cached on the user object.
    return User.objects.get(username=username)


def prepare(units: dict[str, Unit], campaign: Campaign, setup: str) -> dict[str, int]:
    """A task in the situation ``setup`` names, moved there by the people whose job it is."""
    issuer, lead = person("city_head"), person("qilihe_head")
    kind = {
        "closed_rectification": TaskKind.RECTIFICATION,
        "rechecked": TaskKind.RECTIFICATION,
        "procedure": TaskKind.PROCEDURE,
    }.get(setup)
    steps = [StepSpec("公示", datetime.date(2018, 10, 31)), StepSpec("验收", datetime.date(2018, 11, 30))]
    task = task_create(
        actor=issuer,
        campaign=campaign,
        title="危房改造",
        issuing_unit=units["锦州市"],
        lead_unit=units["七里河镇"],
        cooperating_units=[units["市住建委"]],
        lead_leader=person("leader"),
        due_date=datetime.date(2018, 11, 30),
        kind=kind or TaskKind.TASK,
        steps=steps if kind == TaskKind.PROCEDURE else [],
        assign=setup != "draft",
    )
    ids = {"task": task.pk}

    def move(actor: User, name: str) -> None:
        task_transition(task_id=task.pk, actor=actor, name=name, comment="理由")

    if setup in ("draft", "assigned"):
        return ids
    if setup == "transfer_pending":
        ids["transfer"] = transfer_request_create(
            task_id=task.pk, actor=lead, to_unit=units["黑山县"], reason="属黑山县职责"
        ).pk
        return ids
    move(lead, "accept")
    if setup in ("submitted", "closed_rectification", "rechecked"):
        move(lead, "submit")
    if setup in ("closed_rectification", "rechecked"):
        move(issuer, "close")
    if setup == "rechecked":
        task_recheck_record(
            task_id=task.pk,
            actor=issuer,
            result="passed",
            files=[SimpleUploadedFile("photo.png", PNG, content_type="image/png")],
        )
        ids["recheck_attachment"] = RecheckAttachment.objects.get(obligation__task_id=task.pk).pk
    if setup == "suspended":
        move(issuer, "suspend")
    if setup == "scheduled":
        report_schedule_set(task_id=task.pk, actor=issuer, cadence="weekly", day=5)
    if setup == "procedure":
        ids["step"] = task.steps.get(order=1).pk
    if setup == "extension_pending":
        ids["extension"] = extension_request_create(
            task_id=task.pk, actor=lead, requested_due_date=datetime.date(2018, 12, 7), reason="雨季影响施工"
        ).pk
    if setup == "evidence":
        report = progress_report_create(
            task_id=task.pk,
            actor=lead,
            text="入户照片",
            files=[SimpleUploadedFile("photo.png", PNG, content_type="image/png")],
        )
        ids["attachment"] = report.attachments.get().pk
    return ids


def build() -> Matrix:
    """The conftest's tree and people, this module's additions, and one task per setup."""
    units = _tree()
    for name, kind, parent in UNITS:
        units[name] = unit_create(name=name, kind=kind, parent=units[parent])
    people = [*WORLD_PEOPLE, *((username, username, unit, role) for username, unit, role in PEOPLE)]
    for username, full_name, unit, role in people:
        user = user_create(username=username, full_name=full_name, password=PASSWORD)
        if unit:
            membership_create(user=user, unit=units[unit], role=role)
    admin = user_create(username="admin", full_name="系统管理员", password=PASSWORD, is_staff=True)
    User.objects.filter(pk=admin.pk).update(is_superuser=True)
    campaign = Campaign.objects.create(
        name='精准脱贫"百日攻坚行动"',
        short_name="百日攻坚",
        issuing_unit=units["锦州市"],
        starts_on=datetime.date(2018, 9, 1),
        ends_on=datetime.date(2018, 12, 10),
    )
    setups = sorted({endpoint.setup for endpoint in ENDPOINTS.values()})
    return Matrix(units=units, ids={setup: prepare(units, campaign, setup) for setup in setups})


@pytest.fixture(scope="module")
def matrix(django_db_setup, django_db_blocker, tmp_path_factory):
    """The world, built once for the module's cells inside a transaction that is rolled
    back at the end; each cell runs in a savepoint of its own, so no cell sees another's
    writes. Building it for every cell would take minutes."""
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")),
        transaction.atomic(),
    ):
        try:
            with time_machine.travel(NOW, tick=False):
                built = build()
            yield built
        finally:
            transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def default_language():
    yield
    # LocaleMiddleware leaves the last request's language active in the thread.
    translation.deactivate()


def snapshot(task_pk: int) -> dict:
    """Everything a write to the task could change."""
    task = Task.objects.get(pk=task_pk)
    return {
        "task": (task.state, task.title, task.due_date, task.reopen_count, task.updated_at),
        "lead_unit": task.lead_unit_id,
        "history": TaskEvent.objects.filter(task_id=task_pk).count(),
        "children": Task.objects.filter(parent_id=task_pk).count(),
        "reports": ProgressReport.objects.filter(task_id=task_pk).count(),
        "extensions": sorted(ExtensionRequest.objects.filter(task_id=task_pk).values_list("pk", "state")),
        "steps": ProcedureStep.objects.filter(task_id=task_pk, done_at__isnull=False).count(),
        "escalations": Escalation.objects.filter(task_id=task_pk).count(),
        "obligations": sorted(
            Obligation.objects.filter(task_id=task_pk).values_list("pk", "met_at", "result")
        ),
        "transfers": sorted(TransferRequest.objects.filter(task_id=task_pk).values_list("pk", "state")),
        "schedule": list(ReportSchedule.objects.filter(task_id=task_pk).values_list("cadence", "day")),
    }


def test_the_tables_hold_every_cell_once():
    assert set(EXPECTED) == {(endpoint, caller) for endpoint in ENDPOINTS for caller in CALLERS}
    assert len(CELLS) == len(EXPECTED) == CELL_COUNT
    for (endpoint, _caller), status in EXPECTED.items():
        assert status in (ENDPOINTS[endpoint].success, *ERROR_CODES), (endpoint, status)


@pytest.mark.parametrize(("endpoint", "caller", "expected"), CELLS)
def test_cell(matrix, endpoint, caller, expected):
    spec = ENDPOINTS[endpoint]
    ids = matrix.ids[spec.setup]
    before = snapshot(ids["task"])
    client = APIClient()
    username = CALLERS[caller]
    client.force_authenticate(user=person(username) if username else None)
    path = spec.path.format(**ids)
    if spec.writes:
        response = getattr(client, spec.method)(path, spec.payload(matrix.units), format="json")
    else:
        response = client.get(path)

    assert response.status_code == expected, getattr(response, "content", response)
    if expected in ERROR_CODES:
        assert response.json()["code"] == ERROR_CODES[expected]
    elif endpoint in ("download", "recheck_files"):
        assert b"".join(response.streaming_content) == PNG
    elif endpoint == "transitions":
        # The listing offers exactly what the caller's line allows among the moves open
        # to a task in progress.
        allowed = [name for name in ("submit", "suspend", "cancel") if EXPECTED[name, caller] == 200]
        assert response.json() == {"state": "in_progress", "transitions": allowed}
    if spec.writes:
        after = snapshot(ids["task"])
        if expected == spec.success:
            assert after != before
        else:
            assert after == before
