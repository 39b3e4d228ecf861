"""Figure 3: a province bulletin against WeasyPrint rendering the same final HTML on its own.

The measured path is what publishing and the render job do together: the figures
(``bulletins.figures.bulletin_figures``), the HTML (``bulletins.render.bulletin_html``) and
the PDF (``bulletins.render.render_pdf``, with its restricted URL fetcher). The floor is
``weasyprint.HTML(string=html, base_url=<the stylesheet's folder>).write_pdf()`` on the
HTML the measured path produced.

The escalations the bulletin lists are recorded by a sweep inside the benchmark's
transaction, which is rolled back at the end. The figure is specified at 500 listed items:
the listed and the criticised items are cut at ``--items`` (250) each instead of the app's
60, and the other lists (indicators, repeated problems) keep the app's length
(``--other-items``). The same bulletin with every list at ``--items`` is measured too,
for information.
"""

import argparse
import datetime
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ratio_row, setup, vacuum, write_result  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--items", type=int, default=250, help="listed and criticised items, each")
    parser.add_argument("--other-items", type=int, default=60, help="indicators and repeated problems")
    args = parser.parse_args()
    setup()
    from django.db import connection, transaction
    from django.utils import timezone
    from weasyprint import HTML

    from bulletins import figures as content
    from bulletins.models import Bulletin
    from bulletins.render import STATIC_ROOT, bulletin_html, render_pdf
    from bulletins.services import bulletin_scope
    from notifications.services import sweep_part_run, sweep_start
    from responsibility.models import Role, Unit, User

    vacuum("notifications_escalation", "tasks_task", "tasks_indicator", "responsibility_unit")
    today = timezone.localdate()
    province = Unit.objects.get(depth=0)
    head = User.objects.get(memberships__unit=province, memberships__role=Role.HEAD)
    with transaction.atomic():
        sweep = sweep_start(day=today)
        for part_id in sweep.parts.values_list("pk", flat=True):
            sweep_part_run(part_id=part_id)
        # The planner should know of the escalations just recorded, as it would once the
        # sweep had committed and autovacuum had analyzed them; ANALYZE counts the rows
        # this transaction wrote.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE notifications_escalation")
        bulletin = Bulletin.objects.create(
            issuer=province,
            year=today.year,
            number=1,
            title="全省百日攻坚行动督查通报",
            period_start=today - datetime.timedelta(days=30),
            period_end=today,
            issued_on=today,
            created_by=head,
            intro="现将全省百日攻坚行动进展情况通报如下。",
            closing="请各地对照通报问题，立行立改。",
        )
        bulletin.main_recipients.set(Unit.objects.filter(kind="city"))

        def bulletin_pdf() -> tuple[dict, str, bytes, float]:
            """The figures, the HTML, the PDF, and how long the figures took of it."""
            started = time.perf_counter()
            figures = content.bulletin_figures(bulletin_scope(bulletin, as_of=today))
            figures_time = time.perf_counter() - started
            html = bulletin_html(bulletin, figures)
            pdf, _refused = render_pdf(html)
            return figures, html, pdf, figures_time

        def measure(listed_limit: int, item_limit: int) -> dict:
            content.LISTED_LIMIT, content.ITEM_LIMIT = listed_limit, item_limit
            floor_times, measured_times, figures_times = [], [], []
            figures, html, pdf, _ = bulletin_pdf()

            def floor_once() -> None:
                started = time.perf_counter()
                HTML(string=html, base_url=STATIC_ROOT.as_uri() + "/").write_pdf()
                floor_times.append(time.perf_counter() - started)

            def bulletin_once() -> None:
                # The same data make the same HTML every time: the floor renders the first.
                started = time.perf_counter()
                *_, figures_time = bulletin_pdf()
                measured_times.append(time.perf_counter() - started)
                figures_times.append(figures_time)

            # Floor first in even pairs, the bulletin first in odd ones: a machine that
            # slows down or speeds up during the run weighs on both sides alike.
            for pair in range(args.repeat):
                for run in (floor_once, bulletin_once) if pair % 2 == 0 else (bulletin_once, floor_once):
                    run()
            return {
                "floor_times": floor_times,
                "measured_times": measured_times,
                "figures_times": figures_times,
                "pdf_bytes": len(pdf),
                "pages": len(HTML(string=html, base_url=STATIC_ROOT.as_uri() + "/").render().pages),
                "ranked": len(figures["ranking"]),
                "listed": len(figures["listed"]["items"]) + len(figures["criticised"]["items"]),
            }

        shapes = {
            # The bulletin: the listed and criticised items at --items each, the
            # other lists at the app's own length.
            "issue": measure(args.items, args.other_items),
            # Every list at --items: a longer bulletin, shown for information.
            "long": measure(args.items, args.items),
        }
        transaction.set_rollback(True)
    rows = []
    for name, shape in shapes.items():
        floor, value = statistics.median(shape["floor_times"]), statistics.median(shape["measured_times"])
        label = f"{shape['ranked']} ranked, {shape['listed']} listed items, {shape['pages']} pages"
        if name == "issue":
            metric, goal, met = f"province bulletin: {label}", "≤ 1.25 × floor", value <= 1.25 * floor
        else:
            metric = f"province bulletin, every list at {args.items}: {label}"
            goal, met = "— (the goal is the row above)", None
        row = ratio_row(metric, value, floor, goal, met)
        # Each pair's floor and bulletin, and the figures' share of the bulletin's time.
        row["pairs"] = {
            "floor": [round(t, 2) for t in shape["floor_times"]],
            "bulletin": [round(t, 2) for t in shape["measured_times"]],
            "figures": [round(t, 2) for t in shape["figures_times"]],
        }
        rows.append(row)
    write_result("bulletin", rows, detail=shapes)
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
