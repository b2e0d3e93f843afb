"""The current code behind nginx: one node against two on the same machine (the app tier has no
shared bottleneck if the requests a CPU-second stay the same), and verify at three times its
capacity with the admission guard on (served rate, waits, refusals, and no scan lost).
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path

from common import load_average, met
from verify_gatelog import reconcile, rows_of_prefix, settled_rows
from verify_nginx import Nginx, access_log
from verify_server import (
    CpuMeter,
    Server,
    conf_workers,
    config_args,
    cpu_per_request,
    cpu_text,
    free_port,
    wait_idle,
    wrk,
)

# The admission guard believes nginx's request stamp only when told to.
TRUST_ENV = "FANGKONG_TRUST_REQUEST_START"
MAX_QUEUE_ENV = "FANGKONG_ADMISSION_MAX_QUEUE_SECONDS"
MAX_WAIT_S = 2.0
# The connections of the targets, of the node comparison and of the capacity under overload.
CONNECTIONS = 64


def _node_flags(spec: str, workers: int) -> list[str]:
    if spec == "conf":
        return ["--workers", str(workers)]
    kind, _, size = spec.partition(":")
    threads = size.partition("x")[2]
    return config_args(f"{kind}:{workers}" + (f"x{threads}" if threads else ""))


class Cluster:
    """`n` gunicorn nodes of the current code, each with its own port and spool folder, the
    machine's worker processes shared out between them, behind one nginx."""

    def __init__(self, args, name: str, n: int, env: dict, limit_conns: bool = False):
        from verify_server import SPOOL_DIR_ENV

        spec = args.configs[0]
        self.workers = max(1, int(conf_workers(spec) / n + 0.5))
        # As deploy/render_nginx.py's default: 4 × a node's threads, refused beyond that.
        threads = int(spec.partition("x")[2] or os.environ.get("FANGKONG_THREADS", 2))
        self.max_conns = (args.max_conns or 4 * self.workers * threads) if limit_conns else None
        env = {**env, TRUST_ENV: "1"}
        if args.max_queue_seconds:
            env[MAX_QUEUE_ENV] = str(args.max_queue_seconds)
        data = Path(args.data)
        self.servers: list[Server] = []
        self.nginx = None
        try:
            for i in range(n):
                node_env = {**env, SPOOL_DIR_ENV: str(data / f"spool-{name}-node{i + 1}")}
                flags = _node_flags(spec, self.workers)
                self.servers.append(Server(args, f"{name}-node{i + 1}", flags, node_env))
            self.port = free_port()
            self.nginx = Nginx(
                data / f"nginx-{name}",
                [f"127.0.0.1:{s.port}" for s in self.servers],
                self.port,
                data / "static",
                max_conns=self.max_conns,
            )
        except BaseException:
            self.stop()
            raise
        self.tiers = {
            "app": [s.process.pid for s in self.servers],
            "nginx": [self.nginx.process.pid],
        }

    def stop(self) -> None:
        if self.nginx:
            self.nginx.stop()
        for server in self.servers:
            server.stop()


def nodes(args, setup: dict, db_url: str, env: dict) -> list[dict]:
    from verify_http import gate_consistency, measure

    print(
        f"\n  nodes behind nginx, {args.configs[0]}: "
        + ", ".join(
            f"{n} × {int(conf_workers(args.configs[0]) / n + 0.5)} workers" for n in args.nodes
        )
    )
    results = []
    for n in args.nodes:
        cluster = Cluster(args, f"nodes{n}", n, env)
        print(
            f"  [{n} node{'s' if n > 1 else ''}] {n} × gunicorn of {cluster.workers} workers, "
            f"nginx config from {cluster.nginx.source}, no max_conns (load {load_average()})"
        )
        try:
            measured = measure(
                args, cluster.port, cluster.tiers, ["verify", "page"], [CONNECTIONS], setup, db_url
            )
            gate = gate_consistency(db_url, measured)
        finally:
            cluster.stop()
        for run in measured["runs"]:
            run["per_cpu_s"] = 1000 / run["cpu"]["total_ms"] if run["cpu"]["total_ms"] else 0
        results.append(
            {
                "nodes": n,
                "workers_per_node": cluster.workers,
                "runs": measured["runs"],
                "gate_log": gate,
            }
        )
    one = next((r for r in results if r["nodes"] == 1), None)
    for r in results:
        for run in r["runs"]:
            base = one and next(x for x in one["runs"] if x["endpoint"] == run["endpoint"])
            ratio = run["per_cpu_s"] / base["per_cpu_s"] if base and base["per_cpu_s"] else None
            run["per_cpu_vs_one_node"] = ratio
            print(
                f"    {r['nodes']} node(s) {run['endpoint']:<7} {run['rps']:>7,.0f} req/s, "
                f"{run['per_cpu_s']:,.0f} requests a CPU-second (all tiers)"
                + (f", {100 * ratio:.0f}% of one node's" if ratio else "")
            )
    return results


def _pace(args, capacity: float) -> float:
    """Mean wait before each request (ms) so that `--overload-connections` offer the aimed rate;
    served requests also spend their latency in the cycle, hence the margin."""
    aim = args.overload_factor * 1.25 * max(capacity, 1)
    return 1000 * args.overload_connections / aim


