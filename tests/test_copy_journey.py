"""A copy pass checked on every surface: a scripted journey through the engine (both roles
join, profile, matching and an admin pair, agreement, schedule, agenda, the sweeps' prompts,
reminders, check-ins, lapse rungs, renewal and term end, met, commit, pause and resume, end,
privacy, export, admin stats and digest) collects every message the engine sends, replies
and outbox payloads alike, and renders each through Slack, Teams, the web chat and the
console. None may show a "(s)" plural, an unfilled placeholder, markdown the surface shows
raw, a doubled phrase or "median –"."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from adapters.local.console import to_text
from adapters.slack.render_block_kit import to_messages
from adapters.teams.render_adaptive_card import to_adaptive_card
from conversations.engine import Engine
from conversations.messages import Message, from_dict, to_dict
from conversations.policy import Policy
from storage.database import Database
from storage.models import OutboxMessage
from tests.followthrough_kit import inbox
from tests.harness import Chat

BERLIN = "Europe/Berlin"


class Journey:
    """A chat that keeps every reply it gets, with who got it and what was typed."""

    def __init__(self, chat: Chat) -> None:
        self.chat = chat
        self.seen: list[tuple[str, Message]] = []

    async def say(self, user: str, line: str) -> list[Message]:
        replies = await self.chat.say(user, line, timezone=BERLIN)
        self.seen.extend((f"{user}> {line}", m) for m in replies)
        return replies

    async def click(self, user: str, message: Message, label: str) -> list[Message]:
        replies = await self.chat.click(user, message, label)
        self.seen.extend((f"{user} clicked {label}", m) for m in replies)
        return replies

    async def sweep_days(self, days: int, step: timedelta = timedelta(hours=6)) -> None:
        end = self.chat.now + timedelta(days=days)
        while self.chat.now < end:
            self.chat.now += step
            await self.chat.engine.sweep(self.chat.now)


async def run_journey(chat: Chat) -> tuple[list[tuple[str, Message]], set[str]]:
    j = Journey(chat)
    for line in ("hi", "what can you do?", "thanks!", "help", "help schedule", "frobnicate"):
        await j.say("lena", line)
    await j.say("lena", "/mentor /mentor status")
    await j.say("lena", "guide")
    await j.say("lena", "join mentee")
    await j.say("lena", "profile")
    await j.say(
        "lena",
        'profile set wants="public speaking" goals="present our results at the all-hands" '
        "department=Sales level=3 languages=en",
    )
    await j.say("marco", "join mentor")
    await j.say(
        "marco", 'profile set offers="public speaking" department=Engineering level=6 languages=en'
    )
    await j.say("carla", "join both")
    await j.say("dora", "join mentee")
    await j.say("dora", "profile set wants=gardening")
    for user in ("lena", "marco"):
        await j.say(user, "status")
        await j.say(user, "home")
    await j.say("hana", "admin match --dry-run")
    await j.say("hana", "admin match")
    for user in ("lena", "marco"):
        for proposal in await inbox(chat, user, "proposal"):
            await j.click(user, proposal, "Accept")
    for user in ("lena", "marco"):
        for prompt in await inbox(chat, user, "agreement"):
            if any(b.label == "I agree" for b in prompt.buttons()):
                await j.click(user, prompt, "I agree")
    await j.say("lena", "agreement")
    await j.say("lena", "schedule whenever suits")
    await j.say("lena", "schedule tomorrow")
    await j.say("lena", "schedule in 3 days 15:00")
    await j.say("lena", "agenda add my first talk")
    await j.say("lena", "agenda")
    await j.say("lena", "commit draft the slides")
    await j.say("lena", "commit done 7")
    await j.say("lena", "commit")
    await j.sweep_days(4)  # the agenda prompt, the mentor's copy, the check-in
    await j.say("lena", "met it went well")
    await j.say("lena", "commit done 1")
    await j.say("marco", "met")
    await j.say("lena", "agenda clear")
    await j.say("lena", "pause until 2099-01-01")
    await j.say("lena", "pause")
    await j.say("lena", "home")
    await j.say("lena", "status")
    await j.say("lena", "resume")
    await j.say("marco", "pause with @lena until whenever")
    await j.say("marco", "pause with @lena until next monday")
    await j.say("marco", "status")
    await j.say("lena", "/mentor status")
    await j.say("marco", "resume with @lena")
    await j.say("marco", "skip")
    await j.sweep_days(75, timedelta(days=1))  # silence: every rung of the lapse ladder
    await j.say("hana", "admin stats")
    await j.say("hana", "admin digest")
    await j.say("hana", "admin export")
    await j.say("hana", "admin pair @carla @marco")
    await j.say("hana", "admin pair @nobody @marco")
    await j.sweep_days(200, timedelta(days=2))  # renewal and the end of the term
    await j.say("carla", "end with @marco")
    await j.say("lena", "renew")
    await j.say("lena", "privacy")
    await j.say("lena", "export-data")
    await j.say("lena", "forget-me")
    await j.say("dora", "leave")
    await j.say("dora", "home")
    async with chat.engine.db.transaction() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    kinds = {row.kind for row in rows}
    sent = [(f"outbox {row.kind}", from_dict(row.payload)) for row in rows]
    return [*j.seen, *sent], kinds


@pytest.fixture
def plain_policy() -> Policy:
    return Policy(admins=frozenset({"local:hana"}), default_timezone=BERLIN)


@pytest.fixture
async def journey(db: Database, plain_policy: Policy) -> tuple[list[tuple[str, Message]], set[str]]:
    return await run_journey(Chat(Engine(db, plain_policy)))


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from _strings(value)


def renderings(message: Message) -> dict[str, list[str]]:
    """What each surface shows of `message`, as the strings it puts on screen."""
    web = to_dict(message)
    card = to_adaptive_card(message)
    return {
        "slack": list(_strings(to_messages(message))),
        "teams": list(_shown(card)),
        "web": [*_strings(web["blocks"]), web["text"]],
        "console": [to_text(message)[0]],
    }


SHOWN_KEYS = frozenset({"text", "title", "label", "placeholder", "errorMessage", "fallbackText"})


def _shown(node: Any) -> Iterator[str]:
    """The strings of an Adaptive Card a person reads (not its layout properties)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in SHOWN_KEYS and isinstance(value, str):
                yield value
            else:
                yield from _shown(value)
    elif isinstance(node, list):
        for value in node:
            yield from _shown(value)


