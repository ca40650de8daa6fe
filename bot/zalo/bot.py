"""The bot on Zalo: updates in (webhook or long polling), the engine, pages and photos out.

`ZaloBot` is a `bot.adapter.ChatAdapter`: an update is handled (replies sent) before the
webhook answers 200 or the next getUpdates is made. Every message it sends is counted by
`handlers.quota`, which says when the admins are to be warned (80 % of
`ZALO_MONTHLY_LIMIT`); the bot only sends the warning.

Groups: Zalo lets a bot into a group only where getMe says `can_join_groups` (the group
feature is in internal testing, https://bot.zaloplatforms.com/docs). Without it the bot works
in **private mode**: a post meant for a configured Zalo group goes instead, privately, to
every leader and admin with a Zalo id as a card to forward to the group (the post with one
line on top saying so, then its photos).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.adapter import DeliveryFailed
from bot.config_file import StartupError
from bot.media import MediaStore
from bot.zalo import plain, texts
from bot.zalo.adapter import PLATFORM, BadUpdate, NonText, parse_update, unwrap
from bot.zalo.adapter import message_id as update_id
from bot.zalo.client import ZaloApiError, ZaloClient, ZaloError, ZaloUnavailable
from core.catalogue import Person
from core.chat import Incoming, Photo, Recipient, Reply, id_on
from handlers.engine import Engine
from handlers.files import release
from handlers.quota import count_sent
from handlers.updates import record_update

if TYPE_CHECKING:
    from bot.adapter import ChatAdapter
    from bot.app import App
    from bot.settings import Settings
    from handlers.inbox import InboxRunner

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/zalo/webhook"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
MAX_BODY = 256 * 1024  # an update is a few hundred bytes; anything this big is not one
MIN_POLL_INTERVAL = 1.0
MAX_POLL_BACKOFF = 60.0

Sleep = Callable[[float], Awaitable[None]]


class ZaloBot:
    """Owns the client; turns updates into engine calls and replies into Zalo messages."""

    platform: str = PLATFORM

    def __init__(
        self,
        client: ZaloClient,
        engine: Engine,
        *,
        media: MediaStore | None = None,
        monthly_limit: int = 3000,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        poll_timeout: int = 30,
        poll_interval: float = MIN_POLL_INTERVAL,
        sleep: Sleep = asyncio.sleep,
        take_over_webhook: bool = False,
    ) -> None:
        self.client = client
        self.engine = engine
        self.media = media
        self.monthly_limit = monthly_limit
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.poll_timeout = poll_timeout
        self.take_over_webhook = take_over_webhook
        # Zalo asks clients not to hammer getUpdates; never less than a second between polls.
        self.poll_interval = max(MIN_POLL_INTERVAL, poll_interval)
        self._sleep = sleep
        self.bot_name = ""  # getMe's `account_name`, for stripping mentions
        # getMe's `can_join_groups`: False is private mode (posts for groups go as cards).
        self.can_join_groups = False
        self._poller: asyncio.Task[None] | None = None
        self._said_no_media = False
        # Where a webhook's updates are stored before Zalo is answered (the runtime sets it);
        # None: they are handled before the answer.
        self.inbox: InboxRunner | None = None

    # --- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Learn the bot's name (to strip @mentions), then take updates by webhook when one
        is configured, else by long polling. A platform that cannot be reached is a
        `StartupError` (the client is closed)."""
        try:
            await self._start()
        except ZaloError as exc:
            await self.client.aclose()
            raise StartupError(f"không kết nối được Zalo Bot API: {exc}") from exc
        except BaseException:
            await self.client.aclose()
            raise

    async def _start(self) -> None:
        # getMe: {"id", "account_name", "account_type", "can_join_groups"}; no display name.
        me = await self.client.get_me()
        self.bot_name = str(me.get("account_name") or "")
        self.can_join_groups = me.get("can_join_groups") is True
        log.info("Zalo bot %r connected", self.bot_name or "?")
        self._log_mode()
        if self.webhook_url and self.webhook_secret:
            await self.client.set_webhook(self.webhook_url, self.webhook_secret)
            log.info("Zalo updates by webhook at %s", self.webhook_url)
        else:
            # Another process may be receiving by webhook: deleting it would take its updates.
            info = await self.client.get_webhook_info()
            url = info.get("url") if isinstance(info, Mapping) else None
            if url and not self.take_over_webhook:
                raise StartupError(texts.webhook_in_use(str(url)))
            await self.client.delete_webhook()
            self._poller = asyncio.create_task(self.poll_forever(), name="zalo-poll")
            log.info("Zalo updates by long polling")

    def _log_mode(self) -> None:
        if self.can_join_groups:
            log.info("Zalo group mode (getMe: can_join_groups): group posts go to the groups")
            return
        relayers = self._relayers()
        groups = [c.key for c in self.engine.catalogue.chats if c.ids.get(PLATFORM)]
        if groups and not relayers:
            log.warning(
                "Zalo private mode (getMe: can_join_groups false) and no leader or admin has a "
                "Zalo id: posts for the Zalo group(s) %s cannot be delivered",
                ", ".join(groups),
            )
            return
        log.info(
            "Zalo private mode (getMe: can_join_groups false): group posts go privately to "
            "%d leader(s)/admin(s) as cards to forward",
            len(relayers),
        )

    async def stop(self) -> None:
        """Stop polling and close the client. Webhook requests in hand are finished by the
        web server, which the runtime stops first."""
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
        await self.client.aclose()

    def web_routes(self) -> list[web.RouteDef]:
        """The webhook route for the shared web server (none in polling mode)."""
        if not (self.webhook_url and self.webhook_secret):
            return []
        return zalo_routes(self, self.webhook_secret)

    # --- receiving ------------------------------------------------------------------------

    async def poll_forever(self) -> None:
        """Long-poll getUpdates until cancelled; failures back off, never end the loop. A
        batch is handled completely before the next getUpdates: Zalo forgets what it handed
        out, so the next call is as close to an acknowledgement as polling has."""
        backoff = self.poll_interval
        while True:
            try:
                updates = await self.client.get_updates(self.poll_timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("Zalo getUpdates failed (%s); polling again in %.0f s", exc, backoff)
                await self._sleep(backoff)
                backoff = min(MAX_POLL_BACKOFF, backoff * 2)
                continue
            backoff = self.poll_interval
            for update in updates:
                await self._handle_outside_inbox(update)
            await self._sleep(self.poll_interval)

    async def accept(self, update: Mapping[str, Any]) -> None:
        """A webhook's update: stored in the inbox, when there is one (any worker handles it,
        `handle_stored`), else handled here and now. Raises when it could not be stored."""
        if self.inbox is None:
            await self._handle_outside_inbox(update)
            return
        message = update.get("message")
        chat = message.get("chat") if isinstance(message, Mapping) else None
        chat_id = chat.get("id") if isinstance(chat, Mapping) else None
        # An update without a message id (not a message: ignored when handled) is known by
        # its content, so a repeated delivery is still stored once.
        key = (
            update_id(update)
            or hashlib.sha256(json.dumps(update, sort_keys=True, default=str).encode()).hexdigest()[
                :40
            ]
        )
        await self.inbox.receive(PLATFORM, str(chat_id or ""), key, dict(update))

    async def _handle_outside_inbox(self, update: Mapping[str, Any]) -> None:
        """Handled completely, then recorded answered: Zalo delivering it again gets
        nothing more (the inbox records its own rows handled instead)."""
        await self.handle_update_safely(update)
        await self.engine.answered(PLATFORM, update_id(update))

    async def handle_stored(self, body: dict[str, Any]) -> None:
        """An update the inbox stored, handled completely (replies sent)."""
        await self.handle_update_safely(body)

    async def handle_update_safely(self, update: Mapping[str, Any]) -> None:
        try:
            await self.handle_update(update)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Zalo update %s failed", update_id(update) or "?")

    async def handle_update(self, update: Mapping[str, Any]) -> None:
        try:
            parsed = parse_update(update, self.bot_name, self.engine.clock())
        except BadUpdate as refused:
            log.warning("Zalo update %s refused: %s", update_id(update) or "?", refused)
            return
        if parsed is None:
            log.debug("Zalo event %r ignored", update.get("event_name"))
            return
        key = parsed.message_id
        if (
            isinstance(parsed, NonText)
            and key
            and not await record_update(self.engine.db, PLATFORM, key, self.engine.clock())
        ):
            log.info("Zalo message %s already handled", key)
            return
        if (
            parsed.chat_type == "group"
            and self.engine.catalogue.chat_for(PLATFORM, parsed.chat_id) is None
        ):
            log.info("Zalo group %s is not in the config", parsed.chat_id)
        if isinstance(parsed, NonText):
            if parsed.chat_type == "private":
                # Answered through the engine's flood limits: a stranger's stickers must not
                # spend the month's messages either.
                sender = parsed.user_id or parsed.chat_id  # a private chat's id is its user's
                asking = Incoming(
                    PLATFORM, parsed.chat_id, "private", sender, "", "", self.engine.clock()
                )
                for answer in await self.engine.fixed(asking, texts.ZALO_TEXT_ONLY):
                    await self._send_reply(parsed.chat_id, answer)
            return
        log.debug("Zalo message %s from user %s in chat %s", key, parsed.user_id, parsed.chat_id)
        answers = await self.engine.handle(parsed)
        try:
            for n, answer in enumerate(answers):
                chat_id = self._chat_id(answer.chat_id) if answer.chat_id else parsed.chat_id
                if chat_id is None:
                    continue
                try:
                    await self._send_reply(chat_id, answer)
                except ZaloUnavailable:
                    if answer.chat_id:
                        raise
                    # Zalo still failing after the client's retries: this answer and the
                    # rest of the chat's go to the outbox, which tries them again later
                    # (read before the files are released below).
                    later = [a for a in answers[n:] if not a.chat_id]
                    await self.engine.answer_later(
                        PLATFORM,
                        _answered_chat(parsed),
                        later,
                        parsed.update_key or parsed.message_id,
                    )
                    break
        finally:
            # Sent: a chart's bytes are in the media store already (`MediaStore.url_for`).
            release(answers)

    def _chat_id(self, key: str) -> str | None:
        """A reply's `chat_id`, a configured chat's key: its Zalo id, if it has one."""
        chat = self.engine.catalogue.chat_by_key(key)
        target = chat.ids.get(PLATFORM) if chat is not None else None
        if target is None:
            log.warning("Zalo: chat %r has no Zalo id; reply not sent", key)
        return target

    # --- sending --------------------------------------------------------------------------

    async def post(self, to: Recipient, message: Reply) -> bool:
        """Notifier: post to a chat or person; False when they have no Zalo id; raises
        `DeliveryFailed` when Zalo did not take a message (the caller records nothing)."""
        chat_id = id_on(to.ids, PLATFORM)
        if chat_id is None:
            return False
        if to.group and not self.can_join_groups:
            return await self._post_card(to, [message])
        try:
            await self._send_reply(chat_id, message)
        except ZaloError as exc:
            raise _failed(to, exc) from exc
        return True

    async def post_many(self, to: Recipient, messages: Sequence[Reply]) -> bool:
        """Several replies to one chat, compacted into as few messages as possible (the
        weekly digest), then their photos."""
        chat_id = id_on(to.ids, PLATFORM)
        if chat_id is None:
            return False
        if to.group and not self.can_join_groups:
            return await self._post_card(to, messages)
        with_captions = self.media is None
        pages = plain.render_compact(messages, captions=with_captions)
        photo_list = [p for m in messages for p in plain.photos(m)]
        try:
            await self._send(chat_id, pages, photo_list)
        except ZaloError as exc:
            raise _failed(to, exc) from exc
        return True

    # --- private mode: cards to forward ------------------------------------------------------

    def _relayers(self) -> list[Person]:
        """Who forwards a group's posts in private mode: leaders and admins with a Zalo id,
        each id once, in the config's order."""
        people: dict[str, Person] = {}
        for person in self.engine.catalogue.people:
            zalo_id = person.ids.get(PLATFORM)
            if zalo_id and person.role in plain.FORWARDERS:
                people.setdefault(zalo_id, person)
        return list(people.values())

    async def _post_card(self, to: Recipient, messages: Sequence[Reply]) -> bool:
        """A post for a group the bot cannot be in, sent to each leader and admin in private
        as a card to forward: the post compacted, one line on top saying where it goes, then
        its photos. Made (True) once a card reached one of them: someone can forward it, and
        sending it again would give the others a second copy; the copies that failed are
        logged. Raises `DeliveryFailed` when none went; False when nobody has a Zalo id."""
        relayers = self._relayers()
        if not relayers:
            log.warning(
                "Zalo: nobody to forward the post for group %s (no leader or admin "
                "has a Zalo id); not sent",
                to.key,
            )
            return False
        photo_list = [p for m in messages for p in plain.photos(m)]
        captions = self.media is None  # then the photos go as their captions, in the text
        after = 0 if captions else len(photo_list)
        pages = plain.forward_card(to.name, messages, after, captions)
        failures = []
        for person in relayers:
            try:
                await self._send(person.ids[PLATFORM], pages, photo_list)
            except ZaloError as exc:
                log.error(
                    "Zalo: the card for group %s did not reach %s: %s", to.key, person.key, exc
                )
                failures.append(f"{person.key}: {exc}")
        if len(failures) == len(relayers):
            raise DeliveryFailed(
                f"zalo: the card for group {to.key} reached no leader or admin: "
                + "; ".join(failures)
            )
        return True

    async def _send_reply(self, chat_id: str, answer: Reply) -> None:
        pages = plain.render(answer, captions=self.media is None)
        await self._send(chat_id, pages, plain.photos(answer))

    async def _send(self, chat_id: str, pages: list[str], photos: list[Photo]) -> None:
        sent = 0
        try:
            for page in pages:
                await self.client.send_message(chat_id, page)
                sent += 1
            if photos and self.media is None:
                if not self._said_no_media:
                    self._said_no_media = True
                    log.warning(
                        "Zalo takes photos only by public URL and PUBLIC_BASE_URL is not set: "
                        "charts go as their captions only"
                    )
                return
            for photo in photos:
                assert self.media is not None
                try:
                    await self.client.send_photo(
                        chat_id, await self.media.url_for(photo.path), photo.caption
                    )
                except ZaloApiError as exc:
                    # The text went already; one chart Zalo could not take must not stop
                    # the others.
                    log.error("Zalo refused a photo for chat %s: %s", chat_id, exc)
                    continue
                sent += 1
        finally:
            if sent:
                await self._count(sent)

    # --- the monthly limit ----------------------------------------------------------------

    async def _count(self, n: int) -> None:
        warning = await count_sent(
            self.engine.db,
            self.engine.catalogue,
            PLATFORM,
            self.engine.clock(),
            n,
            self.monthly_limit,
        )
        if warning is None:
            return
        for admin in warning.recipients:
            try:
                if not await self.post(admin, warning.message):
                    log.warning("Zalo: admin %s has no Zalo id to warn", admin.key)
            except DeliveryFailed as exc:
                log.error("Zalo: warning admin %s failed: %s", admin.key, exc)


def _answered_chat(message: Incoming) -> Recipient:
    """The chat an answer was for, as the outbox addresses a post (the admins' notice names
    the sender)."""
    return Recipient(
        f"{PLATFORM}:{message.chat_id}",
        message.user_name or message.chat_id,
        ((PLATFORM, message.chat_id),),
        group=message.chat_type == "group",
    )


def _failed(to: Recipient, exc: ZaloError) -> DeliveryFailed:
    """Zalo's refusals carry no documented codes that tell a chat the bot left from a bad
    request, so none is taken for `unreachable`: the post is simply not recorded as made."""
    return DeliveryFailed(f"zalo: a post to {to.key} was not delivered: {exc}")


def zalo_routes(bot: ZaloBot, secret: str) -> list[web.RouteDef]:
    """`POST /zalo/webhook`: secret checked first, the body limited, the updates accepted
    (stored in the inbox, or handled with their replies sent), then 200; 503 when they could
    not be stored. A process that dies first gets them again from Zalo."""
    expected = secret.encode()

    async def webhook(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            return web.Response(status=401)
        if not hmac.compare_digest(given.encode(), expected):
            return web.Response(status=403)
        body = await _read_limited(request, MAX_BODY)
        if body is None:
            return web.Response(status=413)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, or nested too deep to decode
            log.info("Zalo webhook: a body that is not JSON was refused")
            return web.Response(status=400)
        # A webhook body is one update, bare or wrapped in {"ok": true, "result": …}.
        updates = unwrap(data) if isinstance(data, dict) else []
        if not updates:
            log.info("Zalo webhook: a body that is not an update was refused")
            return web.Response(status=400)
        try:
            for update in updates:
                await bot.accept(update)
        except Exception:
            log.exception("Zalo webhook: an update was not stored")
            return web.Response(status=503)
        return web.json_response({"ok": True})

    return [web.post(WEBHOOK_PATH, webhook)]


async def _read_limited(request: web.Request, limit: int) -> bytes | None:
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def create_zalo(app: App, settings: Settings, media: MediaStore | None) -> ZaloBot | None:
    """The bot from the settings, not yet started; None when ZALO_BOT_TOKEN is unset."""
    if settings.zalo_bot_token is None:
        return None
    client = ZaloClient(settings.zalo_bot_token, settings.zalo_api_base_url)
    secret = settings.zalo_webhook_secret
    webhook_url = None
    if secret is not None and settings.public_base_url:
        webhook_url = settings.public_base_url + WEBHOOK_PATH
    elif secret is not None:
        log.warning("ZALO_WEBHOOK_SECRET is set but PUBLIC_BASE_URL is not: Zalo long-polls")
    return ZaloBot(
        client,
        app.engine,
        media=media,
        monthly_limit=settings.zalo_monthly_limit,
        webhook_url=webhook_url,
        webhook_secret=secret.get_secret_value() if secret is not None else None,
        take_over_webhook=settings.zalo_take_over_webhook,
    )


async def start_zalo(app: App, settings: Settings, media: MediaStore | None) -> ZaloBot | None:
    """Create and start the Zalo bot; mount `bot.web_routes()` on the web server (webhook mode
    registers its URL with Zalo here, so serve the route soon after)."""
    bot = create_zalo(app, settings, media)
    if bot is not None:
        await bot.start()
    return bot


if TYPE_CHECKING:

    def _an_adapter(bot: ZaloBot) -> ChatAdapter:
        return bot  # mypy checks that ZaloBot satisfies the protocol
