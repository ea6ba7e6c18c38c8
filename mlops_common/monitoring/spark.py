"""Drift of data that stays in Spark: its reference profile built from Spark aggregates.

:func:`build_profile` is :func:`mlops_common.monitoring.profile.build_profile` for a
``pyspark.sql.DataFrame``: the same :class:`~mlops_common.monitoring.profile.Profile` (counts,
missing values, mean and standard deviation, :data:`~mlops_common.monitoring.profile.QUANTILES`
quantiles or every value when there are no more, exact category counts), computed in three
Spark jobs (moments, quantiles with ``percentile_approx``, one group-by per categorical column).
Only those aggregates reach the driver. :func:`detect_drift` compares it with a reference (the
champion's logged profile, a profile file, or another Spark dataset) through the same
:func:`mlops_common.monitoring.detect_drift` as the pandas path.

The quantiles are approximate: ``percentile_approx`` with accuracy :data:`ACCURACY` places each
within ``1 / ACCURACY`` of its rank, a tenth of the spacing of the profile's quantile grid.

>>> from mlops_common.monitoring.spark import detect_drift  # doctest: +SKIP
>>> report = detect_drift("models:/churn-model@champion", spark.read.parquet("s3a://b/today/"))  # doctest: +SKIP
>>> report.verdict  # doctest: +SKIP
'no drift'
"""  # noqa: E501

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlops_common.errors import InputError
from mlops_common.monitoring.profile import QUANTILES, ColumnProfile, Profile

__all__ = ["ACCURACY", "build_profile", "column_kinds", "detect_drift"]

#: ``percentile_approx`` accuracy: rank error 1/ACCURACY, a tenth of the quantile spacing.
ACCURACY = 10 * QUANTILES

# Spark types drift compares as numbers; strings and booleans are categories (as in pandas,
# where Parquet decimals arrive as Python objects, so are they); dates and others are left out.
_NUMERIC = {"ByteType", "ShortType", "IntegerType", "LongType", "FloatType", "DoubleType"}
_CATEGORICAL = {"StringType", "VarcharType", "CharType", "BooleanType", "DecimalType"}


def column_kinds(df: Any, categorical: Sequence[str] = ()) -> dict[str, str]:
    """``{column: "numeric" | "categorical"}`` for the columns drift compares, as
    :func:`mlops_common.monitoring.drift.column_kind` classifies the pandas dtypes."""
    from mlops_common.validation.spark import column_types

    kinds = {}
    forced = set(categorical)
    for name, column_type in column_types(df).items():
        if name in forced or column_type.native in _CATEGORICAL:
            kinds[name] = "categorical"
        elif column_type.native in _NUMERIC:
            kinds[name] = "numeric"
    return kinds


