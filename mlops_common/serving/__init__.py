"""The HTTP service for the model behind a registry alias (FastAPI + uvicorn).

``create_app()`` resolves ``models:/<model_name>@<alias>`` (or an explicit model URI), loads the
model once at startup and validates every request against the model's MLflow signature, so bad
input is an HTTP 422 naming the record and the field, never a 500. Scikit-learn models are called
natively on a frame built once per request (pydantic has already checked the types, so MLflow's
pyfunc schema enforcement would only repeat the work); other flavors go through pyfunc. Each
request's records and predictions append to a JSON-lines log that ``mlops drift`` reads as its
current data.

Endpoints: ``POST /predict`` (``{"records": [{feature: value, ...}, ...]}`` ->
``{"predictions": [...], "model_name", "model_version"}``), ``GET /health`` (process alive),
``GET /ready`` (model loaded, else 503), ``GET /metadata`` (name, version, alias, run id, git
commit, data version and lineage tags, signature).

The clouds' serving contracts are answered by the same handlers, not a second code path: the
body may name the batch ``instances`` instead of ``records`` (Vertex AI, SageMaker's JSON
convention), ``POST /invocations`` and ``GET /ping`` are SageMaker's names for ``/predict`` and
``/ready``, and Vertex AI's ``AIP_PREDICT_ROUTE`` / ``AIP_HEALTH_ROUTE`` add the same two
handlers at the paths it sets.

>>> app = create_app(model_name="churn-model", alias="champion")  # doctest: +SKIP
>>> serve(model_name="churn-model", port=8000)  # doctest: +SKIP

The package has one module per part: :mod:`~mlops_common.serving.model` (loading the model behind
an alias or URI), :mod:`~mlops_common.serving.predictors`, :mod:`~mlops_common.serving.request`
(the request model and its error messages), :mod:`~mlops_common.serving.capture` (the prediction
log) and :mod:`~mlops_common.serving.app` (``create_app``, ``serve``). Their public names are
importable from here, loaded on first use so ``import mlops_common.serving`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops_common.serving.app import create_app, serve
    from mlops_common.serving.capture import CaptureWriter, PredictionLog, read_capture
    from mlops_common.serving.model import ColumnSpec, ServedModel, load_served_model
    from mlops_common.serving.request import MAX_RECORDS

__all__ = [
    "MAX_RECORDS",
    "CaptureWriter",
    "ColumnSpec",
    "PredictionLog",
    "ServedModel",
    "create_app",
    "load_served_model",
    "read_capture",
    "serve",
]

# public name -> the module of this package that defines it
_HOMES = {
    "MAX_RECORDS": "request",
    "CaptureWriter": "capture",
    "read_capture": "capture",
    "ColumnSpec": "model",
    "PredictionLog": "capture",
    "ServedModel": "model",
    "create_app": "app",
    "load_served_model": "model",
    "serve": "app",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # the next lookup skips __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
