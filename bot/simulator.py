"""Running the bot on a virtual clock: scenario lines in, one JSON line per post out.

A scenario line is `{"at": "2024-11-11T08:30:00+07:00", "chat": "...", "user": "...",
"text": "..."}`; chats and users are keys from the config, an optional `"chat_type"`
describes a chat the config does not know, and an optional `"name"` is the display name of a
user the config does not know (as a chat platform would give it; else the configured name).
The same inputs give the same outputs.

With `zalo_private`, the simulation also shows a Zalo deployment in private mode (getMe says
`can_join_groups: false`, as Zalo's documentation has it today): every post for a group goes
besides, as `bot.zalo` sends it, to each leader and admin as a card to forward, addressed
`zalo:<person key>`.

Scheduled posts (reminders, last call, digest, countdowns) run on the same virtual clock: the
jobs due between two steps run, in time order and at their own times, before the later step.
A line `{"until": "2024-11-19T12:00:00+07:00"}` runs the jobs up to that time after the last
step. A line with `"edits": N` is the message of line N edited at its own time (same chat and
sender), as an officer fixes a figure by editing the sent message.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.zalo import plain
from core.catalogue import Catalogue
from core.chat import (
    Attachment,
    Document,
    Incoming,
    Notifier,
    Photo,
    Recipient,
    Reply,
    render_plain,
)
from handlers.engine import Engine
from scheduler.virtual import VirtualScheduler

PLATFORM = "sim"


class ScenarioError(ValueError):
    """A scenario line that cannot be run: names the line and what is wrong."""


@dataclass(frozen=True)
class Step:
    line: int
    at: datetime
    chat: str
    user: str
    text: str
    chat_type: str
    # An edit of an earlier line's message (`"edits": N`): that message's line and time.
    edits: int = 0
    sent_at: datetime | None = None
    name: str = ""
    # A file sent with the message (`"file": "demo_past_weeks.xlsx"`, next to the scenario
    # files shipped in bot/scenarios, or a path): its path; `text` is then its caption.
    file: str = ""


@dataclass(frozen=True)
class Post:
    at: datetime
    chat: str
    text: str = ""
    photo: str = ""
    document: str = ""
    in_reply_to: int = 0  # scenario line that caused it; 0 for a scheduled post
    buttons: tuple[tuple[str, str], ...] = ()

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"at": self.at.isoformat(), "chat": self.chat}
        if self.photo:
            out["photo"] = self.photo
        elif self.document:
            out["document"] = self.document
        else:
            out["text"] = self.text
        if self.buttons:
            out["buttons"] = [list(b) for b in self.buttons]
        return out


def posts_of(r: Reply, chat: str, at: datetime, line: int = 0) -> list[Post]:
    """One post for the reply's text and tables, one per photo or document."""
    posts = []
    text = render_plain(tuple(b for b in r.blocks if not isinstance(b, Photo | Document)))
    if text:
        posts.append(Post(at, chat, text=text, in_reply_to=line, buttons=r.buttons))
    for block in r.blocks:
        if isinstance(block, Photo):
            posts.append(Post(at, chat, photo=str(block.path), in_reply_to=line))
        elif isinstance(block, Document):
            posts.append(Post(at, chat, document=str(block.path), in_reply_to=line))
    return posts


class SimNotifier:
    """Posts from jobs and nudges, addressed by config key, stamped with the virtual time."""

    platform = PLATFORM

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.posts: list[Post] = []

    async def post(self, to: Recipient, message: Reply) -> bool:
        self.posts.extend(posts_of(message, to.key, self.clock()))
        return True

    def drain(self, line: int = 0) -> list[Post]:
        posts, self.posts = self.posts, []
        return [replace(p, in_reply_to=line) for p in posts]


