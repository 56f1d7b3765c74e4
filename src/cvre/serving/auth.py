"""Optional API key: when the variable named by serving.yaml's `api_key_env` is set, every request but the health
probes and the docs must carry it in the x-api-key header (/metrics included)."""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import JSONResponse

OPEN_PATHS = ("/livez", "/readyz", "/healthz", "/", "/docs", "/docs.json")
HEADER = "x-api-key"


class ApiKeyMiddleware(BaseHTTPMiddleware):
    """`env_var`: returns the name of the variable holding the key, read when a request comes (never at import)."""

    def __init__(self, app, env_var: Callable[[], str]):
        super().__init__(app)
        self.env_var = env_var

    async def dispatch(self, request, call_next):
        expected = os.environ.get(self.env_var())
        if expected and request.url.path not in OPEN_PATHS:
            given = request.headers.get(HEADER, "")
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return JSONResponse({"error": f"missing or wrong {HEADER} header", "detail": ""}, status_code=401)
        return await call_next(request)
