"""Writes of the escalation ladder.

A sweep has three steps, each safe to repeat or to run twice at once:
1. record: for every rung, one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` per campaign
   and subtree puts the tasks that reached it into ``Escalation``; the unique constraint
   keeps each (task, level, due date) to one row;
2. compose: every escalation nobody has been told about yet becomes part of one digest
   per recipient, stored in the outbox in the same transaction that marks it told;
3. deliver: each stored message is claimed with a lease, sent over SMTP and marked sent.
"""

import datetime

from outbox.services import outbox_flush

from .digests import digest_compose
from .escalations import (
    escalation_record_issued,
    escalation_record_manual,
    escalations_withdraw,
    sweep_part_run,
    sweep_start,
)
from .ladder import escalation_rule_create, escalation_rule_delete, escalation_rule_update

__all__ = [
    "digest_compose",
    "escalation_record_issued",
    "escalation_record_manual",
    "escalations_withdraw",
    "escalation_rule_create",
    "escalation_rule_delete",
    "escalation_rule_update",
    "sweep_part_run",
    "sweep_run",
    "sweep_start",
]


def sweep_run(*, day: datetime.date | None = None, send: bool = True) -> dict:
    """The whole sweep in this process (the management command; tests)."""
    sweep = sweep_start(day=day)
    for part_id in sweep.parts.values_list("pk", flat=True):
        sweep_part_run(part_id=part_id)
    messages = digest_compose(today=sweep.day)
    sweep.refresh_from_db()
    result = {
        "sweep": sweep.pk,
        "recorded": sweep.escalations_recorded,
        "messages": len(messages),
        "problems": sweep.problems,
    }
    if send:
        result["sent"] = outbox_flush()
    return result
