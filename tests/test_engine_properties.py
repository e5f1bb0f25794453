"""Property tests: any command line gets an answer, nothing raises, stored text is exact."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.engine import APOLOGY
from conversations.grammar import tokenize
from storage.people import IdentityKey, find_identity, get_profile
from tests.harness import Chat

WORDS = st.sampled_from(
    [
        "/mentor",
        "mentor",
        "join",
        "mentee",
        "mentor",
        "both",
        "profile",
        "set",
        "status",
        "pause",
        "until",
        "resume",
        "leave",
        "privacy",
        "help",
        "goals=",
        "level=",
        "offers=",
        "manager=@",
        "timezone=",
        "'; DROP TABLE people; --",
        '" OR 1=1 --',
        "<@U1|x>",
        "“",
        "”",
        "=",
        '"',
        "'",
        "tomorrow",
        "2026-13-45",
        "\u0000",
        "\u202e",
        "🙂",
        "ß",
        "İ",
    ]
)
LINES = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(WORDS, st.text(max_size=20)), max_size=12).map(" ".join),
    st.builds(lambda n, c: c * n, st.integers(9_000, 11_000), st.sampled_from('aé🙂 ="')),
    st.just(""),
)
SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(max_examples=1500, deadline=None, suppress_health_check=SUPPRESS)
@given(line=LINES)
async def test_every_line_gets_an_answer_and_nothing_raises(chat: Chat, line: str) -> None:
    replies = await chat.say("fuzz", line)
    assert replies, f"no answer to {line!r}"
    for message in replies:
        assert message.text.strip()
        assert message.text != APOLOGY, f"engine failed on {line!r}"


# Text a person could put in quotes: anything but the closing quote and control characters.
QUOTABLE = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"”“'),
    min_size=1,
    max_size=4000,
).filter(lambda s: s.strip())


@settings(max_examples=300, deadline=None, suppress_health_check=SUPPRESS)
@given(goals=QUOTABLE)
async def test_quoted_text_is_stored_byte_for_byte(chat: Chat, goals: str) -> None:
    replies = await chat.say("writer", f'profile set goals="{goals}"')
    assert replies and replies[0].text != APOLOGY
    async with chat.engine.db.transaction() as session:
        identity = await find_identity(session, IdentityKey("local", "", "writer"))
        assert identity is not None and chat.engine.program_id is not None
        profile = await get_profile(session, identity.person_id, chat.engine.program_id)
    assert profile is not None
    assert profile.goals == goals
    assert profile.goals.encode() == goals.encode()


@settings(max_examples=200, deadline=None, suppress_health_check=SUPPRESS)
@given(value=QUOTABLE)
async def test_form_text_is_stored_byte_for_byte(chat: Chat, value: str) -> None:
    replies = await chat.submit("former", "profile", {"goals": value, "department": value[:200]})
    assert replies and replies[0].text != APOLOGY
    form = (await chat.say("former", "profile"))[0].form()
    assert form is not None
    shown = {i.name: i.value for i in form.inputs}
    assert shown["goals"] == value and shown["department"] == value[:200]


@given(st.text(max_size=500))
def test_tokenize_never_raises(text: str) -> None:
    assert isinstance(tokenize(text), list)
