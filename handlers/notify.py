"""The values of posting without a message to answer (reminders, digests, nudges): a post,
what one delivery did, and the failure a notifier raises. The outbox (`handlers.outbox`)
sends them, each exactly once.

A post counts as made only once it is recorded in `posts_made` under its job id, recipient and
platform. The record is written right *after* a successful send: a crash between the two makes
the post again (one duplicate) rather than never (a loss). A post the platform finally refused
(`DeliveryFailed`) is not recorded: it is tried again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.chat import Recipient, Reply


class DeliveryFailed(Exception):
    """A message the platform did not take after the adapter's own retries (the
    `core.chat.Notifier` contract; `bot.adapter` re-exports it for the adapters).

    `unreachable`: the platform said this recipient cannot get the bot's messages until a
    person acts (the bot was removed from the group, blocked, never started in private, or
    the chat is unknown to it): sending again by itself will not help.
    """

    def __init__(self, detail: str, *, unreachable: bool = False, reason: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.unreachable = unreachable
        self.reason = reason or detail  # the platform's own words, for the admins


@dataclass(frozen=True)
class Outgoing:
    to: Recipient
    message: Reply
    part: int = 0  # a job posting several messages to one recipient numbers them

    @property
    def record_key(self) -> str:
        # Chat keys and person keys are separate names in the config.
        key = ("chat:" if self.to.group else "user:") + self.to.key
        return f"{key}#{self.part}" if self.part else key


@dataclass(frozen=True)
class Failure:
    """A post one platform did not take."""

    post: Outgoing
    platform: str
    detail: str
    unreachable: bool = False
    reason: str = ""


@dataclass
class Delivered:
    """What one delivery run did: posts made (and recorded) and posts that failed."""

    made: int = 0
    failed: list[Failure] = field(default_factory=list)
    reached: set[tuple[str, str]] = field(default_factory=set)  # (record key, platform)
    skipped: bool = False  # the job was no longer worth running (nothing was tried)
