"""What the rendered project promises a reviewer, checked on real Copier renders: the gate closes
unattended by default, the card's text and the fairness rule read as the library reads them,
and every deploy job deploys `champion`, the alias only a passing gate or an approval moves."""

from __future__ import annotations

import re

import pytest
import yaml

from mlops_common.card import CARD_FIELDS, _intended
from mlops_common.gate import GateConfig

# Every way a rendered CI file could move an alias or deploy something other than `champion`.
_ALIAS_MOVES = re.compile(r"mlops (promote|approve|reject|rollback)\b|set_registered_model_alias")


@pytest.mark.parametrize("ml_task", ["classification", "regression"])
def test_rendered_gate_closes_unattended_and_the_card_text_is_valid(render_project, ml_task):
    project = render_project(ml_task=ml_task, author_name='Ana "QA" Lopez')
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    gate = GateConfig.from_dict(params["gate"])
    assert gate.approval == "none" and gate.fairness is None
    card = _intended(params)
    assert set(params["model_card"]) <= set(CARD_FIELDS)
    assert card["owner"].startswith('Ana "QA" Lopez <') and card["owner"].endswith(">")
    assert card["intended_use"].startswith("Demonstration:") and len(card["limitations"]) == 2
    dvc = yaml.safe_load((project / "dvc.yaml").read_text(encoding="utf-8"))
    outs = [next(iter(out)) for out in dvc["stages"]["register"]["outs"]]
    assert outs == ["reports/promotion.json", "reports/model_card.md", "reports/model_card.html"]


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_every_rendered_deploy_job_deploys_champion_and_no_ci_job_moves_an_alias(
    render_project, ci
):
    project = render_project(ci=ci, cloud="aws", with_docker=True)
    files = (
        [project / ".gitlab-ci.yml"]
        if ci == "gitlab"
        else [*sorted((project / ".github" / "workflows").glob("*.yml"))]
    )
    deploys = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not _ALIAS_MOVES.search(text), f"{path.name} moves a registry alias"
        deploys += re.findall(r"mlops deploy up[^\n]*", text)
    assert deploys, "no deploy job rendered"
    for command in deploys:
        # `mlops deploy up` deploys the `champion` alias unless told otherwise.
        alias = re.search(r"--alias[ =](\S+)", command)
        assert alias is None or alias.group(1).strip("'\"") == "champion", command
        assert "--version" not in command and not re.search(r"deploy up \d", command), command
