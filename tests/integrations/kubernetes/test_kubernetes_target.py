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
            service = by_kind(kustomize_build(project.k8s / "kserve"))["InferenceService"]
            errors = [error.message for error in inference.iter_errors(service)]
            assert not errors, f"{project}: InferenceService: {errors}"
            checked += 1
    assert checked == 2 * len(projects) + len(projects) // 2


def schema_errors(validator: Any, document: dict[str, Any]) -> list[str]:
    errors = validator.iter_errors(document)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


def test_a_wrong_field_in_a_custom_resource_is_caught(projects: list[Project]) -> None:
    applications = custom_resource_validator("application-argoproj.io-v1alpha1.json")
    inference = custom_resource_validator("inferenceservice-serving.kserve.io-v1beta1.json")
    project = next(p for p in projects if p.answers["with_kserve"])
    rendered = yaml.safe_load((project.k8s / "argocd" / "production.yaml").read_text())
    service = by_kind(kustomize_build(project.k8s / "kserve"))["InferenceService"]
    assert not schema_errors(applications, rendered) and not schema_errors(inference, service)

    def broken(document: dict[str, Any], edit: Any) -> dict[str, Any]:
        copy = json.loads(json.dumps(document))
        edit(copy)
        return copy

    application_cases = {
        "misspelt": lambda d: d["spec"]["syncPolicy"]["automated"].update(selfheal=True),
        "missing destination": lambda d: d["spec"].pop("destination"),
        "wrong type": lambda d: d["spec"]["syncPolicy"]["retry"].update(limit="five"),
        "wrong kind": lambda d: d.update(kind="Applicaton"),
        "bad metadata": lambda d: d["metadata"].update(labels={"a": 1}),
    }
    for case, edit in application_cases.items():
        assert schema_errors(applications, broken(rendered, edit)), f"Application: {case}"
    predictor = "spec", "predictor"

    def container(d: dict[str, Any]) -> dict[str, Any]:
        return d[predictor[0]][predictor[1]]["containers"][0]

    inference_cases = {
        "misspelt probe": lambda d: container(d)["readinessProbe"].update(httpGett={}),
        "unknown predictor field": lambda d: d["spec"]["predictor"].update(replicas=2),
        "wrong type": lambda d: d["spec"]["predictor"].update(minReplicas="two"),
        "container without a name": lambda d: container(d).pop("name"),
        "bad capability list": lambda d: container(d)["securityContext"].update(
            capabilities={"drop": "ALL"}
        ),
    }
    for case, edit in inference_cases.items():
        assert schema_errors(inference, broken(service, edit)), f"InferenceService: {case}"


def test_the_vendored_schemas_record_the_upstream_commit_the_readme_names() -> None:
    readme = (SCHEMAS / "README.md").read_text(encoding="utf-8")
    for name, repo in (
        ("application-argoproj.io-v1alpha1.json", "argoproj/argo-cd"),
        ("inferenceservice-serving.kserve.io-v1beta1.json", "kserve/kserve"),
    ):
        comment = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))["$comment"]
        commit = comment.split(" at commit ")[1].split()[0]
        assert len(commit) == 40 and repo in comment
        assert f"`{name}`" in readme and commit in readme, name


def test_crd_conversion_keeps_the_api_servers_rules() -> None:
    from tools.crd_schema import crd_json_schema

    crd = {
        "kind": "CustomResourceDefinition",
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "required": ["size"],
                                    "properties": {
                                        "size": {
                                            "type": "integer",
                                            "format": "int32",
                                            "minimum": 0,
                                            "exclusiveMinimum": True,
                                        },
                                        "port": {
                                            "anyOf": [{"type": "integer"}, {"type": "string"}],
                                            "x-kubernetes-int-or-string": True,
                                        },
                                        "note": {"type": "string", "nullable": True},
                                        "tags": {
                                            "type": "array",
                                            "items": {"type": "string"},
                                            "x-kubernetes-list-type": "set",
                                        },
                                        "free": {
                                            "type": "object",
                                            "x-kubernetes-preserve-unknown-fields": True,
                                        },
                                    },
                                }
                            },
                        }
                    },
                }
            ],
        },
    }
    source = {"repo": "o/r", "path": "crd.yaml", "commit": "0" * 40, "sha256": "1" * 64}
    import jsonschema

    schema = crd_json_schema(crd, version=None, source=source)
    schema["properties"]["metadata"] = {"type": "object"}  # no core registry in this check
    validator = jsonschema.Draft202012Validator(schema)
    good = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {},
        "spec": {"size": 1, "port": "http", "note": None, "tags": ["a"], "free": {"x": 1}},
    }
    assert not list(validator.iter_errors(good))
    for bad_spec in (
        {"size": 0},  # exclusive minimum
        {"size": 1, "port": 1.5},
        {"size": 1, "tags": ["a", "a"]},  # a set
        {"size": 1, "sise": 2},  # unknown field
        {"port": 80},  # required
    ):
        assert list(validator.iter_errors({**good, "spec": bad_spec})), bad_spec
    assert list(validator.iter_errors({**good, "apiVersion": "example.com/v2"}))


