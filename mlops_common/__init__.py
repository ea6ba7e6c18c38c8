"""Shared code for ML projects rendered from the mlops template.

One module per concern: ``validation``, ``store`` (where MLflow lives, the one client),
``tags``, ``tracking``, ``gate`` (the pure promotion gate), ``registry``, ``monitoring``,
``serving``, ``deploy``, ``fleet``, and ``cli`` for the ``mlops`` command. Importing this package
stays cheap: heavy libraries (mlflow, great_expectations, pandas, scipy) load inside the
functions that use them.

>>> import mlops_common
>>> mlops_common.__version__  # doctest: +SKIP
'0.1.0'
"""

from mlops_common.errors import MlopsError

__all__ = ["MlopsError", "__version__"]


def _read_version() -> str:
    try:
        from mlops_common._version import __version__ as version  # written by the build
    except ImportError:  # a source checkout that was never built or installed
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as dist_version

        try:
            return dist_version("mlops-common")
        except PackageNotFoundError:
            return "0.0.0+unknown"
    return version


__version__ = _read_version()
