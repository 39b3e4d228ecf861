"""The task page's 督办通知单: the notices listed with their PDF, the 回执 form the
receiving unit fills in, and the withdrawal form of the office that issued them. Who may
reply is ``bulletins.notice_services.may_reply``, who may withdraw ``may_issue``; the
forms only read the values."""

from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext_lazy as _

from bulletins.models import Notice
from bulletins.notice_selectors import notices_of_task
from bulletins.notice_services import may_issue, may_reply
from responsibility.selectors import Access
from tasks.models import Task

from .forms import IsoDateInput


class NoticeReplyForm(forms.Form):
    measures = forms.CharField(
        label=_("办理情况及措施"), max_length=10000, widget=forms.Textarea(attrs={"rows": 3})
    )
    reply_date = forms.DateField(label=_("完成或承诺完成日期"), widget=IsoDateInput())
    completed = forms.TypedChoiceField(
        label=_("办理结果"),
        choices=[("false", _("承诺于该日前完成")), ("true", _("已于该日完成"))],
        coerce=lambda value: value == "true",
        widget=forms.RadioSelect,
        initial="false",
    )
    signer = forms.CharField(label=_("签发人"), max_length=50)


class NoticeWithdrawForm(forms.Form):
    reason = forms.CharField(label=_("撤销理由"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


@dataclass
class NoticeRow:
    notice: Notice
    form: NoticeReplyForm | None
    withdraw_form: NoticeWithdrawForm | None = None


def notice_rows(
    access: Access,
    task: Task,
    refused: tuple[int, NoticeReplyForm] | None = None,
    refused_withdrawal: tuple[int, NoticeWithdrawForm] | None = None,
) -> list[NoticeRow]:
    """The task's notices, newest first, each with a 回执 form when the caller may return
    it and a withdrawal form when the caller may withdraw it; ``refused`` and
    ``refused_withdrawal`` are forms sent back with what the person typed."""
    rows = []
    for notice in notices_of_task(task):
        notice.task = task  # ``may_reply`` reads the item's lead unit: this very task
        form = withdraw_form = None
        open_ = not notice.is_replied and not notice.is_withdrawn
        if open_ and may_reply(access, notice):
            form = (
                refused[1] if refused and refused[0] == notice.pk else NoticeReplyForm(prefix=f"n{notice.pk}")
            )
        if open_ and may_issue(access, notice.office, task):
            withdraw_form = (
                refused_withdrawal[1]
                if refused_withdrawal and refused_withdrawal[0] == notice.pk
                else NoticeWithdrawForm(prefix=f"w{notice.pk}")
            )
        rows.append(NoticeRow(notice, form, withdraw_form))
    return rows
