"""Typing messages as a configured user, for trying the bot by hand.

A message is sent on an empty line (a report spans several lines); a one-line command other
than /baocao is sent at once. `:as KEY` switches user, `:chat KEY` switches chat, `:q` quits.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

from bot.app import App
from core.chat import Incoming, Recipient, Reply, render_plain

PROMPT = "> "


async def run_console(app: App, user: str, chat: str) -> None:
    print(
        f"Console: bạn là “{user}”, {'nhóm ' + chat if chat else 'nhắn riêng'}. "
        "Dòng trống để gửi; :as KEY đổi người, :chat KEY đổi nhóm, :q thoát."
    )
    buffer: list[str] = []
    counter = 0
    while True:
        line = await asyncio.to_thread(_read, PROMPT if not buffer else "… ")
        if line is None or line.strip() == ":q":
            return
        stripped = line.strip()
        if not buffer and stripped.startswith(":as "):
            user = stripped[4:].strip()
            print(f"Bạn là “{user}”.")
            continue
        if not buffer and stripped.startswith(":chat"):
            chat = stripped[5:].strip()
            print(f"Đang ở {'nhóm ' + chat if chat else 'nhắn riêng'}.")
            continue
        if stripped:
            buffer.append(line)
            single = stripped.startswith("/") and not stripped.split()[0].startswith("/baocao")
            if not (len(buffer) == 1 and single):
                continue
        if not buffer:
            continue
        counter += 1
        message = Incoming(
            platform="console",
            chat_id=chat or user,
            chat_type="group" if chat else "private",
            user_id=user,
            user_name=user,
            text="\n".join(buffer),
            sent_at=datetime.now(UTC),
            message_id=str(counter),
        )
        buffer = []
        for reply in await app.engine.handle(message):
            print(render_plain(reply.blocks))
            print()


def _read(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None
    finally:
        sys.stdout.flush()


class ConsoleNotifier:
    """Scheduled posts and nudges, printed with the chat or person they go to."""

    platform = "console"

    async def post(self, to: Recipient, message: Reply) -> bool:
        now = datetime.now(UTC).astimezone()
        print(f"\n[{now:%H:%M} bot → {to.key}]\n{render_plain(message.blocks)}\n")
        return True
