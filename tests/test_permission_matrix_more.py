"""The permission matrix, continued: the directory, the ladder, the calendar, bulletins,
manual escalations, the outbox, signing out and 督办通知单, against the same 31 callers.

The world is the one of tests/test_permission_matrix.py (its tree, people, callers and
tasks), built once for the module, plus what these actions need: 七里河镇's head 郑镇长
(``qilihe_head``, the head of the task's lead unit) gets an e-mail address and a phone
number, the city campaign gets a ladder of its own, and one escalation of the task in
progress (挂牌督办, recorded by 市委督查室) has been composed into digests in the outbox.

One table, one line per caller and one column per action; every cell is a test. The
answers follow the written rules (README.md, "Who may do what" and "Escalation";
responsibility/jurisdiction.py; notifications/services/ladder.py;
responsibility/selectors.py), not the code:

- ``people``: ``GET /people/{qilihe_head}/``: 200 when 七里河镇 is within the caller's reach
  in the directory (a subtree of a unit they are member or head of, or the level their
  office supervises, or a unit above one of those), else 404. A leader's membership gives
  no reach, as it gives no sight of tasks;
- ``contact``: the same request, read for the e-mail: ``200`` the e-mail and phone are shown
  (to the person, colleagues of 七里河镇, an office supervising 七里河镇, administrators),
  ``204`` a pseudo-code: the answer is a 200 without them, ``404`` as ``people``;
- ``outbox``: ``GET /outbox/``: ``200`` the list holds a digest about the task (one addressed
  to the caller, or, for a supervision office, one about tasks it all sees; administrators
  see all), ``204`` a pseudo-code: the list answers 200 without any of them;
- ``rule``: ``PATCH`` a rule of the city campaign's own ladder: the supervision office of the
  level that issued the campaign (市委督查室) and administrators; the heads of the level
  are refused (``403 not_your_ladder``);
- ``default_rule``: ``PATCH`` a default rule (no campaign): administrators only;
- ``calendar``: ``POST /calendar-days/`` a holiday on a weekday: administrators only;
- ``bulletin``: ``POST /bulletins/`` as 市委督查室 to 义县: its supervisors and heads, and
  administrators (``403 not_a_bulletin_issuer`` else);
- ``escalate``: ``POST /tasks/{id}/escalations/`` a 约谈 naming ``qilihe_head``: an office
  supervising the lead or the issuing unit, and administrators; 404 for a caller who does not
  see the task. Whom it names follows jurisdiction: the people of the task's units and the
  heads above them, within the level the office supervises, so 七里河镇督查室 records a talk
  with 七里河镇's head as the township's leadership holds it;
- ``logout``: ``POST /auth/logout/``: 204 for anyone signed in;
- ``notice``: ``POST /notices/`` a 督办通知单 about the task, the office left to the default:
  as ``escalate``, an office supervising the lead or the issuing unit (its supervisors or
  head; the nearest such office of the caller's issues it) and administrators (the nearest
  office over the task), ``403 not_a_notice_issuer`` for anyone else who sees the task, 404
  for a caller who does not;
- ``annul``: ``POST /notices/{id}/withdraw/`` (撤销) the notice 县委督查室 issued about the task:
  only who may issue for that office (its supervisor) and administrators; everyone else who
  sees the task is refused (``403 not_the_notice_issuer``), even an office that could issue
  a notice of its own, 404 for a caller who does not see it.

Every write runs in a savepoint of its own; a refused one must leave the ladder, its
history, the calendar, bulletins, escalations and tokens as they were, an allowed one must
change something. A cell where the code answers otherwise is marked ``xfail(strict=True)``
with the disagreement as its reason (``DISAGREEMENTS``).
"""

import datetime
from dataclasses import dataclass

import pytest
import time_machine
from django.db import transaction
from django.test import override_settings
from rest_framework.test import APIClient

from bulletins.models import Bulletin, Notice
from bulletins.notice_services import notice_issue
from notifications.models import Escalation, EscalationRule, LadderChange
from notifications.services import digest_compose, escalation_record_manual
from responsibility.models import ApiToken, Unit, User
from tasks.models import CalendarChange, CalendarDay, Task
from tests.test_permission_matrix import (
    CALLERS,
    ERROR_CODES,
    NOW,
    PEOPLE,
    UNITS,
    Matrix,
    build,
    clock,  # noqa: F401 (autouse)
    default_language,  # noqa: F401 (autouse)
    parse,
    person,
)

pytestmark = pytest.mark.django_db

# Pseudo-codes of the table: a 200 that hides the contact fields / the task's digests.
HIDDEN = 204

