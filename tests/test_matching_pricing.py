"""Pruning plus pricing reaches the optimum over every pair: on random pools larger
than brute force can handle, the solver (few candidate arcs, tiny samples, so pricing
has work to do) matches an independent optimum from SciPy's linear_sum_assignment over
expanded capacity slots; and scores stay the same whatever the block of rows."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from conversations.matching.pool import Mentee, Mentor, Pool
from conversations.matching.scoring import Scorer, quantise
from conversations.matching.settings import DEFAULT_WEIGHTS
from conversations.matching.solve import solve

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
TOPICS = ["python", "public speaking", "leadership", "negotiation", "design", "sql", "hiring"]
ZONES = [None, "UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Asia/Kolkata"]
DEPTS = [None, "Sales", "Engineering", "Finance", "HR"]
LANGS = ["en", "de", "fr", "ja"]


def random_pool(seed: int, n: int, m: int) -> tuple[Pool, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)

    def pick(items: list[str], most: int) -> tuple[str, ...]:
        k = int(rng.integers(0, most + 1))
        return tuple(str(x) for x in rng.choice(items, size=k, replace=False))

    mentees = [
        Mentee(
            person_id=i + 1,
            wants=pick(TOPICS, 3),
            goals=str(rng.choice(["", "get better at leadership", "learn sql and hiring"])),
            department=DEPTS[int(rng.integers(len(DEPTS)))],
            level=int(rng.integers(0, 8)) or None,
            timezone=ZONES[int(rng.integers(len(ZONES)))],
            languages=pick(LANGS, 2),
            prefers=pick(["other-department", "same-department", "senior", "same-timezone"], 2),
        )
        for i in range(n)
    ]
    mentors = [
        Mentor(
            person_id=1000 + j,
            offers=pick(TOPICS, 4),
            department=DEPTS[int(rng.integers(len(DEPTS)))],
            level=int(rng.integers(0, 11)) or None,
            timezone=ZONES[int(rng.integers(len(ZONES)))],
            languages=pick(LANGS, 2),
            capacity_left=int(rng.integers(0, 5)),
            past_pairs=int(rng.integers(0, 4)),
        )
        for j in range(m)
    ]
    forbidden = {(a.person_id, b.person_id) for a in mentees for b in mentors if rng.random() < 0.1}
    mentee_bonus = rng.choice([0, 5000, 10000, 15000], size=n)
    mentor_bonus = rng.choice([0, 0, 5000], size=m)
    return Pool(mentees, mentors, forbidden), mentee_bonus, mentor_bonus


def slot_optimum(
    q: np.ndarray, capacity: list[int], mentee_bonus: np.ndarray, mentor_bonus: np.ndarray
) -> int:
    """Best objective by an assignment over capacity slots (one column per unit of a
    mentor's room, plus one "nobody" column per mentee): independent of the flow."""
    n, _ = q.shape
    columns: list[np.ndarray] = []
    for j, room in enumerate(capacity):
        for slot in range(room):
            first = mentor_bonus[j] if slot == 0 else 0
            columns.append(np.where(q[:, j] >= 0, q[:, j] + mentee_bonus + first, -(10**9)))
    columns.extend(np.where(np.arange(n) == i, 0, -(10**9)) for i in range(n))
    value = np.column_stack(columns).astype(np.int64)
    rows, cols = linear_sum_assignment(value, maximize=True)
    return int(value[rows, cols].sum())


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 10**6),
    st.integers(10, 60),
    st.integers(2, 14),
    st.integers(1, 3),
    st.sampled_from([1, 2, None]),
)
def test_pruned_and_priced_optimum_equals_the_optimum_over_every_pair(
    seed: int, n: int, m: int, keep: int, sample: int | None
) -> None:
    pool, mentee_bonus, mentor_bonus = random_pool(seed, n, m)
    scorer = Scorer(pool, DEFAULT_WEIGHTS, NOW)
    raw = scorer.block(np.arange(n))
    q = np.where(np.isfinite(raw), quantise(np.where(np.isfinite(raw), raw, 0)), -1)
    solution = solve(
        scorer, mentee_bonus, mentor_bonus, candidates_per_mentee=keep, sample_size=sample
    )
    assert solution.certified
    capacity = [x.capacity_left for x in pool.mentors]
    assert solution.objective == slot_optimum(q, capacity, mentee_bonus, mentor_bonus)
    # The proposals are what the objective counts, and respect every hard constraint.
    pairs = list(zip(solution.mentees.tolist(), solution.mentors.tolist(), strict=True))
    assert len({i for i, _ in pairs}) == len(pairs)
    assert all(sum(1 for _, b in pairs if b == j) <= capacity[j] for j in range(m))
    assert all(q[i, j] >= 0 for i, j in pairs)
    assert solution.scores.tolist() == [int(q[i, j]) for i, j in pairs]
    used = {j for _, j in pairs}
    assert solution.objective == sum(int(q[i, j] + mentee_bonus[i]) for i, j in pairs) + sum(
        int(mentor_bonus[j]) for j in used
    )


