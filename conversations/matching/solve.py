"""Solve a round: the capacity-constrained assignment of maximum total score, exactly.

The problem is a min-cost flow (source → mentee → mentor → sink; a mentee takes at
most one new mentor per round, a mentor up to their capacity left; a bypass arc
lets anyone stay unmatched), solved by OR-Tools' SimpleMinCostFlow on integer
score units. Objective: the sum of pair scores plus a bonus for a mentee's first
mentor and for people waiting with priority (coverage first, in score units).

At scale not every pair becomes an arc: a pair is a candidate when it is among the
best for its mentee (exactly, by score plus the mentor's bonus) or for its mentor
(by score plus the mentee's bonus, threshold estimated from a sample of mentees).
That pruning never costs optimality, because the result is then *priced*: node
potentials (shortest distances in the residual graph) are an optimal dual solution
of the pruned problem, and if no pruned pair has a negative reduced cost they are
dual-feasible for the full problem, so the pruned optimum is the full optimum (LP
duality; the network matrix is totally unimodular, so the LP optimum is integral).
Pairs that price out are added as arcs, until none does; `Solution.certified` says
the proof went through. After adding arcs the flow is first re-checked: if shortest
paths in the enlarged residual graph settle (no negative cycle), the flow is still
optimal and they are the new potentials; only otherwise is the flow solved again.
After the first solve, unused arcs whose reduced cost is far from paying off are
dropped (later solves are smaller; pricing then covers every mentee). Scores are kept
as int16 while there is room (STORE_CELLS), so pricing rereads them in integer
arithmetic instead of rescoring.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order

from conversations.matching.scoring import SCALE, Scorer, units

Progress = Callable[[str, int, int], None]
T = TypeVar("T")
R = TypeVar("R")
IntArray = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
MAX_PRICING_ROUNDS = 25
BLOCK_CELLS = 2_000_000
MENTOR_MARGIN = 12
PRICED_PER_MENTEE = 8
MAX_RELAXATIONS = 500
CHECK_RELAXATIONS = 100  # when only checking that added arcs leave the flow optimal
NEAR_MISS = 300  # also add pairs this close to improving: fewer re-solves
ROW_SAMPLE_DIV = 5
DROP_MARGIN = 500
COL_RANK_PAD = 2
STORE_CELLS = 250_000_000  # 500 MB of int16 scores at most
COLUMN_SLICES = 4  # the mentors' thresholds, in slices of mentors (work for threads)


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


def _map(executor: Executor | None, work: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
    """`work` over `items`, results in the order of `items` (so whatever the threads'
    timing, the outcome is the same); on the executor's threads when there is one
    (numpy and scipy release the GIL in the heavy loops, so blocks run in parallel)."""
    return executor.map(work, items) if executor is not None else map(work, items)


@dataclass
class _Graph:
    mentee_bonus: IntArray
    mentor_bonus: IntArray
    capacity: IntArray
    arc_i: IntArray
    arc_j: IntArray
    arc_q: IntArray


@dataclass
class _Network:
    """The flow network of a graph: arcs source → mentee (n), mentee → mentor (the pair
    arcs), mentor → sink (with the bonus first, then the rest), source → sink."""

    nodes: int
    tail: IntArray
    head: IntArray
    cap: IntArray
    cost: IntArray


def _network(g: _Graph) -> _Network:
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
    return _Network(
        2 + n + m,
        np.concatenate(tails).astype(np.int64),
        np.concatenate(heads).astype(np.int64),
        np.concatenate(caps).astype(np.int64),
        np.concatenate(costs).astype(np.int64),
    )


def _solve_flow(g: _Graph) -> tuple[IntArray, npt.NDArray[np.float64], int]:
    """Flows on every arc of the network, node potentials of an optimal dual, and the
    objective."""
    net = _network(g)
    n = len(g.mentee_bonus)
    flow_solver = min_cost_flow.SimpleMinCostFlow()
    arcs = flow_solver.add_arcs_with_capacity_and_unit_cost(net.tail, net.head, net.cap, net.cost)
    flow_solver.set_nodes_supplies(np.array([0, 1]), np.array([n, -n]))
    status = flow_solver.solve()
    if status != flow_solver.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status}")
    flow = np.asarray(flow_solver.flows(arcs), dtype=np.int64)
    potentials = _potentials(net, flow)
    assert potentials is not None
    return flow, potentials, -int(flow_solver.optimal_cost())


def _still_optimal(
    g: _Graph, flow: IntArray, old_pairs: int
) -> tuple[IntArray, npt.NDArray[np.float64] | None]:
    """After arcs were added to `g` (none used yet), the flow of the last solve on the
    enlarged network, and potentials proving it still optimal there; None when
    shortest paths in the residual graph do not settle quickly (a negative cycle: the
    flow can improve, so it must be solved again)."""
    n = len(g.mentee_bonus)
    added = len(g.arc_i) - old_pairs
    flow = np.concatenate(
        [flow[: n + old_pairs], np.zeros(added, dtype=np.int64), flow[n + old_pairs :]]
    )
    return flow, _potentials(_network(g), flow, CHECK_RELAXATIONS, fallback=False)


def _potentials(
    net: _Network, flow: IntArray, rounds: int | None = None, *, fallback: bool = True
) -> npt.NDArray[np.float64] | None:
    """Optimal dual potentials: shortest distances in the residual graph from a root
    joined to every node at cost 0 (at an optimal flow there is no negative cycle).

    Bellman–Ford rounds, vectorised, stop as soon as nothing changes (alternating
    paths are short, so that takes a few dozen rounds); if they do not settle within
    MAX_RELAXATIONS, the distances come from the solver instead: a shortest-path tree
    is a min-cost flow sending one unit from the root to every node. Without
    `fallback`, None when they do not settle within `rounds`.
    """
    tail, head, cap, cost = net.tail, net.head, net.cap, net.cost
    fwd = flow < cap
    back = flow > 0
    u = np.concatenate([tail[fwd], head[back]])
    v = np.concatenate([head[fwd], tail[back]])
    w = np.concatenate([cost[fwd], -cost[back]]).astype(np.float64)
    order = np.argsort(v, kind="stable")
    u, v, w = u[order], v[order], w[order]
    targets, starts = np.unique(v, return_index=True)
    dist = np.zeros(net.nodes, dtype=np.float64)
    for _ in range(MAX_RELAXATIONS if rounds is None else rounds):
        best = np.minimum.reduceat(dist[u] + w, starts)
        improved = best < dist[targets]
        if not improved.any():
            return dist
        dist[targets[improved]] = best[improved]
    if not fallback:
        return None
    return _potentials_by_flow(net.nodes, u, v, w.astype(np.int64))


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


NO_THRESHOLD = -(2**30)  # fewer admissible pairs than the rank: keep all (no overflow)


def _units16(scorer: Scorer, rows: IntArray) -> npt.NDArray[np.int16]:
    """Scores of `rows` in units, INADMISSIBLE where a hard constraint rules a pair out."""
    return units(scorer.block(rows)).astype(np.int16)


def _int16(threshold: npt.NDArray[np.int32]) -> npt.NDArray[np.int16]:
    """A threshold on units as int16 (compares with int16 scores without a wide copy);
    units never exceed SCALE, so clipping keeps every comparison's outcome."""
    return np.clip(threshold, -(2**15), 2**15 - 1).astype(np.int16)


