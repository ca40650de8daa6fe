"""The real python-telegram-bot application against a fake Bot API server over real HTTP.

Every assertion is on what the server received (or on the database), never on our own calls.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from bot.telegram import texts as tg_texts
from bot.telegram.bot import TelegramBot, TelegramSettings
from bot.telegram.html import to_html
from bot.web import WebServer
from core import messages as msg
from core.catalogue import Catalogue, build_catalogue
from core.chat import Reply, Table, Text, render_plain
from handlers.engine import Engine
from storage import Database
from testing.fake_telegram import (
    BOT_USERNAME,
    TOKEN,
    FakeBotApi,
    button_update,
    html_problem,
    parsed,
    text_update,
)
from tests.conftest import CONFIG_PATH

GROUP = -1001234567890
STRANGER_GROUP = -1009999999
LAN, THUAN, LEADER, ADMIN, NOBODY = 1001, 1002, 2001, 3001, 4242
REPORT = (
    "Đã cấp CCCD: 6.352\nĐã xác thực ĐDĐT: 5.014\nĐã kích hoạt ĐDĐT: 4.801\n"
    "Trẻ 6-14 tuổi: 1.240\nĐã cấp Căn cước 6-14 tuổi: 1.117"
)


def telegram_catalogue() -> Catalogue:
    data = tomllib.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    data["chats"]["nhom_bao_cao"]["telegram"] = GROUP
    for person, user_id in (
        ("cb_binh_long", LAN),
        ("cb_binh_thuan", THUAN),
        ("lanh_dao", LEADER),
        ("thuong_truc", ADMIN),
    ):
        data["people"][person]["telegram"] = user_id
    return build_catalogue(data)


@dataclass
class Harness:
    api: FakeBotApi
    bot: TelegramBot
    db: Database
    web: WebServer | None = None

    async def reports(self, unit: str) -> list[Any]:
        """Every stored version of the unit's reports, whatever week they fell in."""
        async with self.db.unit_of_work() as uow:
            found = []
            for period in await uow.submissions.periods_with_reports(10):
                found += await uow.submissions.versions(unit, period)
            return found

    async def said(self, chat: int, needle: str, count: int = 1) -> list[str]:
        await self.api.wait_for(lambda a: sum(needle in t for t in a.texts(chat)) >= count)
        return [t for t in self.api.texts(chat) if needle in t]


async def start_bot(
    api: FakeBotApi, db: Database, catalogue: Catalogue | None = None, **settings: Any
) -> TelegramBot:
    config = TelegramSettings(
        token=TOKEN,
        api_root=api.root,
        poll_timeout_s=1,
        backoff_s=0.01,
        group_per_minute=10_000,
        **settings,
    )
    engine = Engine(catalogue or telegram_catalogue(), db)
    bot = TelegramBot(engine, config)
    engine.notifiers.append(bot)
    await bot.start()
    return bot


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi()
    await api.start()
    yield api
    await api.stop()


@pytest.fixture
async def polling(fake_api: FakeBotApi, db: Database) -> AsyncIterator[Harness]:
    harness = Harness(fake_api, await start_bot(fake_api, db), db)
    yield harness
    await harness.bot.stop()


@pytest.fixture
async def webhook(fake_api: FakeBotApi, db: Database) -> AsyncIterator[Harness]:
    bot = await start_bot(
        fake_api,
        db,
        webhook_url="https://bot.example.vn/telegram/webhook",
        webhook_secret="s3cr3t-Value",
    )
    web = WebServer(port=0)
    web.add_routes(bot.web_routes())
    await web.start()
    harness = Harness(fake_api, bot, db, web)
    yield harness
    await harness.web.stop() if harness.web else None
    await harness.bot.stop()


async def post_update(
    harness: Harness, update: dict[str, Any], secret: str | None = "s3cr3t-Value"
) -> int:
    assert harness.web is not None
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"http://127.0.0.1:{harness.web.port}/telegram/webhook", json=update, headers=headers
        ) as response,
    ):
        return response.status


# --- start-up ---------------------------------------------------------------------------------


