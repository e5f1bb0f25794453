"""A matching round: load the pool, score, solve, then store the proposals, message
both sides of each and tell everyone left unmatched why (they get priority next time).

A dry run computes the same proposals and writes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.matching.messages import expiry_text, proposal_message, unmatched_message
from conversations.matching.pool import Mentee, Mentor, Pool, reporting_lines
from conversations.messages import to_dict
from conversations.policy import Policy
from storage.models import Program
from storage.outbox import enqueue_rows
from storage.people import display_names_many, last_seen_platforms, set_match_priority
from storage.proposals import PoolRows, claim_round, finish_round, insert_proposals, load_pool
from storage.states import OutboxStatus, PairState

if TYPE_CHECKING:  # numpy, SciPy and OR-Tools load when a round runs, not with the engine
    from conversations.matching.solve import Solution

# (phase, done, total); scoring, solving and pricing report from the solver's thread.
Progress = Callable[[str, int, int], None]
# Threads for the solver's blocks of numpy work (which releases the GIL); the solve
# itself runs off the event loop, so the loop stays free meanwhile.
SOLVER_THREADS = 2


@dataclass(frozen=True)
class Proposal:
    mentee_id: int
    mentor_id: int
    score: float
    reasons: list[str]
    pair_id: int | None = None
    # The reasons as each of the two reads them (about the other person); empty: `reasons`.
    for_mentee: tuple[str, ...] = ()
    for_mentor: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoundResult:
    proposals: list[Proposal]
    unmatched: dict[int, str]  # person → why
    mentees_in_pool: int
    mentors_in_pool: int
    solution: Solution
    names: dict[int, str]

    @property
    def coverage(self) -> float:
        """Share of the mentees in the pool who got a proposal."""
        return len(self.proposals) / self.mentees_in_pool if self.mentees_in_pool else 0.0

    @property
    def mean_score(self) -> float:
        return self.solution.mean_score


def no_progress(phase: str, done: int, total: int) -> None:
    return None


def build_pool(rows: PoolRows, policy: Policy) -> Pool:
    """The solver's input: who may be matched, net of open pairs, and who may not meet whom."""
    limit = policy.matching.mentee_max_mentors
    mentees: list[Mentee] = []
    mentors: list[Mentor] = []
    for p in rows.profiles:
        if p.role in ("mentee", "both"):
            open_count = rows.open_as_mentee.get(p.person_id, 0)
            if open_count < limit:
                mentees.append(
                    Mentee(
                        p.person_id,
                        tuple(p.wants),
                        p.goals or "",
                        p.department,
                        p.level,
                        p.timezone,
                        tuple(p.languages),
                        tuple(p.prefers),
                        p.priority_since is not None,
                        open_count,
                    )
                )
        if p.role in ("mentor", "both"):
            capacity = p.capacity if p.capacity is not None else policy.mentor_capacity_default
            left = capacity - rows.open_as_mentor.get(p.person_id, 0)
            if left > 0:
                done, lapsed = rows.track.get(p.person_id, (0, 0))
                mentors.append(
                    Mentor(
                        p.person_id,
                        tuple(p.offers),
                        p.department,
                        p.level,
                        p.timezone,
                        tuple(p.languages),
                        p.priority_since is not None,
                        left,
                        done,
                        lapsed,
                    )
                )
    mentor_ids = {m.person_id for m in mentors}
    forbidden: set[tuple[int, int]] = set()
    lines = reporting_lines(rows.managers, [m.person_id for m in mentees])
    for mentee_id, above in lines.items():
        for boss in above & mentor_ids:
            forbidden.add((mentee_id, boss))
    forbidden |= rows.past_pairs
    forbidden |= rows.open_pairs
    return Pool(mentees, mentors, forbidden)