def _values(q: npt.NDArray[np.int16], bonus: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
    """Units plus bonus where admissible, NO_THRESHOLD where not (so ranks skip them)."""
    if not bonus.any():
        return np.where(q >= 0, q.astype(np.int32), NO_THRESHOLD)
    return np.where(q >= 0, q + bonus, NO_THRESHOLD)


def _threshold(
    values: npt.NDArray[np.int32] | npt.NDArray[np.int16], rank: int, axis: int
) -> npt.NDArray[np.int32]:
    """The rank-th largest along `axis` (NO_THRESHOLD if fewer than rank values)."""
    if values.shape[axis] < rank:
        return np.full(values.shape[1 - axis], NO_THRESHOLD, dtype=np.int32)
    return np.asarray(np.partition(values, -rank, axis=axis).take(-rank, axis=axis))


def _bounds(threshold: npt.NDArray[np.int32], less: int) -> npt.NDArray[np.float64]:
    """Upper bound on a pruned pair's units: it was below `threshold` - bonus, so below
    threshold - `less` (the smallest bonus); -inf where every admissible pair was kept."""
    return np.where(threshold > NO_THRESHOLD, threshold.astype(np.float64) - less, -np.inf)


def solve(
    scorer: Scorer,
    mentee_bonus: IntArray,
    mentor_bonus: IntArray,
    *,
    candidates_per_mentee: int,
    progress: Progress = _no_progress,
    sample_size: int | None = None,
    executor: Executor | None = None,
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
    # Rank by what a pair adds to the objective: a mentee ranks mentors by score plus the
    # mentor's bonus, a mentor ranks mentees by score plus the mentee's bonus (a first
    # mentor outweighs any score difference).
    row_add = mentee_bonus.astype(np.int32)
    col_add = mentor_bonus.astype(np.int32)
    row_rank = min(m, candidates_per_mentee)
    # Each mentor should see a few more good mentees than it has room for; its threshold
    # is estimated from a sample of mentees.
    per_mentor = int(np.median(capacity[capacity > 0])) + MENTOR_MARGIN
    row_sample = np.unique(
        np.linspace(0, n - 1, min(n, sample_size or max(64, n // ROW_SAMPLE_DIV))).astype(int)
    )
    col_rank = min(len(row_sample), -(-per_mentor * len(row_sample) // n) + COL_RANK_PAD)
    row_threshold = np.full(n, NO_THRESHOLD, dtype=np.int32)

    def candidates(
        rows: IntArray, q: npt.NDArray[np.int16], col_threshold: I32
    ) -> tuple[I32, IntArray, IntArray, IntArray]:
        """A block's row thresholds and its candidate arcs (mentee, mentor, units)."""
        # Each mentee's exact top `row_rank` (ties included): int16 partitions are cheap.
        if col_add.any():
            threshold = _threshold(_values(q, col_add[None, :]), row_rank, axis=1)
            keep = q >= threshold[:, None] - col_add[None, :]  # q + bonus >= threshold
        else:
            threshold = _threshold(q, row_rank, axis=1).astype(np.int32)
            threshold[threshold < 0] = NO_THRESHOLD  # fewer admissible pairs than the rank
            keep = q >= _int16(threshold)[:, None]
        adds = np.unique(row_add[rows])
        if len(adds) == 1:
            keep |= q >= _int16(col_threshold - adds[0])[None, :]
        else:
            keep |= q >= col_threshold[None, :] - row_add[rows][:, None]
        keep &= q >= 0
        r, c = np.nonzero(keep)
        return threshold, rows[r], c.astype(np.int64), q[r, c].astype(np.int64)

    def col_thresholds(sample_q: npt.NDArray[np.int16]) -> I32:
        # Column by column, so slices of mentors can run on separate threads.
        add = row_add[row_sample][:, None]
        width = max(1, -(-m // COLUMN_SLICES))
        slices = [slice(k, min(m, k + width)) for k in range(0, m, width)]
        return np.concatenate(
            list(
                _map(
                    executor,
                    lambda cols: _threshold(_values(sample_q[:, cols], add), col_rank, axis=0),
                    slices,
                )
            )
        )

    spans = [slice(k, min(n, k + rows_per_block)) for k in range(0, n, rows_per_block)]
    everyone = np.arange(n, dtype=np.int64)
    if n * m <= STORE_CELLS:
        # Keep every score (2 bytes a pair), so the mentors' sample and pricing reread
        # them instead of rescoring. Each block writes its own rows: order-free.
        scores = np.empty((n, m), dtype=np.int16)

        def score(span: slice) -> int:
            scores[span] = units(scorer.block(everyone[span]))  # whole units: exact cast
            return int(span.stop)

        for done in _map(executor, score, spans):
            progress("scoring", done, n)
        col_threshold = col_thresholds(scores[row_sample])
        found = list(
            _map(
                executor,
                lambda span: candidates(everyone[span], scores[span], col_threshold),
                spans,
            )
        )
        kept: npt.NDArray[np.int16] | None = scores
    else:
        kept = None
        col_threshold = col_thresholds(_units16(scorer, row_sample))
        found = []
        for span, block in zip(
            spans,
            _map(
                executor,
                lambda span: candidates(
                    everyone[span], _units16(scorer, everyone[span]), col_threshold
                ),
                spans,
            ),
            strict=True,
        ):
            found.append(block)
            progress("scoring", int(span.stop), n)
    for span, (threshold, _, _, _) in zip(spans, found, strict=True):
        row_threshold[span] = threshold
    graph = _Graph(
        mentee_bonus.astype(np.int64),
        mentor_bonus.astype(np.int64),
        capacity,
        np.concatenate([f[1] for f in found]),
        np.concatenate([f[2] for f in found]),
        np.concatenate([f[3] for f in found]),
    )
    # A pruned pair's score is below its mentee's threshold less its mentor's bonus, so
    # below that threshold less the smallest mentor bonus; likewise for its mentor.
    row_bound = _bounds(row_threshold, int(col_add.min()))
    col_bound = _bounds(col_threshold, int(row_add.min()))
    priced_in = 0
    certified = False
    admissible = np.bincount(graph.arc_i, minlength=n) > 0
    flow, dist, objective = _solve_flow(graph)
    for round_number in range(MAX_PRICING_ROUNDS):
        progress("solving", 1, 1)
        mentee_d, mentor_d = dist[2 : 2 + n], dist[2 + n :]
        if round_number == 0 and kept is not None:
            # The first duals already tell which arcs cannot matter: drop unused ones far
            # from paying off, so later solves are small. The thresholds then no longer
            # bound what is left out, so every mentee is priced from here on (cheap on
            # `kept`). Dropping unused arcs leaves the flow and the potentials optimal.
            pair_flow = flow[n : n + len(graph.arc_i)]
            gain = graph.arc_q - np.rint(mentee_d[graph.arc_i] - mentor_d[graph.arc_j])
            useful = (pair_flow > 0) | (gain > -DROP_MARGIN)
            flow = np.concatenate([flow[:n], pair_flow[useful], flow[n + len(graph.arc_i) :]])
            graph.arc_i, graph.arc_j = graph.arc_i[useful], graph.arc_j[useful]
            graph.arc_q = graph.arc_q[useful]
            row_bound = np.full(n, np.inf)
        suspects = (
            everyone
            if np.isinf(row_bound).all()
            else _suspects(row_bound, col_bound, mentee_d, mentor_d, capacity > 0)
        )
        before = len(graph.arc_i)
        added = _price(scorer, kept, graph, suspects, mentee_d, mentor_d, progress, executor)
        if added == 0:
            certified = True
            break
        priced_in += len(graph.arc_i) - before
        # Often the flow is still optimal with the new arcs (they only needed other
        # potentials); only a negative cycle in the residual graph calls for a re-solve.
        flow, checked = _still_optimal(graph, flow, before)
        if checked is None:
            flow, dist, objective = _solve_flow(graph)
        else:
            dist = checked
    chosen = np.nonzero(flow[n : n + len(graph.arc_i)] > 0)[0]
    return Solution(
        graph.arc_i[chosen],
        graph.arc_j[chosen],
        graph.arc_q[chosen],
        objective,
        len(graph.arc_i),
        priced_in,
        certified,
        admissible,
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
    executor: Executor | None = None,
) -> int:
    """Price the pairs of `rows_to_check` that are not arcs yet against the potentials;
    how many have a negative reduced cost (they could improve the objective). If any do,
    each such mentee's PRICED_PER_MENTEE best pairs (near misses included) become arcs
    for the next solve.

    In integers (potentials of integer costs are integers): gain = q - d_i + d_j, 4 bytes
    a pair, on the stored units or on rescored blocks when they were not stored.
    """
    if len(rows_to_check) == 0:
        return 0
    m = len(mentor_d)
    mentee_q = np.rint(mentee_d).astype(np.int32)
    mentor_q = np.rint(mentor_d).astype(np.int32)
    # Existing arcs by mentee, to rule them out of a block in one scatter.
    order = np.argsort(graph.arc_i, kind="stable")
    arc_rows, arc_cols = graph.arc_i[order], graph.arc_j[order]
    excluded = np.int32(np.iinfo(np.int32).min // 2)
    rows_per_block = max(1, BLOCK_CELLS // m)
    take = min(PRICED_PER_MENTEE, m)

    def price_block(rows: IntArray) -> tuple[int, IntArray, IntArray, IntArray]:
        q = kept[rows] if kept is not None else units(scorer.block(rows)).astype(np.int16)
        gain = q.astype(np.int32)
        gain += mentor_q[None, :]
        gain -= mentee_q[rows][:, None]
        np.putmask(gain, q < 0, excluded)
        lo, hi = np.searchsorted(arc_rows, rows[0]), np.searchsorted(arc_rows, rows[-1], "right")
        local = np.searchsorted(rows, arc_rows[lo:hi])
        inside = rows[np.minimum(local, len(rows) - 1)] == arc_rows[lo:hi]
        gain[local[inside], arc_cols[lo:hi][inside]] = excluded
        best = gain.max(axis=1)
        bad = np.nonzero(best > 0)[0]
        violations = int((gain[bad] > 0).sum())
        # Near misses too (mentees whose best pair is close to paying off): the next
        # duals move, and arcs added now spare a solve later.
        bad = np.nonzero(best > -NEAR_MISS)[0]
        if len(bad) == 0:
            none = np.zeros(0, dtype=np.int64)
            return violations, none, none, none
        top = np.argpartition(gain[bad], m - take, axis=1)[:, m - take :]
        r = np.repeat(bad, take)
        c = top.reshape(-1)
        near = gain[r, c] > -NEAR_MISS
        r, c = r[near], c[near]
        return violations, rows[r], c.astype(np.int64), q[r, c].astype(np.int64)

    starts = range(0, len(rows_to_check), rows_per_block)
    chunks = [rows_to_check[start : start + rows_per_block] for start in starts]
    violations = 0
    found_i: list[IntArray] = []
    found_j: list[IntArray] = []
    found_q: list[IntArray] = []
    for start, rows, (count, i, j, q) in zip(
        starts, chunks, _map(executor, price_block, chunks), strict=True
    ):
        progress("pricing", start + len(rows), len(rows_to_check))
        violations += count
        found_i.append(i)
        found_j.append(j)
        found_q.append(q)
    if violations:
        graph.arc_i = np.concatenate([graph.arc_i, *found_i])
        graph.arc_j = np.concatenate([graph.arc_j, *found_j])
        graph.arc_q = np.concatenate([graph.arc_q, *found_q])
    return violations
