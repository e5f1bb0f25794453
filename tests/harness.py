"""A chat harness in errbot's spirit: say something as someone, get the replies back.

Time is explicit: `chat.now` is what the engine is told, and tests move it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from conversations.engine import Engine
from conversations.events import Action, Actor, Command, InboundEvent
from conversations.messages import Message


@dataclass
class Chat:
    engine: Engine
    platform: str = "local"
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 9, 0, tzinfo=UTC))

    def actor(self, user: str, timezone: str | None = None) -> Actor:
        return Actor(self.platform, user.lower(), user, timezone=timezone)

    async def say(self, user: str, line: str, *, timezone: str | None = None) -> list[Message]:
        event = InboundEvent(self.actor(user, timezone), Command(line), {"user": user.lower()})
        return await self.engine.handle(event, self.now)

    async def text(self, user: str, line: str) -> str:
        """All reply texts joined: the plain-text fallback a person would read."""
        return "\n".join(m.text for m in await self.say(user, line))

    async def click(self, user: str, message: Message, label: str) -> list[Message]:
        button = next(b for b in message.buttons() if b.label == label)
        action = Action(button.action_id, button.value)
        return await self.engine.handle(
            InboundEvent(self.actor(user), action, {"user": user.lower()}), self.now
        )

    async def submit(self, user: str, form_id: str, fields: dict[str, str]) -> list[Message]:
        action = Action("form.submit", form_id=form_id, fields=fields)
        return await self.engine.handle(
            InboundEvent(self.actor(user), action, {"user": user.lower()}), self.now
        )

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