async def test_start_registers_vietnamese_menus_for_private_and_group_chats(
    polling: Harness,
) -> None:
    await polling.api.wait_for(lambda a: len(a.sent("setMyCommands")) == 2 and a.sent("getUpdates"))
    menus = {
        c.params["scope"]["type"]: c.params["commands"] for c in polling.api.sent("setMyCommands")
    }
    assert set(menus) == {"all_private_chats", "all_group_chats"}
    assert {"command": "baocao", "description": "Gửi báo cáo tuần"} in menus["all_group_chats"]
    assert all(c["command"].isascii() for m in menus.values() for c in m)
    # Polling: no webhook is set (getWebhookInfo), so none is deleted; getUpdates long-polls.
    methods = [c.method for c in polling.api.calls]
    assert methods.index("getWebhookInfo") < methods.index("getUpdates")
    assert "deleteWebhook" not in methods


# --- reports in the group -----------------------------------------------------------------------


async def test_group_report_with_bot_name_is_stored_and_answered_in_reply(polling: Harness) -> None:
    update = polling.api.push(
        text_update(GROUP, LAN, f"/baocao@{BOT_USERNAME}\n{REPORT}", name="Lan")
    )
    [answer] = await polling.said(GROUP, "Đã nhận báo cáo")
    assert "Xã Bình Long" in answer
    [stored] = await polling.reports("binh_long")
    assert stored.values["citizen_id_issued"] == 6352
    assert stored.sender.platform == "telegram"
    assert stored.sender.user_id == str(LAN)
    call = next(c for c in polling.api.sent() if "Đã nhận báo cáo" in c.params["text"])
    assert call.params["parse_mode"] == "HTML"
    assert call.params["reply_parameters"]["message_id"] == update["message"]["message_id"]


async def test_command_for_another_bot_is_ignored(polling: Harness) -> None:
    polling.api.push(text_update(GROUP, LAN, f"/baocao@OtherBot\n{REPORT}"))
    polling.api.push(text_update(GROUP, LAN, "/trangthai"))
    await polling.said(GROUP, "Tình hình báo cáo")
    assert await polling.reports("binh_long") == []


async def test_refused_report_changes_nothing_and_says_why(polling: Harness) -> None:
    polling.api.push(
        text_update(GROUP, LAN, "/baocao\nĐã cấp CCCD: 6.352\nĐã xác thực ĐDĐT: 9.999")
    )
    [answer] = await polling.said(GROUP, "CHƯA được nhận")
    assert "Đã xác thực ĐDĐT" in answer
    assert await polling.reports("binh_long") == []


async def test_report_as_reply_to_the_bot_and_plain_text_in_private(polling: Harness) -> None:
    polling.api.push(text_update(GROUP, LAN, REPORT, reply_to_bot=True))
    await polling.said(GROUP, "Đã nhận báo cáo")
    polling.api.push(text_update(THUAN, THUAN, REPORT))
    await polling.said(THUAN, "Đã nhận báo cáo")
    assert len(await polling.reports("binh_long")) == 1
    assert len(await polling.reports("binh_thuan")) == 1


async def test_stranger_group_is_refused_without_any_figure(polling: Harness) -> None:
    polling.api.push(text_update(GROUP, LAN, f"/baocao\n{REPORT}"))
    await polling.said(GROUP, "Đã nhận báo cáo")
    for command in ("/trangthai", "/xephang", f"/baocao\n{REPORT}", "/lichsu Bình Long"):
        polling.api.push(text_update(STRANGER_GROUP, LAN, command))
    answers = await polling.said(STRANGER_GROUP, "", count=4)
    assert answers == [parsed(to_html((Text.of(msg.UNKNOWN_GROUP),))[0])] * 4
    assert not any(figure in "".join(answers) for figure in ("6.352", "5.014", "4.801"))
    # Plain chatter in a stranger group gets nothing at all.
    polling.api.push(text_update(STRANGER_GROUP, LAN, "chào cả nhà"))
    polling.api.push(text_update(STRANGER_GROUP, LAN, "/huongdan"))
    await polling.said(STRANGER_GROUP, "", count=5)
    assert len(polling.api.texts(STRANGER_GROUP)) == 5


# --- the step-by-step form --------------------------------------------------------------------


