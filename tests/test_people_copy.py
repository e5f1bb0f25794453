"""The people's experience: role guides on `join` and from `guide`, the first-meeting kit,
proposals from the recipient's side, small words, and defaults that read naturally; events
in, messages out, and what Slack, Teams and the console make of them."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.local.console import Console, to_text
from adapters.slack.render_block_kit import to_messages
from adapters.teams.render_adaptive_card import to_adaptive_card
from bot.config import ConfigError, load_settings
from conversations.engine import Engine
from conversations.guides import MAX_SHORT_LINES, GuideError, default_guides, parse_guides
from conversations.markup import plain_text
from conversations.messages import Message
from conversations.policy import Policy
from conversations.wording import plural, program_phrase, sentence
from storage.database import Database
from tests.followthrough_kit import agree_both, inbox, make_pair
from tests.harness import Chat
from tests.test_cli import ROOT, mentorbot
from tests.test_matching_flow import org

MY_GUIDES = """# mentee
*Our way*
• Come with one question.
## More
The long version for mentees.

# mentor
• Listen first.
"""


def guide_part(message: Message) -> str:
    """The text of the message's guide: what follows its guide header."""
    texts = [getattr(b, "text", "") for b in message.blocks]
    start = next(i for i, t in enumerate(texts) if t.startswith("Guide for"))
    return texts[start + 1]


# 1. Role guides


async def test_join_sends_the_short_guide_with_a_more_button(chat: Chat) -> None:
    [reply] = await chat.say("lena", "join mentee")
    short = guide_part(reply)
    assert len(short.splitlines()) <= MAX_SHORT_LINES
    for idea in ("run the meeting", "agenda", "measure", "cadence and confidentiality"):
        assert idea in short
    assert "commitments" in short and "thank you" in short
    [full] = await chat.click("lena", reply, "More")
    assert "Run the meeting." in full.text and "More" not in [b.label for b in full.buttons()]
    # Every surface shows it: Slack blocks, a Teams card, the console as plain text.
    assert "You own the relationship" in str(to_messages(reply))
    assert "**Bring an agenda**" in str(to_adaptive_card(reply))
    console = to_text(reply)[0]
    assert "Bring an agenda to every meeting: /mentor agenda add TEXT." in console
    assert "*" not in console and "`" not in console


async def test_mentor_and_both_get_their_guides(chat: Chat) -> None:
    [mentor] = await chat.say("marco", "join mentor")
    short = guide_part(mentor)
    for idea in ("80/20", "Ask before you advise", "performance reviews", "boss", "several"):
        assert idea in short
    [both] = await chat.say("carla", "join both")
    labels = [b.label for b in both.buttons()]
    assert "More for mentees" in labels and "More for mentors" in labels
    [mentor_full] = await chat.click("carla", both, "More for mentors")
    assert "Listen more than you talk." in mentor_full.text


async def test_guide_shows_it_again_and_explains_bad_input(chat: Chat) -> None:
    both = await chat.say("newcomer", "guide")  # not joined: both guides
    assert [m.text.splitlines()[0] for m in both] == ["Guide for mentees", "Guide for mentors"]
    await chat.say("marco", "join mentor")
    [own] = await chat.say("marco", "guide")
    assert own.text.startswith("Guide for mentors")
    [mentee] = await chat.say("marco", "guide mentees")
    assert mentee.text.startswith("Guide for mentees")
    [full] = await chat.say("marco", "guide mentor more")
    assert "Encourage several mentors." in full.text
    wrong = await chat.text("marco", "guide managers")
    assert "I understood `guide` but not “managers”" in wrong and "/mentor guide mentor" in wrong
    assert "/mentor guide [mentee|mentor] [more]" in await chat.text("marco", "help")


async def test_a_program_points_app_yaml_at_its_own_guides(db: Database, tmp_path: Path) -> None:
    (tmp_path / "our-guides.md").write_text(MY_GUIDES)
    config = tmp_path / "app.yaml"
    config.write_text("guides: our-guides.md\nadmins: [local:hana]\n")
    policy = load_settings(str(config), env={}).policy
    assert (
        policy.guides is not None and policy.guides.mentee.more == "The long version for mentees."
    )
    [reply] = await Chat(Engine(db, policy)).say("lena", "join mentee")
    assert guide_part(reply) == "*Our way*\n• Come with one question."


