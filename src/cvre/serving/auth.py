"""Optional API key: when the configured variable is set, every scoring request must carry x-api-key."""

from __future__ import annotations

import hmac
import os

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import JSONResponse

OPEN_PATHS = ("/livez", "/readyz", "/healthz", "/metrics", "/docs", "/docs.json")
HEADER = "x-api-key"


class ApiKeyMiddleware(BaseHTTPMiddleware):
    def __init__(self, app, env_var: str = "CVRE_API_KEY"):
        super().__init__(app)
        self.env_var = env_var

    async def dispatch(self, request, call_next):
        expected = os.environ.get(self.env_var)
        if expected and request.url.path not in OPEN_PATHS:
            given = request.headers.get(HEADER, "")
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return JSONResponse({"error": f"missing or wrong {HEADER} header"}, status_code=401)
        return await call_next(request)
