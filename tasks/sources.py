"""Which kind of source a text names: the words offices write in a 来源 cell or after
"问题来源：", read by the migration that moved free-text sources into ``TaskSource`` and by
whatever reads such a cell. The first kind whose word appears wins, in this order: a
"会议纪要" on a "批示" is still the leader's 批示."""

from .models import SourceKind

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
