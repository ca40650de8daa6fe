"""Zalo rendering and the update adapter: plain text, 2000-character pages split on lines,
tables one line per row, mentions stripped, both webhook body shapes."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

from bot.zalo import texts as zalo_texts
from bot.zalo.adapter import NonText, parse_update, strip_mention, unwrap
from bot.zalo.plain import PAGE, paginate, render, render_compact, table_lines
from core import messages as msg
from core.chat import Bold, Incoming, Mention, Photo, Reply, Table, Text, reply

RANK = Table(
    (msg.COL_NO, msg.COL_UNIT, msg.COL_DONE, msg.COL_TOTAL, msg.COL_RATE, msg.COL_CHANGE),
    (("1", "Bình Long", "1.234", "1.250", "98,72%", "+0,50"),),
    "rlrrrr",
    "Đơn vị đạt chỉ tiêu (1)",
)


def test_ranking_table_reads_one_line_per_row_with_the_section_title() -> None:
    assert table_lines(RANK) == [
        "Đơn vị đạt chỉ tiêu (1)",
        "1. Bình Long — 98,72% (1.234/1.250), ±tuần: +0,50",
    ]


def test_other_tables_name_each_column() -> None:
    history = Table((msg.COL_WEEK, "Xác thực", "Kích hoạt"), (("47/2024", "78,94%", "88,83%"),))
    assert table_lines(history) == ["47/2024 — Xác thực: 78,94%, Kích hoạt: 88,83%"]


def test_text_is_plain_mentions_are_at_names_buttons_become_commands() -> None:
    answer = Reply(
        (Text.of(Bold("Nhắc nhở"), " ", Mention("Lê Thị Lan", (("zalo", "u1"),)), " ơi"),),
        buttons=(("Nhắc lại", "/nhacnho 2024-W47"),),
    )
    [page] = render(answer)
    assert page == (
        "Nhắc nhở @Lê Thị Lan ơi\n\n"
        f"{zalo_texts.ZALO_BUTTONS_HINT}\n"
        f"{zalo_texts.zalo_button_line('Nhắc lại', '/nhacnho 2024-W47')}"
    )
    assert "<" not in page


def test_long_text_is_split_on_lines_into_pages_of_at_most_2000_losing_nothing() -> None:
    lines = [f"{n}. Xã {n} — {n % 100},5% ({n * 7}/{n * 8})" + "·" * (n % 37) for n in range(400)]
    pages = paginate("\n".join(lines))
    assert len(pages) > 1
    assert all(len(p) <= PAGE for p in pages)
    assert "\n".join(pages).split("\n") == lines  # every line whole, in order
    # Pages are as full as the next line allows.
    for page, following in itertools.pairwise(pages):
        assert len(page) + 1 + len(following.split("\n")[0]) > PAGE


def test_a_single_overlong_line_is_cut_hard_as_a_last_resort() -> None:
    line = "x" * 4500
    pages = paginate(f"đầu\n{line}\ncuối")
    assert [len(p) for p in pages] == [3, 2000, 2000, 505]
    assert pages[1:3] == ["x" * 2000] * 2
    assert pages[3] == "x" * 500 + "\ncuối"


def test_compact_mode_merges_replies_into_few_pages() -> None:
    replies = [reply(f"Chỉ tiêu {n}: " + "số liệu " * 20) for n in range(10)]
    separate = [page for r in replies for page in render(r)]
    compact = render_compact(replies)
    assert len(separate) == 10
    assert len(compact) == 1
    assert all(f"Chỉ tiêu {n}:" in compact[0] for n in range(10))


def test_photo_captions_go_as_text_only_when_photos_cannot_be_sent() -> None:
    answer = Reply((Text.of("Bảng"), Photo(Path("c.png"), "Biểu đồ xác thực")))
    assert render(answer) == ["Bảng"]
    assert render(answer, captions=True) == ["Bảng\n\nBiểu đồ xác thực"]


def _update(text: str, chat_type: str = "GROUP") -> dict[str, object]:
    return {
        "event_name": "message.text.received",
        "message": {
            "message_id": "abc",
            "date": 1731722400123,
            "chat": {"id": "g1", "chat_type": chat_type},
            "from": {"id": "u1", "display_name": "Lê Thị Lan"},
            "text": text,
        },
    }


def test_group_update_becomes_incoming_with_the_mention_stripped() -> None:
    parsed = parse_update(_update("@Bot Báo Cáo 06 /trangthai"), "Bot Báo Cáo 06")
    assert parsed == Incoming(
        platform="zalo",
        chat_id="g1",
        chat_type="group",
        user_id="u1",
        user_name="Lê Thị Lan",
        text="/trangthai",
        sent_at=datetime(2024, 11, 16, 2, 0, 0, 123000, tzinfo=UTC),
        message_id="abc",
        reply_to_bot=True,
        update_key="abc",
    )


def test_mentions_before_and_after_and_unknown_bot_name() -> None:
    assert strip_mention("@bot báo cáo 06\n/baocao\nA: 1", "Bot Báo Cáo 06") == (
        "/baocao\nA: 1",
        True,
    )
    assert strip_mention("/xephang xác thực @Bot Báo Cáo 06", "Bot Báo Cáo 06") == (
        "/xephang xác thực",
        True,
    )
    assert strip_mention("/baocao @Bot Báo Cáo 06\nA: 1", "Bot Báo Cáo 06") == (
        "/baocao\nA: 1",
        True,
    )
    assert strip_mention("@Tên Khác Của Bot /huongdan", "") == ("/huongdan", True)
    assert strip_mention("@Tên Khác\nĐã cấp CCCD: 1", "Bot") == ("Đã cấp CCCD: 1", True)
    assert strip_mention("@Tên Khác: xin chào", "Bot") == ("@Tên Khác: xin chào", False)
    assert strip_mention("/huongdan", "Bot") == ("/huongdan", False)


def test_a_mention_of_the_name_members_see_goes_wherever_it_sits() -> None:
    # getMe gives only `account_name`; members mention the bot's name, which starts with "Bot".
    account = "bot.VDKyGxQvc"
    assert strip_mention("@Bot Báo Cáo 06 /trangthai", account) == ("/trangthai", True)
    assert strip_mention("/xephang xác thực @Bot Báo Cáo 06", account) == (
        "/xephang xác thực",
        True,
    )
    assert strip_mention("Dạ\n@Bot Báo Cáo 06 /baocao\nA: 1", account) == (
        "Dạ\n/baocao\nA: 1",
        True,
    )
    assert strip_mention("/baocao\nA: 1\n@Bot Báo Cáo 06", account) == ("/baocao\nA: 1", True)
    assert strip_mention("/trangthai @bot.VDKyGxQvc", account) == ("/trangthai", True)
    # Where the name's end cannot be told from a field's, the text is left as it is.
    assert strip_mention("@Bot Báo Cáo 06 Đã cấp CCCD: 1", account) == (
        "@Bot Báo Cáo 06 Đã cấp CCCD: 1",
        False,
    )
    assert strip_mention("/baocao @Botanic", account) == ("/baocao @Botanic", False)


def test_private_text_and_non_text_events() -> None:
    private = parse_update(_update("/huongdan", "PRIVATE"))
    assert isinstance(private, Incoming)
    assert private.chat_type == "private"
    assert not private.reply_to_bot
    sticker = {"event_name": "message.sticker.received", "message": _update("")["message"]}
    assert parse_update(sticker) == NonText(
        "g1", "group", "abc", "message.sticker.received", user_id="u1"
    )
    assert parse_update({"event_name": "user.joined"}) is None


def test_both_body_shapes_unwrap_to_the_same_update() -> None:
    bare = _update("/trangthai")
    assert unwrap(bare) == [bare]
    assert unwrap({"ok": True, "result": bare}) == [bare]
    assert unwrap({"ok": True, "result": [bare, bare]}) == [bare, bare]
    assert unwrap("nonsense") == []


def test_a_narrow_ranking_leads_with_the_rate() -> None:
    # The group's ranking has no counts: the rate still comes first, unnamed.
    narrow = Table(
        (msg.COL_NO, msg.COL_UNIT, msg.COL_RATE, msg.COL_CHANGE),
        (("1", "Bình Long", "78,94%", "+0,64"), ("2", "Bình Thuận", "77,10%", "")),
        "rlrr",
    )
    assert table_lines(narrow) == ["1. Bình Long — 78,94%, ±tuần: +0,64", "2. Bình Thuận — 77,10%"]
