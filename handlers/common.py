"""Small pieces the commands share: unit lookup by name, indicator lines, templates."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from core import messages as msg
from core.catalogue import Catalogue, Indicator, Person, Unit
from core.chat import Mention, PlatformIds, Recipient
from core.numbers import format_goal_pct, format_int, format_pct
from core.periods import Period
from core.ranking import ratio
from core.text import key
from storage import UnitOfWork


class Refusal(Exception):
    """A command cannot go on; the text is the Vietnamese answer and nothing was changed."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


# Longer than any unit's name: not looked up, and quoted back only in part.
MAX_NAME = 200
QUOTE = 60


def clip(text: str, limit: int = QUOTE) -> str:
    """User text quoted back in a reply: never so long that the reply outgrows a message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def find_unit(catalogue: Catalogue, text: str) -> Unit:
    """The unit a typed name means, or a Refusal that asks or suggests."""
    if len(text) > MAX_NAME:
        raise Refusal(msg.unit_unknown(clip(text), []))
    match = catalogue.match_unit(text)
    if match.unit is not None:
        return match.unit
    if match.candidates:
        raise Refusal(msg.unit_ambiguous(clip(text), [u.name for u in match.candidates]))
    names = {key(u.short_name): u.name for u in catalogue.units}
    close = difflib.get_close_matches(key(text), list(names), n=3, cutoff=0.6)
    raise Refusal(msg.unit_unknown(clip(text), [names[c] for c in close]))


def target_text(indicator: Indicator) -> str:
    return format_goal_pct(indicator.target)


def indicator_lines(catalogue: Catalogue, values: Mapping[str, int]) -> list[str]:
    """One line per indicator the values cover: `• Xác thực ĐDĐT: 78,94% (chỉ tiêu 80%)`."""
    lines = []
    for ind in catalogue.indicators:
        r = ratio(ind, values)
        if r is None:
            continue
        goal = f" (chỉ tiêu {target_text(ind)})" if ind.target is not None else ""
        lines.append(
            f"• {ind.short}: {format_pct(r.rate, ind.decimals)} "
            f"= {format_int(r.numerator)}/{format_int(r.denominator)}{goal}"
        )
    return lines


def template_text(
    catalogue: Catalogue,
    unit: Unit | None,
    values: Mapping[str, int],
    period: Period | None = None,
    only_given: bool = False,
) -> str:
    """A report to copy: the command, the unit and one `label: value` line per field
    (with `only_given`, the required fields and those the officer already wrote)."""
    lines = ["/baocao", f"Đơn vị: {unit.name if unit else ''}"]
    if period is not None:
        lines.append(f"Tuần: {period.week}/{period.year}")
    for f in catalogue.fields:
        if only_given and not f.required and f.code not in values:
            continue
        if f.code in catalogue.quota_fields:
            continue  # the letters give it (`[[quotas]]`): never typed
        value = values.get(f.code)
        lines.append(f"{f.label}: {format_int(value) if value is not None else ''}")
    return "\n".join(lines)


def _person_ids(person: Person) -> PlatformIds:
    return tuple(sorted(person.ids.items()))


async def officers(
    catalogue: Catalogue, uow: UnitOfWork, units: list[str]
) -> dict[str, list[Recipient]]:
    """Each unit's officers as private-chat recipients: those in the config, then those
    approved through /dangky (one recipient per person and platform id)."""
    out: dict[str, list[Recipient]] = {u: [] for u in units}
    for code in units:
        for person in catalogue.officers_of(code):
            out[code].append(Recipient(person.key, person.name, _person_ids(person), group=False))
    registered = await uow.registrations.approved_for_units(units)
    for code, regs in registered.items():
        known = {ids for r in out[code] for ids in r.ids}
        for reg in regs:
            pair = (reg.sender.platform, reg.sender.user_id)
            if pair not in known:
                out[code].append(Recipient(reg.sender.user_id, reg.sender.name, (pair,), False))
    return out


def mentions(recipients: list[Recipient]) -> list[Mention]:
    return [Mention(r.name, r.ids) for r in recipients]


def chat_recipient(catalogue: Catalogue, chat_key: str) -> Recipient:
    chat = catalogue.chat_by_key(chat_key)
    if chat is None:
        raise KeyError(chat_key)
    return Recipient(
        chat.key,
        chat.title,
        tuple(sorted(chat.ids.items())),
        chat.kind == "group",
        tuple(sorted(chat.topics.items())),
    )
