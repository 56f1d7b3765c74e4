"""Optional API key: when the variable named by serving.yaml's `api_key_env` is set, every request but the health
probes and the docs must carry it in the x-api-key header (/metrics included)."""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.responses import JSONResponse

OPEN_PATHS = ("/livez", "/readyz", "/healthz", "/", "/docs", "/docs.json")
HEADER = "x-api-key"


class ApiKeyMiddleware:
    """Pure ASGI (Starlette's BaseHTTPMiddleware runs each request through a task group and memory streams).
    `env_var`: returns the name of the variable holding the key, read when a request comes (never at import)."""

    def __init__(self, app, env_var: Callable[[], str]):
        self.app, self.env_var = app, env_var

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            expected = os.environ.get(self.env_var())
            if expected and scope["path"] not in OPEN_PATHS:
                given = Headers(scope=scope).get(HEADER, "")
                if not hmac.compare_digest(given.encode(), expected.encode()):
                    response = JSONResponse({"error": f"missing or wrong {HEADER} header", "detail": ""},
                                            status_code=401)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
