"""Status and bulk update over many projects rendered from the template.

``collect_projects`` finds the fleet (arguments, a YAML inventory, a scanned folder, git URLs
cloned shallowly into a cache); ``fleet_status`` compares each project with the newest template
release and the standard; ``fleet_update`` moves each one to a release on its own branch in a
separate worktree and runs its checks. Copier is needed only by ``fleet_update`` (the ``fleet``
extra) and runs in a subprocess.

>>> from mlops_common.fleet import collect_projects, fleet_status
>>> report = fleet_status(collect_projects(["clients/churn-model"]))  # doctest: +SKIP
>>> first_row = report.rows()[0]  # doctest: +SKIP
>>> first_row[:3]  # doctest: +SKIP
['churn-model', 'v1.0.0', 'v2.0.0']
"""

from mlops_common.fleet._projects import Project, collect_projects, scan_for_projects
from mlops_common.fleet.status import CHECKS, FleetStatusReport, ProjectStatus, fleet_status
from mlops_common.fleet.update import (
    CONFLICTS,
    FAILED_CHECKS,
    OUTCOMES,
    SKIPPED,
    UPDATED_CLEAN,
    FleetUpdateReport,
    ProjectUpdate,
    default_check_commands,
    fleet_update,
)

__all__ = [
    "CHECKS",
    "CONFLICTS",
    "FAILED_CHECKS",
    "OUTCOMES",
    "SKIPPED",
    "UPDATED_CLEAN",
    "FleetStatusReport",
    "FleetUpdateReport",
    "Project",
    "ProjectStatus",
    "ProjectUpdate",
    "collect_projects",
    "default_check_commands",
    "fleet_status",
    "fleet_update",
    "scan_for_projects",
]
