"""Benchmark a matching round end to end: database → pool → scores → optimal
assignment → proposals and their messages stored.

A synthetic organisation (default 20,000 mentees and 5,000 mentors with capacity
1–4) is seeded into a fresh database: skewed department sizes, levels, 14 time
zones, languages, 120 topics with Zipf-like popularity, goals that mention topics,
a reporting tree (some mentors manage mentees), a few stated preferences, and
pairs already active or ended (so capacities, limits and the no-repeat rule bite).

Then, each in a fresh process so memory figures are the round's own:
1. verify: load the pool, solve it, and bound the optimum independently with
   HiGHS (scipy.optimize.linprog) on the candidate arcs, whose duals are then
   checked against EVERY mentee–mentor pair (100M at full size): the bound is
   sum(duals) + sum of any positive reduced costs, valid for the whole problem.
2. round: the timed round — `run_round` in one transaction, proposals stored.
   Prints wall time, peak RSS (resource.getrusage) and the objective; the gap is
   the HiGHS bound minus the round's objective.

    .venv/bin/python bench/matching.py [--mentees 20000 --mentors 5000]
    .venv/bin/python bench/matching.py --postgres postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from conversations.matching.rounds import build_pool, run_round
from conversations.matching.scoring import SCALE, Scorer, quantise
from conversations.matching.solve import solve
from conversations.policy import Policy
from storage import programs
from storage.database import Database, execute_autocommit
from storage.migrate import upgrade
from storage.models import Identity, OutboxMessage, Pair, Person, Profile
from storage.proposals import load_pool

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ZONES = [
    ("America/Los_Angeles", 8),
    ("America/Chicago", 5),
    ("America/New_York", 12),
    ("America/Sao_Paulo", 4),
    ("Europe/London", 10),
    ("Europe/Berlin", 14),
    ("Europe/Paris", 6),
    ("Europe/Warsaw", 4),
    ("Africa/Lagos", 2),
    ("Asia/Dubai", 2),
    ("Asia/Kolkata", 12),
    ("Asia/Singapore", 4),
    ("Asia/Tokyo", 4),
    ("Australia/Sydney", 3),
]
LANGS = ["de", "fr", "es", "pt", "hi", "ja", "pl", "zh"]
POLICY = Policy()


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


async def seed(db: Database, mentees: int, mentors: int, rng: random.Random) -> None:
    topics = [f"topic-{k:03d}" for k in range(120)]
    popularity = [1 / (k + 1) ** 0.8 for k in range(len(topics))]
    departments = [(f"Dept {k}", max(1, int(400 / (k + 1)))) for k in range(40)]
    total = mentees + mentors
    async with db.transaction() as session:
        program = await programs.ensure_program(session, "default", "Bench", None, NOW)
        ids = list(
            await session.scalars(
                insert(Person).returning(Person.id, sort_by_parameter_order=True),
                [{"display_name": f"person{k}", "created_at": NOW} for k in range(total)],
            )
        )
        await session.execute(
            insert(Identity),
            [
                {
                    "person_id": pid,
                    "platform": "local",
                    "tenant": "",
                    "user_id": f"p{k}",
                    "display_name": f"person{k}",
                    "created_at": NOW,
                    "last_seen_at": NOW,
                }
                for k, pid in enumerate(ids)
            ],
        )
        mentor_ids, mentee_ids = ids[:mentors], ids[mentors:]
        rows: list[dict[str, Any]] = []
        for k, pid in enumerate(ids):
            is_mentor = k < mentors
            lang = ["en"] + ([rng.choice(LANGS)] if rng.random() < 0.4 else [])
            if rng.random() < 0.05:
                lang = [rng.choice(LANGS)]
            goal_topics = rng.choices(topics, weights=popularity, k=2)
            rows.append(
                {
                    "person_id": pid,
                    "program_id": program.id,
                    "role": "mentor" if is_mentor else "mentee",
                    "status": "active",
                    "offers": rng.choices(topics, weights=popularity, k=rng.randint(2, 6))
                    if is_mentor
                    else [],
                    "wants": []
                    if is_mentor
                    else rng.choices(topics, weights=popularity, k=rng.randint(1, 4)),
                    "goals": None
                    if is_mentor or rng.random() < 0.3
                    else f"Get better at {goal_topics[0]} and {goal_topics[1]} this year",
                    "department": _pick(rng, departments) if rng.random() < 0.95 else None,
                    # Managers: mentees report to mentors (the rule must bite), mentors up a tree.
                    "manager_id": rng.choice(mentor_ids[: max(1, mentors // 3)])
                    if rng.random() < 0.6
                    else None,
                    "level": rng.randint(4, 10) if is_mentor else rng.randint(1, 6),
                    "timezone": _pick(rng, ZONES) if rng.random() < 0.9 else None,
                    "languages": lang,
                    "capacity": rng.choice([1, 1, 2, 2, 2, 3, 4]) if is_mentor else None,
                    "prefers": rng.sample(["other-department", "senior", "same-timezone"], 1)
                    if not is_mentor and rng.random() < 0.15
                    else [],
                    "updated_at": NOW,
                    "joined_at": NOW,
                }
            )
        await session.execute(insert(Profile), rows)
        pairs: list[dict[str, Any]] = []
        for k in range(mentees // 10):  # some active pairs, some ended ones
            state = "active" if k % 2 == 0 else "ended"
            pairs.append(
                {
                    "program_id": program.id,
                    "mentee_id": rng.choice(mentee_ids),
                    "mentor_id": rng.choice(mentor_ids),
                    "state": state,
                    "reasons": [],
                    "proposed_at": NOW - timedelta(days=90),
                    "activated_at": NOW - timedelta(days=88),
                    "lapse_step": rng.choice([0, 0, 1]),
                    "lapse_cycle": 0,
                    "ended_at": None if state == "active" else NOW,
                }
            )
        await session.execute(insert(Pair), pairs)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def verify(url: str) -> dict[str, Any]:
    """Solve the pool and bound its optimum independently with HiGHS + a full dual check."""
    db = Database(url)
    try:
        async with db.transaction() as session:
            program = await programs.ensure_program(session, "default", "Bench", None, NOW)
            pool = build_pool(await load_pool(session, program.id), POLICY)
    finally:
        await db.dispose()
    settings = POLICY.matching
    scorer = Scorer(pool, settings.weights, NOW, POLICY.default_timezone)
    bonus = np.array(
        [settings.first_mentor_bonus * SCALE if m.open_mentors == 0 else 0 for m in pool.mentees],
        dtype=np.int64,
    )
    zero = np.zeros(len(pool.mentors), dtype=np.int64)
    sol = solve(scorer, bonus, zero, candidates_per_mentee=settings.candidates_per_mentee)
    n, m = scorer.shape
    cap = np.array([x.capacity_left for x in pool.mentors], dtype=np.float64)
    # HiGHS LP, max Σ (q + bonus)·x, by column generation over ALL pairs: solve on a set
    # of arcs, add every pair whose reduced cost against HiGHS's duals is positive, repeat.
    # When none is left the LP value is the optimum over every pair (weak duality), and
    # the network matrix is totally unimodular, so it is the integer optimum too.
    arcs_i, arcs_j, arcs_q = _candidate_arcs(scorer, sol)
    lp_seconds = 0.0
    rounds = 0
    while True:
        rounds += 1
        k = len(arcs_i)
        a = coo_matrix(
            (np.ones(2 * k), (np.concatenate([arcs_i, n + arcs_j]), np.tile(np.arange(k), 2))),
            shape=(n + m, k),
        ).tocsr()
        started = time.perf_counter()
        lp = linprog(
            -(arcs_q + bonus[arcs_i]).astype(np.float64),
            A_ub=a,
            b_ub=np.concatenate([np.ones(n), cap]),
            bounds=(0, 1),
            method="highs",
        )
        lp_seconds += time.perf_counter() - started
        u = -lp.ineqlin.marginals[:n]
        v = -lp.ineqlin.marginals[n:]
        excess = 0.0
        known = np.sort(arcs_i * m + arcs_j)
        add_i, add_j, add_q = [], [], []
        rows_per_block = max(1, 2_000_000 // m)
        for start in range(0, n, rows_per_block):
            rows = np.arange(start, min(n, start + rows_per_block))
            raw = scorer.block(rows)
            ok = np.isfinite(raw)
            q = np.where(ok, quantise(np.where(ok, raw, 0)), 0)
            slack = np.where(ok, q + bonus[rows][:, None] - u[rows][:, None] - v[None, :], 0)
            excess += float(np.maximum(slack, 0).sum())
            # Add each mentee's five most violated pairs (column generation).
            slack[slack <= 1e-6] = 0
            top = np.argpartition(-slack, min(5, m - 1), axis=1)[:, :5]
            r = np.repeat(np.arange(len(rows)), top.shape[1])
            c = top.reshape(-1)
            hit = slack[r, c] > 0
            r, c = r[hit], c[hit]
            key = rows[r] * m + c
            pos = np.minimum(np.searchsorted(known, key), len(known) - 1)
            fresh = known[pos] != key
            add_i.append(rows[r[fresh]])
            add_j.append(c[fresh])
            add_q.append(q[r[fresh], c[fresh]])
        added = sum(len(x) for x in add_i)
        bound = float(u.sum() + (cap * v).sum() + excess)
        if not added or rounds >= 30:
            break
        arcs_i = np.concatenate([arcs_i, *add_i]).astype(np.int64)
        arcs_j = np.concatenate([arcs_j, *add_j]).astype(np.int64)
        arcs_q = np.concatenate([arcs_q, *add_q]).astype(np.int64)
    return {
        "objective": sol.objective,
        "lp_objective": -float(lp.fun),
        "bound": bound,
        "lp_seconds": lp_seconds,
        "arcs": int(k),
        "lp_rounds": rounds,
        "certified": sol.certified,
    }


def _candidate_arcs(scorer: Scorer, sol: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each mentee's 30 best admissible pairs plus the solver's chosen ones."""
    n, m = scorer.shape
    keep = min(30, m)
    out_i, out_j, out_q = [sol.mentees], [sol.mentors], [sol.scores]
    rows_per_block = max(1, 2_000_000 // m)
    for start in range(0, n, rows_per_block):
        rows = np.arange(start, min(n, start + rows_per_block))
        raw = scorer.block(rows)
        top = np.argpartition(raw, -keep, axis=1)[:, -keep:]
        r = np.repeat(np.arange(len(rows)), keep)
        c = top.reshape(-1)
        ok = np.isfinite(raw[r, c])
        out_i.append(rows[r[ok]])
        out_j.append(c[ok])
        out_q.append(quantise(raw[r[ok], c[ok]]))
    i, j, q = (np.concatenate(x).astype(np.int64) for x in (out_i, out_j, out_q))
    _, first = np.unique(i * m + j, return_index=True)
    return i[first], j[first], q[first]


async def timed_round(url: str) -> dict[str, Any]:
    db = Database(url)
    try:
        before = _rss_mb()
        started = time.perf_counter()
        cpu = time.process_time()
        phases: dict[str, float] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if done >= total:
                phases[phase] = round(time.perf_counter() - started, 2)

        async with db.transaction() as session:
            program = await programs.ensure_program(session, "default", "Bench", None, NOW)
            result = await run_round(session, POLICY, program, NOW, progress=progress)
            phases["stored"] = round(time.perf_counter() - started, 2)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
        async with db.transaction() as session:
            stored = await session.scalar(
                select(func.count()).select_from(Pair).where(Pair.state == "proposed")
            )
            queued = await session.scalar(select(func.count()).select_from(OutboxMessage))
        return {
            "wall": wall,
            "cpu": cpu,
            "phases": phases,
            "rss_before_mb": before,
            "peak_rss_mb": _rss_mb(),
            "objective": result.solution.objective,
            "certified": result.solution.certified,
            "proposals": len(result.proposals),
            "stored": stored,
            "queued": queued,
            "coverage": result.coverage,
            "mean_score": result.mean_score,
            "mentees": result.mentees_in_pool,
            "mentors": result.mentors_in_pool,
            "arcs": result.solution.candidate_arcs,
            "priced_in": result.solution.priced_in,
            "unmatched": len(result.unmatched),
        }
    finally:
        await db.dispose()


def child(step: str, url: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", step, "--url", url],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


async def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mentees", type=int, default=20_000)
    p.add_argument("--mentors", type=int, default=5_000)
    p.add_argument("--postgres", help="server URL; a throwaway database is created and dropped")
    p.add_argument("--skip-verify", action="store_true", help="no HiGHS bound (faster)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        work = verify if args.child == "verify" else timed_round
        print(json.dumps(await work(args.url)))
        return 0
    maintenance = name = None
    if args.postgres:
        server = make_url(args.postgres)
        maintenance = server.set(database="postgres").render_as_string(hide_password=False)
        name = f"mentorbot_bench_{uuid.uuid4().hex[:10]}"
        await execute_autocommit(maintenance, f'CREATE DATABASE "{name}"')
        url = server.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='mentorbot-bench-')}/bench.db"
    try:
        db = Database(url)
        await upgrade(db)
        started = time.perf_counter()
        await seed(db, args.mentees, args.mentors, random.Random(7))
        await db.dispose()
        print(
            f"{db.describe()}: seeded {args.mentees} mentees and {args.mentors} mentors "
            f"in {time.perf_counter() - started:.1f} s (cores: {os.cpu_count()}, shared)"
        )
        checked = None if args.skip_verify else child("verify", url)
        r = child("round", url)
        print(
            f"round: {r['wall']:.2f} s wall ({r['cpu']:.2f} s CPU), peak RSS "
            f"{r['peak_rss_mb']:.0f} MB (process at start {r['rss_before_mb']:.0f} MB)"
        )
        print(f"  phases (seconds since the start, at the end of each): {r['phases']}")
        print(
            f"  pool {r['mentees']} mentees × {r['mentors']} mentors = "
            f"{r['mentees'] * r['mentors']:,} pairs scored; {r['arcs']:,} candidate arcs, "
            f"{r['priced_in']} priced back in; certified optimal: {r['certified']}"
        )
        print(
            f"  {r['proposals']} proposals ({r['stored']} stored, {r['queued']} messages "
            f"queued), coverage {r['coverage']:.1%}, mean score {r['mean_score']:.3f}, "
            f"{r['unmatched']} told why they are unmatched"
        )
        if checked is not None:
            gap = checked["bound"] - r["objective"]
            print(
                f"  objective {r['objective']} (score units of 1/{SCALE}); HiGHS LP on "
                f"{checked['arcs']:,} arcs ({checked['lp_rounds']} column-generation round(s)): "
                f"{checked['lp_objective']:.1f} in "
                f"{checked['lp_seconds']:.1f} s; bound over all pairs {checked['bound']:.1f}; "
                f"gap to the optimum {gap:.1f} units ({gap / max(1, r['objective']):.2e})"
            )
    finally:
        if maintenance and name:
            await execute_autocommit(maintenance, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
