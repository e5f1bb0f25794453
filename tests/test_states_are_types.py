"""States are types: a wrong state in code is a mypy error.

The state columns keep the strings they always stored (no migration) and hand back
enum members; a stored value this release does not know still reads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from mypy import api as mypy_api
from sqlalchemy import select, text

from storage import pairs as store
from storage import people, programs
from storage.database import Database
from storage.models import Pair
from storage.states import LapseAction, MeetingStatus, OutboxStatus, PairState, ProfileStatus

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

SNIPPET = """
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.followthrough.policy import LapseStep
from storage.models import Pair
from storage.pairs import pairs_of
from storage.states import PairState


async def typos(session: AsyncSession, pair: Pair) -> None:
    pair.state = PairState.ACTIVE
    pair.state = "actve"
    LapseStep(timedelta(0), "nudge_bot")
    await pairs_of(session, 1, 1, ("proposd",))
"""


def test_mypy_refuses_a_state_that_is_not_one(tmp_path: Path) -> None:
    (tmp_path / "typo.py").write_text(SNIPPET)
    (tmp_path / "mypy.ini").write_text(f"[mypy]\nmypy_path = {ROOT}\n")
    out, err, _ = mypy_api.run(
        [
            "--config-file",
            str(tmp_path / "mypy.ini"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--python-version=3.11",
            "--follow-imports=silent",
            str(tmp_path / "typo.py"),
        ]
    )
    assert not err, err
    errors = [line.split(": error: ")[1] for line in out.splitlines() if ": error: " in line]
    assert len(errors) == 3, out
    assert 'expression has type "str", variable has type' in errors[0]
    assert '"LapseStep" has incompatible type "str"; expected "LapseAction"' in errors[1]
    assert '"pairs_of" has incompatible type "tuple[str]"' in errors[2]


def test_members_are_the_strings_stored_since_the_first_migration() -> None:
    assert [s.value for s in ProfileStatus] == ["draft", "active", "paused", "left"]
    assert [s.value for s in PairState] == ["proposed", "active", "paused", "completed", "ended"]
    assert [s.value for s in MeetingStatus] == ["scheduled", "held", "skipped", "cancelled"]
    assert [s.value for s in OutboxStatus] == ["pending", "sending", "sent", "dead", "superseded"]
    assert [s.value for s in LapseAction] == [
        "nudge_mentee",
        "nudge_both",
        "nudge_mentor",
        "at_risk",
        "end_or_rematch",
    ]


async def test_a_state_column_stores_the_string_and_reads_back_a_member(db: Database) -> None:
    async with db.transaction() as session:
        program = await programs.ensure_program(session, "default", "Mentoring", None, NOW)
        ann = await people.upsert_identity(
            session, people.IdentityKey("local", "", "ann"), display_name="Ann", now=NOW
        )
        bob = await people.upsert_identity(
            session, people.IdentityKey("local", "", "bob"), display_name="Bob", now=NOW
        )
        pair = await store.create_active_pair(
            session,
            program_id=program.id,
            mentee_id=ann.person_id,
            mentor_id=bob.person_id,
            now=NOW,
        )
        pair_id = pair.id
    async with db.transaction() as session:
        raw = await session.scalar(text("SELECT state FROM pairs WHERE id = :id"), {"id": pair_id})
        assert type(raw) is str and raw == "active"
        state = await session.scalar(select(Pair.state).where(Pair.id == pair_id))
        assert state is PairState.ACTIVE


async def test_a_state_this_release_does_not_know_still_reads(db: Database) -> None:
    """A row written by a later release (then rolled back) reads back as its string."""
    async with db.transaction() as session:
        program = await programs.ensure_program(session, "default", "Mentoring", None, NOW)
        ann = await people.upsert_identity(
            session, people.IdentityKey("local", "", "ann"), display_name="Ann", now=NOW
        )
        pair = await store.create_active_pair(
            session,
            program_id=program.id,
            mentee_id=ann.person_id,
            mentor_id=ann.person_id,
            now=NOW,
        )
        pair.state = "on_hold"  # type: ignore[assignment]
        await session.flush()
        pair_id = pair.id
    async with db.transaction() as session:
        state = await session.scalar(select(Pair.state).where(Pair.id == pair_id))
        assert state == "on_hold" and state not in set(PairState)
