"""The flood limits over real HTTP to the fake Zalo Bot API (issue 15): a stranger's 130
messages cost one message of the month's Zalo budget, not 130; a fast officer's flood costs
the answers within the limit and one "slow down" (both databases)."""

from __future__ import annotations

from datetime import datetime, timedelta

from zalo_fake import BOT_NAME, GROUP_ID, SATURDAY, BotFactory, FakeZalo, update

from bot.zalo.bot import ZaloBot
from bot.zalo.texts import ZALO_TEXT_ONLY
from core import messages as msg

STRANGER = "zl-nguoi-la"


async def _sent_count(bot: ZaloBot) -> int:
    async with bot.engine.db.unit_of_work() as uow:
        return await uow.outgoing.count("zalo", "2024-11")


def _clock(bot: ZaloBot) -> list[datetime]:
    """The engine's clock, moved by the test."""
    now = [SATURDAY]
    bot.engine.clock = lambda: now[0]
    return now


async def test_a_strangers_130_messages_cost_one_zalo_message(
    make_bot: BotFactory, fake_zalo: FakeZalo
) -> None:
    bot = make_bot()
    now = _clock(bot)
    texts = ["xin chào", "/trangthai", "/baocao", "alo", "/xephang"]
    for n in range(130):
        now[0] = SATURDAY + timedelta(seconds=20 * n)
        text = texts[n % len(texts)]
        message = update(
            text, message_id=f"s{n}", user=STRANGER, chat=STRANGER, group=False, at=now[0]
        )
        await bot.handle_update(message)
    assert fake_zalo.sent == [(STRANGER, msg.UNKNOWN_COMMAND)]
    assert [m for m in fake_zalo.methods() if m.startswith("send")] == ["sendMessage"]
    assert await _sent_count(bot) == 1
    # An hour after that answer, one more.
    now[0] = SATURDAY + timedelta(hours=1)
    await bot.handle_update(
        update("/trangthai", message_id="s-later", user=STRANGER, chat=STRANGER, group=False)
    )
    assert [text for _, text in fake_zalo.sent] == [msg.UNKNOWN_COMMAND, msg.not_registered()]
    assert await _sent_count(bot) == 2


async def test_a_fast_officer_costs_the_answers_within_the_limit_and_one_warning(
    make_bot: BotFactory, fake_zalo: FakeZalo
) -> None:
    bot = make_bot()
    now = _clock(bot)
    for n in range(40):  # from the officer (`update`'s sender), all in the same minute
        await bot.handle_update(update(f"@{BOT_NAME} /trangthai", message_id=f"o{n}"))
    texts = [text for chat, text in fake_zalo.sent if chat == GROUP_ID]
    assert len(texts) == 21
    assert all("Tình hình báo cáo" in t for t in texts[:20])
    assert texts[20] == msg.slow_down(5)
    assert await _sent_count(bot) == 21
    # After the pause the officer is answered again.
    now[0] = SATURDAY + timedelta(minutes=5)
    await bot.handle_update(update(f"@{BOT_NAME} /trangthai", message_id="o-later"))
    assert "Tình hình báo cáo" in fake_zalo.sent[-1][1]
    assert fake_zalo.sent[-1][0] == GROUP_ID


async def test_a_strangers_stickers_cost_one_zalo_message_too(
    make_bot: BotFactory, fake_zalo: FakeZalo
) -> None:
    """Stickers and images are answered "text only" by the adapter, through the same limits."""
    bot = make_bot()
    now = _clock(bot)
    for n in range(50):
        now[0] = SATURDAY + timedelta(seconds=30 * n)
        sticker = update(
            None,
            message_id=f"k{n}",
            user=STRANGER,
            chat=STRANGER,
            group=False,
            event="message.sticker.received",
            at=now[0],
        )
        await bot.handle_update(sticker)
    assert fake_zalo.sent == [(STRANGER, ZALO_TEXT_ONLY)]
    assert await _sent_count(bot) == 1
