"""The one error hierarchy of ``mlops_common``.

Every message says what was wrong, where, and what to do next, in one line, so the CLI can print
it as is and exit with the class's ``exit_code`` (the rule of every ``mlops`` command, constants in
:mod:`mlops_common.results`): 2 for bad input (``MlopsError`` and most subclasses), 3 for the
environment (:class:`EnvironmentProblem` and its subclasses: a store that does not answer, missing
credentials, a missing or mismatched package). A negative verdict (1) is never an error: it is a
result whose ``exit_code`` says so.

>>> raise InputError("data/raw.csv: file not found; run `dvc repro prepare` first")
Traceback (most recent call last):
mlops_common.errors.InputError: data/raw.csv: file not found; run `dvc repro prepare` first
"""

from mlops_common.results import EXIT_ENVIRONMENT, EXIT_INPUT

__all__ = [
    "ConfigError",
    "CredentialsMissing",
    "DeployError",
    "EnvironmentProblem",
    "FleetError",
    "InputError",
    "MlopsError",
    "RegistryError",
    "SuiteError",
    "TargetUnavailable",
    "TrackingUnavailable",
]


class MlopsError(Exception):
    """Base class: an error the user can act on (the CLI prints it without a traceback).

    Its ``exit_code`` is 2, bad input; :class:`EnvironmentProblem` and its subclasses say 3.
    """

    exit_code: int = EXIT_INPUT


class EnvironmentProblem(MlopsError):
    """The environment, not the input, stops the command: exit code 3.

    A service that does not answer, credentials that are missing, a package that is not installed
    or outside the project's pin. The message says what to fix on the machine (or in CI).
    """

    exit_code = EXIT_ENVIRONMENT


class InputError(MlopsError, ValueError):
    """Data the caller gave us cannot be used (missing file, unreadable, empty, wrong columns)."""


class SuiteError(MlopsError, ValueError):
    """An expectation suite is malformed or names something that does not exist."""


class ConfigError(MlopsError, ValueError):
    """Project configuration (``[tool.mlops]``, ``params.yaml``, gate config) is invalid."""


class TrackingUnavailable(EnvironmentProblem, ConnectionError):
    """The MLflow tracking server did not answer (exit code 3)."""


class RegistryError(MlopsError):
    """A registry operation cannot be done (unknown model, version or alias)."""


class DeployError(MlopsError):
    """A deployment target refused the request or is set up wrong (settings, model, process).

    Missing credentials and unreachable targets are :class:`CredentialsMissing` and
    :class:`TargetUnavailable` (exit code 3); both are also ``DeployError``.
    """


class CredentialsMissing(EnvironmentProblem, DeployError):
    """A cloud SDK found no credentials (exit code 3); the message says how to get them."""


class TargetUnavailable(EnvironmentProblem, DeployError):
    """A deploy target cannot be used from here (exit code 3): its SDK is not installed, or its
    API does not answer."""


class FleetError(MlopsError):
    """A fleet operation cannot start (bad inventory file, unknown template source)."""
