"""Matching through the engine: a round proposes, people accept or decline, proposals
expire, the unmatched are told why; events in, messages and outbox rows out."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from conversations.messages import Message, from_dict
from storage.models import MatchRound, OutboxMessage, Pair, Profile
from tests.harness import Chat


async def outbox(chat: Chat, kind: str | None = None) -> list[OutboxMessage]:
    async with chat.engine.db.transaction() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            query = query.where(OutboxMessage.kind == kind)
        return list(await session.scalars(query))


async def pairs(chat: Chat) -> list[Pair]:
    async with chat.engine.db.transaction() as session:
        return list(await session.scalars(select(Pair).order_by(Pair.id)))


async def person_id(chat: Chat, user: str) -> int:
    async with chat.engine.db.transaction() as session:
        from storage.people import IdentityKey, find_identity

        identity = await find_identity(session, IdentityKey("local", "", user))
        assert identity is not None
        return identity.person_id


def message_for(rows: list[OutboxMessage], person: int) -> Message:
    return from_dict(next(r for r in rows if r.person_id == person).payload)


async def org(chat: Chat) -> None:
    """A small organisation: two mentees, two mentors (one of them a mentee's boss)."""
    await chat.say("hana", "join mentee")  # the admin, not a mentee in the pool
    await chat.say("hana", "leave")
    await chat.say("bob", "join mentor")
    await chat.say(
        "bob",
        'profile set offers="public speaking, python" department=Engineering level=6 '
        "timezone=Europe/Berlin languages=en capacity=1",
    )
    await chat.say("carol", "join mentor")
    await chat.say(
        "carol",
        'profile set offers="negotiation" department=Sales level=7 timezone=Asia/Tokyo '
        "languages=ja capacity=1",
    )
    await chat.say("alice", "join mentee")
    await chat.say(
        "alice",
        'profile set wants="public speaking" department=Sales level=3 '
        "timezone=Europe/London languages=en manager=@bob",
    )
    await chat.say("dan", "join mentee")
    await chat.say(
        "dan",
        'profile set wants="public speaking, leadership" department=Sales level=3 '
        "timezone=Europe/Paris languages=en",
    )


async def test_round_proposes_with_reasons_and_accepts_make_an_active_pair(chat: Chat) -> None:
    await org(chat)
    reply = await chat.text("hana", "admin match")
    assert "proposed 2 pairs" in reply, reply
    alice, bob, carol, dan = [await person_id(chat, u) for u in ("alice", "bob", "carol", "dan")]
    stored = await pairs(chat)
    assert {(p.mentee_id, p.mentor_id) for p in stored} == {(dan, bob), (alice, carol)}
    assert all(p.state == "proposed" and p.proposal_expires_at for p in stored)
    # Never the mentee's own manager: bob manages alice, so alice got carol.
    proposals = await outbox(chat, "proposal")
    assert {r.person_id for r in proposals} == {alice, bob, carol, dan}
    to_dan = message_for(proposals, dan)
    assert "bob" in to_dan.text and "you both care about public speaking" in to_dan.text
    assert "h of shared working day" in to_dan.text or "same working hours" in to_dan.text
    assert [b.label for b in to_dan.buttons()] == ["Accept", "Decline"]

    status = await chat.text("dan", "status")
    assert "proposed, answer with `accept @bob`" in status
    first = await chat.click("dan", to_dan, "Accept")
    assert "waiting for bob" in first[0].text
    to_bob = message_for(proposals, bob)
    done = await chat.click("bob", to_bob, "Accept")
    assert "now paired" in done[0].text
    pair = next(p for p in await pairs(chat) if p.mentee_id == dan)
    assert pair.state == "active" and pair.activated_at == chat.now
    # Both hear the pair is on through the follow-through engine's agreement prompt.
    agreements = await outbox(chat, "agreement")
    assert {r.person_id for r in agreements} == {dan, bob}
    assert "now paired with bob" in message_for(agreements, dan).text
    assert "mentored by bob" in await chat.text("dan", "status")
    assert "no open proposal" in (await chat.text("dan", "accept")).lower()


async def test_decline_frees_both_and_the_other_waits_with_priority(chat: Chat) -> None:
    await org(chat)
    await chat.say("hana", "admin match")
    dan, bob = await person_id(chat, "dan"), await person_id(chat, "bob")
    reply = await chat.text("bob", "decline too busy this quarter")
    assert "Declined" in reply and "noted your reason" in reply
    pair = next(p for p in await pairs(chat) if p.mentee_id == dan)
    assert pair.state == "ended" and pair.end_reason == "declined by mentor: too busy this quarter"
    told = await outbox(chat, "proposal-declined")
    assert [r.person_id for r in told] == [dan]
    async with chat.engine.db.transaction() as session:
        priority = await session.scalar(
            select(Profile.match_priority_since).where(Profile.person_id == dan)
        )
    assert priority == chat.now
    # The next round never proposes the declined pair again.
    chat.advance(days=1)
    await chat.say("hana", "admin match")
    assert sum(1 for p in await pairs(chat) if (p.mentee_id, p.mentor_id) == (dan, bob)) == 1
    assert "no open proposal" in (await chat.text("bob", "accept")).lower()


async def test_expired_proposal_asks_the_silent_person_to_stay(chat: Chat) -> None:
    await org(chat)
    await chat.say("hana", "admin match")
    dan, bob = await person_id(chat, "dan"), await person_id(chat, "bob")
    await chat.say("dan", "accept")
    chat.advance(days=4)
    assert not [i for i in await chat.engine.sweep(chat.now) if i.kind == "proposal-expired"]
    chat.advance(days=1, minutes=1)
    items = await chat.engine.sweep(chat.now)
    expired = [i for i in items if i.kind == "proposal-expired"]
    assert {i.person_id for i in expired} >= {bob}
    assert dan not in {i.person_id for i in expired}
    assert dan in {i.person_id for i in items if i.kind == "proposal-lapsed"}
    ask = message_for(await outbox(chat, "proposal-expired"), bob)
    assert "stay in the pool" in ask.text
    assert "Paused" in await chat.text("bob", "status")
    back = await chat.click("bob", ask, "Stay in the pool")
    assert "active again" in back[0].text
    assert not [i for i in await chat.engine.sweep(chat.now) if i.kind == "proposal-expired"]


async def test_unmatched_people_are_told_why(chat: Chat) -> None:
    await org(chat)
    await chat.say("erin", "join mentee")
    await chat.say("erin", 'profile set wants="negotiation" manager=@carol')
    await chat.say("hana", "admin match")
    erin = await person_id(chat, "erin")
    told = await outbox(chat, "unmatched")
    assert [r.person_id for r in told] == [erin]
    assert "No match for you in this round" in from_dict(told[0].payload).text
    async with chat.engine.db.transaction() as session:
        since = await session.scalar(
            select(Profile.match_priority_since).where(Profile.person_id == erin)
        )
    assert since == chat.now


async def test_admin_only_and_dry_run_changes_nothing(chat: Chat) -> None:
    await org(chat)
    refused = await chat.text("dan", "admin match")
    assert "`admin` commands are for the program team" in refused
    dry = await chat.text("hana", "admin match --dry-run")
    assert "dry run" in dry and "would propose 2" in dry
    assert await pairs(chat) == [] and await outbox(chat, "proposal") == []
    async with chat.engine.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(MatchRound)) == 0
    assert "Right form" in await chat.text("hana", "admin match --now")
    assert "admin match [--dry-run]" in await chat.text("hana", "admin")


