"""Gap-free yearly numbers per issuer, for every numbered series the office keeps."""

from django.db import IntegrityError, transaction

from responsibility.models import Unit

from .models import YearlyCounter


def next_number(counter: type[YearlyCounter], issuer: Unit, year: int) -> int:
    """Take the issuer's next number of ``counter``'s series for the year; the counter row
    is locked until the caller's transaction ends, so concurrent callers queue here and
    numbers stay gapless."""
    try:
        with transaction.atomic():
            counter.objects.get_or_create(issuer=issuer, year=year)
    except IntegrityError:
        pass  # created by a concurrent caller
    row = counter.objects.select_for_update().get(issuer=issuer, year=year)
    row.last_number += 1
    row.save(update_fields=["last_number"])
    return row.last_number
