"""A lease lock around the promotion gate, enforced by the registry itself.

MLflow has no compare-and-set on aliases, so two promotions at the same instant would both read
the same champion and both move ``champion``. Registered-model names are unique in every store
MLflow offers (sqlite, PostgreSQL/MySQL, and an ``mlflow server`` in front of either), so
*creating* the registered model ``<model>.gate-lock`` is an atomic test-and-set: the one creation
that succeeds holds the lock; every other one gets ``RESOURCE_ALREADY_EXISTS`` and waits.

- The lock carries an owner token and an expiry (``mlops.gate_lock.*`` tags). A holder that died
  leaves a lock that others break once it has expired (``ttl``, 120 s by default: far longer
  than a promotion takes). Expiry compares wall clocks, so machines that promote should keep
  their clocks in sync (NTP).
- The holder re-reads the champion *under* the lock (:func:`mlops_common.registry.promote` does)
  and checks, just before it moves ``champion``, that the lock is still its own
  (:meth:`GateLock.verify`).
- sqlite answers "database is locked" when several processes write at once;
  :func:`retry_locked` retries those calls with a short backoff.

What it does not cover: aliases changed by hand in the MLflow UI or by other tools bypass the
lock. Promote and roll back with ``mlops promote`` / ``mlops rollback`` (or this library) only.

>>> from mlops_common import store
>>> with gate_lock(store.client(), "churn-model") as lock:  # doctest: +SKIP
...     lock.verify()
"""

from __future__ import annotations

import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from mlops_common import tags
from mlops_common.errors import RegistryError

__all__ = [
    "DEFAULT_TTL",
    "DEFAULT_WAIT",
    "LOCK_SUFFIX",
    "GateLock",
    "GateLockTimeout",
    "gate_lock",
    "lock_name",
    "retry_locked",
]

#: Appended to the model's name to name its lock (a registered model of its own).
LOCK_SUFFIX = ".gate-lock"
#: Seconds after which a lock whose holder did not release it may be broken.
DEFAULT_TTL = 120.0
#: Seconds to wait for a lock another promotion holds before giving up.
DEFAULT_WAIT = 300.0

_LOCKED = "database is locked"
_T = TypeVar("_T")


class GateLockTimeout(RegistryError):
    """Another promotion held the gate lock for longer than we were willing to wait."""


def lock_name(model_name: str) -> str:
    """The registered model that serves as ``model_name``'s gate lock.

    >>> lock_name("churn-model")
    'churn-model.gate-lock'
    """
    return model_name + LOCK_SUFFIX


def retry_locked(call: Callable[..., _T], *args: Any, timeout: float = 60.0, **kwargs: Any) -> _T:
    """``call(*args, **kwargs)``, retried while sqlite answers "database is locked".

    >>> retry_locked(len, [1, 2])
    2
    """
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        try:
            return call(*args, **kwargs)
        except Exception as exc:  # sqlite's OperationalError, or MLflow's wrapping of it
            if _LOCKED not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(delay + random.uniform(0, delay))
        delay = min(delay * 2, 1.0)


@dataclass(frozen=True)
class GateLock:
    """A held lock: its registered-model name, owner token and expiry (epoch seconds)."""

    client: Any
    name: str
    owner: str
    expires_at: float

    def verify(self) -> None:
        """Raise :class:`RegistryError` when the lock is no longer ours (it expired and was
        broken by another promotion), so the caller does not move ``champion``."""
        holder = _holder(self.client, self.name)
        if holder is None or holder[0] != self.owner:
            raise RegistryError(
                f"the gate lock {self.name!r} expired and was taken over while this promotion "
                f"ran; promote again (and raise the lock's ttl if promotions take that long)"
            )


def _already_exists(exc: Exception) -> bool:
    return "ALREADY_EXISTS" in str(getattr(exc, "error_code", ""))


def _holder(client: Any, name: str) -> tuple[str, float] | None:
    """``(owner, expires_at)`` of the lock, or None when nobody holds it."""
    from mlflow.exceptions import MlflowException

    try:
        model = retry_locked(client.get_registered_model, name)
    except MlflowException as exc:
        if "RESOURCE_DOES_NOT_EXIST" in str(exc.error_code):
            return None
        raise
    found = model.tags or {}
    try:
        expires = float(found.get(tags.GATE_LOCK_EXPIRES, "0"))
    except ValueError:
        expires = 0.0
    return found.get(tags.GATE_LOCK_OWNER, ""), expires


def _delete(client: Any, name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        retry_locked(client.delete_registered_model, name)
    except MlflowException as exc:
        if "RESOURCE_DOES_NOT_EXIST" not in str(exc.error_code):
            raise


def _acquire(client: Any, model_name: str, ttl: float, wait: float, poll: float) -> GateLock:
    from mlflow.exceptions import MlflowException

    name = lock_name(model_name)
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
    deadline = time.monotonic() + wait
    while True:
        expires = time.time() + ttl
        try:
            retry_locked(
                client.create_registered_model,
                name,
                tags={tags.GATE_LOCK_OWNER: owner, tags.GATE_LOCK_EXPIRES: f"{expires:.3f}"},
                description=f"Lease lock of the promotion gate of {model_name!r} (mlops); "
                "deleted when the promotion ends. Do not edit.",
            )
            return GateLock(client=client, name=name, owner=owner, expires_at=expires)
        except MlflowException as exc:
            # The sqlite store answers a lost race with "does not exist" when the lock it
            # collided with was released before it could describe it: contention all the same.
            if not (_already_exists(exc) or "RESOURCE_DOES_NOT_EXIST" in str(exc.error_code)):
                raise
        holder = _holder(client, name)
        if holder is not None and holder[1] < time.time():
            # Its holder died: break it, unless someone else already replaced it.
            again = _holder(client, name)
            if again == holder:
                _delete(client, name)
            continue
        if time.monotonic() > deadline:
            who = holder[0] if holder else "another promotion"
            raise GateLockTimeout(
                f"the promotion gate of {model_name!r} stayed locked by {who} for {wait:g}s; "
                f"retry later, or delete the registered model {name!r} if its holder is gone"
            )
        time.sleep(poll + random.uniform(0, poll))


@contextmanager
def gate_lock(
    client: Any,
    model_name: str,
    *,
    ttl: float = DEFAULT_TTL,
    wait: float = DEFAULT_WAIT,
    poll: float = 0.1,
) -> Iterator[GateLock]:
    """Hold ``model_name``'s gate lock for the block; released (if still ours) on exit.

    >>> with gate_lock(store.client(), "churn-model"):  # doctest: +SKIP
    ...     pass
    """
    lock = _acquire(client, model_name, ttl, wait, poll)
    try:
        yield lock
    finally:
        holder = _holder(client, lock.name)
        if holder is not None and holder[0] == lock.owner:
            _delete(client, lock.name)
