"""Progress on a terminal while a command reads and checks large inputs.

The library reports steps through a plain callback (``progress(step, done, total)``, a total of
None while the amount of work is unknown); this module draws them with rich on stderr, only
when both stdout and stderr are terminals, and erases the display when the command is done so
that only the result stays on screen. Anywhere else (pipes, CI logs, ``--json``) nothing is
drawn and rich is not imported.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["LARGE_INPUT_BYTES", "is_large_input", "progress_display", "wants_progress"]

#: Local files from this size on get a progress display (remote ones always do).
LARGE_INPUT_BYTES = 10_000_000


def is_large_input(data: str) -> bool:
    """Whether reading ``data`` (a path or an object-store URI) may take a noticeable while."""
    if "://" in data:
        return True
    try:
        return Path(data).stat().st_size >= LARGE_INPUT_BYTES
    except OSError:
        return False  # a missing file is reported by the command itself


def wants_progress(*, as_json: bool) -> bool:
    """Progress is drawn for people: both streams on a terminal, and no JSON asked for."""
    return not as_json and sys.stdout.isatty() and sys.stderr.isatty()


@contextlib.contextmanager
def progress_display(enabled: bool) -> Iterator[Callable[[str, int, int | None], None] | None]:
    """A ``progress(step, done, total)`` callback drawing on stderr, or None when not enabled."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bars:
        tasks: dict[str, Any] = {}
        totals: dict[str, int | None] = {}

        def update(step: str, done: int, total: int | None) -> None:
            if step not in tasks:
                for earlier, task in tasks.items():  # a new step: the earlier ones are done
                    finished = totals[earlier] or 1
                    bars.update(task, completed=finished, total=finished)
                tasks[step] = bars.add_task(step, total=total)
                bars.refresh()  # each step is on screen at once, however short
            totals[step] = total
            bars.update(tasks[step], completed=done, total=total)

        yield update
