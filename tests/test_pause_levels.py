"""Issue 13 item 3: pausing has one meaning per level and is always visible.

A person's `pause` stops matching for them and asks, per active pair, whether that pair
pauses too. A paused pair tells the partner, shows as paused in status, home and the
digest, leaves the lapse ladder (its open episode is closed as `paused`), and ends its
pause on its date. An expired proposal never pauses anyone's existing pair."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from conversations.digest.figures import compute_digest
from storage.models import Lapse, Program
from tests.followthrough_kit import get_pair, inbox, make_pair
from tests.harness import START, Chat


async def _figures(chat: Chat) -> dict[str, object]:
    async with chat.engine.db.transaction() as session:
        program = await session.get(Program, chat.engine.program_id)
        assert program is not None
        digest = await compute_digest(session, program, chat.engine.policy, chat.now)
        return dict(digest.figures)


async def _lapses(chat: Chat) -> list[tuple[int, str | None]]:
    async with chat.engine.db.transaction() as session:
        rows = await session.scalars(select(Lapse).order_by(Lapse.id))
        return [(r.step, r.outcome) for r in rows]


async def _sweep(chat: Chat) -> list[str]:
    return [item.kind for item in await chat.engine.sweep(chat.now)]


async def test_a_persons_pause_asks_about_each_active_pair(chat: Chat) -> None:
    pair_id = await make_pair(chat)
    replies = await chat.say("bob", "pause until 2027-01-10")
    assert "no new matches" in replies[0].text
    [question] = replies[1:]
    assert "Your pairing with alice is still active: shall it pause too" in question.text
    assert [b.label for b in question.buttons()] == ["Pause this pairing too", "Keep meeting"]
    assert (await get_pair(chat, pair_id)).state == "active"  # nothing decided silently
    kept = await chat.click("bob", question, "Keep meeting")
    assert "Your meetings with alice go on as planned" in kept[0].text
    assert (await get_pair(chat, pair_id)).state == "active"
    assert await inbox(chat, "alice", "pair-paused") == []
    figures = await _figures(chat)
    assert (figures["pairs.active"], figures["pairs.paused"]) == (1, 0)
    chat.now = START + timedelta(days=17)  # the ladder climbs: the pair is not frozen
    assert await _sweep(chat) == ["lapse-nudge-mentee"]


async def test_pausing_the_pair_too_is_visible_everywhere_and_leaves_the_ladder(
    chat: Chat,
) -> None:
    pair_id = await make_pair(chat)
    chat.now = START + timedelta(days=17)
    assert await _sweep(chat) == ["lapse-nudge-mentee"]  # a lapse episode is open
    assert (await _figures(chat))["lapses.open"] == 1
    replies = await chat.say("bob", "pause until 2027-01-10")
    done = await chat.click("bob", replies[1], "Pause this pairing too")
    assert "Paused your meetings with alice until Sun 10 Jan 2027" in done[0].text
    pair = await get_pair(chat, pair_id)
    assert pair.state == "paused" and pair.lapse_step == 0
    [told] = await inbox(chat, "alice", "pair-paused")
    assert "bob paused your mentoring meetings until Sun 10 Jan 2027" in told.text
    assert "meetings paused until" in await chat.text("alice", "status")
    assert "(paused)" in await chat.text("alice", "home")
    figures = await _figures(chat)
    assert (figures["pairs.active"], figures["pairs.paused"]) == (0, 1)
    assert (figures["lapses.open"], figures["lapses.recovered"]) == (0, 0)
    assert await _lapses(chat) == [(1, "paused")]
    chat.now = datetime(2026, 12, 30, 9, 0, tzinfo=UTC)
    assert await _sweep(chat) == []  # off the ladder while paused
    chat.now = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
    assert sorted(await _sweep(chat)) == ["pair-resumed", "pair-resumed", "pause-ended"]
    assert (await get_pair(chat, pair_id)).state == "active"
    assert (await _figures(chat))["pairs.active"] == 1
    chat.now += timedelta(days=17)  # silence after the pause: a new episode, first rung
    assert await _sweep(chat) == ["lapse-nudge-mentee"]
    assert await _lapses(chat) == [(1, "paused"), (1, None)]


async def test_pause_with_a_person_pauses_that_pair_only(chat: Chat) -> None:
    pair_id = await make_pair(chat)
    reply = await chat.text("alice", "pause with @bob until 2027-01-10")
    assert "Paused your meetings with bob" in reply
    assert (await get_pair(chat, pair_id)).state == "paused"
    assert "Active" in await chat.text("alice", "status")  # still in matching
    assert len(await inbox(chat, "bob", "pair-paused")) == 1


async def test_an_expired_proposal_never_pauses_an_existing_pair(chat: Chat) -> None:
    pair_id = await make_pair(chat)  # alice (mentee) with bob (mentor)
    await chat.say("carol", "join mentee")
    await chat.say("bob", "profile set capacity=2")
    assert "I've asked bob" in await chat.text("carol", "request @bob")
    chat.now = START + timedelta(days=17)  # past the proposal's expiry, bob never answered
    kinds = await _sweep(chat)
    assert "proposal-expired" in kinds and "lapse-nudge-mentee" in kinds
    assert "Paused" in await chat.text("bob", "status")  # out of the matching pool only
    pair = await get_pair(chat, pair_id)
    assert pair.state == "active" and pair.lapse_step == 1
    figures = await _figures(chat)
    assert (figures["pairs.active"], figures["pairs.paused"], figures["lapses.open"]) == (1, 0, 1)
