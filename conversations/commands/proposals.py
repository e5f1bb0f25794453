"""`accept` and `decline [reason]`: answering a proposed match; and the sweeper that
expires proposals nobody answered in time.

With several open proposals a person names one: `accept @person` (the buttons carry
the pair as `#id`). Both yes → the pair becomes active (conversations/matching/
activation.py). A decline ends the proposal and frees both for the next round; the
other person waits with priority.
"""

from __future__ import annotations

from conversations.grammar import ParsedLine, parse_mention
from conversations.matching.activation import activate_pair
from conversations.matching.messages import simple
from conversations.messages import Button, Message
from conversations.partners import partner_of
from conversations.router import CommandSpec
from conversations.sweeps import DueItem, SweepContext
from conversations.turn import Refusal, Turn, enqueue_for_person
from storage import people
from storage.models import Pair
from storage.pairs import pairs_of
from storage.people import set_match_priority
from storage.proposals import expired_proposals
from storage.states import PairState, ProfileStatus


def _mine_to_answer(pair: Pair, person_id: int) -> bool:
    if pair.mentee_id == person_id:
        return pair.mentee_accepted_at is None
    return pair.mentor_id == person_id and pair.mentor_accepted_at is None


async def _pick(turn: Turn, line: ParsedLine, verb: str) -> tuple[Pair, list[str]]:
    """The proposal the speaker means, and the words left over (a decline's reason)."""
    proposed = await pairs_of(turn.session, turn.person.id, turn.program.id, (PairState.PROPOSED,))
    open_ = [p for p in proposed if _mine_to_answer(p, turn.person.id)]
    words = list(line.args)
    if words and words[0].startswith("#") and words[0][1:].isdigit():
        wanted = int(words[0][1:])
        chosen = [p for p in open_ if p.id == wanted]
        if not chosen:
            raise Refusal(
                "That proposal is no longer open (it was answered, withdrawn or expired). "
                "`/mentor status` shows what is open."
            )
        return chosen[0], words[1:]
    mention = parse_mention(words[0]) if words else None
    if mention is not None:
        identity = await turn.resolve_mention(mention)
        chosen = [p for p in open_ if identity.person_id in (p.mentee_id, p.mentor_id)]
        if not chosen:
            raise Refusal(
                f"You have no open proposal with {mention.label()} to {verb}. "
                "`/mentor status` shows your open proposals."
            )
        return chosen[0], words[1:]
    if not open_:
        waiting = [p for p in proposed if not _mine_to_answer(p, turn.person.id)]
        if waiting:
            raise Refusal(
                "You've already answered your open proposal; I'm waiting for the other person."
            )
        raise Refusal(f"You have no open proposal to {verb}. `/mentor status` shows where you are.")
    if len(open_) > 1:
        others = [p.mentor_id if p.mentee_id == turn.person.id else p.mentee_id for p in open_]
        await turn.prefetch_names(others)
        buttons = []
        names = []
        for pair, other in zip(open_, others, strict=True):
            name = await turn.display_name(other)
            names.append(name)
            buttons.append(Button(f"{verb.capitalize()} {name}", value=f"{verb} #{pair.id}"))
        mentions = [await turn.mention_of(o) for o in others]
        raise Refusal(
            simple(
                f"You have {len(open_)} open proposals ({', '.join(names)}). Which one? "
                f"e.g. `/mentor {verb} {mentions[0]}`",
                *buttons,
            )
        )
    return open_[0], words


async def accept(turn: Turn, line: ParsedLine) -> list[Message]:
    pair, _ = await _pick(turn, line, "accept")
    as_mentee = pair.mentee_id == turn.person.id
    other = pair.mentor_id if as_mentee else pair.mentee_id
    if as_mentee:
        pair.mentee_accepted_at = turn.now
    else:
        pair.mentor_accepted_at = turn.now
    await turn.audit("proposal.accept", pair=pair.id)
    name = await turn.display_name(other)
    if pair.mentee_accepted_at and pair.mentor_accepted_at:
        await activate_pair(turn.session, turn.policy, turn.program, pair, turn.now)
        return [
            simple(
                f"Accepted. You and {name} are now paired; I've sent you both the next steps.",
                Button("My status", value="status"),
            )
        ]
    return [
        simple(
            f"Accepted. I'm waiting for {name}'s answer and will tell you as soon as they reply.",
            Button("My status", value="status"),
        )
    ]


