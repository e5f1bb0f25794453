"""Solve a round: the capacity-constrained assignment of maximum total score, exactly.

The problem is a min-cost flow (source → mentee → mentor → sink; a mentee takes at
most one new mentor per round, a mentor up to their capacity left; a bypass arc
lets anyone stay unmatched), solved by OR-Tools' SimpleMinCostFlow on integer
score units. Objective: the sum of pair scores plus a bonus for a mentee's first
mentor and for people waiting with priority (coverage first, in score units).

At scale not every pair becomes an arc: a pair is a candidate when it is among the
best for its mentee or for its mentor (thresholds estimated from samples). That
pruning never costs optimality, because the result is then *priced*: node
potentials (shortest distances in the residual graph) are an optimal dual solution
of the pruned problem, and if no pruned pair has a negative reduced cost they are
dual-feasible for the full problem, so the pruned optimum is the full optimum (LP
duality; the network matrix is totally unimodular, so the LP optimum is integral).
Pairs that price out are added as arcs and the flow is solved again, until none
does; `Solution.certified` says the proof went through. Scores are kept as int16
while there is room (STORE_CELLS), so pricing rereads them instead of rescoring.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order

from conversations.matching.scoring import SCALE, Scorer, quantise, units

Progress = Callable[[str, int, int], None]
IntArray = npt.NDArray[np.int64]
MAX_PRICING_ROUNDS = 25
BLOCK_CELLS = 2_000_000
COLUMN_SAMPLE = 1000
MENTOR_MARGIN = 12
PRICED_PER_MENTEE = 3
MAX_RELAXATIONS = 500
NEAR_MISS = 300  # also add pairs this close to improving: fewer re-solves
STORE_CELLS = 250_000_000  # 500 MB of int16 scores at most


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


def _solve_flow(g: _Graph) -> tuple[IntArray, npt.NDArray[np.float64], int]:
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
    """Optimal dual potentials: shortest distances in the residual graph from a root
    joined to every node at cost 0 (at an optimal flow there is no negative cycle).

    Bellman–Ford rounds, vectorised, stop as soon as nothing changes (alternating
    paths are short, so that takes a few dozen rounds); if they do not settle within
    MAX_RELAXATIONS, the distances come from the solver instead: a shortest-path tree
    is a min-cost flow sending one unit from the root to every node.
    """
    fwd = flow < cap
    back = flow > 0
    u = np.concatenate([tail[fwd], head[back]])
    v = np.concatenate([head[fwd], tail[back]])
    w = np.concatenate([cost[fwd], -cost[back]]).astype(np.float64)
    order = np.argsort(v, kind="stable")
    u, v, w = u[order], v[order], w[order]
    targets, starts = np.unique(v, return_index=True)
    dist = np.zeros(nodes, dtype=np.float64)
    for _ in range(MAX_RELAXATIONS):
        best = np.minimum.reduceat(dist[u] + w, starts)
        improved = best < dist[targets]
        if not improved.any():
            return dist
        dist[targets[improved]] = best[improved]
    return _potentials_by_flow(nodes, u, v, w.astype(np.int64))


def _potentials_by_flow(
    nodes: int, u: IntArray, v: IntArray, w: IntArray
) -> npt.NDArray[np.float64]:
    root = nodes
    u = np.concatenate([u, np.full(nodes, root)])
    v = np.concatenate([v, np.arange(nodes)])
    w = np.concatenate([w, np.zeros(nodes, dtype=np.int64)])
    paths = min_cost_flow.SimpleMinCostFlow()
    arcs = paths.add_arcs_with_capacity_and_unit_cost(u, v, np.full(len(u), nodes), w)
    supplies = np.full(nodes + 1, -1, dtype=np.int64)
    supplies[root] = nodes
    paths.set_nodes_supplies(np.arange(nodes + 1), supplies)
    status = paths.solve()
    if status != paths.OPTIMAL:
        raise RuntimeError(f"residual shortest paths ended with status {status}")
    used = np.asarray(paths.flows(arcs)) > 0
    tree = coo_matrix(
        (np.ones(int(used.sum())), (u[used], v[used])), shape=(nodes + 1, nodes + 1)
    ).tocsr()
    order, parent = breadth_first_order(tree, root, directed=True, return_predecessors=True)
    arc_cost = dict(
        zip(zip(u[used].tolist(), v[used].tolist(), strict=True), w[used].tolist(), strict=True)
    )
    dist = np.zeros(nodes + 1, dtype=np.float64)
    parents = parent.tolist()
    for node in order[1:].tolist():
        up = parents[node]
        dist[node] = dist[up] + arc_cost[(up, node)]
    return dist[:nodes]


def _threshold(values: npt.NDArray[np.float32], rank: int, axis: int) -> npt.NDArray[np.float32]:
    """The rank-th largest along `axis` (-inf where there are fewer than rank values)."""
    if values.shape[axis] < rank:
        shape = values.shape[1 - axis]
        return np.full(shape, -np.inf, dtype=np.float32)
    return np.asarray(np.partition(values, -rank, axis=axis).take(-rank, axis=axis))


def _bounds(threshold: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """Upper bound on a pruned pair's units (it was below the threshold); -inf when the
    threshold was inadmissible, i.e. every admissible pair was kept."""
    return np.where(threshold >= 0, threshold.astype(np.float64), -np.inf)


def solve(
    scorer: Scorer,
    mentee_bonus: IntArray,
    mentor_bonus: IntArray,
    *,
    candidates_per_mentee: int,
    progress: Progress = _no_progress,
    sample_size: int | None = None,
) -> Solution:
    """The optimal proposals for the scorer's pool (bonuses in score units, per person).

    A pair becomes a candidate arc when it is among the best for its mentee or for its
    mentor (thresholds estimated from samples of mentors and of mentees); every other
    pair scores below both thresholds, which bounds it for the pricing step.
    """
    n, m = scorer.shape
    capacity = np.array([max(0, x.capacity_left) for x in scorer.pool.mentors], dtype=np.int64)
    if n == 0 or m == 0 or capacity.sum() == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Solution(empty, empty, empty, 0, 0, 0, True, np.zeros(n, dtype=bool))
    rows_per_block = max(1, BLOCK_CELLS // m)
    size = sample_size or COLUMN_SAMPLE
    col_sample = np.unique(np.linspace(0, m - 1, min(m, size)).astype(int))
    row_rank = min(len(col_sample), math.ceil(candidates_per_mentee * len(col_sample) / m) + 1)
    # Each mentor should see a few more good mentees than it has room for.
    per_mentor = int(np.median(capacity[capacity > 0])) + MENTOR_MARGIN
    row_sample = np.unique(
        np.linspace(0, n - 1, min(n, sample_size or max(64, n // 10))).astype(int)
    )
    col_rank = min(len(row_sample), math.ceil(per_mentor * len(row_sample) / n) + 1)
    col_threshold = _threshold(units(scorer.block(row_sample)), col_rank, axis=0)
    arc_i: list[IntArray] = []
    arc_j: list[IntArray] = []
    arc_q: list[IntArray] = []
    row_threshold = np.full(n, -np.inf, dtype=np.float32)
    # Keep every score (2 bytes a pair) when that fits, so pricing needs no rescoring.
    kept: npt.NDArray[np.int16] | None = (
        np.empty((n, m), dtype=np.int16) if n * m <= STORE_CELLS else None
    )
    for start in range(0, n, rows_per_block):
        rows = np.arange(start, min(n, start + rows_per_block))
        q = units(scorer.block(rows))
        threshold = _threshold(q[:, col_sample], row_rank, axis=1)
        row_threshold[rows] = threshold
        keep = (q >= threshold[:, None]) | (q >= col_threshold[None, :])
        keep &= q >= 0
        r, c = np.nonzero(keep)
        arc_i.append(rows[r])
        arc_j.append(c.astype(np.int64))
        arc_q.append(q[r, c].astype(np.int64))
        if kept is not None:
            kept[rows] = q
        progress("scoring", int(rows[-1]) + 1, n)
    graph = _Graph(
        mentee_bonus.astype(np.int64),
        mentor_bonus.astype(np.int64),
        capacity,
        np.concatenate(arc_i),
        np.concatenate(arc_j),
        np.concatenate(arc_q),
    )
    row_bound, col_bound = _bounds(row_threshold), _bounds(col_threshold)
    priced_in = 0
    certified = False
    for _ in range(MAX_PRICING_ROUNDS):
        flow, dist, objective = _solve_flow(graph)
        solved_arcs = len(graph.arc_i)
        progress("solving", 1, 1)
        mentee_d, mentor_d = dist[2 : 2 + n], dist[2 + n :]
        suspects = _suspects(row_bound, col_bound, mentee_d, mentor_d, capacity > 0)
        added = _price(scorer, kept, graph, suspects, mentee_d, mentor_d, progress)
        if added == 0:
            certified = True
            break
        priced_in += len(graph.arc_i) - solved_arcs
    chosen = np.nonzero(flow > 0)[0]
    return Solution(
        graph.arc_i[chosen],
        graph.arc_j[chosen],
        graph.arc_q[chosen],
        objective,
        solved_arcs,
        priced_in,
        certified,
        np.bincount(graph.arc_i, minlength=n) > 0,
    )


def _suspects(
    row_bound: npt.NDArray[np.float64],
    col_bound: npt.NDArray[np.float64],
    mentee_d: npt.NDArray[np.float64],
    mentor_d: npt.NDArray[np.float64],
    open_mentors: npt.NDArray[np.bool_],
) -> IntArray:
    """Mentees that may have a pruned pair with a negative reduced cost.

    A pruned pair (i, j) scores at most min(row_bound[i], col_bound[j]), and its reduced
    cost is -q + d_i - d_j; so mentee i is safe when max_j min(rb_i, cb_j) + d_j ≤ d_i.
    Sorting mentors by cb answers that for every mentee in O(log m).
    """
    cb, dj = col_bound[open_mentors], mentor_d[open_mentors]
    if len(cb) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(cb)
    cb, dj = cb[order], dj[order]
    low = np.maximum.accumulate(np.where(np.isfinite(cb), cb + dj, -np.inf))
    high = np.maximum.accumulate(dj[::-1])[::-1]
    k = np.searchsorted(cb, row_bound, side="left")
    best = np.full(len(row_bound), -np.inf)
    has_low = k > 0
    best[has_low] = low[k[has_low] - 1]
    has_high = k < len(cb)
    best[has_high] = np.maximum(best[has_high], row_bound[has_high] + high[k[has_high]])
    return np.nonzero(best > mentee_d + 1e-9)[0].astype(np.int64)


def _price(
    scorer: Scorer,
    kept: npt.NDArray[np.int16] | None,
    graph: _Graph,
    rows_to_check: IntArray,
    mentee_d: npt.NDArray[np.float64],
    mentor_d: npt.NDArray[np.float64],
    progress: Progress,
) -> int:
    """Find the pruned pairs of `rows_to_check` with a negative reduced cost (they could
    improve the objective); how many. If there are any, add each such mentee's best few,
    plus near misses, as arcs for the next solve."""
    if len(rows_to_check) == 0:
        return 0
    m = len(mentor_d)
    existing = np.sort(graph.arc_i * m + graph.arc_j)
    rows_per_block = max(1, BLOCK_CELLS // m)
    found_i: list[IntArray] = []
    found_j: list[IntArray] = []
    found_q: list[IntArray] = []
    found_gain: list[npt.NDArray[np.float64]] = []
    for start in range(0, len(rows_to_check), rows_per_block):
        rows = rows_to_check[start : start + rows_per_block]
        limit = mentee_d[rows][:, None] - mentor_d[None, :] - NEAR_MISS
        if kept is not None:
            r, c = np.nonzero(kept[rows] > limit)
            q = kept[rows[r], c].astype(np.int64)
            admissible = q >= 0
        else:
            scores = scorer.block(rows)
            r, c = np.nonzero(scores > limit / SCALE - 1e-3)
            admissible = np.isfinite(scores[r, c])
            q = quantise(np.where(admissible, scores[r, c], 0))
        progress("pricing", start + len(rows), len(rows_to_check))
        if len(r) == 0:
            continue
        i = rows[r]
        key = i * m + c
        pos = np.minimum(np.searchsorted(existing, key), max(0, len(existing) - 1))
        fresh = admissible & (existing[pos] != key)
        # gain = −(reduced cost): positive means adding the pair improves the objective.
        gain = q - (mentee_d[i] - mentor_d[c])
        fresh &= gain > -NEAR_MISS
        found_i.append(i[fresh])
        found_j.append(c[fresh].astype(np.int64))
        found_q.append(q[fresh])
        found_gain.append(gain[fresh])
    if not found_i:
        return 0
    i, c, q = np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_q)
    gain = np.concatenate(found_gain)
    violations = int((gain > 0).sum())
    if violations == 0:
        return 0
    # Partial pricing: each mentee's few best pairs this round.
    order = np.lexsort((-gain, i))
    i, c, q = i[order], c[order], q[order]
    first = np.searchsorted(i, i, side="left")
    take = (np.arange(len(i)) - first) < PRICED_PER_MENTEE
    graph.arc_i = np.concatenate([graph.arc_i, i[take]])
    graph.arc_j = np.concatenate([graph.arc_j, c[take]])
    graph.arc_q = np.concatenate([graph.arc_q, q[take]])
    return violations
