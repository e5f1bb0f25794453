"""Pure parts of the follow-through engine: date-times, .ics invites, the File block, plans."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations.dates import DateError, parse_datetime, parse_time
from conversations.followthrough.ics import Invite, escape_text, fold, read_fields, to_ics, unfold
from conversations.followthrough.plan import plan, suggest_next
from conversations.messages import File, Message, Text, from_dict, to_dict
from conversations.policy import Policy
from storage.models import Meeting, Pair

NOW = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)  # a Wednesday
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney"]


@pytest.mark.parametrize(
    ("phrase", "tz", "expected"),
    [
        ("tomorrow 3pm", "Europe/Berlin", "2026-11-26 15:00"),
        ("next Tue 10:00", "Europe/Berlin", "2026-12-01 10:00"),
        ("2026-12-03 15:00", "America/New_York", "2026-12-03 15:00"),
        ("2026-12-03T15:00", "UTC", "2026-12-03 15:00"),
        ("friday at 9:30", "UTC", "2026-11-27 09:30"),
        ("3 Dec 14:00", "UTC", "2026-12-03 14:00"),
        ("Dec 3 2027 3:30 pm", "UTC", "2027-12-03 15:30"),
        ("at 3pm tomorrow", "UTC", "2026-11-26 15:00"),
        ("noon friday", "UTC", "2026-11-27 12:00"),
        ("in 2 weeks 10:00", "UTC", "2026-12-09 10:00"),
        ("12pm", "UTC", "2026-11-25 12:00"),
        ("9am", "UTC", "2026-11-26 09:00"),  # passed today → tomorrow
        ("today 9am", "UTC", "2026-11-25 09:00"),  # said today: kept (the caller refuses the past)
        ("Tomorrow, 3 PM", "UTC", "2026-11-26 15:00"),
    ],
)
def test_phrases(phrase: str, tz: str, expected: str) -> None:
    moment = parse_datetime(phrase, NOW, tz)
    assert moment.tzinfo == ZoneInfo(tz)
    assert f"{moment:%Y-%m-%d %H:%M}" == expected


@pytest.mark.parametrize(
    ("phrase", "reason"),
    [
        ("tomorrow", "no time of day"),
        ("soonish", "couldn't read"),
        ("tomorrow 25:00", "couldn't read"),
        ("13pm friday", "couldn't read"),
        ("02/03/2027 10:00", "day/month or month/day"),
        ("2026-02-30 10:00", "not a real date"),
        ("2027-03-28 02:30", "does not exist in Europe/Berlin"),
        ("", "no day or time"),
    ],
)
def test_refusals_say_why(phrase: str, reason: str) -> None:
    with pytest.raises(DateError, match=reason):
        parse_datetime(phrase, NOW, "Europe/Berlin")


def test_times() -> None:
    assert parse_time("3pm") == (15, 0) and parse_time("12am") == (0, 0)
    assert parse_time("9.30") == (9, 30) and parse_time("15h30") == (15, 30)
    assert parse_time("15") is None and parse_time("3:75") is None


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(2026, 11, 26), max_value=datetime(2030, 12, 31)),
    st.sampled_from(ZONES),
)
def test_exact_times_read_back_in_the_speakers_zone(local: datetime, tz: str) -> None:
    local = local.replace(second=0, microsecond=0)
    aware = local.replace(tzinfo=ZoneInfo(tz))
    if aware.astimezone(UTC).astimezone(ZoneInfo(tz)).replace(tzinfo=None) != local:
        return  # in a daylight-saving gap: refused, tested above
    for phrase in (f"{local:%Y-%m-%d %H:%M}", f"{local:%d %b %Y} {local:%H:%M}"):
        assert parse_datetime(phrase, NOW, tz) == aware


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=1, max_value=12), st.sampled_from(["am", "pm"]), st.sampled_from(ZONES)
)
def test_tomorrow_at_an_hour_is_that_hour_tomorrow_locally(hour: int, half: str, tz: str) -> None:
    moment = parse_datetime(f"tomorrow {hour}{half}", NOW, tz)
    today = NOW.astimezone(ZoneInfo(tz)).date()
    assert moment.date() == today + timedelta(days=1)
    assert moment.hour == hour % 12 + (12 if half == "pm" else 0) and moment.minute == 0


def test_ics_is_rfc5545_shaped() -> None:
    invite = Invite(
        uid="meeting-7@mentorbot",
        start=datetime(2026, 12, 3, 15, 0, tzinfo=ZoneInfo("Europe/Berlin")),
        duration=timedelta(minutes=45),
        summary="Mentoring: Zoë Ångström-Łukasiewicz and Bob; agenda, goals",
        description="Line one\nline two; with a comma, " + "long " * 30,
        sequence=2,
    )
    text = to_ics(invite, NOW)
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    for line in text.split("\r\n"):
        assert len(line.encode()) <= 75
    fields = read_fields(text)
    assert fields["UID"] == "meeting-7@mentorbot" and fields["SEQUENCE"] == "2"
    assert fields["DTSTART"] == "20261203T140000Z" and fields["DTEND"] == "20261203T144500Z"
    assert fields["DTSTAMP"] == "20261125T110000Z" and fields["METHOD"] == "REQUEST"
    assert fields["SUMMARY"] == escape_text(invite.summary)
    assert "Zoë Ångström-Łukasiewicz" in fields["SUMMARY"]  # folding never splits a character
    assert fields["DESCRIPTION"].startswith("Line one\\nline two\\; with a comma\\, long")
    cancel = read_fields(to_ics(Invite("u", NOW, timedelta(hours=1), "x", cancelled=True), NOW))
    assert cancel["METHOD"] == "CANCEL" and cancel["STATUS"] == "CANCELLED"


@given(st.text(min_size=1, max_size=300).filter(lambda s: "\r" not in s and "\n" not in s))
def test_folding_unfolds_to_the_original(value: str) -> None:
    line = "SUMMARY:" + value
    assert unfold(fold(line) + "\r\n") == [line]


def test_file_block_round_trips_through_json() -> None:
    message = Message(
        "Invite attached.",
        (Text("Invite attached."), File("m.ics", "text/calendar", "BEGIN:VCALENDAR\r\n")),
    )
    data = to_dict(message)
    assert data["blocks"][1] == {
        "type": "file",
        "filename": "m.ics",
        "mime": "text/calendar",
        "content": "BEGIN:VCALENDAR\r\n",
        "encoding": "text",
    }
    assert from_dict(data) == message


def _pair(**kw: object) -> Pair:
    base = dict(
        id=1,
        program_id=1,
        mentee_id=1,
        mentor_id=2,
        state="active",
        lapse_step=0,
        lapse_cycle=0,
        activated_at=NOW,
        silent_since=NOW,
        cadence="weekly",
    )
    base.update(kw)
    return Pair(**base)


def test_plan_lists_the_meeting_steps_then_the_lapse_ladder() -> None:
    policy = Policy()
    start = NOW + timedelta(days=3)
    meeting = Meeting(id=1, pair_id=1, scheduled_at=start, duration_minutes=45, sequence=0)
    kinds = [(s.kind, s.at - start) for s in plan(_pair(), meeting, policy)]
    assert kinds == [
        ("agenda-prompt", -timedelta(hours=24)),
        ("agenda-reminder", -timedelta(hours=2)),
        ("checkin", timedelta(minutes=105)),
    ]
    # One rung at a time: the first when the silence turns into a lapse (day 10) ...
    ladder = plan(_pair(), None, policy)
    assert [(s.kind, s.index, s.at - NOW) for s in ladder] == [("lapse", 0, timedelta(days=10))]
    # ... and the next ones from the day the episode was detected, however late that was.
    late = NOW + timedelta(days=40)
    for step, offset in enumerate((4, 8, 14, 21), 1):
        [rung] = plan(_pair(lapse_step=step, lapse_since=late), None, policy)
        assert (rung.index, rung.at - late) == (step, timedelta(days=offset))
    assert plan(_pair(lapse_step=5, lapse_since=late), None, policy) == []
    assert plan(_pair(state="ended"), meeting, policy) == []
    assert [s.kind for s in plan(_pair(state="paused", paused_until=start), None, policy)] == [
        "resume"
    ]
    assert plan(_pair(state="paused"), None, policy) == []


def test_the_suggested_next_date_follows_the_cadence_on_a_weekday() -> None:
    policy = Policy()
    last = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)  # Friday 15:00 in Berlin
    pair = _pair(cadence="weekly", last_meeting_at=last)
    assert suggest_next(pair, policy, NOW, "Europe/Berlin") == datetime(
        2026, 11, 27, 15, 0, tzinfo=ZoneInfo("Europe/Berlin")
    )
    fresh = _pair(cadence="biweekly", last_meeting_at=None)
    first = suggest_next(fresh, policy, datetime(2026, 11, 28, 9, 0, tzinfo=UTC), "UTC")
    assert first.weekday() < 5 and first.hour == 10 and first.date() >= date(2026, 12, 12)
