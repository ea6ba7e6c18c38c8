"""Validation of a SQL table in place: the checks run in the database, only aggregates return.

The suite becomes one ``SELECT`` of aggregates (SQLAlchemy Core, compiled for the database's
dialect), plus one ``GROUP BY ... HAVING count(*) > 1`` per uniqueness check and, only for a
failing map check, one ``LIMIT`` query for a sample of offending values. Verdicts, unexpected
counts and percentages are those of the pandas fast path on the same rows (types in
:mod:`mlops_common.validation.pushdown`). Tested on DuckDB and PostgreSQL; other SQLAlchemy
dialects with ``stddev_samp``, ``percentile_cont ... WITHIN GROUP`` and a regex operator work
the same way.

Credentials never go on a command line: leave the password out of the URL and let the driver
read it (``PGPASSWORD`` or ``~/.pgpass`` for PostgreSQL), or put the whole URL in an environment
variable.

>>> result = validate("duckdb:///warehouse.duckdb", "orders", "expectations/raw.json")  # doctest: +SKIP
>>> result.data_source, result.success  # doctest: +SKIP
('duckdb:///warehouse.duckdb table orders', True)
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlops_common.errors import EnvironmentProblem, InputError
from mlops_common.validation import pushdown
from mlops_common.validation.pushdown import (
    Between,
    ColumnType,
    Duplicated,
    ExpressionBackend,
    InSet,
    Regex,
    duplicate_values,
    plain_value,
)
from mlops_common.validation.result import ValidationResult
from mlops_common.validation.suite import Suite

__all__ = ["ENGINE", "SqlBackend", "is_database_url", "validate"]

ENGINE = "sql"


def is_database_url(text: str) -> bool:
    """A SQLAlchemy URL (``postgresql+psycopg2://...``, ``duckdb:///file``), not a file URI."""
    scheme = text.partition("://")[0].partition("+")[0].lower()
    return "://" in text and scheme in {
        "postgresql",
        "postgres",
        "duckdb",
        "sqlite",
        "mysql",
        "mssql",
        "oracle",
        "snowflake",
        "bigquery",
        "redshift",
        "databricks",
        "trino",
    }


def validate(
    url: Any,
    table: str,
    suite: str | Path | Mapping[str, Any] | Suite,
    *,
    schema: str | None = None,
    sample_size: int = 20,
) -> ValidationResult:
    """Run ``suite`` on ``table`` (in ``schema``) of the database at ``url`` (a SQLAlchemy URL
    or Engine); the data never leaves the database."""
    engine, shown = _engine(url)
    try:
        backend = SqlBackend(engine, table, schema=schema, source=f"{shown} table {table}")
        return pushdown.run_suite(backend, suite, sample_size=sample_size)
    finally:
        if not hasattr(url, "connect"):
            engine.dispose()


def _engine(url: Any) -> tuple[Any, str]:
    import sqlalchemy as sa

    if hasattr(url, "connect"):
        return url, url.url.render_as_string(hide_password=True)
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise InputError(f"{url!r} is not a database URL ({exc})") from exc
    shown = parsed.render_as_string(hide_password=True)
    try:
        return sa.create_engine(parsed), shown
    except (ImportError, sa.exc.NoSuchModuleError) as exc:
        raise EnvironmentProblem(
            f"{shown}: no SQLAlchemy driver for {parsed.drivername} ({exc}); install it "
            "(duckdb-engine, psycopg2-binary, ...)"
        ) from exc


# information_schema data_type (upper-cased, size dropped) -> kind, the dtype pandas gives it.
_TYPES = {
    "BOOLEAN": ("boolean", "bool"),
    "TINYINT": ("integer", "int8"),
    "SMALLINT": ("integer", "int16"),
    "INTEGER": ("integer", "int32"),
    "INT": ("integer", "int32"),
    "BIGINT": ("integer", "int64"),
    "HUGEINT": ("integer", "object"),
    "REAL": ("float", "float32"),
    "FLOAT": ("float", "float32"),
    "DOUBLE": ("float", "float64"),
    "DOUBLE PRECISION": ("float", "float64"),
    "VARCHAR": ("string", "str"),
    "CHARACTER VARYING": ("string", "str"),
    "CHARACTER": ("string", "str"),
    "CHAR": ("string", "str"),
    "TEXT": ("string", "str"),
    "TIMESTAMP": ("temporal", "datetime64[us]"),
    "TIMESTAMP WITHOUT TIME ZONE": ("temporal", "datetime64[us]"),
    "DATE": ("temporal", "object"),
}


def _column_type(data_type: str) -> ColumnType:
    native = data_type.upper()
    kind, dtype = _TYPES.get(native.split("(")[0].strip(), ("other", "object"))
    return ColumnType(kind, native, dtype)


def _sql_type(column_type: ColumnType) -> Any:
    import sqlalchemy as sa

    if column_type.kind == "float":
        return sa.Float()
    if column_type.kind == "integer":
        return sa.BigInteger()
    if column_type.kind == "boolean":
        return sa.Boolean()
    if column_type.kind == "string":
        return sa.String()
    return sa.types.NullType()


class SqlBackend(ExpressionBackend):
    """The pushdown aggregates of :mod:`mlops_common.validation.pushdown` as SQLAlchemy Core."""

    name = ENGINE

    def __init__(self, engine: Any, table: str, *, schema: str | None = None, source: str):
        import sqlalchemy as sa

        self.engine = engine
        self.source = source
        self.dialect = engine.dialect.name
        # The standard information_schema rather than dialect reflection: one small query that
        # every warehouse answers the same way.
        query = sa.text(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = :table"
            + (" AND table_schema = :schema" if schema else "")
            + " ORDER BY ordinal_position"
        )
        params = {"table": table} | ({"schema": schema} if schema else {})
        try:
            with engine.connect() as connection:
                found = connection.execute(query, params).all()
        except sa.exc.DBAPIError as exc:
            detail = " ".join(str(exc.orig).split())[:200]
            raise EnvironmentProblem(f"{source}: cannot query the database ({detail})") from None
        if not found:
            raise InputError(f"{source}: no such table; check --table (and --schema)")
        self._types = {str(name): _column_type(str(data_type)) for name, data_type in found}
        self.table = sa.table(
            table,
            *(sa.column(name, _sql_type(t)) for name, t in self._types.items()),
            schema=schema,
        )

    def columns(self) -> dict[str, ColumnType]:
        return dict(self._types)

    def native_type_names(self, column_type: ColumnType) -> set[str]:
        # GE's SQL datasource compares the database type's name, with or without a size.
        native = column_type.native.upper()
        return {native, native.split("(")[0]}

    # -- expressions ----------------------------------------------------------------------------

    def _col(self, name: str) -> Any:
        return self.table.c[name]

    def present(self, name: str) -> Any:
        import sqlalchemy as sa

        column = self._col(name)
        if self._types[name].kind == "float":
            nan = sa.cast(sa.literal("NaN"), sa.Float)
            return sa.and_(column.is_not(None), column != nan)
        return column.is_not(None)

    def _numeric(self, name: str) -> Any:
        import sqlalchemy as sa

        column = self._col(name)
        if self._types[name].kind == "boolean":
            return sa.cast(column, sa.Integer)
        if self._types[name].kind == "integer":
            return sa.cast(column, sa.BigInteger)  # sums of int32 overflow
        return column

    def _text(self, name: str) -> Any:
        import sqlalchemy as sa

        column = self._col(name)
        return column if self._types[name].kind == "string" else sa.cast(column, sa.String)

    def ok(self, name: str, predicate: Any) -> Any:
        import sqlalchemy as sa

        column = self._col(name)
        if isinstance(predicate, Between):
            value = sa.func.length(self._text(name)) if predicate.of == "length" else column
            parts = []
            if predicate.low is not None:
                low = sa.literal(predicate.low)
                parts.append(value > low if predicate.strict_min else value >= low)
            if predicate.high is not None:
                high = sa.literal(predicate.high)
                parts.append(value < high if predicate.strict_max else value <= high)
            return sa.and_(*parts)
        if isinstance(predicate, InSet):
            inside = column.in_(list(predicate.values))
            return inside if predicate.inside else sa.not_(inside)
        if isinstance(predicate, Regex):
            text = self._text(name)
            if self.dialect == "duckdb":  # DuckDB's ~ is a full match; GE searches
                matched = sa.func.regexp_matches(text, predicate.pattern)
            else:
                matched = text.regexp_match(predicate.pattern)
            return matched if predicate.matches else sa.not_(matched)
        raise TypeError(predicate)

    def _true(self) -> Any:
        import sqlalchemy as sa

        return sa.true()

    def _when(self, condition: Any, value: Any) -> Any:
        import sqlalchemy as sa

        return sa.case((condition, value))

    def _count(self, value: Any) -> Any:
        import sqlalchemy as sa

        return sa.func.count() if value is None else sa.func.count(value)

    def _count_distinct(self, value: Any) -> Any:
        import sqlalchemy as sa

        return sa.func.count(sa.distinct(value))

    def _stat(self, function: str, value: Any) -> Any:
        import sqlalchemy as sa

        if function == "median":
            return sa.func.percentile_cont(0.5).within_group(value)
        if function == "mean":
            return sa.func.avg(sa.cast(value, sa.Float))
        if function == "stddev":
            return sa.func.stddev_samp(sa.cast(value, sa.Float))
        return getattr(sa.func, function)(value)

    # -- queries ----------------------------------------------------------------------------------

    def aggregate(self, requests: Sequence[Any]) -> list[Any]:
        import sqlalchemy as sa

        scalar = [r for r in requests if not isinstance(r, Duplicated)]
        values: dict[Any, Any] = {}
        with self.engine.connect() as connection:
            if scalar:
                query = sa.select(*(self._scalar(r) for r in scalar)).select_from(self.table)
                row = connection.execute(query).one()
                values.update({r: plain_value(v) for r, v in zip(scalar, row, strict=True)})
            for request in requests:
                if isinstance(request, Duplicated):
                    groups = self._duplicate_groups(request).subquery()
                    total = sa.select(sa.func.coalesce(sa.func.sum(groups.c.n), 0))
                    values[request] = int(connection.execute(total).scalar_one())
        return [values[r] for r in requests]

    def _duplicate_groups(self, request: Duplicated) -> Any:
        import sqlalchemy as sa

        columns = [self._col(c) for c in request.columns]
        return (
            sa.select(*columns, sa.func.count().label("n"))
            .where(self.kept(request.columns, request.keep))
            .group_by(*columns)
            .having(sa.func.count() > 1)
        )

    def sample(self, request: Any, limit: int) -> list[Any]:
        import sqlalchemy as sa

        with self.engine.connect() as connection:
            if isinstance(request, Duplicated):
                rows = connection.execute(self._duplicate_groups(request).limit(limit)).all()
                return duplicate_values(request, rows)
            query = sa.select(self._col(request.column)).where(self.unexpected(request))
            rows = connection.execute(query.limit(limit)).all()
        return [plain_value(row[0]) for row in rows]