PLURAL = re.compile(
    r"\w\(s\)|\b(?<![.,])1 (mentors|mentees|pairs|meetings|points|ratings|days|pairings|notes|"
    r"commitments|proposals|levels|people|weeks|months|items|participants)\b"
)
PLACEHOLDER = re.compile(r"@…|\{[a-z_]+\}|%\(?[a-z_]*\)?s\b|\bNone\b(?! (yet|scheduled))")
DOUBLED = re.compile(r"\b(I couldn't|I understood)\b[^.!?]*\b\1\b", re.IGNORECASE)
REPEATED_WORD = re.compile(r"\b(\w{2,}) \1\b", re.IGNORECASE)
BOLD = re.compile(r"(?<![\w*])\*[^*\s](?:[^*\n]*[^*\s])?\*(?![\w*])")


def problems_in(where: str, surface: str, shown: str, raw_markdown: bool) -> list[str]:
    found = []
    checks = [
        (PLURAL, "a (s) plural"),
        (PLACEHOLDER, "an unfilled placeholder"),
        (DOUBLED, "a doubled phrase"),
        (REPEATED_WORD, "a repeated word"),
    ]
    for pattern, what in checks:
        if (m := pattern.search(shown)) is not None:
            found.append(f"{where} [{surface}]: {what} {m.group(0)!r} in {shown[:160]!r}")
    if any(empty in shown for empty in ("median –", "– days", "follow-through –")):
        found.append(f"{where} [{surface}]: an empty median in {shown[:160]!r}")
    if raw_markdown and ("`" in shown or BOLD.search(shown)):
        found.append(f"{where} [{surface}]: raw markdown in {shown[:160]!r}")
    return found


def raw_parts(message: Message) -> dict[str, list[str]]:
    """What each surface shows as literal text, where our markdown would appear raw: the
    console everywhere; Teams cards (no inline code); the web chat's and Slack's headers
    and button labels (plain text there)."""
    web = to_dict(message)
    plain = [b["text"] for b in web["blocks"] if b["type"] == "header"] + [
        button["label"] for b in web["blocks"] if b["type"] == "buttons" for button in b["buttons"]
    ]
    card = to_adaptive_card(message)
    return {
        "console": [to_text(message)[0]],
        "teams": list(_shown(card)),
        "web": plain,
        "slack": plain,
    }


# Words do not depend on the database, and every engine path the journey takes runs on
# PostgreSQL in the other tests: the journey (half a minute, mostly the 41 weekly charts)
# runs once, on SQLite.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_every_message_reads_well_on_every_surface(
    journey: tuple[list[tuple[str, Message]], set[str]],
) -> None:
    messages, kinds = journey
    # The journey reaches what the engine sends proactively, not only the replies.
    assert {
        "proposal",
        "agreement",
        "agreement-confirmed",
        "agenda-prompt",
        "checkin",
        "digest",
        "renewal",
        "term-complete",
    } <= kinds, kinds
    assert sum(k.startswith("lapse-") for k in kinds) >= 2, kinds  # several rungs
    assert len(messages) > 100
    problems: list[str] = []
    for where, message in messages:
        for surface, shown in renderings(message).items():
            for text in shown:
                problems.extend(problems_in(where, surface, text, raw_markdown=False))
        for surface, shown in raw_parts(message).items():
            for text in shown:
                problems.extend(problems_in(where, surface, text, raw_markdown=True))
    assert not problems, "\n".join(dict.fromkeys(problems))
    # The default program name reads as a common noun inside a sentence.
    said = {where: message.text for where, message in reversed(messages)}
    assert "Welcome to the mentoring program!" in said["lena> join mentee"]
    assert (
        "`/mentor resume with @lena` ends it" in said["marco> pause with @lena until next monday"]
    )
    assert "meetings paused until" in said["lena> /mentor status"]
    everything = json.dumps([to_dict(m) for _, m in messages], ensure_ascii=False)
    assert "to Mentoring program" not in everything and "in Mentoring program" not in everything
