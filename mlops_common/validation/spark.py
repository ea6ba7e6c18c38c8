"""Validation of a Spark DataFrame (or a Parquet dataset read by Spark) where it lives.

The suite's aggregates run as one Spark job (plus one group-by per uniqueness check, and a
``limit`` query for a sample of offending values when a map check fails); only those numbers
come back to the driver, never the rows. Verdicts, unexpected counts and percentages are those
of the pandas fast path on the same data (:mod:`mlops_common.validation.pushdown` lists the
types). ``pyspark`` is imported only here (``pip install 'mlops-common[spark]'``).

>>> from pyspark.sql import SparkSession  # doctest: +SKIP
>>> spark = SparkSession.builder.master("local[2]").getOrCreate()  # doctest: +SKIP
>>> result = validate(spark.read.parquet("data/orders/"), "expectations/raw.json")  # doctest: +SKIP
>>> result.success, result.results[0].unexpected_count  # doctest: +SKIP
(False, 12)
"""

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

__all__ = [
    "ENGINE",
    "SparkBackend",
    "column",
    "column_types",
    "present",
    "read_dataset",
    "session",
    "validate",
]

ENGINE = "spark"

# Spark type name -> (kind, the dtype pandas gives the same Parquet column when read by pyarrow).
_TYPES = {
    "ByteType": ("integer", "int8"),
    "ShortType": ("integer", "int16"),
    "IntegerType": ("integer", "int32"),
    "LongType": ("integer", "int64"),
    "FloatType": ("float", "float32"),
    "DoubleType": ("float", "float64"),
    "BooleanType": ("boolean", "bool"),
    "StringType": ("string", "str"),
    "VarcharType": ("string", "str"),
    "CharType": ("string", "str"),
    "TimestampType": ("temporal", "datetime64[us]"),
    "TimestampNTZType": ("temporal", "datetime64[us]"),
    "DateType": ("temporal", "object"),
}


def validate(
    df: Any,
    suite: str | Path | Mapping[str, Any] | Suite,
    *,
    sample_size: int = 20,
    source: str | None = None,
) -> ValidationResult:
    """Run ``suite`` on a ``pyspark.sql.DataFrame`` (aggregates only; the rows stay in Spark).

    ``SuiteError`` names the first expectation type or kwarg this engine does not run.
    """
    return pushdown.run_suite(SparkBackend(df, source=source), suite, sample_size=sample_size)


