"""Which kind of source a text names: the words offices write in a 来源 cell or after
"问题来源：", read by the migration that moved free-text sources into ``TaskSource`` and by
the importers' 来源 columns (``tasks.services.sources_for_texts``). The first kind whose word
appears wins, in this order: a "会议纪要" on a "批示" is still the leader's 批示."""

import re

from .models import SourceKind, TaskSource

KIND_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (SourceKind.INSTRUCTION, ("批示", "指示", "批办")),
    (SourceKind.MEETING, ("会议", "议定", "纪要", "常委会", "常务会")),
    (SourceKind.PUBLIC, ("群众", "信访", "举报", "投诉", "来信", "热线", "12345", "网民", "留言")),
    (
        SourceKind.INSPECTION,
        ("回头看", "暗访", "抽查", "督查", "评估", "检查", "核查", "排查", "巡查", "审计", "发现"),
    ),
    (SourceKind.HIGHER_LEVEL, ("交办", "巡视", "反馈", "考核", "转办", "上级")),
)
# The names of the kinds themselves, as a table may write them ("领导批示", "上级交办").
KIND_NAMES = {str(label): value for value, label in SourceKind.choices}


def kind_from_text(text: str) -> str | None:
    """The kind a 来源 text names, or None when it names none of them."""
    text = "".join((text or "").split())
    if not text:
        return None
    if text in KIND_NAMES:
        return KIND_NAMES[text]
    for kind, words in KIND_WORDS:
        if any(word in text for word in words):
            return kind
    return None


# A document number as offices print it: 锦市委办发〔2019〕12号, 国办发[2018]5号.
DOCUMENT_NUMBER = re.compile(r"[\u4e00-\u9fffA-Za-z]*[〔\[［(（]\s*\d{4}\s*[〕\]］)）]\s*\d+\s*号")
TITLE_LENGTH = TaskSource._meta.get_field("title").max_length


def document_number_in(text: str) -> str:
    """The first document number the text names, without whitespace, or ""."""
    match = DOCUMENT_NUMBER.search(text or "")
    return "".join(match.group(0).split()) if match else ""


def source_fields_from_text(text: str) -> dict | None:
    """What a 来源 cell says of a source: its kind (``kind_from_text``, else 其他), the
    document number it names, and the cell itself as the title, whitespace collapsed
    ("市委常委会议定（2018年第5次）" is a meeting's decision, titled so). None for an empty
    cell."""
    title = " ".join((text or "").split())
    if not title:
        return None
    return {
        "kind": kind_from_text(title) or SourceKind.OTHER,
        "document_number": document_number_in(title),
        "title": title[:TITLE_LENGTH],
    }


def source_text(source: TaskSource) -> str:
    """A source as one 来源 cell: its title with its number when the title lacks it, the
    number alone, or its kind. Read back by ``source_fields_from_text`` it names the same
    source (``source_matches_text``)."""
    title, number = source.title, source.document_number
    if title and number and number not in "".join(title.split()):
        return f"{title}（{number}）"
    return title or number or str(source.get_kind_display())


def source_matches_text(source: TaskSource, text: str) -> bool:
    """Whether a 来源 cell names ``source``: the same document number, or the same words as
    the source is written out (whitespace aside)."""
    fields = source_fields_from_text(text)
    if fields is None:
        return False
    if fields["document_number"] and source.document_number:
        return fields["document_number"] == "".join(source.document_number.split())
    return "".join(fields["title"].split()) == "".join(source_text(source).split())
