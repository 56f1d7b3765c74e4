"""Pure ASGI middlewares that guard the API before BentoML parses anything: a body-size limit, request metrics
labelled by route template, and the service's own /readyz (per model), /metrics and /docs.

Pure ASGI (not BaseHTTPMiddleware): they see the raw byte stream, so a body over the limit is refused while it
arrives, and nothing of it is parsed or validated.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, RedirectResponse, Response

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")


class BodyLimit:
    """413 for a request body over `max_bytes`: by its Content-Length at once, else as soon as the stream passes
    the limit. The body is read here (at most `max_bytes`) and handed on whole."""

    def __init__(self, app, max_bytes: Callable[[], int]):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes()
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, receive, send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body, sent = b"".join(chunks), False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope, receive, send, limit: int) -> None:
        response = JSONResponse({"error": f"request body over the limit of {limit:,} bytes (serving.yaml: "
                                 "max_body_bytes); send fewer deals per request"}, status_code=413,
                                headers={"connection": "close"})
        await response(scope, receive, send)


class RequestMetrics:
    """Prometheus counters and latencies per route template, method and status, in a registry of their own."""

    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("cvre_http_requests", "HTTP requests", ["route", "method", "status"],
                                registry=self.registry)
        self.latency = Histogram("cvre_http_request_duration_seconds", "Time to answer, by route",
                                 ["route", "method"], registry=self.registry)

    def response(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class RouteMetrics:
    """Counts every request by route template; any other path counts as `other`, so the label set is fixed
    whatever paths clients try (and holds nothing they put in a path)."""

    def __init__(self, app, routes: Callable[[], set[str]], metrics: Callable[[], RequestMetrics]):
        self.app, self.routes, self.metrics = app, routes, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = scope["path"] if scope["path"] in self.routes() else "other"
        method = scope["method"] if scope["method"] in METHODS else "other"
        status, start = 500, time.perf_counter()

        async def counting_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            metrics = self.metrics()
            metrics.requests.labels(route, method, str(status)).inc()
            metrics.latency.labels(route, method).observe(time.perf_counter() - start)


class ServiceRoutes:
    """GET /readyz: 200 when deals can be scored, else 503, with each model's state; GET /metrics: the request
    metrics (inside the key check); GET /docs: the docs page (BentoML serves it at /)."""

    def __init__(self, app, status: Callable[[], tuple[bool, dict] | None], metrics: Callable[[], RequestMetrics]):
        self.app, self.status, self.metrics = app, status, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] in ("/readyz", "/docs", "/metrics"):
            await self._answer(scope["path"])(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _answer(self, path: str) -> Response:
        if path == "/docs":
            return RedirectResponse("/", status_code=307)
        if path == "/metrics":
            return self.metrics().response()
        found = self.status()
        ready, models = found if found else (False, {})
        body = {"ready": ready, "models": models} if found else {"ready": False, "starting": True}
        return Response(json.dumps(body), status_code=200 if ready else 503, media_type="application/json")
