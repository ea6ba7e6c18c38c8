"""A model card per registered version: what a client's reviewer reads before saying yes.

:func:`build_card` gathers, for one version, everything the project already recorded: intended
use and limitations (the ``model_card`` section of ``params.yaml``), the training data and its
validation (the run's tags and ``validation/validation_result.json``), the metrics against the
champion, the gate's decision and checks, fairness, approvals and every decision of the audit
trail (:mod:`mlops_common.audit`), and lineage (git commit, DVC data hashes, run id, template
and library versions). The card renders as Markdown (:meth:`ModelCard.to_markdown`) and as one
self-contained HTML page (:meth:`ModelCard.write_html`: inline CSS, no scripts);
:func:`save_card` writes both to ``reports/`` and logs them with the version (artifacts of its
training run under ``model_card/``, and the ``mlops.card`` tag on the version). The rendered
register stage does this for every registered version; ``mlops card VERSION`` does it on demand.
A logged card follows the decisions made after it: :func:`refresh_card`, which the registry calls
after every approval, rejection, rollback and change of champion, logs it again from the trail
(keeping the intended use the card was logged with, from its ``model_card.json``).

>>> card = build_card("churn-model", "4", params=load_params("params.yaml"))  # doctest: +SKIP
>>> save_card(card, "reports")  # doctest: +SKIP
[PosixPath('reports/model_card.md'), PosixPath('reports/model_card.html')]
"""

from __future__ import annotations

import html
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlops_common import audit, store, tags
from mlops_common.errors import ConfigError
from mlops_common.results import Result

__all__ = ["CARD_FIELDS", "ModelCard", "build_card", "refresh_card", "save_card"]

#: Keys of the ``model_card`` section of ``params.yaml``, in the order the card shows them.
CARD_FIELDS = {
    "owner": "Owner",
    "intended_use": "Intended use",
    "users": "Intended users",
    "out_of_scope": "Out of scope",
    "ethical_considerations": "Ethical considerations",
    "limitations": "Limitations",
}
_NOT_GIVEN = "not stated (add it to the model_card section of params.yaml)"
_VALIDATION_ARTIFACT = "validation/validation_result.json"
_CARD_FOLDER = "model_card"
#: The logged card as data: what :func:`refresh_card` rebuilds the intended use from.
_CARD_DATA = f"{_CARD_FOLDER}/model_card.json"


def _intended(params: Mapping[str, Any] | None) -> dict[str, Any]:
    section = (params or {}).get("model_card") or {}
    if not isinstance(section, Mapping):
        raise ConfigError("params.yaml model_card: expected a mapping like {intended_use: ...}")
    unknown = sorted(set(map(str, section)) - set(CARD_FIELDS))
    if unknown:
        raise ConfigError(
            f"params.yaml model_card: unknown key(s) {', '.join(unknown)}; allowed: "
            f"{', '.join(CARD_FIELDS)}"
        )
    return {key: section.get(key) for key in CARD_FIELDS}


