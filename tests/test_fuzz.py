"""Every operation of the OpenAPI schema, fuzzed with schemathesis as each kind of caller.

The schema is read from the app itself (``/api/schema/`` through WSGI, no server) and each
operation is called with generated valid and invalid input as a member (``yi_member``), a head
(``yi_head``), a supervisor (``city_supervisor``), a leader (``leader``) and an anonymous
caller, against the test database holding the shared world plus a task of each kind, a report
with evidence, an extension request, a bulletin and an escalation.

Every one of schemathesis' checks runs on every answer: no server error; a status code, content
type, headers and body the schema documents; input that breaks the schema refused
(``negative_data_rejection``); input that keeps it not refused as malformed
(``positive_data_acceptance``); a request without credentials refused (``ignored_auth``); the
operation's other methods refused with 405; and the stateful checks where they apply. One
setting is the API's and is written here: a request that keeps the schema may still be refused
with a 400 for a rule the schema cannot state (an id that names no row, a due date outside its
campaign, a wrong password, a holiday on a weekend), so ``positive_data_acceptance`` takes 400
beside its defaults. What the schema can state, it states: the characters every text refuses,
the minimum of every id and page, the empty value a one-choice filter accepts.

104 operations are fuzzed for each of the 5 callers (520 tests) with at most 15 generated
examples each (``MAX_EXAMPLES``), and once more (104 tests) with schemathesis' coverage phase as
the administrator: boundary values and each field's invalid shapes, some 6,000 requests that pass
every permission check and so reach validation and the services. About 11,000 requests in all,
three to four minutes on two cores. Generation is derandomized, so a run is repeatable; a path
parameter of a well-formed request that names an object is mostly pointed at one of the objects
that exist, so the fuzzing reaches the views rather than a 404.
"""

import datetime
from decimal import Decimal

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, settings

from bulletins.models import Bulletin, Notice
from bulletins.notice_services import notice_issue
from bulletins.services import bulletin_create
from notifications.models import EscalationRule
from notifications.services import escalation_record_manual
from outbox.channels import robot_create
from outbox.models import Robot
from responsibility.models import Membership, Unit, User
from responsibility.services import token_obtain
from tasks.models import (
    Attachment,
    CalendarDay,
    Campaign,
    ExtensionRequest,
    ProcedureStep,
    Responsibility,
    SourceKind,
    Task,
    TaskSource,
    TransferRequest,
)
from tasks.rungs import Level
from tasks.services import (
    IndicatorSpec,
    StepSpec,
    extension_request_create,
    progress_report_create,
    source_create,
    task_transition,
    transfer_request_create,
)
from tests.conftest import build_world, task_maker

OPERATIONS = 104
MAX_EXAMPLES = 15
ROLES = {
    "member": "yi_member",
    "head": "yi_head",
    "supervisor": "city_supervisor",
    "leader": "leader",
    "anonymous": None,
}
# Schemathesis' default statuses for valid input, and the 400 of a rule the schema cannot state.
POSITIVE_STATUSES = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    # One world per test, shared by its examples; slow data generation is expected.
    suppress_health_check=list(HealthCheck),
)


def load_schema(**phases: bool):
    config = schemathesis.Config.from_dict(
        {
            "phases": {name: {"enabled": enabled} for name, enabled in phases.items()},
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
            "checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES}},
        }
    )
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=config)


# Generated input, valid and invalid, as each kind of caller.
fuzzing = load_schema(examples=True, fuzzing=True, coverage=False, stateful=False)
# Boundary values and every field's invalid shapes once, as the administrator whose calls pass
# every permission check and so reach validation and the services.
coverage = load_schema(examples=False, fuzzing=False, coverage=True, stateful=False)

# Which objects a path parameter names, by the path's first segment.
MODELS = {
    "attachments": Attachment,
    "bulletins": Bulletin,
    "calendar-days": CalendarDay,
    "campaigns": Campaign,
    "escalation-rules": EscalationRule,
    "extensions": ExtensionRequest,
    "memberships": Membership,
    "notices": Notice,
    "people": User,
    "responsibilities": Responsibility,
    "robots": Robot,
    "sources": TaskSource,
    "tasks": Task,
    "transfers": TransferRequest,
    "units": Unit,
}


def count_operations(document: dict) -> int:
    methods = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
    return sum(1 for operations in document["paths"].values() for method in operations if method in methods)