MORE = """
                        people contact outbox rule default_rule calendar bulletin escalate logout notice annul
issuing member          200    204     204    403  403          403      403      403      204    403    403
issuing head            200    204     200    403  403          403      403      403      204    403    403
issuing supervisor      200    200     200    200  403          403      201      201      204    201    403
issuing leader          404    404     204    403  403          403      403      404      204    404    404
above member            200    204     204    403  403          403      403      403      204    403    403
above head              200    204     204    403  403          403      403      403      204    403    403
above supervisor        200    200     200    403  403          403      403      201      204    201    200
above leader            404    404     204    403  403          403      403      404      204    404    404
own member              200    200     204    403  403          403      403      403      204    403    403
own head                200    200     200    403  403          403      403      403      204    403    403
own supervisor          200    200     200    403  403          403      403      201      204    201    403
own leader              404    404     204    403  403          403      403      404      204    404    404
below member            200    204     204    403  403          403      403      404      204    404    404
below head              200    204     204    403  403          403      403      404      204    404    404
below supervisor        200    204     204    403  403          403      403      404      204    404    404
below leader            404    404     204    403  403          403      403      404      204    404    404
sibling member          404    404     204    403  403          403      403      404      204    404    404
sibling head            404    404     204    403  403          403      403      404      204    404    404
sibling supervisor      404    404     204    403  403          403      403      404      204    404    404
sibling leader          404    404     204    403  403          403      403      404      204    404    404
unrelated member        404    404     204    403  403          403      403      404      204    404    404
unrelated head          404    404     204    403  403          403      403      404      204    404    404
unrelated supervisor    404    404     204    403  403          403      403      404      204    404    404
unrelated leader        404    404     204    403  403          403      403      404      204    404    404
cooperating member      404    404     204    403  403          403      403      403      204    403    403
cooperating head        404    404     204    403  403          403      403      403      204    403    403
cooperating supervisor  404    404     200    403  403          403      403      403      204    403    403
cooperating leader      404    404     204    403  403          403      403      404      204    404    404
anonymous               401    401     401    401  401          401      401      401      401    401    401
lead_leader             404    404     200    403  403          403      403      403      204    403    403
admin                   200    200     200    200  200          201      201      201      204    201    200
"""

EXPECTED = parse(MORE)
ACTIONS = MORE.strip("\n").splitlines()[0].split()
CELL_COUNT = 31 * 11

# Cells where the code answers otherwise than the written rule: (action, caller) -> why.
DISAGREEMENTS: dict[tuple[str, str], str] = {}

# The task the actions are about: the one in progress.
SETUP = "in_progress"
# The code of each action's 403, naming the rule applied.
REFUSAL_CODES: dict[str | tuple[str, str], str] = {
    "rule": "not_your_ladder",
    "default_rule": "not_your_ladder",
    "calendar": "calendar_admin_only",
    "bulletin": "not_a_bulletin_issuer",
    "notice": "not_a_notice_issuer",
    "annul": "not_the_notice_issuer",
}
CONTACT = {"email": "zheng@qilihe.example.cn", "phone": "0416-7123456"}
HOLIDAY = {"date": "2030-04-03", "kind": "holiday", "name": "清明节"}


@dataclass(frozen=True)
class Action:
    method: str
    path: str
    success: int
    payload: dict | None = None


@dataclass
class World:
    matrix: Matrix
    task: int
    head: int
    campaign_rule: int
    default_rule: int
    # The digests composed about the task's escalation.
    digests: frozenset[int]
    # The notice 县委督查室 issued about the task.
    notice: int


def action(name: str, world: World) -> Action:
    units = world.matrix.units
    rules = EscalationRule.objects.in_bulk([world.campaign_rule, world.default_rule])
    people = Action("get", f"/api/v1/people/{world.head}/", 200)
    return {
        "people": people,
        "contact": people,
        "outbox": Action("get", "/api/v1/outbox/?page_size=200", 200),
        "rule": Action(
            "patch",
            f"/api/v1/escalation-rules/{world.campaign_rule}/",
            200,
            {"offset_working_days": rules[world.campaign_rule].offset_working_days + 1},
        ),
        "default_rule": Action(
            "patch",
            f"/api/v1/escalation-rules/{world.default_rule}/",
            200,
            {"offset_working_days": rules[world.default_rule].offset_working_days + 1},
        ),
        "calendar": Action("post", "/api/v1/calendar-days/", 201, HOLIDAY),
        "bulletin": Action(
            "post",
            "/api/v1/bulletins/",
            201,
            {
                "issuer": units["市委督查室"].pk,
                "title": "百日攻坚第三季度督查通报",
                "period_start": "2018-09-01",
                "period_end": "2018-09-30",
                "main_recipients": [units["义县"].pk],
            },
        ),
        "escalate": Action(
            "post",
            f"/api/v1/tasks/{world.task}/escalations/",
            201,
            {"level": "admonishment", "reason": "进度严重滞后", "people": [world.head]},
        ),
        "logout": Action("post", "/api/v1/auth/logout/", 204),
        "notice": Action(
            "post",
            "/api/v1/notices/",
            201,
            {
                "task": world.task,
                "urgency": "urge",
                "request": "进度滞后，请报送整改措施",
                "reply_by": "2018-10-12",
            },
        ),
        "annul": Action(
            "post", f"/api/v1/notices/{world.notice}/withdraw/", 200, {"reason": "已并入市级督办"}
        ),
    }[name]


