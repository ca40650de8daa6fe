"""The running scheduler: catch-up after a restart posts once, one leader on PostgreSQL with
take-over, the APScheduler jobs it registers; and the leader's nudge."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.catalogue import Catalogue
from core.chat import Incoming, Recipient, Reply, render_plain
from handlers.engine import Engine
from scheduler.service import SchedulerHandle, start_scheduler
from storage import Database
from tests.scheduler.simulated import GROUP, Run, at, report, variant


class Capture:
    """A chat platform that keeps what it was asked to post."""

    platform = "sim"

    def __init__(self) -> None:
        self.posts: list[tuple[str, str]] = []

    async def post(self, to: Recipient, message: Reply) -> bool:
        self.posts.append((to.key, render_plain(message.blocks)))
        return True

    def starting(self, prefix: str) -> list[str]:
        return [text for _, text in self.posts if text.startswith(prefix)]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def started(
    catalogue: Catalogue, db: Database, notifier: Capture, clock: Clock
) -> SchedulerHandle:
    handle = SchedulerHandle(
        catalogue, db, [notifier], clock=clock, poll_seconds=0.05, realtime=False
    )
    await handle.start()
    return handle


async def test_restart_in_the_middle_of_monday_posts_the_digest_once(
    db: Database, catalogue: Catalogue
) -> None:
    notifier = Capture()
    clock = Clock(at(2024, 11, 18, 9, 30))
    first = await started(catalogue, db, notifier, clock)
    assert first.is_leader
    # Catch-up at 09:30: the 09:00 last call was missed within the grace window.
    assert len(notifier.starting("⏰ Còn")) == 1
    assert notifier.starting("📊 TỔNG HỢP") == []
    await first.stop()

    clock.now = at(2024, 11, 18, 11, 40)  # back after the digest time
    second = await started(catalogue, db, notifier, clock)
    assert len(notifier.starting("📊 TỔNG HỢP BÁO CÁO TUẦN 47/2024")) == 1
    assert len(notifier.starting("⏰ Còn")) == 1  # the last call is not repeated
    await second.stop()

    clock.now = at(2024, 11, 18, 12, 30)
    third = await started(catalogue, db, notifier, clock)
    assert third.posts_made == 0
    assert len(notifier.starting("📊 TỔNG HỢP")) == 1
    await third.stop()


async def test_a_reminder_missed_past_the_due_time_is_dropped(
    db: Database, catalogue: Catalogue
) -> None:
    notifier = Capture()
    handle = await started(catalogue, db, notifier, Clock(at(2024, 11, 18, 10, 5)))
    assert notifier.posts == []  # the 09:00 last call is pointless after 10:00
    await handle.stop()


async def test_a_failed_post_is_retried_by_the_next_run(db: Database, catalogue: Catalogue) -> None:
    class Flaky(Capture):
        fail = True

        async def post(self, to: Recipient, message: Reply) -> bool:
            if self.fail:
                raise ConnectionError("platform down")
            return await super().post(to, message)

    notifier = Flaky()
    clock = Clock(at(2024, 11, 18, 11, 5))
    handle = await started(catalogue, db, notifier, clock)
    assert notifier.posts == []
    await handle.stop()
    notifier.fail = False
    clock.now = at(2024, 11, 18, 11, 10)
    handle = await started(catalogue, db, notifier, clock)
    assert len(notifier.starting("📊 TỔNG HỢP")) == 1
    await handle.stop()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_processes_on_postgresql_one_posts_the_other_takes_over(
    database_url: str, db: Database, catalogue: Catalogue
) -> None:
    other_db = await Database.open(database_url)  # a second process: its own engine
    first_posts, second_posts = Capture(), Capture()
    clock = Clock(at(2024, 11, 18, 9, 30))
    first = await started(catalogue, db, first_posts, clock)
    second = await started(catalogue, other_db, second_posts, clock)
    try:
        assert first.is_leader
        assert not second.is_leader
        assert len(first_posts.starting("⏰ Còn")) == 1
        await asyncio.sleep(0.2)  # several polls: the lock stays with the first
        assert not second.is_leader
        assert second_posts.posts == []

        clock.now = at(2024, 11, 18, 11, 30)
        await first.stop()  # it lets its lease go, as a process stopping cleanly does
        for _ in range(200):
            if second.is_leader:
                break
            await asyncio.sleep(0.05)
        assert second.is_leader
        # The new leader catches up: the digest once, the last call not again.
        assert len(second_posts.starting("📊 TỔNG HỢP")) == 1
        assert second_posts.starting("⏰ Còn") == []
        assert first_posts.starting("📊 TỔNG HỢP") == []
    finally:
        await second.stop()
        await first.stop()
        await other_db.close()


async def test_the_running_scheduler_registers_deterministic_jobs(
    db: Database, catalogue: Catalogue
) -> None:
    class App:
        def __init__(self) -> None:
            self.catalogue = catalogue
            self.db = db

    notifier = Capture()
    handle = await start_scheduler(App(), [notifier], poll_seconds=0.05)
    try:
        assert handle.is_leader
        ids = handle.job_ids()
        assert "plan" in ids
        assert "maintenance" in ids
        now = datetime.now(UTC)
        assert any(i.startswith("digest:nhom_bao_cao:") for i in ids)
        assert any(i.startswith("lastcall:nhom_bao_cao:") for i in ids)
        assert all(i in ("plan", "maintenance") or i.split(":")[1] == "nhom_bao_cao" for i in ids)
        assert now.tzinfo is not None
    finally:
        await handle.stop()


# --- /nhacnho -------------------------------------------------------------------------------


async def test_nudge_rate_limit_and_who_may_nudge(
    db: Database, catalogue: Catalogue, tmp_path: Path
) -> None:
    run = Run(catalogue, db, tmp_path)
    await run.send(at(2024, 11, 16, 9, 0), "cb_binh_long", report(9, 47), GROUP)
    [status] = await run.send(at(2024, 11, 18, 8, 0), "lanh_dao", "/trangthai", GROUP)
    assert status.buttons == (("Nhắc đơn vị chưa báo cáo", "/nhacnho 2024-W47"),)
    [own] = await run.send(at(2024, 11, 18, 8, 1), "cb_binh_long", "/trangthai", GROUP)
    assert own.buttons == ()

    refused = await run.send(at(2024, 11, 18, 8, 2), "cb_binh_long", "/nhacnho", GROUP)
    assert refused[-1].text == "Chỉ lãnh đạo và quản trị viên được dùng lệnh này."

    nudged = await run.send(at(2024, 11, 18, 8, 5), "lanh_dao", "/nhacnho 2024-W47", GROUP)
    group_post, *privates, answer = nudged
    assert group_post.chat == GROUP
    assert group_post.text.startswith("🔔 Lãnh đạo nhắc: 21 đơn vị chưa gửi báo cáo tuần 47/2024")
    assert "• Bình Châu: @Huỳnh Thị Châu" in group_post.text
    assert "Bình Long" not in group_post.text
    assert [p.chat for p in privates] == [
        "cb_binh_chau",
        "cb_binh_thanh",
        "cb_binh_thuan",
        "cb_chau_o",
    ]
    assert answer.text.startswith("Đã nhắc 21 đơn vị: Bình An,")

    # Within the hour: nobody is nudged twice, even by another leader or through /nudge.
    thanh = [u.code for u in catalogue.units].index("binh_thanh")
    await run.send(at(2024, 11, 18, 8, 30), "cb_binh_thanh", report(thanh, 47), GROUP)
    [again] = await run.send(at(2024, 11, 18, 9, 4), "thuong_truc", "/nudge")
    assert again.text.startswith("Đã nhắc trong 60 phút qua, chưa nhắc lại: Bình An,")
    assert "Bình Thanh" not in again.text

    later = await run.send(at(2024, 11, 18, 9, 6), "lanh_dao", "/nhacnho", GROUP)
    assert later[0].text.startswith("🔔 Lãnh đạo nhắc: 20 đơn vị")
    assert later[-1].text.startswith("Đã nhắc 20 đơn vị")


async def test_nudge_without_a_platform_answers_in_the_chat(
    catalogue: Catalogue, db: Database
) -> None:
    engine = Engine(catalogue, db)  # no notifiers: the reminder itself is the answer
    text = "/nhacnho"
    message = Incoming("sim", GROUP, "group", "lanh_dao", "lanh_dao", text, at(2024, 11, 18, 9))
    [answer] = await engine.handle(message)
    assert render_plain(answer.blocks).startswith("🔔 Lãnh đạo nhắc: 22 đơn vị chưa gửi")


async def test_nudge_when_everyone_reported(db: Database, tmp_path: Path) -> None:
    everyone_else = tuple(u.code for u in variant().units if u.code != "binh_long")
    run = Run(variant(exempt=everyone_else), db, tmp_path)
    await run.send(at(2024, 11, 16, 9, 0), "cb_binh_long", report(9, 47), GROUP)
    [status] = await run.send(at(2024, 11, 18, 8, 0), "lanh_dao", "/trangthai", GROUP)
    assert status.buttons == ()
    [answer] = await run.send(at(2024, 11, 18, 8, 5), "lanh_dao", "/nhacnho", GROUP)
    assert answer.text == "✅ Tất cả đơn vị đã báo cáo tuần 47/2024; không cần nhắc."
