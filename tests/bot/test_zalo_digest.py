"""The weekly digest on Zalo: the same job, compacted into as few messages as it can be."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from zalo_fake import GROUP_ID, BotFactory, FakeZalo

from core.chat import Incoming
from scheduler.jobs import planned, run_job
from storage import Database

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICERS = ("cb_binh_long", "cb_binh_thuan", "cb_chau_o", "cb_binh_thanh")


def report(n: int) -> str:
    return (
        f"/baocao\nĐã cấp CCCD: {6000 + n}\nĐã xác thực ĐDĐT: {4800 + 7 * n}\n"
        f"Đã kích hoạt ĐDĐT: 4400\nTrẻ 6-14 tuổi: 900\nĐã cấp Căn cước 6-14 tuổi: {280 + n}"
    )


async def test_digest_goes_to_zalo_in_fewer_longer_messages(
    make_bot: BotFactory, fake_zalo: FakeZalo, db: Database
) -> None:
    bot = make_bot()
    catalogue = bot.engine.catalogue
    saturday = datetime(2024, 11, 16, 9, 0, tzinfo=TZ)
    for n, officer in enumerate(OFFICERS):
        message = Incoming("sim", "nhom_bao_cao", "group", officer, officer, report(n), saturday)
        [answer] = await bot.engine.handle(message)
        assert "Đã nhận" in answer.blocks[0].plain  # type: ignore[union-attr]
    [digest] = [
        job
        for job in planned(catalogue, saturday, datetime(2024, 11, 18, 12, 0, tzinfo=TZ))
        if job.id.startswith("digest:")
    ]
    made = await run_job(catalogue, db, [bot], digest, digest.at)
    pages = [text for chat, text in fake_zalo.sent if chat == GROUP_ID]
    # Every part of the digest was made (and recorded), in fewer messages than parts, each
    # within Zalo's limit, the parts in order.
    assert made >= 3
    assert 1 <= len(pages) < made
    assert all(len(page) <= 2000 for page in pages)
    text = "\n".join(pages)
    assert text.index("TỔNG HỢP BÁO CÁO TUẦN 47/2024") < text.index("📈")
    # Run again (a restart's catch-up): nothing is posted twice.
    assert await run_job(catalogue, db, [bot], digest, digest.at) == 0
    assert [text for chat, text in fake_zalo.sent if chat == GROUP_ID] == pages
