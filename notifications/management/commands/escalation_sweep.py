import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from notifications.services import sweep_run
from outbox.models import MessageState
from tasks.lateness import today as local_today


class _Rehearsal(Exception):
    """Raised inside the transaction of a rehearsed sweep so that nothing it wrote stays."""


class Command(BaseCommand):
    help = (
        "Run the escalation sweep now: record what is due, compose the digests, send them. "
        "Exits with status 1 when a campaign was left out or a message was not delivered."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", type=datetime.date.fromisoformat, help="Sweep as of this day (YYYY-MM-DD)."
        )
        parser.add_argument("--no-send", action="store_true", help="Store the messages without sending.")
        parser.add_argument(
            "--future",
            action="store_true",
            help="Allow a --date after today. The sweep is then rehearsed and rolled back: "
            "nothing is recorded, stored or sent unless --send is given too.",
        )
        parser.add_argument(
            "--send",
            action="store_true",
            help="With --future: keep what the sweep records and send the messages for real.",
        )

    def handle(self, *args, date=None, no_send=False, future=False, send=False, **options):
        today = local_today()
        ahead = date is not None and date > today
        if ahead and not future:
            # Swept as of a later day, work not yet due reads as overdue, and real people
            # would be told so: a mistake to refuse unless it is plainly meant.
            raise CommandError(
                f"{date} is after today ({today}): the sweep would tell people that work not yet due "
                "is overdue. Add --future to rehearse it (nothing is kept or sent), "
                "and --send as well to record and send it for real."
            )
        if send and not ahead:
            raise CommandError("--send applies only to a later day (--future); today is always sent.")
        rehearsal = ahead and not send
        result = self._sweep(date, send=not no_send and not rehearsal, rehearsal=rehearsal)
        problems = result["problems"]
        undelivered = {state: n for state, n in result.get("sent", {}).items() if state != MessageState.SENT}
        lead = "rehearsal (rolled back, nothing kept or sent)" if rehearsal else f"sweep {result['sweep']}"
        self.stdout.write(
            f"{lead} as of {date or today}: {_count(result['recorded'], 'escalation')} recorded, "
            f"{_count(result['messages'], 'message')} composed, {_delivery(result)}."
        )
        for problem in problems:
            self.stderr.write(
                f"campaign {problem['campaign']} ({problem['name']}) left out: "
                f"rule {problem['rule']} ({problem['level']}): {problem['message']} [{problem['code']}]"
            )
        if problems or undelivered:
            reasons = []
            if problems:
                reasons.append(f"{_count(len(problems), 'campaign')} left out")
            if undelivered:
                reasons.append(f"{_count(sum(undelivered.values()), 'message')} not delivered")
            raise CommandError(f"the sweep finished with errors: {', '.join(reasons)}.")

    @staticmethod
    def _sweep(day: datetime.date | None, *, send: bool, rehearsal: bool) -> dict:
        if not rehearsal:
            return sweep_run(day=day, send=send)
        try:
            with transaction.atomic():
                result = sweep_run(day=day, send=False)
                raise _Rehearsal
        except _Rehearsal:
            return result


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _delivery(result: dict) -> str:
    if "sent" not in result:
        return "none sent"
    outcomes = result["sent"]
    if not outcomes:
        return "nothing was due to send"
    # Words by the state's value ("sent", "pending", "failed"), never the enum's repr.
    words = {MessageState.SENT: "sent", MessageState.PENDING: "left to retry", MessageState.FAILED: "failed"}
    return ", ".join(f"{count} {words.get(state, str(state))}" for state, count in sorted(outcomes.items()))
