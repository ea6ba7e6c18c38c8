"""The Kubernetes target: every rendered overlay builds, validates and pins an image by digest.

Each ``ci x cloud x with_kserve`` combination that can have the target (read from copier.yml)
renders once. Overlays are built with the kustomize inside kubectl (``kubectl kustomize``) and the
output goes through ``kubernetes-validate --strict`` for one current Kubernetes version; the two
custom resources (KServe InferenceService, ArgoCD Application) go through the schemas in
``k8s_schemas/`` (see its README), which reference kubernetes-validate's strict core definitions.
Run by ``nox -s kubernetes`` (its own environment, with kubernetes-validate).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.project_workflow import REPO_ROOT, template_snapshot
from tools.project_workflow import render_project as render

pytestmark = pytest.mark.xdist_group("kubernetes")

KUBERNETES_VERSION = "1.37.0"  # the newest release kubernetes-validate ships schemas for
BIN_DIR = Path(sys.executable).parent
SCHEMAS = Path(__file__).parent / "k8s_schemas"
COPIER_YML = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
GITOPS_REPO = "https://git.example.com/team/churn-model.git"
DIGEST = "sha256:" + "5e" * 32
INSTALL_HINTS = {
    "kubectl": "kubectl (it bundles kustomize): apt-get install kubectl, or any kubectl >= 1.27",
    "kubernetes-validate": "pip install kubernetes-validate (`nox -s kubernetes` installs it)",
}


def require_tool(name: str) -> str:
    found = shutil.which(name, path=os.pathsep.join([str(BIN_DIR), os.environ.get("PATH", "")]))
    if found is None:
        pytest.fail(f"{name} is not installed: {INSTALL_HINTS[name]}")
    return found


def choices(question: str) -> list[Any]:
    values = COPIER_YML[question]["choices"]
    return list(values.values()) if isinstance(values, dict) else list(values)


def kubernetes_matrix() -> list[dict[str, Any]]:
    """Every ci x cloud the target applies to (it needs a registry), with and without KServe."""
    clouds = [cloud for cloud in choices("cloud") if cloud != "local"]
    # Every CI provider has the GitOps jobs (ci=none renders no CI, so nothing pins).
    cis = [ci for ci in choices("ci") if ci != "none"]
    return [
        {"ci": ci, "cloud": cloud, "with_kserve": kserve}
        for ci, cloud, kserve in itertools.product(cis, clouds, [True, False])
    ]


_RENDERED: list[Path] = [Path("/nonexistent")]  # the fixture's folder: its builds are cached


@dataclass
class Project:
    answers: dict[str, Any]
    path: Path

    @property
    def k8s(self) -> Path:
        return self.path / "deploy" / "k8s"

    def __str__(self) -> str:
        return ",".join(f"{key}={value}" for key, value in self.answers.items())


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> list[Project]:
    root = tmp_path_factory.mktemp("k8s")
    _RENDERED[:] = [root]
    snapshot = template_snapshot(root / "template-snapshot")
    rendered = []
    for index, answers in enumerate(kubernetes_matrix()):
        path = render(
            root / f"p{index:02d}",
            src=snapshot,
            with_kubernetes=True,
            k8s_gitops_repo=GITOPS_REPO,
            **answers,
        )
        rendered.append(Project(answers, path))
    return rendered


_BUILT: dict[Path, str] = {}


def kustomize_build(folder: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize folder`` as documents (the rendered folders are built once)."""
    if folder not in _BUILT or not folder.is_relative_to(_RENDERED[0]):
        _BUILT[folder] = _kustomize(folder)
    return [doc for doc in yaml.safe_load_all(_BUILT[folder]) if doc]


