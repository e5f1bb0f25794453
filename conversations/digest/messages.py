"""What the digest says: figures with their weekly change, names where privacy allows, and
the trend chart, as one neutral message for a channel or a chat."""

from __future__ import annotations

import base64

from conversations.dates import format_moment
from conversations.digest.chart import WeekBar, trend_png
from conversations.digest.figures import WEEK, Digest, Figure
from conversations.messages import Block, Context, Fields, File, Header, Message, Text
from conversations.wording import plural


def _num(value: Figure, pct: bool = False) -> str:
    if value is None:
        return "–"
    if pct:
        return f"{value * 100:.0f}%"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return f"{value:.0f}"


def _delta(digest: Digest, key: str, pct: bool = False) -> str:
    change = digest.change.get(key)
    if change is None:
        return ""
    if pct:
        points = round(change * 100)
        return " (±0 pts)" if points == 0 else f" ({points:+d} pts)".replace("-", "−")
    shown = (
        f"{change:+.1f}"
        if isinstance(change, float) and not change.is_integer()
        else (f"{change:+.0f}")
    )
    if float(shown) == 0:  # no change, or one too small to show (−0.02 reads "±0")
        return " (±0)"
    return f" ({shown.replace('-', '−')})"


def _count(value: Figure, word: str) -> str:
    """A count figure with its noun: "1 pair", "3 ratings"."""
    return plural(round(value or 0), word)


def _median(digest: Digest, key: str, none: str) -> str:
    """ "median 4.5 days (−1)", or what an empty median means ("no pair has met yet")."""
    value = digest.figures[key]
    if value is None:
        return none
    return f"median {_num(value)} {'day' if value == 1 else 'days'}{_delta(digest, key)}"


def _deltas(digest: Digest, *keys: tuple[str, str]) -> str:
    """Several figures' changes in one bracket, each named: " (+3 held, −1 due)"."""
    parts = [
        f"{shown} {label}" for key, label in keys if (shown := _delta(digest, key).strip(" ()"))
    ]
    return f" ({', '.join(parts)})" if parts else ""


def _fields(d: Digest) -> list[tuple[str, str]]:
    f = d.figures
    steps = [
        f"step {n}: {f[key]}" for n in range(1, 20) if (key := f"lapses.step_{n}") in f and f[key]
    ]
    rows = [
        (
            "Participants",
            f"{f['participants.total']}{_delta(d, 'participants.total')}: "
            f"{_count(f['participants.mentors'], 'mentor')}, "
            f"{_count(f['participants.mentees'], 'mentee')}, "
            f"{f['participants.both']} both; {f['participants.waiting']} waiting for a match"
            f"{_delta(d, 'participants.waiting')}; "
            f"{f['participants.new']} new this week{_delta(d, 'participants.new')}",
        ),
        (
            "Pairs",
            f"{f['pairs.active']} active{_delta(d, 'pairs.active')}, {f['pairs.paused']} paused, "
            f"{f['pairs.proposed']} proposed, {f['pairs.completed']} completed, "
            f"{f['pairs.ended']} ended; {f['pairs.started_this_week']} started and "
            f"{f['pairs.ended_this_week']} ended this week",
        ),
        (
            "Meetings (last 7 days)",
            f"{f['meetings.held']} held of {f['meetings.due']} due"
            f"{_deltas(d, ('meetings.held', 'held'), ('meetings.due', 'due'))}, "
            f"{f['meetings.confirmed']} confirmed by both; "
            + (
                f"follow-through {_num(f['meetings.follow_through_rate'], pct=True)}"
                f"{_delta(d, 'meetings.follow_through_rate', pct=True)}"
                if f["meetings.follow_through_rate"] is not None
                else "no follow-through to measure (none due)"
            ),
        ),
        (
            "Since last meeting",
            _median(d, "meetings.median_days_since_last", "no meeting logged yet"),
        ),
        (
            "Time to first meeting",
            _median(d, "meetings.median_days_to_first", "no pair has met yet") + "; "
            f"{_count(f['meetings.pairs_not_met_yet'], 'pair')} not met yet"
            f"{_delta(d, 'meetings.pairs_not_met_yet')}",
        ),
        (
            "Lapsed pairs",
            f"{f['lapses.open']}{_delta(d, 'lapses.open')}"
            + (f" ({', '.join(steps)})" if steps else "")
            + f"; {f['lapses.at_risk']} at risk{_delta(d, 'lapses.at_risk')}; "
            f"{f['lapses.recovered']} recovered this week"
            f"{_delta(d, 'lapses.recovered')}",
        ),
        (
            "Average rating",
            (
                f"{_num(f['ratings.average'])} / 5 from {_count(f['ratings.count'], 'rating')}"
                if f["ratings.average"] is not None
                else f"{_count(f['ratings.count'], 'rating')}: too few to show an average"
                if f["ratings.count"]
                else "no ratings this week"
            )
            + _delta(d, "ratings.average"),
        ),
    ]
    if d.objective is not None:
        rows.append(
            (
                "Objective",
                f"{d.objective.label}: {_num(f.get('objective.share'), pct=True)} of mentees "
                f"(target {d.objective.share * 100:.0f}%, "
                f"{_num(f.get('objective.progress'), pct=True)} of the way)"
                f"{_delta(d, 'objective.share', pct=True)}",
            )
        )
    return rows


def _people_lines(d: Digest) -> list[str]:
    lines: list[str] = []
    if d.privacy == "aggregate":
        lines.append(
            f"{_count(d.figures['lapses.at_risk'], 'pair')} at risk (names are not shown: "
            "the program's privacy setting is aggregate)."
        )
        return lines
    if d.recognition:
        lines.append(
            "Thank you, mentors whose pairs keep meeting: "
            + ", ".join(f"{name} ({n} meetings in 4 weeks)" for name, n in d.recognition)
            + "."
        )
    if d.at_risk:
        lines.append("Pairs at risk (no meeting for a while; someone could offer help):")
        for p in d.at_risk:
            since = f", no meeting since {p.since:%d %b}" if p.since else ""
            lines.append(f"• {p.mentee} & {p.mentor}{since}")
        more = int(d.figures["lapses.at_risk"] or 0) - len(d.at_risk)
        if more > 0:
            lines.append(f"… and {more} more (longest at risk listed first).")
    elif d.figures["lapses.at_risk"] == 0:
        lines.append("No pair is at risk.")
    return lines


def digest_message(digest: Digest, *, chart: bool = True) -> Message:
    """The digest for a channel or a chat: header, figures, names (if allowed), chart."""
    start = format_moment(digest.as_of - WEEK, digest.timezone)
    end = format_moment(digest.as_of, digest.timezone)
    title = f"Mentoring digest: {digest.program_name}"
    period = f"Week {start} – {end}"
    rows = _fields(digest)
    people = _people_lines(digest)
    text = "\n".join([title, period, *(f"{label}: {value}" for label, value in rows), *people])
    blocks: list[Block] = [Header(title), Context(period), Fields(tuple(rows))]
    if people:
        blocks.append(Text("\n".join(people)))
    if chart:
        png = trend_png([WeekBar(w.due, w.held, w.rate, w.start) for w in digest.trend])
        blocks.append(
            File(
                "digest-trend.png",
                "image/png",
                base64.b64encode(png).decode("ascii"),
                encoding="base64",
            )
        )
        blocks.append(
            Context(
                "Chart: meetings due (light) and held (dark) per week for 12 weeks; the line is "
                "the follow-through rate."
            )
        )
    blocks.append(Context("Counts only: no private notes, agendas or individual ratings."))
    return Message(text, tuple(blocks))
