"""Serving replicas behind a load balancer: the nginx configuration, and a rolling reload after a promotion.

Each replica is one `cvre serve` process. nginx spreads requests over them and sends a request on to the next
replica when one fails or answers 503; the reload goes to one replica at a time, so the others serve while it
loads and no request is lost (tests/deploy/test_replicas.py).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

NGINX_TEMPLATE = """\
# cvre serving replicas behind nginx (written by `cvre replicas nginx-config`; docs/team.md)
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  log_format upstream '$remote_addr [$time_local] "$request" $status $request_time $upstream_addr';
  access_log {folder}/access.log upstream;
  client_body_temp_path {folder}/client_body;
  proxy_temp_path {folder}/proxy;
  fastcgi_temp_path {folder}/fastcgi;
  uwsgi_temp_path {folder}/uwsgi;
  scgi_temp_path {folder}/scgi;
  client_max_body_size {max_body};
  upstream cvre_scoring {{
{servers}
    keepalive 32;
  }}
  server {{
    listen {listen};
    location / {{
      proxy_pass http://cvre_scoring;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      # scoring is idempotent: a request a replica failed or refused (503) is sent to the next one
      proxy_next_upstream error timeout http_502 http_503 non_idempotent;
      proxy_next_upstream_tries {tries};
      proxy_read_timeout {read_timeout}s;
    }}
  }}
}}
"""


def nginx_config(replicas: list[str], listen: str, folder: Path, max_body_bytes: int = 4 * 1024 * 1024,
                 read_timeout_s: int = 60) -> str:
    """nginx.conf text: `listen` (host:port) in front of `replicas` (host:port each); logs, pid and temp files
    in `folder`. Run it with `nginx -c FILE` (add `-g 'daemon off;'` to keep it in the foreground)."""
    if not replicas:
        raise ValueError("no replicas: give at least one host:port of a `cvre serve` process")
    servers = "\n".join(f"    server {_host_port(r)} max_fails=1 fail_timeout=5s;" for r in replicas)
    return NGINX_TEMPLATE.format(folder=Path(folder).resolve(), servers=servers, listen=_host_port(listen),
                                 max_body=max_body_bytes, tries=len(replicas), read_timeout=read_timeout_s)


def _host_port(address: str) -> str:
    address = address.removeprefix("http://").rstrip("/")
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"{address!r} is not host:port (e.g. 127.0.0.1:3001)")
    return address


@dataclass
class ReplicaReload:
    url: str
    ok: bool
    serving: dict[str, str]  # model name -> version in service after the reload
    error: str | None = None


def _call(url: str, method: str, api_key: str | None, timeout_s: float) -> tuple[int, dict]:
    headers = {"content-type": "application/json"} | ({"x-api-key": api_key} if api_key else {})
    request = urllib.request.Request(url, method=method, data=b"{}" if method == "POST" else None, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body or b"{}")
        except ValueError:
            return exc.code, {"error": body.decode(errors="replace")[:300]}


def reload_replica(url: str, api_key: str | None = None, timeout_s: float = 300) -> ReplicaReload:
    """POST /reload on one replica: 200 once every model loaded (a failed model keeps its old version)."""
    url = url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        url = f"http://{url}"
    try:
        status, body = _call(f"{url}/reload", "POST", api_key, timeout_s)
    except (urllib.error.URLError, OSError) as exc:
        return ReplicaReload(url, False, {}, f"unreachable: {getattr(exc, 'reason', exc)}")
    if status == 200:
        return ReplicaReload(url, True, body.get("serving", {}))
    return ReplicaReload(url, False, body.get("serving", {}), f"HTTP {status}: {body.get('error', body)}")


def rolling_reload(urls: list[str], api_key: str | None = None, timeout_s: float = 300) -> list[ReplicaReload]:
    """Reload the replicas one after the other; stop at the first that fails, so the rest keep serving the
    version they had (fix the model, then run it again)."""
    done = []
    for url in urls:
        done.append(reload_replica(url, api_key, timeout_s))
        if not done[-1].ok:
            break
    return done
