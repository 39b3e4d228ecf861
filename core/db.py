"""Set-based writes the ORM makes slow."""

from collections.abc import Iterable, Sequence

from django.db import connection, models


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> None:
    """INSERT plain rows, without a model instance per row.

    For bulk writes where building the instances costs more than the INSERT itself, such
    as the unit links and history rows of a large imported table (bench/FIXES.md). Values
    must already be in the column's form: ids for foreign keys, and JSON through the
    field's ``get_db_prep_save``. Nothing here runs ``save()`` or signals, as with
    ``bulk_create``.
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


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` new primary keys of ``model``, ascending, for rows ``insert_rows`` writes.

    COPY cannot hand back the ids it assigns, and children need their parents' ids; taking
    them from the counter every other insert draws on keeps them from anyone else.
    """
    if count <= 0:
        return []
    table, column = model._meta.db_table, model._meta.pk.column
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The sequence's name first, once: inside the series, pg_get_serial_sequence
            # would run again for every id drawn.
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [quote(table), column])
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, count])
            return sorted(row[0] for row in cursor.fetchall())
        # SQLite's AUTOINCREMENT gives a new row an id above the table's sqlite_sequence
        # entry, so raising the entry by ``count`` sets the ids below it aside. The entry
        # appears with the table's first row.
        cursor.execute("UPDATE sqlite_sequence SET seq = seq + %s WHERE name = %s", [count, table])
        if cursor.rowcount == 0:
            cursor.execute(
                f"INSERT INTO sqlite_sequence (name, seq) SELECT %s, COALESCE(MAX({quote(column)}), 0) + %s"
                f" FROM {quote(table)}",
                [table, count],
            )
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        last = cursor.fetchone()[0]
    return list(range(last - count + 1, last + 1))


def new_row(model: type[models.Model], **values) -> dict[str, object]:
    """Every column of a new ``model`` row, as ``save()`` would write it, by attname.

    ``values`` over the fields' defaults, ``auto_now`` and ``auto_now_add`` times set to
    now, all in column form: a template for ``insert_rows`` that writes every column, so
    that a field added to the model later is written with its default too.
    """
    instance = model(**values)
    return {
        field.attname: field.get_db_prep_save(field.pre_save(instance, add=True), connection)
        for field in model._meta.concrete_fields
    }
