"""`fangkong` command line: ingest files, build the demo city, serve it.

fangkong ingest residents|presence|designations|samplings|results FILE [--json]
fangkong demo [--residents N] [--serve]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    os.makedirs(settings.STATIC_ROOT, exist_ok=True)
    call_command("migrate", verbosity=0, interactive=False)
    # Places are reference data shipped with the code: every database has them.
    from fangkong.places.loading import load_divisions

    load_divisions()


class Progress:
    """Progress on stderr for long jobs; silent when stderr is not a terminal."""

    def __init__(self, label: str, enabled: bool):
        self.label, self.enabled, self.started = label, enabled, time.monotonic()

    def __call__(self, done: int) -> None:
        if self.enabled:
            rate = done / max(time.monotonic() - self.started, 1e-9)
            print(f"\r{self.label}: {done:,} 行 ({rate:,.0f} 行/秒)", end="", file=sys.stderr)

    def close(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


def cmd_ingest(args) -> int:
    from fangkong.ingest.actions import do_ingest

    if not os.path.isfile(args.file):
        print(f"错误:找不到文件 {args.file}", file=sys.stderr)
        return 2
    progress = Progress(f"导入{args.kind}", sys.stderr.isatty() and not args.json)
    started = time.monotonic()
    report = do_ingest(
        args.kind,
        path=args.file,
        source="cli",
        encoding=args.encoding,
        assume_offset=args.assume_offset,
        progress=progress,
    )
    progress.close()
    seconds = time.monotonic() - started
    if args.json:
        print(json.dumps({**report.to_dict(), "seconds": round(seconds, 3)}, ensure_ascii=False))
    else:
        print(
            f"批次 #{report.batch_id} {args.kind}: 共{report.rows}行,新增{report.inserted},"
            f"重复{report.duplicates},待核{report.flagged},拒绝{report.rejected}"
            f"({seconds:.2f}秒)"
        )
        if report.ignored_columns:
            print("已忽略的列:" + "、".join(report.ignored_columns))
    for error in report.errors[: args.show_errors]:
        print(
            f"第{error['row']}行 {error['field']}: {error['reason']}(值:{error['value']})",
            file=sys.stderr,
        )
    if report.failure:
        print(f"错误:{report.failure}", file=sys.stderr)
        return 1
    return 1 if report.rejected and args.strict else 0


def cmd_demo(args) -> int:
    from fangkong.demo.build import build_demo, print_logins

    progress = Progress("生成演示城市", sys.stderr.isatty())
    summary = build_demo(residents=args.residents, seed=args.seed, progress=progress)
    progress.close()
    print(json.dumps(summary, ensure_ascii=False, indent=2) if args.json else summary["text"])
    print_logins(sys.stdout, host=args.host, port=args.port)
    if args.serve:
        from django.core.management import call_command

        print(f"\n打开 http://{args.host}:{args.port}/ (Ctrl-C 停止)", flush=True)
        call_command("runserver", f"{args.host}:{args.port}", use_reloader=False)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fangkong", description="防控 — 疫情防控指挥系统")
    sub = parser.add_subparsers(dest="command", required=True)
    ingest = sub.add_parser("ingest", help="导入CSV/Excel文件")
    ingest.add_argument(
        "kind", choices=["residents", "presence", "designations", "samplings", "results"]
    )
    ingest.add_argument("file")
    ingest.add_argument("--json", action="store_true", help="机器可读的汇总")
    ingest.add_argument(
        "--encoding", choices=["utf-8", "utf-8-sig", "gb18030"], help="默认自动识别"
    )
    ingest.add_argument(
        "--assume-offset",
        choices=["+08:00", "+00:00"],
        help="无时区的时间(如Excel日期)按此UTC偏移解释;默认拒绝",
    )
    ingest.add_argument("--strict", action="store_true", help="有被拒绝的行时以非零退出")
    ingest.add_argument("--show-errors", type=int, default=50, help="在stderr列出前N条错误")
    ingest.set_defaults(func=cmd_ingest)
    demo = sub.add_parser("demo", help="生成合成的长春市演示数据")
    demo.add_argument("--residents", type=int, default=20_000)
    demo.add_argument("--seed", type=int, default=20220421)
    demo.add_argument("--json", action="store_true")
    demo.add_argument("--serve", action="store_true", help="生成后启动网页服务")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _setup()
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the CLI's contract: errors on stderr, non-zero exit
        if os.environ.get("FANGKONG_DEBUG"):
            raise
        print(f"错误:{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
