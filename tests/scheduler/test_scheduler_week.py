"""A reporting week on the simulator's virtual clock: reminders, last call, late report,
digest; a holiday; quiet hours; exempt units. Real SQLite and PostgreSQL (`db` fixture)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.catalogue import Catalogue
from storage import Database
from tests.scheduler.simulated import GROUP, Run, at, report, reported_week, variant


async def test_week_with_two_missing_at_last_call_one_late_and_the_digest(
    db: Database, catalogue: Catalogue, tmp_path: Path
) -> None:
    run = Run(catalogue, db, tmp_path)
    await reported_week(run, 46, at(2024, 11, 11, 9, 0), ())
    await reported_week(run, 47, at(2024, 11, 16, 9, 0), ("binh_chau", "binh_thanh"))
    thanh = [u.code for u in catalogue.units].index("binh_thanh")
    late = await run.send(at(2024, 11, 18, 10, 30), "cb_binh_thanh", report(thanh, 47), GROUP)
    assert "nộp muộn" in late[-1].text
    await run.until(at(2024, 11, 19, 0, 0))

    posts = run.scheduled(at(2024, 11, 15, 0, 0))
    assert [p.at for p in posts] == sorted(p.at for p in posts)
    (
        early_fri,
        early_mon,
        last_call,
        *private,
    ) = posts[:5]
    assert (early_fri.at, early_fri.chat) == (at(2024, 11, 15, 16, 0), GROUP)
    assert "📢 Nhắc báo cáo tuần 47/2024: hạn nộp 10:00 thứ Hai 18/11/2024." in early_fri.text
    assert "Đã có 0/22 đơn vị báo cáo" in early_fri.text
    assert early_mon.at == at(2024, 11, 18, 7, 30)
    assert "Đã có 20/22 đơn vị báo cáo" in early_mon.text
    assert (last_call.at, last_call.chat) == (at(2024, 11, 18, 9, 0), GROUP)
    assert last_call.text == (
        "⏰ Còn 60 phút đến hạn báo cáo tuần 47/2024 (10:00 thứ Hai 18/11/2024). "
        "2 đơn vị chưa báo cáo:\n• Bình Châu: @Huỳnh Thị Châu\n• Bình Thanh: @Đặng Văn Thanh"
    )
    assert [(p.at, p.chat) for p in private] == [
        (at(2024, 11, 18, 9, 0), "cb_binh_chau"),
        (at(2024, 11, 18, 9, 0), "cb_binh_thanh"),
    ]
    assert private[0].text.startswith("⏰ Xã Bình Châu chưa gửi báo cáo tuần 47/2024")

    digest = [p for p in posts if p.at == at(2024, 11, 18, 11, 0)]
    assert all(p.chat == GROUP for p in digest)
    charts = [Path(p.photo) for p in digest if p.photo]
    # Three messages a phone reads, then the charts with the full tables.
    head, rankings, highlights = (p.text for p in digest if not p.photo)
    # The digest ends with the ranking charts, one per indicator with figures.
    assert digest[-len(charts) :] == [p for p in digest if p.photo]
    assert [c.name for c in charts] == [
        "bieudo_xephang_id_card_6_14_all_2024-W47.png",
        "bieudo_xephang_eid_verified_all_2024-W47.png",
        "bieudo_xephang_eid_activated_all_2024-W47.png",
    ]
    assert all(c.read_bytes().startswith(b"\x89PNG") for c in charts)
    assert head == (
        "📊 TỔNG HỢP BÁO CÁO TUẦN 47/2024 (hạn 10:00 thứ Hai 18/11/2024)\n\n"
        "Đã báo cáo: 21/22 đơn vị (đúng hạn 20, muộn 1); chưa báo cáo: 1.\n\n"
        "⏰ Muộn (1): Bình Thanh\n\n"
        "❌ Chưa báo cáo (1): Bình Châu"
    )
    # Each indicator with figures in a few lines, in the config's order: total, units met,
    # the best and the worst (the full tables are the charts).
    titles = [line for line in rankings.splitlines() if line.endswith(("6-14", "ĐDĐT"))]
    assert titles == ["Căn cước 6-14", "Xác thực ĐDĐT", "Kích hoạt ĐDĐT"]
    verified = rankings.split("Xác thực ĐDĐT\n")[1].split("\n\n")[0]
    assert verified.splitlines()[1].startswith("Đạt chỉ tiêu 80%: ")
    assert "Chưa có số liệu (1): Bình Châu" in verified
    # Châu Ổ (n = 21) rose most: 6.461/7.100 = 91,00% to 6.711/7.100 = 94,52%.
    assert "Cao nhất: Châu Ổ 94,52%" in verified
    assert "Bảng xếp hạng đầy đủ: ảnh bên dưới" in rankings
    assert highlights.startswith(
        "📈 Tiến bộ nhất so với tuần trước:\n"
        "• Châu Ổ: Xác thực ĐDĐT +3,52 điểm %\n"
        "• Bình Đông: Xác thực ĐDĐT +3,43 điểm %\n"
    )
    # Two weeks of figures (one for Bình Châu) are too few for a pace: nobody is said to be
    # at risk yet (core.pace.MIN_PACE_POINTS); the third week decides.
    assert "Đơn vị có nguy cơ" not in highlights
    assert "không đơn vị nào có nguy cơ trễ hạn" in highlights
    # Everything after the digest: nothing repeated.
    assert len([p for p in posts if p.text.startswith("📊 TỔNG HỢP")]) == 1


async def test_holiday_due_date_moves_and_the_group_is_told(
    db: Database, catalogue: Catalogue, tmp_path: Path
) -> None:
    run = Run(catalogue, db, tmp_path)
    await run.send(at(2024, 8, 29, 9, 0), "lanh_dao", "/trangthai", GROUP)
    await run.until(at(2024, 9, 4, 12, 0))
    posts = run.scheduled(at(2024, 8, 29, 9, 0))
    early = posts[0]
    assert early.at == at(2024, 8, 30, 16, 0)
    assert "hạn nộp 10:00 thứ Tư 04/09/2024" in early.text
    assert (
        "📅 Lưu ý: thứ Hai 02/09/2024 là ngày nghỉ lễ, hạn nộp chuyển sang 10:00 thứ Tư 04/09/2024."
        in early.text
    )
    last_call = next(p for p in posts if p.text.startswith("⏰ Còn 60 phút"))
    assert last_call.at == at(2024, 9, 4, 9, 0)
    digest = next(p for p in posts if p.text.startswith("📊 TỔNG HỢP"))
    assert digest.at == at(2024, 9, 4, 11, 0)
    assert "(hạn 10:00 thứ Tư 04/09/2024)" in digest.text
    # A report on the holiday Tuesday is on time for the moved date.
    answer = await run.send(at(2024, 9, 3, 9, 0), "cb_binh_long", report(0, 46), GROUP)
    assert "tuần 36/2024 của Xã Bình Long, đúng hạn." in answer[-1].text


async def test_quiet_hours_post_no_reminder_and_refuse_a_nudge(
    db: Database, tmp_path: Path
) -> None:
    cat = variant({"early_reminders": ["sunday 22:30", "monday 07:30"]})
    run = Run(cat, db, tmp_path)
    await run.send(at(2024, 11, 17, 12, 0), "lanh_dao", "/trangthai", GROUP)
    await run.until(at(2024, 11, 18, 8, 0))
    assert [p.at for p in run.scheduled(at(2024, 11, 17, 12, 0))] == [at(2024, 11, 18, 7, 30)]
    [answer] = await run.send(at(2024, 11, 17, 22, 45), "lanh_dao", "/nhacnho", GROUP)
    assert answer.text.startswith("🌙 Đang trong giờ nghỉ (21:00–07:00)")


@pytest.mark.parametrize(
    "exempted",
    [
        pytest.param({"exempt": ("binh_chau",)}, id="exempt-unit"),
        pytest.param({"excused": [{"unit": "binh_chau", "weeks": ["47/2024"]}]}, id="excused-week"),
    ],
)
async def test_exempt_units_are_never_listed_missing(
    db: Database, tmp_path: Path, exempted: dict[str, Any]
) -> None:
    cat = variant(**exempted)
    run = Run(cat, db, tmp_path)
    await reported_week(run, 47, at(2024, 11, 16, 9, 0), ("binh_chau", "binh_thanh"))
    await run.until(at(2024, 11, 18, 12, 0))
    posts = run.scheduled(at(2024, 11, 16, 9, 0))
    last_call = next(p for p in posts if p.text.startswith("⏰ Còn 60 phút"))
    assert "1 đơn vị chưa báo cáo:\n• Bình Thanh: @Đặng Văn Thanh" in last_call.text
    assert "cb_binh_chau" not in [p.chat for p in posts]
    assert "Bình Châu" not in "\n".join(p.text for p in posts)
    nudged = await run.send(at(2024, 11, 18, 13, 0), "lanh_dao", "/nhacnho", GROUP)
    assert "Bình Châu" not in "\n".join(p.text for p in nudged)
    [status] = await run.send(at(2024, 11, 18, 13, 1), "lanh_dao", "/trangthai", GROUP)
    assert "❌ Chưa báo cáo (1): Bình Thanh" in status.text
    assert "Đã báo cáo: 20/21 đơn vị" in status.text
    ranking = await run.send(at(2024, 11, 18, 13, 2), "lanh_dao", "/xephang Xác thực ĐDĐT", GROUP)
    assert "Chưa có số liệu (1): Bình Thanh" in "\n".join(p.text for p in ranking)
