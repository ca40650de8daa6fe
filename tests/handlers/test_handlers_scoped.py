"""Issue 17: a group scoped to some units (`[chats.KEY] areas`) sees only them — its
reminders, last call, /nhacnho, /trangthai, /xephang, /tiendo, charts and digest — while
the unscoped group still sees everything. Real SQLite and PostgreSQL (`db` fixture)."""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.catalogue import Catalogue, build_catalogue
from core.chat import Document, Photo, Recipient, Reply, render_plain
from core.periods import Period
from core.schedule import Job, JobKind
from handlers.engine import Engine
from handlers.reminders import job_posts
from storage import Database
from tests.conftest import CONFIG_PATH, GROUP, ChatBot

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NORTH = ("binh_long", "binh_thuan", "binh_chau")
SCOPED = "cum_bac"
SUMMARY = "tong_hop"
WEEK = Period(2024, 47)


@pytest.fixture(scope="module")
def scoped_catalogue() -> Catalogue:
    data = tomllib.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    for unit in data["units"]:
        if unit["code"] in NORTH:
            unit["areas"] = ["Cụm Bắc"]
    data["chats"][SCOPED] = {"title": "CỤM BẮC", "areas": ["Cụm Bắc"]}
    data["chats"][SUMMARY] = {"title": "TỔNG HỢP", "digest": "summary"}
    return build_catalogue(data)


def _report(verified: int, activated: int, issued: int = 6000) -> str:
    return (
        f"/baocao\nĐã cấp CCCD: {issued}\nĐã xác thực ĐDĐT: {verified}\n"
        f"Đã kích hoạt ĐDĐT: {activated}\nTrẻ 6-14 tuổi: 900\nĐã cấp Căn cước 6-14 tuổi: 300"
    )


@pytest.fixture
async def bot(db: Database, scoped_catalogue: Catalogue) -> ChatBot:
    """Two units of the cluster and one outside it (Châu Ổ) have reported for week 47; the
    cluster's Bình Châu has not."""
    chat = ChatBot(Engine(scoped_catalogue, db))
    assert "✅ Đã nhận báo cáo" in await chat.send("cb_binh_long", _report(4900, 4500))
    assert "✅ Đã nhận báo cáo" in await chat.send("cb_binh_thuan", _report(4700, 4300))
    assert "✅ Đã nhận báo cáo" in await chat.send("cb_chau_o", _report(5900, 5800))
    return chat


async def _scoped(chat: ChatBot, text: str) -> str:
    return await chat.send("lanh_dao", text, chat=SCOPED, chat_type="group")


async def test_status_in_a_scoped_group_counts_and_lists_only_its_units(bot: ChatBot) -> None:
    answer = await _scoped(bot, "/trangthai")
    assert "📍 Phạm vi nhóm: Cụm Bắc (3 đơn vị)." in answer
    assert "Đã báo cáo: 2/3 đơn vị (đúng hạn 2, muộn 0); chưa báo cáo: 1." in answer
    assert "✅ Đúng hạn (2): Bình Long, Bình Thuận" in answer
    assert "❌ Chưa báo cáo (1): Bình Châu" in answer
    assert "Châu Ổ" not in answer
    assert "Tổng hợp địa bàn Cụm Bắc đã báo cáo" in answer
    # The unscoped group: the whole set-up, as before, and no scope line.
    whole = await bot.send("lanh_dao", "/trangthai")
    assert "Đã báo cáo: 3/22 đơn vị (đúng hạn 3, muộn 0); chưa báo cáo: 19." in whole
    assert "Phạm vi nhóm" not in whole


async def test_ranking_and_pace_in_a_scoped_group_cover_only_its_units(bot: ChatBot) -> None:
    ranking = await _scoped(bot, "/xephang")
    assert "Bình Long 81,67%" in ranking
    assert "Châu Ổ" not in ranking
    whole = await bot.send("lanh_dao", "/xephang")
    assert "Châu Ổ 98,33%" in whole
    pace = await _scoped(bot, "/tiendo")
    assert "Tiến độ đến hạn — địa bàn Cụm Bắc" in pace
    assert "Châu Ổ" not in pace
    # A unit outside the scope is not found there.
    assert await _scoped(bot, "/tiendo Châu Ổ") == "Không tìm thấy đơn vị “Châu Ổ”."


async def test_nudge_in_a_scoped_group_names_only_its_missing_units(bot: ChatBot) -> None:
    answer = await _scoped(bot, "/nhacnho")
    assert "1 đơn vị chưa gửi báo cáo tuần 47/2024" in answer
    assert answer.endswith(":\n• Bình Châu: @Huỳnh Thị Châu")  # not Bình An, outside it


