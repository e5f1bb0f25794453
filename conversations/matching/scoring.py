"""Scoring every admissible mentee–mentor pair, vectorised over blocks of mentees.

Each soft criterion gives a value in [0, 1]; a pair's score is their weighted mean
(weights from app.yaml), so it is in [0, 1] too. Scores are quantised to integer
units (1/SCALE) because the min-cost-flow solver works in integers: the solver is
then exactly optimal for the scores people see. Inadmissible pairs (hard
constraints) score INADMISSIBLE.

Criteria that depend only on a small attribute of each side (level, time zone,
the mentee's level/time-zone preferences) are looked up in a precomputed table by
attribute key, so a block costs a handful of array operations whatever its size.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix

from conversations.matching.pool import Pool
from conversations.matching.settings import PREFERENCES

SCALE = 10_000
INADMISSIBLE = -1
WORKDAY_HOURS = 8.0
_WORD = re.compile(r"[\w+#.-]+", re.UNICODE)
# Seniority: mentor level minus mentee level → fit. A step of 2–3 is ideal.
_GAP_X = np.array([-1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 6.0])
_GAP_Y = np.array([0.0, 0.0, 0.6, 1.0, 1.0, 0.6, 0.0])
LANGUAGE_NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "pt": "Portuguese",
    "it": "Italian",
    "nl": "Dutch",
    "pl": "Polish",
    "ja": "Japanese",
    "zh": "Chinese",
    "hi": "Hindi",
    "ar": "Arabic",
    "ko": "Korean",
    "sv": "Swedish",
    "tr": "Turkish",
    "ru": "Russian",
    "uk": "Ukrainian",
}

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]


@lru_cache(maxsize=65536)
def topic_key(topic: str) -> str:
    return " ".join(topic.lower().split())


def language_key(code: str) -> str:
    return code.strip().lower().split("-", 1)[0]


@lru_cache(maxsize=4096)
def utc_offset_hours(zone: str | None, now: datetime, default: str) -> float:
    for name in (zone, default, "UTC"):
        if name:
            try:
                offset = now.astimezone(ZoneInfo(name)).utcoffset()
            except (ZoneInfoNotFoundError, ValueError):
                continue
            return offset.total_seconds() / 3600 if offset is not None else 0.0
    return 0.0


def shared_hours(a: float, b: float) -> float:
    """Hours two 9-to-5 working days overlap, for UTC offsets a and b (wrapping days)."""
    delta = abs(a - b) % 24
    return max(0.0, WORKDAY_HOURS - min(delta, 24 - delta))


@lru_cache(maxsize=65536)
def grams(text: str) -> frozenset[str]:
    words = _WORD.findall(text.lower())
    found = set(words)
    for n in (2, 3):
        found.update(" ".join(words[k : k + n]) for k in range(len(words) - n + 1))
    return frozenset(found)


class Scorer:
    """Scores for a pool as of `now`; `block(rows)` gives a rows × mentors matrix."""

    def __init__(
        self, pool: Pool, weights: dict[str, float], now: datetime, default_timezone: str = "UTC"
    ) -> None:
        self.pool = pool
        mentees, mentors = pool.mentees, pool.mentors
        total = sum(weights.values()) or 1.0
        self.w = {k: v / total for k, v in weights.items()}
        n, m = len(mentees), len(mentors)

        vocab: dict[str, int] = {}
        offer_cols: list[int] = []
        offer_rows: list[int] = []
        for j, mentor in enumerate(mentors):
            for t in {topic_key(t) for t in mentor.offers}:
                offer_rows.append(vocab.setdefault(t, len(vocab)))
                offer_cols.append(j)
        self.vocab = vocab
        t_count = max(1, len(vocab))
        # Topics × mentors, dense: a block's topic counts are then a sparse × dense product
        # (a mentee wants a handful of topics), far cheaper than a dense matrix product.
        self.offers_t = np.zeros((t_count, m), dtype=np.float32)
        self.offers_t[offer_rows, offer_cols] = 1.0
        want_rows: list[int] = []
        want_cols: list[int] = []
        goal_rows: list[int] = []
        goal_cols: list[int] = []
        wants_count = np.zeros(n, dtype=np.float32)
        for i, mentee in enumerate(mentees):
            keys = {topic_key(t) for t in mentee.wants}
            wants_count[i] = len(keys)
            for key in keys:
                if key in vocab:
                    want_rows.append(i)
                    want_cols.append(vocab[key])
            if mentee.goals:
                for gram in grams(mentee.goals) & vocab.keys():
                    goal_rows.append(i)
                    goal_cols.append(vocab[gram])
        self.wants = _incidence(want_rows, want_cols, (n, t_count))
        self.goals = _incidence(goal_rows, goal_cols, (n, t_count))
        # Covering three of the things a mentee wants (or all, if fewer) is a full mark.
        cap = np.clip(np.minimum(wants_count, 3.0), 1.0, None).astype(np.float32)
        self.topic_cap = cap
        self.topic_coef = (self.w.get("topics", 0.0) / cap).astype(np.float32)

        def level(value: int | None) -> int:
            return value if value is not None and 1 <= value <= 10 else 0

        flags = np.zeros((n, len(PREFERENCES)), dtype=np.float64)
        for i, mentee in enumerate(mentees):
            for k, name in enumerate(PREFERENCES):
                if name in mentee.prefers:
                    flags[i, k] = 1.0
        stated = flags.sum(axis=1)
        w_pref = self.w.get("preferences", 0.0)
        w_dept = self.w.get("departments", 0.0)
        w_lang = self.w.get("language", 0.0)

        # Departments as codes, -1 unknown: "same" needs both known and equal. Reach,
        # the neutral half mark for an unknown side and the department preferences are
        # then one small table indexed by (mentee department, preferences) × mentor one.
        departments: dict[str, int] = {}

        def dept(name: str | None) -> int:
            if not name or not name.strip():
                return -1
            return departments.setdefault(name.strip().lower(), len(departments))

        mentee_dept = np.array([dept(x.department) for x in mentees], dtype=np.int64)
        mentor_dept = np.array([dept(x.department) for x in mentors], dtype=np.int64)
        per_pref = np.where(stated > 0, w_pref / np.maximum(stated, 1), 0.0)
        dept_rows, self.mentee_dept_key = _keys(
            np.column_stack([mentee_dept, flags[:, 0] * per_pref, flags[:, 1] * per_pref])
        )
        dept_cols, self.mentor_dept_key = _keys(mentor_dept[:, None].astype(np.float64))
        db = dept_cols[:, 0]
        self.dept_table = np.zeros((len(dept_rows), len(dept_cols)), dtype=np.float32)
        for r, (da, other_coef, same_coef) in enumerate(dept_rows):
            known = (da >= 0) & (db >= 0)
            same = known & (db == da)
            value = w_dept * ~same - 0.5 * w_dept * ~known
            value += known * (other_coef * ~same + same_coef * same)
            self.dept_table[r] = value

        # Languages as bit masks (a mask per distinct set is a table key).
        languages: dict[str, int] = {}

        def lang_mask(codes: tuple[str, ...]) -> int:
            mask = 0
            for code in codes:
                bit = languages.setdefault(language_key(code), len(languages))
                if bit < 62:
                    mask |= 1 << bit
            return mask

        # Keys hold a code per distinct mask (a float key could not hold every mask bit).
        mask_code: dict[int, int] = {}
        mentee_lang = np.array(
            [mask_code.setdefault(lang_mask(x.languages), len(mask_code)) for x in mentees],
            dtype=np.int64,
        )
        mentor_lang = np.array(
            [mask_code.setdefault(lang_mask(x.languages), len(mask_code)) for x in mentors],
            dtype=np.int64,
        )
        masks = np.array(list(mask_code), dtype=np.int64)  # code → mask

        track = np.array(
            [(x.past_pairs - x.lapsed_pairs + 1) / (x.past_pairs + 2) for x in mentors],
            dtype=np.float32,
        )
        self.mentor_track = (self.w.get("track_record", 0.0) * track).astype(np.float32)

        offsets: dict[str | None, float] = {}

        def offset(zone: str | None) -> float:
            if zone not in offsets:
                offsets[zone] = utc_offset_hours(zone, now, default_timezone)
            return offsets[zone]

        mentee_offset = np.array([offset(x.timezone) for x in mentees], dtype=np.float64)
        mentor_offset = np.array([offset(x.timezone) for x in mentors], dtype=np.float64)

        # Criteria decided by small attributes (level, time zone, languages, the level and
        # time-zone preferences) → one table indexed by each side's key.
        row_keys, self.mentee_key = _keys(
            np.column_stack(
                [
                    [level(x.level) for x in mentees],
                    mentee_offset * 4,  # quarter hours, exact
                    mentee_lang,
                    flags[:, 2],
                    flags[:, 3],
                    stated,
                ]
            ).reshape(n, 6)
        )
        col_keys, self.mentor_key = _keys(
            np.column_stack(
                [[level(x.level) for x in mentors], mentor_offset * 4, mentor_lang]
            ).reshape(m, 3)
        )
        # Every (row key, column key) at once: rows as columns (R, 1), columns as (1, C).
        lv, zone4, lang_code, tz_pref, senior_pref, n_stated = (row_keys[:, [k]] for k in range(6))
        lang = masks[lang_code.astype(np.int64)]
        col_level, col_zone = col_keys[None, :, 0], col_keys[None, :, 1] / 4
        col_lang = masks[col_keys[None, :, 2].astype(np.int64)]
        gap = col_level - lv
        both_levels = (lv > 0) & (col_level > 0)
        seniority = np.where(both_levels, np.interp(gap, _GAP_X, _GAP_Y), 0.5)
        delta = np.abs(zone4 / 4 - col_zone) % 24
        hours = np.maximum(0.0, WORKDAY_HOURS - np.minimum(delta, 24 - delta))
        value = self.w.get("seniority", 0.0) * seniority + self.w.get("timezone", 0.0) * (
            hours / WORKDAY_HOURS
        )
        shared = (lang & col_lang) != 0
        unknown = (lang == 0) | (col_lang == 0)
        value += w_lang * shared + 0.5 * w_lang * unknown
        met = tz_pref * (hours >= WORKDAY_HOURS - 1) + senior_pref * ((gap >= 2) & both_levels)
        value += np.where(n_stated == 0, w_pref, w_pref / np.maximum(n_stated, 1) * met)
        table = value.astype(np.float32)
        self.pair_table = table

        # Hard constraints pair by pair: forbidden pairs and oneself, as mentee → mentor cols.
        mentor_index = {x.person_id: j for j, x in enumerate(mentors)}
        mentee_index = {x.person_id: i for i, x in enumerate(mentees)}
        banned: list[tuple[int, int]] = []
        for a, b in pool.forbidden:
            if a in mentee_index and b in mentor_index:
                banned.append((mentee_index[a], mentor_index[b]))
        for person, i in mentee_index.items():
            if person in mentor_index:
                banned.append((i, mentor_index[person]))
        banned.sort()
        rows = np.array([r for r, _ in banned], dtype=np.int64)
        self.banned_ptr = np.searchsorted(rows, np.arange(n + 1))
        self.banned_cols = np.array([c for _, c in banned], dtype=np.int64)
        self.mentor_ok = np.array([x.capacity_left > 0 for x in mentors], dtype=bool)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.pool.mentees), len(self.pool.mentors)

    def block(self, rows: IntArray) -> FloatArray:
        """Scores for mentees `rows` against every mentor, -inf where a hard constraint
        rules the pair out. Deterministic per pair, whatever the block."""
        f32 = np.float32
        score: FloatArray = np.asarray(self.wants[rows] @ self.offers_t)
        np.minimum(score, self.topic_cap[rows][:, None], out=score)
        score *= self.topic_coef[rows][:, None]
        w_goals = self.w.get("goals", 0.0)
        if w_goals:
            hits: FloatArray = np.asarray(self.goals[rows] @ self.offers_t)
            np.minimum(hits, f32(2.0), out=hits)
            hits *= f32(w_goals / 2)
            score += hits
        # Table lookups in two steps: the block's rows of the table, then its columns.
        score += np.take(self.pair_table[self.mentee_key[rows]], self.mentor_key, axis=1)
        score += np.take(self.dept_table[self.mentee_dept_key[rows]], self.mentor_dept_key, axis=1)
        score += self.mentor_track[None, :]
        score[:, ~self.mentor_ok] = -np.inf
        starts, ends = self.banned_ptr[rows], self.banned_ptr[rows + 1]
        counts = ends - starts
        if counts.sum():
            local = np.repeat(np.arange(len(rows)), counts)
            spans = [np.arange(a, b) for a, b in zip(starts, ends, strict=True) if b > a]
            score[local, self.banned_cols[np.concatenate(spans)]] = -np.inf
        return score


def _incidence(rows: list[int], cols: list[int], shape: tuple[int, int]) -> csr_matrix:
    """A 0/1 sparse matrix with ones at (rows, cols)."""
    return csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape)


def _keys(attrs: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], IntArray]:
    """Distinct attribute rows and each item's index into them."""
    keys, index = np.unique(attrs, axis=0, return_inverse=True)
    return keys, index.reshape(-1).astype(np.int64)


def quantise(scores: FloatArray) -> npt.NDArray[np.int64]:
    """Scores in integer units (1/SCALE), as the solver and the stored pairs see them.
    Every path uses this one function, so a pair always gets the same units."""
    units: npt.NDArray[np.int64] = np.rint(scores * np.float32(SCALE)).astype(np.int64)
    return units


def units(scores: FloatArray) -> FloatArray:
    """Block scores in units, in place (same rounding as `quantise`); INADMISSIBLE for -inf."""
    scores *= np.float32(SCALE)
    np.rint(scores, out=scores)
    np.maximum(scores, np.float32(INADMISSIBLE), out=scores)
    return scores