def session(master: str | None = None, app_name: str = "mlops") -> Any:
    """The active SparkSession, or a new one (``master`` e.g. ``local[2]``; by default what
    ``spark-submit`` configured, else ``local[*]``)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise EnvironmentProblem(
            "the spark engine needs pyspark; install it with pip install 'mlops-common[spark]'"
        ) from exc
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    builder = SparkSession.builder.appName(app_name).config("spark.ui.showConsoleProgress", "false")
    if master is not None:
        builder = builder.master(master)
    return builder.getOrCreate()


def read_dataset(path: str, spark: Any = None) -> tuple[Any, str]:
    """``(DataFrame, source)`` of a Parquet file or folder: a path or an object-store URI that
    the Spark cluster can read (``s3a://``, ``gs://``, ``abfss://``, ``dbfs:/``)."""
    local = "://" not in path and not path.startswith("dbfs:")
    if local and not Path(path).exists():
        raise InputError(f"data {path}: not found; check the path to the Parquet dataset")
    if local and Path(path).is_file() and Path(path).suffix.lower() != ".parquet":
        raise InputError(
            f"data {path}: the spark engine reads Parquet (a .parquet file or a folder of them)"
        )
    spark = spark or session()
    from pyspark.errors import PySparkException

    try:
        df = spark.read.parquet(path)
    except PySparkException as exc:
        detail = " ".join(str(exc).split())[:200]
        raise InputError(f"data {path}: Spark cannot read it as Parquet ({detail})") from exc
    return df, path


def column(name: str) -> Any:
    """The column ``name`` of a DataFrame, quoted: dots and spaces in a name are not paths."""
    from pyspark.sql import functions as F

    return F.col(f"`{name.replace('`', '``')}`")


def present(name: str, column_type: ColumnType) -> Any:
    """Not missing: not null, and not NaN in a floating-point column (pandas' NaN is null)."""
    from pyspark.sql import functions as F

    value = column(name)
    if column_type.kind == "float":
        return value.isNotNull() & ~F.isnan(value)
    return value.isNotNull()


def column_types(df: Any) -> dict[str, ColumnType]:
    """Each column's :class:`~mlops_common.validation.pushdown.ColumnType`, from the schema."""
    found = {}
    for spark_field in df.schema.fields:
        native = type(spark_field.dataType).__name__
        kind, dtype = _TYPES.get(native, ("other", "object"))
        found[spark_field.name] = ColumnType(kind, native, dtype)
    return found


class SparkBackend(ExpressionBackend):
    """The pushdown aggregates of :mod:`mlops_common.validation.pushdown` as Spark columns."""

    name = ENGINE

    def __init__(self, df: Any, source: str | None = None) -> None:
        self.df = df
        self.source = source or "<Spark DataFrame>"
        self._types = column_types(df)

    def columns(self) -> dict[str, ColumnType]:
        return dict(self._types)

    def native_type_names(self, column_type: ColumnType) -> set[str]:
        return {column_type.native}

    # -- expressions ----------------------------------------------------------------------------

    def _col(self, name: str) -> Any:
        return column(name)

    def present(self, name: str) -> Any:
        return present(name, self._types[name])

    def _numeric(self, name: str) -> Any:
        column = self._col(name)
        return column.cast("int") if self._types[name].kind == "boolean" else column

    def ok(self, name: str, predicate: Any) -> Any:
        from pyspark.sql import functions as F

        column = self._col(name)
        if isinstance(predicate, Between):
            value = F.length(column) if predicate.of == "length" else self._numeric(name)
            condition = F.lit(True)
            if predicate.low is not None:
                low = F.lit(predicate.low)
                condition = condition & (value > low if predicate.strict_min else value >= low)
            if predicate.high is not None:
                high = F.lit(predicate.high)
                condition = condition & (value < high if predicate.strict_max else value <= high)
            return condition
        if isinstance(predicate, InSet):
            inside = column.isin(list(predicate.values)) if predicate.values else F.lit(False)
            return inside if predicate.inside else ~inside
        if isinstance(predicate, Regex):
            matched = column.cast("string").rlike(predicate.pattern)
            return matched if predicate.matches else ~matched
        raise TypeError(predicate)

    def _true(self) -> Any:
        from pyspark.sql import functions as F

        return F.lit(True)

    def _when(self, condition: Any, value: Any) -> Any:
        from pyspark.sql import functions as F

        return F.when(condition, value)

    def _count(self, value: Any) -> Any:
        from pyspark.sql import functions as F

        return F.count(F.lit(1) if value is None else value)

    def _count_distinct(self, value: Any) -> Any:
        from pyspark.sql import functions as F

        return F.count_distinct(value)

    def _stat(self, function: str, value: Any) -> Any:
        from pyspark.sql import functions as F

        return {
            "min": F.min,
            "max": F.max,
            "mean": F.avg,
            "sum": F.sum,
            "stddev": F.stddev_samp,
            "median": F.median,
        }[function](value)

    # -- queries ----------------------------------------------------------------------------------

    def aggregate(self, requests: Sequence[Any]) -> list[Any]:
        from pyspark.sql import functions as F

        scalar = [r for r in requests if not isinstance(r, Duplicated)]
        values: dict[Any, Any] = {}
        if scalar:
            row = self.df.agg(*(self._scalar(r).alias(f"a{i}") for i, r in enumerate(scalar)))
            found = row.collect()[0]
            values.update({r: found[f"a{i}"] for i, r in enumerate(scalar)})
        for request in requests:
            if isinstance(request, Duplicated):
                groups = self._duplicate_groups(request)
                total = groups.agg(F.sum("n").alias("rows")).collect()[0]["rows"]
                values[request] = int(total or 0)
        return [values[r] for r in requests]

    def _duplicate_groups(self, request: Duplicated) -> Any:
        from pyspark.sql import functions as F

        columns = [self._col(c) for c in request.columns]
        kept = self.df.where(self.kept(request.columns, request.keep))
        return kept.groupBy(*columns).agg(F.count(F.lit(1)).alias("n")).where(F.col("n") > 1)

    def sample(self, request: Any, limit: int) -> list[Any]:
        if isinstance(request, Duplicated):
            return duplicate_values(request, self._duplicate_groups(request).limit(limit).collect())
        rows = self.df.where(self.unexpected(request)).select(self._col(request.column))
        return [plain_value(row[0]) for row in rows.limit(limit).collect()]
