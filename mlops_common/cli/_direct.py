"""The lean way in for the commands every pipeline stage and CI run pays: ``mlops validate``.

Typer imports pydantic and builds a TypeAdapter for each parameter of the command it runs, and
the full app imports every command module: together ~0.15 s of CPU, a fifth of a whole
``mlops validate`` on 100k rows. When the command line is a plain call of one of
:data:`DIRECT_COMMANDS` (its arguments and its declared options, nothing else) it is parsed
here from the command's own ``Annotated`` signature, so the options are still declared once, and
the command function is called as Typer would call it. Anything else (``--help``, a mistake,
``--option=value``, a path Typer would refuse) returns None and goes to Typer, which answers
exactly as it always has.

>>> from mlops_common.cli.validate import validate
>>> parse(validate, ["suite.json", "data.csv", "--json"])["as_json"]
True
>>> parse(validate, ["suite.json", "data.csv", "--help"]) is None
True
"""

from __future__ import annotations

import importlib
import inspect
import os
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["DIRECT_COMMANDS", "parse", "run"]

#: Command name -> (module, function): the hot commands whose plain calls skip Typer.
DIRECT_COMMANDS = {"validate": ("mlops_common.cli.validate", "validate")}

# Parameter features this parser does not reproduce; a command using any of them goes to Typer.
_TYPER_ONLY = (
    "callback",
    "envvar",
    "prompt",
    "parser",
    "exists",
    "resolve_path",
    "count",
    "is_eager",
    "default_factory",
)


def run(argv: list[str]) -> bool:
    """Run ``argv`` (without the program name) directly when it is a plain call of a direct
    command; False when Typer should handle it. Exits like Typer: ``SystemExit(code)``."""
    if not argv or argv[0] not in DIRECT_COMMANDS:
        return False
    import gc

    # Importing pandas and numpy allocates ~10^5 objects that all stay alive: at the default
    # threshold the collector scans them again and again (~0.04 s of CPU). Collections still
    # happen, only less often, in a process that ends when the command does.
    gc.set_threshold(10_000, *gc.get_threshold()[1:])
    # numpy's OpenBLAS starts one spinning thread per core on import (~0.13 s of CPU on two
    # cores); these commands do no linear algebra. A value the user set is kept.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    module, name = DIRECT_COMMANDS[argv[0]]
    command = getattr(importlib.import_module(module), name)
    arguments = parse(command, argv[1:])
    if arguments is None:
        return False
    import errno
    import sys

    import typer
    from typer._click.utils import PacifyFlushWrapper

    try:
        command(**arguments)
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        # `mlops validate ... | head -1`: the reader left; end quietly with 1, as Typer does.
        sys.stdout = PacifyFlushWrapper(sys.stdout)
        sys.stderr = PacifyFlushWrapper(sys.stderr)
        raise SystemExit(1) from None
    return True


def parse(command: Callable[..., Any], args: list[str]) -> dict[str, Any] | None:
    """The keyword arguments Typer would call ``command`` with for ``args``, or None when the
    call needs Typer (help, an unknown or malformed option, a missing argument, a feature of
    :data:`_TYPER_ONLY`)."""
    params = _parameters(command)
    if params is None:
        return None
    values = {name: default for name, (_, _, default, _) in params.items()}
    options: dict[str, tuple[str, bool]] = {}  # spelling -> (parameter, value of a flag)
    positional = []
    for name, (kind, base, _, decls) in params.items():
        if kind == "argument":
            positional.append(name)
            continue
        for spelling in decls:
            options[spelling] = (name, True)
        if base is bool and decls == (_long(name),):
            options[f"--no-{name.replace('_', '-')}"] = (name, False)
    given: set[str] = set()
    tokens = iter(args)
    for token in tokens:
        if token.startswith("-") and token != "-":
            if token not in options:
                return None
            name, flag = options[token]
            if params[name][1] is bool:
                values[name] = flag
                continue
            value = next(tokens, None)
            if value is None:
                return None
            values[name] = _convert(params[name][1], value)
        else:
            if len(given) == len(positional):
                return None
            name = positional[len(given)]
            given.add(name)
            values[name] = _convert(params[name][1], token)
    if any(values[name] is inspect.Parameter.empty for name in positional):
        return None
    if any(isinstance(value, Path) and value.is_dir() for value in values.values()):
        return None  # Typer's dir_okay/file_okay checks word this error
    return values


def _parameters(command: Callable[..., Any]) -> dict[str, tuple[str, Any, Any, tuple]] | None:
    """``name -> (argument|option, base type, default, spellings)``, or None if unsupported."""
    import typer.models

    hints = typing.get_type_hints(command, include_extras=True)
    found = {}
    for name, parameter in inspect.signature(command).parameters.items():
        hint = hints.get(name)
        if typing.get_origin(hint) is not typing.Annotated:
            return None
        base, *metadata = typing.get_args(hint)
        info = next((m for m in metadata if isinstance(m, typer.models.ParameterInfo)), None)
        base = _plain(base)
        if info is None or base is None or any(getattr(info, a, None) for a in _TYPER_ONLY):
            return None
        if isinstance(info, typer.models.ArgumentInfo):
            found[name] = ("argument", base, parameter.default, ())
            continue
        decls = tuple(info.param_decls or ())
        if isinstance(info.default, str):  # typer.Option("--json"): the first spelling
            decls = (info.default, *decls)
        decls = decls or (_long(name),)
        if any("/" in decl for decl in decls):
            return None
        found[name] = ("option", base, parameter.default, decls)
    return found


def _plain(annotation: Any) -> type | None:
    """``str``, ``Path`` or ``bool`` (also inside ``X | None``); None for anything else."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = members[0] if len(members) == 1 else None
    return annotation if annotation in (str, Path, bool) else None


def _convert(base: type, value: str) -> Any:
    return Path(value) if base is Path else value


def _long(name: str) -> str:
    return f"--{name.replace('_', '-')}"