async def run_round(
    session: AsyncSession,
    policy: Policy,
    program: Program,
    now: datetime,
    *,
    dry_run: bool = False,
    progress: Progress = no_progress,
) -> RoundResult:
    pool = build_pool(await load_pool(session, program.id), policy)
    progress("loading", 1, 1)
    everyone = [m.person_id for m in pool.mentees] + [m.person_id for m in pool.mentors]
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(SOLVER_THREADS, thread_name_prefix="matching") as workers:
        # The solve waits on the workers from a thread of its own (the loop's default);
        # meanwhile the session reads who everyone is and where they can be reached.
        solving = loop.run_in_executor(None, _solve_pool, pool, policy, now, progress, workers)
        try:
            known = await display_names_many(session, everyone)
            platforms = {} if dry_run else await last_seen_platforms(session, everyone)
        finally:
            solution = await solving
    # Loaded by the solve's thread by now, so the event loop never waits for numpy & co.
    from conversations.matching.reasons import pair_reasons
    from conversations.matching.scoring import SCALE

    proposals = [
        Proposal(
            pool.mentees[i].person_id,
            pool.mentors[j].person_id,
            q / SCALE,
            pair_reasons(pool.mentees[i], pool.mentors[j], now, policy.default_timezone),
            for_mentee=tuple(
                pair_reasons(
                    pool.mentees[i],
                    pool.mentors[j],
                    now,
                    policy.default_timezone,
                    reader="mentee",
                    other=known.get(pool.mentors[j].person_id, ""),
                )
            ),
            for_mentor=tuple(
                pair_reasons(
                    pool.mentees[i],
                    pool.mentors[j],
                    now,
                    policy.default_timezone,
                    reader="mentor",
                    other=known.get(pool.mentees[i].person_id, ""),
                )
            ),
        )
        for i, j, q in zip(
            solution.mentees.tolist(),
            solution.mentors.tolist(),
            solution.scores.tolist(),
            strict=True,
        )
    ]
    progress("explaining", 1, 1)
    unmatched = _unmatched(pool, solution)
    people = [p.mentee_id for p in proposals] + [p.mentor_id for p in proposals] + list(unmatched)
    names = {person: known[person] for person in people if person in known}
    if not dry_run:
        proposals = await _store(
            session, policy, program, now, proposals, unmatched, names, platforms, progress
        )
    return RoundResult(proposals, unmatched, len(pool.mentees), len(pool.mentors), solution, names)


def _solve_pool(
    pool: Pool, policy: Policy, now: datetime, progress: Progress, workers: Executor
) -> Solution:
    """Score and solve the pool (blocking: run off the event loop)."""
    import numpy as np

    from conversations.matching.scoring import SCALE, Scorer
    from conversations.matching.solve import solve

    settings = policy.matching
    scorer = Scorer(pool, settings.weights, now, policy.default_timezone)
    mentee_bonus = np.array(
        [
            (settings.first_mentor_bonus if m.open_mentors == 0 else 0.0)
            + (settings.priority_bonus if m.priority else 0.0)
            for m in pool.mentees
        ]
    )
    mentor_bonus = np.array([settings.priority_bonus if m.priority else 0.0 for m in pool.mentors])
    return solve(
        scorer,
        np.rint(mentee_bonus * SCALE).astype(np.int64),
        np.rint(mentor_bonus * SCALE).astype(np.int64),
        candidates_per_mentee=settings.candidates_per_mentee,
        progress=progress,
        executor=workers,
    )


def _unmatched(pool: Pool, solution: Solution) -> dict[int, str]:
    """Everyone in the pool the round left out, with the honest reason."""
    matched_mentees = set(solution.mentees.tolist())
    matched_mentors = set(solution.mentors.tolist())
    reasons: dict[int, str] = {}
    any_capacity = any(m.capacity_left > 0 for m in pool.mentors)
    for i, mentee in enumerate(pool.mentees):
        if i in matched_mentees or mentee.open_mentors > 0:
            continue  # someone with a mentor already is not "left out"
        if not any_capacity:
            reasons[mentee.person_id] = "every mentor is at capacity"
        elif not solution.admissible[i]:
            reasons[mentee.person_id] = (
                "every mentor with room is in your reporting line or was your mentor before"
            )
        else:
            reasons[mentee.person_id] = (
                "the mentors who fit you were all matched with others this round"
            )
    for j, mentor in enumerate(pool.mentors):
        if j not in matched_mentors and mentor.capacity_left > 0 and mentor.past_pairs == 0:
            if mentor.person_id not in reasons:
                reasons[mentor.person_id] = (
                    "no waiting mentee was a better fit with you than with another mentor"
                    if pool.mentees
                    else "no mentee is waiting right now"
                )
    return reasons


