"""Status, checks and safe bulk updates over many projects rendered from the template.

``collect_projects`` finds the fleet (arguments, a YAML inventory, a scanned folder, git URLs
cloned shallowly into a cache); ``fleet_status`` compares each project with the newest template
release and the standard; ``fleet_check`` is the CI gate on releases behind; ``fleet_update``
moves each project to a release on a review branch, applying only template sources the operator
named and never losing a client file. Copier is needed only by ``fleet_update`` (the ``fleet``
extra) and runs in a subprocess.

>>> from mlops_common.fleet import collect_projects, fleet_status
>>> report = fleet_status(collect_projects(["clients/churn-model"]))  # doctest: +SKIP
>>> report.projects[0].template_version, report.projects[0].newest_release  # doctest: +SKIP
('v1.0.0', 'v2.0.0')
"""

from mlops_common.fleet._projects import (
    Project,
    collect_projects,
    inventory_templates,
    scan_for_projects,
)
from mlops_common.fleet.checks import default_check_commands, missing_params
from mlops_common.fleet.status import (
    CHECKS,
    DEFAULT_MAX_BEHIND,
    UNRELEASED,
    FleetCheckReport,
    FleetStatusReport,
    ProjectStatus,
    fleet_check,
    fleet_status,
)
from mlops_common.fleet.trust import UNTRUSTED, TrustedSources
from mlops_common.fleet.update import (
    CONFLICTS,
    DRY_RUN,
    FAILED_CHECKS,
    NEEDS_REVIEW,
    OUTCOMES,
    SKIPPED,
    UPDATED_CLEAN,
    FleetUpdateReport,
    ProjectUpdate,
    fleet_update,
)

__all__ = [
    "CHECKS",
    "CONFLICTS",
    "DEFAULT_MAX_BEHIND",
    "DRY_RUN",
    "FAILED_CHECKS",
    "NEEDS_REVIEW",
    "OUTCOMES",
    "SKIPPED",
    "UNRELEASED",
    "UNTRUSTED",
    "UPDATED_CLEAN",
    "FleetCheckReport",
    "FleetStatusReport",
    "FleetUpdateReport",
    "Project",
    "ProjectStatus",
    "ProjectUpdate",
    "TrustedSources",
    "collect_projects",
    "default_check_commands",
    "fleet_check",
    "fleet_status",
    "fleet_update",
    "inventory_templates",
    "missing_params",
    "scan_for_projects",
]
