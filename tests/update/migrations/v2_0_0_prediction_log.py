"""Copier migration for 2.0.0: the prediction log moved from ./predictions.jsonl to logs/.

Copier runs this once, after rendering, when a project is updated across 2.0.0 (see the
`_migrations` entry in copier.yml). It runs in the project folder and is safe to run again:
with no old log it does nothing, and an old log is appended to the new one, never overwrites it.
"""

from __future__ import annotations

import sys
from pathlib import Path

OLD = Path("predictions.jsonl")
NEW = Path("logs") / "predictions.jsonl"


def main() -> int:
    if not OLD.is_file():
        print("migration 2.0.0: no ./predictions.jsonl, nothing to move")
        return 0
    NEW.parent.mkdir(parents=True, exist_ok=True)
    old_text = OLD.read_text(encoding="utf-8")
    if NEW.is_file():
        existing = NEW.read_text(encoding="utf-8")
        joiner = "" if not existing or existing.endswith("\n") else "\n"
        NEW.write_text(existing + joiner + old_text, encoding="utf-8")
    else:
        NEW.write_text(old_text, encoding="utf-8")
    OLD.unlink()
    print(f"migration 2.0.0: moved {OLD} to {NEW}, where prediction_log now points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
