"""A bulletin as an official-looking PDF, rendered by WeasyPrint.

The HTML comes from a Django template, so every user-supplied text is escaped. The URL
fetcher reaches only this app's own static files: no file:// elsewhere, no network, so a
task title or an editor's text cannot make the renderer read a local file or call a host.
"""

import hashlib
import logging
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from weasyprint import HTML
from weasyprint.urls import URLFetcher

logger = logging.getLogger(__name__)

STATIC_ROOT = Path(__file__).resolve().parent / "static" / "bulletins"
# A red-header document (红头文件) sets its masthead and titles in a Song (Ming) face and its
# body in FangSong or Kai. Debian's AR PL UMing (Ming) and AR PL UKai (Kai) are TrueType,
# which WeasyPrint subsets far faster than the CFF outlines of Noto Serif CJK, and a
# bulletin embeds a subset of thousands of glyphs (bench/FIXES.md); Debian has no
# FangSong. WenQuanYi Micro Hei stands behind both for any glyph they lack.
TITLE_FONT = "AR PL UMing CN"
BODY_FONT = "AR PL UKai CN"
FALLBACK_FONT = "WenQuanYi Micro Hei"


class ProjectStaticFetcher(URLFetcher):
    """Fetches nothing but files inside this app's static folder; records what it refused."""

    def __init__(self, **kwargs):
        super().__init__(allowed_protocols={"file"}, allow_redirects=False, **kwargs)
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        path = Path(url.removeprefix("file://")).resolve() if url.startswith("file://") else None
        if path is None or not path.is_relative_to(STATIC_ROOT) or not path.is_file():
            self.refused.append(url)
            logger.warning("Bulletin rendering refused to fetch %s", url)
            raise ValueError(f"Refused to fetch {url}")
        return super().fetch(url, headers)


def bulletin_html(bulletin, figures: dict, *, base_href: str | None = None) -> str:
    """The bulletin as the PDF prints it. ``base_href`` is where a browser finds the
    stylesheet when the pages preview a draft (the renderer reads it from this app)."""
    context = {
        "base_href": base_href,
        "bulletin": bulletin,
        "figures": figures,
        "title_font": TITLE_FONT,
        "body_font": BODY_FONT,
        "fallback_font": FALLBACK_FONT,
        "main_recipients": list(bulletin.main_recipients.all()),
        "copy_to": list(bulletin.copy_to.all()),
        "rankings": rankings(figures),
        "indicator_blocks": [
            ("一票否决指标未达标", figures["veto_not_met"]),
            ("指标进度滞后", figures["targets_behind"]),
        ],
    }
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string("bulletins/bulletin.html", context)


# The colour of each urgency, as the three-colour slips print them (蓝色提示、黄色催办、红色挂牌):
# the band, the border and the urgency word. The yellow is dark enough to read on white.
NOTICE_COLOURS = {"prompt": "#1f5fbf", "urge": "#c99700", "listed": "#c00000"}


def notice_html(notice, *, base_href: str | None = None) -> str:
    """A 督办通知单 as the PDF prints it: the notice, a cut line, and the 回执 to return,
    blank, or once returned filled in with what the unit said, who sent it and when. A
    withdrawn notice carries a red 已撤销 box above it, with the day and the reason."""
    context = {
        "base_href": base_href,
        "notice": notice,
        "task": notice.task,
        "colour": NOTICE_COLOURS[notice.urgency],
        # When the 回执 came back, on the office's clock (Beijing time), whatever the
        # process's own time zone.
        "replied_at": timezone.localtime(notice.replied_at, timezone.get_default_timezone())
        if notice.replied_at
        else None,
        "withdrawn_at": timezone.localtime(notice.withdrawn_at, timezone.get_default_timezone())
        if notice.withdrawn_at
        else None,
        "title_font": TITLE_FONT,
        "body_font": BODY_FONT,
        "fallback_font": FALLBACK_FONT,
    }
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string("bulletins/notice.html", context)


def render_pdf(html: str) -> tuple[bytes, list[str]]:
    """The PDF bytes, and the URLs the fetcher refused."""
    fetcher = ProjectStaticFetcher()
    pdf = HTML(string=html, base_url=STATIC_ROOT.as_uri() + "/", url_fetcher=fetcher).write_pdf()
    return pdf, fetcher.refused


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


GROUP_NUMBERS = "一二三四五"
GROUP_LABELS = {"department": "部门", "county": "县(市)区", "township": "乡镇", "village": "村"}


def rankings(figures: dict) -> list[dict]:
    """The ranking tables to print, like with like: the places one level down, then the
    departments (figures frozen before departments were ranked apart have the first only).
    A group with no row is left out unless it is the only one."""
    groups = [(figures.get("ranking", []), figures.get("best", []), figures.get("worst", []))]
    departments = figures.get("departments")
    if departments and departments["ranking"]:
        groups.append((departments["ranking"], departments["best"], departments["worst"]))
    if len(groups) > 1 and not groups[0][0]:
        groups.pop(0)
    printed = []
    for number, (rows, best, worst) in zip(GROUP_NUMBERS, groups, strict=False):
        kind = rows[0]["kind"] if rows else ""
        label = GROUP_LABELS.get(kind, "地区")
        printed.append(
            {
                "heading": f"（{number}）{label}",
                "rows": rows,
                "best": best,
                "worst": worst,
                "chart": bar_chart(rows),
            }
        )
    return printed


def bar_chart(ranking: list[dict], width: int = 600, bar_height: int = 16) -> dict:
    """Geometry of a horizontal bar chart of on-time rates, drawn as inline SVG.

    Only units with a rate above 0 get a bar: a row of 0 % would be a label with nothing
    beside it. Those units are named in one line under the chart instead (``zero``), and
    when no unit has a rate above 0 there is no chart, only that line."""
    label_width = 130
    scale = (width - label_width - 50) / 100
    drawn = [row for row in ranking if row["on_time_rate"]]
    bars = [
        {
            "y": index * (bar_height + 6),
            "label": row["unit"],
            "rate": row["on_time_rate"],
            "length": round(row["on_time_rate"] * scale, 1),
        }
        for index, row in enumerate(drawn)
    ]
    return {
        "width": width,
        "height": max(len(bars) * (bar_height + 6), bar_height),
        "label_width": label_width,
        "bar_height": bar_height,
        "bars": bars,
        "zero": [row["unit"] for row in ranking if not row["on_time_rate"]],
    }
