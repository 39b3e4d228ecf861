import datetime

from django.core.management.base import BaseCommand

from notifications.services import sweep_run


class Command(BaseCommand):
    help = "Run the escalation sweep now: record what is due, compose the digests, send them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", type=datetime.date.fromisoformat, help="Sweep as of this day (YYYY-MM-DD)."
        )
        parser.add_argument("--no-send", action="store_true", help="Store the messages without sending.")

    def handle(self, *args, date=None, no_send=False, **options):
        result = sweep_run(day=date, send=not no_send)
        self.stdout.write(
            f"sweep {result['sweep']}: {result['recorded']} escalations recorded, "
            f"{result['messages']} messages composed, sent: {result.get('sent', {})}"
        )
        for problem in result["problems"]:
            self.stderr.write(
                f"campaign {problem['campaign']} ({problem['name']}) left out: "
                f"rule {problem['rule']} ({problem['level']}): {problem['message']} [{problem['code']}]"
            )
