"""The solver against an independent optimum (brute force), on small random pools;
and no hard constraint is ever violated."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations.matching.pool import Mentee, Mentor, Pool, reporting_lines
from conversations.matching.scoring import Scorer, quantise
from conversations.matching.settings import DEFAULT_WEIGHTS
from conversations.matching.solve import solve

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
TOPICS = ["python", "public speaking", "leadership", "negotiation", "design"]
ZONES = [None, "UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]

topics = st.lists(st.sampled_from(TOPICS), max_size=3, unique=True).map(tuple)
level = st.one_of(st.none(), st.integers(1, 10))
dept = st.sampled_from([None, "Sales", "Engineering"])
langs = st.lists(st.sampled_from(["en", "de", "fr"]), max_size=2, unique=True).map(tuple)


@st.composite
def pools(draw: st.DrawFn) -> tuple[Pool, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 5))
    m = draw(st.integers(1, 4))
    mentees = [
        Mentee(
            person_id=i + 1,
            wants=draw(topics),
            goals=draw(st.sampled_from(["", "get better at leadership", "learn python design"])),
            department=draw(dept),
            level=draw(level),
            timezone=draw(st.sampled_from(ZONES)),
            languages=draw(langs),
            prefers=tuple(
                draw(st.lists(st.sampled_from(["other-department", "senior"]), unique=True))
            ),
            priority=draw(st.booleans()),
        )
        for i in range(n)
    ]
    # Mentor ids overlap mentee ids sometimes: a "both" person must never mentor themself.
    mentors = [
        Mentor(
            person_id=draw(st.sampled_from([j + 100, 1])) if j == 0 else j + 100,
            offers=draw(topics),
            department=draw(dept),
            level=draw(level),
            timezone=draw(st.sampled_from(ZONES)),
            languages=draw(langs),
            priority=draw(st.booleans()),
            capacity_left=draw(st.integers(0, 3)),
            past_pairs=draw(st.integers(0, 3)),
        )
        for j in range(m)
    ]
    # A reporting line: some mentors manage some mentees, possibly two levels up.
    managers: dict[int, int] = {}
    for mentee in mentees:
        if draw(st.booleans()):
            managers[mentee.person_id] = draw(st.sampled_from([x.person_id for x in mentors]))
    if bool(mentors) and draw(st.booleans()):
        managers[mentors[0].person_id] = mentors[-1].person_id
    forbidden = {
        (a, b)
        for a, above in reporting_lines(managers, [x.person_id for x in mentees]).items()
        for b in above
    }
    for mentee in mentees:
        for mentor in mentors:
            if draw(st.integers(0, 9)) == 0:
                forbidden.add((mentee.person_id, mentor.person_id))  # a past pair
    mentee_bonus = np.array([draw(st.sampled_from([0, 5000, 10000])) for _ in mentees])
    mentor_bonus = np.array([draw(st.sampled_from([0, 5000])) for _ in mentors])
    return Pool(mentees, mentors, forbidden), mentee_bonus, mentor_bonus


def brute_force(
    pool: Pool, q: np.ndarray, mentee_bonus: np.ndarray, mentor_bonus: np.ndarray
) -> int:
    """Best objective by trying every assignment of each mentee to a mentor or nobody."""
    n, m = q.shape
    best = 0
    for choice in itertools.product(range(-1, m), repeat=n):
        load = [0] * m
        total = 0
        ok = True
        for i, j in enumerate(choice):
            if j < 0:
                continue
            if q[i, j] < 0:
                ok = False
                break
            load[j] += 1
            total += int(q[i, j]) + int(mentee_bonus[i])
        if not ok or any(load[j] > pool.mentors[j].capacity_left for j in range(m)):
            continue
        total += sum(int(mentor_bonus[j]) for j in range(m) if load[j] > 0)
        best = max(best, total)
    return best


@settings(max_examples=150, deadline=None)
@given(pools(), st.integers(1, 3), st.sampled_from([None, 1, 2]))
def test_solver_matches_brute_force_and_respects_constraints(
    case: tuple[Pool, np.ndarray, np.ndarray], keep: int, sample: int | None
) -> None:
    pool, mentee_bonus, mentor_bonus = case
    scorer = Scorer(pool, DEFAULT_WEIGHTS, NOW)
    n, _ = scorer.shape
    raw = scorer.block(np.arange(n))
    q = np.where(np.isfinite(raw), quantise(np.where(np.isfinite(raw), raw, 0)), -1)
    solution = solve(
        scorer, mentee_bonus, mentor_bonus, candidates_per_mentee=keep, sample_size=sample
    )
    assert solution.certified
    assert solution.objective == brute_force(pool, q, mentee_bonus, mentor_bonus)
    # Hard constraints, checked from the pool itself, not from the scorer's masks.
    pairs = list(zip(solution.mentees.tolist(), solution.mentors.tolist(), strict=True))
    assert len(set(i for i, _ in pairs)) == len(pairs)  # one new mentor per mentee per round
    for j, mentor in enumerate(pool.mentors):
        assert sum(1 for _, b in pairs if b == j) <= mentor.capacity_left
    for i, j in pairs:
        mentee, mentor = pool.mentees[i], pool.mentors[j]
        assert mentee.person_id != mentor.person_id
        assert (mentee.person_id, mentor.person_id) not in pool.forbidden
    assert all(0 <= s <= 10_000 for s in solution.scores.tolist())


def test_reporting_lines_follow_the_chain_and_survive_cycles() -> None:
    lines = reporting_lines({1: 2, 2: 3, 3: 1, 4: 5}, [1, 4, 6])
    assert lines == {1: {2, 3}, 4: {5}, 6: set()}


def test_scores_reward_what_the_criteria_say() -> None:
    mentee = Mentee(1, ("public speaking",), "", "Sales", 3, "Europe/Berlin", ("en",))
    good = Mentor(2, ("Public Speaking",), "Engineering", 5, "Europe/Paris", ("en",))
    far = Mentor(3, ("design",), "Sales", 3, "Asia/Tokyo", ("ja",))
    scorer = Scorer(Pool([mentee], [good, far]), DEFAULT_WEIGHTS, NOW)
    scores = scorer.block(np.arange(1))[0]
    assert scores[0] > 0.8 and scores[1] < 0.3  # goals unknown: not a full mark


def test_pruned_pairs_are_priced_back_in_when_they_matter() -> None:
    """Every mentee likes the one mentor the sample keeps best; the others go unseen
    until pricing shows they raise the objective."""
    zones = ["UTC", "Europe/Berlin", "Asia/Kolkata", "America/New_York", "Asia/Tokyo", None]
    mentees = [Mentee(i, ("python",), "", "Sales", i, zones[i - 1], ("en",)) for i in range(1, 7)]
    mentors = [
        Mentor(100, ("python",), "Engineering", 5, "UTC", ("en",), capacity_left=1),
        *(
            Mentor(100 + j, ("design",), "Sales", 3 + j, zones[j], ("ja",), capacity_left=1)
            for j in range(1, 5)
        ),
    ]
    pool = Pool(mentees, mentors)
    scorer = Scorer(pool, DEFAULT_WEIGHTS, NOW)
    bonus = np.full(len(mentees), 10_000)
    solution = solve(
        scorer,
        bonus,
        np.zeros(len(mentors), dtype=np.int64),
        candidates_per_mentee=1,
        sample_size=1,
    )
    assert solution.certified and solution.priced_in > 0
    assert len(solution.mentees) == 5  # every mentor used: coverage first
    raw = scorer.block(np.arange(len(mentees)))
    q = quantise(raw)
    assert solution.objective == brute_force(pool, q, bonus, np.zeros(len(mentors)))


def test_the_flow_fallback_for_potentials_certifies_the_same_optimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from conversations.matching import solve as solver

    monkeypatch.setattr(solver, "MAX_RELAXATIONS", 0)
    test_pruned_pairs_are_priced_back_in_when_they_matter()
