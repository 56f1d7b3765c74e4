"""The nginx configuration nginx itself accepts, and a rolling reload that stops at the first failed replica."""

from __future__ import annotations

import subprocess

import pytest

from cvre.deploy.replicas import nginx_config, rolling_reload
from tests.deploy.services import free_port, require


def test_nginx_accepts_the_configuration(tmp_path):
    require("/usr/sbin/nginx", "nginx (Debian's nginx)")
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_config(["127.0.0.1:3001", "http://127.0.0.1:3002/"], "127.0.0.1:8080", tmp_path))
    text = conf.read_text()
    assert "server 127.0.0.1:3001 " in text and "server 127.0.0.1:3002 " in text
    assert "proxy_next_upstream_tries 2;" in text and "non_idempotent" in text
    checked = subprocess.run(["/usr/sbin/nginx", "-t", "-c", str(conf)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("bad", [[], ["localhost"], ["127.0.0.1:http"]])
def test_replicas_must_be_host_port(bad, tmp_path):
    with pytest.raises(ValueError, match="replica|host:port"):
        nginx_config(bad, "127.0.0.1:8080", tmp_path)


def test_rolling_reload_stops_at_the_first_failure():
    down = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]  # nothing listens there
    done = rolling_reload(down, timeout_s=5)
    assert len(done) == 1 and not done[0].ok and "unreachable" in done[0].error
