"""Helpers this repository's own tasks share: ``nox -s demo``, ``benchmarks/`` and ``tests/``.

Not shipped in the ``mlops-common`` wheel. Importable from the repository root: nox sessions and
benchmarks run as ``python -m`` from there, and pytest puts the root on its path
(``pythonpath`` in pyproject.toml).
"""