class ZaloCards:
    """Zalo in private mode, beside the simulation's own posts: a post for a group becomes a
    card to forward (`bot.zalo.plain.forward_card`, its text pages then its photos) for each
    leader and admin, into the same list of posts. Private posts are the simulation's."""

    platform = "zalo"

    def __init__(self, catalogue: Catalogue, into: SimNotifier) -> None:
        self.forwarders = [p.key for p in catalogue.people if p.role in plain.FORWARDERS]
        self.into = into

    async def post(self, to: Recipient, message: Reply) -> bool:
        return await self.post_many(to, [message])

    async def post_many(self, to: Recipient, messages: Sequence[Reply]) -> bool:
        if not to.group:
            return False
        photos = [p for m in messages for p in plain.photos(m)]
        pages = plain.forward_card(to.name, messages, len(photos))
        at = self.into.clock()
        for person in self.forwarders:
            chat = f"zalo:{person}"
            self.into.posts += [Post(at, chat, text=page) for page in pages]
            self.into.posts += [Post(at, chat, photo=str(p.path)) for p in photos]
        return bool(self.forwarders)


def read_scenario(lines: Iterable[str], catalogue: Catalogue) -> list[Step]:
    steps = []
    for n, item in _items(lines):
        if not (isinstance(item, dict) and set(item) == {"until"}):
            steps.append(_step(n, item, catalogue))
    by_line = {s.line: s for s in steps}
    for i, step in enumerate(steps):
        if step.edits:
            steps[i] = _edit(step, by_line.get(step.edits))
    # Stable: lines with the same timestamp keep their order in the file.
    return sorted(steps, key=lambda s: s.at)


def _edit(step: Step, original: Step | None) -> Step:
    """An edit is the edited message again: its chat, sender and send time, new text."""
    if original is None or original.edits:
        raise ScenarioError(f"dòng {step.line}: “edits” phải là số dòng của một tin nhắn gốc")
    if (original.chat, original.user) != (step.chat, step.user) or original.at >= step.at:
        raise ScenarioError(
            f"dòng {step.line}: chỉ sửa được tin nhắn trước đó của cùng người, cùng nhóm"
        )
    return replace(step, sent_at=original.at)


def read_until(lines: Iterable[str]) -> datetime | None:
    """The latest `{"until": …}` time of the scenario, if any."""
    until = None
    for n, item in _items(lines):
        if isinstance(item, dict) and set(item) == {"until"}:
            at = _moment(n, item["until"], "until")
            until = at if until is None else max(until, at)
    return until


def _items(lines: Iterable[str]) -> Iterable[tuple[int, Any]]:
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            yield n, json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ScenarioError(f"dòng {n}: không phải JSON hợp lệ ({exc.msg})") from exc


def _moment(n: int, text: Any, name: str) -> datetime:
    if not isinstance(text, str):
        raise ScenarioError(f"dòng {n}: thiếu khóa “{name}” (chuỗi)")
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ScenarioError(f"dòng {n}: “{name}” không phải thời điểm ISO 8601") from exc
    if at.tzinfo is None:
        raise ScenarioError(f"dòng {n}: “{name}” phải có múi giờ, ví dụ +07:00")
    return at


