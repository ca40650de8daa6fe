"""The outbox: posts without a message to answer (scheduled posts and the admins' notices),
written to the `outbox` table in the transaction that caused them and sent by a drain, one
chat (a recipient on one platform) at a time, in id order.

- **Enqueued once.** A row's key is (job id, recipient record key, platform): enqueueing the
  same post again (a second leader, a restart's catch-up) adds nothing. A post already in
  `posts_made` is not enqueued. Photos and documents are stored as their bytes, not paths,
  so whichever process drains the row can send them.
- **Made only when the platform took it.** A sent row is marked made and recorded in
  `posts_made` in one transaction, right after the send (a crash between the two sends it
  again: a duplicate, never a loss). A recipient with no id on the platform: the row is
  closed as `none`, nothing recorded.
- **Order per chat; one chat never delays another.** A refused row gets attempts + 1 and a
  backoff (`next_at`), and the drain of that chat stops there (the rows after it wait their
  turn); other chats are drained by their own drains. Once a row's give-up time passes (its
  job's grace window), that chat's rows of the job are marked failed and the admins are told
  once per job, through the outbox too (job id `<job>:undelivered`, enqueued once).
- **Who drains.** `OutboxRunner.wake` after the commit: by default it drains the chats at
  once in this task (the simulator, the tests, one SQLite process); with `defer` it hands
  each chat to Procrastinate (`bot/queue_worker.py`, PostgreSQL: a `deliver` task per chat
  under `lock=<chat>`). `drain_due` (every few seconds on SQLite, every minute through a
  Procrastinate periodic task) wakes chats whose backoff ended or whose wake-up was lost.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core import messages as msg
from core.catalogue import Catalogue, Role
from core.chat import (
    BatchNotifier,
    Block,
    Bold,
    Document,
    Mention,
    Notifier,
    Photo,
    Recipient,
    Reply,
    Span,
    Table,
    Text,
    id_on,
    reply,
)
from handlers.notify import Delivered, DeliveryFailed, Failure, Outgoing
from handlers.reachability import mark_unreachable
from storage import Database
from storage.outbox import DUE, FAILED, MADE, NewPost, QueuedPost
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)

# Checks, inside the transaction that enqueues, that the caller may still enqueue (the
# scheduler's lease under its token); raises to enqueue nothing.
Guard = Callable[[UnitOfWork], Awaitable[None]]
# Hands chats to another runner (Procrastinate); None: drain them here.
Defer = Callable[[Sequence[str]], Awaitable[None]]

FIRST_RETRY = timedelta(minutes=1)  # a refused row waits 1, 2, 4, 5, 5 … minutes
RETRY_AFTER = timedelta(minutes=5)  # the longest wait between two tries of a row
NOTICE_WINDOW = timedelta(days=1)  # an admin notice (no grace window of its own) is tried so long
HEAD = 20  # rows read at a time from the head of a chat
DRAINS = 8  # chats drained side by side in one process (`concurrent`)
SETTLE_WAIT = 20.0  # seconds a command waits to tell who its posts reached (`settle`)


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th refusal."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), RETRY_AFTER)


def chat_key(platform: str, to: Recipient) -> str:
    """What a drain (and Procrastinate's lock) is per: one recipient on one platform."""
    return f"{platform}:{'chat' if to.group else 'user'}:{to.key}"


# --- the neutral Reply as JSON (bytes of photos and documents included) -----------------------


def _span(span: Span) -> dict[str, Any]:
    if isinstance(span, Bold):
        return {"b": span.text}
    if isinstance(span, Mention):
        return {"m": span.name, "ids": [list(pair) for pair in span.ids]}
    return {"s": span}


def _unspan(data: dict[str, Any]) -> Span:
    if "b" in data:
        return Bold(data["b"])
    if "m" in data:
        return Mention(data["m"], tuple((p, i) for p, i in data["ids"]))
    return str(data["s"])


def _file(path: Path, caption: str) -> dict[str, Any]:
    return {
        "name": path.name,
        "data": base64.b64encode(path.read_bytes()).decode(),
        "caption": caption,
    }


def encode(message: Reply) -> dict[str, Any]:
    """The reply as JSON; a photo's or a document's file is read now and stored as bytes."""
    blocks: list[dict[str, Any]] = []
    for block in message.blocks:
        if isinstance(block, Text):
            blocks.append({"text": [_span(s) for s in block.spans]})
        elif isinstance(block, Table):
            blocks.append(
                {
                    "table": list(block.columns),
                    "rows": [list(r) for r in block.rows],
                    "align": block.align,
                    "title": block.title,
                }
            )
        elif isinstance(block, Photo):
            blocks.append({"photo": _file(block.path, block.caption)})
        else:
            blocks.append({"document": _file(block.path, block.caption)})
    return {
        "blocks": blocks,
        "chat_id": message.chat_id,
        "buttons": [list(b) for b in message.buttons],
    }


def decode(payload: dict[str, Any], directory: Path, flat: bool = False) -> Reply:
    """The reply again; photos and documents written as files under `directory` (each in a
    folder of its own, or right in it when `flat`)."""
    blocks: list[Block] = []
    for n, data in enumerate(payload["blocks"]):
        if "text" in data:
            blocks.append(Text(tuple(_unspan(s) for s in data["text"])))
        elif "table" in data:
            blocks.append(
                Table(
                    tuple(data["table"]),
                    tuple(tuple(r) for r in data["rows"]),
                    data["align"],
                    data["title"],
                )
            )
        else:
            kind = "photo" if "photo" in data else "document"
            file = data[kind]
            path = (directory if flat else directory / str(n)) / Path(file["name"]).name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(base64.b64decode(file["data"]))
            blocks.append(
                Photo(path, file["caption"]) if kind == "photo" else Document(path, file["caption"])
            )
    buttons = tuple((label, action) for label, action in payload["buttons"])
    return Reply(tuple(blocks), payload["chat_id"], buttons)


def _recipient(to: Recipient) -> dict[str, Any]:
    return {
        "key": to.key,
        "name": to.name,
        "ids": [list(p) for p in to.ids],
        "group": to.group,
        "topics": [list(p) for p in to.topics],
    }


def recipient_of(data: dict[str, Any]) -> Recipient:
    return Recipient(
        data["key"],
        data["name"],
        tuple((p, i) for p, i in data["ids"]),
        bool(data["group"]),
        tuple((p, i) for p, i in data["topics"]),
    )


# --- enqueueing --------------------------------------------------------------------------------


def new_posts(
    job_id: str,
    period: str,
    posts: Sequence[Outgoing],
    platforms: Iterable[str],
    give_up_at: datetime,
    notice: dict[str, Any] | None = None,
) -> list[NewPost]:
    """The rows of `posts`, one per platform, in order (files read here: call it before
    opening the transaction)."""
    platforms = list(platforms)
    rows = []
    for post in posts:
        payload, recipient = encode(post.message), _recipient(post.to)
        for platform in platforms:
            rows.append(
                NewPost(
                    job_id,
                    post.record_key,
                    platform,
                    chat_key(platform, post.to),
                    period,
                    recipient,
                    payload,
                    give_up_at,
                    notice,
                )
            )
    return rows


async def enqueue(uow: UnitOfWork, rows: Sequence[NewPost], now: datetime) -> list[str]:
    """Add the rows not made yet (in `posts_made`) or enqueued already, in the caller's
    transaction; returns the chats to wake after its commit. A job enqueued again (run again
    on purpose: a catch-up, a take-over) has its refused rows tried again at once."""
    made: dict[str, set[tuple[str, str]]] = {}
    todo = []
    for row in rows:
        if row.job_id not in made:
            made[row.job_id] = await uow.posts.made(row.job_id)
        if (row.record_key, row.platform) not in made[row.job_id]:
            todo.append(row)
    await uow.outbox.add(todo, now)
    for job_id in made:
        await uow.outbox.rearm(job_id, now)
    return list(dict.fromkeys(row.chat for row in rows))


def admin_posts(catalogue: Catalogue, message: Reply) -> list[Outgoing]:
    return [
        Outgoing(Recipient(p.key, p.name, tuple(sorted(p.ids.items())), group=False), message)
        for p in catalogue.people
        if p.role is Role.ADMIN
    ]


async def settle(
    runner: OutboxRunner,
    job_id: str,
    chats: Sequence[str],
    posts: Sequence[Outgoing],
    now: datetime | None = None,
    wait: float = SETTLE_WAIT,
) -> Delivered:
    """Wake `chats` and say what became of the job's rows: reached (made) and failed
    (refused at least once, or given up). For a command that tells its sender who was
    reached (/nhacnho): a runner that drains here has settled them on return; one that
    hands them to Procrastinate is watched for at most `wait` seconds (a row not tried by
    then counts as neither)."""
    await runner.wake(chats, now)
    by_key = {post.record_key: post for post in posts}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        async with runner.db.unit_of_work() as uow:
            rows = await uow.outbox.outcome(job_id)
        pending = [r for r in rows if r[2] == DUE and r[3] == 0]
        if not pending or runner.defer is None or loop.time() >= deadline:
            break
        await asyncio.sleep(0.2)
    result = Delivered()
    for key, platform, state, attempts, error in rows:
        post = by_key.get(key)
        if post is None:
            continue
        if state == MADE:
            result.made += 1
            result.reached.add((key, platform))
        elif state == FAILED or (state == DUE and attempts > 0):
            result.failed.append(Failure(post, platform, error or "", False, error or ""))
    # Made before (posts_made) and so never enqueued: reached all the same.
    async with runner.db.unit_of_work() as uow:
        result.reached |= await uow.posts.made(job_id)
    return result


# --- draining ----------------------------------------------------------------------------------


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class OutboxRunner:
    """Drains the outbox through this process's notifiers (one per platform).

    `concurrent`: `wake` and `drain_due` drain the chats side by side, DRAINS at a time (the
    running bot: a slow chat does not delay the others); otherwise one after the other in
    order (the simulator and the tests: a deterministic order of posts)."""

    def __init__(
        self,
        catalogue: Catalogue,
        db: Database,
        notifiers: Sequence[Notifier],
        *,
        defer: Defer | None = None,
        concurrent: bool = False,
        clock: Callable[[], datetime] = _wall_clock,
        keep_files_in: Path | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.db = db
        self.notifiers = {n.platform: n for n in notifiers}
        self.defer = defer
        self.concurrent = concurrent
        self.clock = clock
        # Where a sent post's photos and documents are written and left (the simulator's
        # out directory: the demo's files); None: a temporary directory, deleted after.
        self.keep_files_in = keep_files_in
        self._locks: dict[str, asyncio.Lock] = {}

    async def wake(self, chats: Sequence[str], now: datetime | None = None) -> Delivered:
        """After a commit that enqueued rows for `chats`: drain them (or hand them over)."""
        if not chats:
            return Delivered()
        if self.defer is not None:
            await self.defer(chats)
            return Delivered()
        return await self._drain_all(chats, now or self.clock())

    async def drain_due(self, now: datetime | None = None) -> Delivered:
        """Drain every chat whose oldest row is due (here, or handed over with `defer`)."""
        now = now or self.clock()
        chats = await self.due_chats(now)
        if self.defer is not None:
            if chats:
                await self.defer(chats)
            return Delivered()
        return await self._drain_all(chats, now)

    async def backlog(self, stale_after: timedelta) -> tuple[int, int]:
        """(posts due now, posts due for longer than `stale_after`), for `/healthz`."""
        now = self.clock()
        async with self.db.unit_of_work() as uow:
            return await uow.outbox.backlog(now, now - stale_after)

    async def due_chats(self, now: datetime) -> list[str]:
        async with self.db.unit_of_work() as uow:
            return await uow.outbox.due_chats(now)

    async def _drain_all(self, chats: Sequence[str], now: datetime) -> Delivered:
        total = Delivered()
        if self.concurrent:
            # At most DRAINS at once, as Procrastinate's worker runs them on PostgreSQL: a
            # thousand drains at once would only wait in the rate limiter together, and a
            # busy event loop makes their sends reach Telegram in bursts (429s).
            slots = asyncio.Semaphore(DRAINS)

            async def drain(chat: str) -> Delivered:
                async with slots:
                    return await self.drain(chat, now)

            results = await asyncio.gather(*(drain(c) for c in chats))
        else:
            results = [await self.drain(c, now) for c in chats]
        for result in results:
            total.made += result.made
            total.failed += result.failed
        return total

    async def drain(self, chat: str, now: datetime | None = None) -> Delivered:
        """Send the chat's due rows in id order until one is refused (or none is due).
        `now`: the time to judge by (tests, the simulator); None: the clock, read afresh
        before each post (a long drain's backoffs and give-ups are judged when they happen)."""
        fixed = now
        lock = self._locks.setdefault(chat, asyncio.Lock())
        result = Delivered()
        woken: list[str] = []
        async with lock:
            while True:
                async with self.db.unit_of_work() as uow:
                    rows = await uow.outbox.head(chat, HEAD)
                    unreachable = await uow.unreachable.ids()
                if not rows:
                    break
                go_on = True
                for batch in self._runs(rows):
                    first = batch[0]
                    now = fixed or self.clock()
                    if first.give_up_at <= now:
                        woken += await self._give_up(first, now)
                        break  # the job's rows left the head: read it again
                    if first.next_at > now:
                        go_on = False  # backing off: the rows after it wait
                        break
                    sent = await self._send(batch, now, unreachable, result)
                    if sent is None:  # refused: this chat stops here, others go on
                        go_on = await self._refused(batch, now, result, woken)
                        break
                else:
                    go_on = len(rows) == HEAD  # read the next rows of the head
                if not go_on:
                    break
        if woken:
            extra = await self.wake(woken, fixed or self.clock())
            result.made += extra.made
            result.failed += extra.failed
        return result

    def _runs(self, rows: Sequence[QueuedPost]) -> list[list[QueuedPost]]:
        """Rows in order; consecutive rows of one job go as one batch to a platform that
        compacts them (Zalo puts a digest into as few messages as it can; a notifier with
        `compacts = False`, Telegram, gets them one by one)."""
        runs: list[list[QueuedPost]] = []
        for row in rows:
            notifier = self.notifiers.get(row.platform)
            # Only a platform that puts several posts into fewer messages gets them as one
            # batch (recorded together); others are sent and recorded one by one.
            batching = isinstance(notifier, BatchNotifier) and getattr(notifier, "compacts", True)
            if (
                batching
                and runs
                and runs[-1][0].job_id == row.job_id
                and row.next_at == runs[-1][0].next_at
            ):
                runs[-1].append(row)
            else:
                runs.append([row])
        return runs

    async def _send(
        self,
        batch: list[QueuedPost],
        now: datetime,
        unreachable: set[tuple[str, str]],
        result: Delivered,
    ) -> bool | None:
        """True: made; False: no id on the platform (closed, nothing recorded); None:
        refused (the failure is in `result.failed` and the rows' `error`)."""
        first = batch[0]
        notifier = self.notifiers.get(first.platform)
        to = recipient_of(first.recipient)
        if notifier is None:
            self._note(result, batch, to, f"no {first.platform} adapter in this process")
            return None
        keep = self.keep_files_in
        directory = keep or Path(tempfile.mkdtemp(prefix="outbox-"))
        try:
            messages = [decode(row.payload, directory, flat=keep is not None) for row in batch]
            try:
                if len(batch) > 1 and isinstance(notifier, BatchNotifier):
                    sent = await notifier.post_many(to, messages)
                else:
                    sent = await notifier.post(to, messages[0])
            except DeliveryFailed as exc:
                log.error(
                    "posting %s to %s on %s failed: %s",
                    first.job_id,
                    to.key,
                    first.platform,
                    exc.detail,
                )
                self._note(result, batch, to, exc.reason, exc.detail, exc.unreachable)
                user_id = id_on(to.ids, first.platform)
                if exc.unreachable and not to.group and user_id is not None:
                    await mark_unreachable(self.db, to, first.platform, user_id, exc.reason, now)
                return None
            except Exception as exc:
                log.exception("posting %s to %s on %s failed", first.job_id, to.key, first.platform)
                self._note(result, batch, to, repr(exc))
                return None
        finally:
            if keep is None:
                shutil.rmtree(directory, ignore_errors=True)
        user_id = id_on(to.ids, first.platform) or ""
        async with self.db.unit_of_work() as uow:
            if sent:
                for row in batch:
                    await uow.posts.record(
                        row.job_id, row.record_key, row.platform, row.period, now
                    )
                if not to.group and (first.platform, user_id) in unreachable:
                    await uow.unreachable.clear(first.platform, user_id)
                    unreachable.discard((first.platform, user_id))
            await uow.outbox.finish([r.id for r in batch], "made" if sent else "none", now)
            await uow.commit()
        if sent:
            result.made += len(batch)
            result.reached.update((r.record_key, r.platform) for r in batch)
        return sent

    @staticmethod
    def _note(
        result: Delivered,
        batch: Sequence[QueuedPost],
        to: Recipient,
        reason: str,
        detail: str = "",
        unreachable: bool = False,
    ) -> None:
        result.failed += [
            Failure(Outgoing(to, reply()), r.platform, detail or reason, unreachable, reason)
            for r in batch
        ]

    async def _refused(
        self, batch: Sequence[QueuedPost], now: datetime, result: Delivered, woken: list[str]
    ) -> bool:
        """The rows wait a backoff; True when the chat may go on (they were given up)."""
        attempts = max(r.attempts for r in batch) + 1
        retry = now + backoff(attempts)
        reason = result.failed[-1].reason if result.failed else "refused"
        first = batch[0]
        if retry > first.give_up_at:  # no try left inside the window: give up now
            async with self.db.unit_of_work() as uow:
                await uow.outbox.refused([r.id for r in batch], attempts, retry, reason)
                await uow.commit()
            woken += await self._give_up(first, now)
            return True
        log.warning(
            "outbox: %d post(s) of %s to %s refused; trying again at %s",
            len(batch),
            first.job_id,
            first.chat,
            retry.isoformat(),
        )
        async with self.db.unit_of_work() as uow:
            await uow.outbox.refused([r.id for r in batch], attempts, retry, reason)
            await uow.commit()
        return False

    async def _give_up(self, row: QueuedPost, now: datetime) -> list[str]:
        """The row's job's rows still to send in its chat are failed; the admins are told
        once per job (enqueued in the same transaction; the notice's key makes a second
        give-up of the same job, in another chat, add nothing). Returns the chats to wake."""
        cal = self.catalogue.calendar
        posts: list[NewPost] = []
        async with self.db.unit_of_work() as uow:
            failed = await uow.outbox.give_up(row.job_id, row.chat, now)
            if row.notice is not None and failed:
                seen = dict.fromkeys(
                    (r.recipient["name"], r.platform, r.error or "") for r in failed
                )
                text = msg.undelivered_notice(
                    row.notice["kind"],
                    row.notice["label"],
                    cal.local(datetime.fromisoformat(row.notice["at"])),
                    list(seen),
                )
                log.error(
                    "outbox: %d post(s) of %s not delivered; telling the admins",
                    len(failed),
                    row.job_id,
                )
                admins = admin_posts(self.catalogue, reply(text))
                posts = new_posts(
                    f"{row.job_id}:undelivered",
                    row.period,
                    admins,
                    self.notifiers,
                    now + NOTICE_WINDOW,
                )
            chats = await enqueue(uow, posts, now)
            await uow.commit()
        return chats
