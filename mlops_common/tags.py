"""Every MLflow tag name the library writes or reads, in one place.

Runs carry their lineage (``mlops.git.*``, ``mlops.dvc.<path>``, ``mlops.pkg.<name>``,
``mlops.python``) and the validation of their data (``mlops.validation.*``); model versions carry
the run they came from (``mlops.run_id``), the promotion gate's latest verdict (``mlops.gate.*``)
and rollbacks (``mlops.rollback``); the runs of the audit trail repeat a few fields as
``mlops.audit.*``. A run whose training set came from a Feast feature store also carries the
feature views and their registry versions (``mlops.feast.*``). Names ending in ``.`` are
prefixes, completed by a path or name.

>>> from mlops_common import tags
>>> tags.GATE_DECISION
'mlops.gate.decision'
>>> tags.DVC_PREFIX + "data/raw.csv"
'mlops.dvc.data/raw.csv'
"""

from __future__ import annotations

__all__ = [
    "AUDIT_MODEL",
    "AUDIT_OUTCOME",
    "AUDIT_VERSION",
    "CARD",
    "DVC_PREFIX",
    "FEAST_PROJECT",
    "FEAST_SERVICE",
    "FEAST_VIEW_PREFIX",
    "GATE_AT",
    "GATE_BY",
    "GATE_CANDIDATE_METRICS",
    "GATE_CHAMPION_METRICS",
    "GATE_CONFIG",
    "GATE_DECISION",
    "GATE_LOCK_EXPIRES",
    "GATE_LOCK_OWNER",
    "GATE_PREFIX",
    "GATE_PREVIOUS_CHAMPION",
    "GATE_REASONS",
    "GATE_VALIDATION",
    "GIT_COMMIT",
    "GIT_DIRTY",
    "MLFLOW_GIT_COMMIT",
    "MODEL_DIGEST",
    "PKG_PREFIX",
    "PREFIX",
    "PYTHON",
    "ROLLBACK",
    "ROLLBACK_REPLACED",
    "RUN_ID",
    "VALIDATION_SUCCESS",
    "VALIDATION_SUITE",
]

PREFIX = "mlops."

# ---- run tags: lineage (mlops_common.tracking)
GIT_COMMIT = PREFIX + "git.commit"
GIT_DIRTY = PREFIX + "git.dirty"  # "true", "false" or "unknown"
PYTHON = PREFIX + "python"
PKG_PREFIX = PREFIX + "pkg."  # + distribution name -> installed version
DVC_PREFIX = PREFIX + "dvc."  # + path in dvc.lock -> md5
#: MLflow's own tag, shown in its UI as the run's source version.
MLFLOW_GIT_COMMIT = "mlflow.source.git.commit"

# ---- run tags: the feature store the training set came from (mlops_common.feature_store)
FEAST_PROJECT = PREFIX + "feast.project"
FEAST_SERVICE = PREFIX + "feast.service"  # the FeatureService listing the model's inputs
FEAST_VIEW_PREFIX = PREFIX + "feast.view."  # + feature view name -> "v<registry version>"

# ---- run tags: validation of the training data
VALIDATION_SUCCESS = PREFIX + "validation.success"  # "true" or "false"
VALIDATION_SUITE = PREFIX + "validation.suite"

# ---- run and model-version tags: the logged model's files (mlops_common.integrity)
#: On the run (one per logged model name: ``MODEL_DIGEST + "." + name``) and on the version.
MODEL_DIGEST = PREFIX + "model.sha256"

# ---- model-version tags (mlops_common.registry)
RUN_ID = PREFIX + "run_id"
GATE_PREFIX = PREFIX + "gate."
#: The latest outcome (mlops_common.audit.OUTCOMES); the audit trail keeps every one.
GATE_DECISION = GATE_PREFIX + "decision"
GATE_REASONS = GATE_PREFIX + "reasons"
GATE_BY = GATE_PREFIX + "by"
GATE_AT = GATE_PREFIX + "at"
GATE_CANDIDATE_METRICS = GATE_PREFIX + "candidate_metrics"
GATE_CHAMPION_METRICS = GATE_PREFIX + "champion_metrics"
GATE_CONFIG = GATE_PREFIX + "config"
GATE_PREVIOUS_CHAMPION = GATE_PREFIX + "previous_champion"
GATE_VALIDATION = GATE_PREFIX + "validation_passed"
ROLLBACK = PREFIX + "rollback"
#: Where the version's model card is (mlops_common.card): ``runs:/<run>/model_card/...html``.
CARD = PREFIX + "card"

# ---- run tags of the audit trail (mlops_common.audit), for the MLflow UI's filters only: the
# entry itself is in the run's params, which MLflow never lets anyone change.
AUDIT_MODEL = PREFIX + "audit.model"
AUDIT_VERSION = PREFIX + "audit.version"
AUDIT_OUTCOME = PREFIX + "audit.outcome"

# ---- registered-model tags of the gate's lease lock (mlops_common.gate_lock)
GATE_LOCK_OWNER = PREFIX + "gate_lock.owner"  # host:pid:uuid of the holder
GATE_LOCK_EXPIRES = PREFIX + "gate_lock.expires"  # epoch seconds
ROLLBACK_REPLACED = ROLLBACK + ".replaced"
