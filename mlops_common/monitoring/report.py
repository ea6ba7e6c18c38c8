"""One self-contained HTML drift report: inline CSS and SVG, no script, no network.

Everything it shows comes from the :class:`~mlops_common.monitoring.DriftReport` (bin labels and
shares are carried by each column), so the data is not needed again. Write it with
:meth:`DriftReport.write_html <mlops_common.monitoring.DriftReport.write_html>`.
"""

from __future__ import annotations

from html import escape

from mlops_common.monitoring.drift import ColumnDrift, DriftReport

__all__ = ["CSS", "CUR_COLOR", "REF_COLOR", "render_html"]

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem;
color:#1f2933;max-width:1100px}
h1{font-size:1.5rem;margin-bottom:.2rem}
.meta{color:#52606d;font-size:.9rem}
.verdict{padding:.8rem 1rem;border-radius:6px;font-weight:600;margin:1rem 0}
.verdict.drift{background:#fde8e8;color:#9b1c1c;border:1px solid #f8b4b4}
.verdict.ok{background:#def7ec;color:#03543f;border:1px solid #84e1bc}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:1rem 0}
th,td{border-bottom:1px solid #e4e7eb;padding:.35rem .5rem;text-align:left}
th{background:#f5f7fa}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.drift td:first-child{color:#9b1c1c;font-weight:600}
.column{border:1px solid #e4e7eb;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
.column h3{margin:.3rem 0}
.reasons{color:#9b1c1c;font-size:.9rem}
.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 .8rem;
vertical-align:middle}
svg text{font-size:10px;fill:#52606d}
"""
REF_COLOR = "#3f83f8"
CUR_COLOR = "#ff8a4c"


def _fmt(value: float | None, spec: str) -> str:
    return "&ndash;" if value is None else format(value, spec)


def _plot(column: ColumnDrift, width: int = 720, height: int = 220) -> str:
    """Grouped bars of reference and current share per bin, as inline SVG."""
    n = len(column.bins)
    left, right, top, bottom = 44, 8, 8, 70
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([*column.reference_shares, *column.current_shares, 1e-12])
    slot = plot_w / max(n, 1)
    bar = max(slot * 0.38, 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="distribution of {escape(column.name)}">'
    ]
    for frac in (0.0, 0.5, 1.0):
        y = top + plot_h * (1 - frac)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            'stroke="#e4e7eb"/>'
            f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end">{peak * frac:.0%}</text>'
        )
    for i, label in enumerate(column.bins):
        x0 = left + i * slot + slot * 0.1
        for j, (share, color, who) in enumerate(
            (
                (column.reference_shares[i], REF_COLOR, "reference"),
                (column.current_shares[i], CUR_COLOR, "current"),
            )
        ):
            h = plot_h * share / peak
            parts.append(
                f'<rect x="{x0 + j * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{color}"><title>{escape(label)} {who}: '
                f"{share:.2%}</title></rect>"
            )
        text = label if len(label) <= 18 else label[:17] + "\u2026"
        cx, cy = left + (i + 0.5) * slot, top + plot_h + 10
        parts.append(
            f'<text x="{cx:.1f}" y="{cy:.1f}" text-anchor="end" '
            f'transform="rotate(-40 {cx:.1f} {cy:.1f})">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render_html(report: DriftReport, title: str = "Data drift report") -> str:
    """The report as one HTML string (what :meth:`DriftReport.write_html` writes).

    >>> import pandas as pd
    >>> from mlops_common.monitoring import detect_drift
    >>> frame = pd.DataFrame({"x": [1.0, 2, 3]})
    >>> render_html(detect_drift(frame, frame)).startswith("<!DOCTYPE html>")
    True
    """
    drifted = report.drifted_columns
    verdict_class = "drift" if report.drift_detected else "ok"
    if report.insufficient_data:
        verdict = (
            f"Insufficient data: {report.current_rows:,} current rows, fewer than min_rows "
            f"{report.config.min_rows:,}; no verdict"
        )
    elif report.config.dataset_rule != "share":
        verdict = (
            f"{'Drift detected' if report.drift_detected else 'No drift'}: {len(drifted)} of "
            f"{len(report.columns)} columns drifted ({escape(report.rule_text)})"
        )
    elif report.drift_detected:
        verdict = (
            f"Drift detected: {len(drifted)} of {len(report.columns)} columns drifted "
            f"({report.drifted_share:.0%} &ge; {report.config.drift_share:.0%})"
        )
    else:
        verdict = (
            f"No drift: {len(drifted)} of {len(report.columns)} columns drifted "
            f"({report.drifted_share:.0%}, threshold {report.config.drift_share:.0%})"
        )
    cfg = report.config
    rows = []
    for c in report.columns:
        status = "DRIFT" if c.drifted else ("n/a" if c.insufficient else "ok")
        rows.append(
            f'<tr class="{"drift" if c.drifted else "ok"}">'
            f"<td>{status}</td><td>{escape(c.name)}</td><td>{c.kind}</td>"
            f"<td>{escape(c.test or '')}</td><td class='num'>{_fmt(c.statistic, '.4g')}</td>"
            f"<td class='num'>{_fmt(c.threshold, 'g')}</td>"
            f"<td class='num'>{_fmt(c.p_value, '.3g')}</td>"
            f"<td class='num'>{_fmt(c.effect_size, '.4g')}</td>"
            f"<td class='num'>{_fmt(c.psi, '.4f')}</td>"
            f"<td class='num'>{c.reference_missing_share:.1%} &rarr; "
            f"{c.current_missing_share:.1%}</td>"
            f"<td>{escape('; '.join(c.reasons))}</td></tr>"
        )
    ignored = "".join(
        f"<li><code>{escape(name)}</code>: {escape(why)}</li>"
        for name, why in report.ignored_columns.items()
    )
    sections = []
    for c in report.columns:
        extra = ""
        if c.unseen_categories:
            extra = (
                "<p class='meta'>Categories not in the reference: "
                + escape(", ".join(c.unseen_categories))
                + "</p>"
            )
        reasons = f"<p class='reasons'>{escape('; '.join(c.reasons))}</p>" if c.reasons else ""
        sections.append(
            f"<div class='column' id='col-{escape(c.name)}'><h3>{escape(c.name)} "
            f"<span class='meta'>({c.kind}{', drifted' if c.drifted else ''})</span></h3>"
            f"{reasons}{_plot(c)}{extra}</div>"
        )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{CSS}</style></head>
<body>
<h1>{escape(title)}</h1>
<p class="meta">Reference: {escape(report.reference_source)} ({report.reference_rows:,} rows)
&middot; Current: {escape(report.current_source)} ({report.current_rows:,} rows)</p>
<div class="verdict {verdict_class}">{verdict}</div>
<p class="meta">Up to {cfg.large_sample:,} current values a column drifts when its KS
(numeric) or chi-square (categorical) p-value is below {cfg.p_value:g}; above, when its
Wasserstein distance in reference standard deviations exceeds {cfg.wasserstein_threshold:g}
(numeric) or its Jensen-Shannon distance exceeds {cfg.jensenshannon_threshold:g}
(categorical); also when its missing share moves by more than
{cfg.missing_share_threshold:.0%}. Effect size: normed Wasserstein or Jensen-Shannon. PSI over
{cfg.bins} reference-quantile bins is reported.</p>
<table><thead><tr><th>status</th><th>column</th><th>kind</th><th>test</th><th>statistic</th>
<th>threshold</th><th>p-value</th><th>effect size</th><th>PSI</th><th>missing</th><th>reasons</th>
</tr></thead>
<tbody>{"".join(rows)}</tbody></table>
{f"<p class='meta'>Not compared:</p><ul class='meta'>{ignored}</ul>" if ignored else ""}
<h2>Distributions</h2>
<p class="legend meta"><span style="background:{REF_COLOR}"></span>reference
<span style="background:{CUR_COLOR}"></span>current (share of non-missing values per bin)</p>
{"".join(sections)}
</body></html>
"""
