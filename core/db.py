"""Set-based writes the ORM makes slow."""

from collections.abc import Iterable, Sequence

from django.db import connection, models


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> None:
    """INSERT plain rows, without a model instance per row.

    For bulk writes where building the instances costs more than the INSERT itself: the
    unit links and history rows of 10,000 imported tasks took longer to build than to
    write (bench/import_table.py). Values must already be in the column's form: ids for
    foreign keys, and JSON through the field's ``get_db_prep_save``. Nothing here runs
    ``save()`` or signals, as with ``bulk_create``.
    """
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: one statement for all the rows. An executemany of INSERTs makes
            # PostgreSQL parse and plan every row, which took longer than building models.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", list(rows))
