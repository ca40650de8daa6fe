"""Each command's transaction is short: charts and files are drawn with none open, so an
officer's report is answered while a leader's chart is still being drawn; and a platform's
redelivered update is still handled once, whether its command wrote or only read."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from core import messages as msg
from core.chat import Document, Incoming, Photo, Reply, render_plain
from core.submission import Sender
from handlers.context import Actor, Request
from render import charts
from storage.db import create_engine
from tests.conftest import GROUP
from tests.handlers.test_handlers_reports import REPORT, _versions

# Bounds a failing run only (the old engine deadlocks here); a passing run never waits on it.
DEADLOCK = 30


class Drawing:
    """A renderer that, once called, waits (in its worker thread) until the test lets it go."""

    def __init__(self, real: Callable[..., bytes]) -> None:
        self.real = real
        self.started = threading.Event()
        self.released = threading.Event()
        self.released_in_time: list[bool] = []

    def __call__(self, *args: Any) -> bytes:
        self.started.set()
        self.released_in_time.append(self.released.wait(DEADLOCK))
        return self.real(*args)

    async def wait_started(self) -> None:
        assert await asyncio.to_thread(self.started.wait, DEADLOCK), "the renderer never ran"


async def open_transactions(url: str) -> int:
    """Transactions other sessions hold open on the database, seen from outside the bot."""
    if url.startswith("sqlite"):
        # Every unit of work begins IMMEDIATE: an open one holds the write lock.
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.rollback()
            return 0
        except sqlite3.OperationalError:
            return 1
        finally:
            connection.close()
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            count = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
                )
            )
            return int(count or 0)
    finally:
        await engine.dispose()


def _blocks(replies: list[Reply], kind: type) -> list[Any]:
    return [b for r in replies for b in r.blocks if isinstance(b, kind)]


async def test_a_report_is_answered_while_a_chart_is_being_drawn(chat, monkeypatch, tmp_path):
    chat.engine.files_dir = tmp_path
    await chat.send("cb_binh_long", REPORT)
    drawing = Drawing(charts.render_png)
    monkeypatch.setattr(charts, "render_png", drawing)
    chart = asyncio.create_task(chat.replies("lanh_dao", "/bieudo"))
    await drawing.wait_started()
    answer = await chat.send("cb_binh_long", REPORT.replace("6.352", "6.400"))
    drawing.released.set()
    photos = _blocks(await chart, Photo)
    assert "✅ Đã nhận báo cáo tuần 47/2024 của Xã Bình Long" in answer
    assert drawing.released_in_time[0]  # the report came back before the chart was drawn
    assert [v.version for v in await _versions(chat)] == [1, 2]
    assert photos
    assert all(p.path.read_bytes().startswith(b"\x89PNG") for p in photos)


@pytest.mark.parametrize("command", ["/bieudo", "/bieudo xuhuong", "/xuat", "/xuat csv"])
async def test_files_are_built_with_no_transaction_open(
    chat, database_url: str, monkeypatch, tmp_path, command: str
) -> None:
    chat.engine.files_dir = tmp_path
    await chat.send("cb_binh_long", REPORT)
    if command.startswith("/bieudo"):
        drawing = Drawing(charts.render_png)
        monkeypatch.setattr(charts, "render_png", drawing)
    else:
        import render.excel

        name = "csv_bytes" if "csv" in command else "workbook_bytes"
        drawing = Drawing(getattr(render.excel, name))
        monkeypatch.setattr(render.excel, name, drawing)
    task = asyncio.create_task(chat.replies("lanh_dao", command))
    await drawing.wait_started()
    try:
        assert await open_transactions(database_url) == 0
    finally:
        drawing.released.set()
    replies = await task
    assert _blocks(replies, Photo if command.startswith("/bieudo") else Document)


def _incoming(user: str, text: str, key: str, now) -> Incoming:
    return Incoming("sim", GROUP, "group", user, user, text, now, update_key=key)


@pytest.mark.parametrize(
    ("user", "command"),
    [
        ("cb_binh_long", REPORT),  # writes
        ("lanh_dao", "/trangthai"),  # reads
        ("lanh_dao", "/huongdan"),  # needs no database
        ("cb_binh_long", "/baocao\nĐã cấp CCCD: nhiều"),  # refused
        ("lanh_dao", "/duyet 99"),  # refused inside its transaction
    ],
)
async def test_a_redelivered_update_is_handled_once(chat, user: str, command: str) -> None:
    """Handled again (the first handling's worker may have died before its answer was
    sent), an update stores nothing more and is answered again: a command that stored
    something with the answer it kept, any other by running again."""
    message = _incoming(user, command, "u-1", chat.now)
    first = await chat.engine.handle(message)
    assert first
    assert render_plain(first[0].blocks) != msg.INTERNAL_ERROR
    again = await chat.engine.handle(message)
    versions = await _versions(chat)
    assert len(versions) == (1 if command == REPORT else 0)
    assert _said(again) == _said(first)


def _said(replies: list[Reply]) -> list[str]:
    return [render_plain(r.blocks) for r in replies]


async def _registrations(chat) -> list[tuple[str, str]]:
    async with chat.engine.db.unit_of_work() as uow:
        found = await uow.registrations.pending_details(chat.now - timedelta(days=30))
    return [(w.registration.sender.user_id, w.registration.unit) for w in found]


async def test_what_a_command_stored_is_answered_again_when_its_worker_died_before_answering(
    chat,
) -> None:
    """Each command that stores something keeps its answer in its own transaction: a
    handling of the same update begun again (the worker that committed died before the
    answer left) sends that answer, word for word, and stores nothing more."""
    steps = [
        ("cb_binh_long", GROUP, "group", REPORT),  # a first report
        ("cb_binh_long", GROUP, "group", REPORT.replace("6.352", "6.400")),  # a correction
        ("cb_binh_long", GROUP, "group", REPORT.replace("6.352", "6.400")),  # unchanged
        ("nguoi_moi", "nguoi_moi", "private", "/dangky Xã Bình Long"),  # a registration
    ]
    for n, (user, chat_id, kind, said) in enumerate(steps):
        message = Incoming("sim", chat_id, kind, user, user, said, chat.now, update_key=f"k{n}")
        first = await chat.engine.handle(message)
        stored = (await _versions(chat), await _registrations(chat))
        # The worker died here, the commit made and the answer not sent: the update is
        # handled again (the inbox's next look, or the platform's redelivery).
        again = await chat.engine.handle(message)
        assert _said(again) == _said(first), said
        assert (await _versions(chat), await _registrations(chat)) == stored
    versions = await _versions(chat)
    assert [v.values["citizen_id_issued"] for v in versions] == [6352, 6400]
    assert await _registrations(chat) == [("nguoi_moi", "binh_long")]


async def test_a_commands_transactions_never_nest(chat) -> None:
    """On SQLite a nested unit of work would wait for the outer one forever: refused."""
    message = _incoming("x", "/x", "", chat.now)
    actor = Actor(Sender("sim", "x", "x"), None)
    engine = chat.engine
    req = Request(message, actor, "", engine.catalogue, engine.db, "", engine.clock)
    async with req.transaction():
        with pytest.raises(RuntimeError):
            async with req.transaction():
                pass


@pytest.mark.parametrize("command", [REPORT, "/trangthai"])
async def test_an_update_recorded_as_answered_is_not_answered_again(chat, command: str) -> None:
    """Once the adapter recorded the update answered (its replies left), a later delivery
    (Telegram's, after a crash lost the confirmation) gets nothing: neither the kept
    answer nor a second run."""
    user = "cb_binh_long" if command == REPORT else "lanh_dao"
    message = _incoming(user, command, "u-2", chat.now)
    assert await chat.engine.handle(message)
    await chat.engine.answered("sim", "u-2")
    assert await chat.engine.handle(message) == []
    assert len(await _versions(chat)) == (1 if command == REPORT else 0)
