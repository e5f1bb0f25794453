"""The follow-through engine end to end: events and sweeps in, messages out, time passed in."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from conversations.engine import Engine
from conversations.followthrough.agreement import begin_agreement
from conversations.followthrough.ics import read_fields
from conversations.messages import to_dict
from conversations.policy import Policy
from storage import pairs, people, reports
from storage.database import Database
from storage.models import Lapse, OutboxMessage, Program
from storage.pairs import create_active_pair
from tests.followthrough_kit import agree_both, get_pair, inbox, keys, make_pair, person_id
from tests.harness import Chat

# Mon 23 Nov 2026, 09:00 UTC (the harness default).
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def sweep_kinds(chat: Chat) -> list[str]:
    return [item.kind for item in await chat.engine.sweep(chat.now)]


async def test_agreement_is_proposed_to_both_and_confirmed_by_both(chat: Chat) -> None:
    pair_id = await make_pair(chat)
    for user in ("alice", "bob"):
        [prompt] = await inbox(chat, user, "agreement")
        assert "Get ready to lead a team" in prompt.text  # goals from the mentee's profile
        assert "every two weeks" in prompt.text  # cadence default from the policy
        assert "stays between us" in prompt.text
        assert [b.label for b in prompt.buttons()] == ["I agree", "Change terms"]
    pair = await get_pair(chat, pair_id)
    assert pair.term_end is not None and pair.term_end.isoformat() == "2027-05-23"
    alice_prompt = (await inbox(chat, "alice", "agreement"))[0]
    reply = await chat.click("alice", alice_prompt, "I agree")
    assert "Waiting for bob" in reply[0].text
    assert (await get_pair(chat, pair_id)).agreement_confirmed_at is None
    bob_prompt = (await inbox(chat, "bob", "agreement"))[0]
    reply = await chat.click("bob", bob_prompt, "I agree")
    assert "Agreement confirmed with alice" in reply[0].text
    assert "schedule WHEN with @alice" in reply[0].text
    assert (await get_pair(chat, pair_id)).agreement_confirmed_at == chat.now
    [note] = await inbox(chat, "alice", "agreement-confirmed")
    assert "bob agreed too" in note.text


async def test_changing_the_terms_asks_the_other_person_again(chat: Chat) -> None:
    pair_id = await make_pair(chat)
    await chat.click("bob", (await inbox(chat, "bob", "agreement"))[0], "I agree")
    form_reply = await chat.say("alice", "agreement edit")
    form = form_reply[0].form()
    assert form is not None and form.form_id == "agreement"
    reply = await chat.submit(
        "alice",
        "agreement",
        {"pair": str(pair_id), "goals": "Lead a team of five", "cadence": "weekly", "term": "3"},
    )
    assert "sent to bob to confirm" in reply[0].text
    pair = await get_pair(chat, pair_id)
    assert (pair.cadence, pair.goals, pair.term_end.isoformat() if pair.term_end else "") == (
        "weekly",
        "Lead a team of five",
        "2027-02-23",
    )
    assert pair.mentor_agreed_at is None and pair.mentee_agreed_at is not None
    latest = (await inbox(chat, "bob", "agreement"))[-1]
    assert "alice proposed new terms" in latest.text and "every week" in latest.text
    await chat.click("bob", latest, "I agree")
    assert (await get_pair(chat, pair_id)).agreement_confirmed_at is not None
    bad = await chat.submit("alice", "agreement", {"pair": str(pair_id), "cadence": "daily"})
    assert "Pick weekly, biweekly or monthly" in bad[0].text and bad[0].form() is not None


async def test_an_agreement_left_unconfirmed_gets_one_reminder_to_who_has_not_agreed(
    db: Database, policy: Policy
) -> None:
    follow = replace(policy.follow, agreement_reminder=timedelta(days=3))  # as app.yaml
    chat = Chat(Engine(db, replace(policy, follow=follow)))
    pair_id = await make_pair(chat)
    alice_prompt = (await inbox(chat, "alice", "agreement"))[0]
    await chat.click("alice", alice_prompt, "I agree")
    chat.advance(days=3, minutes=-1)
    assert "agreement-reminder" not in await sweep_kinds(chat)
    chat.advance(minutes=1)  # app.yaml: term.agreement_reminder 3d after the match
    items = [i for i in await chat.engine.sweep(chat.now) if i.kind == "agreement-reminder"]
    bob = await person_id(chat, "bob")
    assert [(i.key, i.person_id, i.queued) for i in items] == [
        (f"agreement-reminder:{pair_id}:{bob}", bob, True)
    ]
    assert await inbox(chat, "alice", "agreement-reminder") == []
    [reminder] = await inbox(chat, "bob", "agreement-reminder")
    assert "Your mentoring agreement with alice is still waiting for your OK" in reminder.text
    chat.advance(days=2)
    assert "agreement-reminder" not in await sweep_kinds(chat)  # one reminder, not a series
    [confirmed] = await chat.click("bob", reminder, "I agree")
    assert "Agreement confirmed with alice" in confirmed.text


async def test_schedule_confirms_to_both_in_their_own_time_zone_with_an_invite(chat: Chat) -> None:
    await make_pair(chat)
    await agree_both(chat)
    [reply] = await chat.say("alice", "schedule tomorrow 3pm")
    # Alice is in Berlin (UTC+1): 15:00 there is 14:00 UTC and 09:00 in New York.
    assert "Tue 24 Nov 2026, 15:00 (Europe/Berlin)" in reply.text
    [invite] = reply.files()
    fields = read_fields(invite.content)
    assert fields["DTSTART"] == "20261124T140000Z" and fields["DTEND"] == "20261124T144500Z"
    assert fields["METHOD"] == "REQUEST" and fields["SEQUENCE"] == "0"
    [theirs] = await inbox(chat, "bob", "meeting-scheduled")
    assert "Tue 24 Nov 2026, 09:00 (America/New_York)" in theirs.text
    assert "alice scheduled a meeting with you" in theirs.text
    assert read_fields(theirs.files()[0].content)["UID"] == fields["UID"]
    status = await chat.text("bob", "status")
    assert "next meeting Tue 24 Nov 2026, 09:00 (America/New_York)" in status


async def test_reschedule_keeps_the_uid_and_cancel_sends_a_cancellation(chat: Chat) -> None:
    pair_id = await make_pair(chat)
    first = (await chat.say("alice", "schedule 2026-12-03 15:00"))[0].files()[0]
    moved = await chat.say("bob", "reschedule next tue 10:00 with @alice")
    assert "You moved the meeting with alice to Tue 01 Dec 2026, 10:00 (America/New_York)" in (
        moved[0].text
    )
    moved_fields = read_fields(moved[0].files()[0].content)
    assert moved_fields["UID"] == read_fields(first.content)["UID"]
    assert moved_fields["SEQUENCE"] == "1" and moved_fields["DTSTART"] == "20261201T150000Z"
    pair = await get_pair(chat, pair_id)
    assert pair.next_meeting_at == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    cancelled = await chat.say("alice", "schedule cancel")
    assert "You cancelled the meeting with bob" in cancelled[0].text
    assert read_fields(cancelled[0].files()[0].content)["METHOD"] == "CANCEL"
    assert "bob" in cancelled[0].text
    [note] = await inbox(chat, "bob", "meeting-cancelled")
    assert "alice cancelled the meeting with you" in note.text
    assert (await get_pair(chat, pair_id)).next_meeting_at is None
    assert "no next meeting" in await chat.text("alice", "status")


async def test_a_meeting_after_the_term_ends_is_refused_with_renew_offered(chat: Chat) -> None:
    pair_id = await make_pair(chat)  # the term ends on Sun 23 May 2027
    [refusal] = await chat.say("alice", "schedule 2027-06-01 10:00")
    assert "Your mentoring term with bob ends on Sun 23 May 2027" in refusal.text
    assert "I haven't scheduled it" in refusal.text and "renew" in refusal.text
    assert [b.label for b in refusal.buttons()] == ["Renew"]
    pair = await get_pair(chat, pair_id)
    assert pair.next_meeting_at is None and await inbox(chat, "bob", "meeting-scheduled") == []
    await chat.say("alice", "schedule 2027-05-20 10:00")  # before the end: fine
    [moved] = await chat.say("alice", "schedule 2027-05-23 09:00")  # on the last day: no
    assert "ends on Sun 23 May 2027" in moved.text
    early = await chat.click("alice", refusal, "Renew")  # months before the renewal window
    assert "Renewal opens on Sun 09 May 2027" in early[0].text
    assert (await get_pair(chat, pair_id)).term_end.isoformat() == "2027-05-23"  # type: ignore[union-attr]
    chat.now = datetime(2027, 5, 10, 9, 0, tzinfo=UTC)
    await chat.say("alice", "renew")
    await chat.say("bob", "renew")
    [done] = await chat.say("alice", "schedule 2027-06-01 10:00")
    assert "You moved the meeting with bob to Tue 01 Jun 2027, 10:00" in done.text


async def test_a_checkin_whose_next_date_is_after_the_term_keeps_and_confirms_what_was_saved(
    chat: Chat,
) -> None:
    pair_id = await make_pair(chat)  # the term ends on Sun 23 May 2027
    await agree_both(chat)
    await chat.say("alice", "schedule 2026-11-26 15:00")
    chat.now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    await chat.say("alice", "met")
    saved, refusal = await chat.submit(
        "alice",
        "checkin",
        {
            "pair": str(pair_id),
            "rating": "4",
            "commitment": "draft the plan",
            "next": "2027-06-01 10:00",
        },
    )
    assert "Saved rating 4/5, your commitment" in saved.text
    assert "ends on Sun 23 May 2027" in refusal.text and [b.label for b in refusal.buttons()] == [
        "Renew"
    ]
    assert "draft the plan" in await chat.text("alice", "commit")
    assert (await get_pair(chat, pair_id)).next_meeting_at is None


async def test_moving_a_meeting_withdraws_its_unsent_prompt_and_the_new_time_gets_one(
    chat: Chat,
) -> None:
    await make_pair(chat)
    await chat.say("alice", "schedule 2026-11-25 10:00")  # Berlin: 09:00 UTC
    chat.now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert await sweep_kinds(chat) == ["agenda-prompt"]
    [old_key] = await keys(chat, "agenda:")
    await chat.say("alice", "schedule 2026-11-25 11:00")
    async with chat.engine.db.transaction() as session:
        rows = (
            await session.execute(
                select(OutboxMessage.idempotency_key, OutboxMessage.status).where(
                    OutboxMessage.kind == "agenda-prompt"
                )
            )
        ).all()
    assert rows == [(old_key, "superseded")]
    chat.advance(minutes=1)
    assert await sweep_kinds(chat) == ["agenda-prompt"]
    assert await keys(chat, "agenda:") == [old_key, old_key[:-1] + "1"]
    assert "11:00" in (await inbox(chat, "alice", "agenda-prompt"))[-1].text
    await chat.say("alice", "schedule cancel")
    async with chat.engine.db.transaction() as session:
        statuses = list(
            await session.scalars(
                select(OutboxMessage.status)
                .where(OutboxMessage.kind == "agenda-prompt")
                .order_by(OutboxMessage.id)
            )
        )
    assert statuses == ["superseded", "superseded"]


async def test_schedule_refuses_what_it_cannot_use_and_says_the_right_form(chat: Chat) -> None:
    await make_pair(chat)
    past = await chat.text("alice", "schedule yesterday 10:00")
    assert "in the past" in past
    no_time = await chat.text("alice", "schedule tomorrow")
    assert "no time of day" in no_time and "tomorrow 3pm" in no_time
    garbage = await chat.text("alice", "schedule whenever suits")
    assert "couldn't read" in garbage and "Europe/Berlin" in garbage
    stranger = await chat.text("alice", "schedule tomorrow 3pm with @carol")
    assert "not paired with @carol" in stranger
    await chat.say("dora", "join mentee")
    assert "no active mentoring pair" in await chat.text("dora", "schedule tomorrow 3pm")
    form = (await chat.say("alice", "schedule"))[0].form()
    assert form is not None and form.inputs[1].value  # a suggestion from the cadence


async def test_meeting_cycle_prompt_checkin_commitment_next_prompt(chat: Chat) -> None:
    pair_id = await make_pair(chat)
    await agree_both(chat)
    await chat.say("alice", "commit sketch my team charter")
    await chat.say("alice", "schedule 2026-11-26 15:00")  # 14:00 UTC, Thu
    meeting_at = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)

    chat.now = meeting_at - timedelta(hours=24, minutes=1)
    assert "agenda-prompt" not in await sweep_kinds(chat)
    chat.now = meeting_at - timedelta(hours=24)
    assert await sweep_kinds(chat) == ["agenda-prompt"]
    assert await sweep_kinds(chat) == []  # nothing twice
    [prompt] = await inbox(chat, "alice", "agenda-prompt")
    assert "Thu 26 Nov 2026, 15:00 (Europe/Berlin)" in prompt.text
    assert "Get ready to lead a team" in prompt.text and "sketch my team charter" in prompt.text
    assert "First meeting kit" in prompt.text  # the first meeting: the kit, not questions
    assert await inbox(chat, "bob", "agenda-prompt") == []  # the mentee runs the meeting

    form_reply = await chat.click("alice", prompt, "Set the agenda")
    assert form_reply[0].form() is not None
    await chat.submit("alice", "agenda", {"pair": str(pair_id), "items": "my first hire\nfeedback"})
    [brief] = await inbox(chat, "bob", "mentor-agenda")
    assert (
        "1. my first hire\n2. feedback" in brief.text and "09:00 (America/New_York)" in brief.text
    )
    await chat.say("alice", "agenda add my next step")  # an update goes to the mentor too
    assert "3. my next step" in (await inbox(chat, "bob", "mentor-agenda"))[-1].text

    chat.now = meeting_at - timedelta(hours=2)
    assert await sweep_kinds(chat) == []  # an agenda is set: no reminder
    chat.now = meeting_at + timedelta(minutes=45 + 59)
    assert await sweep_kinds(chat) == []
    chat.now = meeting_at + timedelta(minutes=45 + 60)
    assert await sweep_kinds(chat) == ["checkin", "checkin"]
    [ask] = await inbox(chat, "bob", "checkin")
    assert "Did you meet alice" in ask.text
    assert [b.label for b in ask.buttons()] == ["Yes", "Reschedule", "Skip this time"]

    yes = await chat.click("alice", (await inbox(chat, "alice", "checkin"))[0], "Yes")
    form = yes[0].form()
    assert form is not None and form.form_id == "checkin"
    suggestion = next(i.value for i in form.inputs if i.name == "next")
    assert suggestion == "2026-12-10 15:00"  # two weeks on, same local time
    saved = await chat.submit(
        "alice",
        "checkin",
        {
            "pair": str(pair_id),
            "rating": "5",
            "note": "SECRET-NOTE: nervous about the reorg",
            "commitment": "read The Manager's Path",
            "next": suggestion,
        },
    )
    assert "Saved rating 5/5, your private note, your commitment" in saved[0].text
    assert "Thu 10 Dec 2026, 15:00 (Europe/Berlin)" in saved[1].text
    pair = await get_pair(chat, pair_id)
    assert pair.last_meeting_at == meeting_at
    assert pair.next_meeting_at == datetime(2026, 12, 10, 14, 0, tzinfo=UTC)
    assert "No agenda" in await chat.text("alice", "agenda")  # discussed, so cleared

    chat.now = datetime(2026, 12, 9, 14, 0, tzinfo=UTC)
    assert await sweep_kinds(chat) == ["agenda-prompt"]
    second = (await inbox(chat, "alice", "agenda-prompt"))[-1]
    assert "read The Manager's Path" in second.text and "sketch my team charter" in second.text
    assert "SECRET-NOTE: nervous about the reorg" in second.text  # shown back to its writer

    # Bob's side of all this never shows Alice's private note.
    async with chat.engine.db.transaction() as session:
        rows = await session.scalars(select(OutboxMessage))
        everything = [row for row in rows]
    bob_id = (await get_pair(chat, pair_id)).mentor_id
    for row in everything:
        if row.person_id == bob_id:
            assert "SECRET-NOTE" not in str(row.payload)
    for line in ("status", "agenda", "commit", "met", "agreement"):
        for message in await chat.say("bob", line):
            assert "SECRET-NOTE" not in str(to_dict(message))


async def test_mentee_without_an_agenda_gets_one_reminder(chat: Chat) -> None:
    await make_pair(chat)
    await chat.say("alice", "schedule 2026-11-30 10:00")  # 09:00 UTC
    meeting_at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    chat.now = meeting_at - timedelta(hours=24)
    assert await sweep_kinds(chat) == ["agenda-prompt"]
    chat.now = meeting_at - timedelta(hours=2)
    assert await sweep_kinds(chat) == ["agenda-reminder"]
    chat.now += timedelta(minutes=30)
    assert await sweep_kinds(chat) == []
    [reminder] = await inbox(chat, "alice", "agenda-reminder")
    assert "has no agenda yet" in reminder.text


async def test_a_meeting_set_at_short_notice_gets_the_prompt_but_not_a_second_reminder(
    chat: Chat,
) -> None:
    await make_pair(chat)
    await chat.say("alice", "schedule 10:30")  # 09:30 UTC, 30 minutes from now
    assert await sweep_kinds(chat) == ["agenda-prompt"]
    chat.now += timedelta(minutes=10)
    assert await sweep_kinds(chat) == []


async def test_silence_climbs_the_ladder_on_its_days(chat: Chat) -> None:
    pair_id = await make_pair(chat)
    # biweekly (14 d) + grace (3 d) → lapsed on day 17; then +4, +8, +14, +21 days.
    expected = {
        17: ["lapse-nudge-mentee"],
        21: ["lapse-nudge-both", "lapse-nudge-both"],
        25: ["lapse-nudge-mentor"],
        31: ["lapse-at-risk"],
        38: ["lapse-end-or-rematch", "lapse-end-or-rematch"],
    }
    for day in range(1, 45):
        chat.now = START + timedelta(days=day)
        items = await chat.engine.sweep(chat.now)
        assert [i.kind for i in items] == expected.get(day, []), day
        assert all(i.queued for i in items)
        if day == 31:
            assert "flagged at risk for the digest (no message sent)" in items[0].text
    assert await keys(chat, f"lapse:{pair_id}:") == [
        f"lapse:{pair_id}:0:1",
        f"lapse:{pair_id}:0:2:mentee",
        f"lapse:{pair_id}:0:2:mentor",
        f"lapse:{pair_id}:0:3",
        f"lapse:{pair_id}:0:5:mentee",
        f"lapse:{pair_id}:0:5:mentor",
    ]
    [nudge] = await inbox(chat, "alice", "lapse-nudge-mentee")
    assert "haven't met since Mon 23 Nov" in nudge.text
    assert [b.label for b in nudge.buttons()] == ["Reschedule", "Pause until a date", "End"]
    [last] = await inbox(chat, "bob", "lapse-end-or-rematch")
    assert [b.label for b in last.buttons()] == [
        "Schedule a meeting",
        "End",
        "End and rematch me",
    ]
    pair = await get_pair(chat, pair_id)
    assert pair.at_risk_since == START + timedelta(days=31) and pair.lapse_step == 5


async def test_a_lapsed_pair_that_meets_again_recovers_and_the_ladder_resets(chat: Chat) -> None:
    pair_id = await make_pair(chat)
    for day in (17, 21):  # lapsed on day 17, second rung four days on
        chat.now = START + timedelta(days=day)
        await chat.engine.sweep(chat.now)
    assert (await get_pair(chat, pair_id)).lapse_step == 2
    reply = await chat.text("bob", "met with @alice")
    assert "Good to see you two meeting again" in reply
    pair = await get_pair(chat, pair_id)
    assert (pair.lapse_step, pair.lapse_cycle, pair.last_meeting_at) == (0, 1, chat.now)
    async with chat.engine.db.transaction() as session:
        [lapse] = list(await session.scalars(select(Lapse)))
        assert (lapse.outcome, lapse.step, lapse.closed_at) == ("recovered", 2, chat.now)
        # The digest's figures for the week to now: one lapse begun, one recovery, none at risk.
        (week,) = await reports.lapses(session, pair.program_id, [chat.now])
        assert (week.begun, week.recovered, week.at_risk) == (1, 1, 0)
    # The silence clock restarts at the meeting: the next lapse is a new cycle, 17 days on.
    met_at = chat.now
    chat.now = met_at + timedelta(days=17) - timedelta(minutes=1)
    assert await sweep_kinds(chat) == []
    chat.now = met_at + timedelta(days=17)
    assert await sweep_kinds(chat) == ["lapse-nudge-mentee"]
    assert (await keys(chat, f"lapse:{pair_id}:1:")) == [f"lapse:{pair_id}:1:1"]


async def test_a_scheduled_meeting_holds_the_ladder_until_its_checkin(chat: Chat) -> None:
    await make_pair(chat)
    await chat.say("alice", "schedule 2026-12-14 10:00")  # after the day-17 lapse point
    for day in range(1, 21):
        chat.now = START + timedelta(days=day)
        assert not any(k.startswith("lapse") for k in await sweep_kinds(chat)), day


async def test_skip_asks_for_the_next_date(chat: Chat) -> None:
    pair_id = await make_pair(chat)
    await chat.say("alice", "schedule 2026-11-24 10:00")
    chat.now = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    await chat.engine.sweep(chat.now)
    ask = (await inbox(chat, "bob", "checkin"))[0]
    reply = await chat.click("bob", ask, "Skip this time")
    assert "skipped this time" in reply[0].text and reply[0].form() is not None
    assert (await get_pair(chat, pair_id)).next_meeting_at is None


async def test_pausing_a_pair_from_a_nudge_and_its_automatic_end(chat: Chat) -> None:
    pair_id = await make_pair(chat)
    chat.now = START + timedelta(days=17)
    await chat.engine.sweep(chat.now)
    nudge = (await inbox(chat, "alice", "lapse-nudge-mentee"))[0]
    form_reply = await chat.click("alice", nudge, "Pause until a date")
    assert form_reply[0].form() is not None
    reply = await chat.submit("alice", "pair-pause", {"pair": str(pair_id), "until": "2027-01-04"})
    assert "until Mon 04 Jan 2027" in reply[0].text
    assert "paused your mentoring meetings" in (await inbox(chat, "bob", "pair-paused"))[0].text
    assert "meetings paused until Mon 04 Jan 2027, 00:00 (Europe/Berlin)" in await chat.text(
        "alice", "status"
    )
    chat.now = datetime(2027, 1, 3, 22, 0, tzinfo=UTC)
    assert await sweep_kinds(chat) == []
    chat.now = datetime(2027, 1, 4, 0, 0, tzinfo=UTC)  # midnight in Berlin was 23:00 UTC
    assert await sweep_kinds(chat) == ["pair-resumed", "pair-resumed"]
    pair = await get_pair(chat, pair_id)
    assert pair.state == "active" and pair.silent_since == chat.now


async def test_end_with_a_review_tells_the_partner(chat: Chat) -> None:
    pair_id = await make_pair(chat)
    form = (await chat.say("alice", "end with @bob rematch"))[0].form()
    assert form is not None and form.form_id == "end"
    reply = await chat.submit(
        "alice",
        "end",
        {
            "pair": str(pair_id),
            "rating": "4",
            "goals": "partly",
            "keep_in_touch": "yes",
            "rematch": "yes",
        },
    )
    assert "has ended" in reply[0].text and "back in the pool" in reply[0].text
    pair = await get_pair(chat, pair_id)
    assert (pair.state, pair.end_reason, pair.due_at) == ("ended", "rematch", None)
    [note] = await inbox(chat, "bob", "pair-ended")
    assert "alice ended your mentoring pairing" in note.text
    assert "partly" not in note.text
    assert "no active mentoring pair" in await chat.text("alice", "schedule tomorrow 3pm")


async def test_renewal_near_the_term_end_and_completion_invites_the_mentee_to_mentor(
    chat: Chat,
) -> None:
    pair_id = await make_pair(chat)
    pair = await get_pair(chat, pair_id)
    assert pair.term_end is not None
    await chat.say("alice", "met")  # keep the ladder quiet for the test's focus
    async with chat.engine.db.transaction() as session:
        row = await pairs.get_pair(session, pair_id)
        assert row is not None
        row.lapse_step = 99  # past the end of the ladder
        row.due_at = chat.now
    chat.now = datetime(2027, 5, 9, 0, 0, tzinfo=UTC)  # 14 days before 23 May (UTC program)
    assert await sweep_kinds(chat) == ["renewal", "renewal"]
    chat.now = datetime(2027, 5, 23, 0, 0, tzinfo=UTC)
    assert await sweep_kinds(chat) == ["term-complete", "term-complete"]
    [done] = await inbox(chat, "alice", "term-complete")
    assert "Become a mentor" in [b.label for b in done.buttons()]
    assert "Become a mentor" not in [
        b.label for b in (await inbox(chat, "bob", "term-complete"))[0].buttons()
    ]
    assert (await get_pair(chat, pair_id)).state == "completed"


async def test_renew_extends_the_term_when_both_say_yes_in_the_window(chat: Chat) -> None:
    pair_id = await make_pair(chat)
    chat.now = datetime(2027, 5, 9, 0, 0, tzinfo=UTC)  # the window opens (14 days before)
    assert "I've asked them" in await chat.text("bob", "renew")
    reply = await chat.text("alice", "renew")
    assert "until Tue 23 Nov 2027" in reply
    assert (await get_pair(chat, pair_id)).term_end.isoformat() == "2027-11-23"  # type: ignore[union-attr]


async def test_dry_run_sweep_changes_nothing(chat: Chat) -> None:
    pair_id = await make_pair(chat)
    chat.now = START + timedelta(days=17)
    items = await chat.engine.sweep(chat.now, dry_run=True)
    assert [i.kind for i in items] == ["lapse-nudge-mentee"]
    assert "lapse step 1 (nudge mentee) to alice" in items[0].text
    assert (await get_pair(chat, pair_id)).lapse_step == 0
    assert await sweep_kinds(chat) == ["lapse-nudge-mentee"]


async def test_a_paused_person_keeps_their_pairs_ladder_unless_the_pair_pauses(
    chat: Chat,
) -> None:
    """Issue 13: a person's pause stops matching only; it never freezes a pair silently."""
    pair_id = await make_pair(chat)
    await chat.say("bob", "pause until 2026-12-20")
    chat.now = START + timedelta(days=17)
    assert await sweep_kinds(chat) == ["lapse-nudge-mentee"]
    assert (await get_pair(chat, pair_id)).state == "active"
    await chat.say("alice", "schedule 2026-12-15 10:00")
    chat.now = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
    assert await sweep_kinds(chat) == ["agenda-prompt"]


