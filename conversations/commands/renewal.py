"""`renew [with @person]` and `renew no`: renewing a pairing takes both people.

Renewal is offered in the renewal window (`term.renewal_notice` before the term's end;
the sweep asks both then). Inside it each side says yes or no: the term is extended
when both have said yes; a no from either means the pairing completes at the term's
end, with its review, as any term does. Outside the window `renew` says when it opens
and changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from conversations.dates import add_months, today_in
from conversations.followthrough.plan import refresh_due, term_ends_at
from conversations.grammar import ParsedLine
from conversations.messages import Button, Buttons, Message, Text
from conversations.pair_context import choose_pair
from conversations.partners import partner_of
from conversations.turn import Turn, enqueue_for_person
from storage.meetings import scheduled_meeting
from storage.models import Pair
from storage.states import PairState

OPEN = (PairState.ACTIVE, PairState.PAUSED)
DECLINE_WORDS = ("no", "decline", "not")


def renewal_opens_at(pair: Pair, turn: Turn) -> datetime | None:
    ends = term_ends_at(pair, turn.policy)
    return None if ends is None else ends - turn.policy.follow.renewal_lead


def _said_yes(pair: Pair, person_id: int) -> datetime | None:
    return pair.mentee_renews_at if person_id == pair.mentee_id else pair.mentor_renews_at


def _set_yes(pair: Pair, person_id: int, when: datetime | None) -> None:
    if person_id == pair.mentee_id:
        pair.mentee_renews_at = when
    else:
        pair.mentor_renews_at = when


def renewal_buttons(pair_id: int) -> Buttons:
    return Buttons(
        (
            Button("Renew", value=f"renew pair:{pair_id}", style="primary"),
            Button("Don't renew", value=f"renew no pair:{pair_id}"),
        )
    )


async def _tell_partner(turn: Turn, pair: Pair, kind: str, text: str, ask: bool) -> None:
    other = partner_of(pair, turn.person.id)
    blocks = (Text(text), renewal_buttons(pair.id)) if ask else (Text(text),)
    await enqueue_for_person(
        turn.session,
        other,
        f"{kind}:{pair.id}:{turn.now.isoformat()}:{other}",
        kind,
        Message.of(*blocks),
        turn.now,
    )


async def renew(turn: Turn, line: ParsedLine) -> list[Message]:
    pair, rest = await choose_pair(turn, line.args, verb="renew", states=OPEN)
    partner = await turn.partner_name(pair)
    declining = any(word.lower() in DECLINE_WORDS for word in rest)
    opens = renewal_opens_at(pair, turn)
    if pair.term_end is None or opens is None:
        text = f"Your pairing with {partner} has no end date, so there is nothing to renew."
        return [Message.of(Text(text))]
    ends = f"{pair.term_end:%a %d %b %Y}"
    if turn.now < opens:
        text = (
            f"Your term with {partner} runs until {ends}. Renewal opens on "
            f"{today_in(opens, turn.policy.default_timezone):%a %d %b %Y}: I'll ask you both "
            "then, and it is "
            "renewed when you both say yes. Nothing has changed yet."
        )
        return [Message.of(Text(text))]
    me = await turn.display_name(turn.person.id)
    if declining:
        _set_yes(pair, turn.person.id, None)
        pair.renewal_declined_at, pair.renewal_declined_by_id = turn.now, turn.person.id
        await turn.audit("pair.renewal.decline", pair=pair.id)
        await _tell_partner(
            turn,
            pair,
            "renewal-declined",
            f"{me} would rather not renew your mentoring. It completes as planned on {ends}, "
            "with a short look back from each of you.",
            ask=False,
        )
        text = (
            f"Noted: no renewal. Your mentoring with {partner} completes on {ends}, with a "
            "short review then. Changed your mind? `/mentor renew` before then."
        )
        return [Message.of(Text(text))]
    if pair.renewal_declined_at is not None and pair.renewal_declined_by_id != turn.person.id:
        text = (
            f"{partner} would rather not renew, so your mentoring completes on {ends}. "
            "Thank you for the time you gave it!"
        )
        return [Message.of(Text(text))]
    pair.renewal_declined_at = pair.renewal_declined_by_id = None
    _set_yes(pair, turn.person.id, turn.now)
    if _said_yes(pair, partner_of(pair, turn.person.id)) is None:
        await turn.audit("pair.renewal.yes", pair=pair.id)
        await _tell_partner(
            turn,
            pair,
            "renewal-asked",
            f"{me} would like to renew your mentoring for another term (it now ends on "
            f"{ends}). Renew too?",
            ask=True,
        )
        text = (
            f"Noted: you'd like to renew with {partner}. I've asked them; the term is "
            "renewed when they say yes too."
        )
        return [Message.of(Text(text))]
    pair.term_end = add_months(pair.term_end, turn.policy.follow.term_months)
    pair.mentee_renews_at = pair.mentor_renews_at = pair.renewal_asked_at = None
    refresh_due(pair, await scheduled_meeting(turn.session, pair.id), turn.policy)
    await turn.audit("pair.renew", pair=pair.id, term_end=pair.term_end.isoformat())
    until = f"{pair.term_end:%a %d %b %Y}"
    await _tell_partner(
        turn,
        pair,
        "pair-renewed",
        f"{me} said yes too: your mentoring is renewed for another term, until {until}.",
        ask=False,
    )
    text = f"You both said yes: your mentoring with {partner} is renewed until {until}."
    return [Message.of(Text(text))]
