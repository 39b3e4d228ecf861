"""The bulletin pages' forms. The units offered are those the jurisdiction rule lets the
issuer send or copy to (``responsibility.jurisdiction``); everything else a bulletin must
satisfy is checked by ``bulletins.services``."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from bulletins.models import BulletinKind
from responsibility import jurisdiction
from responsibility.models import Unit
from tasks.models import Campaign

from .forms import IsoDateInput

# An <input type="date"> takes ISO dates only, whatever the language shows elsewhere.
DATE = {"widget": IsoDateInput()}


def main_recipient_choices(issuer: Unit):
    """The units one level down from the issuer's level: the usual 主送."""
    return jurisdiction.units_one_level_down(issuer)


def copy_to_choices(issuer: Unit):
    """Of the units a bulletin may be copied to, those one level down and those above:
    a form cannot list a province's every village."""
    level = jurisdiction.level_path(issuer)
    return (
        Unit.objects.filter(jurisdiction.copy_to_q(issuer))
        .filter(Q(parent__path=level) | ~Q(path__startswith=level))
        .order_by("path")
    )


class BulletinForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=200)
    kind = forms.ChoiceField(label=_("类别"), choices=BulletinKind.choices, initial=BulletinKind.SUPERVISION)
    campaign = forms.ModelChoiceField(
        label=_("攻坚行动（可不选：统计全部任务）"), queryset=Campaign.objects.none(), required=False
    )
    period_start = forms.DateField(label=_("统计起始日"), **DATE)
    period_end = forms.DateField(label=_("统计截止日"), **DATE)
    issued_on = forms.DateField(label=_("发文日期（不填为今天）"), required=False, **DATE)
    distribution_scope = forms.CharField(label=_("发送范围"), max_length=100, required=False)
    main_recipients = forms.ModelMultipleChoiceField(
        label=_("主送"), queryset=Unit.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    copy_to = forms.ModelMultipleChoiceField(
        label=_("抄送"), queryset=Unit.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    intro = forms.CharField(
        label=_("导语"), max_length=20000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    closing = forms.CharField(
        label=_("结语"), max_length=20000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, issuer: Unit, **kwargs):
        super().__init__(*args, **kwargs)
        self.issuer = issuer
        self.fields["campaign"].queryset = Campaign.objects.order_by("-starts_on", "pk")
        self.fields["main_recipients"].queryset = main_recipient_choices(issuer)
        self.fields["copy_to"].queryset = copy_to_choices(issuer)

    def changes(self) -> dict:
        """The cleaned values as the services take them; an empty date is left out, so the
        service's default (today) applies."""
        data = dict(self.cleaned_data)
        if data.get("issued_on") is None:
            data.pop("issued_on", None)
        data["main_recipients"] = list(data["main_recipients"])
        data["copy_to"] = list(data["copy_to"])
        return data


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("撤回理由"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2, "required": True})
    )
