"""Programs: the default one is created from app.yaml on first use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Program


async def ensure_program(
    session: AsyncSession, slug: str, name: str, objective: str | None, now: datetime
) -> Program:
    """Find the program by slug, creating it, and keep name/objective in step with the config."""
    program = await session.scalar(select(Program).where(Program.slug == slug))
    if program is None:
        # Replicas starting together on an empty database all get here: the insert does
        # nothing for all but one (on PostgreSQL the others wait for its commit), and
        # everyone then reads the one row.
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        await session.execute(
            insert(Program)
            .values(slug=slug, name=name, objective=objective, settings={}, created_at=now)
            .on_conflict_do_nothing(index_elements=["slug"])
        )
        program = await session.scalar(select(Program).where(Program.slug == slug))
        assert program is not None
    elif program.name != name or program.objective != objective:
        program.name, program.objective = name, objective
    return program
