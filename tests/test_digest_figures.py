"""The digest's figures pinned on a small hand-made program, rows written directly, with
the cases the set-based SQL must get right: a mentee with two open pairs, a declined
proposal, a proposal not yet answered, a pair paused, one ended mid-week, a meeting at
the exact end of a week, cancelled and future meetings, a lapsed pair that still had a
meeting in a week, two lapse cycles of one pair, ratings given late or after the digest,
people who joined or left between the two weeks, and a second program that must not
leak in. Every number below was worked out by hand (see the comments)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert

from conversations.digest.figures import Digest, compute_digest
from conversations.digest.messages import digest_message
from conversations.digest.policy import ObjectiveTarget
from conversations.policy import Policy
from storage.database import Database
from storage.models import Lapse, Meeting, MeetingFeedback, Pair, Person, Profile, Program
from storage.programs import ensure_program

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # weeks end on Mondays 09:00 UTC


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


async def seed(db: Database) -> int:
    async with db.transaction() as session:
        program = (await ensure_program(session, "default", "Acme", None, at(9, 1))).id
        other = (await ensure_program(session, "other", "Other", None, at(9, 1))).id
        people = [
            # id, name, program, role, department, joined, left
            (1, "ann", program, "mentee", "Sales", at(10, 1), None),
            (2, "ben", program, "mentor", "Eng", at(10, 1), None),
            (3, "cat", program, "both", "sales", at(10, 1), None),
            (4, "dov", program, "mentee", "Eng", at(12, 3, 10), None),
            (5, "eve", program, "mentee", "Support", at(10, 1), at(12, 2)),
            (6, "fay", program, "mentor", "People", at(10, 1), None),
            (7, "gus", program, "mentee", "Sales", at(10, 1), None),
            (8, "hal", program, "mentee", "Eng", at(10, 1), None),
            (9, "ivy", program, None, None, None, None),  # a draft profile: not taking part
            (10, "jon", other, "mentee", "Sales", at(10, 1), None),
            (11, "kim", other, "mentor", "Sales", at(10, 1), None),
            (12, "lea", program, "mentor", "Eng", at(10, 1), None),
            (13, "max", program, "mentee", "Eng", at(10, 1), None),
        ]
        await session.execute(
            insert(Person),
            [{"id": i, "display_name": n, "created_at": at(9, 1)} for i, n, *_ in people],
        )
        await session.execute(
            insert(Profile),
            [
                {
                    "person_id": i,
                    "program_id": prog,
                    "role": role,
                    "status": "active" if role else "draft",
                    "offers": [],
                    "wants": [],
                    "languages": [],
                    "department": dept,
                    "joined_at": joined,
                    "left_at": left,
                    "updated_at": at(9, 1),
                }
                for i, _, prog, role, dept, joined, left in people
            ],
        )
        pairs: list[dict[str, Any]] = [
            # id, program, mentee, mentor, state, proposed, activated, ended, last held
            dict(id=1, mentee_id=1, mentor_id=2, state="active", proposed_at=at(10, 5),
                 activated_at=at(10, 6), ended_at=None, last_meeting_at=at(12, 7)),
            dict(id=2, mentee_id=3, mentor_id=6, state="active", proposed_at=at(11, 29),
                 activated_at=at(11, 30, 12), ended_at=None, last_meeting_at=None),
            dict(id=3, mentee_id=7, mentor_id=2, state="active", proposed_at=at(10, 19),
                 activated_at=at(10, 20), ended_at=None, last_meeting_at=at(10, 27)),
            dict(id=4, mentee_id=7, mentor_id=6, state="paused", proposed_at=at(10, 31),
                 activated_at=at(11, 1), ended_at=None, last_meeting_at=at(11, 17)),
            dict(id=5, mentee_id=5, mentor_id=2, state="ended", proposed_at=at(10, 9),
                 activated_at=at(10, 10), ended_at=at(12, 2, 10), last_meeting_at=at(11, 14)),
            dict(id=6, mentee_id=8, mentor_id=6, state="declined", proposed_at=at(11, 25),
                 activated_at=None, ended_at=at(11, 27), last_meeting_at=None),
            dict(id=7, mentee_id=4, mentor_id=2, state="proposed", proposed_at=at(12, 6),
                 activated_at=None, ended_at=None, last_meeting_at=None),
            dict(id=8, mentee_id=10, mentor_id=11, state="active", proposed_at=at(10, 1),
                 activated_at=at(10, 2), ended_at=None, last_meeting_at=at(12, 1)),
            dict(id=9, mentee_id=13, mentor_id=12, state="active", proposed_at=at(10, 1),
                 activated_at=at(10, 1), ended_at=None, last_meeting_at=at(11, 30, 10)),
        ]  # fmt: skip
        for row in pairs:
            row.update(program_id=other if row["id"] == 8 else program, lapse_step=0, lapse_cycle=0)
        await session.execute(insert(Pair), pairs)
        meetings = [
            # id, pair, scheduled_at, status
            (1, 1, at(10, 13), "held"),
            (2, 1, at(11, 24, 10), "held"),
            (3, 1, at(12, 1, 10), "cancelled"),
            (4, 1, at(12, 7), "held"),  # exactly at the end of this week: in it
            (5, 1, at(12, 10), "scheduled"),  # after the digest
            (6, 3, at(10, 27), "held"),
            (7, 3, at(11, 10), "skipped"),
            (8, 4, at(11, 3), "held"),
            (9, 4, at(11, 17), "held"),
            (10, 5, at(10, 17), "held"),
            (11, 5, at(11, 14), "held"),
            (12, 8, at(12, 1), "held"),  # the other program
            (13, 3, at(11, 30), "scheduled"),  # end of last week; never marked held
            (14, 9, at(11, 16, 10), "held"),
            (15, 9, at(11, 30, 10), "held"),
        ]
        await session.execute(
            insert(Meeting),
            [
                {
                    "id": i,
                    "pair_id": pair,
                    "scheduled_at": when,
                    "status": status,
                    "created_at": when - timedelta(days=7),
                    "held_at": when if status == "held" else None,
                }
                for i, pair, when, status in meetings
            ],
        )
        lapses = [
            # pair, cycle, began, step, at risk, closed, outcome
            (3, 0, at(11, 20), 2, None, None, None),
            (1, 0, at(11, 1), 1, None, at(11, 24, 10), "recovered"),
            (4, 0, at(11, 25), 4, at(12, 5), None, None),
            (1, 1, at(12, 2), 1, None, at(12, 7), "recovered"),  # closed exactly at NOW
        ]
        await session.execute(
            insert(Lapse),
            [
                {
                    "pair_id": pair,
                    "program_id": program,
                    "cycle": cycle,
                    "began_at": began,
                    "step": step,
                    "at_risk_at": risky,
                    "closed_at": closed,
                    "outcome": outcome,
                }
                for pair, cycle, began, step, risky, closed, outcome in lapses
            ],
        )
        feedback = [
            # meeting, person, rating, given at
            (2, 1, 4, at(11, 24, 12)),
            (2, 2, 5, at(11, 24, 12)),
            (9, 7, 2, at(11, 29)),  # rated late, still last week
            (4, 1, 3, at(12, 7)),
            (4, 2, 5, at(12, 7, 10)),  # after the digest
            (12, 10, 1, at(12, 1)),  # the other program
            (15, 13, None, at(12, 3)),  # met, no rating
        ]
        await session.execute(
            insert(MeetingFeedback),
            [
                {"meeting_id": m, "person_id": p, "met": True, "rating": r, "created_at": t}
                for m, p, r, t in feedback
            ],
        )
    return program


POLICY = Policy(
    program_name="Acme", objective_target=ObjectiveTarget("Mentees from Sales", ("Sales",), 0.5)
)


async def digest_of(db: Database, *, seeded: bool = False) -> Digest:
    if not seeded:
        await seed(db)
    policy = POLICY
    async with db.transaction() as session:
        program = await ensure_program(session, "default", "Acme", None, NOW)
        return await compute_digest(session, program, policy, NOW)


async def test_figures_of_a_hand_made_program(db: Database) -> None:
    d = await digest_of(db)
    now, before = d.figures, d.previous
    # This week (30 Nov 09:00, 7 Dec 09:00]. Taking part: ann ben cat dov fay gus hal lea
    # max (eve left on 2 Dec, ivy is a draft, jon and kim are in the other program).
    # Mentees ann dov gus hal max + cat (both) = 6; all have a pair proposed or open but
    # hal (declined); ann, cat and gus are from Sales (any case): 3 of 6.
    assert {k: v for k, v in now.items() if k.startswith(("participants.", "objective."))} == {
        "participants.total": 9,
        "participants.mentors": 3,
        "participants.mentees": 5,
        "participants.both": 1,
        "participants.waiting": 1,
        "participants.new": 1,  # dov
        "objective.share": 0.5,
        "objective.progress": 1.0,
    }
    # Last week: dov had not joined, eve had not left; nobody joined in that week.
    assert (before["participants.total"], before["participants.mentees"]) == (9, 5)
    assert (before["participants.waiting"], before["participants.new"]) == (1, 0)
    # Pairs: 1, 2 (began 30 Nov 12:00), 3 and 9 active; 4 paused; 5 ended on 2 Dec;
    # 7 proposed; 6 was declined before it began and is not a pair; 8 is elsewhere.
    assert {k: v for k, v in now.items() if k.startswith("pairs.")} == {
        "pairs.proposed": 1,
        "pairs.active": 4,
        "pairs.paused": 1,
        "pairs.completed": 0,
        "pairs.ended": 1,
        "pairs.started_this_week": 1,
        "pairs.ended_this_week": 1,
    }
    # Last week pair 2 was an unanswered proposal, pair 5 still active, 7 not proposed.
    assert {k: v for k, v in before.items() if k.startswith("pairs.")} == {
        "pairs.proposed": 1,
        "pairs.active": 4,
        "pairs.paused": 1,
        "pairs.completed": 0,
        "pairs.ended": 0,
        "pairs.started_this_week": 0,
        "pairs.ended_this_week": 0,
    }
    # Due this week: meetings 4 (at 09:00 sharp) and 15, plus lapsed pairs 3 and 4 with
    # nothing scheduled (pair 1's second lapse had meeting 4). Last week: meetings 2 and
    # 13 (due, never held), plus pair 4 (pair 3 had meeting 13, pair 1 meeting 2).
    assert (now["meetings.due"], now["meetings.held"]) == (4, 2)
    assert now["meetings.follow_through_rate"] == 0.5
    assert (before["meetings.due"], before["meetings.held"]) == (3, 1)
    assert before["meetings.follow_through_rate"] == 0.333
    assert [(w.due, w.held) for w in d.trend] == [
        (0, 0),
        (0, 0),
        (0, 0),
        (0, 0),
        (2, 2),  # meetings 1 and 10
        (0, 0),
        (2, 1),  # meeting 6, and pair 1 lapsed from 1 Nov
        (2, 1),  # meeting 8, pair 1 lapsed
        (3, 1),  # meetings 7 (skipped) and 11, pair 1 lapsed
        (4, 2),  # meetings 9 and 14, pairs 1 and 3 lapsed
        (3, 1),
        (4, 2),
    ]
    assert d.trend[-1].start == NOW - timedelta(days=7)
    # Days since the last meeting over open pairs 1 2 3 4 9: 0, 6.875 (since it began),
    # 41, 20, 6.96 -> 6.96. Last week over 1 3 4 5 9: 5.96, 34, 13, 16, 13.96 -> 13.96.
    assert (now["meetings.median_days_since_last"], before["meetings.median_days_since_last"]) == (
        7.0,
        14.0,
    )
    # Days to the first meeting, pairs that had met: 7, 7, 2, 7, 46.04 -> 7.
    assert now["meetings.median_days_to_first"] == before["meetings.median_days_to_first"] == 7.0
    assert (now["meetings.pairs_not_met_yet"], before["meetings.pairs_not_met_yet"]) == (1, 0)
    # Lapses open now: pair 3 at step 2, pair 4 at step 4 (at risk since 5 Dec); pair 1's
    # second lapse began on 2 Dec and closed at 09:00 sharp, recovered this week.
    lapses = {k: v for k, v in now.items() if k.startswith("lapses.")}
    assert lapses["lapses.open"] == 2 and lapses["lapses.at_risk"] == 1
    assert (lapses["lapses.step_2"], lapses["lapses.step_4"], lapses["lapses.step_1"]) == (1, 1, 0)
    assert (lapses["lapses.begun"], lapses["lapses.recovered"]) == (1, 1)
    assert (before["lapses.open"], before["lapses.at_risk"]) == (2, 0)
    assert (before["lapses.begun"], before["lapses.recovered"]) == (1, 1)
    # Ratings: one this week (3; the 5 came after the digest) is too few to show; last
    # week 4, 5 and a late 2 -> 3.67. The other program's rating never counts.
    assert (now["ratings.average"], now["ratings.count"]) == (None, 1)
    assert (before["ratings.average"], before["ratings.count"]) == (3.67, 3)
    # Week-over-week change on every figure, None where either side is unknown.
    assert d.change["meetings.due"] == 1 and d.change["participants.new"] == 1
    assert d.change["meetings.follow_through_rate"] == 0.167
    assert d.change["meetings.median_days_since_last"] == -7.0
    assert d.change["ratings.average"] is None
    assert set(d.change) == set(d.figures) == set(d.previous)
    # Names: ben's three meetings do not count (his pair 3 is lapsed), fay had one; lea
    # had two in four weeks. At risk: gus and fay (pair 4), no meeting since 17 Nov.
    assert d.recognition == (("lea", 2),)
    assert [(p.mentee, p.mentor, p.since) for p in d.at_risk] == [("gus", "fay", at(11, 17))]


async def test_the_message_shows_the_week_over_week_change(db: Database) -> None:
    digest = await digest_of(db)
    lines = digest_message(digest).text.splitlines()
    assert "1 waiting for a match (±0); 1 new this week (+1)" in lines[2]
    assert lines[4] == (
        "Meetings (last 7 days): 2 held of 4 due (+1 held, +1 due), 1 confirmed by both; "
        "follow-through 50% (+17 pts)"
    )
    assert lines[5] == "Since last meeting: median 7 days (−7)"
    assert lines[6] == "Time to first meeting: median 7 days (±0); 1 pair not met yet (+1)"
    assert lines[7] == (
        "Lapsed pairs: 2 (±0) (step 2: 1, step 4: 1); 1 at risk (+1); 1 recovered this week (±0)"
    )
    # A change too small to show reads as none, not as "−0.0".
    for before, shown in ((4.22, "(±0)"), (4.0, "(+0.2)"), (4.31, "(−0.1)")):
        rated = replace(
            digest,
            figures={**digest.figures, "ratings.average": 4.2, "ratings.count": 3},
            previous={**digest.previous, "ratings.average": before},
        )
        assert f"4.2 / 5 from 3 ratings {shown}" in digest_message(rated).text


async def test_a_program_alone_in_the_database_gets_the_same_figures(db: Database) -> None:
    """With no other program the digest counts meetings and ratings without joining pairs
    to filter by program; the figures must not change."""
    shared = await digest_of(db)
    async with db.transaction() as session:
        await session.execute(delete(Program).where(Program.slug == "other"))
    alone = await digest_of(db, seeded=True)
    assert alone == shared
