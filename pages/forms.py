"""The pages' forms: they read what a person typed into the values a service takes. What
is allowed is decided by the services; a form only refuses what is not a value at all."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from tasks.models import Indicator, RecheckResult, ReportCadence, ReportSchedule, SourceKind, TaskState
from tasks.transitions import TaskTransition

DECIMAL = {"max_digits": 16, "decimal_places": 4}


class IsoDateInput(forms.DateInput):
    """A browser's date field, filled in ISO form: the field shows nothing for a value in the
    language's own format (2026/12/04 under zh-hans)."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class TransitionForm(forms.Form):
    comment = forms.CharField(label=_("说明"), required=False, max_length=5000, widget=forms.Textarea)

    def __init__(self, *args, transition: TaskTransition, **kwargs):
        super().__init__(*args, **kwargs)
        self.transition = transition
        field = self.fields["comment"]
        field.label = _("理由") if transition.needs_comment else _("说明（可不填）")
        # Shown to the browser so it asks before sending; the service refuses it too.
        field.widget.attrs.update({"rows": 2, "required": transition.needs_comment or None})


class ReportForm(forms.Form):
    """A progress report: the text, a figure per leaf indicator, evidence files. The hidden
    key makes a re-sent form (a lost connection, a second tap) replay, not repeat."""

    text = forms.CharField(label=_("进展情况"), max_length=20000, widget=forms.Textarea(attrs={"rows": 3}))
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=255)

    def __init__(self, *args, indicators: list[Indicator], **kwargs):
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.indicators = indicators
        for indicator in indicators:
            self.fields[f"figure_{indicator.pk}"] = forms.DecimalField(
                label=f"{indicator.name}（{indicator.unit_of_measure or _('数值')}）",
                required=False,
                min_value=0,
                **DECIMAL,
                widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"}),
            )

    def figures(self) -> dict:
        return {
            indicator.pk: self.cleaned_data[f"figure_{indicator.pk}"]
            for indicator in self.indicators
            if self.cleaned_data.get(f"figure_{indicator.pk}") is not None
        }


class ExtensionForm(forms.Form):
    requested_due_date = forms.DateField(label=_("申请延期至"), widget=IsoDateInput())
    reason = forms.CharField(label=_("延期理由"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class RecheckForm(forms.Form):
    """回头看: what the office found; a failure needs what was found and the new date."""

    result = forms.ChoiceField(label=_("复查结果"), choices=RecheckResult.choices, widget=forms.RadioSelect)
    notes = forms.CharField(
        label=_("复查情况（未通过须填写）"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    due_date = forms.DateField(label=_("重新整改时限（未通过须填写）"), required=False, widget=IsoDateInput())


class ReportScheduleForm(forms.Form):
    """按期反馈: when the lead unit reports, as the API's PUT takes it; the service decides
    which day a cadence needs."""

    cadence = forms.ChoiceField(label=_("报送周期"), choices=ReportCadence.choices)
    day = forms.IntegerField(
        label=_("报送日（每月几日；每季度最后一个月几日，季度末可不填；每周填星期几，1 为周一）"),
        required=False,
        min_value=1,
        max_value=31,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    once_on = forms.DateField(label=_("报送日期（一次报送时填写）"), required=False, widget=IsoDateInput())
    wording = forms.CharField(
        label=_("报送要求原文（可不填，如“每月28日前”）"),
        required=False,
        max_length=ReportSchedule._meta.get_field("wording").max_length,
    )

    def __init__(self, *args, schedule: ReportSchedule | None = None, **kwargs):
        # Ids of its own: the extension and split forms on the same page have dates too.
        kwargs.setdefault("auto_id", "id_schedule_%s")
        if schedule is not None:
            kwargs.setdefault(
                "initial",
                {
                    "cadence": schedule.cadence,
                    "day": schedule.day,
                    "once_on": schedule.once_on,
                    "wording": schedule.wording,
                },
            )
        super().__init__(*args, **kwargs)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("批准")), ("reject", _("驳回"))])
    comment = forms.CharField(label=_("意见"), required=False, max_length=5000)


class TransferForm(forms.Form):
    """转办: the unit the lead unit names, among those its issuer hands work to directly."""

    to_unit = forms.ModelChoiceField(label=_("转办至"), queryset=None, empty_label=_("请选择单位"))
    reason = forms.CharField(label=_("转办理由"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, units, **kwargs):
        # Ids of its own: the extension form on the same page has a "reason" too.
        kwargs.setdefault("auto_id", "id_transfer_%s")
        super().__init__(*args, **kwargs)
        self.fields["to_unit"].queryset = units


class TransferDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("同意转办")), ("refuse", _("不同意"))])
    comment = forms.CharField(label=_("意见"), required=False, max_length=5000)


class TransferWithdrawForm(forms.Form):
    comment = forms.CharField(label=_("说明"), required=False, max_length=5000)


class DecomposeForm(forms.Form):
    """One child per chosen unit below, with its share of each indicator; the title and
    due date are the parent's unless changed."""

    title = forms.CharField(label=_("子任务名称"), max_length=500)
    due_date = forms.DateField(label=_("完成时限"), widget=IsoDateInput())
    # Unchecked by default: a piece reports as the whole does unless the split says not.
    no_report_schedule = forms.BooleanField(label=_("子任务不沿用本任务的报送要求"), required=False)
    # Shown for 长期坚持 work only: its pieces are ongoing too unless this is checked and the
    # date above is theirs.
    not_ongoing = forms.BooleanField(label=_("子任务按上面的完成时限办结，不长期坚持"), required=False)

    def __init__(self, *args, units, indicators, **kwargs):
        super().__init__(*args, **kwargs)
        self.units = list(units)
        self.indicators = list(indicators)
        self.rows = []
        for unit in self.units:
            chosen = f"unit_{unit.pk}"
            self.fields[chosen] = forms.BooleanField(label=unit.name, required=False)
            shares = []
            for indicator in self.indicators:
                name = f"share_{unit.pk}_{indicator.pk}"
                self.fields[name] = forms.DecimalField(
                    label=_("%(unit)s 的“%(indicator)s”目标")
                    % {"unit": unit.name, "indicator": indicator.name},
                    required=False,
                    min_value=0,
                    **DECIMAL,
                )
                shares.append(name)
            self.rows.append((unit, chosen, shares))

    def bound_rows(self):
        return [(unit, self[chosen], [self[name] for name in shares]) for unit, chosen, shares in self.rows]

    def children(self) -> list[dict]:
        data = self.cleaned_data
        return [
            {
                "lead_unit": unit,
                "targets": {
                    indicator.pk: data[f"share_{unit.pk}_{indicator.pk}"]
                    for indicator in self.indicators
                    if data.get(f"share_{unit.pk}_{indicator.pk}") is not None
                },
            }
            for unit, chosen, _shares in self.rows
            if data.get(chosen)
        ]


LIGHT_CHOICES = [
    ("", _("全部")),
    ("red", _("红灯（逾期）")),
    ("yellow", _("黄灯（临期）")),
    ("green", _("绿灯（正常）")),
]
STATE_CHOICES = [("", _("全部")), *TaskState.choices]
SOURCE_CHOICES = [("", _("全部")), *SourceKind.choices]