def extend(matrix: Matrix) -> World:
    """What this module's actions need beyond the task matrix's world."""
    task = Task.objects.select_related("campaign").get(pk=matrix.ids[SETUP]["task"])
    head = person("qilihe_head")
    User.objects.filter(pk=head.pk).update(**CONTACT)
    # The city campaign's own ladder: a copy of the default one.
    defaults = list(EscalationRule.objects.filter(campaign=None).order_by("pk"))
    assert defaults, "the default ladder is shipped by a migration"
    for rule in defaults:
        EscalationRule.objects.create(
            **{
                field.name: getattr(rule, field.name)
                for field in rule._meta.concrete_fields
                if field.name != "id"
            }
            | {"campaign": task.campaign}
        )
    escalation_record_manual(
        task_id=task.pk, actor=person("city_supervisor"), level="listed", reason="进度滞后"
    )
    digests = frozenset(message.pk for message in digest_compose())
    assert digests
    notice = notice_issue(
        actor=person("yi_supervisor"),
        task_id=task.pk,
        urgency="prompt",
        request="请报送进展",
        reply_by=NOW.date() + datetime.timedelta(days=4),
        office=Unit.objects.get(name="县委督查室"),
    )
    return World(
        matrix=matrix,
        task=task.pk,
        head=head.pk,
        campaign_rule=EscalationRule.objects.get(campaign=task.campaign, level="listed").pk,
        default_rule=EscalationRule.objects.get(campaign=None, level="listed").pk,
        digests=digests,
        notice=notice.pk,
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The task matrix's world and this module's additions, built once in a transaction
    rolled back at the end; each cell runs in a savepoint of its own."""
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")),
        transaction.atomic(),
    ):
        try:
            with time_machine.travel(NOW, tick=False):
                built = extend(build())
            yield built
        finally:
            transaction.set_rollback(True)


def snapshot(world: World) -> dict:
    """Everything a write of this table could change."""
    return {
        "rules": sorted(
            EscalationRule.objects.values_list("pk", "campaign_id", "level", "offset_working_days")
        ),
        "ladder_changes": LadderChange.objects.count(),
        "calendar": sorted(CalendarDay.objects.values_list("date", "kind", "name")),
        "calendar_changes": CalendarChange.objects.count(),
        "bulletins": sorted(Bulletin.objects.values_list("pk", "issuer_id", "number")),
        "escalations": Escalation.objects.filter(task_id=world.task).count(),
        "notices": sorted(Notice.objects.values_list("pk", "office_id", "number", "withdrawn_at")),
        "tokens": sorted(ApiToken.objects.values_list("user_id", flat=True)),
    }


def cell(name: str, caller: str) -> pytest.param:
    expected = EXPECTED[name, caller]
    reason = DISAGREEMENTS.get((name, caller))
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(name, caller, expected, id=f"{name}-{caller.replace(' ', '_')}", marks=marks)


CELLS = [cell(name, caller) for name in ACTIONS for caller in CALLERS]


def test_the_table_holds_every_cell_once():
    assert set(EXPECTED) == {(name, caller) for name in ACTIONS for caller in CALLERS}
    assert len(CELLS) == len(EXPECTED) == CELL_COUNT
    assert set(DISAGREEMENTS) <= set(EXPECTED)
    # The world is the task matrix's: its units and people are all there.
    assert len(UNITS) == 6 and len(PEOPLE) == 19


@pytest.mark.parametrize(("name", "caller", "expected"), CELLS)
def test_cell(world, name, caller, expected):
    username = CALLERS[caller]
    if name == "logout" and username:
        # A token to revoke, so that an allowed sign-out changes something.
        ApiToken.objects.get_or_create(user=person(username), defaults={"key": ApiToken.generate_key()})
    spec = action(name, world)
    before = snapshot(world)
    client = APIClient()
    client.force_authenticate(user=person(username) if username else None)
    if spec.method == "get":
        response = client.get(spec.path)
    else:
        response = getattr(client, spec.method)(spec.path, spec.payload, format="json")

    status = response.status_code
    if name == "contact" and status == 200:
        body = response.json()
        shown = body.get("email") == CONTACT["email"] and body.get("phone") == CONTACT["phone"]
        assert shown or not ({"email", "phone"} & set(body)), body
        status = 200 if shown else HIDDEN
    elif name == "outbox" and status == 200:
        listed = {message["id"] for message in response.json()["results"]}
        status = 200 if listed & world.digests else HIDDEN
    assert status == expected, getattr(response, "content", response)
    if expected in ERROR_CODES:
        code = ERROR_CODES[expected]
        if expected == 403:
            code = REFUSAL_CODES.get((name, caller), REFUSAL_CODES.get(name, code))
        assert response.json()["code"] == code
    if spec.method != "get":
        after = snapshot(world)
        if expected == spec.success:
            assert after != before
        else:
            assert after == before