async def _store(
    session: AsyncSession,
    policy: Policy,
    program: Program,
    now: datetime,
    proposals: list[Proposal],
    unmatched: dict[int, str],
    names: dict[int, str],
    platforms: dict[int, str],
    progress: Progress = no_progress,
) -> list[Proposal]:
    """Store the proposals and priorities, and queue the messages (to `platforms`, each
    person's reachable platform)."""
    expires = now + timedelta(days=policy.matching.proposal_days)
    ids = await insert_proposals(
        session,
        [
            {
                "program_id": program.id,
                "mentee_id": p.mentee_id,
                "mentor_id": p.mentor_id,
                "state": PairState.PROPOSED,
                "score": p.score,
                "reasons": p.reasons,
                "proposed_at": now,
                "proposal_expires_at": expires,
                "lapse_step": 0,
                "lapse_cycle": 0,
            }
            for p in proposals
        ],
    )
    progress("storing", 1, 4)
    stored = [
        Proposal(p.mentee_id, p.mentor_id, p.score, p.reasons, pair_id, p.for_mentee, p.for_mentor)
        for p, pair_id in zip(proposals, ids, strict=True)
    ]
    matched = [p.mentee_id for p in stored] + [p.mentor_id for p in stored]
    await set_match_priority(session, program.id, matched, None)
    await set_match_priority(session, program.id, list(unmatched), now)
    progress("storing", 2, 4)
    due = expiry_text(expires, policy.default_timezone)
    outbox: list[dict[str, Any]] = []

    def queue(person: int, key: str, kind: str, payload: dict[str, Any]) -> None:
        if person in platforms:
            outbox.append(
                {
                    "idempotency_key": key,
                    "person_id": person,
                    "platform": platforms[person],
                    "kind": kind,
                    "payload": payload,
                    "status": OutboxStatus.PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )

    for p in stored:
        for person, other, as_mentee in (
            (p.mentee_id, p.mentor_id, True),
            (p.mentor_id, p.mentee_id, False),
        ):
            message = proposal_message(
                pair_id=p.pair_id or 0,
                other_name=names.get(other, "someone"),
                as_mentee=as_mentee,
                reasons=list((p.for_mentee if as_mentee else p.for_mentor) or p.reasons),
                expires=due,
            )
            queue(person, f"proposal:{p.pair_id}:{person}", "proposal", to_dict(message))
    stamp = now.isoformat()
    payloads: dict[str, dict[str, Any]] = {}  # a handful of distinct reasons
    for person, reason in unmatched.items():
        if reason not in payloads:
            payloads[reason] = to_dict(unmatched_message(reason))
        queue(person, f"unmatched:{person}:{stamp}", "unmatched", payloads[reason])
    progress("storing", 3, 4)
    await enqueue_rows(session, outbox)
    progress("storing", 4, 4)
    return stored


async def run_recorded_round(
    session: AsyncSession,
    policy: Policy,
    program: Program,
    now: datetime,
    slot: str,
    *,
    started_by: int | None = None,
    progress: Progress = no_progress,
) -> RoundResult | None:
    """Claim the round's slot, run it and record its figures; None if the slot was taken."""
    round_id = await claim_round(session, program.id, slot, now, started_by)
    if round_id is None:
        return None
    result = await run_round(session, policy, program, now, progress=progress)
    await finish_round(
        session,
        round_id,
        proposed=len(result.proposals),
        unmatched=len(result.unmatched),
        total_score=sum(p.score for p in result.proposals),
    )
    return result
