"""Programs: the default one is created from app.yaml on first use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Program


async def ensure_program(
    session: AsyncSession, slug: str, name: str, objective: str | None, now: datetime
) -> Program:
    """Find the program by slug, creating it, and keep name/objective in step with the config."""
    program = await session.scalar(select(Program).where(Program.slug == slug))
    if program is None:
        program = Program(slug=slug, name=name, objective=objective, settings={}, created_at=now)
        session.add(program)
        await session.flush()
    elif program.name != name or program.objective != objective:
        program.name, program.objective = name, objective
    return program
