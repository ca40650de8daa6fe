"""The weekly digest's data for the whole country, as the scheduler builds it."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from bench.context import LAST, BenchContext, during
from bench.figures import REGISTRY
from bench.registry import Measurement, median
from bot.telegram.html import to_html
from core.catalogue import Catalogue, Chat
from handlers.digest import Digest, build_digest, digest_replies
from handlers.summary import area_rankings, summary_replies
from render import charts
from storage import Database

figure = REGISTRY.figure


@figure("digest_national_ms", "ms", goal=500, direction="max")
async def digest_national_ms(ctx: BenchContext) -> Measurement:
    """`build_digest` (completeness, every ranked table with change, most improved, at risk
    by pace) for 3,321 units with a year stored: its own unit of work, as the scheduler's job."""
    data = await ctx.national()
    db = await Database.open(data.sqlite_url)
    try:
        now = during(LAST, data.catalogue)

        async def once() -> float:
            started = time.perf_counter()
            async with db.unit_of_work() as uow:
                digest = await build_digest(data.catalogue, uow, LAST, now)
            elapsed = (time.perf_counter() - started) * 1000
            if not digest.rankings or not digest.on_time:
                raise RuntimeError("digest without rankings or reports")
            return elapsed

        await once()  # warm-up
        samples = [await once() for _ in range(max(ctx.repeats, 3))]
        return Measurement(median(samples), note=f"{len(data.catalogue.units)} units, SQLite")
    finally:
        await db.close()


SUMMARY_CHAT = "tong_hop"


def with_summary_chat(catalogue: Catalogue) -> Catalogue:
    """The national set-up with one more group: the national summary chat."""
    summary = Chat(SUMMARY_CHAT, "TỔNG HỢP TOÀN QUỐC", "group", digest="summary")
    return replace(catalogue, chats=(*catalogue.chats, summary))


@dataclass(frozen=True)
class DigestSize:
    """What one group receives for a weekly digest on Telegram."""

    texts: int  # text messages, after splitting at Telegram's 4,096 characters
    photos: int  # chart images, one message each
    characters: int  # of the text messages (HTML as sent)

    @property
    def messages(self) -> int:
        return self.texts + self.photos


def digest_size(catalogue: Catalogue, digest: Digest, chat: Chat | None) -> DigestSize:
    """The digest a chat gets (full or summary), its charts counted, not drawn."""
    start, end = catalogue.calendar.due_at(digest.period.previous()), digest.due
    if chat is not None and chat.summary:
        replies = summary_replies(catalogue, chat, digest)
        rankings = area_rankings(catalogue, digest, chat.summary_by)
    else:
        replies = digest_replies(catalogue, digest)
        rankings = list(digest.rankings)
    pages = [page for r in replies for page in to_html(r.blocks)]
    photos = sum(
        len(charts.ranking_specs(r, digest.period, start.date(), end.date())) for r in rankings
    )
    return DigestSize(len(pages), photos, sum(len(p) for p in pages))


@figure("digest_summary_ms", "ms", direction="max")
async def digest_summary_ms(ctx: BenchContext) -> Measurement:
    """A national summary chat's digest (`digest = "summary"`): `build_digest`, then the
    per-area totals, the three messages and the per-area rankings the charts draw (not
    drawn); the note gives what the chat receives, beside the full digest of an unscoped
    group on the same data."""
    data = await ctx.national()
    catalogue = with_summary_chat(data.catalogue)
    chat = catalogue.chat_by_key(SUMMARY_CHAT)
    db = await Database.open(data.sqlite_url)
    try:
        now = during(LAST, catalogue)

        async def once() -> tuple[float, Digest]:
            started = time.perf_counter()
            async with db.unit_of_work() as uow:
                digest = await build_digest(catalogue, uow, LAST, now)
            assert chat is not None
            summary_replies(catalogue, chat, digest)
            area_rankings(catalogue, digest, chat.summary_by)
            return (time.perf_counter() - started) * 1000, digest

        _, digest = await once()  # warm-up
        samples = [(await once())[0] for _ in range(max(ctx.repeats, 3))]
        summary, full = digest_size(catalogue, digest, chat), digest_size(catalogue, digest, None)
        ctx.cache["digest_summary"] = summary
        note = (
            f"{len(catalogue.units)} units, SQLite; summary: {summary.texts} texts + "
            f"{summary.photos} charts, {summary.characters:,} characters; full digest: "
            f"{full.texts} texts + {full.photos} charts, {full.characters:,} characters"
        )
        return Measurement(median(samples), note=note)
    finally:
        await db.close()


@figure("digest_summary_texts", "messages", goal=3, direction="max")
async def digest_summary_texts(ctx: BenchContext) -> Measurement:
    """The national summary digest's text messages on Telegram (charts apart; the note says
    how many): at most three whatever the number of units (issue 17)."""
    if "digest_summary" not in ctx.cache:
        await digest_summary_ms(ctx)
    size: DigestSize = ctx.cache["digest_summary"]
    note = f"+ {size.photos} charts; {size.characters:,} characters"
    return Measurement(float(size.texts), note=note)
