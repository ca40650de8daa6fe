"""The bot on Zalo end to end over real HTTP against the fake Bot API, on SQLite and
PostgreSQL: reports in a group, pages, charts by URL, polling, webhook, the monthly limit."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from zalo_fake import (
    ACCOUNT_NAME,
    ADMIN_ID,
    BOT_NAME,
    GROUP_ID,
    LEADER_ID,
    OFFICER_ID,
    PNG,
    SATURDAY,
    TOKEN,
    BotFactory,
    FakeZalo,
    Sleeps,
    dumps,
    serve,
    update,
)

from bot.config_file import StartupError
from bot.media import MediaStore, media_routes
from bot.zalo import texts as zalo_texts
from bot.zalo.bot import SECRET_HEADER, WEBHOOK_PATH, ZaloBot, zalo_routes
from core import messages as msg
from core.chat import Notifier, Photo, Recipient, Reply, Table, Text, reply
from handlers.outbox import OutboxRunner
from storage import Database
from storage.outbox import DUE, MADE

REPORT = """/baocao
Đã cấp CCCD: 6.352
Đã xác thực ĐDĐT: 5.014
Đã kích hoạt ĐDĐT: 4.454
Trẻ 6-14 tuổi: 898
Đã cấp Căn cước 6-14 tuổi: 286"""
SECRET = "webhook-secret-1234"
GROUP = Recipient("nhom_bao_cao", "Nhóm", (("zalo", GROUP_ID),))


async def _stored(bot: ZaloBot, unit: str = "binh_long", period: str = "2024-W47") -> list[object]:
    async with bot.engine.db.unit_of_work() as uow:
        return list(await uow.submissions.versions(unit, period))


async def _sent_count(bot: ZaloBot, month: str = "2024-11") -> int:
    async with bot.engine.db.unit_of_work() as uow:
        return await uow.outgoing.count("zalo", month)


async def test_report_in_a_group_with_a_mention_is_stored_and_answered(
    make_bot: BotFactory, fake_zalo: FakeZalo
) -> None:
    bot = make_bot()
    await bot.handle_update(update(f"@{BOT_NAME} {REPORT}"))
    [(chat, text)] = fake_zalo.sent
    assert chat == GROUP_ID
    assert "✅ Đã nhận báo cáo tuần 47/2024 của Xã Bình Long, đúng hạn." in text
    assert "Xác thực ĐDĐT: 78,94% = 5.014/6.352 (chỉ tiêu 80%)" in text
    [stored] = await _stored(bot)
    assert stored.values["eid_verified"] == 5014  # type: ignore[attr-defined]
    assert stored.sender.platform == "zalo"  # type: ignore[attr-defined]
    assert stored.raw_text == REPORT  # type: ignore[attr-defined]
    assert await _sent_count(bot) == 1


async def test_a_mentioned_report_without_the_command_is_taken_in_the_group(
    make_bot: BotFactory, fake_zalo: FakeZalo
) -> None:
    bot = make_bot()
    await bot.handle_update(update(f"@{BOT_NAME}\n" + REPORT.split("\n", 1)[1]))
    assert "✅ Đã nhận báo cáo tuần 47/2024" in fake_zalo.sent[0][1]
    assert len(await _stored(bot)) == 1


async def test_a_long_reply_is_split_into_pages_of_at_most_2000_on_lines(
    make_bot: BotFactory, fake_zalo: FakeZalo
) -> None:
    bot = make_bot()
    rows = tuple(
        (str(n), f"Xã thứ {n}", f"{n * 13}", f"{n * 17}", f"{n % 100},{n % 10}0%", "+0,10")
        for n in range(1, 121)
    )
    table = Table(
        (msg.COL_NO, msg.COL_UNIT, msg.COL_DONE, msg.COL_TOTAL, msg.COL_RATE, msg.COL_CHANGE),
        rows,
        "rlrrrr",
        "Đơn vị chưa đạt",
    )
    assert await bot.post(GROUP, Reply((Text.of("Xếp hạng tuần 47/2024"), table)))
    pages = [text for chat, text in fake_zalo.sent if chat == GROUP_ID]
    assert len(pages) > 1
    assert all(len(p) <= 2000 for p in pages)
    lines = "\n".join(pages).split("\n")
    assert lines[:3] == ["Xếp hạng tuần 47/2024", "", "Đơn vị chưa đạt"]
    assert len(lines) == 3 + 120  # every row once, in order, none cut
    for n, line in enumerate(lines[3:], start=1):
        assert line.startswith(f"{n}. Xã thứ {n} — ")
        assert line.endswith(f"({n * 13}/{n * 17}), ±tuần: +0,10")
    assert await _sent_count(bot) == len(pages)


async def test_a_chart_is_sent_by_url_and_zalo_fetches_the_png(
    make_bot: BotFactory, fake_zalo: FakeZalo, tmp_path: Path, db: Database
) -> None:
    start = datetime.now(UTC)
    now = [start]
    store = MediaStore("http://placeholder", db, clock=lambda: now[0])
    runner, base = await serve(media_routes(store))
    store.public_base_url = base
    try:
        bot = make_bot(media=store)
        chart = tmp_path / "chart.png"
        chart.write_bytes(PNG)
        answer = Reply((Text.of("Biểu đồ tuần 47"), Photo(chart, "Xác thực ĐDĐT")))
        assert await bot.post(GROUP, answer)
        assert fake_zalo.sent == [(GROUP_ID, "Biểu đồ tuần 47")]
        [(chat, url, caption)] = fake_zalo.photos
        assert (chat, caption) == (GROUP_ID, "Xác thực ĐDĐT")
        assert url.startswith(f"{base}/media/")
        assert url.endswith(".png")
        assert len(url.rsplit("/", 1)[1]) >= 32 + len(".png")  # 24 random bytes, base64
        [fetched] = fake_zalo.fetched
        assert (fetched.status, fetched.content_type, fetched.body) == (200, "image/png", PNG)
        now[0] = start + timedelta(seconds=3601)  # an hour later the link is dead
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 404
        assert await _sent_count(bot) == 2
    finally:
        await runner.cleanup()


async def test_without_a_public_url_charts_go_as_captions_and_the_log_says_why_once(
    make_bot: BotFactory, fake_zalo: FakeZalo, caplog: pytest.LogCaptureFixture
) -> None:
    bot = make_bot()
    answer = Reply((Text.of("Biểu đồ"), Photo(Path("missing.png"), "Xác thực ĐDĐT")))
    await bot.post(GROUP, answer)
    await bot.post(GROUP, answer)
    assert fake_zalo.sent == [(GROUP_ID, "Biểu đồ\n\nXác thực ĐDĐT")] * 2
    assert fake_zalo.photos == []
    assert sum("PUBLIC_BASE_URL is not set" in r.getMessage() for r in caplog.records) == 1


async def test_polling_handles_a_replayed_update_once_with_a_second_between_polls(
    make_bot: BotFactory, fake_zalo: FakeZalo, sleeps: Sleeps
) -> None:
    bot = make_bot()
    first = update("/huongdan", message_id="p-1", user=LEADER_ID, chat=LEADER_ID, group=False)
    fake_zalo.updates.extend([first, first, {"ok": True}])
    poller = asyncio.create_task(bot.poll_forever())
    try:
        await asyncio.wait_for(fake_zalo.drained.wait(), 10)
    finally:
        poller.cancel()
        await asyncio.gather(poller, return_exceptions=True)
    answers = [text for chat, text in fake_zalo.sent if chat == LEADER_ID]
    assert len(answers) == 1
    assert "Bot báo cáo Đề án 06" in answers[0]
    polls = fake_zalo.methods().count("getUpdates")
    assert polls >= 4
    # The answer went out before Zalo was asked for the next update.
    methods = fake_zalo.methods()
    assert methods[:3] == ["getUpdates", "sendMessage", "getUpdates"]
    assert len(sleeps.asked) >= polls - 1
    assert min(sleeps.asked) >= 1.0


async def test_polling_survives_errors_with_backoff(
    make_bot: BotFactory, fake_zalo: FakeZalo, sleeps: Sleeps
) -> None:
    bot = make_bot(max_attempts=1)
    fake_zalo.fail("getUpdates", 502, times=3)
    fake_zalo.updates.append(
        update("/huongdan", message_id="p-2", user=LEADER_ID, chat=LEADER_ID, group=False)
    )
    poller = asyncio.create_task(bot.poll_forever())
    try:
        await asyncio.wait_for(fake_zalo.drained.wait(), 10)
    finally:
        poller.cancel()
        await asyncio.gather(poller, return_exceptions=True)
    assert sleeps.asked[:3] == [1.0, 2.0, 4.0]
    assert [chat for chat, _ in fake_zalo.sent] == [LEADER_ID]


async def test_webhook_checks_the_secret_before_anything_and_takes_both_body_shapes(
    make_bot: BotFactory, fake_zalo: FakeZalo
) -> None:
    bot = make_bot()
    runner, base = await serve(zalo_routes(bot, SECRET))
    url = base + WEBHOOK_PATH
    bare = update("/trangthai", message_id="w-1")
    wrapped = {"ok": True, "result": update("/trangthai", message_id="w-2")}
    try:
        async with aiohttp.ClientSession() as http:
            for headers, expected in (({}, 401), ({SECRET_HEADER: "wrong-secret-000"}, 403)):
                async with http.post(url, data=dumps(bare), headers=headers) as response:
                    assert response.status == expected
            assert fake_zalo.sent == []
            async with bot.engine.db.unit_of_work() as uow:
                assert await uow.updates.first_time("zalo", "w-1", bot.engine.clock())
                # (rolled back: the probe itself stores nothing)

            good = {SECRET_HEADER: SECRET}
            for body in (bare, wrapped, bare):  # the last one is a redelivery
                async with http.post(url, data=dumps(body), headers=good) as response:
                    assert response.status == 200
                    assert await response.json() == {"ok": True}
            async with http.post(url, data=b"{not json", headers=good) as response:
                assert response.status == 400
            big = b'{"x": "' + b"a" * 300_000 + b'"}'
            async with http.post(url, data=big, headers=good) as response:
                assert response.status == 413
    finally:
        await runner.cleanup()
    # Two distinct updates answered; the redelivered one was not.
    assert [chat for chat, _ in fake_zalo.sent] == [GROUP_ID, GROUP_ID]
    assert fake_zalo.sent[0] == fake_zalo.sent[1]


async def test_webhook_answers_only_after_the_update_was_handled(
    make_bot: BotFactory, fake_zalo: FakeZalo
) -> None:
    bot = make_bot()
    fake_zalo.slow("sendMessage", 0.3)
    runner, base = await serve(zalo_routes(bot, SECRET))
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                base + WEBHOOK_PATH,
                data=dumps(update(f"@{BOT_NAME} {REPORT}", message_id="w-9")),
                headers={SECRET_HEADER: SECRET},
            ) as response,
        ):
            assert response.status == 200
            # By the 200 the report is stored and its answer went out: a process dying now
            # loses nothing Zalo believes delivered.
            [(chat, text)] = fake_zalo.sent
            assert chat == GROUP_ID
            assert "Đã nhận báo cáo" in text
            assert len(await _stored(bot)) == 1
    finally:
        await runner.cleanup()


async def test_non_text_gets_a_short_answer_in_private_and_silence_in_a_group(
    make_bot: BotFactory, fake_zalo: FakeZalo
) -> None:
    bot = make_bot()
    image = "message.image.received"
    await bot.handle_update(update(None, message_id="i-1", event=image))
    await bot.handle_update(
        update(None, message_id="i-2", event=image, chat=OFFICER_ID, group=False)
    )
    assert fake_zalo.sent == [(OFFICER_ID, zalo_texts.ZALO_TEXT_ONLY)]


async def test_admins_are_warned_once_when_the_month_passes_80_percent(
    make_bot: BotFactory, fake_zalo: FakeZalo
) -> None:
    bot = make_bot(monthly_limit=5)
    for n in range(6):
        await bot.post(GROUP, reply(f"Tin {n}"))
    warnings = [text for chat, text in fake_zalo.sent if chat == ADMIN_ID]
    assert warnings == [msg.zalo_monthly_warning("4", "5", "2024-11")]
    group_posts = [text for chat, text in fake_zalo.sent if chat == GROUP_ID]
    assert group_posts == [f"Tin {n}" for n in range(6)]
    assert await _sent_count(bot) == 7  # the warning counts too


async def test_notifier_post_returns_false_without_a_zalo_id(
    make_bot: BotFactory, fake_zalo: FakeZalo
) -> None:
    bot: Notifier = make_bot()
    assert bot.platform == "zalo"
    telegram_only = Recipient("x", "X", (("telegram", "42"),), group=False)
    assert not await bot.post(telegram_only, reply("Tin"))
    assert fake_zalo.calls == []


async def test_compact_posting_merges_a_digest_into_one_message(
    make_bot: BotFactory, fake_zalo: FakeZalo
) -> None:
    bot = make_bot()
    digest = [reply(f"Chỉ tiêu {n}: đạt 80%") for n in range(5)]
    assert await bot.post_many(GROUP, digest)
    assert fake_zalo.sent == [(GROUP_ID, "\n\n".join(f"Chỉ tiêu {n}: đạt 80%" for n in range(5)))]


async def test_start_polls_without_a_webhook_and_registers_one_with(
    make_bot: BotFactory, fake_zalo: FakeZalo
) -> None:
    fake_zalo.can_join_groups = True
    polling = make_bot(groups=False)
    polling.bot_name = ""
    await polling.start()
    assert (polling.bot_name, polling.can_join_groups) == (ACCOUNT_NAME, True)
    await asyncio.wait_for(fake_zalo.drained.wait(), 10)
    await polling.stop()
    assert fake_zalo.methods()[:4] == ["getMe", "getWebhookInfo", "deleteWebhook", "getUpdates"]

    fake_zalo.calls.clear()
    hooked = make_bot(webhook_url="https://baocao.example.vn/zalo/webhook", webhook_secret=SECRET)
    await hooked.start()
    await hooked.stop()
    assert fake_zalo.calls == [
        ("getMe", {}),
        ("setWebhook", {"url": "https://baocao.example.vn/zalo/webhook", "secret_token": SECRET}),
    ]
    assert len(hooked.web_routes()) == 1
    assert polling.web_routes() == []


async def test_polling_never_deletes_another_process_webhook_unless_told_to(
    make_bot: BotFactory, fake_zalo: FakeZalo
) -> None:
    """A process started without the webhook settings finds the webhook of the others (set
    with setWebhook) and stops in one line instead of deleting it and taking their updates."""
    fake_zalo.webhook_url = "https://baocao.example.vn/zalo/webhook"
    refused = make_bot()
    with pytest.raises(StartupError, match="ZALO_TAKE_OVER_WEBHOOK=1") as raised:
        await refused.start()
    assert "https://baocao.example.vn/zalo/webhook" in str(raised.value)
    assert fake_zalo.methods() == ["getMe", "getWebhookInfo"]
    assert fake_zalo.webhook_url == "https://baocao.example.vn/zalo/webhook"
    # Told to take over: the webhook goes and this process polls.
    fake_zalo.calls.clear()
    taking = make_bot(take_over_webhook=True)
    await taking.start()
    await asyncio.wait_for(fake_zalo.drained.wait(), 10)
    assert fake_zalo.methods()[:4] == ["getMe", "getWebhookInfo", "deleteWebhook", "getUpdates"]
    assert fake_zalo.webhook_url == ""


async def test_the_token_is_never_logged_while_the_bot_works(
    make_bot: BotFactory, fake_zalo: FakeZalo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bot = make_bot()
    fake_zalo.fail("sendMessage", 429, retry_after=1)
    fake_zalo.fail("sendMessage", 400, description="chat gone", times=5)
    await bot.handle_update_safely(update(f"@{BOT_NAME} {REPORT}", message_id="t-1"))
    await bot.handle_update_safely(update("/trangthai", message_id="t-2"))
    assert "chat gone" in caplog.text
    assert TOKEN.split(":", 1)[1] not in caplog.text


async def test_a_photo_zalo_cannot_fetch_does_not_stop_the_others(
    make_bot: BotFactory,
    fake_zalo: FakeZalo,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    db: Database,
) -> None:
    store = MediaStore("http://placeholder", db)
    runner, base = await serve(media_routes(store))
    store.public_base_url = base
    lost, chart = tmp_path / "lost.png", tmp_path / "ok.png"
    lost.write_bytes(PNG)
    chart.write_bytes(PNG)
    # Zalo could not fetch the first one: answered as the fake answers a failed fetch.
    fake_zalo.answer(
        "sendPhoto", 400, {"ok": False, "error_code": 400, "description": "cannot fetch photo"}
    )
    try:
        bot = make_bot(media=store)
        answer = Reply((Photo(lost, "Mất"), Photo(chart, "Còn")))
        assert await bot.post(GROUP, answer)
    finally:
        await runner.cleanup()
    assert [f.status for f in fake_zalo.fetched] == [200]
    assert [caption for _, _, caption in fake_zalo.photos] == ["Còn"]
    assert "Zalo refused a photo" in caplog.text
    assert await _sent_count(bot) == 1


async def test_a_ranking_reads_one_unit_per_line_on_a_phone(
    make_bot: BotFactory, fake_zalo: FakeZalo
) -> None:
    bot = make_bot()
    await bot.handle_update(update(f"@{BOT_NAME} {REPORT}", message_id="r-1"))
    await bot.handle_update(
        update(f"@{BOT_NAME} /xephang xác thực", message_id="r-2", user=LEADER_ID, name="Duy")
    )
    ranking = fake_zalo.sent[-1][1]
    # In the group: rank, name and rate (the counts and extra columns are in private).
    assert "1. Bình Long — 78,94%\n" in ranking
    assert "  " not in ranking  # no padding for a monospace font


async def test_an_answer_zalo_still_refuses_after_the_retries_goes_to_the_outbox(
    make_bot: BotFactory, fake_zalo: FakeZalo
) -> None:
    """Zalo failing (5xx) through the client's retries: the answer is not lost with the log
    line but handed to the outbox, which sends it once Zalo is back (issue 17). A refusal
    with `ok: false` is final and is not handed over (the next test in this pair)."""
    bot = make_bot(max_attempts=2)
    bot.engine.notifiers.append(bot)
    fake_zalo.fail("sendMessage", 502, times=2)  # the client's two tries of the answer
    await bot.handle_update(update(f"@{BOT_NAME} {REPORT}"))
    assert fake_zalo.sent == []
    assert len(await _stored(bot)) == 1
    job = "answer:zalo:msg-1"
    assert await _outcome(bot, job) == [(DUE, 0)]  # waiting for the outbox's next look

    runner = OutboxRunner(bot.engine.catalogue, bot.engine.db, [bot])
    await runner.drain_due(SATURDAY)
    [(chat, text)] = fake_zalo.sent
    assert chat == GROUP_ID
    assert "✅ Đã nhận báo cáo tuần 47/2024 của Xã Bình Long, đúng hạn." in text
    assert await _outcome(bot, job) == [(MADE, 0)]
    await runner.drain_due(SATURDAY + timedelta(minutes=30))
    assert len(fake_zalo.sent) == 1
    assert len(await _stored(bot)) == 1


async def test_an_answer_zalo_refuses_with_ok_false_is_not_handed_over(
    make_bot: BotFactory, fake_zalo: FakeZalo
) -> None:
    bot = make_bot(max_attempts=2)
    bot.engine.notifiers.append(bot)
    fake_zalo.refuse(GROUP_ID)
    await bot.handle_update_safely(update(f"@{BOT_NAME} {REPORT}"))  # the refusal is logged
    assert fake_zalo.sent == []
    assert len(await _stored(bot)) == 1
    assert await _outcome(bot, "answer:zalo:msg-1") == []


async def _outcome(bot: ZaloBot, job_id: str) -> list[tuple[str, int]]:
    async with bot.engine.db.unit_of_work() as uow:
        return [(state, attempts) for _, _, state, attempts, _ in await uow.outbox.outcome(job_id)]
