"""Pipeline stages, run by DVC (dvc.yaml): ``python -m <package>.stages <stage>``.

Each stage reads files, writes files, and hands everything shared (tracking and lineage, the
model registry, the promotion gate) to mlops-common. The data check is `mlops validate` itself
(see dvc.yaml). Project-specific choices live in data.py, features.py, train.py and evaluate.py;
this file rarely needs an edit. Heavy libraries are imported inside the stage that needs them,
so a stage pays only for what it uses.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path
from typing import Any

RAW = Path("data/raw/dataset.csv")
TRAIN = Path("data/prepared/train.csv")
TEST = Path("data/prepared/test.csv")
VALIDATION_REPORTS = tuple(
    Path(f"reports/validation_{name}.json") for name in ("raw", "train", "test")
)
MODEL = Path("models/model.pkl")
TRAIN_RUN = Path("reports/train_run.json")
METRICS = Path("metrics/eval.json")
PROMOTION = Path("reports/promotion.json")
CHALLENGE = Path("reports/challenge.json")
REPORTS = Path("reports")


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def prepare(params: dict[str, Any]) -> None:
    """Raw data to data/raw/, the train/test split to data/prepared/."""
    from .data import load_raw_data
    from .features import prepare as split

    raw = load_raw_data()
    train, test = split(raw, params.get("prepare", {}))
    for frame, path in ((raw, RAW), (train, TRAIN), (test, TEST)):
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False)
    print(f"prepare: {len(raw)} raw rows -> {len(train)} train, {len(test)} test")


def train(params: dict[str, Any]) -> None:
    """Fit the model inside a tracked MLflow run; keep the model and the run id for later stages."""
    import pandas as pd
    from mlops_common.tracking import log_model, tracked_run

    from .features import split_xy
    from .train import train as fit

    reports = {path.stem: read_json(path) for path in VALIDATION_REPORTS}
    validation = {
        "success": all(report.get("success") is True for report in reports.values()),
        "suite_name": "+".join(sorted({str(r.get("suite_name")) for r in reports.values()})),
        "reports": reports,
    }
    train_frame = pd.read_csv(TRAIN)
    with tracked_run("train", validation=validation) as run:
        model = fit(train_frame, params.get("train", {}))
        features, _ = split_xy(train_frame)
        # The features' profile goes with the model: drift compares traffic with it.
        logged = log_model(model, input_example=features.head(5), reference=features)
    MODEL.parent.mkdir(parents=True, exist_ok=True)
    MODEL.write_bytes(pickle.dumps(model))
    write_json(
        TRAIN_RUN,
        {
            "run_id": run.info.run_id,
            "model_uri": logged.model_uri,
            "validation_passed": validation["success"],
        },
    )
    print(f"train: run {run.info.run_id}, model {logged.model_uri}")


def evaluate(params: dict[str, Any]) -> None:
    """Score the trained model on the test split; DVC tracks metrics/eval.json as metrics."""
    import pandas as pd

    from .evaluate import evaluate as score

    model = pickle.loads(MODEL.read_bytes())
    metrics = score(model, pd.read_csv(TEST))
    write_json(METRICS, metrics)
    print("evaluate: " + ", ".join(f"{name}={value:.4f}" for name, value in metrics.items()))


def champion_scorer(tracking_uri: str):
    """Scores a registered model on this run's test split with the project's own evaluate().

    The champion's recorded test metrics come from the data it was trained on; the gate compares
    the candidate with the champion scored on the same fresh holdout instead.
    """
    import pandas as pd

    from .evaluate import evaluate as score

    test = pd.read_csv(TEST)

    def score_registered(model_uri: str) -> dict[str, float]:
        import mlflow.sklearn
        from mlops_common import store

        with store.mlflow_uris(tracking_uri):
            model = mlflow.sklearn.load_model(model_uri)
        return score(model, test)

    return score_registered


def fairness_on_test(rule: Any) -> Any:
    """The trained model's fairness on the test split, as `gate.fairness` in params.yaml asks."""
    import pandas as pd
    from mlops_common.fairness import measure_fairness

    from .features import split_xy

    model = pickle.loads(MODEL.read_bytes())
    test = pd.read_csv(TEST)
    features, label = split_xy(test)
    return measure_fairness(label, model.predict(features), test, rule)


def register(params: dict[str, Any]) -> None:
    """Register the model version, let the gate decide whether it becomes `champion`, and write
    its model card (reports/model_card.md and .html, also logged with the version)."""
    from mlops_common import store
    from mlops_common.card import build_card, save_card
    from mlops_common.config import load_project_config
    from mlops_common.gate import GateConfig
    from mlops_common.registry import promote, register_model

    config = load_project_config()
    run = read_json(TRAIN_RUN)
    metrics = read_json(METRICS)
    gate = GateConfig.from_dict(params.get("gate", {}))

    # The test metrics also go on the training run, so the MLflow UI shows them side by side.
    client = store.client(config=config)
    for name, value in metrics.items():
        client.log_metric(run["run_id"], f"test_{name}", value)

    version = register_model(run["run_id"], config.model_name, model_uri=run["model_uri"])
    decision = promote(
        config.model_name,
        version,
        metrics,
        gate,
        validation_passed=run["validation_passed"],
        champion_scorer=champion_scorer(store.resolve_tracking_uri(None, config)),
        fairness=None if gate.fairness is None else fairness_on_test(gate.fairness),
    )
    write_json(PROMOTION, decision.to_dict())
    card = build_card(config.model_name, version, params=params, project_root=config.root)
    save_card(card, REPORTS)
    print(f"register: {decision.summary()}")
    print(f"register: model card in {REPORTS / 'model_card.html'} (`mlops audit` lists decisions)")


def challenge(params: dict[str, Any]) -> None:
    """The gate's verdict on the trained candidate, reading the registry only (continuous
    training): metrics/eval.json against the champion scored on the same test split."""
    from mlops_common import store
    from mlops_common.config import load_project_config
    from mlops_common.gate import GateConfig, evaluate_gate
    from mlops_common.registry import champion_version

    config = load_project_config()
    tracking_uri = store.resolve_tracking_uri(None, config)
    version = champion_version(config.model_name, tracking_uri=tracking_uri)
    champion = None
    if version is not None:
        scorer = champion_scorer(tracking_uri)
        champion = scorer(f"models:/{config.model_name}/{version}")
    gate = GateConfig.from_dict(params.get("gate", {}))
    decision = evaluate_gate(
        read_json(METRICS),
        champion,
        gate,
        validation_passed=read_json(TRAIN_RUN)["validation_passed"],
        fairness=None if gate.fairness is None else fairness_on_test(gate.fairness),
    )
    decision.model_name, decision.champion_version = config.model_name, version
    write_json(CHALLENGE, decision.to_dict())
    print(f"challenge: {decision.summary()}")


STAGES = {
    "prepare": prepare,
    "train": train,
    "evaluate": evaluate,
    "register": register,
    "challenge": challenge,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m {__package__}.stages", description=__doc__.splitlines()[0]
    )
    parser.add_argument("stage", choices=sorted(STAGES))
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv)

    try:
        from mlops_common.config import load_params
        from mlops_common.doctor import require_environment
        from mlops_common.errors import MlopsError
    except ImportError as exc:  # a library older than this project's template
        print(
            f"error: mlops-common is too old for this project ({exc}); fix: pip install -e . "
            "(or uv sync) installs the pinned mlops-common",
            file=sys.stderr,
        )
        return 3

    try:
        require_environment()  # the library inside the project's pin, before any work (exit 3)
        STAGES[args.stage](load_params(args.params))
    except MlopsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
