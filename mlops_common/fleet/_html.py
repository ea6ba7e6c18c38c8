"""The shape every fleet report shares, and its self-contained HTML page.

A report is a :class:`~mlops_common.results.Result`: ``summary()`` is the table as plain rows with
a counts line, ``counts()`` the badges, ``to_dict``/``to_json``/``write_html``/``exit_code`` as
everywhere. The page has inline CSS and an inline SVG chart of versions behind per project; no
scripts, no CDN.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlops_common.results import Result

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1f2933}
h1{font-size:1.4rem;margin-bottom:.2rem}
h2{font-size:1.1rem;margin-top:1.6rem}
p.meta{color:#616e7c;margin-top:0}
.summary span{display:inline-block;margin:0 .6rem .8rem 0;padding:.25rem .6rem;border-radius:1rem;
background:#e4e7eb;font-size:.9rem}
table{border-collapse:collapse;width:100%;font-size:.88rem}
th,td{border-bottom:1px solid #d9e2ec;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f4f8;position:sticky;top:0}
tr.bad td{background:#fff5f5}
tr.warn td{background:#fffbea}
tr.good td{background:#f0fff4}
ul.files{margin:.2rem 0 0 1rem;padding:0}
code{font-size:.85em}
svg text{font-size:12px;fill:#1f2933}
"""
_BAR = {"good": "#3f9142", "warn": "#d9a21b", "bad": "#c53030"}


def behind_chart(
    bars: Sequence[tuple[str, int | None, str]],
    caption: str = "releases behind the newest (0 = current)",
) -> str:
    """Inline SVG: one horizontal bar per ``(project, versions behind, css class)``."""
    esc = html.escape
    if not bars:
        return ""
    label_w, bar_w, row_h = 190, 420, 22
    most = max([b for _, b, _ in bars if b is not None] + [1])
    height = row_h * len(bars) + 34
    parts = [
        f'<svg role="img" width="{label_w + bar_w + 90}" '
        f'height="{height}" aria-label="Template versions behind the newest release">'
    ]
    for index, (name, behind, cls) in enumerate(bars):
        y = 8 + index * row_h
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 14}" text-anchor="end">{esc(name[:28])}</text>'
        )
        if behind is None:
            parts.append(f'<text x="{label_w + 4}" y="{y + 14}">not known</text>')
            continue
        width = max(2, round(bar_w * behind / most)) if behind else 2
        parts.append(
            f'<rect x="{label_w}" y="{y + 3}" width="{width}" height="{row_h - 8}" '
            f'fill="{_BAR.get(cls, "#7b8794")}"><title>{esc(name)}: {behind} behind</title></rect>'
        )
        parts.append(f'<text x="{label_w + width + 6}" y="{y + 14}">{behind}</text>')
    axis_y = 8 + len(bars) * row_h + 16
    parts.append(f'<text x="{label_w}" y="{axis_y}">{esc(caption)}</text></svg>')
    return "".join(parts)


class FleetReport(Result):
    """Base of the fleet's reports: a titled table, counts, a chart and per-project details."""

    title: str = "Fleet"
    columns: Sequence[str] = ()
    chart_caption: str = "releases behind the newest (0 = current)"

    def rows(self) -> list[list[str]]:
        raise NotImplementedError

    def counts(self) -> dict[str, int]:
        """The badge counts shown above the table (and at the end of ``summary()``)."""
        raise NotImplementedError

    def row_classes(self) -> list[str]:
        """The CSS class of each row: ``good``, ``warn`` or ``bad``."""
        raise NotImplementedError

    def chart_bars(self) -> list[tuple[str, int | None, str]]:
        return []

    def details(self) -> list[tuple[str, list[str]]]:
        """Per project, the lines worth reading (files kept, conflicts, keys added)."""
        return []

    def summary(self) -> str:
        lines = [self.title, "\t".join(self.columns)]
        lines += ["\t".join(str(cell) for cell in row) for row in self.rows()]
        for name, items in self.details():
            lines += [f"{name}: {item}" for item in items]
        lines.append(", ".join(f"{name}: {count}" for name, count in self.counts().items()))
        return "\n".join(lines)

    def write_html(self, path: str | Path) -> Path:
        esc = html.escape
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        badges = "".join(
            f"<span>{esc(str(k))}: <b>{esc(str(v))}</b></span>" for k, v in self.counts().items()
        )
        head = "".join(f"<th>{esc(c)}</th>" for c in self.columns)
        body = "\n".join(
            f'<tr class="{esc(cls)}">'
            + "".join(f"<td>{esc(str(cell))}</td>" for cell in row)
            + "</tr>"
            for row, cls in zip(self.rows(), self.row_classes(), strict=True)
        )
        chart = behind_chart(self.chart_bars(), self.chart_caption)
        details = "".join(
            f'<li><b>{esc(name)}</b><ul class="files">'
            + "".join(f"<li><code>{esc(item)}</code></li>" for item in items)
            + "</ul></li>"
            for name, items in self.details()
            if items
        )
        page = (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{esc(self.title)}</title><style>{_CSS}</style></head><body>"
            f'<h1>{esc(self.title)}</h1><p class="meta">Generated {stamp} by mlops fleet</p>'
            f'<div class="summary">{badges}</div>'
            + (f"<h2>Versions behind</h2>{chart}" if chart else "")
            + f"<h2>Projects</h2><table><thead><tr>{head}</tr></thead><tbody>\n{body}\n"
            "</tbody></table>"
            + (f"<h2>Files to look at</h2><ul>{details}</ul>" if details else "")
            + "</body></html>\n"
        )
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")
        return target

    def _base_dict(self) -> dict[str, Any]:
        return {"title": self.title, "counts": self.counts(), "exit_code": self.exit_code}
