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
from django.utils import translation
from weasyprint import HTML
from weasyprint.urls import URLFetcher

logger = logging.getLogger(__name__)

STATIC_ROOT = Path(__file__).resolve().parent / "static" / "bulletins"
# WenQuanYi Micro Hei (TrueType, Debian's fonts-wqy-microhei): a bulletin embeds a subset
# of thousands of glyphs, and WeasyPrint subsets TrueType outlines far faster than the CFF
# outlines of Noto Serif CJK (bench/FIXES.md).
FONT_FAMILY = "WenQuanYi Micro Hei"


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
        "font_family": FONT_FAMILY,
        "main_recipients": list(bulletin.main_recipients.all()),
        "copy_to": list(bulletin.copy_to.all()),
        "chart": bar_chart(figures.get("ranking", [])),
        "indicator_blocks": [
            ("一票否决指标未达标", figures["veto_not_met"]),
            ("指标进度滞后", figures["targets_behind"]),
        ],
    }
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string("bulletins/bulletin.html", context)


def render_pdf(html: str) -> tuple[bytes, list[str]]:
    """The PDF bytes, and the URLs the fetcher refused."""
    fetcher = ProjectStaticFetcher()
    pdf = HTML(string=html, base_url=STATIC_ROOT.as_uri() + "/", url_fetcher=fetcher).write_pdf()
    return pdf, fetcher.refused


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bar_chart(ranking: list[dict], width: int = 600, bar_height: int = 16) -> dict:
    """Geometry of a horizontal bar chart of on-time rates, drawn as inline SVG."""
    label_width = 130
    scale = (width - label_width - 50) / 100
    bars = [
        {
            "y": index * (bar_height + 6),
            "label": row["unit"],
            "rate": row["on_time_rate"],
            "length": round((row["on_time_rate"] or 0) * scale, 1),
        }
        for index, row in enumerate(ranking)
    ]
    return {
        "width": width,
        "height": max(len(bars) * (bar_height + 6), bar_height),
        "label_width": label_width,
        "bar_height": bar_height,
        "bars": bars,
    }
