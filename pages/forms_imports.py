"""The import pages' forms: a campaign and a file to try, and the upload to confirm."""

from django import forms
from django.utils.translation import gettext_lazy as _

ACCEPT = ".xlsx,.xlsm,.csv,.docx,.txt"
TABLE, PROBLEMS = "table", "problems"
KINDS = [
    # Neither choice's words contain the file field's "任务分解表", which labels the upload.
    (TABLE, _("分解任务：按序号新建或更新任务，均为草稿")),
    (PROBLEMS, _("问题清单：每个问题成为一项整改事项，导入即交办（.xlsx 或 .csv）")),
]


class ImportForm(forms.Form):
    # A form without the field (the page as it was, a bookmarked post) imports a task table.
    kind = forms.ChoiceField(
        label=_("导入内容"), choices=KINDS, required=False, initial=TABLE, widget=forms.RadioSelect
    )
    campaign = forms.ModelChoiceField(label=_("导入到攻坚行动"), queryset=None, empty_label=None)
    file = forms.FileField(
        label=_("任务分解表或问题清单（.xlsx、.csv、.docx 或 .txt）"),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )

    unit_map = forms.CharField(
        label=_("单位对应（可不填）：每行一条，如“各主要经济指标牵头单位=市发改委、市统计局”"),
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    default_deadline = forms.DateField(
        label=_("表中没有完成时限的任务按此日期（不填为攻坚行动结束日）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, campaigns, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns

    def clean_kind(self) -> str:
        return self.cleaned_data["kind"] or TABLE

    def unit_map_entries(self) -> list[str]:
        """The entries as the API takes them, one a line; the importer parses them."""
        return [line.strip() for line in self.cleaned_data["unit_map"].splitlines() if line.strip()]


class ConfirmForm(forms.Form):
    upload = forms.CharField(widget=forms.HiddenInput, max_length=64)
    accept_default_deadline = forms.BooleanField(required=False)
