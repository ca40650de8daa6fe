"""`python -m bot …`: simulate, console, demo, export, import, run, migrate and backup."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from bot import texts
from bot.app import open_app
from bot.config_file import StartupError
from bot.logs import configure_logging
from bot.settings import Settings, check_env_file
from bot.simulator import Post, ScenarioError, Simulator, Step, read_scenario, read_until

if TYPE_CHECKING:
    from core.periods import ReportPeriod

DEMO_SCENARIO = Path(__file__).parent / "scenarios" / "demo_week.jsonl"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        check_env_file()
        settings = Settings()
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]).upper()
        reason = problem["msg"].removeprefix("Value error, ")
        print(f"Lỗi khởi động: {where}: {reason}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as exc:  # .env unreadable or malformed
        print(f"Lỗi khởi động: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level if args.command in ("run", "console") else "WARNING")
    try:
        return int(args.func(args, settings))
    except StartupError as exc:
        print(f"Lỗi khởi động: {exc}", file=sys.stderr)
        return 2
    except ScenarioError as exc:
        print(f"Lỗi kịch bản: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Bot báo cáo Đề án 06")
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("simulate", help="run a scenario (JSON lines) on a virtual clock")
    sim.add_argument("scenario", type=Path)
    _common(sim)
    sim.set_defaults(func=_simulate)

    con = sub.add_parser("console", help="type messages as a configured user")
    _common(con)
    con.add_argument("--as", dest="user", default="thuong_truc", help="person key from the config")
    con.add_argument("--chat", default="", help="chat key (default: a private chat)")
    con.set_defaults(func=_console)

    demo = sub.add_parser("demo", help="simulate a reporting week of Bình Sơn, write a transcript")
    _common(demo)
    demo.set_defaults(func=_demo)

    export = sub.add_parser("export", help="write one period's Excel, CSV or draft report")
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("--period", help="ISO week, e.g. 2024-W45")
    which.add_argument("--month", help="a month's report from its weeks, e.g. 2024-11")
    which.add_argument("--quarter", help="a quarter's report, e.g. 2024-Q4")
    which.add_argument("--year", help="a year's report, e.g. 2024")
    export.add_argument("--format", dest="fmt", choices=("xlsx", "csv", "docx"), default="xlsx")
    _common(export)
    export.set_defaults(func=_export)

    imp = sub.add_parser(
        "import", help="import the office's .xlsx figures (the bot's export or a plain sheet)"
    )
    imp.add_argument("file", type=Path, help=".xlsx file")
    imp.add_argument("--period", default=None, help="ISO week when the sheet names none")
    imp.add_argument("--dry-run", action="store_true", help="show the preview, store nothing")
    imp.add_argument("--by", default=None, help="who imports, for the history (default: $USER)")
    _common(imp)
    imp.set_defaults(func=_import)

    run = sub.add_parser("run", help="start the bot on the configured chat platforms")
    _common(run)
    run.set_defaults(func=_run)

    migrate = sub.add_parser(
        "migrate", help="bring the database schema to the newest version, then exit"
    )
    migrate.add_argument("--db", default=None, help="database URL (default DATABASE_URL)")
    migrate.set_defaults(func=_migrate)

    backup = sub.add_parser("backup", help="copy the live SQLite database (online backup)")
    backup.add_argument("--out", type=Path, required=True, help="backup file to write")
    backup.add_argument("--db", default=None, help="database URL (default DATABASE_URL)")
    backup.set_defaults(func=_backup)
    return parser


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, default=None, help="TOML set-up (default CONFIG_PATH)")
    p.add_argument("--db", default=None, help="database URL (default DATABASE_URL)")
    p.add_argument("--out", type=Path, default=Path("out"), help="directory for files")


def read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ScenarioError(f"{path}: không đọc được ({exc.strerror})") from exc


async def simulate_lines(
    lines: list[str],
    settings: Settings,
    config: Path | None,
    db: str | None,
    out: Path,
    zalo_private: bool = False,
) -> list[tuple[Step | None, list[Post]]]:
    """Run a scenario; with no database given, a fresh one, so reruns give the same output.
    Scheduled posts made between two steps come as `(None, posts)` before the later step.
    `zalo_private` adds Zalo's private mode (`bot.simulator.ZaloCards`)."""
    with tempfile.TemporaryDirectory() as tmp:
        url = db or f"sqlite:///{Path(tmp) / 'simulation.db'}"
        app = await open_app(settings, config_path=config, database_url=url)
        try:
            steps = read_scenario(lines, app.catalogue)
            until = read_until(lines)
            simulator = Simulator(app.engine, out, zalo_private=zalo_private)
            results: list[tuple[Step | None, list[Post]]] = []
            for moment, step in [*((s.at, s) for s in steps), *([(until, None)] if until else [])]:
                scheduled = await simulator.advance(moment)
                if scheduled:
                    results.append((None, scheduled))
                if step is not None:
                    results.append((step, await simulator.step(step)))
            return results
        finally:
            await app.close()


