"""The import pages' forms: a campaign and a file to try, and the upload to confirm."""

from django import forms
from django.utils.translation import gettext_lazy as _

ACCEPT = ".xlsx,.xlsm,.csv,.docx,.txt"


class ImportForm(forms.Form):
    campaign = forms.ModelChoiceField(label=_("导入到攻坚行动"), queryset=None, empty_label=None)
    file = forms.FileField(
        label=_("任务分解表（.xlsx、.csv、.docx 或 .txt）"),
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )

    def __init__(self, *args, campaigns, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns


class ConfirmForm(forms.Form):
    upload = forms.CharField(widget=forms.HiddenInput, max_length=64)
