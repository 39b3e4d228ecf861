"""Set-based writes, and reads, the ORM makes slow."""

import datetime
import threading
from collections.abc import Iterable, Sequence

from django.db import connection, models
from django.db.models.expressions import RawSQL


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


class CompiledRows:
    """A ``.values()`` query compiled once per thread and shape, then run for other ids.

    ``build(ids, *shape)`` returns the queryset, with the expression ``ids`` where a set of
    ids goes (``pk__in=ids``); ``rows(shape, sql, params)`` runs it with that set given as
    SQL, and answers the rows as ``.values()`` would, through the backend's converters.
    Parameters the queryset compiles to itself (SQLite's name of a date part) are kept.
    Building and compiling a read of many columns and joins cost a listed page more than
    the database took to run it (bench/FIXES.md); the text is the same every time. Per
    thread, because a compiler belongs to its thread's connection."""

    MARK = "SELECT 'duban compiled ids'"

    def __init__(self, build):
        self.build = build
        self.local = threading.local()

    def rows(self, shape: tuple, sql: str, params: Sequence) -> list[dict]:
        compiled = self.local.__dict__.setdefault("compiled", {})
        key = (connection.alias, connection.vendor, shape)
        if key not in compiled:
            compiled[key] = self._compile(shape)
        (before, after, fixed, split), names, compiler, converters = compiled[key]
        with connection.cursor() as cursor:
            cursor.execute(before + sql + after, [*fixed[:split], *params, *fixed[split:]])
            values = cursor.fetchall()
        if converters:
            values = compiler.apply_converters(values, converters)
        return [dict(zip(names, row, strict=True)) for row in values]

    def _compile(self, shape: tuple):
        queryset = self.build(RawSQL(self.MARK, ()), *shape)
        query = queryset.query
        compiler = query.get_compiler(using=queryset.db)
        text, fixed = compiler.as_sql()
        if text.count(self.MARK) != 1:
            raise ValueError("A compiled read takes its ids in one place.")
        before, after = text.split(self.MARK)
        # The compiled parameters before the ids, counted by their placeholders (a literal
        # percent sign is written doubled).
        split = before.count("%s") - before.count("%%s")
        names = [*query.extra_select, *query.values_select, *query.annotation_select]
        converters = compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])
        return (before, after, list(fixed), split), names, compiler, converters


def as_date(value: datetime.date | str | None) -> datetime.date | None:
    """A date read by hand-written SQL: SQLite answers a date computed by an aggregate (MIN,
    a CTE's column) as text, which the ORM would have converted."""
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def related_known(instance: models.Model, accessor: str, rows: list[models.Model]) -> None:
    """Tell ``instance`` that its reverse relation ``accessor`` holds exactly ``rows``, as
    ``prefetch_related`` would: for a row just created with its related rows, whose answer
    would otherwise read back what the request has just written."""
    queryset = getattr(instance, accessor).all()
    queryset._result_cache, queryset._prefetch_done = list(rows), True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[accessor] = queryset