def test_a_missing_or_malformed_guides_file_is_a_clear_config_error(tmp_path: Path) -> None:
    config = tmp_path / "app.yaml"
    config.write_text("guides: nowhere.md\n")
    with pytest.raises(ConfigError) as missing:
        load_settings(str(config), env={})
    assert f"guides file {tmp_path / 'nowhere.md'} does not exist" in str(missing.value)
    (tmp_path / "long.md").write_text("# mentee\n" + "• a line\n" * 9 + "# mentor\n• ok\n")
    config.write_text("guides: long.md\n")
    with pytest.raises(ConfigError) as long:
        load_settings(str(config), env={})
    assert "the mentee guide's short text has 9 lines; 8 at most" in str(long.value)
    with pytest.raises(GuideError, match="no “# mentor” section"):
        parse_guides("# mentee\n• only\n", "x.md")


def test_the_built_in_guides_ship_in_the_wheel() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "guides.md" in data["tool"]["setuptools"]["package-data"]["conversations.guides"]
    guides = default_guides()
    assert guides.mentee.more and guides.mentor.more


# 2. The first-meeting kit


async def test_the_first_meeting_gets_a_kit_and_later_ones_questions(chat: Chat) -> None:
    await make_pair(chat, goals="Present at the all-hands")
    await agree_both(chat)
    await chat.say("alice", "schedule 2026-11-26 15:00")
    chat.now = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    await chat.engine.sweep(chat.now)
    [first] = await inbox(chat, "alice", "agenda-prompt")
    for item in ("Introductions", "Expectations", "Measuring progress", "When to meet next"):
        assert item in first.text
    assert "Your goals: Present at the all-hands" in first.text
    assert "every two weeks" in first.text and "Questions to think about" not in first.text
    chat.now = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    await chat.say("alice", "met")
    await chat.say("alice", "schedule 2026-12-10 15:00")
    chat.now = datetime(2026, 12, 9, 14, 0, tzinfo=UTC)
    await chat.engine.sweep(chat.now)
    second = (await inbox(chat, "alice", "agenda-prompt"))[-1]
    assert second is not first and "First meeting kit" not in second.text
    assert "Questions to think about" in second.text


# 4. Proposals from the recipient's side


async def test_proposals_speak_about_the_other_person(chat: Chat) -> None:
    await org(chat)
    await chat.say("hana", "admin match")
    [to_bob] = await inbox(chat, "bob", "proposal")  # mentor, Engineering; dan in Sales
    [to_dan] = await inbox(chat, "dan", "proposal")
    assert "I'd like to introduce you to dan as your mentee." in to_bob.text
    assert "would like you as their mentor" not in to_bob.text
    assert "dan works in Sales, a view from another department" in to_bob.text
    assert "Engineering" not in to_bob.text  # never the reader's own department
    assert "bob works in Engineering, a view from another department" in to_dan.text
    assert "Sales" not in to_dan.text


# 5. Small words


async def test_small_words_get_a_sensible_answer(chat: Chat) -> None:
    assert "Hi! I'm the mentoring bot" in await chat.text("lena", "hi")
    assert "Hi! I'm the mentoring bot" in await chat.text("lena", "Hello!")
    what = await chat.say("lena", "what can you do?")
    assert "I match mentees with mentors" in what[0].text
    assert [b.label for b in what[0].buttons()] == [
        "Join as mentee",
        "How it works",
        "All commands",
    ]
    assert "You're welcome" in await chat.text("lena", "thanks!")
    assert "I don't know" not in await chat.text("lena", "thank you :)")
    assert "haven't joined" in await chat.text("lena", "/mentor /mentor status")
    assert "I don't know the command “frobnicate”" in await chat.text("lena", "frobnicate")


async def test_console_numbers_that_are_no_button_and_quit(db: Database) -> None:
    console = Console(Engine(db, Policy()), "lena", lambda: datetime(2026, 11, 23, tzinfo=UTC))
    [none] = await console.say("3")
    assert "There is no button 3 to click" in none.text
    console.show(await console.say("join mentee"))
    [wrong] = await console.say("7")
    assert wrong.text.startswith("There is no button 7. The buttons are 1 (Fill in my profile)")


