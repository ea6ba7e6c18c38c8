"""The one error hierarchy of ``mlops_common``.

Every message says what was wrong, where, and what to do next, in one line, so the CLI can print
it as is and exit non-zero.

>>> raise InputError("data/raw.csv: file not found; run `dvc repro prepare` first")
Traceback (most recent call last):
mlops_common.errors.InputError: data/raw.csv: file not found; run `dvc repro prepare` first
"""

__all__ = [
    "ConfigError",
    "DeployError",
    "FleetError",
    "InputError",
    "MlopsError",
    "RegistryError",
    "SuiteError",
    "TrackingUnavailable",
]


class MlopsError(Exception):
    """Base class: an error the user can act on (the CLI prints it without a traceback)."""

    exit_code = 2


class InputError(MlopsError, ValueError):
    """Data the caller gave us cannot be used (missing file, unreadable, empty, wrong columns)."""


class SuiteError(MlopsError, ValueError):
    """An expectation suite is malformed or names something that does not exist."""


class ConfigError(MlopsError, ValueError):
    """Project configuration (``[tool.mlops]``, ``params.yaml``, gate config) is invalid."""


class TrackingUnavailable(MlopsError, ConnectionError):
    """The MLflow tracking server did not answer."""


class RegistryError(MlopsError):
    """A registry operation cannot be done (unknown model, version or alias)."""


class DeployError(MlopsError):
    """A deployment target refused or is not reachable (credentials, endpoint, process)."""


class FleetError(MlopsError):
    """A fleet operation cannot start (bad inventory file, unknown template source)."""
