"""The bulletin as a PDF: read back with poppler, and rendered without reaching anything
but the app's own stylesheet."""

import hashlib
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest
from django.core.files.storage import default_storage
from django.db import transaction
from django.test import override_settings

from bulletins import services
from bulletins.render import STATIC_ROOT, bulletin_html, render_pdf
from bulletins.services import bulletin_publish, bulletin_render
from demo.bulletin import demo_bulletin
from demo.services import demo_load
from notifications.services import escalation_record_manual, sweep_run
from tasks.rungs import Level

from .conftest import ISSUED_ON, on, poppler, squeezed

# Marked, so that these tests run with the database tests, before any transactional test
# has emptied the tables of their migrated rows (the escalation ladder, the holidays).
pytestmark = pytest.mark.django_db

CSS_URL = f"{STATIC_ROOT.as_uri()}/bulletin.css"


@dataclass(frozen=True)
class RenderedDemo:
    pdf: Path
    pdf_sha256: str
    title: str
    issue: str
    worst: list[str]
    listed: list[str]
    refused: list[str]


@pytest.fixture(scope="module")
def demo_pdf(django_db_setup, django_db_blocker, tmp_path_factory) -> RenderedDemo:
    """The demo's bulletin, published and rendered once for this module; the data are
    rolled back, the file and what the tests need of the figures stay."""
    folder = tmp_path_factory.mktemp("demo")
    refused: list[str] = []

    def recording(html: str) -> tuple[bytes, list[str]]:
        pdf, refused_urls = render_pdf(html)
        refused.extend(refused_urls)
        return pdf, refused_urls

    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=folder / "media"),
        mock.patch.object(services, "render_pdf", recording),
        transaction.atomic(),
    ):
        demo = demo_load()
        sweep_run(send=False)  # today's escalations: the listed items
        bulletin = bulletin_render(bulletin_id=demo_bulletin(demo.campaign).pk)
        pdf = folder / "bulletin.pdf"
        with default_storage.open(bulletin.pdf.name, "rb") as stored:
            pdf.write_bytes(stored.read())
        figures = bulletin.figures
        rendered = RenderedDemo(
            pdf=pdf,
            pdf_sha256=bulletin.pdf_sha256,
            title=bulletin.title,
            issue=f"{bulletin.year}年第{bulletin.number}期",
            worst=[row["unit"] for row in figures["worst"]],
            listed=[item["title"] for item in figures["listed"]["items"]],
            refused=refused,
        )
        transaction.set_rollback(True)
    return rendered


def test_the_demo_bulletin_prints_its_title_number_black_list_and_listed_items(demo_pdf):
    text = poppler("pdftotext", demo_pdf.pdf)
    flat = squeezed(text)

    assert squeezed(demo_pdf.title) in flat
    assert demo_pdf.issue.endswith("年第1期") and demo_pdf.issue in flat
    assert demo_pdf.worst and demo_pdf.listed
    black_list = flat[flat.index("黑榜：") :]
    assert black_list.startswith(f"黑榜：{demo_pdf.worst[0]}（逾期")
    listed = flat[flat.index("三、挂牌督办事项") : flat.index("四、通报批评事项")]
    assert all(squeezed(title) in listed for title in demo_pdf.listed)
    assert demo_pdf.refused == []


def columns(line: str, widths: list[int]) -> list[str]:
    cells, start = [], 0
    for width in widths:
        cells.append(line[start : start + width].strip())
        start += width + 1
    return cells


def test_the_demo_bulletin_embeds_its_chinese_font(demo_pdf):
    header, dashes, *lines = poppler("pdffonts", demo_pdf.pdf).splitlines()
    # Columns are as wide as the dashes under the header: the type has spaces in it.
    widths = [len(dash) for dash in dashes.split()]
    fonts = [dict(zip(columns(header, widths), columns(line, widths), strict=True)) for line in lines]

    # A red-header document's faces: the masthead and titles in Ming (Song), the body in
    # Kai, every one embedded (a subset), the page numbers in the margin too.
    names = {font["name"].split("+", 1)[-1] for font in fonts}
    assert any(name.startswith("AR-PL-UMing") or "UMing" in name for name in names), names
    assert any("UKai" in name for name in names), names
    assert fonts and all(font["emb"] == "yes" and font["sub"] == "yes" for font in fonts), fonts


def test_the_demo_bulletin_has_pages_and_its_recorded_checksum(demo_pdf):
    info = poppler("pdfinfo", demo_pdf.pdf)
    pages = int(re.search(r"^Pages:\s+(\d+)$", info, re.MULTILINE)[1])

    assert pages >= 1
    assert "A4" in info
    assert hashlib.sha256(demo_pdf.pdf.read_bytes()).hexdigest() == demo_pdf.pdf_sha256


