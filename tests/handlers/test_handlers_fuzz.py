"""Hostile input through the whole handler path: nothing escapes, every answer is Vietnamese,
and a refused report leaves the database as it was."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.catalogue import Catalogue
from core.chat import Incoming, render_plain
from handlers.engine import Engine
from storage import Database

VIETNAMESE = re.compile(
    r"[ạảãàáâậầấẩẫăắằặẳẵóòọõỏôộổỗồốơờớợởỡéèẻẹẽêếềệểễúùụủũưựữửừứíìịỉĩýỳỷỵỹđ]", re.I
)
LABELS = ["Đã cấp CCCD", "Đã xác thực ĐDĐT", "Đã kích hoạt ĐDĐT", "Trẻ 6-14 tuổi", "Đơn vị", "Tuần"]
HOSTILE = [
    "",
    "1e9",
    "NaN",
    "-0",
    "٣٤٥",
    "1.2.3",
    "99999999999999999999999",
    "6,35",
    "-5",
    "'; DROP TABLE submissions; --",
    "<b>x</b>",
    "</pre>",
    "&amp;",
    "\u200b12\u200b",
    "\u202e123",
    "😀",
    "Bình Thạnh",
    "Binh Thanh",
    "/baocao",
    "@all",
]
value = st.one_of(st.sampled_from(HOSTILE), st.integers(-10, 10**12).map(str), st.text(max_size=12))
line = st.builds(
    lambda k, v, sep: f"{k}{sep}{v}",
    st.sampled_from(LABELS) | st.text(max_size=15),
    value,
    st.sampled_from([": ", "=", " - ", " "]),
)
message = st.one_of(
    st.builds(lambda lines: "/baocao\n" + "\n".join(lines), st.lists(line, max_size=12)),
    st.builds(
        lambda cmd, rest: cmd + rest,
        st.sampled_from(
            [
                "/baocao",
                "/xephang ",
                "/tiendo ",
                "/lichsu ",
                "/dangky ",
                "/duyet ",
                "/mau ",
                "/trangthai ",
                "/xacnhan",
                "/huy",
                "/x",
            ]
        ),
        st.text(max_size=40),
    ),
    st.text(max_size=200),
    st.just("x: 1\n" * 1000),
    st.just("A" * 100_000),
)
users = st.sampled_from(["cb_binh_long", "thuong_truc", "lanh_dao", "nguoi_la"])
chats = st.sampled_from([("nhom_bao_cao", "group"), ("nhom_la", "group"), ("rieng", "private")])


def test_no_input_makes_the_engine_raise_or_change_data_when_refused(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    loop = asyncio.new_event_loop()
    db = loop.run_until_complete(Database.open(f"sqlite:///{tmp_path / 'fuzz.db'}"))
    engine = Engine(catalogue, db)
    at = datetime(2024, 11, 16, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))

    async def snapshot() -> tuple[int, int]:
        async with db.unit_of_work() as uow:
            versions = await uow.submissions.versions("binh_long", "2024-W47")
            pending = await uow.pending.get("sim", "cb_binh_long")
            return len(versions), int(pending is not None)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(text=message, user=users, chat=chats)
    def run(text: str, user: str, chat: tuple[str, str]) -> None:
        before = loop.run_until_complete(snapshot())
        incoming = Incoming("sim", chat[0], chat[1], user, user, text, at)  # type: ignore[arg-type]
        replies = loop.run_until_complete(engine.handle(incoming))
        for reply in replies:
            text_out = render_plain(reply.blocks)
            assert text_out.strip()
            assert VIETNAMESE.search(text_out) or text_out.startswith("/baocao"), text_out
            assert len(text_out) < 8000
        answered = "\n".join(render_plain(r.blocks) for r in replies)
        changed = ("✅ Đã nhận", "CHƯA được lưu", "Đã hủy báo cáo")  # the answers that change data
        if not any(words in answered for words in changed):
            assert loop.run_until_complete(snapshot()) == before

    try:
        run()
    finally:
        loop.run_until_complete(db.close())
        loop.close()
