"""A readable Markdown transcript of a simulated conversation, and its JSON lines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from bot.simulator import Post, Step
from core.messages import WEEKDAY_NAMES


def write_transcript(results: Sequence[tuple[Step | None, list[Post]]], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    md = out / "demo_transcript.md"
    jsonl = out / "demo.jsonl"
    lines = ["# Demo: một tuần báo cáo Đề án 06 của huyện Bình Sơn", ""]
    day = None

    def new_day(moment: datetime) -> list[str]:
        nonlocal day
        if moment.date() == day:
            return []
        day = moment.date()
        name = WEEKDAY_NAMES[day.weekday()]
        return [f"## {name[0].upper()}{name[1:]} {day:%d/%m/%Y}", ""]

    for step, posts in results:
        if step is not None:
            where = "nhắn riêng" if step.chat_type == "private" else step.chat
            lines += new_day(step.at)
            edited = f" (sửa tin nhắn gửi lúc {step.sent_at:%H:%M})" if step.sent_at else ""
            lines += [f"**{step.at:%H:%M} · {step.user} → {where}{edited}**", "", "```text"]
            lines += [f"[tệp: {step.file}]"] if step.file else []
            lines += [step.text] if step.text or not step.file else []
            lines += ["```", ""]
        for post in posts:
            if step is None:
                lines += new_day(post.at)
            body = post.text or f"[tệp: {post.photo or post.document}]"
            body += "".join(f"\n[nút: {label} → {action}]" for label, action in post.buttons)
            source = " (tự động)" if post.in_reply_to == 0 else ""
            lines += [
                f"*{post.at:%H:%M} · bot{source} → {post.chat}*",
                "",
                "```text",
                body,
                "```",
                "",
            ]
    md.write_text("\n".join(lines), encoding="utf-8")
    with jsonl.open("w", encoding="utf-8") as fh:
        for _, posts in results:
            for post in posts:
                fh.write(json.dumps(post.as_json(), ensure_ascii=False) + "\n")
    return [md, jsonl]