def test_quit_and_exit_end_the_interactive_console(db_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": db_url, "MENTORBOT_CONFIG": str(ROOT / "app.yaml")}
    for word in ("quit", "exit"):
        result = mentorbot(
            "chat",
            "--as",
            word,
            env=env,
            cwd=tmp_path,
            input=f"join mentor\n9\n8\n{word}\nstatus\n",
        )
        assert result.returncode == 0, result.stderr
        assert "There is no button 9. The buttons are 1 (Fill in my profile)" in result.stdout
        assert "There is no button 8. The buttons are 1 (Fill in my profile)" in result.stdout
        assert "YOUR MENTORING STATUS" not in result.stdout  # nothing ran after quitting
        assert "I don't know the command" not in result.stdout


# 6. Defaults and dead ends


async def test_the_default_program_name_reads_naturally(db: Database) -> None:
    chat = Chat(Engine(db, Policy()))
    assert "Welcome to the mentoring program! You've joined as a mentee." in await chat.text(
        "lena", "join mentee"
    )
    assert "You've left the mentoring program" in await chat.text("lena", "leave")


async def test_a_mentee_is_never_asked_what_they_offer(chat: Chat) -> None:
    [joined] = await chat.say("lena", "join mentee")
    assert "offers" not in joined.text and 'wants="…" goals="…"' in joined.text
    form = (await chat.say("lena", "profile"))[0].form()
    assert form is not None
    names = [i.name for i in form.inputs]
    assert "offers" not in names and "capacity" not in names and "wants" in names
    [mentor] = await chat.say("marco", "join mentor")
    assert 'profile set offers="…"' in mentor.text and "wants" not in mentor.text
    mentor_form = (await chat.say("marco", "profile"))[0].form()
    assert mentor_form is not None and "offers" in [i.name for i in mentor_form.inputs]


async def test_home_while_paused_does_not_promise_the_pool(chat: Chat) -> None:
    await chat.say("lena", "join mentee")
    assert "you're in the pool" in await chat.text("lena", "home")
    await chat.say("lena", "pause")
    home = await chat.text("lena", "home")
    assert "in the pool" not in home and "not in the matching pool until you resume" in home


async def test_commit_done_with_a_wrong_number_lists_the_ones_that_exist(chat: Chat) -> None:
    await make_pair(chat)
    await chat.say("alice", "commit draft the slides")
    one = await chat.text("alice", "commit done 7")
    assert one == (
        "There is no commitment 7: you have 1 open commitment:\n1. draft the slides\n"
        "Tick it off with `/mentor commit done 1`."
    )
    await chat.say("alice", "commit ask for feedback")
    two = await chat.text("alice", "commit done 3")
    assert "you have 2 open commitments, numbered 1 to 2" in two and "2. ask for feedback" in two


async def test_date_errors_are_said_once(chat: Chat) -> None:
    await make_pair(chat)
    await agree_both(chat)
    garbage = await chat.text("alice", "schedule whenever suits")
    assert garbage.startswith("I couldn't read “whenever suits” as a day and a time. Write it")
    assert garbage.count("I couldn't") == 1


# The helpers behind the copy


def test_plural_program_phrase_sentence_and_plain_text() -> None:
    assert [plural(n, "meeting") for n in (0, 1, 3)] == ["0 meetings", "1 meeting", "3 meetings"]
    assert plural(2, "reply") == "2 replies" and plural(2, "day") == "2 days"
    assert plural(2, "person") == "2 people"
    assert program_phrase("Mentoring program") == "the mentoring program"
    assert program_phrase("Acme Mentoring") == "Acme Mentoring"
    assert sentence("I couldn't read “x” as a date") == "I couldn't read “x” as a date."
    assert sentence("no date given") == "No date given."
    shown = plain_text("*Your pairs* `/mentor status` <https://x.example|site> snake_case 2*3*4")
    assert shown == "Your pairs /mentor status site (https://x.example) snake_case 2*3*4"