# ---- pinning the image (what the CD job does) ----------------------------------------------


def run_mlops(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN_DIR / "mlops"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
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


# ---- pinning the model (what a promotion does) ---------------------------------------------

GH_SETUP_GIT = """#!/bin/sh
# GitHub's CLI, as far as these jobs use it here: `gh auth setup-git` hands git the job's token.
# The remote is a local bare repository, so there is nothing to hand over.
[ "$1 $2" = "auth setup-git" ] && exit 0
echo "gh $*: not available in this test" >&2
exit 1
"""


def registry(path: Path, model_name: str, versions: int, champion: int) -> str:
    """A real MLflow registry (sqlite) holding ``versions`` versions, ``champion`` aliased."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{path}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    if not client.search_registered_models(f"name = '{model_name}'"):
        client.create_registered_model(model_name)
    for _ in range(versions):
        client.create_model_version(model_name, source=path.parent.as_uri())
    client.set_registered_model_alias(model_name, "champion", str(champion))
    return uri


def model_name_of(project: Path) -> str:
    import tomllib

    config = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["mlops"]["model_name"]


def pod_settings(documents: list[dict[str, Any]]) -> tuple[str, dict[str, str]]:
    """The ConfigMap name the pods read (Deployment or InferenceService) and its data."""
    workload = next(d for d in documents if d["kind"] in ("Deployment", "InferenceService"))
    spec = workload["spec"]
    containers = (
        spec["template"]["spec"]["containers"]
        if workload["kind"] == "Deployment"
        else spec["predictor"]["containers"]
    )
    (name,) = [ref["configMapRef"]["name"] for ref in containers[0]["envFrom"]]
    config_map = next(d for d in documents if d["kind"] == "ConfigMap")
    assert config_map["metadata"]["name"] == name, "the pods read the generated ConfigMap"
    return name, config_map["data"]


def test_pin_model_renames_the_pods_config_map_so_the_sync_rolls_them(
    projects: list[Project], tmp_path: Path
) -> None:
    project = next(p for p in projects if p.answers["with_kserve"])
    copy = shutil.copytree(project.path, tmp_path / "p")
    model = model_name_of(copy)
    env = {**os.environ, "MLFLOW_TRACKING_URI": registry(tmp_path / "mlflow.db", model, 2, 2)}
    built = []
    for folder in (
        copy / "deploy/k8s/overlays/staging",
        copy / "deploy/k8s/overlays/production",
        copy / "deploy/k8s/kserve",
    ):
        before_name, before = pod_settings(kustomize_build(folder))
        assert "MLOPS_MODEL_URI" not in before  # until the first pin: the alias at start
        header = (folder / "kustomization.yaml").read_text().split("apiVersion")[0]
        pinned = run_mlops("deploy", "pin-model", str(folder), "--json", cwd=copy, env=env)
        assert pinned.returncode == 0, pinned.stderr
        assert json.loads(pinned.stdout)["model_uri"] == f"models:/{model}/2"
        assert (folder / "kustomization.yaml").read_text().startswith(header)
        documents = kustomize_build(folder)
        name, data = pod_settings(documents)
        assert data["MLOPS_MODEL_URI"] == f"models:/{model}/2", folder
        assert data["MLFLOW_TRACKING_URI"] == before["MLFLOW_TRACKING_URI"]
        assert name != before_name, "a new pod template: the Deployment rolls"
        again = run_mlops("deploy", "pin-model", str(folder), "2", "--json", cwd=copy, env=env)
        assert json.loads(again.stdout)["changed"] is False
        back = run_mlops("deploy", "pin-model", str(folder), "1", cwd=copy, env=env)
        assert back.returncode == 0 and f"(was models:/{model}/2)" in back.stdout
        assert pod_settings(kustomize_build(folder))[0] not in (name, before_name)
        built += [doc for doc in documents if doc["kind"] != "InferenceService"]
        if folder.name == "kserve":
            schema = "inferenceservice-serving.kserve.io-v1beta1.json"
            inference = custom_resource_validator(schema)
            assert not schema_errors(inference, by_kind(documents)["InferenceService"])
    result = kubernetes_validate(built, tmp_path / "pinned.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_pin_model_refuses_what_it_cannot_pin_and_changes_nothing(
    projects: list[Project], tmp_path: Path
) -> None:
    from mlops_common.deploy.kustomize import pin_model
    from mlops_common.errors import DeployError

    copy = shutil.copytree(projects[0].path, tmp_path / "p")
    model = model_name_of(copy)
    env = {**os.environ, "MLFLOW_TRACKING_URI": registry(tmp_path / "mlflow.db", model, 1, 1)}
    overlay = copy / "deploy/k8s/overlays/production"
    before = (overlay / "kustomization.yaml").read_text()
    missing = run_mlops("deploy", "pin-model", str(overlay), "7", cwd=copy, env=env)
    assert missing.returncode == 2, missing.stdout + missing.stderr
    assert missing.stderr.startswith(f"error: model '{model}' has no version 7")
    no_alias = run_mlops("deploy", "pin-model", str(overlay), "--alias", "gold", cwd=copy, env=env)
    assert no_alias.returncode == 2 and "has no alias 'gold'" in no_alias.stderr
    nowhere = run_mlops("deploy", "pin-model", str(copy / "nowhere"), cwd=copy, env=env)
    assert nowhere.returncode == 2 and "kustomization.yaml not found" in nowhere.stderr
    with pytest.raises(DeployError, match="not an exact version"):
        pin_model(overlay, f"models:/{model}@champion")
    base = copy / "deploy/k8s/base"
    with pytest.raises(DeployError, match="has no configMapGenerator"):
        pin_model(base, f"models:/{model}/1")
    assert (overlay / "kustomization.yaml").read_text() == before


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout


def promote_gitops_script(project: Project) -> str:
    """The promote job's GitOps part, as the rendered CI file has it."""
    if project.answers["ci"] == "github":
        workflow = yaml.safe_load(
            (project.path / ".github/workflows/continuous-training.yml").read_text()
        )
        job = workflow["jobs"]["promote"]
        assert job["permissions"]["contents"] == "write"
        (step,) = [s for s in job["steps"] if "pin-model" in s.get("run", "")]
        return step["run"]
    if project.answers["ci"] == "circleci":
        config = yaml.safe_load((project.path / ".circleci/config.yml").read_text())
        (step,) = [
            s["run"]
            for s in config["jobs"]["promote"]["steps"]
            if isinstance(s, dict) and "run" in s and "pin-model" in s["run"]["command"]
        ]
        return step["command"]
    if project.answers["ci"] == "azure-devops":
        config = yaml.safe_load((project.path / "azure-pipelines.yml").read_text())
        stage = next(s for s in config["stages"] if s["stage"] == "continuous_training")
        promote = next(job for job in stage["jobs"] if job.get("deployment") == "promote")
        (step,) = [
            s
            for s in promote["strategy"]["runOnce"]["deploy"]["steps"]
            if "pin-model" in s.get("inputs", {}).get("inlineScript", "")
        ]
        assert step["env"]["SYSTEM_ACCESSTOKEN"] == "$(System.AccessToken)"
        script = step["inputs"]["inlineScript"]
        # From the GitOps part on (the login and the repro before it need the cloud), with the
        # pipeline's macros expanded as Azure Pipelines does before the script runs.
        script = script[script.index('auth="') :]
        for macro, value in (("Build.SourceBranch", "refs/heads/main"), ("Build.BuildId", "77")):
            script = script.replace(f"$({macro})", value)
        return script
    config = yaml.safe_load((project.path / ".gitlab-ci.yml").read_text())
    (script,) = [line for line in config["promote"]["script"] if "pin-model" in line]
    return script


@pytest.mark.parametrize("ci", ["github", "gitlab", "circleci", "azure-devops"])
def test_the_promote_job_commits_the_champion_version_to_the_gitops_branch(
    ci: str, projects: list[Project], tmp_path: Path
) -> None:
    """A real bare repository is the GitOps remote; the branch moves while the job waits for its
    approval, and the job's checkout is dirty from `dvc repro`: the pin lands on the newest
    branch, and pushing the same champion again is a no-op."""
    project = next(p for p in projects if p.answers["ci"] == ci and p.answers["with_kserve"])
    script = promote_gitops_script(project)
    assert "deploy/k8s/kserve" in script
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch", "main", str(origin))
    seed = shutil.copytree(project.path, tmp_path / "seed")
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Test\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n"
        f'[url "{origin.as_uri()}"]\n'
        "\tinsteadOf = https://ci:push-token@gitlab.example.com/team/churn-model.git\n"
        "\tinsteadOf = https://x-access-token:push-token@github.com/team/churn-model.git\n",
        encoding="utf-8",
    )
    shims = tmp_path / "shims"
    shims.mkdir()
    (shims / "gh").write_text(GH_SETUP_GIT, encoding="utf-8")
    (shims / "gh").chmod(0o755)
    model = model_name_of(seed)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "MLFLOW_"))},
        "GIT_CONFIG_GLOBAL": str(gitconfig),
        "GIT_CONFIG_NOSYSTEM": "1",
        "PATH": os.pathsep.join([str(shims), str(BIN_DIR), os.environ.get("PATH", "")]),
        "MLFLOW_TRACKING_URI": registry(tmp_path / "mlflow.db", model, 2, 2),
        # GitHub Actions
        "GITHUB_REF_NAME": "main",
        "GITHUB_RUN_ID": "77",
        "GH_TOKEN": "unused",
        "WORKTREE": str(tmp_path / "runner-temp" / "gitops"),
        # GitLab CI
        "GITOPS_PUSH_TOKEN": "push-token",
        "CI_SERVER_HOST": "gitlab.example.com",
        "CI_PROJECT_PATH": "team/churn-model",
        "CI_DEFAULT_BRANCH": "main",
        "CI_PIPELINE_ID": "77",
        "CI_JOB_ID": "501",
        "CI_BUILDS_DIR": str(tmp_path / "builds"),
        # CircleCI (a GitHub project; the team registry from the production context)
        "CIRCLE_PROJECT_USERNAME": "team",
        "CIRCLE_PROJECT_REPONAME": "churn-model",
        "CIRCLE_BRANCH": "main",
        "CIRCLE_BUILD_NUM": "77",
        # Azure Pipelines (the build service's token goes in a header; origin is the checkout's)
        "SYSTEM_ACCESSTOKEN": "unused",
    }
    env["TEAM_MLFLOW_TRACKING_URI"] = env["MLFLOW_TRACKING_URI"]
    (tmp_path / "builds").mkdir()
    git(seed, "init", "--quiet", env=env)
    git(seed, "add", "--all", env=env)
    git(seed, "commit", "--quiet", "--no-verify", "--message", "Start", env=env)
    git(seed, "push", "--quiet", str(origin), "HEAD:main", env=env)
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "--quiet", str(origin), str(checkout), env=env)
    env["CI_PROJECT_DIR"] = str(checkout)
    # While the job waits for its approval, someone lands a commit, and the repro dirties the tree.
    (seed / "NOTES.md").write_text("landed meanwhile\n", encoding="utf-8")
    git(seed, "add", "NOTES.md", env=env)
    git(seed, "commit", "--quiet", "--no-verify", "--message", "Meanwhile", env=env)
    git(seed, "push", "--quiet", str(origin), "HEAD:main", env=env)
    (checkout / "params.yaml").write_text("changed: by the repro\n", encoding="utf-8")

    def run_job() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-e", "-c", script],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    ran = run_job()
    assert ran.returncode == 0, ran.stdout + ran.stderr
    log = git(origin, "log", "--format=%s", "main", env=env).splitlines()
    assert log[0].startswith("Serve the new champion on Kubernetes") and log[1] == "Meanwhile"
    published = tmp_path / "published"
    git(tmp_path, "clone", "--quiet", str(origin), str(published), env=env)
    for folder in ("overlays/staging", "overlays/production", "kserve"):
        _, data = pod_settings(kustomize_build(published / "deploy/k8s" / folder))
        assert data["MLOPS_MODEL_URI"] == f"models:/{model}/2", folder
    assert git(published, "diff", "--name-only", "HEAD~1", env=env).split() == [
        "deploy/k8s/kserve/kustomization.yaml",
        "deploy/k8s/overlays/production/kustomization.yaml",
        "deploy/k8s/overlays/staging/kustomization.yaml",
    ]
    # The same champion again (another approval, no new version): nothing to commit.
    # A new job: a new runner.temp, a new job id.
    shutil.rmtree(tmp_path / "runner-temp", ignore_errors=True)
    env["CI_JOB_ID"] = "502"
    again = run_job()
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already serve the champion" in again.stdout
    assert len(git(origin, "log", "--format=%s", "main", env=env).splitlines()) == len(log)
