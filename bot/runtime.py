"""`python -m bot run`: the engine on Telegram and/or Zalo until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import hashlib
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot import texts
from bot.app import App, open_app
from bot.config_file import StartupError
from bot.logs import hide_secret
from bot.settings import Settings
from bot.telegram.bot import TelegramBot, TelegramSettings
from handlers.inbox import InboxRunner
from handlers.outbox import OutboxRunner
from scheduler.service import SchedulerHandle, start_scheduler
from storage.lease import Lease, LeaseUnavailable, acquire_unless_renewed, keep

if TYPE_CHECKING:
    from aiohttp.web import RouteDef

    from bot.adapter import ChatAdapter
    from bot.queue_worker import QueueWorker
    from bot.web import WebServer

log = logging.getLogger(__name__)

# /healthz answers 503 once a post of the outbox has been due this long (a stuck drain), or
# a stored update has waited this long to be handled.
BACKLOG_AFTER = timedelta(minutes=5)
# On SQLite (one process, no Procrastinate) the outbox's due chats and the inbox's waiting
# ones are drained this often.
SQLITE_DRAIN_EVERY = 5.0


def telegram_settings(settings: Settings) -> TelegramSettings:
    token = settings.telegram_bot_token
    if token is None:
        raise StartupError("TELEGRAM_BOT_TOKEN chưa đặt")
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    if settings.webhook_url:
        if not settings.webhook_url.startswith("https://"):
            raise StartupError("WEBHOOK_URL phải là địa chỉ https:// (Telegram chỉ gọi HTTPS)")
        if len(secret) < 16 or not all(c.isalnum() or c in "_-" for c in secret):
            raise StartupError(
                "WEBHOOK_SECRET cần ít nhất 16 ký tự A-Z, a-z, 0-9, _ hoặc - khi dùng WEBHOOK_URL"
            )
    return TelegramSettings(
        token=token.get_secret_value(),
        api_root=settings.telegram_api_base_url,
        webhook_url=settings.webhook_url,
        webhook_secret=secret,
        form_timeout_s=settings.form_timeout_minutes * 60,
        take_over_webhook=settings.telegram_take_over_webhook,
    )


def poll_lease_name(platform: str, token: str) -> str:
    """The lease of the one process polling `platform` with `token`: named after a hash of
    the token, never the token itself (the table is readable by whoever reads the database)."""
    digest = hashlib.sha256(token.encode()).hexdigest()[:16]
    return f"poll:{platform}:{digest}"


async def take_poll_lease(
    app: App, platform: str, token: str, token_setting: str, ttl: float, renew: float
) -> Lease:
    """The polling lease of this bot token, or StartupError when another process that is
    still alive (renewing it) polls with the same token. A holder that died (this process
    killed and restarted at once) is waited for until its lease expires (at most `ttl`)."""
    lease = Lease(app.db, poll_lease_name(platform, token), ttl=ttl)
    try:
        got = await lease.acquire()
        if not got:
            log.info("%s: another process holds this token's polling lease; watching it", platform)
            got = await acquire_unless_renewed(lease, min(1.0, renew / 2))
    except LeaseUnavailable as exc:
        await lease.close()
        raise StartupError(texts.poll_lease_unchecked(platform, str(exc))) from exc
    if not got:
        await lease.close()
        raise StartupError(texts.poller_elsewhere(platform, token_setting))
    return lease


async def serve(
    settings: Settings,
    config: Path | None = None,
    database_url: str | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Every configured platform in one process, against one database and one config, until
    `stop` is set (or SIGINT/SIGTERM arrives); everything started is stopped again. A platform
    that stops receiving for good (a second poller on one token) stops the process with a
    StartupError. A platform that polls first takes the polling lease of its token
    (`take_poll_lease`) and keeps renewing it: a second poller is refused at start."""
    stop = stop or asyncio.Event()
    _on_signals(stop)  # from the start: a SIGTERM during start-up still ends cleanly
    tg_settings = telegram_settings(settings) if settings.telegram_bot_token else None
    if tg_settings is None and settings.zalo_bot_token is None:
        raise StartupError("chưa đặt TELEGRAM_BOT_TOKEN hay ZALO_BOT_TOKEN")
    if settings.zalo_webhook_secret is not None:  # the tokens hide themselves (their clients)
        hide_secret(settings.zalo_webhook_secret.get_secret_value())
    app = await open_app(settings, config_path=config, database_url=database_url)
    # Zalo, the media store and the web server are imported only when configured: a
    # Telegram bot that polls never loads aiohttp's server (memory, start-up time).
    media = None
    routes: list[RouteDef] = []
    if settings.public_base_url:
        from bot.media import MediaStore, media_routes

        media = MediaStore(settings.public_base_url, app.db)
        routes += media_routes(media)
    refusals: list[str] = []  # why an adapter stopped receiving while running

    def fatal(reason: str) -> None:
        refusals.append(reason)
        stop.set()

    adapters: list[ChatAdapter] = []
    tokens: dict[str, tuple[str, str]] = {}  # platform -> (token, its setting's name)
    if tg_settings is not None:
        tokens["telegram"] = (tg_settings.token, "TELEGRAM_BOT_TOKEN")
        # Several workers on one PostgreSQL share Telegram's send windows (None on SQLite).
        windows = app.db.send_windows()
        adapters.append(TelegramBot(app.engine, tg_settings, on_fatal=fatal, windows=windows))
    if settings.zalo_bot_token is not None:
        from bot.zalo.bot import create_zalo

        zalo = create_zalo(app, settings, media)
        if zalo is not None:
            adapters.append(zalo)
            tokens["zalo"] = (settings.zalo_bot_token.get_secret_value(), "ZALO_BOT_TOKEN")
    # Routes first: the web server must answer before a platform is told the webhook URL.
    # An adapter with webhook routes receives through them; one without polls.
    receiving: list[ChatAdapter] = []
    for adapter in adapters:
        hooks = adapter.web_routes()
        routes += hooks
        if hooks:
            receiving.append(adapter)
    web: WebServer | None = None
    scheduler: SchedulerHandle | None = None
    worker: QueueWorker | None = None
    drainers: list[asyncio.Task[None]] = []
    # The outbox: sent through the adapters started below (the list fills as they start).
    started: list[ChatAdapter] = []
    outbox = OutboxRunner(app.catalogue, app.db, started, concurrent=True)
    # The inbox: where the webhooks store their updates before answering.
    inbox: InboxRunner | None = None
    if receiving:
        inbox = InboxRunner(app.db)
        for adapter in receiving:
            adapter.inbox = inbox
    leases: list[Lease] = []
    keepers: list[asyncio.Task[None]] = []
    try:
        if app.db.engine.dialect.name == "postgresql":
            from bot.queue_worker import QueueWorker

            # Every process drains: Procrastinate's `deliver` tasks (the outbox) and `handle`
            # tasks (the inbox), one chat at a time. Opened now, so a webhook's update can be
            # handed over at once; run once the adapters can send.
            url = app.db.engine.url.render_as_string(hide_password=False)
            worker = QueueWorker(url, outbox, inbox)
            await worker.open()
        if routes:
            from bot.web import WebServer

            web = WebServer(
                settings.web_host,
                settings.web_port,
                health=app.db.check,
                backlog=functools.partial(outbox.backlog, BACKLOG_AFTER),
                inbox=functools.partial(inbox.backlog, BACKLOG_AFTER) if inbox else None,
            )
            web.add_routes(routes)
            await web.start()
        for adapter in adapters:
            if adapter not in receiving:  # no webhook: it polls, alone on its token
                token, setting = tokens[adapter.platform]
                lease = await take_poll_lease(
                    app,
                    adapter.platform,
                    token,
                    setting,
                    settings.lease_ttl_seconds,
                    settings.lease_renew_seconds,
                )
                leases.append(lease)
                lost = functools.partial(fatal, texts.poller_lost(adapter.platform))
                keepers.append(
                    asyncio.create_task(
                        keep(lease, settings.lease_renew_seconds, lost),
                        name=f"{adapter.platform}-poll-lease",
                    )
                )
            await adapter.start()  # a refused token or an unreachable API: StartupError
            started.append(adapter)
        app.engine.notifiers.extend(started)  # leaders' /nhacnho posts through them
        outbox.notifiers = {a.platform: a for a in started}
        app.engine.outbox = outbox  # /nhacnho's and the correction decisions' posts
        if inbox is not None:
            inbox.handlers.update({a.platform: a.handle_stored for a in started})
        if worker is not None:
            await worker.start()
            await outbox.drain_due()  # what a stopped process left: deferred again
        else:
            # One process, no Procrastinate: due posts and lost wake-ups looked for here.
            drainers.append(
                asyncio.create_task(every(SQLITE_DRAIN_EVERY, outbox.drain_due, "outbox drain"))
            )
            if inbox is not None:
                drainers.append(
                    asyncio.create_task(every(SQLITE_DRAIN_EVERY, inbox.wake_waiting, "inbox look"))
                )
        if inbox is not None:
            # What a stopped process left, and updates stored before the adapters started.
            await inbox.wake_waiting()
        scheduler = await start_scheduler(
            app,
            started,
            files_dir=app.engine.files_directory(),
            poll_seconds=settings.lease_renew_seconds,
            lease_ttl=settings.lease_ttl_seconds,
            outbox=outbox,
        )
        # Everything loaded so far lives as long as the process: keep the collector from
        # walking it again and again.
        gc.freeze()
        log.info("bot running; Ctrl-C or SIGTERM stops it")
        await stop.wait()
    finally:
        # The scheduler first, then the web server (finishing the webhook requests in hand:
        # their updates are stored), the queues' drains (a post or an update in hand is
        # finished), then the platforms.
        for drainer in drainers:
            drainer.cancel()
        await asyncio.gather(*drainers, return_exceptions=True)
        parts: list[
            tuple[str, SchedulerHandle | WebServer | QueueWorker | InboxRunner | ChatAdapter | None]
        ] = [
            ("scheduler", scheduler),
            ("web server", web),
            ("queues", worker),
            ("inbox", inbox),
            *((a.platform, a) for a in started),
        ]
        for name, part in parts:
            if part is None:
                continue
            try:
                await part.stop()
            except Exception:
                log.exception("stopping %s failed", name)
        # Polling has stopped: let the token's lease go, so a new poller may start at once.
        for keeper in keepers:
            keeper.cancel()
        await asyncio.gather(*keepers, return_exceptions=True)
        for lease in leases:
            await lease.close()
        await app.close()
    if refusals:
        raise StartupError(refusals[0])


async def every(seconds: float, step: Callable[[], Awaitable[object]], what: str) -> None:
    """`step` every `seconds` until cancelled; a failure is logged and tried again."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await step()
        except Exception:
            log.exception("%s failed; trying again", what)


def _on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
