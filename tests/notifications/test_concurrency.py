"""Sweeps and composers of the same day at once, each in its own thread with its own
connection: every rung is recorded once and every escalation is told once."""

from collections import Counter, defaultdict

import pytest

from notifications import services
from notifications.models import Escalation, Sweep
from outbox.models import OutboundMessage
from tests.helpers import RACES_NEED_POSTGRES, race

from .conftest import SWEEP_DAY

pytestmark = RACES_NEED_POSTGRES

ROUNDS = 5


@pytest.fixture
def composes(transactional_db, django_db_serialized_rollback, overdue_tasks, monkeypatch) -> list[set[int]]:
    """The ids of the messages of each call of ``digest_compose``, in the order they ended."""
    calls: list[set[int]] = []
    compose = services.digest_compose

    def recorded(**kwargs):
        messages = compose(**kwargs)
        calls.append({message.pk for message in messages})
        return messages

    monkeypatch.setattr(services, "digest_compose", recorded)
    return calls


def start_afresh(composes: list[set[int]]) -> None:
    OutboundMessage.objects.all().delete()
    Escalation.objects.all().delete()
    Sweep.objects.all().delete()
    composes.clear()


def assert_each_rung_recorded_and_told_once(composes: list[set[int]]) -> None:
    # Reminder and overdue of each of the four tasks, once, counted by exactly one sweep.
    recorded = Counter(Escalation.objects.values_list("task_id", "level"))
    assert len(recorded) == 8 and set(recorded.values()) == {1}
    assert sum(Sweep.objects.values_list("escalations_recorded", flat=True)) == 8
    assert not Escalation.objects.filter(notified_at__isnull=True).exists()

    compose_of = {pk: number for number, pks in enumerate(composes) for pk in pks}
    assert len(compose_of) == sum(len(pks) for pks in composes) == OutboundMessage.objects.count()
    links = Escalation.messages.through.objects.values_list(
        "escalation_id", "outboundmessage_id", "outboundmessage__to_address"
    )
    composed_in: dict[int, set[int]] = defaultdict(set)
    told: Counter = Counter()
    for escalation_id, message_id, address in links:
        composed_in[escalation_id].add(compose_of[message_id])
        told[address, escalation_id] += 1
    assert set(composed_in) == set(Escalation.objects.values_list("pk", flat=True))
    assert all(len(numbers) == 1 for numbers in composed_in.values()), composed_in
    assert set(told.values()) == {1}


def test_two_sweeps_at_once_record_each_rung_once_and_compose_each_escalation_once(composes):
    for _round in range(ROUNDS):
        start_afresh(composes)
        sweep = lambda: services.sweep_run(day=SWEEP_DAY, send=False)  # noqa: E731
        race(sweep, sweep)
        assert_each_rung_recorded_and_told_once(composes)


def test_two_sweeps_whose_parts_are_taken_in_opposite_orders(composes):
    """As on workers, where parts of two sweeps come in any order and the last part of each
    sweep composes."""

    def sweep_parts(step: int) -> None:
        sweep = services.sweep_start(day=SWEEP_DAY)
        for part_id in list(sweep.parts.order_by("pk").values_list("pk", flat=True))[::step]:
            if services.sweep_part_run(part_id=part_id):
                services.digest_compose(today=SWEEP_DAY)

    for _round in range(ROUNDS):
        start_afresh(composes)
        race(lambda: sweep_parts(1), lambda: sweep_parts(-1))
        assert len(composes) == 2
        assert_each_rung_recorded_and_told_once(composes)


def test_two_composers_at_once_tell_each_escalation_once(composes):
    for _round in range(ROUNDS):
        start_afresh(composes)
        sweep = services.sweep_start(day=SWEEP_DAY)
        for part_id in sweep.parts.values_list("pk", flat=True):
            services.sweep_part_run(part_id=part_id)
        compose = lambda: services.digest_compose(today=SWEEP_DAY)  # noqa: E731
        race(compose, compose)
        assert_each_rung_recorded_and_told_once(composes)
