"""The documentation site builds with --strict: broken links and missing references fail."""

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_docs_site_builds_strict_with_generated_pages(tmp_path):
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    answers = (site / "reference" / "answers" / "index.html").read_text(encoding="utf-8")
    assert "package_name" in answers and "dvc_remote_url" in answers
    cli = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    assert "mlops fleet update" in cli and "mlops drift" in cli
    assert 'id="exit-codes"' in cli and "the environment: tracking store unreachable" in cli
    assert "Deprecated, still accepted with a warning" in cli  # rollback --to, deploy up --version
    drift_example = (site / "examples" / "drift-report.html").read_text(encoding="utf-8")
    assert "mean_radius" in drift_example
    fleet_example = (site / "examples" / "fleet-report.html").read_text(encoding="utf-8")
    assert "churn-model" in fleet_example and "demand-forecast" in fleet_example
