"""One receiver per bot token (issue 17): a process started to poll never deletes the webhook
other processes receive by, and a second poller on one token is refused, not left to take
turns with the first for ever. Over real HTTP against the fake Bot API, which answers as
Telegram does (getWebhookInfo; 409 to getUpdates while a webhook is set, and to a waiting
getUpdates that a newer one ends)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.config_file import StartupError
from bot.telegram import texts as tg_texts
from bot.telegram.bot import TelegramBot, TelegramSettings
from handlers.engine import Engine
from storage import Database
from testing.fake_telegram import TOKEN, FakeBotApi, text_update
from tests.bot.test_telegram import telegram_catalogue

ROOT = Path(__file__).resolve().parents[2]
OTHERS_WEBHOOK = "https://bot.example.vn/telegram/webhook"
PERSON = 4242  # a private chat: every message there is answered


def adapter(api: FakeBotApi, db: Database, **settings: Any) -> TelegramBot:
    config = TelegramSettings(
        token=TOKEN, api_root=api.root, poll_timeout_s=1, backoff_s=0.01, **settings
    )
    return TelegramBot(Engine(telegram_catalogue(), db), config, on_fatal=unexpected_stop)


def unexpected_stop(reason: str) -> None:  # replaced where a stop is expected
    raise AssertionError(f"unexpected stop: {reason}")


async def answered(api: FakeBotApi, text: str) -> None:
    """Push a private message and wait for the bot's answer to it (a stranger gets one
    answer an hour, and answers to /huongdan besides: handlers.flood)."""
    before = len(api.texts(PERSON))
    api.push(text_update(PERSON, PERSON, text))
    await api.wait_for(lambda a: len(a.texts(PERSON)) > before)


async def confirmed(api: FakeBotApi) -> None:
    """Until the poller has confirmed every update (its next getUpdates' offset). Before that
    a newcomer's first getUpdates would be answered at once with the unconfirmed update, and a
    poller whose getUpdates was answered is taken for the established one: the newcomer would
    not give way, and the two would take turns for ever."""
    await api.wait_for(lambda a: not a.updates)


async def run_bot(api: FakeBotApi, tmp_path: Path, **env: str) -> tuple[int, str]:
    """`python -m bot run` polling against the fake: its exit code and standard error."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env={
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "WEBHOOK_URL")},
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": api.root,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "CONFIG_PATH": str(ROOT / "config" / "binh_son.toml"),
            "PYTHONPATH": str(ROOT),
            **env,
        },
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


def the_one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    [line] = [x for x in stderr.splitlines() if x.startswith("Lỗi khởi động: ")]
    assert stderr.strip().splitlines()[-1] == line
    return line


# --- a webhook set by other processes -------------------------------------------------------------


async def test_polling_start_refuses_to_delete_another_process_s_webhook(
    api: FakeBotApi, db: Database
) -> None:
    api.webhook = {"url": OTHERS_WEBHOOK}
    bot = adapter(api, db)
    with pytest.raises(StartupError) as refused:
        await bot.start()
    assert str(refused.value) == tg_texts.webhook_in_use(OTHERS_WEBHOOK)
    methods = [c.method for c in api.calls]
    assert "getWebhookInfo" in methods
    assert "deleteWebhook" not in methods
    assert "getUpdates" not in methods
    assert api.webhook == {"url": OTHERS_WEBHOOK}


async def test_take_over_webhook_deletes_it_and_polls(api: FakeBotApi, db: Database) -> None:
    api.webhook = {"url": OTHERS_WEBHOOK}
    bot = adapter(api, db, take_over_webhook=True)
    await bot.start()
    try:
        await answered(api, "xin chào")
        assert api.webhook == {}
    finally:
        await bot.stop()


async def test_run_with_another_process_s_webhook_exits_2_in_one_line(
    api: FakeBotApi, tmp_path: Path
) -> None:
    api.webhook = {"url": OTHERS_WEBHOOK}
    code, stderr = await run_bot(api, tmp_path)
    assert code == 2, stderr
    line = the_one_line(stderr)
    assert OTHERS_WEBHOOK in line
    assert "TELEGRAM_TAKE_OVER_WEBHOOK=1" in line
    assert api.webhook == {"url": OTHERS_WEBHOOK}
    assert "deleteWebhook" not in [c.method for c in api.calls]


# --- two pollers on one token ---------------------------------------------------------------------


async def test_a_second_poller_gives_way_and_the_first_keeps_receiving(
    api: FakeBotApi, db: Database
) -> None:
    first = adapter(api, db)
    await first.start()
    second = adapter(api, db)
    stopped: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    second._on_fatal = stopped.set_result
    try:
        await answered(api, "xin chào")  # the first has been answered: it is the established one
        await confirmed(api)
        await second.start()
        assert await asyncio.wait_for(stopped, 30) == tg_texts.second_poller()
        conflicts = [c for c in api.calls if c.method == "getUpdates" and c.status == 409]
        assert conflicts  # Telegram's answer to the two of them taking turns
        await answered(api, "/huongdan")  # the first still receives
    finally:
        await second.stop()
        await first.stop()


async def test_run_as_a_second_poller_exits_2_in_one_line(
    api: FakeBotApi, db: Database, tmp_path: Path
) -> None:
    first = adapter(api, db)
    await first.start()
    try:
        await answered(api, "xin chào")
        await confirmed(api)
        code, stderr = await run_bot(api, tmp_path)
        assert code == 2, stderr
        assert the_one_line(stderr) == f"Lỗi khởi động: {tg_texts.second_poller()}"
        await answered(api, "/huongdan")
    finally:
        await first.stop()
