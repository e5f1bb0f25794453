"""`request @person`: a mentee asks a specific mentor; the mentor accepts or declines.

The hard constraints still hold (capacity, the mentee's limit, never someone up the
mentee's reporting line). A pair that ended before may be asked again: the mentee
asks and the mentor must accept, so both ask.
"""

from __future__ import annotations

from datetime import timedelta

from conversations.grammar import ParsedLine, parse_mention
from conversations.matching.messages import expiry_text, proposal_message, simple
from conversations.matching.pool import reporting_lines
from conversations.messages import Button, Message
from conversations.router import CommandSpec
from conversations.turn import Refusal, Turn, enqueue_for_person
from conversations.wording import plural
from storage import people
from storage.models import Pair
from storage.pairs import OPEN_STATES, pair_between
from storage.proposals import load_pool
from storage.states import PairState, ProfileStatus


async def request(turn: Turn, line: ParsedLine) -> list[Message]:
    mention = parse_mention(line.args[0]) if line.args else None
    if mention is None:
        raise Refusal("Whom would you like as a mentor? Use `/mentor request @person`.")
    profile = turn.profile
    if (
        profile is None
        or profile.status != ProfileStatus.ACTIVE
        or profile.role not in ("mentee", "both")
    ):
        raise Refusal(
            "Only an active mentee can request a mentor. Join with `/mentor join mentee` "
            "(or `resume` if you're paused)."
        )
    identity = await turn.resolve_mention(mention)
    mentor_id = identity.person_id
    label = mention.label()
    if mentor_id == turn.person.id:
        raise Refusal("You can't be your own mentor. Name someone else: `/mentor request @person`.")
    mentor = await people.get_profile(turn.session, mentor_id, turn.program.id)
    if (
        mentor is None
        or mentor.status != ProfileStatus.ACTIVE
        or mentor.role not in ("mentor", "both")
    ):
        raise Refusal(f"{label} isn't an active mentor in the program, so I can't ask them.")
    if await pair_between(turn.session, turn.program.id, turn.person.id, mentor_id, OPEN_STATES):
        raise Refusal(f"You and {label} already have a pair or a proposal open.")
    rows = await load_pool(turn.session, turn.program.id)
    if mentor_id in reporting_lines(rows.managers, [turn.person.id])[turn.person.id]:
        raise Refusal(
            f"{label} is in your reporting line; mentoring works best outside it. "
            "Pick someone else."
        )
    limit = turn.policy.matching.mentee_max_mentors
    if rows.open_as_mentee.get(turn.person.id, 0) >= limit:
        raise Refusal(
            f"You already have {plural(limit, 'mentor')} or open proposals, the program's limit."
        )
    capacity = (
        mentor.capacity if mentor.capacity is not None else turn.policy.mentor_capacity_default
    )
    if rows.open_as_mentor.get(mentor_id, 0) >= capacity:
        raise Refusal(f"{label} has no room for another mentee right now.")
    expires = turn.now + timedelta(days=turn.policy.matching.proposal_days)
    pair = Pair(
        program_id=turn.program.id,
        mentee_id=turn.person.id,
        mentor_id=mentor_id,
        state=PairState.PROPOSED,
        reasons=["asked for by the mentee"],
        proposed_at=turn.now,
        proposal_expires_at=expires,
        mentee_accepted_at=turn.now,
        lapse_step=0,
        lapse_cycle=0,
    )
    turn.session.add(pair)
    await turn.session.flush()
    await turn.audit("pair.request", pair=pair.id)
    me = await turn.display_name(turn.person.id)
    wants = ", ".join(profile.wants[:3])
    await enqueue_for_person(
        turn.session,
        mentor_id,
        f"proposal:{pair.id}:{mentor_id}",
        "proposal",
        proposal_message(
            pair_id=pair.id,
            other_name=me,
            as_mentee=False,
            reasons=[f"{me} wants to learn {wants}" if wants else f"{me} asked for you by name"],
            expires=expiry_text(expires, turn.policy.default_timezone),
            requested=True,
        ),
        turn.now,
    )
    name = await turn.display_name(mentor_id)
    return [
        simple(
            f"I've asked {name} to be your mentor. They have until "
            f"{expiry_text(expires, turn.timezone)} to answer; I'll tell you.",
            Button("My status", value="status"),
        )
    ]


COMMAND = CommandSpec(
    name="request",
    usage="request @person",
    summary="Ask a specific mentor to mentor you.",
    examples=("request @sofia",),
    handler=request,
    group="Matching",
)
