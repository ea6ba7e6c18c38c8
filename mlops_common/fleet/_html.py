"""A fleet report as files: its JSON, and one self-contained HTML page (inline CSS, no scripts,
no CDN)."""

from __future__ import annotations

import html
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1f2933}
h1{font-size:1.4rem;margin-bottom:.2rem}
p.meta{color:#616e7c;margin-top:0}
.summary span{display:inline-block;margin:0 .6rem .8rem 0;padding:.25rem .6rem;border-radius:1rem;
background:#e4e7eb;font-size:.9rem}
table{border-collapse:collapse;width:100%;font-size:.88rem}
th,td{border-bottom:1px solid #d9e2ec;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f4f8;position:sticky;top:0}
tr.bad td{background:#fff5f5}
tr.warn td{background:#fffbea}
tr.good td{background:#f0fff4}
code{font-size:.85em}
"""


def write_report_html(
    path: str | Path,
    *,
    title: str,
    summary: dict[str, Any],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    row_classes: Sequence[str],
) -> Path:
    """Write the table as one HTML file and return its path."""
    esc = html.escape
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    badges = "".join(
        f"<span>{esc(str(k))}: <b>{esc(str(v))}</b></span>" for k, v in summary.items()
    )
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "\n".join(
        f'<tr class="{esc(cls)}">' + "".join(f"<td>{esc(str(cell))}</td>" for cell in row) + "</tr>"
        for row, cls in zip(rows, row_classes, strict=True)
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
        f'<h1>{esc(title)}</h1><p class="meta">Generated {stamp} by mlops fleet</p>'
        f'<div class="summary">{badges}</div>'
        f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table></body></html>\n"
    )
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target


class ReportFiles(ABC):
    """``to_json`` and ``write_html`` of a fleet report: a titled table with a summary."""

    title: str
    columns: Sequence[str]

    @abstractmethod
    def to_dict(self) -> dict[str, Any]:
        """The whole report as JSON-ready data."""

    @abstractmethod
    def summary(self) -> dict[str, Any]:
        """Counts shown as badges above the table."""

    @abstractmethod
    def rows(self) -> list[list[str]]:
        """The table, one row a project, in the order of ``columns``."""

    @abstractmethod
    def _row_classes(self) -> list[str]:
        """The CSS class of each row: ``good``, ``warn`` or ``bad``."""

    def to_json(self, path: str | Path) -> Path:
        target = Path(path)
        target.write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")
        return target

    def write_html(self, path: str | Path) -> Path:
        return write_report_html(
            path,
            title=self.title,
            summary=self.summary(),
            columns=self.columns,
            rows=self.rows(),
            row_classes=self._row_classes(),
        )
