"""Group replies fit a 360-pixel phone: every reply of the demo week, rendered as Telegram
HTML, keeps its monospace lines within 34 characters; rankings, history and the digest keep to
a few messages, at Bình Sơn scale and at national scale."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bench.synthetic import config_data, hierarchy, series
from bot.cli import DEMO_SCENARIO, read_lines
from bot.simulator import Simulator, read_scenario, read_until
from bot.telegram.html import parsed_text, to_html
from core.catalogue import Catalogue, build_catalogue
from core.chat import Block, Document, Incoming, Photo, Recipient, Reply, Table, Text
from core.periods import Period
from handlers import queries
from handlers.digest import compute_digest, digest_replies
from handlers.engine import Engine
from handlers.present import NARROW
from storage import Database
from storage.repositories import ReportedValues
from tests.conftest import CONFIG_PATH

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PRE = re.compile(r"<pre>(.*?)</pre>", re.S)


@dataclass(frozen=True)
class Seen:
    source: str  # the command's first line, or "job" for a scheduled post
    at: datetime
    group: bool
    reply: Reply


def pages(reply: Reply) -> list[str]:
    """The reply's text as Telegram messages (photos and files go on their own)."""
    blocks: tuple[Block, ...] = tuple(
        b for b in reply.blocks if not isinstance(b, Photo | Document)
    )
    return to_html(blocks)


def pre_lines(page: str) -> list[str]:
    return [line for block in PRE.findall(page) for line in parsed_text(block).split("\n")]


async def _demo_week(db: Database, catalogue: Catalogue, out: Path) -> list[Seen]:
    """Every reply and scheduled post of the demo week, with whether it went to a group."""
    engine = Engine(catalogue, db)
    sim = Simulator(engine, out)
    seen: list[Seen] = []
    post = sim.notifier.post

    async def recording_post(to: Recipient, message: Reply) -> bool:
        seen.append(Seen("job", sim.notifier.clock(), to.group, message))
        return await post(to, message)

    handle = engine.handle

    async def recording_handle(message: Incoming) -> list[Reply]:
        replies = await handle(message)
        for r in replies:
            chat = catalogue.chat_by_key(r.chat_id) if r.chat_id else None
            group = chat.kind == "group" if chat else message.chat_type == "group"
            seen.append(Seen(message.text.split("\n")[0], message.sent_at, group, r))
        return replies

    sim.notifier.post = recording_post  # type: ignore[method-assign]
    engine.handle = recording_handle  # type: ignore[method-assign]
    lines = read_lines(DEMO_SCENARIO)
    await sim.run(read_scenario(lines, catalogue), read_until(lines))
    return seen


@pytest.fixture
async def week(db: Database, catalogue: Catalogue, tmp_path: Path) -> list[Seen]:
    return await _demo_week(db, catalogue, tmp_path)


async def test_every_group_reply_of_the_week_fits_a_phone(week: list[Seen]) -> None:
    group = [s for s in week if s.group]
    tables = [s for s in group if any(isinstance(b, Table) for b in s.reply.blocks)]
    # The week has tables in the group (status totals, rankings, history) to check at all.
    assert {s.source.split()[0] for s in tables} >= {"/trangthai", "/xephang", "/lichsu"}
    for s in group:
        for page in pages(s.reply):
            for line in pre_lines(page):
                assert len(line) <= NARROW, f"{s.source}: {line!r}"


async def test_a_ranking_in_the_group_is_at_most_two_messages(week: list[Seen]) -> None:
    rankings = [s for s in week if s.group and s.source.startswith("/xephang")]
    assert rankings
    for s in rankings:
        texts = [parsed_text(p) for p in pages(s.reply)]
        assert 1 <= len(texts) <= 2
        assert "Đơn vị đã hoàn thành chỉ tiêu" in texts[0]
        assert "nhắn riêng /xephang" in texts[-1]


async def test_the_monday_digest_is_three_messages_and_its_charts(week: list[Seen]) -> None:
    mondays = {s.at for s in week if s.source == "job" and "TỔNG HỢP BÁO CÁO" in _text(s.reply)}
    assert len(mondays) == 2  # weeks 46 and 47
    for at in mondays:
        posts = [s.reply for s in week if s.source == "job" and s.at == at]
        messages = [p for r in posts for p in pages(r)]
        assert len(messages) <= 3, [parsed_text(m)[:60] for m in messages]
        assert "Xếp hạng theo chỉ tiêu" in parsed_text(messages[1])
        photos = [b for r in posts for b in r.blocks if isinstance(b, Photo)]
        assert photos  # the full tables, as images


async def test_history_is_narrow(week: list[Seen]) -> None:
    history = [s for s in week if s.source.startswith("/lichsu")]
    lines = [line for s in history for page in pages(s.reply) for line in pre_lines(page)]
    assert lines
    assert max(map(len, lines)) <= NARROW


