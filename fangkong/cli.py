"""`fangkong` command line: ingest files, build the demo city, serve it; preview and publish
policies; recompute, explain and count health codes.

fangkong ingest KIND FILE [--json] [--show-pii]   (KIND: a kind of fangkong.ingest.schemas)
fangkong demo [--residents N] [--serve]
fangkong policy preview|publish FILE [--at T] [--json]
fangkong policy withdraw ID --reason R [--at T] [--json]
fangkong codes recompute [--as-of T] [--json]
fangkong codes show ID_NUMBER [--as-of T] [--json]
fangkong codes stats [--by district] [--as-of T] [--json]
fangkong keys list|rotate|revoke KID --reason R
fangkong audit verify [--expect-head ID:HASH] [--json]
fangkong checkpoint create --name N --type T --county C [--community C] [--site S] | list
fangkong bulletin DATE [--as-of T] [--json]

Times (T) are ISO 8601; one without a UTC offset is Beijing time (Asia/Shanghai). The JSON
printed by `--json` is a documented contract (README.md, "JSON contract").
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time

from fangkong.audit import cli as audit_cli
from fangkong.checkpoints import cli as checkpoints_cli
from fangkong.ingest.schemas import SCHEMAS
from fangkong.signing import cli as signing_cli


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


def _shown_error(error: dict, show_pii: bool) -> dict:
    """A rejected row as printed: its ID number or phone number masked unless asked for, since
    terminals, logs and CI output keep what they are shown."""
    from fangkong.engine.id_numbers import mask, mask_phone

    masks = {"id_number": mask, "phone": mask_phone}
    if show_pii or error["field"] not in masks or not error["value"]:
        return error
    return {**error, "value": masks[error["field"]](error["value"])}


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
    errors = [_shown_error(e, args.show_pii) for e in report.errors]
    if args.json:
        summary = {**report.to_dict(), "errors": errors, "seconds": round(seconds, 3)}
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(
            f"批次 #{report.batch_id} {args.kind}: 共{report.rows}行,新增{report.inserted},"
            f"重复{report.duplicates},待核{report.flagged},拒绝{report.rejected}"
            f"({seconds:.2f}秒)"
        )
        if report.ignored_columns:
            print("已忽略的列:" + "、".join(report.ignored_columns))
    for error in errors[: args.show_errors]:
        print(
            f"第{error['row']}行 {error['field']}: {error['reason']}(值:{error['value']})",
            file=sys.stderr,
        )
    if report.failure:
        print(f"错误:{report.failure}", file=sys.stderr)
        return 1
    return 1 if report.rejected and args.strict else 0


def cmd_demo(args) -> int:
    from django.utils import timezone

    from fangkong.demo.build import print_logins
    from fangkong.demo.clearances import seed_clearances
    from fangkong.demo.gates import print_gates, seed_gates
    from fangkong.demo.story import run_story

    progress = Progress("生成演示城市", sys.stderr.isatty())
    summary = run_story(
        residents=args.residents, seed=args.seed, progress=progress, passes=args.passes
    )
    progress.close()
    unscanned = summary.pop("unscanned_ids")
    # Clearances first: their decisions are dated over the last two days, the gates' round is
    # "yesterday" and re-evaluates its people as of now.
    cleared = seed_clearances(unscanned, timezone.now())
    gates = seed_gates(timezone.now())
    summary["text"] += (
        f"\n未扫码采样的{cleared['rows']:,}人由{cleared['batches']:,}家单位集中申请解码:"
        f"{cleared['approved']:,}人已审核通过转绿,{cleared['pending']:,}人(演示企业的名单)待审核。"
    )
    print(json.dumps(summary, ensure_ascii=False, indent=2) if args.json else summary["text"])
    print_logins(sys.stdout, host=args.host, port=args.port)
    print_gates(sys.stdout, gates, host=args.host, port=args.port)
    base = f"http://{args.host}:{args.port}"
    if "demo_batch" in cleared:
        print(
            "解码:演示企业(账号 employer)的员工名单待审核(账号 command 或员工所在区县的审核员):"
            f"{base}/clearances/batches/{cleared['demo_batch']}/"
        )
    print(
        f"  线上申诉:用黄码示例登录居民端后点“申请解码”;12345专席(账号 hotline):"
        f"{base}/clearances/hotline/ ;解码统计:{base}/clearances/figures/"
    )
    if args.serve:
        from django.conf import settings
        from django.core.management import call_command

        # The demo sends no real text messages: its sign-in codes are on the outbox page.
        settings.DEV_OUTBOX = True

        from fangkong.clock.cli import start_worker_process

        # Beside the web server, the worker: the clock (a rule starting at midnight applies
        # then) and the slow work pages hand over (employer lists, the audit log's check).
        worker = start_worker_process()
        print(f"\n打开 http://{args.host}:{args.port}/ (Ctrl-C 停止)", flush=True)
        try:
            call_command("runserver", f"{args.host}:{args.port}", use_reloader=False)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    return 0


# -- policies and codes ----------------------------------------------------------------------

FULL_SPACE = "\u3000"  # pads Chinese names in aligned columns
TRANSITION_WORDS = {"green": "绿码", "yellow": "黄码", "red": "红码"}
TRANSITION_ORDER = (
    "green->yellow",
    "green->red",
    "yellow->red",
    "red->yellow",
    "yellow->green",
    "red->green",
)


def county_code(value: str) -> str:
    """argparse type of `--county`: a 6-digit county-level division code."""
    if not re.fullmatch(r"[0-9]{6}", value):
        raise argparse.ArgumentTypeError(f"不是有效的区县代码 {value!r}(应为6位数字,如 220173)")
    return value


def known_counties(county: str | None) -> dict[str, str] | None:
    """The county-level divisions' names by code; None, with the reason on stderr, when
    `county` (a `--county` given) is not one of them."""
    from fangkong.places.queries import counties

    names = dict(counties().values_list("code", "name"))
    if county and county not in names:
        print(f"错误:--county:未知的区县代码 {county}", file=sys.stderr)
        return None
    return names


def moment(value: str):
    """argparse type of --at/--as-of: ISO 8601, Beijing time when it has no offset."""
    from fangkong.policies.forms import parse_local_time

    try:
        return parse_local_time(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"不是有效的时间 {value!r}(应为ISO 8601,如 2022-04-23T08:00 或 "
            "2022-04-23T08:00:00+08:00)"
        ) from exc


def _beijing(value):
    from fangkong.policies.forms import BEIJING

    return value.astimezone(BEIJING) if value is not None else None


def _iso(value) -> str | None:
    return _beijing(value).isoformat() if value is not None else None


def _when(value) -> str:
    return _beijing(value).strftime("%Y-%m-%d %H:%M")


def _now(value):
    from django.utils import timezone

    return value if value is not None else timezone.now()


def _transitions(changes: dict[str, int]) -> str:
    keys = [k for k in TRANSITION_ORDER if changes.get(k)] + sorted(
        k for k in changes if k not in TRANSITION_ORDER and changes[k]
    )
    return "、".join(
        "→".join(TRANSITION_WORDS.get(c, c) for c in key.split("->")) + f" {changes[key]:,}"
        for key in keys
    )


def _change_summary(outcome) -> str:
    """How many codes changed colour, and how many kept it but now rest on other policy
    versions (`Outcome.changed` counts both)."""
    moved = sum(outcome.by_transition.values())
    text = f"{moved:,}人的健康码颜色变化" + (
        f":{_transitions(outcome.by_transition)}" if moved else ""
    )
    if outcome.changed > moved:
        text += f";另有{outcome.changed - moved:,}人颜色不变、所依据的政策或版本更新"
    return text


def _read_policy(path: str) -> str | None:
    """The file's text under the page's limits (size, UTF-8); problems on stderr, else None."""
    from fangkong.engine.policies import PolicyError
    from fangkong.policies.source import MAX_POLICY_BYTES, decode

    if not os.path.isfile(path):
        print(f"错误:找不到文件 {path}", file=sys.stderr)
        return None
    with open(path, "rb") as f:
        raw = f.read(MAX_POLICY_BYTES + 1)
    try:
        return decode(raw)
    except PolicyError as exc:
        _policy_problems(exc)
        return None


def _policy_problems(exc) -> int:
    print("错误:政策文件有问题:", file=sys.stderr)
    for problem in exc.problems:
        print(f"  - {problem}", file=sys.stderr)
    return 1


def cmd_policy_preview(args) -> int:
    from fangkong.accounts.views import county_names
    from fangkong.engine.policies import PolicyError
    from fangkong.policies.actions import preview

    text = _read_policy(args.file)
    if text is None:
        return 2
    now = _now(args.at)
    try:
        impact = preview(text, now)
    except PolicyError as exc:
        return _policy_problems(exc)
    names = county_names(impact.by_county)
    by_county = [
        {"code": code, "name": names.get(code, code), "changes": impact.by_county[code]}
        for code in sorted(impact.by_county)
    ]
    if args.json:
        print(
            json.dumps(
                {
                    "policy": impact.policy.id,
                    "version": impact.policy.version,
                    "at": _iso(now),
                    "people": impact.people,
                    "by_county": by_county,
                    "totals": impact.totals,
                    "continues_from": impact.policy.continues_from,
                    "retriggered": impact.retriggered,
                },
                ensure_ascii=False,
            )
        )
        return 0
    policy = impact.policy
    print(
        f"政策 {policy.id} 第{policy.version}版({TRANSITION_WORDS[policy.colour]}):{policy.title}"
    )
    until = f"至 {_when(policy.effective_until)} 止" if policy.effective_until else "无截止"
    print(f"生效期间:{_when(policy.effective_from)} 起,{until}")
    print(f"适用范围:{_scope_words(policy.scope)}")
    if policy.continues_from:
        print(f"延续第{policy.continues_from}版的决定:已满足的解除条件和已批准的解码申请继续有效。")
    elif policy.version > 1:
        print(f"新的决定:将使{impact.retriggered:,}名已解除的居民重新被赋码。")
    print(f"若于 {_when(now)}(北京时间)发布:评估{impact.people:,}人")
    if not impact.totals:
        print("不会改变任何人的健康码颜色。")
        return 0
    for row in by_county:
        print(f"  {row['name']}({row['code']}):{_transitions(row['changes'])}")
    print(f"合计:{_transitions(impact.totals)}(共{sum(impact.totals.values()):,}人)")
    return 0


def _scope_words(scope) -> str:
    from fangkong.places.models import Division

    names = dict(
        Division.objects.filter(code__in=scope.include + scope.exclude).values_list("code", "name")
    )
    words = "、".join(f"{names.get(c, c)}({c})" for c in scope.include)
    if scope.exclude:
        words += ",不含" + "、".join(f"{names.get(c, c)}({c})" for c in scope.exclude)
    return words


def cmd_policy_publish(args) -> int:
    from fangkong.engine.policies import PolicyError
    from fangkong.policies.actions import do_publish

    text = _read_policy(args.file)
    if text is None:
        return 2
    now = _now(args.at)
    try:
        # No user: the trusted local operator (audited as "system").
        version, outcome = do_publish(text, user=None, now=now)
    except PolicyError as exc:
        return _policy_problems(exc)
    if args.json:
        print(
            json.dumps(
                {
                    "policy": version.policy_id,
                    "version": version.version,
                    "published_at": _iso(version.published_at),
                    "evaluated": outcome.evaluated,
                    "changed": outcome.changed,
                    "by_transition": outcome.by_transition,
                    "seconds": {k: round(v, 3) for k, v in outcome.seconds.items()},
                },
                ensure_ascii=False,
            )
        )
        return 0
    print(
        f"已发布 {version.policy_id} 第{version.version}版(发布时间 {_when(version.published_at)})"
    )
    print(f"重新计算{outcome.evaluated:,}人,{_change_summary(outcome)}")
    return 0


def cmd_policy_withdraw(args) -> int:
    from fangkong.engine.policies import PolicyError
    from fangkong.policies.actions import do_withdraw

    now = _now(args.at)
    try:
        version, outcome = do_withdraw(args.policy_id, user=None, now=now, reason=args.reason)
    except PolicyError as exc:
        return _policy_problems(exc)
    if args.json:
        print(
            json.dumps(
                {
                    "policy": version.policy_id,
                    "version": version.version,
                    "withdrawn_at": _iso(version.published_at),
                    "reason": version.reason,
                    "evaluated": outcome.evaluated,
                    "changed": outcome.changed,
                    "by_transition": outcome.by_transition,
                    "seconds": {k: round(v, 3) for k, v in outcome.seconds.items()},
                },
                ensure_ascii=False,
            )
        )
        return 0
    print(
        f"已撤回 {version.policy_id}(记为第{version.version}版,撤回时间 "
        f"{_when(version.published_at)}):{version.reason}"
    )
    print(f"重新计算{outcome.evaluated:,}人,{_change_summary(outcome)}")
    return 0


def cmd_codes_recompute(args) -> int:
    from fangkong.codes.actions import do_recompute

    now = _now(args.as_of)
    outcome = do_recompute(now)
    seconds = {k: round(v, 3) for k, v in outcome.seconds.items()}
    if args.json:
        print(
            json.dumps(
                {
                    "as_of": _iso(now),
                    "evaluated": outcome.evaluated,
                    "changed": outcome.changed,
                    "by_transition": outcome.by_transition,
                    "seconds": seconds,
                },
                ensure_ascii=False,
            )
        )
        return 0
    print(f"截至 {_when(now)}:评估{outcome.evaluated:,}人,{_change_summary(outcome)}")
    print("用时:" + ",".join(f"{k} {v:.2f}秒" for k, v in seconds.items()))
    return 0


def cmd_codes_show(args) -> int:
    from fangkong.audit.actions import record
    from fangkong.codes.queries import explain
    from fangkong.engine.id_numbers import mask, normalise_id_number
    from fangkong.engine.policies import APPLICATION_CLEAR, COLOUR_LABELS
    from fangkong.people.models import Person

    number = normalise_id_number(args.id_number.strip())
    person = Person.objects.filter(id_number=number).first()
    if person is None:
        print(f"错误:没有身份证号为 {mask(number)} 的居民", file=sys.stderr)
        return 1
    now = _now(args.as_of)
    code = explain(person, now)
    # Reading a person's record is audited, from the command line too (actor: system).
    record(None, "person.view", "person", person.pk, {"via": "cli", "as_of": _iso(now)})
    reasons = [{**r.as_dict(), "since": _iso(r.since)} for r in code.reasons]
    if args.json:
        print(
            json.dumps(
                {
                    "id_number": mask(person.id_number),
                    "as_of": _iso(now),
                    "colour": code.colour,
                    "reasons": reasons,
                    "next_change_at": _iso(code.next_change_at),
                },
                ensure_ascii=False,
            )
        )
        return 0
    print(f"{person.name} {mask(person.id_number)} 截至 {_when(now)}:{COLOUR_LABELS[code.colour]}")
    for reason in code.reasons:
        print(
            f"- {COLOUR_LABELS[reason.colour]} {reason.title}({reason.policy} 第{reason.version}版)"
        )
        print(f"  自 {_when(reason.since)}")
        print(f"  {reason.message}")
        for fact in reason.facts:
            print(f"  依据:{fact}")
        if reason.clears:
            print("  解除方式(满足任一即自动解除,无需申请):" + ";".join(reason.clears))
        print(f"  申请解码:{APPLICATION_CLEAR}(单位集中申请、线上申诉或12345专席)")
    if code.next_change_at is not None:
        print(f"无新数据时将于 {_when(code.next_change_at)} 重新判定")
    return 0


def cmd_codes_stats(args) -> int:
    from fangkong.codes.queries import stats_by_county

    now = _now(args.as_of)
    rows = stats_by_county(now)
    colours = ("green", "yellow", "red")
    totals = {c: sum(r[c] for r in rows) for c in colours}
    if args.json:
        out = [{k: r[k] for k in ("code", "name", *colours)} for r in rows]
        print(json.dumps(out if args.by == "district" else totals, ensure_ascii=False))
        return 0
    print(f"截至 {_when(now)}(北京时间)的健康码")
    if args.by == "district":
        width = max((len(r["name"]) for r in rows), default=2)
        print(f"{'区县'.ljust(width, FULL_SPACE)}  代码{' ' * 9}绿码{' ' * 7}黄码{' ' * 7}红码")
        for r in rows:
            print(
                f"{r['name'].ljust(width, FULL_SPACE)}  {r['code']}  "
                f"{r['green']:>9,}  {r['yellow']:>9,}  {r['red']:>9,}"
            )
    print(f"合计:绿码 {totals['green']:,},黄码 {totals['yellow']:,},红码 {totals['red']:,}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fangkong", description="防控 — 疫情防控指挥系统")
    sub = parser.add_subparsers(dest="command", required=True)
    ingest = sub.add_parser("ingest", help="导入CSV/Excel文件")
    # The kinds are the ingestion schemas' (plain dataclasses: no Django needed to list them).
    ingest.add_argument("kind", choices=list(SCHEMAS))
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
    ingest.add_argument(
        "--show-pii", action="store_true", help="错误中显示完整的身份证号和手机号(默认打码)"
    )
    ingest.set_defaults(func=cmd_ingest)
    demo = sub.add_parser("demo", help="生成合成的长春市演示数据")
    demo.add_argument("--residents", type=int, default=20_000)
    demo.add_argument("--seed", type=int, default=20220421)
    demo.add_argument(
        "--passes",
        type=int,
        help="第一批车辆通行证数量(默认按居民数比例:2 872 × 居民数 ÷ 20 000;2872 即发布会数字)",
    )
    demo.add_argument("--json", action="store_true")
    demo.add_argument("--serve", action="store_true", help="生成后启动网页服务")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.set_defaults(func=cmd_demo)

    policy = sub.add_parser("policy", help="预览、发布赋码政策")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True)
    when_help = "时间,ISO 8601;不带UTC偏移时按北京时间;默认现在"
    for name, func, text in (
        ("preview", cmd_policy_preview, "若现在发布,各区县有多少人的健康码改变颜色(不写入)"),
        ("publish", cmd_policy_publish, "发布为新版本并重新计算全部健康码"),
    ):
        command = policy_sub.add_parser(name, help=text)
        command.add_argument("file", help="政策文件(TOML或JSON)")
        command.add_argument("--at", type=moment, help=when_help)
        command.add_argument("--json", action="store_true", help="机器可读的输出")
        command.set_defaults(func=func)
    withdraw = policy_sub.add_parser("withdraw", help="撤回政策:自撤回时起不再赋码,重算全部健康码")
    withdraw.add_argument("policy_id", help="政策编号")
    withdraw.add_argument("--reason", required=True, help="撤回理由(记入审计日志)")
    withdraw.add_argument("--at", type=moment, help=when_help)
    withdraw.add_argument("--json", action="store_true", help="机器可读的输出")
    withdraw.set_defaults(func=cmd_policy_withdraw)

    codes = sub.add_parser("codes", help="重算、查看、统计健康码")
    codes_sub = codes.add_subparsers(dest="codes_command", required=True)
    recompute = codes_sub.add_parser("recompute", help="按已发布的政策重算全部健康码")
    show = codes_sub.add_parser("show", help="一个居民的健康码及原因")
    show.add_argument("id_number", help="18位身份证号")
    stats = codes_sub.add_parser("stats", help="绿码、黄码、红码人数")
    stats.add_argument("--by", choices=["district"], help="按区县分列")
    for command, func in (
        (recompute, cmd_codes_recompute),
        (show, cmd_codes_show),
        (stats, cmd_codes_stats),
    ):
        command.add_argument("--as-of", type=moment, help=when_help)
        command.add_argument("--json", action="store_true", help="机器可读的输出")
        command.set_defaults(func=func)
    signing_cli.add_commands(sub)
    audit_cli.add_commands(sub)
    checkpoints_cli.add_commands(sub)
    __import__("fangkong.clearances.cli", fromlist=["add_commands"]).add_commands(sub)
    __import__("fangkong.zones.cli", fromlist=["add_commands"]).add_commands(sub)
    __import__("fangkong.clock.cli", fromlist=["add_commands"]).add_commands(sub)
    __import__("fangkong.cases.cli", fromlist=["add_commands"]).add_commands(sub)
    __import__("fangkong.enterprises.cli", fromlist=["add_commands"]).add_commands(sub)
    for app in ("passes", "tickets", "supplies"):
        __import__(f"fangkong.{app}.cli", fromlist=["add_commands"]).add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        _setup()
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (`| head`) went away: stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # the CLI's contract: errors on stderr, non-zero exit
        if os.environ.get("FANGKONG_DEBUG"):
            raise
        print(f"错误:{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
