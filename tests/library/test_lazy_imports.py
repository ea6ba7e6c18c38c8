"""`import mlops_common` and `mlops --help` must stay instant: no heavy library at import time."""

import json
import subprocess
import sys

HEAVY = ["mlflow", "great_expectations", "pandas", "scipy", "sklearn", "fastapi", "feast"]

PROBE = """
import json, sys
{body}
print(json.dumps([m for m in {heavy!r} if m in sys.modules]))
"""


def _imported_heavy_modules(body: str) -> list[str]:
    code = PROBE.format(body=body, heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_mlops_common_loads_no_heavy_library():
    assert _imported_heavy_modules("import mlops_common") == []


def test_every_library_module_imports_without_heavy_libraries():
    body = "\n".join(
        f"import mlops_common.{name}"
        for name in (
            "config",
            "errors",
            "io",
            "validation",
            "monitoring",
            "store",
            "tags",
            "tracking",
            "feature_store",
            "gate",
            "registry",
            "serving",
            "serving.model",
            "serving.predictors",
            "serving.request",
            "serving.capture",
            "serving.entities",
            "serving.app",
            "deploy",
            "fleet",
        )
    )
    assert _imported_heavy_modules(body) == []


def test_mlops_help_loads_no_heavy_library():
    body = (
        "from typer.testing import CliRunner\n"
        "from mlops_common.cli import app\n"
        "result = CliRunner().invoke(app, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "assert 'validate' in result.output"
    )
    assert _imported_heavy_modules(body) == []