def _step(n: int, item: Any, catalogue: Catalogue) -> Step:
    if not isinstance(item, dict):
        raise ScenarioError(f"dòng {n}: cần một đối tượng JSON")
    file = item.get("file", "")
    if not isinstance(file, str):
        raise ScenarioError(f"dòng {n}: “file” phải là đường dẫn tệp (chuỗi)")
    if file:
        item = {"text": "", **item}
        if not _scenario_file(file).is_file():
            raise ScenarioError(f"dòng {n}: không tìm thấy tệp “{file}”")
    for name in ("at", "chat", "user", "text"):
        if not isinstance(item.get(name), str):
            raise ScenarioError(f"dòng {n}: thiếu khóa “{name}” (chuỗi)")
    at = _moment(n, item["at"], "at")
    chat = catalogue.chat_by_key(item["chat"])
    chat_type = chat.kind if chat else item.get("chat_type")
    if chat_type is None:
        chat_type = "private" if item["chat"] == item["user"] else "group"
    if chat_type not in ("group", "private"):
        raise ScenarioError(f"dòng {n}: “chat_type” phải là group hoặc private")
    shown = item.get("name")
    if shown is None:
        # A platform always gives a display name: the configured one, else the key.
        person = catalogue.person_by_key(item["user"])
        shown = person.name if person else item["user"]
    if not isinstance(shown, str) or not shown.strip():
        raise ScenarioError(f"dòng {n}: “name” phải là một chuỗi không rỗng")
    edits = item.get("edits", 0)
    if not isinstance(edits, int) or isinstance(edits, bool) or edits < 0:
        raise ScenarioError(f"dòng {n}: “edits” phải là số dòng của tin nhắn được sửa")
    return Step(
        n, at, item["chat"], item["user"], item["text"], chat_type, edits, name=shown, file=file
    )


SCENARIOS = Path(__file__).parent / "scenarios"


def _scenario_file(name: str) -> Path:
    """A scenario's file: a path as given, else one shipped beside the bundled scenarios."""
    path = Path(name)
    return path if path.is_absolute() or path.exists() else SCENARIOS / name


class Simulator:
    """Feeds steps to the engine with the clock set to each step's time, and runs the
    scheduled jobs due in between (unless `scheduled` is False)."""

    def __init__(
        self, engine: Engine, out_dir: Path, scheduled: bool = True, zalo_private: bool = False
    ) -> None:
        self.engine = engine
        self.out_dir = out_dir
        self.now: datetime | None = None
        engine.clock = self._clock
        engine.files_dir = out_dir
        self.notifier = SimNotifier(self._clock)
        notifiers: list[Notifier] = [self.notifier]
        if zalo_private:
            notifiers.append(ZaloCards(engine.catalogue, self.notifier))
        engine.notifiers = list(notifiers)
        self.scheduler: VirtualScheduler | None = None
        if scheduled:
            self.scheduler = VirtualScheduler(
                engine.catalogue, engine.db, notifiers, self._set_now, out_dir
            )

    def _set_now(self, moment: datetime) -> None:
        self.now = moment

    async def advance(self, to: datetime) -> list[Post]:
        """Run the scheduled jobs due up to `to`; their posts, in time order."""
        if self.scheduler is None:
            return []
        await self.scheduler.advance(to)
        return self.notifier.drain()

    def _clock(self) -> datetime:
        if self.now is None:
            raise RuntimeError("the simulator's clock is read before the first step")
        return self.now

    async def run(self, steps: Iterable[Step], until: datetime | None = None) -> list[Post]:
        posts = []
        for step in steps:
            posts.extend(await self.advance(step.at))
            posts.extend(await self.step(step))
        if until is not None:
            posts.extend(await self.advance(until))
        return posts

    async def step(self, step: Step) -> list[Post]:
        self.now = step.at
        message = Incoming(
            platform=PLATFORM,
            chat_id=step.chat,
            chat_type=step.chat_type,  # type: ignore[arg-type]
            user_id=step.user,
            user_name=step.name or step.user,
            text=step.text,
            # An edit keeps the edited message's id and send time (as Telegram's `date`).
            sent_at=step.sent_at or step.at,
            message_id=str(step.edits or step.line),
            edited_at=step.at if step.edits else None,
            attachment=_attachment(step.file) if step.file else None,
        )
        replies = await self.engine.handle(message)
        # Posts a command made elsewhere (a nudge to the group and officers) come first.
        posts = self.notifier.drain(step.line)
        for r in replies:
            posts += posts_of(r, r.chat_id or step.chat, step.at, step.line)
        return posts


def _attachment(name: str) -> Attachment:
    data = _scenario_file(name).read_bytes()
    return Attachment(Path(name).name, len(data), data=data)
