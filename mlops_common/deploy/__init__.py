"""Deploy the model behind a registry alias: one interface, four targets.

``local`` really runs ``mlops serve`` in the background on 127.0.0.1; ``aws`` (SageMaker),
``gcp`` (Vertex AI) and ``azure`` (Azure ML online endpoints) call their cloud SDK, installed with
the matching extra (``pip install 'mlops-common[aws]'``). Settings come from a table such as
``[tool.mlops.deploy.aws]`` in the project's ``pyproject.toml``, overridden by keyword arguments.

>>> from mlops_common.deploy import get_target
>>> target = get_target("local", port=8123)  # doctest: +SKIP
>>> result = target.deploy(alias="champion")  # doctest: +SKIP
>>> target.status().healthy  # doctest: +SKIP
True
>>> target.rollback().model_version  # doctest: +SKIP
'2'
"""

from __future__ import annotations

from typing import Any

from mlops_common.deploy.base import (
    CloudTarget,
    DeployResult,
    DeployStatus,
    DeployTarget,
    ModelRef,
    immutable_image,
    resolve_model,
)
from mlops_common.errors import DeployError

__all__ = [
    "PROJECT_KEYS",
    "TARGETS",
    "CloudTarget",
    "DeployResult",
    "DeployStatus",
    "DeployTarget",
    "ModelRef",
    "get_target",
    "immutable_image",
    "resolve_model",
]

# What the template renders flat in [tool.mlops] (copier answers) -> the target's settings.
PROJECT_KEYS = {
    "aws": {"aws_region": "region", "aws_account_id": "account_id"},
    "gcp": {"gcp_project": "project", "gcp_region": "region"},
    "azure": {
        "azure_subscription_id": "subscription_id",
        "azure_resource_group": "resource_group",
        "azure_workspace": "workspace",
    },
}

# name -> "module:class", imported only when asked for so SDKs stay out of `import mlops_common`.
TARGETS = {
    "local": "mlops_common.deploy.local:LocalTarget",
    "aws": "mlops_common.deploy.aws:SageMakerTarget",
    "gcp": "mlops_common.deploy.gcp:VertexTarget",
    "azure": "mlops_common.deploy.azure:AzureMLTarget",
}


def get_target(name: str | None = None, **settings: Any) -> DeployTarget:
    """The deploy target ``name`` (default: the project's ``cloud``), configured for the project.

    Settings are, by precedence: keyword arguments, ``[tool.mlops.deploy.<name>]``, then what
    ``[tool.mlops]`` holds (``model_name``, the tracking URI, ``aws_region``, ``gcp_project``,
    ``azure_workspace``, ... as rendered by the template), then the target's defaults.

    >>> get_target("local", port=8123).port  # doctest: +SKIP
    8123
    """
    import importlib

    from mlops_common.config import load_project_config
    from mlops_common.store import resolve_tracking_uri

    config = load_project_config(settings.pop("project_root", None))
    chosen = name or str(config.extra.get("cloud") or "local")
    if chosen not in TARGETS:
        raise DeployError(
            f"unknown deploy target '{chosen}'; choose one of {', '.join(TARGETS)} "
            "(or set `cloud` in [tool.mlops])"
        )
    deploy_table = config.extra.get("deploy", {})
    from_project = deploy_table.get(chosen, {}) if isinstance(deploy_table, dict) else None
    if not isinstance(from_project, dict):
        raise DeployError(
            f"{config.root / 'pyproject.toml'}: [tool.mlops.deploy.{chosen}] must be a table"
        )
    merged: dict[str, Any] = {
        "project_root": config.root,
        "model_name": config.model_name,
        "tracking_uri": resolve_tracking_uri(None, config),
        **{
            setting: config.extra[key]
            for key, setting in PROJECT_KEYS.get(chosen, {}).items()
            if config.extra.get(key)
        },
        **from_project,
        **settings,
    }
    module_name, class_name = TARGETS[chosen].split(":")
    target_class = getattr(importlib.import_module(module_name), class_name)
    accepted = target_class.settings()
    unknown = sorted(set(merged) - set(accepted))
    if unknown:
        raise DeployError(
            f"the {chosen} target has no setting {', '.join(unknown)}; "
            f"it accepts {', '.join(sorted(accepted))}"
        )
    return target_class(**merged)
