"""The pair's agreement: goals, how often they meet, for how long, and confidentiality.

When a pair becomes active (`begin_agreement`, called by matching) both people get
the proposed terms with "I agree" and "Change terms". A change resets the other
person's agreement and asks them again; when both have agreed the agreement is
confirmed and both are asked to schedule their first meeting.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.dates import add_months, today_in
from conversations.followthrough.messages import agreement_message, agreement_terms
from conversations.followthrough.plan import refresh_due
from conversations.followthrough.policy import CADENCE_DAYS, CADENCE_WORDS
from conversations.grammar import ParsedLine
from conversations.messages import (
    Button,
    Buttons,
    Fields,
    Form,
    Input,
    Message,
    Option,
    Text,
)
from conversations.pair_context import choose_pair, pair_input
from conversations.partners import partner_of
from conversations.policy import Policy
from conversations.router import CommandSpec
from conversations.turn import Refusal, Turn, enqueue_for_person
from conversations.wording import program_phrase
from storage import people
from storage.meetings import scheduled_meeting
from storage.models import Pair, Program
from storage.people import recipients

TERMS = (3, 6, 9, 12)


async def begin_agreement(
    session: AsyncSession, policy: Policy, program: Program, pair: Pair, now: datetime
) -> None:
    """Propose the agreement to both people of a pair that just became active.

    Fills the defaults (cadence from app.yaml, term from app.yaml, goals from the
    mentee's profile), starts the silence clock, and queues the proposal to both.
    """
    mentee_profile = await people.get_profile(session, pair.mentee_id, program.id)
    pair.cadence = pair.cadence or policy.cadence
    if pair.term_end is None:
        start = today_in(now, policy.default_timezone)
        pair.term_end = add_months(start, policy.follow.term_months)
    if pair.goals is None and mentee_profile is not None:
        pair.goals = mentee_profile.goals
    pair.silent_since = pair.silent_since or now
    pair.mentee_agreed_at = pair.mentor_agreed_at = pair.agreement_confirmed_at = None
    pair.agreement_reminded_at = None
    refresh_due(pair, None, policy)
    # Names and each one's platform in one go, for the two messages below.
    found = await recipients(session, [pair.mentee_id, pair.mentor_id], program.id)
    for person in (pair.mentee_id, pair.mentor_id):
        other = found.get(partner_of(pair, person))
        partner = other.name if other else "your partner"
        me = found.get(person)
        role = "mentee" if person == pair.mentee_id else "mentor"
        intro = (
            f"You're now paired with {partner} in {program_phrase(program.name)}! "
            "First, agree on how you'll work together:"
        )
        await enqueue_for_person(
            session,
            person,
            f"agreement:{pair.id}:{role}",
            "agreement",
            agreement_message(pair, partner, intro),
            now,
            platform=me.platform if me else None,
        )


def _agreed(pair: Pair, person_id: int) -> bool:
    return bool(pair.mentee_agreed_at if person_id == pair.mentee_id else pair.mentor_agreed_at)


async def _agree(turn: Turn, pair: Pair) -> list[Message]:
    me, other = turn.person.id, partner_of(pair, turn.person.id)
    partner = await turn.display_name(other)
    if pair.agreement_confirmed_at is not None:
        text = f"Your agreement with {partner} is already confirmed."
        return [Message.of(Text(text), Fields(agreement_terms(pair)))]
    if me == pair.mentee_id:
        pair.mentee_agreed_at = turn.now
    else:
        pair.mentor_agreed_at = turn.now
    await turn.audit("agreement.agree", pair=pair.id)
    if not _agreed(pair, other):
        text = f"Thanks! Waiting for {partner} to agree too; I'll tell you when they do."
        return [Message.of(Text(text))]
    pair.agreement_confirmed_at = turn.now
    me_name = await turn.display_name(me)
    schedule = Buttons(
        (Button("Schedule our first meeting", value=f"schedule pair:{pair.id}", style="primary"),)
    )
    note = (
        f"{me_name} agreed too: your mentoring agreement is confirmed. "
        f"Next, pick a date for your first meeting: `/mentor schedule WHEN with @{me_name}`."
    )
    await enqueue_for_person(
        turn.session,
        other,
        f"agreement-confirmed:{pair.id}:{other}",
        "agreement-confirmed",
        Message.of(Text(note), schedule),
        turn.now,
    )
    mention = await turn.mention_of(other)
    text = (
        f"Agreement confirmed with {partner}. Next, pick a date for your first meeting: "
        f"`/mentor schedule WHEN with {mention}`, e.g. `schedule tomorrow 3pm with {mention}`."
    )
    return [Message.of(Text(text), schedule)]


def _form(pair: Pair, partner: str, errors: dict[str, str] | None = None) -> Form:
    errors = errors or {}
    months = "6"
    if pair.term_end is not None and pair.activated_at is not None:
        days = (pair.term_end - pair.activated_at.date()).days
        months = str(min(TERMS, key=lambda t: abs(t * 30.4 - days)))
    return Form(
        form_id="agreement",
        title=f"Agreement with {partner}",
        inputs=(
            pair_input(pair, partner),
            Input("goals", "Goals", "multiline", pair.goals or "", error=errors.get("goals", "")),
            Input(
                "cadence",
                "How often you meet",
                "select",
                pair.cadence or "biweekly",
                options=tuple(Option(c, CADENCE_WORDS[c]) for c in CADENCE_DAYS),
                error=errors.get("cadence", ""),
            ),
            Input(
                "term",
                "For how long (months)",
                "select",
                months,
                options=tuple(Option(str(t), f"{t} months") for t in TERMS),
                error=errors.get("term", ""),
            ),
        ),
        submit_label="Propose these terms",
    )


async def agreement(turn: Turn, line: ParsedLine) -> list[Message]:
    pair, rest = await choose_pair(turn, line.args, verb="agreement")
    partner = await turn.partner_name(pair)
    word = rest[0].lower() if rest else ""
    if word in ("agree", "yes", "ok", "confirm"):
        return await _agree(turn, pair)
    if word in ("edit", "change"):
        text = f"Change the terms with {partner}; they'll be asked to confirm."
        return [Message.of(Text(text), _form(pair, partner))]
    if word:
        raise Refusal(
            f"I understood `agreement` but not “{' '.join(rest)[:40]}”. Use `/mentor agreement` "
            "to see it, `/mentor agreement agree` or `/mentor agreement edit`."
        )
    state = (
        "Confirmed."
        if pair.agreement_confirmed_at
        else ("You agreed; waiting for " + partner + "." if _agreed(pair, turn.person.id) else "")
    )
    return [agreement_message(pair, partner, f"Your agreement with {partner}. {state}".strip())]


async def submit(turn: Turn, fields: dict[str, str]) -> list[Message]:
    pair, _ = await choose_pair(turn, (f"pair:{fields.get('pair', '')}",), verb="agreement")
    partner_id = partner_of(pair, turn.person.id)
    partner = await turn.display_name(partner_id)
    errors: dict[str, str] = {}
    cadence = fields.get("cadence", pair.cadence or "").strip()
    if cadence not in CADENCE_DAYS:
        errors["cadence"] = "Pick weekly, biweekly or monthly."
    term = fields.get("term", "").strip()
    if term not in {str(t) for t in TERMS}:
        errors["term"] = "Pick 3, 6, 9 or 12 months."
    goals = fields.get("goals", "").strip()
    if len(goals) > 2000:
        errors["goals"] = "Keep the goals under 2000 characters."
    if errors:
        text = "Some terms need another look: " + " ".join(errors.values())
        return [Message.of(Text(text), _form(pair, partner, errors))]
    start = (pair.activated_at or turn.now).date()
    term_end = add_months(start, int(term))
    changed = (goals or None, cadence, term_end) != (pair.goals, pair.cadence, pair.term_end)
    if not changed:
        return await _agree(turn, pair)
    pair.goals, pair.cadence, pair.term_end = goals or None, cadence, term_end
    pair.agreement_confirmed_at = None
    pair.mentee_agreed_at = pair.mentor_agreed_at = None
    if pair.term_end <= today_in(turn.now, turn.timezone) + timedelta(days=1):
        pair.term_end = add_months(today_in(turn.now, turn.timezone), int(term))
    await turn.audit("agreement.change", pair=pair.id)
    meeting = await scheduled_meeting(turn.session, pair.id)
    refresh_due(pair, meeting, turn.policy)
    me = await turn.display_name(turn.person.id)
    await enqueue_for_person(
        turn.session,
        partner_id,
        f"agreement-change:{pair.id}:{turn.now.isoformat()}:{partner_id}",
        "agreement",
        agreement_message(pair, me, f"{me} proposed new terms for your mentoring agreement:"),
        turn.now,
    )
    reply = await _agree(turn, pair)
    text = f"New terms saved and sent to {partner} to confirm."
    return [Message.of(Text(text), Fields(agreement_terms(pair))), *reply]


COMMAND = CommandSpec(
    name="agreement",
    usage="agreement [agree|edit] [with @person]",
    summary="See, agree to or change your pair's agreement (goals, how often, how long).",
    details="Both people confirm the agreement; a change is sent to the other to confirm.",
    examples=("agreement", "agreement agree", "agreement edit with @sam"),
    handler=agreement,
    forms={"agreement": submit},
    group="Meeting",
)
