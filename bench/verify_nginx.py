"""nginx in front of the benchmark's gunicorn nodes: the repo's config from
deploy/render_nginx.py when it exists, else the minimal one below with the same features —
the request stamp `X-Request-Start: t=$msec` (the app's admission guard sheds what waited too
long), upstream keep-alive and `max_conns`, 503 + Retry-After for what nginx refuses, and the
same access log format (`access_log` reads both).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import time
import urllib.request
from pathlib import Path

from common import ROOT

NGINX = "/usr/sbin/nginx"
RENDER = ROOT / "deploy" / "render_nginx.py"
# The bench's limits: one client address and one checkpoint carry the whole load, so the
# per-address and per-checkpoint limits of production are off; max_conns is the bench's choice.
LIMITS_OFF = {"conn_per_address": None, "pages_rate": None, "checkpoint_rate": None}
NGINX_WORKERS = 1  # one nginx worker is far from busy here, and leaves the cores to the app

CONFIG = """\
worker_processes {workers};
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 8192; }}
http {{
  log_format fangkong '$remote_addr [$time_iso8601] "$request" $status $body_bytes_sent '
                      'rt=$request_time urt=$upstream_response_time up=$upstream_addr '
                      'scan=$http_x_scan_id';
  access_log {prefix}/access.log fangkong;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  upstream app {{
    zone app 64k;
{servers}
    keepalive 32;
    keepalive_timeout 4s;
  }}
  server {{
    listen {port} backlog=4096;
    location /static/ {{ alias {static_root}/; }}
    location / {{
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Request-Start "t=$msec";
      # every node at max_conns: "no live upstreams", a 502 — refused: say when to retry
      proxy_next_upstream off;
      error_page 502 504 =503 @busy;
    }}
    location @busy {{
      add_header Retry-After 2 always;
      return 503;
    }}
  }}
}}
"""


def render(upstreams: list[str], listen: str, prefix: Path, static_root: Path, max_conns):
    """The config text and whose it is ("deploy" or "bench")."""
    if RENDER.exists():
        spec = importlib.util.spec_from_file_location("render_nginx", RENDER)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        limits = {**LIMITS_OFF, "max_conns": max_conns}
        known = getattr(module, "LIMITS", limits)
        limits = {k: v for k, v in limits.items() if k in known}
        text = module.render(
            upstreams,
            listen,
            prefix,
            static_root,
            daemon=False,
            worker_processes=NGINX_WORKERS,
            **limits,
        )
        return text, "deploy/render_nginx.py"
    servers = "\n".join(
        f"    server {u}" + (f" max_conns={max_conns};" if max_conns else ";") for u in upstreams
    )
    text = CONFIG.format(
        workers=NGINX_WORKERS, prefix=prefix, servers=servers, port=listen, static_root=static_root
    )
    for folder in ("body", "proxy"):
        (prefix / folder).mkdir(parents=True, exist_ok=True)
    return text, "bench/verify_nginx.py"


class Nginx:
    """nginx in the foreground (its master is our child, the workers its children)."""

    def __init__(self, prefix: Path, upstreams, port, static_root, max_conns=None):
        prefix.mkdir(parents=True, exist_ok=True)
        self.prefix, self.port = prefix, port
        text, self.source = render(upstreams, f"127.0.0.1:{port}", prefix, static_root, max_conns)
        found = re.search(r"^\s*access_log\s+(\S+)", text, re.MULTILINE)
        self.log = Path(found.group(1)) if found else prefix / "logs" / "access.log"
        conf = prefix / "nginx.conf"
        conf.write_text(text)
        self.process = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(conf)])
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/keys", timeout=5)
                break
            except OSError as error:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"nginx did not start: {prefix / 'error.log'}") from error
                time.sleep(0.2)

    def log_offset(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# deploy/nginx.conf's log format (`fangkong`): '… "$request" $status … rt=$request_time …
# scan=$http_x_scan_id'. Only this needs to change if the format does.
_LINE = re.compile(r'"(?:[^"\\]|\\.)*" (\d{3}) .*?\brt=([\d.]+) .*?\bscan=(\S*)')


def access_log(path: Path, offset: int = 0) -> list[tuple[float, int, str | None]]:
    """(request seconds, status, scan id or None) of each line after `offset`."""
    out = []
    with path.open("rb") as f:
        f.seek(offset)
        for raw in f:
            found = _LINE.search(raw.decode("utf-8", "replace"))
            if found:
                status, seconds, scan = found.groups()
                out.append((float(seconds), int(status), None if scan in ("", "-") else scan))
    return out