async def test_several_open_proposals_ask_which(chat: Chat) -> None:
    await org(chat)
    await chat.say("bob", "profile set capacity=2")
    await chat.say("erin", "join mentee")
    await chat.say("erin", 'profile set wants="python" department=Ops languages=en')
    await chat.say("hana", "admin match")
    reply = await chat.say("bob", "accept")
    assert "Which one?" in reply[0].text and len(reply[0].buttons()) == 2
    assert "accepted" in (await chat.text("bob", "accept @erin")).lower()
    assert "no open proposal with @carol" in (await chat.text("bob", "decline @carol")).lower()


async def test_request_a_specific_mentor(chat: Chat) -> None:
    await org(chat)
    assert "in your reporting line" in await chat.text("alice", "request @bob")
    assert "isn't an active mentor" in await chat.text("alice", "request @dan")
    assert "request @person" in await chat.text("alice", "request")
    reply = await chat.text("dan", "request @carol")
    assert "asked carol" in reply
    carol = await person_id(chat, "carol")
    ask = message_for(await outbox(chat, "proposal"), carol)
    assert "asked you to be their mentor" in ask.text
    await chat.click("carol", ask, "Accept")
    dan = await person_id(chat, "dan")
    pair = next(p for p in await pairs(chat) if p.mentee_id == dan)
    assert pair.state == "active"
    assert "already have a pair" in await chat.text("dan", "request @carol")


async def test_scheduled_round_runs_once_per_slot(chat: Chat) -> None:
    from dataclasses import replace

    from conversations.matching.settings import MatchingPolicy

    engine = chat.engine
    engine.policy = replace(engine.policy, matching=MatchingPolicy(rounds="weekly"))
    await org(chat)
    # 2026-11-23 is a Monday; rounds at 09:00 UTC. The harness starts at 09:00 that day.
    chat.advance(hours=1)
    first = await engine.sweep(chat.now)
    assert sum(1 for i in first if i.kind == "proposal") == 4
    again = await engine.sweep(chat.now + timedelta(minutes=1))
    assert not [i for i in again if i.kind == "proposal"]
    assert len(await pairs(chat)) == 2


async def test_preferences_are_a_profile_key_with_a_fixed_vocabulary(chat: Chat) -> None:
    await chat.say("dan", "join mentee")
    saved = await chat.text("dan", "profile set prefers=senior,other-department")
    assert "senior" in saved and "other-department" in saved
    bad = await chat.text("dan", "profile set prefers=tall")
    assert "tall is not one of other-department, same-department, same-timezone, senior" in bad
    assert "Match preferences: senior, other-department" in await chat.text("dan", "status")
