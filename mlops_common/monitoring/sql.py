"""Drift of a table that stays in its database: the current window's profile from SQL queries.

:func:`build_profile` is :func:`mlops_common.monitoring.profile.build_profile` for a table of a
SQLAlchemy database (SQLite, DuckDB, PostgreSQL): the same
:class:`~mlops_common.monitoring.profile.Profile`, computed in the database. Per numeric column
two aggregate queries (finite count and mean, then the population standard deviation around that
mean) and one ranked query that returns only the values at the ranks NumPy's linear
``np.quantile`` interpolates between (or every value when there are at most
:data:`~mlops_common.monitoring.profile.QUANTILES`); per categorical column one ``GROUP BY``. At
most ``2 * QUANTILES`` values per column leave the database, and the quantiles are exactly those
of the pandas path on the same rows. :func:`detect_drift` compares it with a reference through the
same :func:`mlops_common.monitoring.detect_drift`.

Credentials stay off the command line, as for validation (:mod:`mlops_common.validation.sql`).

>>> report = detect_drift("models:/churn-model@champion", "duckdb:///wh.duckdb", "today")  # doctest: +SKIP
>>> report.verdict  # doctest: +SKIP
'no drift'
"""  # noqa: E501

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from mlops_common.errors import EnvironmentProblem, InputError
from mlops_common.monitoring.profile import QUANTILES, ColumnProfile, Profile

__all__ = ["build_profile", "column_kinds", "detect_drift"]


# The kinds of mlops_common.validation.sql's type table that drift compares.
_KINDS = {
    "integer": "numeric",
    "float": "numeric",
    "boolean": "categorical",
    "string": "categorical",
}


def _table(engine: Any, table: str, schema: str | None, source: str) -> tuple[Any, dict[str, str]]:
    """The table, and the drift kind of each column its database type gives (temporal and other
    types are left out, as the pandas path leaves out datetimes and objects it cannot compare)."""
    import sqlalchemy as sa

    from mlops_common.validation.sql import SqlBackend

    if engine.dialect.name != "sqlite":
        # information_schema, as validation reads it: DuckDB's SQLAlchemy reflection needs
        # catalog tables DuckDB does not have.
        backend = SqlBackend(engine, table, schema=schema, source=source)
        kinds = {name: _KINDS.get(t.kind, "") for name, t in backend.columns().items()}
        return backend.table, {name: kind for name, kind in kinds.items() if kind}
    # SQLite has no information_schema: reflect its declared types (type affinities).
    try:
        found = sa.inspect(engine).get_columns(table, schema=schema)
    except sa.exc.NoSuchTableError:
        found = []
    except sa.exc.DBAPIError as exc:
        detail = " ".join(str(exc.orig).split())[:200]
        raise EnvironmentProblem(f"{source}: cannot query the database ({detail})") from None
    if not found:
        raise InputError(f"{source}: no such table; check --table (and --schema)")
    kinds = {}
    for column in found:
        kind = column["type"]
        if isinstance(kind, (sa.String, sa.Boolean)):
            kinds[column["name"]] = "categorical"
        elif isinstance(kind, (sa.Integer, sa.Float)):
            kinds[column["name"]] = "numeric"
    columns = (sa.column(c["name"], c["type"]) for c in found)
    return sa.table(table, *columns, schema=schema), kinds


def column_kinds(
    url: Any, table: str, *, schema: str | None = None, categorical: Sequence[str] = ()
) -> dict[str, str]:
    """``{column: "numeric" | "categorical"}`` of ``table``, as the pandas path classifies what
    ``read_sql`` returns: integers and floats are numbers, strings and booleans categories;
    ``categorical`` forces columns (integer codes) to categories."""
    from mlops_common.validation.sql import _engine

    engine, shown = _engine(url)
    try:
        _, kinds = _table(engine, table, schema, f"{shown} table {table}")
    finally:
        if not hasattr(url, "connect"):
            engine.dispose()
    return {
        name: "categorical" if name in set(categorical) else kind for name, kind in kinds.items()
    }


def _linear_ranks(count: int, quantiles: int) -> list[tuple[int, int, float]]:
    """Per grid point ``(i + 0.5) / quantiles``: the two 0-based ranks ``np.quantile``'s linear
    method interpolates between, and the weight of the upper one."""
    points = []
    for i in range(quantiles):
        position = (i + 0.5) / quantiles * (count - 1)
        lower = math.floor(position)
        points.append((lower, min(lower + 1, count - 1), position - lower))
    return points


def build_profile(
    url: Any,
    table: str,
    *,
    schema: str | None = None,
    categorical: Sequence[str] = (),
    columns: Sequence[str] | None = None,
    source: str | None = None,
    quantiles: int = QUANTILES,
) -> Profile:
    """The profile of ``table`` (in ``schema``) of the database at ``url`` (a SQLAlchemy URL or
    Engine), from queries in the database. ``categorical`` forces columns (integer codes) to
    categories; ``columns`` profiles only those. Raises ``InputError`` for a table without rows.
    """
    import sqlalchemy as sa

    from mlops_common.validation.sql import _engine

    engine, shown = _engine(url)
    where = source or f"{shown} table {table}"
    try:
        found, kinds = _table(engine, table, schema, where)
        forced = set(categorical)
        kinds = {name: "categorical" if name in forced else kind for name, kind in kinds.items()}
        if columns is not None:
            unknown = sorted(set(columns) - {c.name for c in found.columns})
            if unknown:
                raise InputError(f"{where}: columns {unknown} not found in the table")
            kinds = {name: kind for name, kind in kinds.items() if name in set(columns)}
        with engine.connect() as connection:
            rows = int(connection.execute(sa.select(sa.func.count()).select_from(found)).scalar())
            if rows == 0:
                raise InputError(f"{where}: no rows to profile; check that the data was produced")
            profiled = {
                name: _numeric(connection, found, name, rows, quantiles)
                if kind == "numeric"
                else _categorical(connection, found, name, rows)
                for name, kind in kinds.items()
            }
    except sa.exc.DBAPIError as exc:
        detail = " ".join(str(exc.orig).split())[:200]
        raise EnvironmentProblem(f"{where}: cannot query the database ({detail})") from None
    finally:
        if not hasattr(url, "connect"):
            engine.dispose()
    return Profile(rows=rows, columns=profiled, source=where)