async def test_history_in_private_is_narrow_too(chat) -> None:
    await chat.send(
        "cb_binh_long",
        "/baocao\nĐã cấp CCCD: 6000\nĐã xác thực ĐDĐT: 4900\nĐã kích hoạt ĐDĐT: 4500\n"
        "Trẻ 6-14 tuổi: 900\nĐã cấp Căn cước 6-14 tuổi: 300",
    )
    [answer] = await chat.replies("lanh_dao", "/lichsu Bình Long", chat="lanh_dao")
    lines = [line for page in pages(answer) for line in pre_lines(page)]
    assert "47/2024  81,67%" in lines
    assert max(map(len, lines)) <= NARROW


async def test_an_officers_ranking_in_the_group_has_no_empty_titles(chat) -> None:
    # Bình Long reports the required figures only: no non-cash payment figures.
    await chat.send(
        "cb_binh_long",
        "/baocao\nĐã cấp CCCD: 6000\nĐã xác thực ĐDĐT: 4900\nĐã kích hoạt ĐDĐT: 4500\n"
        "Trẻ 6-14 tuổi: 900\nĐã cấp Căn cước 6-14 tuổi: 300",
    )
    await chat.send(
        "cb_binh_thuan",
        "/baocao\nĐã cấp CCCD: 6000\nĐã xác thực ĐDĐT: 4700\nĐã kích hoạt ĐDĐT: 4300\n"
        "Trẻ 6-14 tuổi: 900\nĐã cấp Căn cước 6-14 tuổi: 300\nĐối tượng BTXH: 100\n"
        "BTXH chi trả qua tài khoản: 50\nĐối tượng NCC: 10\nNCC chi trả qua tài khoản: 5",
    )
    replies = await chat.replies("cb_binh_long", "/xephang")
    assert len(replies) == 1
    blocks = [b.plain for b in replies[0].blocks if isinstance(b, Text)]
    titles = [n for n, text in enumerate(blocks) if text.startswith("📊")]
    assert len(titles) >= 3
    # Every title has a line of its own under it before the next title.
    for n in titles:
        assert n + 1 < len(blocks), blocks
        assert not blocks[n + 1].startswith("📊"), blocks
    assert "Xã Bình Long: chưa có số liệu chỉ tiêu này trong tuần." in blocks


def test_a_national_digest_is_summarised_in_three_messages() -> None:
    base = tomllib.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    catalogue = build_catalogue(config_data(base, hierarchy(3321)))
    last = Period(2024, 47)
    weekly = series(catalogue, 3, last)
    rows = [ReportedValues(r.period.key, r.unit, r.values, r.late) for w in weekly for r in w]
    weeks = [
        (w[0].period, {r.unit: r.values for r in w}) for w in weekly
    ]  # every week has reports at this scale
    recent = queries.Recent(weeks, rows)
    now = datetime(2024, 11, 18, 11, 0, tzinfo=TZ)
    replies = digest_replies(catalogue, compute_digest(catalogue, recent, last, now))
    messages = [parsed_text(p) for r in replies for p in pages(r)]
    assert len(messages) <= 3
    rankings = messages[1]
    assert "Cao nhất: " in rankings
    assert "Thấp nhất: " in rankings
    assert "Bảng xếp hạng đầy đủ" in rankings  # says where the rest is
    assert "… và " in "\n".join(messages)  # long lists are cut, and say by how much


def _text(reply: Reply) -> str:
    return "\n".join(b.plain for b in reply.blocks if isinstance(b, Text))


async def test_the_workbooks_sender_column_shows_names_not_keys(
    db: Database, catalogue: Catalogue, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    await _demo_week(db, catalogue, tmp_path)
    sheet = load_workbook(tmp_path / "bao_cao_2024-W47.xlsx")["Số liệu gốc"]
    head = [c.value for c in sheet[1]]
    column = head.index("Người gửi")
    senders = {row[column] for row in sheet.iter_rows(min_row=2, values_only=True)}
    # The officer who registered through /dangky, by the name their platform gave.
    assert "Nguyễn Văn Hải" in senders
    keys = {p.key for p in catalogue.people} | {"cb_binh_hai"}
    assert not senders & keys


async def test_every_ranking_at_once_in_the_group_is_one_overview(chat) -> None:
    for officer, verified in (("cb_binh_long", 4900), ("cb_binh_thuan", 4700)):
        await chat.send(
            officer,
            f"/baocao\nĐã cấp CCCD: 6000\nĐã xác thực ĐDĐT: {verified}\n"
            "Đã kích hoạt ĐDĐT: 4300\nTrẻ 6-14 tuổi: 900\nĐã cấp Căn cước 6-14 tuổi: 300",
        )
    [overview] = await chat.replies("lanh_dao", "/xephang")
    [text] = [parsed_text(p) for p in pages(overview)]
    assert text.startswith("🏆 Xếp hạng theo chỉ tiêu — tuần 47/2024")
    assert "Xác thực ĐDĐT\nTổng chung: 9.600/12.000 = 80,00%" in text
    assert "Cao nhất: Bình Long 81,67%, Bình Thuận 78,33%" in text
    assert "/xephang <chỉ tiêu>" in text
    # In private the leader still gets every full table, one message each.
    private = await chat.replies("lanh_dao", "/xephang", chat="lanh_dao")
    assert len(private) > 1
    # The three indicators both units reported have their full tables.
    assert sum(any(isinstance(b, Table) for b in r.blocks) for r in private) == 3
