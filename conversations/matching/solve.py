"""Solve a round: the capacity-constrained assignment of maximum total score, exactly.

The problem is a min-cost flow (source → mentee → mentor → sink; a mentee takes at
most one new mentor per round, a mentor up to their capacity left; a bypass arc
lets anyone stay unmatched), solved by OR-Tools' SimpleMinCostFlow on integer
score units. Objective: the sum of pair scores plus a bonus for a mentee's first
mentor and for people waiting with priority (coverage first, in score units).

At scale not every pair becomes an arc: each mentee keeps the pairs above a
threshold estimated from a sample of mentors. That pruning never costs optimality,
because the result is then *priced*: node potentials (shortest distances in the
residual graph, computed by SciPy's Bellman–Ford) are an optimal dual solution of
the pruned problem, and if no pruned pair has a negative reduced cost they are
dual-feasible for the full problem, so the pruned optimum is the full optimum (LP
duality; the network matrix is totally unimodular). A pruned pair that prices out
is added as an arc and the flow is solved again, until none does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import bellman_ford

from conversations.matching.scoring import SCALE, Scorer, quantise

Progress = Callable[[str, int, int], None]
IntArray = npt.NDArray[np.int64]
MAX_PRICING_ROUNDS = 25
BLOCK_CELLS = 2_000_000


@dataclass(frozen=True)
class Solution:
    mentees: IntArray  # indices into pool.mentees, one per proposed pair
    mentors: IntArray  # indices into pool.mentors
    scores: IntArray  # each pair's score in units of 1/SCALE
    objective: int  # scores plus bonuses, in the same units
    candidate_arcs: int
    priced_in: int  # pruned pairs the pricing step had to add back
    certified: bool  # no pruned pair can improve the objective (gap zero)
    admissible: npt.NDArray[np.bool_]  # per mentee: has at least one admissible mentor

    @property
    def mean_score(self) -> float:
        return float(self.scores.mean()) / SCALE if len(self.scores) else 0.0


def _no_progress(phase: str, done: int, total: int) -> None:
    return None


@dataclass
class _Graph:
    mentee_bonus: IntArray
    mentor_bonus: IntArray
    capacity: IntArray
    arc_i: IntArray
    arc_j: IntArray
    arc_q: IntArray


def _solve_flow(g: _Graph) -> tuple[IntArray, IntArray, int]:
    """Flows on the pair arcs, node potentials of an optimal dual, and the objective."""
    n, m = len(g.mentee_bonus), len(g.capacity)
    source, sink = 0, 1
    mentee_node = 2 + np.arange(n, dtype=np.int64)
    mentor_node = 2 + n + np.arange(m, dtype=np.int64)
    with_bonus = g.mentor_bonus > 0
    rest = g.capacity - with_bonus.astype(np.int64)
    tails = [
        np.full(n, source),
        mentee_node[g.arc_i],
        mentor_node[with_bonus],
        mentor_node[rest > 0],
        np.array([source]),
    ]
    heads = [
        mentee_node,
        mentor_node[g.arc_j],
        np.full(int(with_bonus.sum()), sink),
        np.full(int((rest > 0).sum()), sink),
        np.array([sink]),
    ]
    caps = [
        np.ones(n, dtype=np.int64),
        np.ones(len(g.arc_i), dtype=np.int64),
        np.ones(int(with_bonus.sum()), dtype=np.int64),
        rest[rest > 0],
        np.array([n + 1]),
    ]
    costs = [
        -g.mentee_bonus,
        -g.arc_q,
        -g.mentor_bonus[with_bonus],
        np.zeros(int((rest > 0).sum()), dtype=np.int64),
        np.array([0]),
    ]
    tail, head = np.concatenate(tails).astype(np.int64), np.concatenate(heads).astype(np.int64)
    cap, cost = np.concatenate(caps).astype(np.int64), np.concatenate(costs).astype(np.int64)
    flow_solver = min_cost_flow.SimpleMinCostFlow()
    arcs = flow_solver.add_arcs_with_capacity_and_unit_cost(tail, head, cap, cost)
    flow_solver.set_nodes_supplies(np.array([source, sink]), np.array([n, -n]))
    status = flow_solver.solve()
    if status != flow_solver.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status}")
    flow = np.asarray(flow_solver.flows(arcs), dtype=np.int64)
    potentials = _potentials(2 + n + m, tail, head, cap, cost, flow)
    pair_flow = flow[n : n + len(g.arc_i)]
    return pair_flow, potentials, -int(flow_solver.optimal_cost())


def _potentials(
    nodes: int, tail: IntArray, head: IntArray, cap: IntArray, cost: IntArray, flow: IntArray
) -> npt.NDArray[np.float64]:
    """Shortest distances in the residual graph from a root joined to every node: at an
    optimal flow there is no negative cycle, and these are optimal dual potentials."""
    fwd = flow < cap
    back = flow > 0
    root = nodes
    u = np.concatenate([tail[fwd], head[back], np.full(nodes, root)])
    v = np.concatenate([head[fwd], tail[back], np.arange(nodes)])
    w = np.concatenate([cost[fwd], -cost[back], np.zeros(nodes, dtype=np.int64)])
    # Parallel arcs: keep the cheapest (a sparse matrix would add them up).
    order = np.lexsort((w, v, u))
    u, v, w = u[order], v[order], w[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    graph = coo_matrix(
        (w[first].astype(np.float64), (u[first], v[first])), shape=(nodes + 1, nodes + 1)
    ).tocsr()
    dist = bellman_ford(graph, directed=True, indices=root)
    return np.asarray(dist[:nodes], dtype=np.float64)


def solve(
    scorer: Scorer,
    mentee_bonus: IntArray,
    mentor_bonus: IntArray,
    *,
    candidates_per_mentee: int,
    progress: Progress = _no_progress,
    sample_size: int | None = None,
) -> Solution:
    """The optimal proposals for the scorer's pool (bonuses in score units, per person)."""
    n, m = scorer.shape
    capacity = np.array([max(0, x.capacity_left) for x in scorer.pool.mentors], dtype=np.int64)
    if n == 0 or m == 0 or capacity.sum() == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Solution(empty, empty, empty, 0, 0, 0, True, np.zeros(n, dtype=bool))
    rows_per_block = max(1, BLOCK_CELLS // m)
    size = sample_size or max(64, 40 * candidates_per_mentee)
    sample = np.unique(np.linspace(0, m - 1, min(m, size)).astype(int))
    rank = min(len(sample), math.ceil(candidates_per_mentee * len(sample) / m) + 1)
    arc_i: list[IntArray] = []
    arc_j: list[IntArray] = []
    arc_q: list[IntArray] = []
    bound = np.full(n, -1, dtype=np.int64)  # every pruned pair of mentee i scores ≤ bound[i]
    for start in range(0, n, rows_per_block):
        rows = np.arange(start, min(n, start + rows_per_block))
        scores = scorer.block(rows)
        if len(sample) < m:
            threshold = np.partition(scores[:, sample], -rank, axis=1)[:, -rank]
        else:
            threshold = np.full(len(rows), -np.inf, dtype=np.float32)
        keep = (scores >= threshold[:, None]) & np.isfinite(scores)
        r, c = np.nonzero(keep)
        arc_i.append(rows[r])
        arc_j.append(c.astype(np.int64))
        arc_q.append(quantise(scores[r, c]))
        finite = np.isfinite(threshold)
        bound[rows[finite]] = quantise(threshold[finite])
        progress("scoring", int(rows[-1]) + 1, n)
    graph = _Graph(
        mentee_bonus.astype(np.int64),
        mentor_bonus.astype(np.int64),
        capacity,
        np.concatenate(arc_i),
        np.concatenate(arc_j),
        np.concatenate(arc_q),
    )
    priced_in = 0
    certified = False
    for _ in range(MAX_PRICING_ROUNDS):
        flow, dist, objective = _solve_flow(graph)
        progress("solving", 1, 1)
        mentee_d, mentor_d = dist[2 : 2 + n], dist[2 + n :]
        # Reduced cost of a pruned pair i→j is -q + d_i - d_j; it can only help if negative.
        worst = float(mentor_d[capacity > 0].max())
        suspects = np.nonzero(bound > mentee_d - worst)[0]
        added = _price(scorer, graph, suspects, mentee_d, mentor_d, progress)
        if added == 0:
            certified = True
            break
        priced_in += added
    chosen = flow > 0
    return Solution(
        graph.arc_i[chosen],
        graph.arc_j[chosen],
        graph.arc_q[chosen],
        objective,
        len(graph.arc_i),
        priced_in,
        certified,
        np.bincount(graph.arc_i, minlength=n) > 0,
    )


def _price(
    scorer: Scorer,
    graph: _Graph,
    rows_to_check: IntArray,
    mentee_d: npt.NDArray[np.float64],
    mentor_d: npt.NDArray[np.float64],
    progress: Progress,
) -> int:
    """Add every pruned pair of `rows_to_check` with a negative reduced cost; how many."""
    if len(rows_to_check) == 0:
        return 0
    m = len(mentor_d)
    existing = set(zip(graph.arc_i.tolist(), graph.arc_j.tolist(), strict=True))
    rows_per_block = max(1, BLOCK_CELLS // m)
    new_i: list[int] = []
    new_j: list[int] = []
    new_q: list[int] = []
    for start in range(0, len(rows_to_check), rows_per_block):
        rows = rows_to_check[start : start + rows_per_block]
        scores = scorer.block(rows)
        finite = np.isfinite(scores)
        q = np.where(finite, quantise(np.where(finite, scores, 0)), -1)
        reduced = -q + mentee_d[rows][:, None] - mentor_d[None, :]
        r, c = np.nonzero((reduced < 0) & finite)
        for i, j, value in zip(rows[r].tolist(), c.tolist(), q[r, c].tolist(), strict=True):
            if (i, j) not in existing:
                new_i.append(i)
                new_j.append(j)
                new_q.append(value)
        progress("pricing", start + len(rows), len(rows_to_check))
    if new_i:
        graph.arc_i = np.concatenate([graph.arc_i, np.array(new_i, dtype=np.int64)])
        graph.arc_j = np.concatenate([graph.arc_j, np.array(new_j, dtype=np.int64)])
        graph.arc_q = np.concatenate([graph.arc_q, np.array(new_q, dtype=np.int64)])
    return len(new_i)
