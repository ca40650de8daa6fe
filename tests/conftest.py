"""Database fixtures shared by every test package: `database_url` and an opened `db`."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.catalogue import Catalogue, build_catalogue
from core.chat import Incoming, Reply, render_plain
from handlers.engine import Engine
from storage import Database
from tests.scratch_pg import drop_scratch, postgres_url


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    drop_scratch()


@pytest.fixture(
    params=[pytest.param("sqlite", id="sqlite"), pytest.param("postgresql", id="postgresql")]
)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty database, once per backend; `-k sqlite` picks the fast half."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return await postgres_url()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = await Database.open(database_url)
    try:
        yield database
    finally:
        await database.close()


# --- the engine as a chat, errbot-style: `await chat.send("cb_binh_long", "/trangthai")` -------

CONFIG_PATH = Path(__file__).resolve().parents[1] / "config" / "binh_son.toml"
GROUP = "nhom_bao_cao"
# Saturday before the due Monday 2024-11-18 10:00 (ISO week 47).
SATURDAY = datetime(2024, 11, 16, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


@pytest.fixture(scope="session")
def shipped_catalogue() -> Catalogue:
    """The shipped set-up as it is: weeks close at the end of their late window."""
    return build_catalogue(tomllib.loads(CONFIG_PATH.read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def catalogue(shipped_catalogue: Catalogue) -> Catalogue:
    """The shipped set-up with weeks that never close (`[calendar] close = "never"`): most
    tests fill in past weeks with a `Tuần: 46/2024` line long after their close, which the
    shipped set-up turns into correction requests (tests/handlers/test_handlers_closing.py)."""
    calendar = replace(shipped_catalogue.calendar, close="never")
    return replace(shipped_catalogue, calendar=calendar)


class ChatBot:
    """Drives the real engine and storage through neutral messages on a settable clock."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.now = SATURDAY
        engine.clock = lambda: self.now
        self._count = 0

    async def replies(
        self, user: str, text: str, chat: str = GROUP, chat_type: str | None = None
    ) -> list[Reply]:
        self._count += 1
        kind = chat_type or ("group" if chat == GROUP else "private")
        message = Incoming(
            platform="sim",
            chat_id=chat,
            chat_type=kind,  # type: ignore[arg-type]
            user_id=user,
            user_name=user,
            text=text,
            sent_at=self.now,
            message_id=str(self._count),
        )
        return await self.engine.handle(message)

    async def send(
        self, user: str, text: str, chat: str = GROUP, chat_type: str | None = None
    ) -> str:
        """Everything the bot answered, as plain text, replies separated by a blank line."""
        replies = await self.replies(user, text, chat, chat_type)
        return "\n\n".join(render_plain(r.blocks) for r in replies)

    def at(self, moment: datetime) -> ChatBot:
        self.now = moment
        return self


@pytest.fixture
def chat(db: Database, catalogue: Catalogue) -> ChatBot:
    return ChatBot(Engine(catalogue, db))
