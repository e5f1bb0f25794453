"""Issue 13 item 5: renewal is offered in the renewal window and takes effect when both
say yes; either can decline, and the pairing then completes with its review at the end.
`renew` outside the window says when it opens and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.followthrough_kit import get_pair, inbox, make_pair
from tests.harness import Chat

WINDOW = datetime(2027, 5, 9, 0, 0, tzinfo=UTC)  # 14 days before the term ends, 23 May 2027


async def _sweep(chat: Chat) -> list[str]:
    return [item.kind for item in await chat.engine.sweep(chat.now)]


async def test_renew_outside_the_window_says_when_it_opens_and_changes_nothing(
    chat: Chat,
) -> None:
    pair_id = await make_pair(chat)
    reply = await chat.text("bob", "renew")
    assert "Your term with alice runs until Sun 23 May 2027" in reply
    assert "Renewal opens on Sun 09 May 2027" in reply and "Nothing has changed yet" in reply
    pair = await get_pair(chat, pair_id)
    assert pair.term_end is not None and pair.term_end.isoformat() == "2027-05-23"
    assert await inbox(chat, "alice", "pair-renewed") == []
    assert await inbox(chat, "alice", "renewal-asked") == []


async def test_renewal_takes_effect_when_both_say_yes(chat: Chat) -> None:
    pair_id = await make_pair(chat)
    chat.now = WINDOW
    await chat.say("alice", "met")  # keep the lapse ladder out of the test's focus
    assert "renewal" in await _sweep(chat)
    [question] = await inbox(chat, "bob", "renewal")
    assert [b.label for b in question.buttons()] == ["Renew", "Don't renew"]
    first = await chat.click("bob", question, "Renew")
    assert "I've asked them; the term is renewed when they say yes too" in first[0].text
    assert (await get_pair(chat, pair_id)).term_end.isoformat() == "2027-05-23"  # type: ignore[union-attr]
    [asked] = await inbox(chat, "alice", "renewal-asked")
    assert "bob would like to renew" in asked.text
    second = await chat.click("alice", asked, "Renew")
    assert "You both said yes" in second[0].text and "Tue 23 Nov 2027" in second[0].text
    pair = await get_pair(chat, pair_id)
    assert pair.term_end is not None and pair.term_end.isoformat() == "2027-11-23"
    assert pair.mentee_renews_at is None and pair.mentor_renews_at is None
    [told] = await inbox(chat, "bob", "pair-renewed")
    assert "alice said yes too" in told.text
    chat.now = datetime(2027, 5, 23, 0, 0, tzinfo=UTC)
    assert "term-end" not in await _sweep(chat)
    assert (await get_pair(chat, pair_id)).state == "active"


async def test_a_decline_completes_the_pairing_with_its_review_at_term_end(chat: Chat) -> None:
    pair_id = await make_pair(chat)
    chat.now = WINDOW
    await chat.say("alice", "met")
    declined = await chat.text("alice", "renew no")
    assert "no renewal" in declined and "completes on Sun 23 May 2027" in declined
    [note] = await inbox(chat, "bob", "renewal-declined")
    assert "alice would rather not renew" in note.text
    answer = await chat.text("bob", "renew")
    assert "alice would rather not renew, so your mentoring completes on Sun 23 May 2027" in (
        answer
    )
    assert (await get_pair(chat, pair_id)).term_end.isoformat() == "2027-05-23"  # type: ignore[union-attr]
    chat.now = datetime(2027, 5, 23, 0, 0, tzinfo=UTC)
    await _sweep(chat)
    pair = await get_pair(chat, pair_id)
    assert pair.state == "completed"
    [done] = await inbox(chat, "bob", "term-complete")
    assert "Give feedback" in [b.label for b in done.buttons()]


async def test_the_decliner_can_change_their_mind_before_the_end(chat: Chat) -> None:
    pair_id = await make_pair(chat)
    chat.now = WINDOW
    await chat.say("alice", "renew no")
    await chat.say("alice", "renew")
    reply = await chat.text("bob", "renew")
    assert "You both said yes" in reply
    assert (await get_pair(chat, pair_id)).term_end.isoformat() == "2027-11-23"  # type: ignore[union-attr]
