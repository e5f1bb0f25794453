"""The engine's commands, events in and messages out, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from conversations.engine import APOLOGY, Engine
from conversations.events import Action, Actor, Command, InboundEvent
from conversations.messages import Form
from storage.database import Database
from storage.models import AuditEntry, OutboxMessage, Profile
from tests.harness import Chat


async def profile_of(chat: Chat, user: str) -> Profile:
    async with chat.engine.db.transaction() as session:
        from storage.people import IdentityKey, find_identity, get_profile

        identity = await find_identity(session, IdentityKey("local", "", user))
        assert identity is not None
        assert chat.engine.program_id is not None
        profile = await get_profile(session, identity.person_id, chat.engine.program_id)
        assert profile is not None
        return profile


async def test_help_lists_exactly_the_commands_that_exist(chat: Chat) -> None:
    text = await chat.text("alice", "/mentor help")
    for command in (
        *("join", "profile", "status", "pause", "resume", "leave", "privacy"),
        *("agreement", "schedule", "agenda", "met", "skip", "commit", "end", "renew"),
        *("export-data", "forget-me", "admin"),
    ):
        assert f"/mentor {command}" in text
    for missing in ("match", "digest"):
        assert f"/mentor {missing}" not in text
    detail = await chat.text("alice", "help pause")
    assert "/mentor pause [until DATE]" in detail and "next monday" in detail


async def test_prefix_is_optional_and_case_insensitive(chat: Chat) -> None:
    for line in ("/mentor status", "mentor status", "status", "  /MENTOR   Status "):
        assert "haven't joined" in await chat.text("alice", line)


async def test_join_then_status_shows_the_role(chat: Chat) -> None:
    reply = await chat.say("alice", "/mentor join mentee")
    assert "You've joined as a mentee" in reply[0].text
    assert [b.label for b in reply[0].buttons()] == ["Fill in my profile", "My status", "More"]
    status = await chat.text("alice", "/mentor status")
    assert "Mentee — Active" in status
    assert "pool for the next matching round" in status


async def test_join_errors_say_what_was_understood(chat: Chat) -> None:
    no_role = await chat.say("alice", "join")
    assert "Which role?" in no_role[0].text
    assert {b.value for b in no_role[0].buttons()} == {"join mentee", "join mentor", "join both"}
    wrong = await chat.text("alice", "join mentoring")
    assert "I understood `join` but not “mentoring”" in wrong
    assert "haven't joined" in await chat.text("alice", "status")


async def test_join_again_changes_role_and_sets_mentor_capacity(chat: Chat) -> None:
    await chat.say("bob", "join mentee")
    assert "already in the program as a mentee" in await chat.text("bob", "join mentee")
    assert "now both a mentee and a mentor" in await chat.text("bob", "join both")
    profile = await profile_of(chat, "bob")
    assert profile.role == "both" and profile.capacity == 2


async def test_buttons_run_their_commands(chat: Chat) -> None:
    reply = await chat.say("alice", "join mentor")
    status = await chat.click("alice", reply[0], "My status")
    assert "Mentor — Active" in status[0].text


async def test_profile_set_saves_valid_keys_and_reports_bad_ones(chat: Chat) -> None:
    await chat.say("alice", "join mentee")
    text = await chat.text(
        "alice",
        'profile set wants="public speaking, negotiation" level=11 timezone=Europe/Berlin '
        "languages=en,de colour=blue goals=“Speak at a conference”",
    )
    assert "What I want to learn: public speaking, negotiation" in text
    assert "level: must be a whole number from 1 to 10" in text and "you wrote “11”" in text
    assert "“colour” is not a profile key" in text
    profile = await profile_of(chat, "alice")
    assert profile.wants == ["public speaking", "negotiation"]
    assert profile.timezone == "Europe/Berlin" and profile.languages == ["en", "de"]
    assert profile.goals == "Speak at a conference" and profile.level is None


async def test_profile_set_suggests_close_keys_and_time_zones(chat: Chat) -> None:
    text = await chat.text("alice", "profile set want=x timezone=Berlin")
    assert "Did you mean `wants`?" in text
    assert "did you mean Europe/Berlin?" in text
    assert "Nothing was saved" in text


async def test_profile_set_without_pairs_explains_the_form(chat: Chat) -> None:
    text = await chat.text("alice", "profile set hello world")
    assert "Nothing to set" in text and "hello world" in text and "key=value" in text


async def test_profile_before_joining_is_kept(chat: Chat) -> None:
    await chat.say("alice", "profile set offers=python")
    await chat.say("alice", "join mentor")
    assert "What I can offer" in await chat.text("alice", "status")
    assert (await profile_of(chat, "alice")).offers == ["python"]


async def test_manager_is_resolved_to_a_person(chat: Chat) -> None:
    await chat.say("alice", "join mentee")
    await chat.say("alice", "profile set manager=@bob")
    await chat.say("bob", "join mentor")  # bob appears with his own display name later
    profile = await profile_of(chat, "alice")
    assert profile.manager_id is not None
    assert "Manager: @alice" not in await chat.text("alice", "status")
    own = await chat.text("alice", "profile set manager=@alice")
    assert "can't be your own manager" in own
    form = (await chat.say("alice", "profile"))[0].form()
    assert form is not None
    assert next(i.value for i in form.inputs if i.name == "manager") == "@bob"


async def test_profile_form_round_trip_and_inline_errors(chat: Chat) -> None:
    await chat.say("alice", "join mentee")
    form = (await chat.say("alice", "profile"))[0].form()
    assert isinstance(form, Form) and form.form_id == "profile"
    fields = {i.name: i.value for i in form.inputs}
    fields.update(wants="leadership", level="12", goals="Lead a team\nwithin a year")
    again = await chat.submit("alice", "profile", fields)
    bad = again[0].form()
    assert bad is not None
    level = next(i for i in bad.inputs if i.name == "level")
    assert level.value == "12" and "1 to 10" in level.error
    assert next(i.value for i in bad.inputs if i.name == "goals") == "Lead a team\nwithin a year"
    assert (await profile_of(chat, "alice")).wants == []  # nothing half-saved
    fields["level"] = "4"
    saved = await chat.submit("alice", "profile", fields)
    assert "Saved" in saved[0].text
    profile = await profile_of(chat, "alice")
    assert (profile.wants, profile.level, profile.goals) == (
        ["leadership"],
        4,
        "Lead a team\nwithin a year",
    )


async def test_pause_until_a_date_and_the_sweep_brings_them_back(chat: Chat) -> None:
    await chat.say("alice", "join mentee", timezone="Europe/Berlin")
    text = await chat.text("alice", "pause until 2026-12-01")
    assert "Paused until Tue 01 Dec 2026" in text
    assert "Paused until Tue 01 Dec 2026" in await chat.text("alice", "status")
    # Midnight in Berlin is 23:00 UTC the day before.
    assert await chat.engine.sweep(datetime(2026, 11, 30, 22, 59, tzinfo=UTC)) == []
    dry = await chat.engine.sweep(datetime(2026, 11, 30, 23, 0, tzinfo=UTC), dry_run=True)
    assert [i.kind for i in dry] == ["pause-ended"]
    assert (await profile_of(chat, "alice")).status == "paused"  # the dry run changed nothing
    items = await chat.engine.sweep(datetime(2026, 11, 30, 23, 0, tzinfo=UTC))
    assert [(i.kind, i.queued) for i in items] == [("pause-ended", True)]
    assert await chat.engine.sweep(datetime(2026, 12, 1, 9, 0, tzinfo=UTC)) == []
    assert (await profile_of(chat, "alice")).status == "active"
    async with chat.engine.db.transaction() as session:
        rows = list(await session.scalars(select(OutboxMessage)))
    assert len(rows) == 1 and rows[0].platform == "local"
    assert "pause is over" in rows[0].payload["text"]


async def test_pause_errors_and_forms(chat: Chat) -> None:
    assert "not in the program" in await chat.text("alice", "pause")
    await chat.say("alice", "join mentee")
    assert "not in the future" in await chat.text("alice", "pause until 2026-11-01")
    assert "day/month or month/day" in await chat.text("alice", "pause until 01/02/2027")
    assert "couldn't read “someday”" in await chat.text("alice", "pause until someday")
    assert "at most a year" in await chat.text("alice", "pause until 2028-06-01")
    assert "Until when?" in await chat.text("alice", "pause until")
    assert "Paused until Mon 07 Dec 2026" in await chat.text("alice", "pause for 2 weeks")
    assert "Welcome back" in await chat.text("alice", "resume")
    assert "not paused" in await chat.text("alice", "resume")
    assert "until you type `/mentor resume`" in await chat.text("alice", "pause")


async def test_leave_keeps_the_profile_and_join_brings_it_back(chat: Chat) -> None:
    await chat.say("alice", "join mentee")
    await chat.say("alice", "profile set wants=python")
    leave = await chat.say("alice", "leave")
    assert "You've left Acme mentoring" in leave[0].text
    assert "Left the program" in await chat.text("alice", "status")
    assert "not in the program" in await chat.text("alice", "leave")
    back = await chat.click("alice", leave[0], "Undo: rejoin")
    assert "Welcome back to Acme mentoring" in back[0].text
    assert (await profile_of(chat, "alice")).wants == ["python"]


async def test_privacy_depends_on_policy(chat: Chat) -> None:
    text = await chat.text("alice", "privacy")
    assert "never sees private notes" in text and "names only" in text


async def test_unknown_commands_get_the_closest_one(chat: Chat) -> None:
    text = await chat.text("alice", "/mentor stauts")
    assert "I don't know the command “stauts”" in text and "Did you mean `status`?" in text
    assert "/mentor status" in text
    far = await chat.text("alice", "xyzzy")
    assert "Type `/mentor help`" in far
    assert "There is no command" in await chat.text("alice", "help frobnicate")


async def test_stale_actions_answer_politely(chat: Chat) -> None:
    event = InboundEvent(Actor("local", "alice", "alice"), Action("gone.button", "x"))
    replies = await chat.engine.handle(event, chat.now)
    assert "no longer active" in replies[0].text


async def test_retried_event_ids_do_nothing_twice(chat: Chat) -> None:
    event = InboundEvent(Actor("local", "alice", "alice"), Command("join mentee"), event_id="Ev123")
    first = await chat.engine.handle(event, chat.now)
    again = await chat.engine.handle(event, chat.now + timedelta(seconds=5))
    assert first and again == []
    async with chat.engine.db.transaction() as session:
        joins = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "join")
        )
    assert joins == 1


async def test_an_unreachable_database_gets_an_apology_not_a_traceback(chat: Chat) -> None:
    broken = Engine(Database("postgresql://nobody@127.0.0.1:9/none"), chat.engine.policy)
    try:
        replies = await broken.handle(
            InboundEvent(Actor("local", "alice", "alice"), Command("status")), chat.now
        )
    finally:
        await broken.db.dispose()
    assert [m.text for m in replies] == [APOLOGY]


async def test_same_platform_user_in_two_tenants_are_two_people(chat: Chat) -> None:
    for tenant in ("T1", "T2"):
        event = InboundEvent(Actor("slack", "U1", "Ann", tenant=tenant), Command("join mentee"))
        assert "joined as a mentee" in (await chat.engine.handle(event, chat.now))[0].text
    event = InboundEvent(Actor("slack", "U1", "Ann", tenant="T2"), Command("join mentee"))
    assert "already" in (await chat.engine.handle(event, chat.now))[0].text


async def test_a_new_persons_simultaneous_first_messages_both_get_answers(chat: Chat) -> None:
    for n in range(5):
        replies = await asyncio.gather(
            chat.say(f"racer{n}", "status"),
            chat.say(f"racer{n}", "help"),
            chat.say(f"racer{n}", "privacy"),
        )
        for reply in replies:
            assert reply and reply[0].text != APOLOGY