def test_a_pair_scores_the_same_whatever_block_it_is_scored_in() -> None:
    pool, _, _ = random_pool(7, 40, 12)
    scorer = Scorer(pool, DEFAULT_WEIGHTS, NOW)
    whole = scorer.block(np.arange(40))
    parts = np.vstack([scorer.block(np.arange(k, min(40, k + 7))) for k in range(0, 40, 7)])
    odd = scorer.block(np.array([39, 3, 17]))
    np.testing.assert_array_equal(whole, parts)
    np.testing.assert_array_equal(whole[[39, 3, 17]], odd)


def test_without_stored_scores_pricing_rescores_and_reaches_the_same_optimum(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rounds too large to keep every score rescore blocks while pricing instead."""
    from conversations.matching import solve as solver

    for seed in range(8):
        pool, mentee_bonus, mentor_bonus = random_pool(seed, 45, 9)
        scorer = Scorer(pool, DEFAULT_WEIGHTS, NOW)
        stored = solve(scorer, mentee_bonus, mentor_bonus, candidates_per_mentee=1, sample_size=1)
        monkeypatch.setattr(solver, "STORE_CELLS", 0)
        rescored = solve(scorer, mentee_bonus, mentor_bonus, candidates_per_mentee=1, sample_size=1)
        monkeypatch.undo()
        assert stored.certified and rescored.certified
        assert rescored.objective == stored.objective


@pytest.mark.parametrize("store_cells", [None, 0])
def test_threads_give_the_same_solution_as_one(
    monkeypatch: pytest.MonkeyPatch, store_cells: int | None
) -> None:
    """Blocks scored, thresholded and priced on worker threads (many small blocks here)
    give exactly the serial solution, with scores kept or rescored."""
    from concurrent.futures import ThreadPoolExecutor

    from conversations.matching import solve as solver

    monkeypatch.setattr(solver, "BLOCK_CELLS", 20)
    if store_cells is not None:
        monkeypatch.setattr(solver, "STORE_CELLS", store_cells)
    with ThreadPoolExecutor(2) as workers:
        for seed in range(6):
            pool, mentee_bonus, mentor_bonus = random_pool(seed, 45, 9)
            scorer = Scorer(pool, DEFAULT_WEIGHTS, NOW)
            args = (scorer, mentee_bonus, mentor_bonus)
            one = solve(*args, candidates_per_mentee=1, sample_size=2)
            two = solve(*args, candidates_per_mentee=1, sample_size=2, executor=workers)
            assert one.certified and two.certified
            assert (one.objective, one.candidate_arcs, one.priced_in) == (
                two.objective,
                two.candidate_arcs,
                two.priced_in,
            )
            for field in ("mentees", "mentors", "scores", "admissible"):
                np.testing.assert_array_equal(getattr(one, field), getattr(two, field))