def _kustomize(folder: Path) -> str:
    result = subprocess.run(
        [require_tool("kubectl"), "kustomize", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"kubectl kustomize {folder}: {result.stderr}"
    return result.stdout


def kubernetes_validate(documents: list[dict[str, Any]], path: Path) -> subprocess.CompletedProcess:
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False), encoding="utf-8")
    return subprocess.run(
        [
            require_tool("kubernetes-validate"),
            "--strict",
            "--kubernetes-version",
            KUBERNETES_VERSION,
            "--quiet",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )


def overlays(project: Project) -> Iterator[Path]:
    yield from sorted((project.k8s / "overlays").iterdir())


def by_kind(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in documents}


def custom_resource_validator(schema_file: str) -> Any:
    """A draft 2020-12 validator whose core $refs resolve to kubernetes-validate's strict set."""
    import jsonschema
    import kubernetes_validate
    from referencing import Registry, Resource

    package = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    core = json.loads(
        (package / f"v{KUBERNETES_VERSION}-local-strict" / "_definitions.json").read_text()
    )
    schema = json.loads((SCHEMAS / schema_file).read_text(encoding="utf-8"))
    registry = Registry().with_resources(
        [
            (core["$id"], Resource.from_contents(core)),
            (schema["$id"], Resource.from_contents(schema)),
        ]
    )
    return jsonschema.Draft202012Validator(schema, registry=registry)


# ---- answers -------------------------------------------------------------------------------


def test_the_target_is_asked_only_where_an_image_is_pushed_to_a_cloud_registry() -> None:
    assert COPIER_YML["with_kubernetes"]["default"] is False
    assert COPIER_YML["with_kubernetes"]["when"] == "{{ with_docker and cloud != 'local' }}"
    assert len(kubernetes_matrix()) == 24  # four CI providers x three clouds x with_kserve


def test_without_the_answer_no_kubernetes_files_render(tmp_path: Path) -> None:
    project = render(tmp_path / "p", cloud="aws")
    assert not (project / "deploy").exists()


def test_the_target_without_a_gitops_repository_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ArgoCD needs this project's git URL"):
        render(tmp_path / "p", cloud="aws", with_kubernetes=True)
    assert not (tmp_path / "p" / "deploy").exists()


# ---- the manifests -------------------------------------------------------------------------


def test_every_overlay_builds_and_passes_kubernetes_validate_strict(
    projects: list[Project], tmp_path: Path
) -> None:
    built = []
    for project in projects:
        for overlay in overlays(project):
            documents = kustomize_build(overlay)
            kinds = {doc["kind"] for doc in documents}
            assert kinds == {
                "Namespace",
                "ServiceAccount",
                "ConfigMap",
                "Service",
                "Deployment",
                "HorizontalPodAutoscaler",
                "PodDisruptionBudget",
                "NetworkPolicy",
            }, f"{project}:{overlay.name}"
            namespaces = {doc["metadata"].get("namespace") for doc in documents} - {None}
            assert namespaces == {f"churn-model-{overlay.name}"}, f"{project}:{overlay.name}"
            built += documents
    result = kubernetes_validate(built, tmp_path / "built.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deployment_is_locked_down_probed_sized_and_scraped(projects: list[Project]) -> None:
    for project in projects:
        for overlay in overlays(project):
            documents = by_kind(kustomize_build(overlay))
            pod = documents["Deployment"]["spec"]["template"]
            spec, (container,) = pod["spec"], pod["spec"]["containers"]
            assert spec["securityContext"]["runAsNonRoot"] is True
            assert spec["securityContext"]["runAsUser"] == 10001  # the Dockerfile's USER
            assert spec["automountServiceAccountToken"] is False
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"]["drop"] == ["ALL"]
            mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
            volumes = {volume["name"]: volume for volume in spec["volumes"]}
            for path in ("/tmp", "/app/logs"):
                assert "emptyDir" in volumes[mounts[path]], f"{project}: {path} is not writable"
            assert set(container["resources"]) == {"requests", "limits"}
            assert container["livenessProbe"]["httpGet"]["path"] == "/health"
            assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
            annotations = pod["metadata"]["annotations"]
            assert annotations["prometheus.io/scrape"] == "true"
            assert annotations["prometheus.io/path"] == "/metrics"
            assert annotations["prometheus.io/port"] == str(container["ports"][0]["containerPort"])
            namespace = documents["Namespace"]["metadata"]["labels"]
            assert namespace["pod-security.kubernetes.io/enforce"] == "restricted"
            policy = documents["NetworkPolicy"]["spec"]
            assert policy["policyTypes"] == ["Ingress", "Egress"]


def test_probed_and_scraped_routes_exist_in_the_service() -> None:
    from mlops_common.serving.app import create_app

    paths = {route.path for route in create_app(model_name="churn-model").routes}
    assert {"/health", "/ready", "/metrics"} <= paths


def test_custom_resources_match_their_schemas(projects: list[Project]) -> None:
    applications = custom_resource_validator("application-argoproj.io-v1alpha1.json")
    inference = custom_resource_validator("inferenceservice-serving.kserve.io-v1beta1.json")
    checked = 0
    for project in projects:
        for path in sorted((project.k8s / "argocd").glob("*.yaml")):
            application = yaml.safe_load(path.read_text(encoding="utf-8"))
            errors = [error.message for error in applications.iter_errors(application)]
            assert not errors, f"{project}:{path.name}: {errors}"
            overlay = project.k8s / application["spec"]["source"]["path"].removeprefix(
                "deploy/k8s/"
            )
            assert overlay.is_dir() and application["spec"]["source"]["repoURL"] == GITOPS_REPO
            checked += 1
        assert (project.k8s / "kserve").exists() == project.answers["with_kserve"], project
        if project.answers["with_kserve"]:
            (service,) = kustomize_build(project.k8s / "kserve")
            errors = [error.message for error in inference.iter_errors(service)]
            assert not errors, f"{project}: InferenceService: {errors}"
            checked += 1
    assert checked == 2 * len(projects) + len(projects) // 2


def test_a_misspelt_field_in_a_custom_resource_is_caught(projects: list[Project]) -> None:
    applications = custom_resource_validator("application-argoproj.io-v1alpha1.json")
    inference = custom_resource_validator("inferenceservice-serving.kserve.io-v1beta1.json")
    project = next(p for p in projects if p.answers["with_kserve"])
    application = yaml.safe_load((project.k8s / "argocd" / "production.yaml").read_text())
    application["spec"]["syncPolicy"]["automated"]["selfheal"] = True
    assert any("selfheal" in e.message for e in applications.iter_errors(application))
    (service,) = kustomize_build(project.k8s / "kserve")
    service["spec"]["predictor"]["containers"][0]["readinessProbe"]["httpGett"] = {}
    assert list(inference.iter_errors(service))


# ---- pinning the image (what the CD job does) ----------------------------------------------


def run_mlops(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN_DIR / "mlops"), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_pin_image_makes_every_overlay_run_the_digest_and_only_that(
    projects: list[Project], tmp_path: Path
) -> None:
    built = []
    for index, project in enumerate(projects):
        copy = shutil.copytree(project.path, tmp_path / f"p{index}")
        image = yaml.safe_load((copy / "deploy/k8s/base/deployment.yaml").read_text())
        repository = image["spec"]["template"]["spec"]["containers"][0]["image"]
        reference = f"{repository}@{DIGEST}"
        folders = [*(copy / "deploy/k8s/overlays").iterdir()]
        if project.answers["with_kserve"]:
            folders.append(copy / "deploy/k8s/kserve")
        for folder in folders:
            header = (folder / "kustomization.yaml").read_text().split("apiVersion")[0]
            pinned = run_mlops("deploy", "pin-image", str(folder), reference, "--json", cwd=copy)
            assert pinned.returncode == 0, pinned.stderr
            assert json.loads(pinned.stdout)["changed"] is True
            again = run_mlops("deploy", "pin-image", str(folder), reference, "--json", cwd=copy)
            assert json.loads(again.stdout)["changed"] is False
            text = (folder / "kustomization.yaml").read_text()
            assert text.startswith(header), "the header comments are kept"
            documents = kustomize_build(folder)
            images = [
                container["image"]
                for doc in documents
                for container in (
                    doc["spec"]["template"]["spec"]["containers"]
                    if doc["kind"] == "Deployment"
                    else doc["spec"]["predictor"]["containers"]
                    if doc["kind"] == "InferenceService"
                    else []
                )
            ]
            assert images == [reference], f"{project}:{folder.name}: {images}"
            built += [doc for doc in documents if doc["kind"] != "InferenceService"]
    result = kubernetes_validate(built, tmp_path / "pinned.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_pin_image_refuses_a_moving_tag_and_changes_nothing(
    projects: list[Project], tmp_path: Path
) -> None:
    copy = shutil.copytree(projects[0].path, tmp_path / "p")
    overlay = copy / "deploy/k8s/overlays/production"
    before = (overlay / "kustomization.yaml").read_text()
    refused = run_mlops("deploy", "pin-image", str(overlay), "registry/churn:latest", cwd=copy)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr.startswith("error: image 'registry/churn:latest' can change")
    assert (overlay / "kustomization.yaml").read_text() == before
    missing = run_mlops("deploy", "pin-image", str(copy / "nowhere"), f"r@{DIGEST}", cwd=copy)
    assert missing.returncode == 2 and "kustomization.yaml not found" in missing.stderr


CI_FILE = {
    "github": ".github/workflows/ci.yml",
    "gitlab": ".gitlab-ci.yml",
    "circleci": ".circleci/config.yml",
    "azure-devops": "azure-pipelines.yml",
}


def workflow_file(project: Project) -> str:
    return CI_FILE[project.answers["ci"]]


def test_cd_jobs_pin_the_pushed_digest_and_production_waits_for_approval(
    projects: list[Project],
) -> None:
    for project in projects:
        if project.answers["ci"] == "github":
            workflow = yaml.safe_load((project.path / ".github/workflows/ci.yml").read_text())
            jobs = workflow["jobs"]
            staging, production = jobs["gitops-staging"], jobs["gitops-production"]
            scripts = [
                "\n".join(step.get("run", "") for step in job["steps"])
                for job in (staging, production)
            ]
            for job in (staging, production):
                env = next(s["env"] for s in job["steps"] if "pin-image" in s.get("run", ""))
                assert env["SERVING_IMAGE"] == "${{ needs.image.outputs.image }}", project
            assert production["environment"] == "production", project
        elif project.answers["ci"] == "gitlab":
            config = yaml.safe_load((project.path / ".gitlab-ci.yml").read_text())
            staging, production = config["gitops-staging"], config["gitops-production"]
            scripts = ["\n".join(job["script"]) for job in (staging, production)]
            assert "container-image" in staging["needs"], project
            assert production["environment"]["name"] == "production", project
            assert production["rules"][0]["when"] == "manual", project
        elif project.answers["ci"] == "circleci":
            config = yaml.safe_load((project.path / ".circleci/config.yml").read_text())
            scripts = [
                "\n".join(
                    step["run"]["command"]
                    for step in config["jobs"][name]["steps"]
                    if isinstance(step, dict) and "run" in step
                )
                for name in ("gitops-staging", "gitops-production")
            ]
            # The digest the image job handed over, read before pinning.
            for script in scripts:
                assert script.index(". handoff/image.env") < script.index("pin-image"), project
            flow = {
                name: options
                for entry in config["workflows"]["ci"]["jobs"]
                for name, options in (entry.items() if isinstance(entry, dict) else [(entry, {})])
            }
            assert flow["gitops-staging"]["requires"] == ["image"], project
            assert flow["hold-gitops-production"]["type"] == "approval", project
            assert flow["gitops-production"]["requires"] == ["hold-gitops-production"], project
            assert flow["gitops-production"]["context"] == ["production"], project
        else:
            config = yaml.safe_load((project.path / "azure-pipelines.yml").read_text())
            stage = next(s for s in config["stages"] if s["stage"] == "gitops")
            assert stage["variables"]["SERVING_IMAGE"] == (
                "$[ stageDependencies.build.image.outputs['pushed.SERVING_IMAGE'] ]"
            ), project
            jobs = {job.get("job") or job.get("deployment"): job for job in stage["jobs"]}
            staging, production = jobs["gitops_staging"], jobs["gitops_production"]
            production_steps = production["strategy"]["runOnce"]["deploy"]["steps"]
            scripts = [
                "\n".join(step.get("script", "") for step in steps)
                for steps in (staging["steps"], production_steps)
            ]
            assert production["environment"] == "production", project
            assert production["dependsOn"] == "gitops_staging", project
        # The cluster is the deploy target: no managed-endpoint deploy job besides it.
        assert "mlops deploy up" not in (project.path / workflow_file(project)).read_text()
        assert 'pin-image deploy/k8s/overlays/staging "$SERVING_IMAGE"' in scripts[0], project
        assert 'pin-image deploy/k8s/overlays/production "$SERVING_IMAGE"' in scripts[1], project
        assert ("pin-image deploy/k8s/kserve" in scripts[1]) == project.answers["with_kserve"]
