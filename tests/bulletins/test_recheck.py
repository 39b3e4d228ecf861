"""The bulletin's rectification figures include 回头看: the re-checks due in the period,
those passed, those failed (each reopening its item) and those missed; read back from the
PDF with pdftotext.

The city's campaign re-checks five working days after 销号. In November 2018 (the bulletin
issued on 3 December): one item re-checked and passed, one failed and reopened, one not
re-checked by its date, one not yet due."""

import datetime

import pytest

from bulletins.render import bulletin_html, render_pdf
from bulletins.services import bulletin_publish
from tasks.models import Campaign, TaskKind
from tasks.services import task_recheck_record

from .conftest import ISSUED_ON, on, poppler, squeezed

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def rechecked(world, make_task, act):
    Campaign.objects.filter(pk=world.campaign.pk).update(recheck_working_days=5)
    items = {}
    # Closed on these days: due five working days later (8, 12, 26 November, 5 December).
    for name, closed_on in [
        ("passed", D(2018, 11, 1)),
        ("failed", D(2018, 11, 5)),
        ("missed", D(2018, 11, 19)),
        ("later", D(2018, 11, 28)),
    ]:
        with on(closed_on - datetime.timedelta(days=10)):
            task = make_task(f"整改问题{name}", kind=TaskKind.RECTIFICATION, due_date=closed_on)
            act(task, "yi_member", "accept")
        with on(closed_on):
            act(task, "yi_member", "submit", "已整改")
            items[name] = act(task, "city_head", "close")
    with on(D(2018, 11, 7)):
        task_recheck_record(task_id=items["passed"].pk, actor=world.person("city_head"), result="passed")
    with on(D(2018, 11, 12)):
        task_recheck_record(
            task_id=items["failed"].pk,
            actor=world.person("city_head"),
            result="failed",
            notes="回头看发现问题反弹",
            due_date=D(2018, 12, 20),
        )
    return items


def test_the_bulletin_counts_and_prints_the_periods_rechecks(world, rechecked, draft, tmp_path):
    with on(ISSUED_ON):
        bulletin = bulletin_publish(bulletin_id=draft.pk, actor=world.person("city_supervisor"))
    figures = bulletin.figures["rectification"]
    assert figures["recheck"] == {"due": 3, "passed": 1, "failed": 1, "missed": 1}
    assert figures["reopened"] == 1
    assert [row["title"] for row in figures["repeated"]] == ["整改问题failed"]

    pdf, _refused = render_pdf(bulletin_html(bulletin, bulletin.figures))
    (tmp_path / "recheck.pdf").write_bytes(pdf)
    text = squeezed(poppler("pdftotext", tmp_path / "recheck.pdf"))
    section = text[text.index("六、问题整改情况") :]
    assert "屡改屡犯、重新整改的问题1个" in section
    assert "回头看复查：本期应复查3个，复查通过1个，复查未通过、重新整改1个；逾期未复查1个。" in section