def build_profile(
    df: Any,
    *,
    categorical: Sequence[str] = (),
    columns: Sequence[str] | None = None,
    source: str = "reference profile",
    quantiles: int = QUANTILES,
) -> Profile:
    """The reference profile of a Spark DataFrame, from aggregates only.

    ``categorical`` forces columns (integer codes) to categories; ``columns`` profiles only
    those. Raises ``InputError`` for a DataFrame without rows.
    """
    from pyspark.sql import functions as F

    from mlops_common.validation.spark import column as col
    from mlops_common.validation.spark import column_types, present

    kinds = column_kinds(df, categorical)
    if columns is not None:
        unknown = sorted(set(columns) - set(df.columns))
        if unknown:
            raise InputError(f"{source}: columns {unknown} not found; it has {df.columns[:20]}")
        kinds = {name: kind for name, kind in kinds.items() if name in set(columns)}
    numeric = [name for name, kind in kinds.items() if kind == "numeric"]

    def finite(name: str) -> Any:
        value = col(name).cast("double")
        ok = value.isNotNull() & ~F.isnan(value) & (F.abs(value) != F.lit(float("inf")))
        return F.when(ok, value)

    # Job 1: rows, and per numeric column its finite count, mean and (population) std.
    moments = [F.count(F.lit(1)).alias("rows")]
    for i, name in enumerate(numeric):
        moments += [
            F.count(finite(name)).alias(f"n{i}"),
            F.avg(finite(name)).alias(f"m{i}"),
            F.stddev_pop(finite(name)).alias(f"s{i}"),
        ]
    first = df.agg(*moments).collect()[0]
    rows = int(first["rows"])
    if rows == 0:
        raise InputError(f"{source}: no rows to profile; check that the data was produced")
    profiled: dict[str, ColumnProfile] = {}
    for i, name in enumerate(numeric):
        count = int(first[f"n{i}"])
        column = ColumnProfile(kind="numeric", count=count, missing=rows - count)
        if count:
            column.mean, column.std = float(first[f"m{i}"]), float(first[f"s{i}"])
        profiled[name] = column

    # Job 2: the quantile grid (or every value, for columns with no more values than that).
    grid = [(i + 0.5) / quantiles for i in range(quantiles)]
    summaries = []
    for i, name in enumerate(numeric):
        count = profiled[name].count
        if 0 < count <= quantiles:
            summaries.append(F.sort_array(F.collect_list(finite(name))).alias(f"q{i}"))
        elif count:
            summaries.append(F.percentile_approx(finite(name), grid, ACCURACY).alias(f"q{i}"))
    if summaries:
        second = df.agg(*summaries).collect()[0]
        for i, name in enumerate(numeric):
            column = profiled[name]
            if column.count:
                column.values = [float(v) for v in second[f"q{i}"]]
                column.exact = column.count <= quantiles

    # Job 3..: exact category counts, keyed as stats.category_counts keys pandas values.
    types = column_types(df)
    for name, kind in kinds.items():
        if kind != "categorical":
            continue
        kept = df.where(present(name, types[name]))
        groups = kept.groupBy(col(name).alias("v")).count().collect()
        counts: dict[str, int] = {}
        for row in groups:
            key = row["v"]
            if isinstance(key, float) and key.is_integer():
                key = int(key)
            counts[str(key)] = counts.get(str(key), 0) + int(row["count"])
        total = sum(counts.values())
        profiled[name] = ColumnProfile(
            kind="categorical", count=total, missing=rows - total, categories=counts
        )
    ordered = {name: profiled[name] for name in kinds if name in profiled}
    return Profile(rows=rows, columns=ordered, source=source)


def detect_drift(
    reference: Any,
    current: Any,
    *,
    columns: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    config: Any = None,
    current_source: str = "current Spark DataFrame",
    tracking_uri: str | None = None,
) -> Any:
    """Drift of a Spark DataFrame ``current`` against ``reference``: a ``Profile``, a
    ``*profile.json`` path, a model URI (``models:/NAME@champion``, its logged profile) or
    another Spark DataFrame (profiled the same way). Returns the pandas path's
    :class:`~mlops_common.monitoring.drift.DriftReport`.
    """
    from mlops_common.monitoring.drift import detect_drift as compare
    from mlops_common.monitoring.profile import reference_profile

    forced = [categorical] if isinstance(categorical, str) else list(categorical or ())
    reference = reference_profile(
        reference,
        lambda data: build_profile(
            data, categorical=forced, columns=columns, source="reference Spark DataFrame"
        ),
        tracking_uri=tracking_uri,
    )
    # The current side is profiled with the reference's kinds, so both sides bin alike.
    wanted = [name for name in (columns or reference.columns) if name in set(current.columns)]
    as_categories = [
        name
        for name in wanted
        if name in reference.columns and reference.columns[name].kind == "categorical"
    ]
    profile = build_profile(
        current, categorical=as_categories, columns=wanted, source=current_source
    )
    report = compare(reference, profile, columns=columns, categorical=categorical, config=config)
    for name in current.columns:
        if name not in reference.columns:
            report.ignored_columns.setdefault(name, "only in current")
    return report