@dataclass
class ModelCard(Result):
    """Everything the card shows, as plain data (``to_dict``), Markdown and HTML."""

    model_name: str
    version: str
    generated_at: str
    aliases: list[str]
    status: str
    intended: dict[str, Any]
    validation: dict[str, Any]
    metrics: list[dict[str, Any]]
    decision: dict[str, Any] | None
    fairness: dict[str, Any] | None
    reviews: list[dict[str, Any]]
    history: list[dict[str, Any]]
    lineage: dict[str, Any]
    paths: list[str] = field(default_factory=list)

    def summary(self) -> str:
        where = f"; wrote {', '.join(self.paths)}" if self.paths else ""
        aliases = f" ({', '.join(self.aliases)})" if self.aliases else ""
        fairness = "not configured"
        if self.fairness:
            fairness = "within max_gap" if self.fairness.get("passed") else "GAP EXCEEDED"
        return (
            f"{self.model_name} v{self.version}{aliases}: model card, status {self.status}, "
            f"validation {self.validation.get('verdict')}, fairness {fairness}, "
            f"{len(self.history)} audit entr{'y' if len(self.history) == 1 else 'ies'}{where}"
        )

    # ------------------------------------------------------------------------ one structure

    def _sections(self) -> list[tuple[str, list[tuple]]]:
        """(title, blocks); a block is ("fields", pairs) | ("table", head, rows, classes) |
        ("list", [(class, text)]) | ("text", str). Both renderings walk this one structure."""
        intended = self.intended
        limitations = intended.get("limitations")
        if isinstance(limitations, str):
            limitations = [limitations]
        use = [
            (label, _text(intended.get(key)) or _NOT_GIVEN)
            for key, label in CARD_FIELDS.items()
            if key != "limitations"
        ]
        validation = self.validation
        data_blocks: list[tuple] = [
            (
                "fields",
                [
                    ("Validation", validation.get("verdict", "not recorded")),
                    ("Suite(s)", validation.get("suite") or "-"),
                ],
            )
        ]
        if validation.get("reports"):
            data_blocks.append(
                (
                    "table",
                    ["data", "suite", "rows", "expectations passed", "result"],
                    [
                        [r["name"], r["suite"], r["rows"], r["passed"], r["result"]]
                        for r in validation["reports"]
                    ],
                    ["good" if r["result"] == "passed" else "bad" for r in validation["reports"]],
                )
            )
        hashes = self.lineage.get("data_hashes") or {}
        if hashes:
            data_blocks.append(
                ("table", ["data file (dvc.lock)", "md5"], [[k, v] for k, v in hashes.items()], [])
            )
        metric_rows = [
            [m["metric"], _num(m["candidate"]), _num(m["champion"]), m["rule"], m["result"]]
            for m in self.metrics
        ]
        decision = self.decision
        gate_blocks: list[tuple] = []
        if decision is None:
            gate_blocks.append(("text", "No gate decision is recorded for this version."))
        else:
            gate_blocks.append(
                (
                    "fields",
                    [
                        ("Outcome", decision["outcome"]),
                        ("Decided by", f"{decision['by']} at {decision['at']}"),
                        ("Champion then", _v(decision.get("champion_before"))),
                        ("Approval", (decision.get("gate") or {}).get("approval", "none")),
                        ("Ties", (decision.get("gate") or {}).get("ties", "keep")),
                    ],
                )
            )
            gate_blocks.append(
                (
                    "list",
                    [
                        (_check_class(c), str(c.get("message")))
                        for c in decision.get("checks") or []
                    ],
                )
            )
        fairness_blocks: list[tuple] = []
        if not self.fairness:
            rule = ((decision or {}).get("gate") or {}).get("fairness")
            fairness_blocks.append(
                (
                    "text",
                    "Fairness was not measured: the gate has no `fairness` rule "
                    "(gate.fairness in params.yaml)."
                    if not rule
                    else "The gate asks for fairness, but none was measured for this version.",
                )
            )
        else:
            fair = self.fairness
            fairness_blocks.append(
                (
                    "fields",
                    [
                        ("Metric", fair.get("metric")),
                        ("Largest allowed gap", _num(fair.get("max_gap"))),
                        ("Overall", _num(fair.get("overall"))),
                        ("Verdict", "within max_gap" if fair.get("passed") else "gap exceeded"),
                    ],
                )
            )
            for column in fair.get("columns") or []:
                rows = [
                    [group, _num(value), column.get("counts", {}).get(group, "")]
                    for group, value in (column.get("groups") or {}).items()
                ]
                fairness_blocks.append(
                    (
                        "table",
                        [f"{column['column']} (gap {_num(column['gap'])})", fair["metric"], "rows"],
                        rows,
                        ["good" if column.get("passed") else "bad"] * len(rows),
                    )
                )
        review_blocks: list[tuple] = (
            [
                (
                    "table",
                    ["when (UTC)", "outcome", "approver", "reason"],
                    [
                        [r["at"], r["outcome"], r["approver"] or r["by"], r["reason"]]
                        for r in self.reviews
                    ],
                    ["good" if r["outcome"] == "approved" else "bad" for r in self.reviews],
                )
            ]
            if self.reviews
            else [("text", "No approval or rejection is recorded for this version.")]
        )
        history_rows = [
            [
                e["at"],
                e["action"],
                e["outcome"],
                e["by"],
                _v(e.get("champion_before")),
                _v(e.get("champion_after")),
            ]
            for e in self.history
        ]
        lineage = self.lineage
        return [
            ("Intended use", [("fields", use)]),
            ("Data and validation", data_blocks),
            (
                "Metrics against the champion",
                [
                    (
                        "table",
                        ["metric", "this version", "champion then", "rule", "result"],
                        metric_rows,
                        [_result_class(m["result"]) for m in self.metrics],
                    )
                ]
                if metric_rows
                else [("text", "No metrics are recorded for this version.")],
            ),
            ("Gate decision", gate_blocks),
            ("Fairness", fairness_blocks),
            ("Approvals", review_blocks),
            (
                "Decision history (audit trail)",
                [
                    (
                        "table",
                        [
                            "when (UTC)",
                            "action",
                            "outcome",
                            "by",
                            "champion before",
                            "champion after",
                        ],
                        history_rows,
                        [
                            "bad" if e["outcome"] in audit.NEGATIVE_OUTCOMES else ""
                            for e in self.history
                        ],
                    )
                ]
                if history_rows
                else [("text", "The audit trail has no entry for this version.")],
            ),
            (
                "Lineage",
                [
                    (
                        "fields",
                        [
                            ("Training run", lineage.get("run_id") or "-"),
                            ("Git commit", lineage.get("git_commit") or "unknown"),
                            ("Working tree", lineage.get("git_dirty") or "unknown"),
                            ("Template", lineage.get("template") or "unknown"),
                            ("mlops-common", lineage.get("mlops_common") or "unknown"),
                            ("Python", lineage.get("python") or "unknown"),
                            ("Model source", lineage.get("source") or "-"),
                            ("Model sha256", lineage.get("digest") or "not recorded"),
                        ],
                    )
                ],
            ),
            (
                "Limitations",
                [("list", [("", _text(item)) for item in limitations])]
                if limitations
                else [("text", _NOT_GIVEN)],
            ),
        ]

    # ------------------------------------------------------------------------------ Markdown

    def to_markdown(self) -> str:
        """The card as GitHub-flavoured Markdown."""
        aliases = f" ({', '.join(self.aliases)})" if self.aliases else ""
        lines = [
            f"# Model card: {self.model_name} v{self.version}",
            "",
            f"Status: **{self.status}**{aliases}. Generated {self.generated_at} by mlops-common "
            "from the registry and its audit trail.",
        ]
        for title, blocks in self._sections():
            lines += ["", f"## {title}", ""]
            for block in blocks:
                lines += [*_markdown_block(block), ""]
        return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"

    def write_markdown(self, path: str | Path) -> Path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.to_markdown(), encoding="utf-8")
        return target

    # ---------------------------------------------------------------------------------- HTML

    def to_html(self) -> str:
        """The card as one self-contained HTML page (inline CSS; no scripts, fonts or CDN)."""
        esc = html.escape
        status_class = _result_class(self.status)
        aliases = "".join(
            f'<span class="alias">{esc(a)}</span>' for a in self.aliases if a != self.status
        )
        parts = [
            '<!doctype html><html lang="en"><head><meta charset="utf-8">',
            f"<title>Model card: {esc(self.model_name)} v{esc(self.version)}</title>",
            f"<style>{_CSS}</style></head><body><main>",
            f"<h1>{esc(self.model_name)} <small>v{esc(self.version)}</small></h1>",
            f'<p class="meta"><span class="status {status_class}">{esc(self.status)}</span>'
            f"{aliases} generated {esc(self.generated_at)} from the registry and its audit "
            "trail</p>",
        ]
        for title, blocks in self._sections():
            parts.append(f"<section><h2>{esc(title)}</h2>")
            parts += [_html_block(block) for block in blocks]
            parts.append("</section>")
        parts.append("</main></body></html>\n")
        return "".join(parts)

    def write_html(self, path: str | Path) -> Path:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.to_html(), encoding="utf-8")
        return target


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1f2933;
background:#f5f7fa}
main{max-width:980px;margin:0 auto;padding:1.5rem 2rem;background:#fff;min-height:100vh}
h1{font-size:1.5rem;margin:.2rem 0}h1 small{color:#616e7c;font-weight:500}
h2{font-size:1.1rem;margin:1.6rem 0 .5rem;border-bottom:2px solid #e4e7eb;padding-bottom:.2rem}
p.meta{color:#616e7c;margin-top:.2rem}
.status,.alias{display:inline-block;padding:.15rem .6rem;border-radius:1rem;font-size:.85rem;
margin-right:.4rem;font-weight:600}
.status.good{background:#c6f6d5;color:#22543d}.status.bad{background:#fed7d7;color:#822727}
.status.warn{background:#fefcbf;color:#744210}.status.{background:#e4e7eb}
.alias{background:#e0e8f9;color:#2a4365;font-weight:500}
table{border-collapse:collapse;width:100%;font-size:.88rem;margin:.4rem 0 .8rem}
th,td{border-bottom:1px solid #d9e2ec;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f4f8}
table.fields th{width:14rem;background:none;color:#52606d;font-weight:500}
tr.bad td{background:#fff5f5}tr.good td{background:#f0fff4}tr.warn td{background:#fffbea}
ul.checks{list-style:none;padding-left:0}
ul.checks li{padding:.2rem 0 .2rem 1.6rem;position:relative}
ul.checks li.good:before{content:"\\2713";color:#2f855a;position:absolute;left:.3rem}
ul.checks li.bad:before{content:"\\2717";color:#c53030;position:absolute;left:.3rem}
ul.checks li.warn:before{content:"\\2013";color:#b7791f;position:absolute;left:.3rem}
ul.checks li.bad{color:#822727}
code{font-size:.85em}
"""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(_text(item) for item in value)
    return " ".join(str(value).split())


def _num(value: Any) -> str:
    if isinstance(value, bool) or value is None or value == "":
        return "-" if value in (None, "") else str(value)
    if isinstance(value, (int, float)):
        return f"{value:.4g}"
    return str(value)


def _v(version: Any) -> str:
    return f"v{version}" if version else "-"


def _result_class(result: str) -> str:
    if result in ("passed", "promoted", "approved", "champion", "rolled-back"):
        return "good"
    if result in ("failed", "refused", "rejected"):
        return "bad"
    if result in ("awaiting-approval", "skipped"):
        return "warn"
    return ""


def _check_class(check: Mapping[str, Any]) -> str:
    """A GateCheck's dict: passed, failed, or skipped (None)."""
    return {True: "good", False: "bad"}.get(check.get("passed"), "warn")


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _markdown_block(block: tuple) -> list[str]:
    kind = block[0]
    if kind == "text":
        return [block[1]]
    if kind == "fields":
        return [
            "| | |",
            "| --- | --- |",
            *(f"| **{_cell(k)}** | {_cell(v)} |" for k, v in block[1]),
        ]
    if kind == "list":
        marks = {"good": "[x] ", "bad": "**[ ] FAILED:** ", "warn": "[-] "}
        return [f"- {marks.get(cls, '')}{text}" for cls, text in block[1]]
    head, rows = block[1], block[2]
    return [
        "| " + " | ".join(map(_cell, head)) + " |",
        "|" + " --- |" * len(head),
        *("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows),
    ]


def _html_block(block: tuple) -> str:
    esc = html.escape
    kind = block[0]
    if kind == "text":
        return f"<p>{esc(block[1])}</p>"
    if kind == "fields":
        rows = "".join(
            f"<tr><th>{esc(str(k))}</th><td>{esc(str(v))}</td></tr>" for k, v in block[1]
        )
        return f'<table class="fields">{rows}</table>'
    if kind == "list":
        if not any(cls for cls, _ in block[1]):  # plain bullets (limitations)
            return "<ul>" + "".join(f"<li>{esc(text)}</li>" for _, text in block[1]) + "</ul>"
        items = "".join(f'<li class="{cls}">{esc(text)}</li>' for cls, text in block[1])
        return f'<ul class="checks">{items}</ul>'
    head, rows, classes = block[1], block[2], block[3]
    header = "".join(f"<th>{esc(str(h))}</th>" for h in head)
    body = "".join(
        f'<tr class="{classes[i] if i < len(classes) else ""}">'
        + "".join(f"<td>{esc(str(c))}</td>" for c in row)
        + "</tr>"
        for i, row in enumerate(rows)
    )
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


# ---------------------------------------------------------------------------- gathering facts


def _validation(client: Any, run: Any) -> dict[str, Any]:
    """The run's validation verdict, and per data file when the run logged the result."""
    if run is None:
        return {"verdict": "not recorded", "suite": None, "reports": []}
    success = run.data.tags.get(tags.VALIDATION_SUCCESS)
    verdict = {"true": "passed", "false": "failed"}.get(success or "", "not recorded")
    found: dict[str, Any] = {
        "verdict": verdict,
        "suite": run.data.tags.get(tags.VALIDATION_SUITE),
        "reports": [],
    }
    try:
        with tempfile.TemporaryDirectory() as folder:
            local = client.download_artifacts(run.info.run_id, _VALIDATION_ARTIFACT, folder)
            payload = json.loads(Path(local).read_text(encoding="utf-8"))
    except Exception:  # no such artifact (older runs, or validation not recorded)
        return found
    reports = payload.get("reports")
    named = reports.items() if isinstance(reports, Mapping) else [("data", payload)]
    for name, report in named:
        if not isinstance(report, Mapping):
            continue
        stats = report.get("statistics") or {}
        evaluated = stats.get("evaluated_expectations")
        passed = stats.get("successful_expectations")
        found["reports"].append(
            {
                "name": str(report.get("data_source") or name),
                "suite": str(report.get("suite_name") or "-"),
                "rows": report.get("row_count", "-"),
                "passed": "-" if evaluated is None else f"{passed}/{evaluated}",
                "result": "passed" if report.get("success") is True else "failed",
            }
        )
    return found


def _metric_rows(decision: audit.AuditEntry | None) -> list[dict[str, Any]]:
    if decision is None:
        return []
    rules = (decision.gate or {}).get("metrics") or {}
    champion = decision.champion_metrics or {}
    rows = []
    for name, value in sorted(decision.candidate_metrics.items()):
        rule = rules.get(name) or {}
        said = [f"{k} {v:g}" for k, v in rule.items() if k in ("min", "max") and v is not None]
        if rule.get("direction"):
            said.append(f"{rule['direction']} is better, margin {rule.get('margin') or 0:g}")
        related = [c for c in decision.checks if c.get("metric") == name]
        if not rule:
            result = "not gated"
        elif any(c.get("passed") is False for c in related):
            result = "failed"
        elif related and all(c.get("passed") is None for c in related):
            result = "skipped"
        else:
            result = "passed"
        rows.append(
            {
                "metric": name,
                "candidate": value,
                "champion": champion.get(name),
                "rule": "; ".join(said) or "-",
                "result": result,
            }
        )
    return rows


def _template_version(root: Path | None) -> str | None:
    if root is None:
        return None
    answers = root / ".copier-answers.yml"
    if not answers.is_file():
        return None
    import yaml

    try:
        data = yaml.safe_load(answers.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        return None
    commit, source = data.get("_commit"), data.get("_src_path")
    if not commit and not source:
        return None
    return f"{commit or 'unknown'} ({source})" if source else str(commit)


def build_card(
    model_name: str,
    version: str | int,
    *,
    params: Mapping[str, Any] | None = None,
    project_root: Path | str | None = None,
    tracking_uri: str | None = None,
) -> ModelCard:
    """Gather the card of ``version`` from the registry, its run and the audit trail.

    ``params`` is the project's ``params.yaml`` (its ``model_card`` section); ``project_root``
    where ``.copier-answers.yml`` says which template release rendered the project.
    """
    from mlflow.exceptions import MlflowException

    intended = _intended(params)
    client = store.client(tracking_uri)
    version = str(version)
    model_version = store.model_version(client, model_name, version=version)
    run = None
    if model_version.run_id:
        try:
            run = client.get_run(model_version.run_id)
        except MlflowException:
            run = None
    entries = audit.read_trail(client, model_name, version=version).entries
    decision = next((e for e in entries if e.action == "gate"), None)
    latest = entries[0] if entries else None
    aliases = sorted(getattr(model_version, "aliases", None) or [])
    if "champion" in aliases:
        status = "champion"
    elif latest is None:
        status = "registered"
    elif latest.outcome in audit.CROWNING_OUTCOMES:
        status = "former champion"  # crowned once, replaced since
    else:
        status = latest.outcome
    run_tags = run.data.tags if run is not None else {}
    lineage = audit.version_lineage(client, model_version)
    lineage.update(
        {
            "git_dirty": {"true": "dirty", "false": "clean"}.get(run_tags.get(tags.GIT_DIRTY, "")),
            "template": _template_version(Path(project_root) if project_root else None),
            "mlops_common": run_tags.get(tags.PKG_PREFIX + "mlops-common"),
            "python": run_tags.get(tags.PYTHON),
            "source": model_version.source,
            "digest": (model_version.tags or {}).get(tags.MODEL_DIGEST),
        }
    )
    return ModelCard(
        model_name=model_name,
        version=version,
        generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        aliases=aliases,
        status=status,
        intended=intended,
        validation=_validation(client, run),
        metrics=_metric_rows(decision),
        decision=None if decision is None else decision.to_dict(),
        fairness=None if decision is None else decision.fairness,
        reviews=[e.to_dict() for e in entries if e.action in ("approve", "reject")],
        history=[e.to_dict() for e in entries],
        lineage=lineage,
    )


def save_card(
    card: ModelCard,
    directory: Path | str = "reports",
    *,
    stem: str = "model_card",
    log: bool = True,
    tracking_uri: str | None = None,
) -> list[Path]:
    """Write ``<stem>.md`` and ``<stem>.html`` to ``directory``; with ``log``, also log both as
    artifacts of the version's training run (``model_card/``) and tag the version with where.

    >>> save_card(build_card("churn-model", "4"), "reports")  # doctest: +SKIP
    [PosixPath('reports/model_card.md'), PosixPath('reports/model_card.html')]
    """
    folder = Path(directory)
    paths = [card.write_markdown(folder / f"{stem}.md"), card.write_html(folder / f"{stem}.html")]
    card.paths = [str(path) for path in paths]
    if log:
        _log_card(card, store.client(tracking_uri))
    return paths


def _log_card(card: ModelCard, client: Any) -> str | None:
    """Log ``card`` as ``model_card/model_card.{md,html,json}`` of its training run and tag the
    version with where; the same names each time, so a refreshed card replaces the old one."""
    from mlops_common.gate_lock import retry_locked

    run_id = card.lineage.get("run_id")
    if not run_id:
        return None
    with tempfile.TemporaryDirectory() as staging:
        folder = Path(staging)
        card.write_markdown(folder / "model_card.md")
        card.write_html(folder / "model_card.html")
        (folder / "model_card.json").write_text(
            json.dumps(card.to_dict(), indent=2, sort_keys=True, default=str), encoding="utf-8"
        )
        for name in ("model_card.md", "model_card.html", "model_card.json"):
            retry_locked(client.log_artifact, run_id, str(folder / name), _CARD_FOLDER)
    where = f"runs:/{run_id}/{_CARD_FOLDER}/model_card.html"
    retry_locked(client.set_model_version_tag, card.model_name, card.version, tags.CARD, where)
    return where


def _logged_card(client: Any, run_id: str) -> dict[str, Any]:
    """The card data logged with a run, or {} (a card logged before model_card.json existed)."""
    try:
        with tempfile.TemporaryDirectory() as folder:
            local = client.download_artifacts(run_id, _CARD_DATA, folder)
            data = json.loads(Path(local).read_text(encoding="utf-8"))
    except Exception:  # no such artifact, or not JSON: rebuild without it
        return {}
    return data if isinstance(data, dict) else {}


def refresh_card(
    model_name: str,
    version: str | int,
    *,
    params: Mapping[str, Any] | None = None,
    tracking_uri: str | None = None,
) -> ModelCard | None:
    """Log ``version``'s card again from the registry and the trail, when a card was logged.

    A version without the ``mlops.card`` tag never had a logged card and gets none (None). The
    intended use comes from ``params`` when given, else from the card logged before; the template
    release from the card logged before. The registry calls this after each decision, so the
    card a reviewer opens from the version shows the approval, rejection or rollback.

    >>> refresh_card("churn-model", "4").status  # doctest: +SKIP
    'champion'
    """
    client = store.client(tracking_uri)
    version = str(version)
    found = store.model_version(client, model_name, version=version)
    if not (found.tags or {}).get(tags.CARD) or not found.run_id:
        return None
    before = _logged_card(client, found.run_id)
    intended = before.get("intended") if isinstance(before.get("intended"), Mapping) else None
    card = build_card(
        model_name,
        version,
        params={"model_card": intended or {}} if params is None else params,
        tracking_uri=tracking_uri,
    )
    if not card.lineage.get("template"):
        card.lineage["template"] = (before.get("lineage") or {}).get("template")
    _log_card(card, client)
    return card