async def test_an_agenda_set_before_the_meeting_was_scheduled_reaches_the_mentor(
    chat: Chat,
) -> None:
    await make_pair(chat)
    await chat.say("alice", "agenda add how to say no")
    assert await inbox(chat, "bob", "mentor-agenda") == []  # no meeting to brief for yet
    await chat.say("alice", "schedule 2026-11-30 10:00")
    chat.now = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    assert await sweep_kinds(chat) == ["agenda-prompt", "mentor-agenda"]
    [brief] = await inbox(chat, "bob", "mentor-agenda")
    assert "alice's agenda" in brief.text and "how to say no" in brief.text


async def test_dry_runs_can_repeat_in_one_process(engine: Engine) -> None:
    for _ in range(2):  # the program row loaded inside a rolled-back dry run is not reused
        assert await engine.sweep(START, dry_run=True) == []


async def test_both_say_yes_one_meeting_counts_and_each_gives_feedback(chat: Chat) -> None:
    pair_id = await make_pair(chat)
    await chat.say("alice", "schedule 2026-11-24 10:00")  # 09:00 UTC
    chat.now = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    await chat.engine.sweep(chat.now)
    await chat.click("alice", (await inbox(chat, "alice", "checkin"))[0], "Yes")
    chat.now += timedelta(hours=5)
    late = await chat.click("bob", (await inbox(chat, "bob", "checkin"))[0], "Yes")
    assert "logged" in late[0].text and late[0].form() is not None
    await chat.submit("bob", "checkin", {"pair": str(pair_id), "rating": "4"})
    async with chat.engine.db.transaction() as session:
        from storage.models import Meeting, MeetingFeedback

        meetings = list(await session.scalars(select(Meeting)))
        ratings = sorted(
            (f.person_id, f.met, f.rating) for f in await session.scalars(select(MeetingFeedback))
        )
    assert [(m.status, m.held_at) for m in meetings] == [
        ("held", datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    ]
    pair = await get_pair(chat, pair_id)
    assert ratings == [(pair.mentee_id, True, None), (pair.mentor_id, True, 4)]


async def test_commitments_and_agenda_by_command(chat: Chat) -> None:
    await make_pair(chat)
    assert "no open commitments" in await chat.text("alice", "commit")
    await chat.say("alice", "commit draft the proposal")
    await chat.say("alice", "commit ask for feedback")
    listed = await chat.text("alice", "commit")
    assert "1. draft the proposal\n2. ask for feedback" in listed
    assert "Done: draft the proposal" in await chat.text("alice", "commit done 1")
    wrong = await chat.text("alice", "commit done 7")
    assert "no commitment 7" in wrong and "1. ask for feedback" in wrong and "done 1`" in wrong
    assert "no open commitments" in await chat.text("bob", "commit")  # her list, not his
    await chat.say("alice", "agenda add first point")
    assert "1. first point" in await chat.text("bob", "agenda")  # the pair's agenda
    assert "Cleared 1 point." in await chat.text("alice", "agenda clear")
    assert "What should I add?" in await chat.text("alice", "agenda add")
    assert "I understood `agenda` but not" in await chat.text("alice", "agenda frobnicate")


async def test_a_mentor_with_two_mentees_is_asked_which_pair(chat: Chat) -> None:
    await make_pair(chat, "alice", "bob")
    await make_pair(chat, "carol", "bob")
    [which] = await chat.say("bob", "schedule tomorrow 3pm")
    assert "several pairs" in which.text and "with @alice" in which.text
    assert [b.label for b in which.buttons()] == ["With alice", "With carol"]
    [done] = await chat.click("bob", which, "With carol")
    assert "scheduled a meeting with carol" in done.text
    assert "scheduled a meeting with alice" in await chat.text(
        "bob", "schedule tomorrow 4pm with @alice"
    )


async def test_a_partner_is_named_by_display_name_even_where_no_mention_reaches(
    engine: Engine,
) -> None:
    """`with @Theo Grant` typed in Slack names the partner even when Theo is not a Slack
    user the bot knows (say, he is on Teams): partners are matched by name first."""
    chat = Chat(engine, platform="slack")
    await chat.say("Mia Park", "join mentee", timezone="Europe/Berlin")
    await chat.say("Theo Grant", "join mentor", timezone="America/New_York")
    async with engine.db.transaction() as session:
        ids = {
            name: (await people.find_identity(session, people.IdentityKey("slack", "", name)))
            for name in ("mia park", "theo grant")
        }
        program = await session.get(Program, engine.program_id)
        assert program is not None and all(ids.values())
        theo = ids["theo grant"]
        assert theo is not None
        theo.display_name = "Theo Grant"
        theo.user_id = "T-on-another-platform"  # not findable as a Slack name any more
        mia = ids["mia park"]
        assert mia is not None
        pair = await create_active_pair(
            session,
            program_id=program.id,
            mentee_id=mia.person_id,
            mentor_id=theo.person_id,
            now=chat.now,
        )
        await begin_agreement(session, engine.policy, program, pair, chat.now)
    reply = await chat.text("Mia Park", "schedule 2026-11-26 15:00 with @Theo Grant")
    assert "Thu 26 Nov 2026, 15:00" in reply, reply
    unknown = await chat.text("Mia Park", "schedule 2026-11-27 15:00 with @Nobody")
    assert "don't know anyone called @Nobody" in unknown