async def decline(turn: Turn, line: ParsedLine) -> list[Message]:
    pair, words = await _pick(turn, line, "decline")
    reason = " ".join(words).strip()[:500] or None
    as_mentee = pair.mentee_id == turn.person.id
    other = pair.mentor_id if as_mentee else pair.mentee_id
    pair.state = PairState.ENDED
    pair.ended_at = turn.now
    pair.proposal_expires_at = None
    pair.end_reason = f"declined by {'mentee' if as_mentee else 'mentor'}" + (
        f": {reason}" if reason else ""
    )
    await set_match_priority(turn.session, turn.program.id, [other], turn.now)
    await turn.audit("proposal.decline", pair=pair.id)
    me = await turn.display_name(turn.person.id)
    text = (
        f"{me} can't take up this match, so it won't go ahead. "
        "You're back in the pool with priority for the next round."
    )
    await enqueue_for_person(
        turn.session,
        other,
        f"proposal-declined:{pair.id}",
        "proposal-declined",
        simple(text, Button("My status", value="status")),
        turn.now,
    )
    name = await turn.display_name(other)
    noted = " I noted your reason." if reason else ""
    return [
        simple(
            f"Declined: no match with {name}.{noted} You stay in the pool for the next round "
            "(or `/mentor pause` to step out for a while).",
            Button("My status", value="status"),
        )
    ]


ACCEPT = CommandSpec(
    name="accept",
    usage="accept [@person]",
    summary="Say yes to a proposed match.",
    details="With several open proposals, name the person.",
    examples=("accept", "accept @sofia"),
    handler=accept,
    group="Matching",
)
DECLINE = CommandSpec(
    name="decline",
    usage="decline [@person] [reason]",
    summary="Say no to a proposed match (a reason is optional and helps).",
    examples=("decline", "decline @sofia not the right time"),
    handler=decline,
    group="Matching",
)


async def sweep_proposals(ctx: SweepContext) -> list[DueItem]:
    """End proposals nobody answered in time; ask the silent side whether to stay in the
    pool (they are paused until they say so) and give the other side priority."""
    items: list[DueItem] = []
    for pair in await expired_proposals(ctx.session, ctx.program.id, ctx.now):
        silent = [
            person
            for person, answered in (
                (pair.mentee_id, pair.mentee_accepted_at),
                (pair.mentor_id, pair.mentor_accepted_at),
            )
            if answered is None
        ]
        waited = [p for p in (pair.mentee_id, pair.mentor_id) if p not in silent]
        pair.state = PairState.ENDED
        pair.ended_at = ctx.now
        pair.end_reason = "expired without an answer"
        names = await people.display_names(ctx.session, [pair.mentee_id, pair.mentor_id])
        for person in silent:
            other = partner_of(pair, person)
            profile = await people.get_profile(ctx.session, person, ctx.program.id)
            if profile is not None and profile.status == ProfileStatus.ACTIVE:
                profile.status = ProfileStatus.PAUSED
                profile.paused_until = None
                profile.updated_at = ctx.now
            text = (
                f"The proposed match with {names.get(other, 'your match')} expired without "
                "your answer. Do you want to stay in the pool for the next round? Until you "
                "say so I won't propose anyone."
            )
            key = f"proposal-expired:{pair.id}:{person}"
            queued = await enqueue_for_person(
                ctx.session,
                person,
                key,
                "proposal-expired",
                simple(
                    text,
                    Button("Stay in the pool", value="resume", style="primary"),
                    Button("Leave the program", value="leave"),
                ),
                ctx.now,
            )
            items.append(DueItem(key, "proposal-expired", person, text, queued))
        if waited:
            await set_match_priority(ctx.session, ctx.program.id, waited, ctx.now)
        for person in waited:
            other = partner_of(pair, person)
            text = (
                f"{names.get(other, 'Your match')} didn't answer in time, so that match won't "
                "go ahead. You're back in the pool with priority for the next round."
            )
            key = f"proposal-lapsed:{pair.id}:{person}"
            queued = await enqueue_for_person(
                ctx.session, person, key, "proposal-lapsed", simple(text), ctx.now
            )
            items.append(DueItem(key, "proposal-lapsed", person, text, queued))
    return items