async def test_the_scoped_group_scheduled_posts_and_digest_cover_its_units(
    bot: ChatBot, db: Database, scoped_catalogue: Catalogue, tmp_path: Path
) -> None:
    cat = scoped_catalogue
    early_at = datetime(2024, 11, 18, 7, 30, tzinfo=TZ)
    [early] = await job_posts(cat, db, Job(early_at, JobKind.EARLY, SCOPED, WEEK), early_at)
    assert "Đã có 2/3 đơn vị báo cáo" in render_plain(early.message.blocks)
    call_at = datetime(2024, 11, 18, 9, 0, tzinfo=TZ)
    posts = await job_posts(cat, db, Job(call_at, JobKind.LAST_CALL, SCOPED, WEEK), call_at)
    # The group post names the cluster's one missing unit; its officer alone gets a private one.
    assert [(p.to.key, p.to.group) for p in posts] == [(SCOPED, True), ("cb_binh_chau", False)]
    group_text = render_plain(posts[0].message.blocks)
    assert "1 đơn vị chưa báo cáo:\n• Bình Châu: @Huỳnh Thị Châu" in group_text
    # The unscoped group's last call still names the 19 units of the whole set-up.
    whole = await job_posts(cat, db, Job(call_at, JobKind.LAST_CALL, GROUP, WEEK), call_at)
    assert "19 đơn vị chưa báo cáo" in render_plain(whole[0].message.blocks)
    # The summary group's counts them per area, and messages no officer.
    [summary] = await job_posts(cat, db, Job(call_at, JobKind.LAST_CALL, SUMMARY, WEEK), call_at)
    assert summary.to.key == SUMMARY
    assert render_plain(summary.message.blocks).endswith(
        "19 đơn vị chưa báo cáo, theo địa bàn:\n• Chưa xếp địa bàn: 19"
    )

    digest_at = datetime(2024, 11, 18, 14, 0, tzinfo=TZ)
    job = Job(digest_at, JobKind.DIGEST, SCOPED, WEEK)
    digest = await job_posts(cat, db, job, digest_at, tmp_path)
    texts = [render_plain(p.message.blocks) for p in digest]
    assert all(p.to.key == SCOPED for p in digest)
    assert "📍 Phạm vi nhóm: Cụm Bắc (3 đơn vị)." in texts[0]
    assert "Đã báo cáo: 2/3 đơn vị (đúng hạn 2, muộn 0); chưa báo cáo: 1." in texts[0]
    assert "Bình Long" in "\n".join(texts)
    assert all("Châu Ổ" not in t for t in texts)
    # Its charts are drawn under its own names (several groups' digests run at once) and
    # hold its own units.
    photos = [b for p in digest for b in p.message.blocks if isinstance(b, Photo)]
    assert photos
    assert all(f"_{SCOPED}_" in p.path.name for p in photos)


async def test_charts_and_files_asked_in_a_scoped_group_are_its_own(bot: ChatBot) -> None:
    [chart] = await bot.replies("lanh_dao", "/bieudo xác thực", chat=SCOPED, chat_type="group")
    photos = [b for b in chart.blocks if isinstance(b, Photo)]
    assert photos
    # Named after the chat: another group's chart of the same indicator is another file.
    assert all(p.path.name.startswith(f"bieudo_xephang_eid_verified_{SCOPED}_") for p in photos)
    [answer] = await bot.replies("lanh_dao", "/xuat csv", chat=SCOPED, chat_type="group")
    [document] = answer.blocks
    assert isinstance(document, Document)
    assert document.path.name == f"bao_cao_2024-W47_{SCOPED}.csv"
    rows = document.path.read_bytes().decode("utf-8-sig")
    assert "Xã Bình Long" in rows
    assert "Xã Bình Thuận" in rows
    assert "Châu Ổ" not in rows
    # The unscoped group's file keeps its name and every unit.
    [whole] = await bot.replies("lanh_dao", "/xuat csv")
    [document] = whole.blocks
    assert isinstance(document, Document)
    assert document.path.name == "bao_cao_2024-W47.csv"
    assert "Châu Ổ" in document.path.read_bytes().decode("utf-8-sig")


class Capture:
    platform = "sim"

    def __init__(self) -> None:
        self.posts: list[tuple[Recipient, str]] = []

    async def post(self, to: Recipient, message: Reply) -> bool:
        self.posts.append((to, render_plain(message.blocks)))
        return True


async def test_a_nudge_from_a_private_chat_gives_each_group_its_own_units(
    db: Database, scoped_catalogue: Catalogue
) -> None:
    capture = Capture()
    bot = ChatBot(Engine(scoped_catalogue, db, notifiers=[capture]))
    await bot.send("cb_binh_long", _report(4900, 4500))
    await bot.send("cb_binh_thuan", _report(4700, 4300))
    await bot.send("cb_chau_o", _report(5900, 5800))
    answer = await bot.send("lanh_dao", "/nhacnho", chat="lanh_dao")
    assert answer.startswith("Đã nhắc")
    groups = {to.key: text for to, text in capture.posts if to.group}
    assert set(groups) == {GROUP, SCOPED, SUMMARY}
    # The whole set-up's group names its 19 missing units, as before ...
    assert "19 đơn vị chưa gửi báo cáo" in groups[GROUP]
    assert "• Bình An" in groups[GROUP]
    # ... the cluster's group only its own ...
    assert "1 đơn vị chưa gửi báo cáo" in groups[SCOPED]
    assert groups[SCOPED].endswith(":\n• Bình Châu: @Huỳnh Thị Châu")
    # ... and the summary group counts them per area, naming none.
    assert groups[SUMMARY].endswith(":\n• Chưa xếp địa bàn: 19")
    # Each missing unit's officer is told once, privately.
    private = [to.key for to, _ in capture.posts if not to.group]
    assert sorted(private) == ["cb_binh_chau", "cb_binh_thanh"]
