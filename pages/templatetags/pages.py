"""How the pages word what the rules decide: lights by word as well as colour, working
days left or overdue, the rung reached, an action's name."""

from django import template
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tasks.models import TRANSITIONS
from tasks.rungs import level_of_rank

register = template.Library()

LIGHT_WORDS = {"red": _("红灯·逾期"), "yellow": _("黄灯·临期"), "green": _("绿灯·正常")}
ACTION_WORDS = {
    **{name: transition.label for name, transition in TRANSITIONS.items()},
    "report": _("报送进展"),
    "complete_step": _("完成步骤"),
    "request_extension": _("申请延期"),
    "decide_extension": _("审批延期"),
    "request_transfer": _("申请转办"),
    "decide_transfer": _("审批转办"),
    "decompose": _("分解"),
    "recheck": _("回头看复查"),
}


@register.filter
def light_word(light: str | None) -> str:
    return LIGHT_WORDS.get(light, _("无灯（未在办）")) if light else _("无灯（未在办）")


@register.filter
def working_days_word(days: int) -> str:
    if days > 0:
        return ngettext("剩 %(n)d 个工作日", "剩 %(n)d 个工作日", days) % {"n": days}
    if days == 0:
        return _("今天到期")
    return ngettext("已逾期 %(n)d 个工作日", "已逾期 %(n)d 个工作日", -days) % {"n": -days}


@register.filter
def rung_word(rank: int | None) -> str:
    level = level_of_rank(rank)
    return level.label if level else _("未督办")


@register.filter
def action_word(name: str) -> str:
    return ACTION_WORDS.get(name, name)


@register.filter
def is_image(attachment) -> bool:
    return attachment.content_type.startswith("image/")


@register.filter
def light_of(clock, task) -> str | None:
    return clock.light(task)


@register.filter
def working_days_of(clock, task) -> int:
    return clock.working_days(task)


@register.filter
def plain_number(value) -> str:
    """A stored decimal as people write it: 12, 2.5, 30 (never 3E+1 nor 12.0000)."""
    return f"{value.normalize():f}" if value is not None else ""


@register.filter
def percent(rate: float) -> str:
    return f"{rate:.0%}"


@register.filter
def mul4(width: float) -> int:
    """A bar's length in the chart: 100 % is 400 units wide."""
    return round(width * 4)