def _simulate(args: argparse.Namespace, settings: Settings) -> int:
    lines = read_lines(args.scenario)
    args.out.mkdir(parents=True, exist_ok=True)
    results = asyncio.run(simulate_lines(lines, settings, args.config, args.db, args.out))
    for _, posts in results:
        for post in posts:
            print(json.dumps(post.as_json(), ensure_ascii=False))
    return 0


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.transcript import write_transcript

    lines = read_lines(DEMO_SCENARIO)
    args.out.mkdir(parents=True, exist_ok=True)
    # The week as deployed on Telegram (the group) and on Zalo in private mode (cards).
    run = simulate_lines(lines, settings, args.config, args.db, args.out, zalo_private=True)
    results = asyncio.run(run)
    paths = write_transcript(results, args.out)
    posts = [post for _, posted in results for post in posted]
    print(f"Demo: {len(results)} tin nhắn vào, {len(posts)} tin bot gửi.")
    # Every file the week wrote: the transcript, then each chart and file the bot sent.
    sent = {Path(p) for post in posts for p in (post.photo, post.document) if p}
    print(f"Các tệp đã ghi ({len(paths) + len(sent)}):")
    for path in [*paths, *sorted(sent)]:
        print(f"  {path}")
    return 0


def _export(args: argparse.Namespace, settings: Settings) -> int:
    """`--out` is the file to write; a directory gets the default name inside it."""
    from datetime import UTC, datetime

    from core import messages as msg
    from core.periods import Period, ReportKind, ReportPeriod
    from handlers.files import export_data, export_file, export_name

    if args.period is None:
        kind: ReportKind = "month" if args.month else "quarter" if args.quarter else "year"
        text = args.month or args.quarter or args.year
        try:
            return _export_period(args, settings, ReportPeriod.parse_key(kind, text))
        except ValueError:
            print(texts.export_bad_report_period(kind, text), file=sys.stderr)
            return 2
    try:
        period = Period.parse(args.period)
    except ValueError:
        print(texts.export_bad_period(args.period), file=sys.stderr)
        return 2
    out: Path = args.out
    if out.is_dir() or not out.suffix:
        out = out / export_name(period, args.fmt)

    async def write() -> int:
        app = await open_app(settings, config_path=args.config, database_url=args.db)
        try:
            cal = app.catalogue.calendar
            async with app.db.unit_of_work() as uow:
                data = await export_data(uow, app.catalogue, period)
            if data is None:
                print(msg.no_reports_yet(period.label), file=sys.stderr)
                return 1
            today = cal.local(datetime.now(UTC)).date()
            await export_file(app.catalogue, data, args.fmt, out, today)
        finally:
            await app.close()
        print(out)
        return 0

    return asyncio.run(write())


