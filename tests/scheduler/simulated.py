"""A simulated chat on the virtual clock, shared by the scheduler tests."""

from __future__ import annotations

import copy
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.simulator import Post, Simulator, Step
from core.catalogue import Catalogue, build_catalogue
from handlers.engine import Engine
from storage import Database

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CONFIG = Path(__file__).resolve().parents[2] / "config" / "binh_son.toml"
RAW: dict[str, Any] = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
GROUP = "nhom_bao_cao"


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)  # type: ignore[misc]


def variant(
    schedule: dict[str, Any] | None = None,
    exempt: tuple[str, ...] = (),
    excused: list[dict[str, Any]] | None = None,
) -> Catalogue:
    data = copy.deepcopy(RAW)
    if excused is not None:
        data["calendar"]["excused"] = excused
    if schedule is not None:
        data["schedule"] = schedule
    for unit in data["units"]:
        if unit["code"] in exempt:
            unit["exempt"] = True
    return build_catalogue(data)


def report(n: int, week: int, unit: str = "") -> str:
    """Figures of the n-th unit for a week: each unit rises a little more than the one before."""
    issued = 5000 + 100 * n
    verified = issued * (70 + n) // 100 + (week - 46) * (40 + 10 * n)
    head = f"/baocao\nĐơn vị: {unit}" if unit else "/baocao"
    return (
        f"{head}\nĐã cấp CCCD: {issued}\nĐã xác thực ĐDĐT: {verified}\n"
        f"Đã kích hoạt ĐDĐT: {verified * 9 // 10}\nTrẻ 6-14 tuổi: 1000\n"
        f"Đã cấp Căn cước 6-14 tuổi: {300 + 10 * n + (week - 46) * (5 + n)}"
    )


class Run:
    def __init__(self, catalogue: Catalogue, db: Database, tmp: Path) -> None:
        self.catalogue = catalogue
        self.sim = Simulator(Engine(catalogue, db), tmp)
        self.posts: list[Post] = []
        self.line = 0

    async def send(self, when: datetime, user: str, text: str, chat: str = "") -> list[Post]:
        self.line += 1
        chat = chat or user
        kind = "group" if chat == GROUP else "private"
        self.posts += await self.sim.advance(when)
        replies = await self.sim.step(Step(self.line, when, chat, user, text, kind))
        self.posts += replies
        return replies

    async def until(self, when: datetime) -> None:
        self.posts += await self.sim.advance(when)

    def scheduled(self, since: datetime) -> list[Post]:
        return [p for p in self.posts if p.in_reply_to == 0 and p.at >= since]


async def reported_week(run: Run, week: int, when: datetime, skip: tuple[str, ...]) -> None:
    for n, unit in enumerate(run.catalogue.units):
        if unit.code not in skip:
            answer = await run.send(when, "thuong_truc", report(n, week, unit.name))
            assert "✅ Đã nhận" in answer[-1].text, answer