@pytest.fixture
def in_the_test_transaction():
    """Requests through the WSGI handler would close the database connection when they end,
    and with it the test's transaction; Django's own test client keeps it open the same way."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def build_fuzz_world() -> dict[str, list[int]]:
    """The world with one object at least of every kind a path can name; the ids of each kind."""
    world = build_world()
    make_task = task_maker(world)
    target_task = make_task(
        "农村危房改造",
        kind="target",
        indicators=[IndicatorSpec(name="危房改造", target=Decimal(1888), unit_of_measure="户")],
    )
    procedure = make_task(
        "建档立卡数据核查",
        kind="procedure",
        steps=[
            StepSpec("入户核查", datetime.date(2018, 10, 31)),
            StepSpec("公示", datetime.date(2018, 11, 20)),
        ],
    )
    make_task("义县饮水安全工程", lead_unit="义县", assign=False)
    solar = make_task("光伏扶贫", lead_leader=world.person("leader"))
    transfer_request_create(
        task_id=solar.pk, actor=world.person("yi_member"), to_unit=world.unit("黑山县"), reason="属黑山县。"
    )
    source_create(
        actor=world.person("city_supervisor"),
        registered_by=world.unit("市委督查室"),
        kind=SourceKind.INSTRUCTION,
        document_number="锦市委办发〔2018〕12号",
        title="关于中省考核反馈问题整改的批示",
    )
    task_transition(task_id=target_task.pk, actor=world.person("yi_head"), name="accept")
    progress_report_create(
        task_id=target_task.pk,
        actor=world.person("yi_member"),
        text="已完成入户核查。",
        figures={target_task.indicators.get().pk: Decimal(120)},
        files=[SimpleUploadedFile("核查表.pdf", b"%PDF-1.4\n", content_type="application/pdf")],
    )
    extension_request_create(
        task_id=procedure.pk,
        actor=world.person("yi_member"),
        requested_due_date=datetime.date(2018, 12, 5),
        reason="汛期道路中断。",
    )
    escalation_record_manual(
        task_id=target_task.pk, actor=world.person("city_supervisor"), level=Level.LISTED, reason="进度滞后。"
    )
    bulletin_create(
        actor=world.person("city_supervisor"),
        issuer=world.unit("市委督查室"),
        title="百日攻坚第一期通报",
        period_start=datetime.date(2018, 9, 1),
        period_end=datetime.date(2018, 9, 30),
    )
    notice_issue(
        actor=world.person("city_supervisor"),
        task_id=target_task.pk,
        urgency="urge",
        request="请于三日内报送整改措施。",
        reply_by=timezone.localdate() + datetime.timedelta(days=3),
    )
    CalendarDay.objects.create(date=datetime.date(2018, 10, 8), kind="holiday", name="国庆节")
    Responsibility.objects.create(campaign=world.campaign, code="1", name="主体责任")
    robot_create(
        actor=world.person("yi_head"),
        unit=world.unit("义县"),
        kind="wecom",
        name="义县督办群",
        webhook="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=fuzz",
    )
    return {
        segment: list(model.objects.order_by("pk").values_list("pk", flat=True))
        for segment, model in {**MODELS, "steps": ProcedureStep}.items()
    }


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The objects, built once for the module inside a transaction that is rolled back at the
    end; each test runs in a savepoint of its own and so starts from them as they were built,
    its examples sharing what it writes. The fuzzing's time goes to requests, not to building
    the same rows again for each of its 430 tests."""
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")),
        transaction.atomic(),
    ):
        try:
            yield build_fuzz_world()
        finally:
            transaction.set_rollback(True)


def point_at_existing_objects(case, ids: dict[str, list[int]]) -> None:
    """Three generated ids in four become the id of an object that exists; the coverage phase
    generates them as strings. A request meant to break the schema keeps its ids: one of
    them may be what breaks it (an id of 0)."""
    if case.meta is not None and case.meta.generation.mode.is_negative:
        return
    segment = case.path.split("/")[3]
    for name, value in list((case.path_parameters or {}).items()):
        pool = ids["steps"] if name == "step_pk" else ids.get(segment)
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if pool and isinstance(value, int) and not isinstance(value, bool) and value % 4 != 3:
            case.path_parameters[name] = pool[value % len(pool)]


def call_as(case, username: str | None) -> None:
    headers = {}
    if username:
        token = token_obtain(user=User.objects.get(username=username))
        headers["Authorization"] = f"Token {token.key}"
    case.call_and_validate(headers=headers)


def test_every_operation_is_fuzzed(client):
    document = client.get("/api/schema/", {"format": "json"}).json()
    assert count_operations(document) == OPERATIONS
    for schema in (fuzzing, coverage):
        assert count_operations(schema.raw_schema) == OPERATIONS
        loaded = [result.ok() for result in schema.get_all_operations()]
        assert len(loaded) == OPERATIONS


@pytest.mark.parametrize("role", list(ROLES))
@fuzzing.parametrize()
@HYPOTHESIS
def test_the_api_answers_as_documented(case, role, fuzz_world, db, in_the_test_transaction):
    point_at_existing_objects(case, fuzz_world)
    call_as(case, ROLES[role])


@coverage.parametrize()
@HYPOTHESIS
def test_boundaries_and_invalid_shapes_are_answered_as_documented(
    case, fuzz_world, db, in_the_test_transaction
):
    point_at_existing_objects(case, fuzz_world)
    call_as(case, "admin")
