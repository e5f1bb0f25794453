"""Issue 13's ledger scenarios through the chat: `met` before the scheduled day, a date
phrase as the day (not the note), late logging and the lapse ladder, the partner's
confirm/dispute and the figures HR sees. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from conversations.digest.figures import compute_digest
from conversations.digest.messages import digest_message
from conversations.followthrough.met_day import DayAhead, leading_day
from conversations.policy import Policy
from storage import meeting_ledger
from storage.models import Lapse, Meeting, PrivateNote, Program
from storage.states import MeetingStatus
from tests.followthrough_kit import get_pair, inbox, keys, make_pair
from tests.harness import Chat

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Mon
FRIDAY = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # 10:00 in Berlin, alice's zone


@pytest.fixture
def policy() -> Policy:
    return Policy(program_name="Acme mentoring", admins=frozenset({"local:hana"}))


async def meetings(chat: Chat) -> list[tuple[str, datetime | None]]:
    async with chat.engine.db.transaction() as session:
        rows = await session.scalars(select(Meeting).order_by(Meeting.id))
        return [(m.status, m.held_at) for m in rows]


async def stats_line(chat: Chat) -> str:
    await chat.say("hana", "join mentor")
    text = await chat.text("hana", "admin stats")
    return next(line.strip() for line in text.splitlines() if "Meetings, last 7 days" in line)


async def sweep_kinds(chat: Chat) -> list[str]:
    return [item.kind for item in await chat.engine.sweep(chat.now)]


async def test_met_three_times_before_the_scheduled_day_asks_and_the_meeting_stays(
    chat: Chat,
) -> None:
    pair_id = await make_pair(chat)
    await chat.say("alice", "schedule 2026-11-27 10:00")
    chat.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # Thursday
    for _ in range(3):
        [ask] = await chat.say("alice", "met with @bob")
        assert "Did you meet early?" in ask.text and "Nothing is logged" in ask.text
        assert [b.label for b in ask.buttons()] == ["Yes, today", "Yes, yesterday"]
    assert await meetings(chat) == [("scheduled", None)]
    assert (await get_pair(chat, pair_id)).next_meeting_at == FRIDAY
    assert "next meeting Fri 27 Nov 2026, 10:00" in await chat.text("alice", "status")
    assert await inbox(chat, "bob", "meeting-logged") == []  # nothing logged, nothing told
    # Friday's meeting keeps its agenda prompt and its check-in.
    chat.now = FRIDAY - timedelta(hours=24)
    assert await sweep_kinds(chat) == ["agenda-prompt"]
    chat.now = FRIDAY + timedelta(minutes=105)
    assert await sweep_kinds(chat) == ["checkin", "checkin"]
    await chat.click("bob", (await inbox(chat, "bob", "checkin"))[0], "Yes")
    assert await meetings(chat) == [("held", FRIDAY)]
    assert await stats_line(chat) == "Meetings, last 7 days: 1 held of 1 due, 0 confirmed by both"


async def test_met_early_answered_yes_logs_one_meeting_and_more_mets_update_it(
    chat: Chat,
) -> None:
    pair_id = await make_pair(chat)
    await chat.say("alice", "schedule 2026-11-27 10:00")
    thursday = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    chat.now = thursday
    [ask] = await chat.say("alice", "met with @bob good talk")  # the note is kept
    logged = await chat.click("alice", ask, "Yes, today")
    assert "your meeting with bob on Thu 26 Nov is logged; bob can confirm it" in logged[0].text
    chat.now += timedelta(minutes=5)
    again = await chat.text("alice", "met with @bob")
    assert "was already logged: I've updated that one meeting (it counts once)" in again
    assert "already logged" in await chat.text("bob", "met with @alice")
    assert await meetings(chat) == [("held", thursday)]
    pair = await get_pair(chat, pair_id)
    assert (pair.next_meeting_at, pair.last_meeting_at) == (None, thursday)
    # Held early: Friday's prompts no longer go out.
    for hours in (-24, -2, 2):
        chat.now = FRIDAY + timedelta(hours=hours)
        assert await sweep_kinds(chat) == []
    [notice] = await inbox(chat, "bob", "meeting-logged")  # told once, not three times
    assert "alice logged your meeting on Thu 26 Nov 2026" in notice.text
    # Bob's own `met` was his confirmation.
    assert await stats_line(chat) == "Meetings, last 7 days: 1 held of 1 due, 1 confirmed by both"
    async with chat.engine.db.transaction() as session:
        notes = list(await session.scalars(select(PrivateNote.text)))
    assert notes == ["good talk"]


async def test_a_leading_date_is_the_day_not_the_note(chat: Chat) -> None:
    await make_pair(chat)
    chat.now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # Thursday
    reply = await chat.text("alice", "met tomorrow")
    assert "Fri 04 Dec 2026 is still ahead, so there is no meeting to log yet" in reply
    assert "`/mentor met on DATE`" in reply
    assert await meetings(chat) == []
    reply = await chat.text("alice", "met yesterday we planned my promotion case")
    assert "on Wed 02 Dec is logged" in reply
    reply = await chat.text("alice", "met on friday")
    assert "on Fri 27 Nov is logged" in reply
    # One unscheduled meeting per pair and day: again, by either partner, updates it.
    assert "already logged" in await chat.text("bob", "met on 2 Dec")
    assert "already logged" in await chat.text("alice", "met on 2026-12-02 more notes")
    assert [s for s, _ in await meetings(chat)] == ["held", "held"]
    assert "started on Mon 23 Nov 2026" in await chat.text("alice", "met on 1 Nov")
    async with chat.engine.db.transaction() as session:
        notes = list(await session.scalars(select(PrivateNote.text).order_by(PrivateNote.id)))
    assert notes == ["we planned my promotion case", "more notes"]  # never "tomorrow"


async def test_a_late_detected_lapse_starts_at_the_first_rung_and_climbs_from_there(
    chat: Chat,
) -> None:
    pair_id = await make_pair(chat)
    # No sweep ran for two months (silence lapsed on day 17): the first rung, not the last.
    seen: dict[int, list[str]] = {}
    for day in range(60, 90):
        chat.now = START + timedelta(days=day)
        if kinds := await sweep_kinds(chat):
            seen[day] = kinds
    assert seen == {
        60: ["lapse-nudge-mentee"],
        64: ["lapse-nudge-both", "lapse-nudge-both"],
        68: ["lapse-nudge-mentor"],
        74: ["lapse-at-risk"],
        81: ["lapse-end-or-rematch", "lapse-end-or-rematch"],
    }
    async with chat.engine.db.transaction() as session:
        [lapse] = list(await session.scalars(select(Lapse)))
    assert lapse.began_at == START + timedelta(days=60) and lapse.pair_id == pair_id


async def test_a_meeting_logged_late_for_an_earlier_day_ends_the_lapse(chat: Chat) -> None:
    pair_id = await make_pair(chat)
    await chat.say("alice", "schedule 2026-11-30 10:00")
    held_on = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    for day in range(1, 46):  # check-in unanswered, then the ladder, into January
        chat.now = START + timedelta(days=day)
        await chat.engine.sweep(chat.now)
    assert (await get_pair(chat, pair_id)).lapse_step >= 2
    reply = await chat.text("alice", "met on 30 Nov")
    assert "on Mon 30 Nov is logged" in reply and "Good to see you two meeting again" in reply
    assert await meetings(chat) == [("held", held_on)]  # the scheduled one, on its day
    async with chat.engine.db.transaction() as session:
        [lapse] = list(await session.scalars(select(Lapse)))
    assert (lapse.outcome, lapse.closed_at) == ("recovered", chat.now)
    # The silence clock restarts at the log: nothing for 17 days, then the first rung.
    logged_at, cycle = chat.now, (await get_pair(chat, pair_id)).lapse_cycle
    for day in range(1, 18):
        chat.now = logged_at + timedelta(days=day)
        kinds = await sweep_kinds(chat)
        assert kinds == ([] if day < 17 else ["lapse-nudge-mentee"]), day
    assert await keys(chat, f"lapse:{pair_id}:{cycle}:") == [f"lapse:{pair_id}:{cycle}:1"]


async def test_the_partner_confirms_or_disputes_and_the_figures_follow(chat: Chat) -> None:
    await make_pair(chat)
    chat.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    await chat.say("alice", "met with @bob")
    [notice] = await inbox(chat, "bob", "meeting-logged")
    assert [b.label for b in notice.buttons()] == ["Yes, we met", "No, we didn't"]
    assert await stats_line(chat) == "Meetings, last 7 days: 1 held of 1 due, 0 confirmed by both"
    [yes] = await chat.click("bob", notice, "Yes, we met")
    assert "confirmed by you both" in yes.text
    assert await stats_line(chat) == "Meetings, last 7 days: 1 held of 1 due, 1 confirmed by both"

    chat.now += timedelta(days=1)
    await chat.say("alice", "met")
    second = (await inbox(chat, "bob", "meeting-logged"))[-1]
    [no] = await chat.click("bob", second, "No, we didn't")
    assert "doesn't count as held, and alice is told" in no.text
    [told] = await inbox(chat, "alice", "meeting-disputed")
    assert "bob says your meeting on Thu 26 Nov 2026 didn't take place" in told.text
    assert await stats_line(chat) == "Meetings, last 7 days: 1 held of 2 due, 1 confirmed by both"
    async with chat.engine.db.transaction() as session:
        program = await session.get(Program, chat.engine.program_id)
        assert program is not None
        digest = await compute_digest(session, program, chat.engine.policy, chat.now)
    assert (digest.figures["meetings.held"], digest.figures["meetings.confirmed"]) == (1, 1)
    assert "1 held of 2 due (+1 held, +2 due), 1 confirmed by both" in digest_message(digest).text
    # Bad answers get the right form; a meeting not yours is not found.
    assert "`/mentor meeting confirm NUMBER`" in await chat.text("bob", "meeting agree 1")
    await chat.say("carl", "join mentor")
    assert "can't find that meeting" in await chat.text("carl", "meeting confirm 1")


def test_the_ledger_allows_only_its_transitions() -> None:
    meeting = Meeting(status=MeetingStatus.SCHEDULED, sequence=0)
    meeting_ledger.hold(meeting, START)
    meeting_ledger.hold(meeting, START + timedelta(days=1))  # a second log corrects the day
    with pytest.raises(meeting_ledger.IllegalTransition):
        meeting.status = MeetingStatus.SCHEDULED
    with pytest.raises(meeting_ledger.IllegalTransition):
        meeting_ledger.cancel(meeting)
    with pytest.raises(meeting_ledger.IllegalTransition):
        meeting_ledger.move(meeting, START)
    skipped = Meeting(status=MeetingStatus.SCHEDULED, sequence=0)
    meeting_ledger.skip(skipped)
    with pytest.raises(meeting_ledger.IllegalTransition):
        meeting_ledger.hold(skipped, START)
    cancelled = Meeting(status=MeetingStatus.CANCELLED)  # history may be written as it is
    with pytest.raises(meeting_ledger.IllegalTransition):
        cancelled.status = MeetingStatus.SCHEDULED
    assert meeting_ledger.can_become(MeetingStatus.CANCELLED) == (MeetingStatus.SCHEDULED,)


@pytest.mark.parametrize(
    ("words", "day", "note"),
    [
        ("on 30 Nov great", date(2026, 11, 30), "great"),  # last year's, read in January
        ("last fri", date(2027, 1, 1), ""),
        ("2 days ago", date(2027, 1, 5), ""),
        ("friday talked", date(2027, 1, 1), "talked"),
        ("sat down with her", None, "sat down with her"),  # an abbreviation needs `on`
        ("on the bus", None, "on the bus"),
    ],
)
def test_a_leading_date_phrase_is_read_as_a_day_already_come(
    words: str, day: date | None, note: str
) -> None:
    now = datetime(2027, 1, 7, 9, 0, tzinfo=UTC)  # Thursday
    assert leading_day(words.split(), now, "Europe/Berlin") == (day, note.split())


def test_a_day_ahead_is_refused() -> None:
    now = datetime(2027, 1, 7, 9, 0, tzinfo=UTC)
    for words in ("tomorrow", "in 2 days", "next monday", "2027-02-01"):
        with pytest.raises(DayAhead):
            leading_day(words.split(), now, "Europe/Berlin")
