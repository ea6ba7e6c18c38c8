"""Who may call the service and what it accepts: bearer token, JSON only, a body-size limit.

:class:`AccessMiddleware` is plain ASGI, wrapped around the FastAPI app by
:func:`mlops_common.serving.app.create_app`:

- **Token** (optional): with ``MLOPS_API_TOKEN`` set, every route except the probes (``/health``,
  ``/ready``, ``/ping`` and Vertex AI's health route) needs ``Authorization: Bearer <token>``,
  compared in constant time (:func:`hmac.compare_digest`); otherwise 401.
- **JSON only**: a request with a body must be ``Content-Type: application/json`` (415
  otherwise), so a web page cannot make a browser post ``text/plain`` rows into the drift input.
- **Body size**: larger than ``MLOPS_MAX_BODY_BYTES`` (default 8 MiB) is 413, counted as the body
  arrives, whatever ``Content-Length`` claims.

``/docs`` and ``/redoc`` are off unless asked for (``mlops serve --docs`` or ``MLOPS_DOCS=1``);
``/openapi.json`` stays, and documents the 401/413/415 answers (:func:`document_access`).

>>> AccessSettings.from_env({"MLOPS_API_TOKEN": "s3cret"}).token
's3cret'
"""

from __future__ import annotations

import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlops_common.errors import ConfigError

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "AccessMiddleware",
    "AccessSettings",
    "document_access",
    "install_access",
]

DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class AccessSettings:
    """The service's access rules; ``from_env()`` reads them from the environment."""

    token: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    docs: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AccessSettings:
        env = os.environ if environ is None else environ
        token = env.get("MLOPS_API_TOKEN", "").strip() or None
        raw = env.get("MLOPS_MAX_BODY_BYTES", "").strip()
        try:
            limit = int(raw) if raw else DEFAULT_MAX_BODY_BYTES
        except ValueError:
            limit = 0
        if limit <= 0:
            raise ConfigError(
                f"MLOPS_MAX_BODY_BYTES={raw!r}: expected a positive number of bytes, e.g. 8388608"
            )
        docs = env.get("MLOPS_DOCS", "").strip().lower() in {"1", "true", "yes", "on"}
        return cls(token=token, max_body_bytes=limit, docs=docs)


def _answer(status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None):
    body = json.dumps({"detail": detail}).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *(headers or []),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


class AccessMiddleware:
    """ASGI middleware applying :class:`AccessSettings`; ``open_paths`` skip the token check."""

    def __init__(
        self,
        app: Any,
        settings: AccessSettings,
        open_paths: tuple[str, ...],
        body_paths: tuple[str, ...],
    ) -> None:
        self.app = app
        self.settings = settings
        self.open_paths = frozenset(open_paths)
        # Only the routes that take a body check it; elsewhere the router answers (405, 404).
        self.body_paths = frozenset(body_paths)
        self._expected = None if settings.token is None else settings.token.encode()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key.lower(): value for key, value in scope.get("headers", [])}
        takes_body = scope.get("method") == "POST" and scope.get("path") in self.body_paths
        refusal = self._refuse(scope, headers, takes_body)
        if refusal is None and takes_body:
            refusal, receive = await self._read_body(headers, receive)
        if refusal is not None:
            for message in refusal:
                await send(message)
            return
        await self.app(scope, receive, send)

    def _refuse(self, scope: dict, headers: dict[bytes, bytes], takes_body: bool):
        if self._expected is not None and scope.get("path") not in self.open_paths:
            given = headers.get(b"authorization", b"")
            scheme, _, credential = given.partition(b" ")
            ok = scheme.lower() == b"bearer" and hmac.compare_digest(
                credential.strip(), self._expected
            )
            if not ok:
                return _answer(
                    401,
                    "missing or wrong bearer token: send Authorization: Bearer $MLOPS_API_TOKEN",
                    [(b"www-authenticate", b"Bearer")],
                )
        if takes_body:
            media = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            if media != b"application/json":
                return _answer(415, "send the body as Content-Type: application/json")
        return None

    async def _read_body(self, headers: dict[bytes, bytes], receive: Any):
        limit = self.settings.max_body_bytes
        too_big = _answer(413, f"request body is larger than {limit} bytes (MLOPS_MAX_BODY_BYTES)")
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return too_big, receive
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return None, _replay([message])
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return too_big, receive
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        return None, _replay([body], then=receive)


def _replay(messages: list[dict], then: Any = None):
    pending = list(messages)

    async def receive() -> dict:
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive


_ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}


def document_access(schema: dict[str, Any], settings: AccessSettings, open_paths) -> dict:
    """Add the answers this middleware can give (401, 413, 415) to the OpenAPI ``schema``."""
    content = {"application/json": {"schema": _ERROR_SCHEMA}}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if settings.token is not None and path not in open_paths:
                responses.setdefault("401", {"description": "Missing or wrong bearer token"})
                responses["401"]["content"] = content
            if method in {"post", "put", "patch"}:
                responses["413"] = {"description": "Request body too large", "content": content}
                responses["415"] = {
                    "description": "Body is not application/json",
                    "content": content,
                }
    if settings.token is not None:
        components = schema.setdefault("components", {})
        components.setdefault("securitySchemes", {})["bearer"] = {
            "type": "http",
            "scheme": "bearer",
        }
        for path, operations in schema.get("paths", {}).items():
            if path not in open_paths:
                for operation in operations.values():
                    operation["security"] = [{"bearer": []}]
    return schema


def install_access(
    app: Any,
    settings: AccessSettings,
    open_paths: tuple[str, ...],
    body_paths: tuple[str, ...],
) -> None:
    """Wrap ``app`` in :class:`AccessMiddleware` and document its answers in ``/openapi.json``."""
    app.add_middleware(
        AccessMiddleware, settings=settings, open_paths=open_paths, body_paths=body_paths
    )
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_access(build(), settings, frozenset(open_paths))
        return app.openapi_schema

    app.openapi = openapi