def _numeric(connection: Any, table: Any, name: str, rows: int, quantiles: int) -> ColumnProfile:
    import sqlalchemy as sa

    # DOUBLE everywhere: FLOAT is 4 bytes in DuckDB, and the profile keeps float64.
    value = sa.cast(table.c[name], sa.Double)
    # NULL, NaN and infinities are missing, as in the pandas path (NaN sorts above +inf in
    # PostgreSQL and DuckDB, so one strict comparison on each side drops all three).
    finite = sa.and_(
        value.is_not(None),
        value < sa.literal(math.inf, sa.Double),
        value > sa.literal(-math.inf, sa.Double),
    )
    count, mean = connection.execute(
        sa.select(sa.func.count(value), sa.func.avg(value)).select_from(table).where(finite)
    ).one()
    column = ColumnProfile(kind="numeric", count=int(count), missing=rows - int(count))
    if not count:
        return column
    column.mean = float(mean)
    # Around the mean just measured: the one-pass E[x^2] - mean^2 loses precision on large means.
    spread = connection.execute(
        sa.select(sa.func.avg((value - column.mean) * (value - column.mean)))
        .select_from(table)
        .where(finite)
    ).scalar()
    column.std = math.sqrt(max(float(spread or 0.0), 0.0))
    ranked = (
        sa.select(
            value.label("v"),
            (sa.func.row_number().over(order_by=value) - 1).label("r"),
        )
        .select_from(table)
        .where(finite)
        .subquery()
    )
    if column.count <= quantiles:
        values = connection.execute(sa.select(ranked.c.v).order_by(ranked.c.r)).scalars()
        column.values, column.exact = [float(v) for v in values], True
        return column
    points = _linear_ranks(column.count, quantiles)
    wanted = sorted({rank for lower, upper, _ in points for rank in (lower, upper)})
    # One sort per column: the ranks inline, as integer literals (SQLite before 3.32 binds at
    # most 999 parameters, and a query per chunk would sort the column again).
    ranks = [sa.literal_column(str(int(rank))) for rank in wanted]
    query = sa.select(ranked.c.r, ranked.c.v).where(ranked.c.r.in_(ranks))
    at = {int(r): float(v) for r, v in connection.execute(query)}
    column.values = [at[low] + weight * (at[high] - at[low]) for low, high, weight in points]
    return column


def _categorical(connection: Any, table: Any, name: str, rows: int) -> ColumnProfile:
    import sqlalchemy as sa

    column = table.c[name]
    result = connection.execute(
        sa.select(column, sa.func.count()).where(column.is_not(None)).group_by(column)
    )
    if isinstance(column.type, sa.String):
        # The driver's own tuples: a SQLAlchemy Row per group costs ~4x on a million groups,
        # and strings need no result processing.
        groups = result.cursor.fetchall()
        result.close()
        counts = {str(key): int(count) for key, count in groups}
    else:
        counts = {}
        for key, count in result.all():
            if isinstance(key, float) and key.is_integer():
                key = int(key)  # keyed as stats.category_counts keys pandas values
            counts[str(key)] = counts.get(str(key), 0) + int(count)
    total = sum(counts.values())
    return ColumnProfile(kind="categorical", count=total, missing=rows - total, categories=counts)


def detect_drift(
    reference: Any,
    url: Any,
    table: str,
    *,
    schema: str | None = None,
    columns: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    config: Any = None,
    tracking_uri: str | None = None,
) -> Any:
    """Drift of ``table`` in the database at ``url`` against ``reference``: a ``Profile``, a
    ``*profile.json`` path, a model URI (``models:/NAME@champion``, its logged profile) or a
    data file / DataFrame (profiled by pandas). Returns the pandas path's
    :class:`~mlops_common.monitoring.drift.DriftReport`.
    """
    from mlops_common.monitoring.drift import detect_drift as compare
    from mlops_common.monitoring.profile import build_profile as pandas_profile
    from mlops_common.monitoring.profile import reference_profile

    forced = [categorical] if isinstance(categorical, str) else list(categorical or ())
    reference = reference_profile(
        reference,
        lambda data: pandas_profile(data, categorical=forced),
        tracking_uri=tracking_uri,
    )
    from mlops_common.validation.sql import _engine

    engine, shown = _engine(url)
    try:
        found, _ = _table(engine, table, schema, f"{shown} table {table}")
        present = {column.name for column in found.columns}
        wanted = [name for name in (columns or reference.columns) if name in present]
        # The current side is profiled with the reference's kinds, so both sides bin alike.
        as_categories = [
            name
            for name in wanted
            if name in reference.columns and reference.columns[name].kind == "categorical"
        ]
        profile = build_profile(
            engine, table, schema=schema, categorical=as_categories, columns=wanted
        )
    finally:
        if not hasattr(url, "connect"):
            engine.dispose()
    profile.source = f"{shown} table {table}"
    report = compare(reference, profile, columns=columns, categorical=categorical, config=config)
    for name in sorted(present - set(reference.columns)):
        report.ignored_columns.setdefault(name, "only in current")
    return report
