"""Issue 13 item 6: `admin pair` keeps matching's hard rules (reporting line, no repeat of
an ended pair, capacity, roles), explains a refusal, and `force` overrides them, audited."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditEntry, Pair
from tests.harness import Chat


async def _pairs(chat: Chat) -> list[tuple[str, str]]:
    async with chat.engine.db.transaction() as session:
        return [(p.state, str(p.mentor_id)) for p in await session.scalars(select(Pair))]


async def _audit(chat: Chat, action: str) -> list[dict[str, object]]:
    async with chat.engine.db.transaction() as session:
        rows = await session.scalars(select(AuditEntry).where(AuditEntry.action == action))
        return [dict(r.details) for r in rows]


async def test_a_mentee_is_not_paired_with_her_manager_or_above_unless_forced(
    chat: Chat,
) -> None:
    for user, role in (("hana", "mentor"), ("sofia", "mentee"), ("lena", "mentor")):
        await chat.say(user, f"join {role}")
    await chat.say("max", "join mentor")
    await chat.say("sofia", "profile set manager=@lena")
    await chat.say("lena", "profile set manager=@max")
    for boss in ("lena", "max"):
        refusal = await chat.text("hana", f"admin pair @sofia @{boss}")
        assert f"haven't paired sofia with {boss}" in refusal
        assert f"{boss} is in sofia's reporting line" in refusal
        assert f"admin pair @sofia @{boss} force" in refusal
    assert await _pairs(chat) == []
    failed = await _audit(chat, "admin.failed")
    assert len(failed) == 2 and all("reporting line" in str(d["reason"]) for d in failed)

    forced = await chat.text("hana", "admin pair @sofia @lena force")
    assert "Paired sofia (mentee) with lena (mentor)" in forced
    assert "Rules overridden (recorded in the audit log): manager-chain" in forced
    [entry] = await _audit(chat, "admin.pair")
    assert entry["overridden"] == ["manager-chain"]


async def test_capacity_and_an_ended_pair_refuse_with_the_reason(chat: Chat) -> None:
    for user, role in (("hana", "mentor"), ("alice", "mentee"), ("carol", "mentee")):
        await chat.say(user, f"join {role}")
    await chat.say("bob", "join mentor")
    await chat.say("bob", "profile set capacity=1")
    assert "Paired alice" in await chat.text("hana", "admin pair @alice @bob")
    full = await chat.text("hana", "admin pair @carol @bob")
    assert "bob already has 1 mentee(s) or open proposal(s), their capacity of 1" in full

    [pair_id] = [p for p in await _pair_ids(chat)]
    form = (await chat.say("alice", "end with @bob"))[0].form()
    assert form is not None
    await chat.submit("alice", "end", {"pair": str(pair_id), "rating": "3", "goals": "yes"})
    again = await chat.text("hana", "admin pair @alice @bob")
    assert "alice and bob were paired before and that pairing ended" in again
    assert "Paired" not in again
    assert "Paired carol" in await chat.text("hana", "admin pair @carol @bob")  # room again


async def test_roles_are_never_overridden(chat: Chat) -> None:
    for user, role in (("hana", "mentor"), ("alice", "mentee"), ("dan", "mentee")):
        await chat.say(user, f"join {role}")
    answer = await chat.text("hana", "admin pair @alice @dan force")
    assert "dan joined as mentee, not as a mentor" in answer
    assert await _pairs(chat) == []


async def test_a_malformed_admin_pair_says_the_form(chat: Chat) -> None:
    await chat.say("hana", "join mentor")
    answer = await chat.text("hana", "admin pair @alice @bob please")
    assert "`/mentor admin pair @mentee @mentor`" in answer and "force" in answer


async def _pair_ids(chat: Chat) -> list[int]:
    async with chat.engine.db.transaction() as session:
        return list(await session.scalars(select(Pair.id)))
