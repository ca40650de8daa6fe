"""Running the bot on a virtual clock: scenario lines in, one JSON line per post out.

A scenario line is `{"at": "2024-11-11T08:30:00+07:00", "chat": "...", "user": "...",
"text": "..."}`; chats and users are keys from the config, and an optional `"chat_type"`
describes a chat the config does not know. The same inputs give the same outputs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from core.catalogue import Catalogue
from core.chat import Document, Incoming, Photo, Reply, render_plain
from handlers.engine import Engine

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


@dataclass(frozen=True)
class Post:
    at: datetime
    chat: str
    text: str = ""
    photo: str = ""
    document: str = ""
    in_reply_to: int = 0  # scenario line that caused it

    def as_json(self) -> dict[str, str]:
        out = {"at": self.at.isoformat(), "chat": self.chat}
        if self.photo:
            out["photo"] = self.photo
        elif self.document:
            out["document"] = self.document
        else:
            out["text"] = self.text
        return out


def read_scenario(lines: Iterable[str], catalogue: Catalogue) -> list[Step]:
    steps = []
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ScenarioError(f"dòng {n}: không phải JSON hợp lệ ({exc.msg})") from exc
        steps.append(_step(n, item, catalogue))
    # Stable: lines with the same timestamp keep their order in the file.
    return sorted(steps, key=lambda s: s.at)


def _step(n: int, item: Any, catalogue: Catalogue) -> Step:
    if not isinstance(item, dict):
        raise ScenarioError(f"dòng {n}: cần một đối tượng JSON")
    for name in ("at", "chat", "user", "text"):
        if not isinstance(item.get(name), str):
            raise ScenarioError(f"dòng {n}: thiếu khóa “{name}” (chuỗi)")
    try:
        at = datetime.fromisoformat(item["at"])
    except ValueError as exc:
        raise ScenarioError(f"dòng {n}: “at” không phải thời điểm ISO 8601") from exc
    if at.tzinfo is None:
        raise ScenarioError(f"dòng {n}: “at” phải có múi giờ, ví dụ +07:00")
    chat = catalogue.chat_by_key(item["chat"])
    chat_type = chat.kind if chat else item.get("chat_type")
    if chat_type is None:
        chat_type = "private" if item["chat"] == item["user"] else "group"
    if chat_type not in ("group", "private"):
        raise ScenarioError(f"dòng {n}: “chat_type” phải là group hoặc private")
    return Step(n, at, item["chat"], item["user"], item["text"], chat_type)


class Simulator:
    """Feeds steps to the engine with the clock set to each step's time."""

    def __init__(self, engine: Engine, out_dir: Path) -> None:
        self.engine = engine
        self.out_dir = out_dir
        self.now: datetime | None = None
        engine.clock = self._clock
        engine.files_dir = out_dir

    def _clock(self) -> datetime:
        if self.now is None:
            raise RuntimeError("the simulator's clock is read before the first step")
        return self.now

    async def run(self, steps: Iterable[Step]) -> list[Post]:
        posts = []
        for step in steps:
            posts.extend(await self.step(step))
        return posts

    async def step(self, step: Step) -> list[Post]:
        self.now = step.at
        message = Incoming(
            platform=PLATFORM,
            chat_id=step.chat,
            chat_type=step.chat_type,  # type: ignore[arg-type]
            user_id=step.user,
            user_name=step.user,
            text=step.text,
            sent_at=step.at,
            message_id=str(step.line),
        )
        replies = await self.engine.handle(message)
        return [post for r in replies for post in self._posts(step, r)]

    def _posts(self, step: Step, r: Reply) -> list[Post]:
        chat = r.chat_id or step.chat
        posts = []
        text = render_plain(tuple(b for b in r.blocks if not isinstance(b, Photo | Document)))
        if text:
            posts.append(Post(step.at, chat, text=text, in_reply_to=step.line))
        for block in r.blocks:
            if isinstance(block, Photo):
                posts.append(Post(step.at, chat, photo=str(block.path), in_reply_to=step.line))
            elif isinstance(block, Document):
                posts.append(Post(step.at, chat, document=str(block.path), in_reply_to=step.line))
        return posts