def answers_for(catalogue: Catalogue, base: int) -> list[str]:
    """Answers to the fields a first form asks (the required ones), plausible for the shipped
    rules: children counts a tenth of the cards issued, each count below the one before."""
    return [
        str(base // 10 - n if f.code.startswith("child") else base - n * 10)
        for n, f in enumerate(catalogue.fields)
        if f.required
    ]


async def test_form_for_two_members_at_once_keeps_their_answers_apart(polling: Harness) -> None:
    catalogue = polling.bot.catalogue
    api = polling.api
    required = [f for f in catalogue.fields if f.required]
    api.push(text_update(GROUP, LAN, "/baocao", name="Lan"))
    api.push(text_update(GROUP, THUAN, "/baocao", name="Thuận"))
    await polling.said(GROUP, f"(1/{len(required)})", count=2)
    lan, thuan = answers_for(catalogue, 6000), answers_for(catalogue, 3000)
    for mine, theirs in zip(lan, thuan, strict=True):
        count = len(api.sent())
        api.push(text_update(GROUP, LAN, mine, reply_to_bot=True))
        api.push(text_update(GROUP, THUAN, theirs, reply_to_bot=True))
        # A third member chatting meanwhile is not captured by either form.
        api.push(text_update(GROUP, NOBODY, "999", reply_to_bot=True))
        await api.wait_for(lambda a, c=count: len(a.sent()) >= c + 2)
    summaries = await polling.said(GROUP, "Kiểm tra lại báo cáo", count=2)
    assert any("Xã Bình Long" in s and "Đã cấp CCCD: 6.000" in s for s in summaries)
    assert any("Xã Bình Thuận" in s and "Đã cấp CCCD: 3.000" in s for s in summaries)
    summary_calls = [c for c in api.sent() if "Kiểm tra lại" in c.params["text"]]
    for call in summary_calls:
        keyboard = call.params["reply_markup"]["inline_keyboard"][0]
        assert [b["callback_data"] for b in keyboard] == ["form:send", "form:edit", "form:cancel"]
    # Each presses Gửi on their own form; a member with no form pressing it is refused.
    api.push(button_update(GROUP, LAN, "form:send", message_id=5001))
    await polling.said(GROUP, "Đã nhận báo cáo")
    api.push(button_update(GROUP, NOBODY, "form:send", message_id=5002))
    await api.wait_for(
        lambda a: any(
            c.params.get("text") == tg_texts.BUTTON_NOT_YOURS for c in a.sent("answerCallbackQuery")
        )
    )
    api.push(button_update(GROUP, THUAN, "form:send", message_id=5003))
    await polling.said(GROUP, "Đã nhận báo cáo", count=2)
    [lan_report] = await polling.reports("binh_long")
    [thuan_report] = await polling.reports("binh_thuan")
    codes = [f.code for f in required]
    assert [lan_report.values[c] for c in codes] == [int(a) for a in lan]
    assert [thuan_report.values[c] for c in codes] == [int(a) for a in thuan]
    assert set(lan_report.values) == set(codes)


async def test_form_asks_what_the_unit_reports_with_last_weeks_figures(polling: Harness) -> None:
    api = polling.api
    last_week = datetime.now(UTC) - timedelta(days=7)
    with_btxh = f"{REPORT}\nĐối tượng BTXH: 440\nBTXH chi trả qua tài khoản: 401"
    with_btxh += "\nĐối tượng NCC: 106\nNCC chi trả qua tài khoản: 106"
    api.push(text_update(LAN, LAN, f"/baocao\n{with_btxh}", date=last_week))
    await polling.said(LAN, "Đã nhận báo cáo")
    api.push(text_update(LAN, LAN, "/baocao"))
    [first] = await polling.said(LAN, "(1/9)")  # 5 required + the 4 BTXH/NCC it reports
    assert "Đã cấp CCCD? (lần trước: 6.352)" in first
    answers = ["6.400", "5.100", "4.900", "1.240", "1.130", "445", "405", "106", "106"]
    for n, answer in enumerate(answers, start=1):
        count = len(api.sent())
        api.push(text_update(LAN, LAN, answer))
        await api.wait_for(lambda a, c=count: len(a.sent()) > c)
        if n < len(answers):
            assert f"({n + 1}/9)" in api.texts(LAN)[-1]
    [summary] = await polling.said(LAN, "Kiểm tra lại báo cáo")
    assert "Đối tượng BTXH: 445" in summary
    assert "Trẻ dưới 6 tuổi" not in summary  # never reported, never asked


async def test_form_rejects_a_bad_number_and_cancels_with_huy(polling: Harness) -> None:
    api = polling.api
    api.push(text_update(LAN, LAN, "/baocao"))
    await polling.said(LAN, "(1/")
    api.push(text_update(LAN, LAN, "sáu nghìn"))
    await polling.said(LAN, "không phải là số nguyên")
    api.push(text_update(LAN, LAN, "/huy"))
    await polling.said(LAN, tg_texts.FORM_CANCELLED)
    # After /huy the form is over: a number is just a number again.
    api.push(text_update(LAN, LAN, "6352"))
    await polling.said(LAN, "không hiểu lệnh")
    assert await polling.reports("binh_long") == []


async def test_form_times_out_cleanly(fake_api: FakeBotApi, db: Database) -> None:
    bot = await start_bot(fake_api, db, form_timeout_s=0.5)
    try:
        harness = Harness(fake_api, bot, db)
        fake_api.push(text_update(LAN, LAN, "/baocao"))
        await harness.said(LAN, "(1/")
        await harness.said(LAN, "Quá 1 phút")  # the 0.5 s timeout, in whole minutes
        fake_api.push(text_update(LAN, LAN, "6352"))
        await harness.said(LAN, "không hiểu lệnh")
        assert await harness.reports("binh_long") == []
    finally:
        await bot.stop()


# --- sending ----------------------------------------------------------------------------------


async def test_long_reply_is_split_on_lines_into_valid_messages(polling: Harness) -> None:
    rows = tuple((f"Xã <Số> {n} & co", f"{n},5%") for n in range(120))
    reply = Reply(
        (
            Text.of("Bảng <b>dài</b> & rộng\n" + "dòng chữ\n" * 250),
            Table(("Đơn vị", "Tỉ lệ"), rows, "lr"),
        )
    )
    plain = render_plain(reply.blocks)
    assert len(plain) > 5000
    await polling.bot.send(GROUP, reply)
    calls = polling.api.sent()
    texts = [c.params["text"] for c in calls]
    assert len(texts) >= 2
    assert all(html_problem(t) is None and len(parsed(t)) <= 4096 for t in texts)
    assert [c.status for c in polling.api.calls if c.method == "sendMessage"] == [200] * len(texts)
    # Nothing lost, nothing added: the pieces join back to the plain rendering.
    joined = "\n".join(parsed(t) for t in texts)
    assert [line for line in joined.split("\n") if line] == [
        line for line in plain.split("\n") if line
    ]
    assert "Xã <Số> 119 & co" in joined


async def test_429_then_success_loses_nothing(polling: Harness) -> None:
    polling.api.fail("sendMessage", 429, retry_after=1)
    polling.api.fail("sendMessage", 502, count=2)
    polling.api.push(text_update(GROUP, LAN, f"/baocao\n{REPORT}"))
    await polling.said(GROUP, "Đã nhận báo cáo")
    statuses = [c.status for c in polling.api.calls if c.method == "sendMessage"]
    assert statuses == [429, 502, 502, 200]
    assert len(await polling.reports("binh_long")) == 1


async def test_files_are_sent_as_multipart(polling: Harness, tmp_path: Any) -> None:
    from core.chat import Document, Photo

    png = tmp_path / "chart.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 100)
    sheet = tmp_path / "bao_cao.xlsx"
    sheet.write_bytes(b"PK\x03\x04" + b"y" * 50)
    await polling.bot.send(GROUP, Reply((Photo(png, "Xếp hạng"), Document(sheet, "Số liệu"))))
    [photo] = polling.api.sent("sendPhoto")
    [document] = polling.api.sent("sendDocument")
    assert photo.files["photo"] == png.read_bytes()
    assert photo.params["caption"] == "Xếp hạng"
    assert document.files["document"] == sheet.read_bytes()


async def test_mentions_link_officers_by_their_telegram_id(polling: Harness) -> None:
    from core.chat import Mention

    reply = Reply(
        (
            Text.of(
                "Nhắc ",
                Mention("Lê <Lan>", (("telegram", "1001"),)),
                " và ",
                Mention("Ổ", (("zalo", "z1"),)),
            ),
        )
    )
    await polling.bot.send(GROUP, reply)
    [call] = polling.api.sent()
    assert call.params["text"] == 'Nhắc <a href="tg://user?id=1001">Lê &lt;Lan&gt;</a> và <b>Ổ</b>'


async def test_forged_button_data_is_refused(polling: Harness) -> None:
    async with polling.db.unit_of_work() as uow:
        from core.submission import Sender

        await uow.registrations.add(Sender("telegram", "77", "Ai đó"), "binh_an", "officer", _now())
        await uow.commit()
    polling.api.push(button_update(GROUP, NOBODY, "/duyet 1"))
    await polling.api.wait_for(
        lambda a: any(
            c.params.get("text") == tg_texts.BUTTON_NOT_YOURS for c in a.sent("answerCallbackQuery")
        )
    )
    async with polling.db.unit_of_work() as uow:
        assert len(await uow.registrations.pending()) == 1


# --- webhook ----------------------------------------------------------------------------------


async def test_webhook_mode_sets_the_webhook_and_answers(webhook: Harness) -> None:
    [call] = webhook.api.sent("setWebhook")
    assert call.params["url"] == "https://bot.example.vn/telegram/webhook"
    assert call.params["secret_token"] == "s3cr3t-Value"
    assert not webhook.api.sent("getUpdates")
    assert (
        await post_update(
            webhook, {"update_id": 1, **text_update(GROUP, LAN, f"/baocao\n{REPORT}")}
        )
        == 200
    )
    await webhook.said(GROUP, "Đã nhận báo cáo")


async def test_webhook_refuses_a_wrong_or_missing_secret(webhook: Harness) -> None:
    update = {"update_id": 5, **text_update(GROUP, LAN, f"/baocao\n{REPORT}")}
    assert await post_update(webhook, update, secret="wrong") == 403
    assert await post_update(webhook, update, secret=None) == 401
    assert (
        await post_update(webhook, {"update_id": 6, **text_update(GROUP, LAN, "/trangthai")}) == 200
    )
    await webhook.said(GROUP, "Tình hình báo cáo")
    assert await webhook.reports("binh_long") == []


async def test_duplicate_update_is_handled_once_even_after_a_restart(
    webhook: Harness, fake_api: FakeBotApi
) -> None:
    update = {"update_id": 42, **text_update(GROUP, LAN, f"/baocao\n{REPORT}")}
    assert await post_update(webhook, update) == 200
    await webhook.said(GROUP, "Đã nhận báo cáo")
    assert await post_update(webhook, update) == 200  # a webhook retry
    # A new process (nothing in memory) gets the same update again.
    await webhook.bot.stop()
    webhook.bot = await start_bot(
        fake_api,
        webhook.db,
        webhook_url="https://bot.example.vn/telegram/webhook",
        webhook_secret="s3cr3t-Value",
    )
    assert webhook.web is not None
    await webhook.web.stop()
    webhook.web = WebServer(port=0)
    webhook.web.add_routes(webhook.bot.web_routes())
    await webhook.web.start()
    assert await post_update(webhook, update) == 200
    assert (
        await post_update(webhook, {"update_id": 43, **text_update(GROUP, LAN, "/trangthai")})
        == 200
    )
    await webhook.said(GROUP, "Tình hình báo cáo")
    assert len(webhook.api.texts(GROUP)) == 2
    assert len(await webhook.reports("binh_long")) == 1


# --- secrets ----------------------------------------------------------------------------------


async def test_token_never_reaches_the_logs(
    fake_api: FakeBotApi, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_api.fail("sendMessage", 502, count=1)
    bot = await start_bot(fake_api, db)
    try:
        harness = Harness(fake_api, bot, db)
        fake_api.push(text_update(GROUP, LAN, f"/baocao\n{REPORT}"))
        await harness.said(GROUP, "Đã nhận báo cáo")
    finally:
        await bot.stop()
    assert any("sendMessage" in r.getMessage() for r in caplog.records)
    assert TOKEN.split(":")[1] not in caplog.text
    assert TOKEN not in caplog.text


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def test_run_serves_telegram_until_stopped(fake_api: FakeBotApi, tmp_path: Any) -> None:
    import asyncio

    from pydantic import SecretStr

    from bot.runtime import serve
    from bot.settings import Settings

    config = tmp_path / "config.toml"
    text = CONFIG_PATH.read_text("utf-8").replace(
        "# telegram = -1001234567890", f"telegram = {GROUP}"
    )
    config.write_text(text, "utf-8")
    settings = Settings(
        telegram_bot_token=SecretStr(TOKEN),
        telegram_api_base_url=fake_api.root,
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        config_path=config,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop=stop))
    fake_api.push(text_update(GROUP, LAN, "/trangthai"))
    try:
        # Lan has no Telegram id in this config: the bot answers her as a stranger.
        await fake_api.wait_for(lambda a: any("/dangky" in t for t in a.texts(GROUP)))
    finally:
        stop.set()
    await asyncio.wait_for(task, 15)


async def test_status_button_nudges_only_when_a_leader_presses_it(polling: Harness) -> None:
    from zoneinfo import ZoneInfo

    monday = datetime(2024, 11, 18, 8, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    polling.bot.engine.clock = lambda: monday
    api = polling.api
    api.push(text_update(GROUP, LEADER, "/trangthai", date=monday))
    await polling.said(GROUP, "Tình hình báo cáo")
    [status] = [c for c in api.sent() if "Tình hình báo cáo" in c.params["text"]]
    [[button]] = status.params["reply_markup"]["inline_keyboard"]
    assert button["text"] == msg.NUDGE_BUTTON
    assert button["callback_data"] == "/nhacnho 2024-W47"
    # An officer pressing the leader's button is checked like one typing the command.
    api.push(button_update(GROUP, LAN, button["callback_data"], date=monday))
    await polling.said(GROUP, msg.LEADERS_ONLY)
    assert not api.texts(LAN)
    api.push(button_update(GROUP, LEADER, button["callback_data"], date=monday))
    [nudge] = await polling.said(GROUP, "Lãnh đạo nhắc")
    assert f'• Bình Long: <a href="tg://user?id={LAN}">Lê Thị Lan</a>' in nudge
    [call] = [c for c in api.sent() if "Lãnh đạo nhắc" in c.params["text"]]
    assert f'<a href="tg://user?id={LAN}">' in call.params["text"]
    await polling.said(LAN, "")  # and Lan hears it in private too
    await polling.said(GROUP, "Đã nhắc")


async def test_supplied_text_is_shown_literally_in_html(fake_api: FakeBotApi, db: Database) -> None:
    """A unit name from the config and text from a user, full of HTML and command look-alikes,
    reach the chat exactly as written (escaped), inside and outside <pre> tables."""
    data = tomllib.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    data["chats"]["nhom_bao_cao"]["telegram"] = GROUP
    data["people"]["lanh_dao"]["telegram"] = LEADER
    data["people"]["cb_binh_long"]["telegram"] = LAN
    hostile = "Xã <b>Bình</b> & </pre> /duyet 1"
    data["units"][[u["code"] for u in data["units"]].index("binh_long")]["name"] = hostile
    engine = Engine(build_catalogue(data), db)
    bot = TelegramBot(
        engine, TelegramSettings(token=TOKEN, api_root=fake_api.root, poll_timeout_s=1)
    )
    await bot.start()
    try:
        harness = Harness(fake_api, bot, db)
        fake_api.push(text_update(GROUP, LAN, f"/baocao\n{REPORT}"))
        fake_api.push(text_update(GROUP, LAN, "/baocao\n<i>Đã cấp</i> & </pre>: 5"))
        fake_api.push(text_update(GROUP, LEADER, "/xephang Xác thực ĐDĐT"))
        await harness.said(GROUP, "", count=4)
        # The full table (names not shortened to fit a phone) is the private one; asked once
        # the reports are in (chats are served concurrently).
        fake_api.push(text_update(LEADER, LEADER, "/xephang Xác thực ĐDĐT"))
        await harness.said(LEADER, "<pre>")
    finally:
        await bot.stop()
    calls = fake_api.sent()
    assert all(html_problem(c.params["text"]) is None for c in calls)
    shown = [parsed(text) for text in fake_api.texts(GROUP)]
    assert hostile in shown[0]  # "Đã nhận báo cáo … của Xã <b>Bình</b> & </pre> /duyet 1"
    assert "<i>Đã cấp</i> & </pre>" in shown[1]
    [group] = [t for t in fake_api.texts(GROUP) if "<pre>" in t]
    assert "&lt;b&gt;Bình&lt;/b&gt; &amp;" in group  # cut to 34 columns, still escaped
    [ranking] = [t for t in fake_api.texts(LEADER) if "<pre>" in t]
    assert "&lt;b&gt;Bình&lt;/b&gt; &amp; &lt;/pre&gt;" in ranking
