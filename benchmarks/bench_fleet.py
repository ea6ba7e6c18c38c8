"""Fleet status and fleet update (with push) over N projects; scaling with --jobs; one real update.

    python -m benchmarks.bench_fleet [--projects 50] [--jobs 1 2 4] [--skip-default]

Two parts, both with real Copier, real git and bare remotes over file://:

1. The fleet: N projects rendered from a small throwaway template (five files, two releases,
   a client-owned params.yaml that the second release extends), each its own git repository with
   a bare ``origin``. Times ``fleet_status`` once, then ``fleet_update --push`` to v1.1.0 once per
   ``--jobs`` value (the update branches are deleted locally and on the remotes in between), and
   plain ``copier update`` of one project, the command a team would otherwise run by hand.
   Small renders keep the run bounded; they measure the fleet's own cost per project.
2. One default project (the real template, tools/template_repo.py releases) updated from
   v2.1.0 to v2.2.0 without its checks (pristine renders, copier update, merge, commit; goal
   <= 4 s), then its checks timed apart (ruff, pytest, dvc status, pipeline params).

Prints times and ratios; timings never become assertions.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlops_common.fleet import collect_projects, fleet_status, fleet_update
from mlops_common.fleet.checks import default_check_commands, run_checks
from tools.template_repo import git

ROOT = Path(__file__).resolve().parent.parent
BRANCH = "template-update/v1.1.0"


def small_template(dest: Path) -> Path:
    dest.mkdir(parents=True)
    git(dest, "init", "--quiet", "--initial-branch=main")
    (dest / "copier.yml").write_text(
        "_answers_file: .copier-answers.yml\n_skip_if_exists: [params.yaml]\n"
        "project_name:\n  type: str\n  default: bench\n"
    )
    (dest / "{{_copier_conf.answers_file}}.jinja").write_text(
        "{{ _copier_answers|to_nice_yaml -}}\n"
    )
    (dest / "README.md.jinja").write_text("# {{ project_name }}\n")
    (dest / "params.yaml").write_text("train:\n  seed: 42\n")
    (dest / "dvc.yaml").write_text("stages:\n  train:\n    cmd: echo train\n    params: [train]\n")
    (dest / "code.py").write_text("VALUE = 1\n")
    git(dest, "add", "--all")
    git(dest, "commit", "--quiet", "-m", "1.0.0")
    git(dest, "tag", "v1.0.0")
    (dest / "code.py").write_text("VALUE = 2\n")
    (dest / "params.yaml").write_text("train:\n  seed: 42\nevaluate:\n  k: 3\n")
    (dest / "dvc.yaml").write_text(
        "stages:\n  train:\n    cmd: echo train\n    params: [train, evaluate]\n"
    )
    git(dest, "commit", "--quiet", "-am", "1.1.0")
    git(dest, "tag", "v1.1.0")
    return dest


def build_fleet(work: Path, template: Path, count: int) -> tuple[list[Path], list[Path], float]:
    import copier

    seed = work / "seed"
    started = time.perf_counter()
    copier.run_copy(str(template), str(seed), defaults=True, quiet=True, vcs_ref="v1.0.0")
    render = time.perf_counter() - started
    git(seed, "init", "--quiet", "--initial-branch=main")
    git(seed, "add", "--all")
    git(seed, "commit", "--quiet", "-m", "render")
    projects, remotes = [], []
    for index in range(count):
        project = work / "fleet" / f"client-{index:03d}"
        remote = work / "remotes" / f"client-{index:03d}.git"
        shutil.copytree(seed, project, symlinks=True)
        remote.parent.mkdir(parents=True, exist_ok=True)
        git(remote.parent, "init", "--quiet", "--bare", "--initial-branch=main", remote.name)
        git(project, "remote", "add", "origin", remote.as_uri())
        git(project, "push", "--quiet", "origin", "main")
        git(project, "remote", "set-head", "origin", "main")
        projects.append(project)
        remotes.append(remote)
    return projects, remotes, render


def reset(projects: list[Path], remotes: list[Path]) -> None:
    for project, remote in zip(projects, remotes, strict=True):
        subprocess.run(["git", "branch", "-D", BRANCH], cwd=project, capture_output=True)
        subprocess.run(["git", "branch", "-D", BRANCH], cwd=remote, capture_output=True)


def plain_copier_update(project: Path, copy: Path, ref: str) -> float:
    """Seconds of what a team runs by hand, `copier update --trust --defaults`, on a copy."""
    shutil.copytree(project, copy, symlinks=True)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "copier", "update", "--defaults", "--trust", "--quiet",
         "--vcs-ref", ref, str(copy)],
        check=True, capture_output=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - started


def fleet_part(work: Path, count: int, jobs_list: list[int]) -> None:
    template = small_template(work / "small-template")
    paths, remotes, render = build_fleet(work, template, count)
    print(f"small template: copier copy of one project {render:.2f} s")
    by_hand = plain_copier_update(paths[0], work / "by-hand", "v1.1.0")
    print(f"plain copier update of one project (by hand, no safety): {by_hand:.2f} s")
    projects = collect_projects(paths)

    started = time.perf_counter()
    status = fleet_status(projects)
    seconds = time.perf_counter() - started
    print(
        f"fleet status, {len(projects)} projects: {seconds:.2f} s "
        f"({1000 * seconds / len(projects):.0f} ms per project; "
        f"{sum(p.behind for p in status.projects)} behind)"
    )
    timings: dict[int, float] = {}
    for jobs in jobs_list:
        reset(paths, remotes)
        started = time.perf_counter()
        report = fleet_update(
            projects, templates=[str(template)], to="v1.1.0", jobs=jobs, check="", push=True
        )
        timings[jobs] = time.perf_counter() - started
        per = timings[jobs] / len(projects)
        print(
            f"fleet update --push --jobs {jobs}, {len(projects)} projects: {timings[jobs]:.1f} s "
            f"({per:.2f} s per project, {per / by_hand:.2f}x a plain copier update) "
            f"{report.counts()}"
        )
    base = timings[jobs_list[0]]
    for jobs, seconds in timings.items():
        print(f"speed-up --jobs {jobs} vs --jobs {jobs_list[0]}: {base / seconds:.2f}x")


def default_part(work: Path) -> None:
    from tools import template_repo as tpl

    repo = tpl.add_rename_release(tpl.build_template_repo(work / "template"))
    project = tpl.render_client(work / "default", repo, "v2.1.0")
    plain = plain_copier_update(project, work / "default-by-hand", "v2.2.0")
    print(f"default project: plain copier update v2.1.0 -> v2.2.0 (by hand): {plain:.2f} s")
    started = time.perf_counter()
    report = fleet_update(collect_projects([project]), templates=[str(repo.path)], check="")
    update = time.perf_counter() - started
    result = report.results[0]
    print(
        f"default project v2.1.0 -> v2.2.0 without checks (renders, copier update, merge, "
        f"commit): {update:.2f} s [{result.outcome}; goal <= 4 s; {update / plain:.2f}x the "
        "plain copier update]"
    )
    checkout = work / "checked"
    git(work, "clone", "--quiet", "--branch", "template-update/v2.2.0", str(project), str(checkout))
    for argv in default_check_commands():
        started = time.perf_counter()
        ok, output = run_checks(checkout, [argv], timeout=900)
        label = " ".join(Path(a).name if a == sys.executable else a for a in argv[:4])
        line = output.splitlines()[0] if output else ""
        print(f"  check {label}: {time.perf_counter() - started:.2f} s {'ok' if ok else line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--skip-default", action="store_true", help="only the fleet part")
    parser.add_argument("--skip-fleet", action="store_true", help="only the default project")
    args = parser.parse_args()
    bytecode = "off" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "on"
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
        f"bytecode writing {bytecode}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        work = Path(tmp)
        if not args.skip_fleet:
            fleet_part(work, args.projects, args.jobs)
        if not args.skip_default:
            default_part(work)


if __name__ == "__main__":
    main()
