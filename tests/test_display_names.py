"""Issue 13 item 7: a display name comes from the platform's directory or the person
themself, never from a mention someone else typed nor from a local login name."""

from __future__ import annotations

from adapters.local.translate import to_actor
from conversations.events import Actor, Command, InboundEvent
from storage import people
from tests.harness import Chat


async def _say(chat: Chat, actor: Actor, line: str) -> str:
    replies = await chat.engine.handle(InboundEvent(actor, Command(line)), chat.now)
    return "\n".join(m.text for m in replies)


async def _name(chat: Chat, platform: str, user_id: str) -> str:
    async with chat.engine.db.transaction() as session:
        identity = await people.find_identity(session, people.IdentityKey(platform, "", user_id))
        assert identity is not None
        names = await people.display_names(session, [identity.person_id])
        return names[identity.person_id]


async def test_a_slack_mention_never_renames_a_known_person(chat: Chat) -> None:
    aisha = Actor("slack", "U0AISHA", "Aisha Bello")
    sofia = Actor("slack", "U0SOFIA", "Sofia Rossi")
    await _say(chat, aisha, "join mentor")
    await _say(chat, sofia, "join mentee")
    answer = await _say(chat, sofia, "request <@U0AISHA|Aisha>")
    assert "Aisha Bello" in answer
    assert await _name(chat, "slack", "U0AISHA") == "Aisha Bello"
    # The directory still names her when she speaks: a real change there is taken.
    await _say(chat, Actor("slack", "U0AISHA", "Aisha Bello-Okoro"), "status")
    assert await _name(chat, "slack", "U0AISHA") == "Aisha Bello-Okoro"


async def test_a_mention_names_only_someone_not_known_yet(chat: Chat) -> None:
    sofia = Actor("slack", "U0SOFIA", "Sofia Rossi")
    await _say(chat, sofia, "join mentee")
    await _say(chat, sofia, "request <@U0NEW|Nia>")
    assert await _name(chat, "slack", "U0NEW") == "Nia"  # a placeholder until Nia speaks
    await _say(chat, Actor("slack", "U0NEW", "Nia Kamara"), "status")
    assert await _name(chat, "slack", "U0NEW") == "Nia Kamara"


async def test_a_local_mention_never_renames_a_known_person(chat: Chat) -> None:
    await chat.say("Aisha", "join mentor")
    await chat.say("sofia", "join mentee")
    await chat.say("sofia", "request @AISHA")
    assert await _name(chat, "local", "aisha") == "Aisha"


async def test_a_local_login_name_never_renames_its_person(chat: Chat) -> None:
    """`mentorbot chat --as tom` (console and web chat pass the login name)."""
    await _say(chat, to_actor("Tom"), "join mentor")
    assert await _name(chat, "local", "tom") == "Tom"
    await _say(chat, to_actor("tom"), "status")
    await _say(chat, to_actor("TOM"), "status")
    assert await _name(chat, "local", "tom") == "Tom"
