"""Render deploy/nginx.conf for production, a test or a benchmark (docs/scaling.md).

Production (Debian's nginx, its paths; the nodes' addresses; TLS optional):

    python deploy/render_nginx.py --upstream 10.0.0.11:8000 --upstream 10.0.0.12:8000 \\
        --static-root /var/lib/fangkong/static > /etc/nginx/nginx.conf
    nginx -t && systemctl reload nginx

A test or benchmark imports this file by path and runs nginx as itself from a temporary prefix:

    conf = render(["127.0.0.1:8001", "127.0.0.1:8002"], "127.0.0.1:8080", tmp, static_root,
                  daemon=False, pages_rate=None)   # None: that limit off
    Path(tmp, "nginx.conf").write_text(conf)
    subprocess.Popen(["nginx", "-c", f"{tmp}/nginx.conf", "-p", tmp, "-e", f"{tmp}/error.log"])

Logs: tmp/access.log (one line a request: status, rt= request time, up= the node, scan= the
X-Scan-Id header) and tmp/error.log; `render` creates tmp/temp/ for request bodies.

Standard library only: the benchmark loads it without Django.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf"

# The same words as fangkong.base.admission (a test holds them equal).
BUSY_JSON = '{"detail": "系统繁忙,请稍后重试"}'
BUSY_HTML = (
    '<!doctype html><html lang="zh-Hans"><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width,initial-scale=1">'
    "<title>系统繁忙,请稍后重试</title><p>系统繁忙,请稍后重试</p></html>"
)

# Production defaults. A rate or count of None turns that limit off (capacity runs).
LIMITS = {
    # Connections one node is given at once; more is refused (busy) rather than queued. About
    # 4 × a node's request threads (granian 3 × 2 on 2 cores: deploy/granian.env) keeps it busy
    # while requests are in flight; measured at 3.5 × capacity, 2 × (12) left it a third idle
    # and 4 × (24) served 93 % of its capacity (bench/RESULTS.md).
    "max_conns": 24,
    # Idle connections kept open to the nodes, per nginx worker.
    "keepalive": 32,
    # Per client address (carrier NAT: many phones share one).
    "conn_per_address": 200,
    "pages_rate": "50r/s",
    "pages_burst": 200,
    "signin_rate": "30r/m",
    "signin_burst": 20,
    # Per checkpoint: a lane scans about one person a second; a large gate has a few lanes.
    "checkpoint_rate": "20r/s",
    "checkpoint_burst": 40,
}


def paths(prefix: str | os.PathLike | None) -> dict[str, str]:
    """Where nginx keeps its pid, logs and buffers: Debian's places, or all under `prefix`."""
    if prefix is None:
        return {
            "pid": "/run/nginx.pid",
            "error_log": "/var/log/nginx/error.log",
            "access_log": "/var/log/nginx/access.log",
            "temp": "/var/lib/nginx",
        }
    root = Path(prefix).resolve()
    return {
        "pid": str(root / "nginx.pid"),
        "error_log": str(root / "error.log"),
        "access_log": str(root / "access.log"),
        "temp": str(root / "temp"),
    }


def render(
    upstreams: list[str],
    port: int | str,
    prefix: str | os.PathLike | None,
    static_root: str | os.PathLike,
    *,
    user: str | None = None,
    daemon: bool = True,
    worker_processes: str | int = "auto",
    worker_connections: int = 4096,
    server_name: str = "_",
    tls: tuple[str, str] | None = None,
    mime_types: str = "/etc/nginx/mime.types",
    **limits,
) -> str:
    unknown = set(limits) - set(LIMITS)
    if unknown:
        raise TypeError(f"unknown limits: {', '.join(sorted(unknown))}")
    if not upstreams:
        raise ValueError("at least one app node")
    limit = {**LIMITS, **limits}
    if user is None and prefix is not None and os.geteuid() == 0:
        # Run from a private prefix by root (CI): workers as `nobody` could not use it.
        user = "root"
    max_conns = f" max_conns={limit['max_conns']}" if limit["max_conns"] else ""
    listen = f"{port} ssl http2" if tls else str(port)
    values = {
        **paths(prefix),
        "user": f"user {user};" if user else "",
        "daemon": "on" if daemon else "off",
        "worker_processes": str(worker_processes),
        "worker_connections": str(worker_connections),
        "mime_types": mime_types,
        "servers": "\n".join(f"        server {u}{max_conns};" for u in upstreams),
        "keepalive": str(limit["keepalive"]),
        "listen": listen,
        "server_name": server_name,
        "tls": _tls(tls),
        "redirect_server": _redirect(server_name) if tls else "",
        "static_root": str(Path(static_root)).rstrip("/"),
        "busy_json": BUSY_JSON,
        "busy_html": BUSY_HTML,
        "conn_limit": _directive("limit_conn per_address", limit["conn_per_address"]),
        **_rate("pages", limit),
        **_rate("signin", limit),
        **_rate("checkpoint", limit),
    }
    text = re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], TEMPLATE.read_text())
    if prefix is not None:
        for folder in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            Path(values["temp"], folder).mkdir(parents=True, exist_ok=True)
    return text


def _directive(text: str, value) -> str:
    return f"{text} {value};" if value else ""


def _rate(name: str, limit: dict) -> dict[str, str]:
    rate, burst = limit[f"{name}_rate"], limit[f"{name}_burst"]
    burst = f" burst={burst}" if burst else ""  # nginx takes no `burst=0`: it is the default
    return {
        # The zone is declared either way (nginx wants a rate); only `limit_req` enforces it.
        f"{name}_rate": rate or "1r/s",
        f"{name}_limit": f"limit_req zone={name}{burst} nodelay;" if rate else "",
    }


def _tls(tls: tuple[str, str] | None) -> str:
    if not tls:
        return ""
    cert, key = tls
    return (
        f"        ssl_certificate {cert};\n"
        f"        ssl_certificate_key {key};\n"
        "        ssl_protocols TLSv1.2 TLSv1.3;\n"
        "        ssl_session_cache shared:tls:20m;\n"
        "        ssl_session_timeout 1h;"
    )


def _redirect(server_name: str) -> str:
    return (
        "    server {\n"
        "        listen 80;\n"
        f"        server_name {server_name};\n"
        "        return 301 https://$host$request_uri;\n"
        "    }"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Print nginx.conf for fangkong's app nodes.")
    parser.add_argument("--upstream", action="append", required=True, help="HOST:PORT of a node")
    parser.add_argument("--listen", default="80", help="port (or address:port) to listen on")
    parser.add_argument("--static-root", default="/var/lib/fangkong/static")
    parser.add_argument("--server-name", default="_")
    parser.add_argument("--user", default="www-data")
    parser.add_argument("--tls-cert", help="with --tls-key: serve HTTPS here (listen 443)")
    parser.add_argument("--tls-key")
    parser.add_argument("--prefix", help="keep pid, logs and buffers here (default: Debian's)")
    for name, default in LIMITS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", default=default, help="0: off")
    args = parser.parse_args()
    tls = (args.tls_cert, args.tls_key) if args.tls_cert else None
    limits = {
        name: (None if str(getattr(args, name)) == "0" else getattr(args, name)) for name in LIMITS
    }
    print(
        render(
            args.upstream,
            "443" if tls and args.listen == "80" else args.listen,
            args.prefix,
            args.static_root,
            user=args.user,
            server_name=args.server_name,
            tls=tls,
            **limits,
        ),
        end="",
    )


if __name__ == "__main__":
    main()