def test_a_chart_of_units_all_at_zero_draws_no_bars_and_names_them_in_a_line(
    world, make_task, draft, tmp_path
):
    with on(ISSUED_ON.replace(month=10, day=15)):
        make_task("义县任务", due_date=ISSUED_ON.replace(month=11, day=20))
        make_task("黑山县任务", lead_unit="黑山县", due_date=ISSUED_ON.replace(month=11, day=20))
    with on(ISSUED_ON):
        bulletin = bulletin_publish(bulletin_id=draft.pk, actor=world.person("city_supervisor"))
    html = bulletin_html(bulletin, bulletin.figures)

    assert "<svg" not in html and "<rect" not in html
    pdf, _refused = render_pdf(html)
    (tmp_path / "zero.pdf").write_bytes(pdf)
    text = squeezed(poppler("pdftotext", tmp_path / "zero.pdf"))
    assert "按期完成率为0的单位（图中不画）：义县、黑山县。" in text
    assert "红榜" not in text


def test_a_split_target_is_printed_once_per_list_with_the_units_behind_it(
    world, split_target, draft, tmp_path
):
    with on(ISSUED_ON):
        bulletin = bulletin_publish(bulletin_id=draft.pk, actor=world.person("city_supervisor"))
    pdf, _refused = render_pdf(bulletin_html(bulletin, bulletin.figures))
    (tmp_path / "split.pdf").write_bytes(pdf)
    text = squeezed(poppler("pdftotext", tmp_path / "split.pdf"))

    listed = text[text.index("三、挂牌督办事项") : text.index("四、通报批评事项")]
    criticised = text[text.index("四、通报批评事项") : text.index("五、")]
    for block in (listed, criticised):
        assert block.count("危房改造") == 1, block
        assert "滞后单位：大榆树堡村、王家屯村" in block


def test_html_in_a_task_title_is_printed_as_text_and_fetches_nothing(world, make_task, draft, tmp_path):
    markup = '<b>危房</b><img src="file:///etc/passwd">'
    task = make_task(markup, lead_unit="芳山镇", due_date=ISSUED_ON.replace(month=11, day=20))
    with on(ISSUED_ON.replace(month=11, day=28)):
        escalation_record_manual(
            task_id=task.pk, actor=world.person("city_supervisor"), level=Level.LISTED, reason="逾期"
        )
    draft.intro = '<script>alert(1)</script><link rel="stylesheet" href="http://127.0.0.1:9/x.css">'
    draft.save()
    with on(ISSUED_ON):
        bulletin = bulletin_publish(bulletin_id=draft.pk, actor=world.person("city_supervisor"))

    pdf, refused = render_pdf(bulletin_html(bulletin, bulletin.figures))
    (tmp_path / "escaped.pdf").write_bytes(pdf)
    text = squeezed(poppler("pdftotext", tmp_path / "escaped.pdf"))

    assert refused == []
    assert squeezed(markup) in text
    assert squeezed(draft.intro) in text


@pytest.fixture
def listener():
    """A TCP port on localhost that nobody should connect to."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.setblocking(False)
        yield server


def connections(server: socket.socket) -> int:
    """How many connections reached the listener (the kernel queues them for accept)."""
    count = 0
    while True:
        try:
            client, _address = server.accept()
        except BlockingIOError:
            return count
        client.close()
        count += 1


def left_edge(pdf: Path, word: str) -> float:
    """Where the word begins on the page, in points from the left."""
    bbox = poppler("pdftotext", pdf, "-bbox")
    return float(re.search(rf'<word xMin="([\d.]+)"[^>]*>{word}</word>', bbox)[1])


def test_the_fetcher_takes_the_own_stylesheet_and_refuses_everything_else(listener, tmp_path):
    port = listener.getsockname()[1]
    bad = {
        "file:///etc/passwd",
        "http://127.0.0.1:9/x.css",
        "http://169.254.169.254/latest/meta-data/",
        f"http://127.0.0.1:{port}/pixel.png",
        # Relative to the static folder, but two levels above it.
        (STATIC_ROOT.parent.parent / "models.py").as_uri(),
    }
    html = f"""<!DOCTYPE html>
<html><head>
<link rel="stylesheet" href="bulletin.css">
<link rel="stylesheet" href="http://127.0.0.1:9/x.css">
</head>
<body style="margin: 0">
<p>督查</p>
<img src="file:///etc/passwd">
<div style="width: 10mm; height: 10mm; background: url(http://169.254.169.254/latest/meta-data/)"></div>
<img src="http://127.0.0.1:{port}/pixel.png">
<img src="../../models.py">
</body></html>"""

    pdf, refused = render_pdf(html)
    (tmp_path / "raw.pdf").write_bytes(pdf)

    assert set(refused) == bad
    assert CSS_URL not in refused
    assert connections(listener) == 0
    # The stylesheet's page margin is 24 mm (68 pt); WeasyPrint's own would be 75 px (56 pt).
    assert left_edge(tmp_path / "raw.pdf", "督查") == pytest.approx(24 / 25.4 * 72, abs=0.5)
