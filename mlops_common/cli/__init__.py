"""The ``mlops`` command: one Typer app, one file per concern.

Each ``cli/<concern>.py`` declares its commands as module-level functions with ``Annotated``
signatures and exposes them as ``COMMANDS`` (top-level commands) or ``app`` (a command group such
as ``mlops deploy``); this module adds them. Command bodies import the library (and through it
mlflow, pandas, ...) only when they run, so ``mlops --help`` stays instant. Every command that
returns a result takes ``--json`` and ``--output`` and ends with :func:`._render.emit`.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

from mlops_common.errors import MlopsError
from mlops_common.results import EXIT_ENVIRONMENT, EXIT_INPUT, EXIT_NEGATIVE, EXIT_OK

__all__ = ["EXIT_CODES", "EXIT_UNEXPECTED", "app", "main"]

#: An exception no command expected: a bug, reported with its traceback (never 1, so a crash is
#: not mistaken for a negative verdict by a script that branches on the exit code).
EXIT_UNEXPECTED = 4

#: The one exit-code rule of every command: shown in ``mlops --help`` and the CLI reference.
EXIT_CODES = {
    EXIT_OK: 'ok, including "not enough data to judge" (the --json result says so in `verdict`)',
    EXIT_NEGATIVE: "a negative verdict: validation failed, drift, gate refused, degradation, "
    "deployment not healthy",
    EXIT_INPUT: "bad input: arguments, files, suites, answers, configuration",
    EXIT_ENVIRONMENT: "the environment: tracking store unreachable, installed library outside "
    "the project's pin, missing credentials or cloud SDK",
    EXIT_UNEXPECTED: "an unexpected error (a bug): the traceback is printed; please report it",
}


def __getattr__(name: str) -> Any:
    # The app imports Typer's full machinery and every command module: only built when asked
    # for, so `mlops validate` on its direct path never pays for it.
    if name == "app":
        from mlops_common.cli._app import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Entry point of the ``mlops`` script: the one exit-code rule (:data:`EXIT_CODES`).

    Library errors (:class:`~mlops_common.errors.MlopsError`) become one line on stderr and the
    error class's ``exit_code`` (2 input, 3 environment); results set 0 or 1 themselves.
    """
    try:
        _run()
    except SystemExit as exc:
        _exit_now(exc.code)
    _exit_now(EXIT_OK)


def _exit_now(code: object) -> NoReturn:
    """Exit as ``sys.exit(code)`` would, without finalizing every loaded module.

    A validation or drift stage has pandas, pyarrow and numpy loaded, and tearing them down
    costs ~0.1 s of CPU in every DVC stage and CI step. What an ordinary exit does that matters
    is done first: atexit callbacks (MLflow's among them) and flushing stdout and stderr. While
    a non-daemon thread still runs, the ordinary exit, which waits for it, is taken instead.
    """
    import atexit
    import contextlib
    import os
    import threading

    main_thread = threading.main_thread()
    if any(t is not main_thread and t.is_alive() and not t.daemon for t in threading.enumerate()):
        sys.exit(code)
    if code is None:
        status = EXIT_OK
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message") prints the message and exits 1
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe (`mlops ... | head`) or stream has nothing left to flush.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


def _run() -> None:
    """The commands, with library errors and crashes turned into exit codes."""
    from mlops_common.cli import _direct

    try:
        if not _direct.run(sys.argv[1:]):
            from mlops_common.cli._app import app

            app()
    except MlopsError as exc:
        import typer

        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # the last resort of the entry point
        import traceback

        import typer

        from mlops_common import __version__

        traceback.print_exc()
        typer.echo(
            f"error: unexpected {type(exc).__name__} in mlops-common {__version__}: this is a "
            "bug; please report it with the traceback above",
            err=True,
        )
        sys.exit(EXIT_UNEXPECTED)
