"""Command-line commands of this app (wired into `fangkong.cli.build_parser`).

fangkong clock --once [--at T] [--json]   one sweep, here and now (for cron-minded operators)
fangkong worker [--interval S]             the background worker (= fangkong clock --worker)

The worker runs every queued task (django-tasks-db's db_worker) and makes sure the clock's
sweeps are scheduled; see docs/clock.md.
"""

from __future__ import annotations

import json


def cmd_clock(args) -> int:
    if args.worker:
        return cmd_worker(args)
    from django.utils import timezone

    from fangkong.cli import _iso, _transitions, _when
    from fangkong.clock.actions import do_sweep
    from fangkong.clock.hooks import run_after_sweep

    now = args.at or timezone.now()
    sweep = do_sweep(now)
    followed = run_after_sweep(now)
    if args.json:
        print(
            json.dumps(
                {
                    "swept_from": _iso(sweep.swept_from),
                    "swept_to": _iso(sweep.swept_to),
                    "applied": [{**a.as_dict(), "at": _iso(a.at)} for a in sweep.applied],
                    "pending": sweep.pending,
                    "complete": sweep.complete,
                    "followed": followed,
                },
                ensure_ascii=False,
            )
        )
        return 0
    print(f"时钟:已处理 {_when(sweep.swept_from)} 至 {_when(sweep.swept_to)}(北京时间)")
    for applied in sweep.applied:
        moved = _transitions(applied.by_transition) or "颜色无变化"
        print(f"  {_when(applied.at)} {';'.join(applied.what)}:评估{applied.evaluated:,}人,{moved}")
    if not sweep.applied:
        print("  期间没有到期的变化")
    if sweep.pending:
        print(f"  补做待重新判定:{sweep.pending:,}人")
    if not sweep.complete:
        print("  到期的变化过多,未处理完:请再次运行")
    assessed = followed.get("fangkong.zones.eligibility_actions.assess_after_sweep")
    if assessed:
        print(
            f"  风险区划核查:{assessed['assessed']:,}个区域,自动提议{len(assessed['proposed'])}项,"
            f"摘牌{len(assessed['withdrawn'])}个"
        )
    return 0


def cmd_worker(args) -> int:
    from django.core.management import call_command
    from django.utils import timezone

    from fangkong.checkpoints.gatelog import recover
    from fangkong.clearances.sweep import sweep_evidence
    from fangkong.clock.scheduling import schedule

    now = timezone.now()
    # Gate-log spools left by app processes on this node that died (docs/verify-hot-path.md).
    recover()
    # Catch up at once (after a stop of hours, say), then the sweep keeps itself scheduled.
    schedule(now)
    schedule(now, sweep_evidence)
    print(f"后台任务处理进程已启动(每 {args.interval:g} 秒查看一次队列;Ctrl-C 停止)", flush=True)
    call_command(
        "db_worker",
        queue_name="*",
        interval=args.interval,
        reload=False,
        startup_delay=False,
        verbosity=args.verbosity,
    )
    return 0


def _worker_options(parser) -> None:
    parser.add_argument("--interval", type=float, default=1.0, help="队列为空时每隔几秒查看一次")
    parser.add_argument("--verbosity", type=int, default=1, choices=[0, 1, 2])


def add_commands(sub) -> None:
    from fangkong.cli import moment

    clock = sub.add_parser("clock", help="时钟:按时应用到期的变化(政策生效、判定到期、风险区划)")
    mode = clock.add_mutually_exclusive_group(required=True)
    mode.add_argument("--once", action="store_true", help="立即处理一次到期的变化后退出")
    mode.add_argument("--worker", action="store_true", help="作为后台任务处理进程持续运行")
    clock.add_argument(
        "--at", type=moment, help="处理至此时间(ISO 8601;不带UTC偏移时按北京时间;默认现在)"
    )
    clock.add_argument("--json", action="store_true", help="机器可读的输出")
    _worker_options(clock)
    clock.set_defaults(func=cmd_clock)
    worker = sub.add_parser("worker", help="后台任务处理进程:时钟与页面提交的耗时任务")
    _worker_options(worker)
    worker.set_defaults(func=cmd_worker)


def start_worker_process():
    """`fangkong worker` in a process of its own, on this process's settings (`demo --serve`
    runs it beside the web server and stops it with the server)."""
    import os
    import subprocess
    import sys

    return subprocess.Popen(  # noqa: S603 — our own interpreter and module
        [sys.executable, "-m", "fangkong", "worker", "--verbosity", "0"], env=os.environ.copy()
    )
