"""Refuse request bodies that are not JSON with 415 before BentoML parses them (a bare multipart type is a 500)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse

JSON = "application/json"


class JsonBodiesOnly:
    """Pure ASGI middleware: a POST with a Content-Type other than application/json gets 415."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST":
            given = Headers(scope=scope).get("content-type")
            if given is not None and given.split(";", 1)[0].strip().lower() != JSON:
                response = JSONResponse({"error": f"Content-Type {given!r} is not supported; send {JSON}"},
                                        status_code=415)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
