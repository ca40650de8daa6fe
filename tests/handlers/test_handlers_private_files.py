"""Charts and exports are written where only the bot's user can read them: a private
directory of the process's own (0700, an unguessable name), files 0600, never through a
planted symbolic link; each file deleted once sent (`files.release`: the platforms' tests in
tests/bot/test_files_released.py), the directory when the bot closes (issue 19, files)."""

from __future__ import annotations

import stat
from pathlib import Path

from core.chat import Document, Photo, Reply
from handlers import files
from handlers.engine import Engine
from tests.conftest import ChatBot

REPORT = (
    "/baocao\nĐã cấp CCCD: 6.352\nĐã xác thực ĐDĐT: 5.014\nĐã kích hoạt ĐDĐT: 4.454\n"
    "Trẻ 6-14 tuổi: 898\nĐã cấp Căn cước 6-14 tuổi: 286"
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


async def _files(chat: ChatBot, command: str) -> list[Path]:
    replies = await chat.replies("lanh_dao", command, chat="dm_lead", chat_type="private")
    return [b.path for r in replies for b in r.blocks if isinstance(b, Photo | Document)]


async def test_files_go_to_a_private_directory_removed_at_close(chat: ChatBot) -> None:
    assert await chat.send("cb_binh_long", REPORT) != ""
    written = await _files(chat, "/xuat csv") + await _files(chat, "/bieudo Xác thực ĐDĐT")
    assert len(written) == 2
    folder = written[0].parent
    assert all(path.parent == folder for path in written)
    assert _mode(folder) == 0o700
    assert all(_mode(path) == 0o600 for path in written)
    other = Engine(chat.engine.catalogue, chat.engine.db)
    assert other.files_directory() != folder  # each process its own, not a shared name
    other.close()
    chat.engine.close()
    assert not folder.exists()


async def test_a_planted_link_is_not_followed(chat: ChatBot, tmp_path: Path) -> None:
    """Even in a directory someone else could write to, the export never writes through a
    symbolic link: the file it points at keeps its content."""
    chat.engine.files_dir = tmp_path
    victim = tmp_path / "victim.txt"
    victim.write_text("không được ghi đè", encoding="utf-8")
    (tmp_path / "bao_cao_2024-W47.csv").symlink_to(victim)
    assert await chat.send("cb_binh_long", REPORT) != ""
    assert await _files(chat, "/xuat csv") == []  # refused, not written through the link
    assert victim.read_text(encoding="utf-8") == "không được ghi đè"


async def test_release_deletes_only_files_in_the_private_directory(
    chat: ChatBot, tmp_path: Path
) -> None:
    assert await chat.send("cb_binh_long", REPORT) != ""
    replies = await chat.replies("lanh_dao", "/xuat csv", chat="dm_lead", chat_type="private")
    replies += await chat.replies("lanh_dao", "/bieudo Xác thực ĐDĐT")
    written = [b.path for r in replies for b in r.blocks if isinstance(b, Photo | Document)]
    assert len(written) == 2
    # A file elsewhere (the simulator's out directory, the demo's output) is never touched,
    # even one named like ours.
    elsewhere = tmp_path / written[0].name
    elsewhere.write_bytes(b"demo")
    files.release([*replies, Reply((Document(elsewhere, ""),))])
    assert not any(path.exists() for path in written)
    assert elsewhere.read_bytes() == b"demo"
    assert chat.engine.files_dir is not None
    assert list(chat.engine.files_dir.iterdir()) == []
    files.release(replies)  # twice is harmless
    chat.engine.close()
