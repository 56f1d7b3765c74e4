"""Client errors in one shape, and logged without the request's values.

BentoML answers a 4xx in three shapes (a validation error's `detail` is a list; its own exceptions come as a
one-item array) while its OpenAPI declares `{"error": string, "detail": string}`; and it logs every rejected
request at ERROR with a traceback whose pydantic message quotes the values sent (e-mail addresses, phone numbers).
"""

from __future__ import annotations

import contextlib
import json
import logging

from pydantic import ValidationError
from starlette.datastructures import MutableHeaders

BENTOML_REQUEST_LOGGER = "bentoml._internal.server.http_app"  # where BentoML's log_exception writes


def error_body(body: object) -> dict[str, str]:
    """Any of BentoML's 4xx bodies as the declared schema: `error` and `detail`, both text."""
    if isinstance(body, list) and len(body) == 1 and isinstance(body[0], dict):
        body = body[0]
    if not isinstance(body, dict):
        return {"error": str(body), "detail": ""}
    detail = body.get("detail", "")
    if isinstance(detail, list):  # pydantic errors: one line per field path
        detail = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
                           if isinstance(e, dict) else str(e) for e in detail)
    return {"error": str(body.get("error", "")), "detail": str(detail)}


class ErrorBodies:
    """Rewrites every JSON 4xx body to `error_body` (a body that is not JSON is passed on as it came)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict | None = None
        chunks: list[bytes] = []

        async def reshaping_send(message):
            nonlocal start
            if message["type"] == "http.response.start" and 400 <= message["status"] < 500:
                start = message
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            with contextlib.suppress(ValueError):  # not JSON: passed on as it came
                body = json.dumps(error_body(json.loads(body))).encode()
            headers = MutableHeaders(raw=list(start["headers"]))
            headers["content-length"] = str(len(body))
            await send({**start, "headers": headers.raw})
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, receive, reshaping_send)


class QuietClientErrors(logging.Filter):
    """A rejected request is one WARNING line naming the fields, with no traceback and no value sent; a server
    error keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        status = getattr(getattr(exc, "error_code", None), "value", None)
        if isinstance(exc, ValidationError):
            fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors(include_input=False)})
            summary = f"{exc.error_count()} validation error(s) in {', '.join(fields[:10])}"
        elif status is not None and status < 500:
            summary = f"{type(exc).__name__} ({status})"
        else:
            return True
        record.msg, record.args = f"rejected {record.args[0] if record.args else 'request'}: {summary}", ()
        record.levelno, record.levelname, record.exc_info, record.exc_text = logging.WARNING, "WARNING", None, None
        return True


def quiet_client_errors() -> None:
    """Install QuietClientErrors on BentoML's request logger (once)."""
    logger = logging.getLogger(BENTOML_REQUEST_LOGGER)
    if not any(isinstance(f, QuietClientErrors) for f in logger.filters):
        logger.addFilter(QuietClientErrors())
