"""Fleet status and fleet update on N real projects; wall time and scaling with --jobs 1/2/4.

    python benchmarks/bench_fleet.py [--projects 50] [--jobs 1 2 4] [--check "ruff check ."]

Builds the throwaway template repository of tests/update/template_repo.py (releases v1.0.0,
v2.0.0, v2.1.0), renders a few v1.0.0 projects with different answers with real Copier and copies
them (each copy its own git repository) up to N. Then it times `fleet_status` once and
`fleet_update` to v2.1.0 once per jobs value; between runs the update branches are deleted, which
is all an update leaves in a project. Checks run `ruff check .` by default (the real default adds
each project's pytest, which measures the projects, not the fleet). Prints times and ratios.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlops_common.fleet import collect_projects, fleet_status, fleet_update

ROOT = Path(__file__).resolve().parent.parent

VARIANTS = [
    {},
    {"cloud": "aws", "ci": "gitlab"},
    {"cloud": "gcp", "gcp_project": "bench-gcp-1", "ci": "none"},
    {"cloud": "azure", "ml_task": "regression"},
    {"with_serving": False, "python_version": "3.12"},
]


def _template_repo_module():
    path = ROOT / "tests" / "update" / "template_repo.py"
    spec = importlib.util.spec_from_file_location("bench_template_repo", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def build_fleet(work: Path, count: int) -> tuple[list[Path], float]:
    tpl = _template_repo_module()
    repo = tpl.build_template_repo(work / "template")
    started = time.perf_counter()
    seeds = [
        tpl.render_client(
            work / "seeds" / f"seed{i}", repo, "v1.0.0", project_name=f"seed {i}", **a
        )
        for i, a in enumerate(VARIANTS)
    ]
    render_seconds = (time.perf_counter() - started) / len(seeds)
    projects = []
    for index in range(count):
        target = work / "fleet" / f"client-{index:03d}"
        shutil.copytree(seeds[index % len(seeds)], target, symlinks=True)
        projects.append(target)
    return projects, render_seconds


def delete_update_branches(projects: list[Path], branch: str) -> None:
    for project in projects:
        subprocess.run(["git", "branch", "-D", branch], cwd=project, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--check", default=f"{sys.executable} -m ruff check .")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        work = Path(tmp)
        paths, render_seconds = build_fleet(work, args.projects)
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
        print(f"copier copy of one project: {render_seconds:.2f} s")
        projects = collect_projects(paths)

        started = time.perf_counter()
        status = fleet_status(projects)
        status_seconds = time.perf_counter() - started
        print(
            f"fleet status, {len(projects)} projects: {status_seconds:.2f} s "
            f"({1000 * status_seconds / len(projects):.0f} ms per project; "
            f"{sum(not p.in_policy for p in status.projects)} out of policy)"
        )

        timings: dict[int, float] = {}
        for jobs in args.jobs:
            delete_update_branches(paths, "template-update/v2.1.0")
            started = time.perf_counter()
            report = fleet_update(
                projects,
                templates=[str(work / "template")],
                to="v2.1.0",
                jobs=jobs,
                check=args.check,
            )
            timings[jobs] = time.perf_counter() - started
            print(
                f"fleet update --jobs {jobs}, {len(projects)} projects: {timings[jobs]:.1f} s "
                f"({timings[jobs] / len(projects):.2f} s per project) {report.counts()}"
            )
        base = timings[args.jobs[0]]
        for jobs, seconds in timings.items():
            print(f"speed-up --jobs {jobs} vs --jobs {args.jobs[0]}: {base / seconds:.2f}x")


if __name__ == "__main__":
    main()
