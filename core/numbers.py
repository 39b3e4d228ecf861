"""Numbers as people read them in messages and documents."""

from decimal import Decimal


def plain_number(value: Decimal) -> str:
    """A decimal without trailing zeros and never in scientific notation: ``Decimal("60.0000")``
    is "60", not "6E+1" as ``normalize()`` alone prints it; "70.5000" is "70.5"."""
    if not value.is_finite():
        # normalize() raises on a signalling NaN; what a client sent is shown as sent.
        return str(value)
    return f"{value.normalize():f}"
