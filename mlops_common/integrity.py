"""Model integrity: a digest of the model's files, recorded when it is logged, checked before load.

Trust model. A pickled model runs code when it is loaded, so the service must load only what this
project's own training logged. The library therefore:

- loads models only from the project's own registry (the tracking store of ``[tool.mlops]`` /
  ``MLFLOW_TRACKING_URI``); whoever can write to that store or its artifact storage can make the
  service run code, so grant write access to training CI only;
- records, at logging time, the SHA-256 of every file of the logged model (``mlops.model.sha256``
  on the run and, once registered, on the model version) and refuses to load a version whose
  downloaded files no longer match it (someone replaced ``model.pkl`` in the artifact store);
- serves a version that has no recorded digest (logged by other tools, or before this check
  existed) but says so (``integrity: unrecorded`` in ``/metadata``).

The digest protects against the artifacts changing after logging; it does not protect against a
writer who can change both the artifact and the registry's tags.

>>> from pathlib import Path
>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "MLmodel").write_text("flavors: {}")
>>> model_digest(folder)[:7]
'sha256:'
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from mlops_common.errors import RegistryError

__all__ = ["IntegrityError", "model_digest", "verify_model"]

_CHUNK = 1 << 20
# Written by MLflow into every download of a `models:/` URI; not one of the logged files.
_DOWNLOAD_ONLY = frozenset({"registered_model_meta"})


class IntegrityError(RegistryError):
    """The model's files do not match the digest recorded when it was logged."""


def model_digest(folder: Path | str) -> str:
    """``sha256:<hex>`` over every file under ``folder``: relative path and content, in order.

    Independent of where the folder lives and of file times, so the digest of a model logged to
    the artifact store equals that of its downloaded copy.
    """
    root = Path(folder)
    digest = hashlib.sha256()
    files = [
        p
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).as_posix() not in _DOWNLOAD_ONLY
    ]
    for path in sorted(files):
        relative = path.relative_to(root).as_posix().encode()
        digest.update(len(relative).to_bytes(8, "big") + relative)
        digest.update(path.stat().st_size.to_bytes(8, "big"))
        with path.open("rb") as handle:
            for chunk in iter(lambda handle=handle: handle.read(_CHUNK), b""):
                digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def verify_model(folder: Path | str, expected: str | None, where: str) -> str:
    """``"verified"`` when ``folder`` matches ``expected``, ``"unrecorded"`` when there is no
    digest to check; raises :class:`IntegrityError` on a mismatch."""
    if not expected:
        return "unrecorded"
    actual = model_digest(folder)
    if actual != expected:
        raise IntegrityError(
            f"{where}: the model's files have digest {actual}, not the {expected} recorded when "
            "it was logged; they changed in the artifact store, so it is not loaded. Register a "
            "version from a trusted training run"
        )
    return "verified"
