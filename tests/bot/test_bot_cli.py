"""The command line: simulate's JSON-lines interface, the demo, and refusals at start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import DEMO_SCENARIO, read_lines, simulate_lines
from bot.settings import Settings
from bot.transcript import write_transcript
from core import messages as msg

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        input="",
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_simulate_prints_one_json_line_per_post(tmp_path: Path) -> None:
    scenario = tmp_path / "s.jsonl"
    lines = [
        {
            "at": "2024-11-16T08:30:00+07:00",
            "chat": "nhom_bao_cao",
            "user": "cb_binh_long",
            "text": "/baocao\nĐã cấp CCCD: 6352\nĐã xác thực ĐDĐT: 5014\nĐã kích hoạt ĐDĐT: 4454\n"
            "Trẻ 6-14 tuổi: 898\nĐã cấp Căn cước 6-14 tuổi: 286",
        },
        {
            "at": "2024-11-18T09:00:00+07:00",
            "chat": "nhom_bao_cao",
            "user": "lanh_dao",
            "text": "/trangthai",
        },
        {
            "at": "2024-11-18T09:01:00+07:00",
            "chat": "la",
            "user": "x",
            "text": "/trangthai",
            "chat_type": "group",
        },
    ]
    scenario.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), "utf-8")
    first = _run("simulate", str(scenario), "--out", str(tmp_path / "out"))
    assert first.returncode == 0, first.stderr
    posts = [json.loads(x) for x in first.stdout.splitlines()]
    # The virtual clock also runs the scheduled posts due between the steps, in time order:
    # Monday's early reminder, then the last call (group, then each missing unit's officer).
    officers = ["cb_binh_chau", "cb_binh_thanh", "cb_binh_thuan", "cb_chau_o"]  # unit order
    assert [(p["at"], p["chat"]) for p in posts] == [
        ("2024-11-16T08:30:00+07:00", "nhom_bao_cao"),
        ("2024-11-18T07:30:00+07:00", "nhom_bao_cao"),
        ("2024-11-18T09:00:00+07:00", "nhom_bao_cao"),
        *(("2024-11-18T09:00:00+07:00", officer) for officer in officers),
        ("2024-11-18T09:00:00+07:00", "nhom_bao_cao"),
        ("2024-11-18T09:01:00+07:00", "la"),
    ]
    assert posts[0]["text"].startswith("✅ Đã nhận báo cáo tuần 47/2024 của Xã Bình Long")
    assert posts[1]["text"].startswith("📢 Nhắc báo cáo tuần 47/2024")
    assert posts[2]["text"].startswith("⏰ Còn 60 phút đến hạn báo cáo tuần 47/2024")
    assert "Đã báo cáo: 1/22 đơn vị" in posts[-2]["text"]
    assert posts[-2]["buttons"] == [["Nhắc đơn vị chưa báo cáo", "/nhacnho 2024-W47"]]
    assert posts[-1]["text"].startswith("Nhóm này chưa được đăng ký")
    again = _run("simulate", str(scenario), "--out", str(tmp_path / "out"))
    assert again.stdout == first.stdout  # same inputs, same outputs


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--config", "nope.toml"], {}, "nope.toml: không tìm thấy tệp cấu hình"),
        ([], {"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL không hợp lệ"),
        (["--db", "postgresql://nobody@127.0.0.1:1/none"], {}, "không mở được cơ sở dữ liệu"),
    ],
)
def test_bad_start_is_one_clear_line_without_traceback(
    tmp_path: Path, args: list[str], env: dict[str, str], expected: str
) -> None:
    scenario = tmp_path / "empty.jsonl"
    scenario.write_text("", "utf-8")
    # simulate runs on a fresh database unless --db is given; console reads DATABASE_URL.
    command = ["console"] if env else ["simulate", str(scenario)]
    result = _run(*command, *args, env=env)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_config_key_names_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    text = (
        (ROOT / "config" / "binh_son.toml")
        .read_text("utf-8")
        .replace("target = 80", "target = 180")
    )
    bad.write_text(text, "utf-8")
    scenario = tmp_path / "empty.jsonl"
    scenario.write_text("", "utf-8")
    result = _run("simulate", str(scenario), "--config", str(bad))
    assert result.returncode == 2
    assert f"{bad}: indicators[5].target: phải là số phần trăm trong (0, 100]" in result.stderr
    assert "Traceback" not in result.stderr


def test_scenario_errors_name_the_line(tmp_path: Path) -> None:
    scenario = tmp_path / "s.jsonl"
    scenario.write_text(
        '{"at": "2024-11-16T08:30:00", "chat": "a", "user": "b", "text": "x"}', "utf-8"
    )
    result = _run("simulate", str(scenario))
    assert result.returncode == 2
    assert "dòng 1: “at” phải có múi giờ" in result.stderr


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ('"edits": 9', "“edits” phải là số dòng của một tin nhắn gốc"),
        ('"edits": "1"', "“edits” phải là số dòng của tin nhắn được sửa"),
        ('"edits": 1, "user": "cb_binh_thuan"', "chỉ sửa được tin nhắn trước đó của cùng người"),
    ],
)
def test_a_scenario_edit_must_name_an_earlier_message_of_the_same_person(
    tmp_path: Path, edit: str, expected: str
) -> None:
    scenario = tmp_path / "s.jsonl"
    first = '{"at": "2024-11-16T08:30:00+07:00", "chat": "nhom_bao_cao", "user": "cb_binh_long"'
    second = '"at": "2024-11-16T08:40:00+07:00", "chat": "nhom_bao_cao"'
    user = "" if '"user"' in edit else ', "user": "cb_binh_long"'
    scenario.write_text(
        f'{first}, "text": "/trangthai"}}\n{{{second}{user}, "text": "/trangthai", {edit}}}\n',
        "utf-8",
    )
    result = _run("simulate", str(scenario))
    assert result.returncode == 2
    assert f"dòng 2: {expected}" in result.stderr


def _draft_paragraphs(out: Path, name: str) -> list[str]:
    from docx import Document as WordDocument

    [draft] = out.rglob(name)
    return [p.text for p in WordDocument(str(draft)).paragraphs]


async def test_demo_week_transcript(tmp_path: Path) -> None:
    results = await simulate_lines(read_lines(DEMO_SCENARIO), Settings(), None, None, tmp_path)
    md, _ = write_transcript(results, tmp_path)
    transcript = md.read_text("utf-8")
    by_line = {step.line: "\n".join(p.text for p in posts) for step, posts in results if step}
    texts = list(by_line.values())
    # Mistakes are refused with a reason and a template, then corrected and accepted.
    assert sum("❌ Báo cáo CHƯA được nhận" in t for t in texts) == 4
    assert any("Không hiểu mục “Đã kích hoạ”" in t for t in texts)
    assert any("“12,45” có thể hiểu theo hai cách" in t for t in texts)
    assert any("Bạn chỉ được báo cáo cho Xã Bình Long" in t for t in texts)
    assert any("• Đã xác thực ĐDĐT: 5.000 → 5.014" in t for t in texts)
    assert any("không có gì thay đổi" in t for t in texts)
    assert any("“Binh Thanh” có thể là: Xã Bình Thanh, Xã Bình Thạnh" in t for t in texts)
    assert any("✅ Đã nhận báo cáo tuần 47/2024 của Xã Bình Châu, nộp muộn." in t for t in texts)
    # A figure fixed by editing the sent message, and a magnitude slip held, not stored.
    assert any("Xã Bình Long: đã cập nhật theo tin nhắn đã sửa" in t for t in texts)
    assert "(sửa tin nhắn gửi lúc 08:30)" in transcript
    assert any("Đã cấp CCCD: 71.100 gấp 10 lần tuần trước (7.082)" in t for t in texts)
    # The config's [[rules]]: a `confirm` rule holds a report, a `warning` rule stores it.
    held = next(t for t in texts if "Số trẻ 6-14 tuổi quá cao" in t)
    assert "⚠️ Báo cáo CHƯA được lưu vì:" in held
    assert "Trẻ 6-14 tuổi (3.952) không được lớn hơn 0,3 × Đã cấp CCCD (6.494) = 1.948,2." in held
    warned = next(t for t in texts if "Tổng đối tượng BTXH và NCC cao bất thường" in t)
    assert "✅ Đã nhận báo cáo tuần 47/2024 của Xã Bình Tân Phú" in warned
    assert "Đối tượng BTXH (1.552) + Đối tượng NCC (796) = 2.348, không được lớn hơn" in warned
    # A greeting around a report is read past and said in one line.
    assert any("Bỏ qua 2 dòng không phải số liệu: “Em gửi báo cáo tuần này ạ”" in t for t in texts)
    # The leader's last look: one commune still missing, two late.
    status = texts[-3]
    assert "Đã báo cáo: 21/22 đơn vị (đúng hạn 19, muộn 2); chưa báo cáo: 1." in status
    assert "❌ Chưa báo cáo (1): Bình Trị" in status
    # Then the leader approves the week, and the Word draft says so.
    assert texts[-2].startswith("✅ Đã phê duyệt số liệu tuần 47/2024 (Nguyễn Tường Duy")
    stamp = "Đã phê duyệt: Nguyễn Tường Duy (Tổ trưởng), 14:10 18/11/2024"
    assert stamp in _draft_paragraphs(tmp_path, "bao_cao_2024-W47.docx")
    # The ranking the leader asked for matches the letter's e-ID table for the units reported.
    ranking = next(t for t in texts if "Tỉ lệ xác thực định danh điện tử mức 2 — tuần 47" in t)
    assert "Đơn vị đã hoàn thành chỉ tiêu (8)" in ranking
    assert " 1  Bình An      85,24%  +0,66" in ranking  # narrow: the group reads on phones
    assert "## Thứ Hai 18/11/2024" in transcript
    # The admin imports weeks 43-45 from the office's sheet first: history from the first week.
    assert any(
        "66 dòng mới, 0 dòng thay đổi, 0 dòng không đổi, 0 dòng bị từ chối." in t for t in texts
    )
    assert msg.import_stored(66, 0, 0, 0) in texts
    history = next(t for t in texts if "Lịch sử báo cáo — Xã Bình Long" in t)
    assert "43/2024  81,87%" in history
    again = await simulate_lines(read_lines(DEMO_SCENARIO), Settings(), None, None, tmp_path)
    assert [p.as_json() for _, ps in again for p in ps] == [
        p.as_json() for _, ps in results for p in ps
    ]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN"),
        (
            {
                "TELEGRAM_BOT_TOKEN": "123456:" + "A" * 30,
                "WEBHOOK_URL": "http://bot.example.vn/telegram/webhook",
            },
            "WEBHOOK_URL phải là địa chỉ https://",
        ),
        (
            {
                "TELEGRAM_BOT_TOKEN": "123456:" + "A" * 30,
                "WEBHOOK_URL": "https://bot.example.vn/telegram/webhook",
                "WEBHOOK_SECRET": "short",
            },
            "WEBHOOK_SECRET",
        ),
        (
            # Nothing listens on port 1: the Bot API cannot be reached.
            {
                "TELEGRAM_BOT_TOKEN": "123456:" + "A" * 30,
                "TELEGRAM_API_BASE_URL": "http://127.0.0.1:1",
            },
            "không kết nối được Telegram Bot API",
        ),
    ],
)
def test_run_refuses_bad_telegram_settings_in_one_line(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    result = _run("run", "--db", f"sqlite:///{tmp_path / 'x.db'}", env=env)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert "A" * 30 not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1


def test_run_without_token_explains_and_opens_the_console(tmp_path: Path) -> None:
    result = _run("run", "--db", f"sqlite:///{tmp_path / 'x.db'}", env={"TELEGRAM_BOT_TOKEN": ""})
    assert result.returncode == 0, result.stderr
    assert "@BotFather" in result.stderr
