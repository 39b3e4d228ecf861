"""What the forms put in a browser's fields."""

import datetime

from django.utils import translation

from pages.forms import DecomposeForm, ExtensionForm


def test_a_prefilled_date_is_written_as_a_browser_date_field_reads_it():
    # Under zh-hans Django formats a date as 2026/12/04, which <input type="date"> shows as empty.
    with translation.override("zh-hans"):
        decompose = DecomposeForm(initial={"due_date": datetime.date(2026, 12, 4)}, units=[], indicators=[])
        extension = ExtensionForm(initial={"requested_due_date": datetime.date(2027, 1, 8)})
        assert 'value="2026-12-04"' in str(decompose["due_date"])
        assert 'type="date"' in str(decompose["due_date"])
        assert 'value="2027-01-08"' in str(extension["requested_due_date"])
