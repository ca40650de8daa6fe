"""Zalo as its documentation describes it, over real HTTP against the fake Bot API, on SQLite
and PostgreSQL (issue 15): getMe's fields and no display name, mentions stripped wherever
they sit, an idle long poll that is not an error, `ok: false` answers, and private mode (getMe
says `can_join_groups: false`): posts for the Zalo group go to leaders and admins as cards to
forward, nothing to the group."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from zalo_fake import (
    ACCOUNT_NAME,
    ADMIN_ID,
    BOT_NAME,
    GROUP_ID,
    LEADER_ID,
    OFFICER_ID,
    BotFactory,
    FakeZalo,
    Sleeps,
    serve,
    update,
)

from bot.adapter import DeliveryFailed
from bot.cli import simulate_lines
from bot.media import MediaStore, media_routes
from bot.settings import Settings
from bot.zalo.bot import ZaloBot
from core.chat import Incoming, Recipient, reply
from core.schedule import Job, JobKind
from scheduler.jobs import planned, run_job
from storage import Database

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SATURDAY = datetime(2024, 11, 16, 9, 0, tzinfo=TZ)
CARD = "📤 Chuyển tiếp tin này"
REPORT = """Đã cấp CCCD: 6.352
Đã xác thực ĐDĐT: 5.014
Đã kích hoạt ĐDĐT: 4.454
Trẻ 6-14 tuổi: 898
Đã cấp Căn cước 6-14 tuổi: 286"""


def report(n: int) -> str:
    return (
        f"/baocao\nĐã cấp CCCD: {6000 + n}\nĐã xác thực ĐDĐT: {4800 + 7 * n}\n"
        f"Đã kích hoạt ĐDĐT: 4400\nTrẻ 6-14 tuổi: 900\nĐã cấp Căn cước 6-14 tuổi: {280 + n}"
    )


async def _reports_in(bot: ZaloBot) -> None:
    for n, officer in enumerate(("cb_binh_long", "cb_binh_thuan", "cb_chau_o")):
        message = Incoming("sim", "nhom_bao_cao", "group", officer, officer, report(n), SATURDAY)
        [answer] = await bot.engine.handle(message)
        assert "Đã nhận" in answer.blocks[0].plain  # type: ignore[union-attr]


def _job(bot: ZaloBot, kind: JobKind) -> Job:
    end = datetime(2024, 11, 18, 12, 0, tzinfo=TZ)
    return next(j for j in planned(bot.engine.catalogue, SATURDAY, end) if j.kind is kind)


def _to(fake: FakeZalo, chat: str) -> list[str]:
    return [text for c, text in fake.sent if c == chat]


# --- getMe and mentions ---------------------------------------------------------------------


@pytest.mark.parametrize("groups", [False, True])
async def test_start_reads_account_name_and_can_join_groups_and_logs_the_mode(
    make_bot: BotFactory, fake_zalo: FakeZalo, caplog: pytest.LogCaptureFixture, groups: bool
) -> None:
    caplog.set_level(logging.INFO, logger="bot.zalo")
    fake_zalo.can_join_groups = groups
    bot = make_bot(groups=not groups)  # start() must set it from getMe
    bot.bot_name = ""
    await bot.start()
    await bot.stop()
    assert (bot.bot_name, bot.can_join_groups) == (ACCOUNT_NAME, groups)
    modes = [r.getMessage() for r in caplog.records if " mode (getMe" in r.getMessage()]
    assert len(modes) == 1
    if groups:
        assert modes[0].startswith("Zalo group mode")
    else:
        assert modes[0].startswith("Zalo private mode")
        assert "2 leader(s)/admin(s)" in modes[0]  # the leader and the admin with Zalo ids


@pytest.mark.parametrize(
    "text",
    [
        f"@{BOT_NAME} /baocao\n{REPORT}",  # before the command
        f"/baocao @{BOT_NAME}\n{REPORT}",  # after it
        f"@{BOT_NAME}\n/baocao\n{REPORT}",  # alone on the first line
        f"Dạ em gửi ạ\n@{BOT_NAME} /baocao\n{REPORT}",  # on a later line
        f"/baocao\n{REPORT}\n@{BOT_NAME}",  # alone at the end
        f"@{ACCOUNT_NAME} /baocao\n{REPORT}",  # getMe's account_name
    ],
)
async def test_a_mention_is_stripped_wherever_it_sits(
    make_bot: BotFactory, fake_zalo: FakeZalo, text: str
) -> None:
    bot = make_bot()
    await bot.handle_update(update(text))
    [(chat, answer)] = fake_zalo.sent
    assert chat == GROUP_ID
    assert "✅ Đã nhận báo cáo tuần 47/2024 của Xã Bình Long" in answer
    async with bot.engine.db.unit_of_work() as uow:
        [stored] = await uow.submissions.versions("binh_long", "2024-W47")
    assert stored.values["eid_verified"] == 5014
    assert "@" not in stored.raw_text


# --- the long poll ----------------------------------------------------------------------------


@pytest.mark.parametrize("http_status", [200, 408])
async def test_an_idle_poll_is_no_error_and_never_backs_off(
    make_bot: BotFactory,
    fake_zalo: FakeZalo,
    sleeps: Sleeps,
    caplog: pytest.LogCaptureFixture,
    http_status: int,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_zalo.idle_status = http_status
    bot = make_bot(groups=False)
    poller = asyncio.create_task(bot.poll_forever())
    try:
        while fake_zalo.methods().count("getUpdates") < 4:
            await asyncio.wait_for(fake_zalo.drained.wait(), 10)
            fake_zalo.drained.clear()
        fake_zalo.updates.append(
            update("/huongdan", message_id="idle-1", user=LEADER_ID, chat=LEADER_ID, group=False)
        )
        await asyncio.wait_for(fake_zalo.drained.wait(), 10)
    finally:
        poller.cancel()
        await asyncio.gather(poller, return_exceptions=True)
    # Nothing above DEBUG (httpx's request lines aside: `bot.logs` keeps them under WARNING),
    # the normal interval between polls, and the loop still answers.
    ours = [r for r in caplog.records if r.name != "httpx"]
    assert [r.getMessage() for r in ours if r.levelno > logging.DEBUG] == []
    assert "Zalo getUpdates: nothing arrived" in caplog.text
    assert set(sleeps.asked) == {bot.poll_interval}
    assert len(_to(fake_zalo, LEADER_ID)) == 1


async def test_other_ok_false_answers_to_a_poll_are_errors_with_backoff(
    make_bot: BotFactory, fake_zalo: FakeZalo, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    # HTTP 200 with ok: false (the documented envelope): 401 "Unauthorized" is an error.
    for _ in range(2):
        fake_zalo.answer(
            "getUpdates", 200, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        )
    bot = make_bot(groups=False)
    poller = asyncio.create_task(bot.poll_forever())
    try:
        await asyncio.wait_for(fake_zalo.drained.wait(), 10)
    finally:
        poller.cancel()
        await asyncio.gather(poller, return_exceptions=True)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2
    assert all("Unauthorized" in r.getMessage() for r in errors)
    assert sleeps.asked[:2] == [1.0, 2.0]


async def test_a_408_to_a_send_is_a_refusal_not_an_empty_poll(
    make_bot: BotFactory, fake_zalo: FakeZalo
) -> None:
    fake_zalo.answer(
        "sendMessage", 200, {"ok": False, "error_code": 408, "description": "Request timeout"}
    )
    bot = make_bot(groups=False)
    leader = Recipient("lanh_dao", "Duy", (("zalo", LEADER_ID),), group=False)
    with pytest.raises(DeliveryFailed, match="Request timeout"):
        await bot.post(leader, reply("Tin"))
    assert fake_zalo.sent == []


# --- private mode -----------------------------------------------------------------------------


async def test_private_mode_sends_the_digest_to_leaders_and_admins_as_cards(
    make_bot: BotFactory, fake_zalo: FakeZalo, db: Database, tmp_path: Path
) -> None:
    store = MediaStore("http://placeholder", db)
    runner, base = await serve(media_routes(store))
    store.public_base_url = base
    try:
        bot = make_bot(media=store, groups=False)
        await _reports_in(bot)
        digest = _job(bot, JobKind.DIGEST)
        catalogue = bot.engine.catalogue
        made = await run_job(catalogue, db, [bot], digest, digest.at, files_dir=tmp_path)
        # Run again (a restart's catch-up): made already, nobody gets a second card.
        assert await run_job(catalogue, db, [bot], digest, digest.at, files_dir=tmp_path) == 0
    finally:
        await runner.cleanup()
    assert made >= 3
    assert _to(fake_zalo, GROUP_ID) == []
    assert [c for c, _, _ in fake_zalo.photos if c == GROUP_ID] == []
    leader, admin = _to(fake_zalo, LEADER_ID), _to(fake_zalo, ADMIN_ID)
    assert leader == admin
    assert len(leader) == 1  # one text message ...
    photos = [caption for c, _, caption in fake_zalo.photos if c == LEADER_ID]
    assert photos  # ... and the ranking charts
    first_line, rest = leader[0].split("\n", 1)
    assert first_line == (
        f"📤 Chuyển tiếp tin này và {len(photos)} tin ngay sau vào nhóm "
        "NHÓM BÁO CÁO ĐỀ ÁN 06 HUYỆN BÌNH SƠN."
    )
    assert "TỔNG HỢP BÁO CÁO TUẦN 47/2024" in rest
    assert len([c for c, _, _ in fake_zalo.photos if c == ADMIN_ID]) == len(photos)
    async with db.unit_of_work() as uow:
        sent = await uow.outgoing.count("zalo", "2024-11")
    assert sent == 2 * (1 + len(photos))  # every copy counts against the month


async def test_private_mode_reminders_go_privately_and_the_group_part_as_a_card(
    make_bot: BotFactory, fake_zalo: FakeZalo, db: Database
) -> None:
    bot = make_bot(groups=False)
    last_call = _job(bot, JobKind.LAST_CALL)
    await run_job(bot.engine.catalogue, db, [bot], last_call, last_call.at)
    assert _to(fake_zalo, GROUP_ID) == []
    # The officer with a Zalo id is reminded in private, as in group mode ...
    [private] = _to(fake_zalo, OFFICER_ID)
    assert CARD not in private
    assert "Bình Long" in private
    # ... and the list meant for the group reaches the leader and the admin to forward.
    for relayer in (LEADER_ID, ADMIN_ID):
        [card] = _to(fake_zalo, relayer)
        assert card.startswith(f"{CARD} vào nhóm NHÓM BÁO CÁO ĐỀ ÁN 06 HUYỆN BÌNH SƠN.\n\n")
        assert "Bình Long" in card


async def test_a_card_is_made_once_one_copy_went_and_retried_when_none_did(
    make_bot: BotFactory, fake_zalo: FakeZalo, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    bot = make_bot(groups=False)
    await _reports_in(bot)
    digest = _job(bot, JobKind.DIGEST)
    catalogue = bot.engine.catalogue
    fake_zalo.refuse(LEADER_ID, 400, "Người dùng đã chặn bot")
    fake_zalo.refuse(ADMIN_ID, 400, "Người dùng đã chặn bot")
    assert await run_job(catalogue, db, [bot], digest, digest.at) == 0  # none went: not made
    assert fake_zalo.sent == []
    fake_zalo.allow(ADMIN_ID)
    assert await run_job(catalogue, db, [bot], digest, digest.at) >= 3  # the admin got it
    assert _to(fake_zalo, LEADER_ID) == []
    assert len(_to(fake_zalo, ADMIN_ID)) == 1
    assert "did not reach lanh_dao" in caplog.text
    fake_zalo.allow(LEADER_ID)
    assert await run_job(catalogue, db, [bot], digest, digest.at) == 0  # made: no second copy
    assert len(_to(fake_zalo, ADMIN_ID)) == 1


async def test_private_mode_with_nobody_to_forward_sends_nothing_and_says_so(
    make_bot: BotFactory, fake_zalo: FakeZalo, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    bot = make_bot(groups=False)
    catalogue = bot.engine.catalogue
    people = tuple(
        dataclasses.replace(p, ids={k: v for k, v in p.ids.items() if k != "zalo"})
        if p.role.value != "officer"
        else p
        for p in catalogue.people
    )
    bot.engine.catalogue = dataclasses.replace(catalogue, people=people)
    early = _job(bot, JobKind.EARLY)
    assert await run_job(bot.engine.catalogue, db, [bot], early, early.at) == 0
    assert fake_zalo.sent == []
    assert "nobody to forward the post for group nhom_bao_cao" in caplog.text


# --- the simulator's Zalo in private mode (the demo) -------------------------------------


async def test_the_simulation_shows_zalo_private_mode_as_cards_to_leaders_and_admins(
    tmp_path: Path,
) -> None:
    lines = [
        json.dumps(
            {
                "at": "2024-11-16T09:00:00+07:00",
                "chat": "nhom_bao_cao",
                "user": "cb_binh_long",
                "text": report(0),
            }
        ),
        json.dumps({"until": "2024-11-18T12:00:00+07:00"}),
    ]
    results = await simulate_lines(lines, Settings(), None, None, tmp_path, zalo_private=True)
    posts = [p for _, ps in results for p in ps]
    digest = [p for p in posts if "TỔNG HỢP BÁO CÁO TUẦN 47/2024" in p.text]
    # The group's digest (as on Telegram) and one card each for the leader and the admin.
    assert sorted(p.chat for p in digest) == ["nhom_bao_cao", "zalo:lanh_dao", "zalo:thuong_truc"]
    card = next(p for p in digest if p.chat == "zalo:lanh_dao")
    charts = [p.photo for p in posts if p.chat == "zalo:lanh_dao" and p.at == card.at and p.photo]
    assert charts
    assert card.text.startswith(
        f"📤 Chuyển tiếp tin này và {len(charts)} tin ngay sau vào nhóm "
        "NHÓM BÁO CÁO ĐỀ ÁN 06 HUYỆN BÌNH SƠN.\n\n"
    )
    # Private posts (the officer's own reminders and answers) are not doubled as cards.
    assert not any(p.chat.startswith("zalo:cb_") for p in posts)