def _import(args: argparse.Namespace, settings: Settings) -> int:
    """Preview, then store the accepted rows without asking (an administrator's script on a
    server has nobody to answer); `--dry-run` stores nothing. Exit 0 when every row was
    accepted or unchanged, 1 when some rows were refused (the others are stored), 2 when the
    file itself was refused."""
    import getpass
    from datetime import UTC, datetime

    from core import messages as msg
    from core.importing import ImportRefused
    from core.periods import Period
    from core.submission import Sender
    from handlers import imports

    period = None
    if args.period is not None:
        try:
            period = Period.parse(args.period)
        except ValueError:
            print(texts.export_bad_period(args.period), file=sys.stderr)
            return 2
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(texts.import_unreadable(str(args.file), exc.strerror or str(exc)), file=sys.stderr)
        return 2
    by = args.by or getpass.getuser()

    async def run() -> int:
        app = await open_app(settings, config_path=args.config, database_url=args.db)
        try:
            try:
                reading = imports.read_file(data, app.catalogue, args.file.name, period)
            except ImportRefused as refused:
                print(refused.text, file=sys.stderr)
                return 2
            now = datetime.now(UTC)
            async with app.db.unit_of_work() as uow:
                plans = await imports.plan(uow, app.catalogue, reading, now)
                for line in imports.preview_lines(app.catalogue, reading, plans):
                    print(line)
                if args.dry_run:
                    print(msg.IMPORT_DRY_RUN)
                else:
                    sender = Sender("cli", by, by)
                    await imports.store(uow, app.catalogue, reading, plans, sender, now)
                    await uow.commit()
                    n = imports.counts(plans)
                    print(msg.import_stored(n["new"], n["changed"], n["unchanged"], n["refused"]))
            return 1 if any(p.status == imports.REFUSED for p in plans) else 0
        finally:
            await app.close()

    return asyncio.run(run())


def _export_period(args: argparse.Namespace, settings: Settings, period: ReportPeriod) -> int:
    """`--month`, `--quarter`, `--year`: the report from the weeks due in the period."""
    from datetime import UTC, datetime

    from core import messages as msg
    from handlers.files import export_name, export_period_file, period_summary

    out: Path = args.out
    if out.is_dir() or not out.suffix:
        out = out / export_name(period, args.fmt)

    async def write() -> int:
        app = await open_app(settings, config_path=args.config, database_url=args.db)
        try:
            now = datetime.now(UTC)
            today = app.catalogue.calendar.local(now).date()
            if period.first_day > today:
                print(msg.export_period_future(period.label), file=sys.stderr)
                return 1
            async with app.db.unit_of_work() as uow:
                summary = await period_summary(uow, app.catalogue, period, now)
            if summary is None:
                print(msg.no_reports_in(period.label), file=sys.stderr)
                return 1
            await export_period_file(summary, args.fmt, out, today)
        finally:
            await app.close()
        print(out)
        return 0

    return asyncio.run(write())


def _console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import ConsoleNotifier, run_console
    from scheduler.service import start_scheduler

    async def session() -> None:
        app = await open_app(settings, config_path=args.config, database_url=args.db)
        notifier = ConsoleNotifier()
        app.engine.notifiers.append(notifier)
        try:
            # Reminders and the digest print here in real time, like posts to the group.
            scheduler = await start_scheduler(app, [notifier])
            try:
                await run_console(app, args.user, args.chat)
            finally:
                await scheduler.stop()
        finally:
            await app.close()

    asyncio.run(session())
    return 0


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if settings.telegram_bot_token is None and settings.zalo_bot_token is None:
        print(
            "Chưa cấu hình nền tảng chat nào (TELEGRAM_BOT_TOKEN và ZALO_BOT_TOKEN chưa đặt). "
            "Lấy token Telegram từ @BotFather, hoặc token Zalo Bot, rồi đặt vào .env "
            "(xem docs/DEPLOY.md).\nĐang mở chế độ console để thử bot.",
            file=sys.stderr,
        )
        args.user, args.chat = "thuong_truc", ""
        return _console(args, settings)
    from bot.runtime import serve

    asyncio.run(serve(settings, args.config, args.db))
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    """A deployment step before the workers start (they migrate too, under a lock: one does
    the work, the others wait and find the schema current)."""
    from bot.app import open_database
    from storage.db import head_revision

    async def run() -> None:
        db = await open_database(args.db or settings.database_url)
        await db.close()

    asyncio.run(run())
    print(texts.migrated(head_revision()))
    return 0


def _backup(args: argparse.Namespace, settings: Settings) -> int:
    from storage.backup import BackupError, backup

    try:
        result = asyncio.run(backup(args.db or settings.database_url, args.out))
    except ValueError as exc:  # the URL's scheme is not one we know
        raise StartupError(f"DATABASE_URL không hợp lệ: {exc}") from exc
    except BackupError as exc:
        print(f"Lỗi sao lưu: {exc}", file=sys.stderr)
        return 2
    print(texts.backup_done(str(result.path), result.submissions, result.size))
    return 0