def overload(args, setup: dict, db_url: str, env: dict, reference: float | None = None) -> dict:
    """`reference`: verify 2xx a second of the one-node run without max_conns, the capacity
    to hold the served rate to (64 connections against max_conns here refuse some, and the
    refusals' CPU would lower the capacity measured on this cluster)."""
    from verify_http import endpoints, measure

    cluster = Cluster(args, "overload", 1, env, limit_conns=True)
    print(
        f"\n  overload: 1 × gunicorn of {cluster.workers} workers behind nginx "
        f"(config from {cluster.nginx.source}, max_conns {cluster.max_conns}), "
        f"{TRUST_ENV}=1 (load {load_average()})"
    )
    try:
        measured = measure(
            args, cluster.port, cluster.tiers, ["verify"], [CONNECTIONS], setup, db_url
        )
        capacity = reference or measured["runs"][0]["rps"]
        delay = _pace(args, capacity)
        mode, path, file = endpoints(setup, Path(args.data))["verify"]
        offset = cluster.nginx.log_offset()
        meter = CpuMeter(cluster.tiers, db_url)
        meter.start()
        run = wrk(
            args,
            path,
            mode,
            file,
            setup["device_key"],
            cluster.port,
            args.duration,
            args.overload_connections,
            delay_ms=delay,
        )
        run["cpu"] = cpu_per_request(meter.stop(), run["ok"], run["seconds"])
        run.pop("text")
        wait_idle([p for roots in cluster.tiers.values() for p in roots])
        _, settle_s = settled_rows(db_url)
        prefix = run["scan_prefix"]
        access = [
            a for a in access_log(cluster.nginx.log, offset) if a[2] and a[2].startswith(prefix)
        ]
        gate = reconcile(access, rows_of_prefix(db_url, prefix))
    finally:
        cluster.stop()
    return _overload_figures(
        args, capacity, delay, run, access, gate, settle_s, measured["runs"][0]
    )


def _overload_figures(args, capacity, delay, run, access, gate, settle_s, capacity_run) -> dict:
    served_times = sorted(t for t, status, _ in access if 200 <= status < 300)
    statuses: dict[int, int] = {}
    for _, status, _ in access:
        statuses[status] = statuses.get(status, 0) + 1
    p99 = statistics.quantiles(served_times, n=100)[98] if len(served_times) > 1 else float("nan")
    longest = max((t for t, _, _ in access), default=0.0)
    served_rps = run["ok"] / run["seconds"]
    out = {
        "capacity_rps": capacity,
        "capacity_source": "one node, no max_conns" if capacity != capacity_run["rps"] else "here",
        "capacity_here_rps": capacity_run["rps"],
        "capacity_run": capacity_run,
        "connections": args.overload_connections,
        "delay_mean_ms": delay,
        "offered_rps": run["attempted_rps"],
        "offered_factor": run["attempted_rps"] / capacity if capacity else None,
        "served_rps": served_rps,
        "served_vs_capacity": served_rps / capacity if capacity else None,
        "served_p99_ms": 1000 * p99,
        "served_max_ms": 1000 * served_times[-1] if served_times else None,
        "longest_any_ms": 1000 * longest,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "refused_503": run["s503"],
        "refused_503_with_retry_after": run["s503_retry_after"],
        "socket_errors": run["errors"] - run["bad_status"],
        "gate_log": {**gate, "settle_s": settle_s},
        "wrk": run,
    }
    out["within_10pct"] = out["served_vs_capacity"] is not None and out["served_vs_capacity"] >= 0.9
    out["no_wait_over_2s"] = longest <= MAX_WAIT_S
    print(
        f"    capacity (verify, {CONNECTIONS} connections, through nginx): {capacity:,.0f} /s "
        f"({out['capacity_source']}; here, with max_conns: {capacity_run['rps']:,.0f} /s); "
        f"offered "
        f"{out['offered_rps']:,.0f} /s = {out['offered_factor']:.1f}× (wrk requests a second, "
        f"refused included: {args.overload_connections} connections, each waiting "
        f"{delay:.0f} ms on average before a request)\n"
        f"    served {served_rps:,.0f} /s = {100 * out['served_vs_capacity']:.0f}% of capacity "
        f"(≥ 90 %: {met(out['within_10pct'])}); served p99 {out['served_p99_ms']:.0f} ms, max "
        f"{out['served_max_ms'] or 0:.0f} ms; longest request of any status "
        f"{out['longest_any_ms']:.0f} ms (≤ {MAX_WAIT_S:.0f} s: {met(out['no_wait_over_2s'])})\n"
        f"    statuses (nginx): {out['statuses']}; 503 seen by wrk {run['s503']:,}, "
        f"{run['s503_retry_after']:,} with Retry-After; socket errors {out['socket_errors']}\n"
        f"    gate log (settled in {settle_s:.1f} s): {gate['served_2xx']:,} 2xx, "
        f"{gate['rows']:,} rows, lost {gate['lost']}, doubled {gate['doubled']}, rows without a "
        f"2xx {gate['rows_without_2xx']} (unexplained by a 499: "
        f"{gate['rows_without_2xx_unexplained']}) — {'exact' if gate['exact'] else 'NOT exact'}"
        f"\n    {cpu_text(run['cpu'])}"
    )
    return out
