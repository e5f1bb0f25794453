"""The console: `mentorbot chat --as NAME [LINE]`, one shot for scripts or interactive.

Messages render as text, each block type by its own arm (a new one is a type
error until it has one); buttons are numbered and typing the number clicks them;
a form is shown with its fields and the `profile set`-style command that fills it in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import assert_never

from adapters.local.attachments import save_attachment
from adapters.local.translate import to_actor
from conversations.engine import Engine
from conversations.events import Action, Command, InboundEvent
from conversations.markup import plain_text
from conversations.messages import (
    Button,
    Buttons,
    Context,
    Divider,
    Fields,
    File,
    Form,
    Header,
    Message,
    Text,
)

# Typed alone in the interactive console, these end the chat (as Ctrl-D does).
QUIT_WORDS = frozenset({"quit", "exit", ":q", "/quit", "/exit"})


def to_text(message: Message, first_number: int = 1) -> tuple[str, list[Button]]:
    """The message as terminal text, plus its buttons in the order they were numbered."""
    if not message.blocks:
        return plain_text(message.text), []
    lines: list[str] = []
    buttons: list[Button] = []
    for block in message.blocks:
        match block:
            case Header():
                lines.append(plain_text(block.text).upper())
            case Text():
                lines.append(plain_text(block.text))
            case Context():
                lines.append(f"  ({plain_text(block.text)})")
            case Divider():
                lines.append("-" * 40)
            case Fields():
                width = max((len(label) for label, _ in block.items), default=0)
                lines.extend(
                    f"  {plain_text(label).ljust(width)}  {plain_text(value)}"
                    for label, value in block.items
                )
            case Buttons():
                labels = []
                for button in block.buttons:
                    buttons.append(button)
                    labels.append(f"[{first_number + len(buttons) - 1}] {button.label}")
                lines.append("  ".join(labels))
            case Form():
                lines.append(f"{block.title}:")
                for field in block.inputs:
                    error = f"  ← {field.error}" if field.error else ""
                    lines.append(f"  {field.label} ({field.name}): {field.value or '—'}{error}")
                lines.append(f"  Fill it in with: {block.form_id} set {block.inputs[0].name}=… …")
            case File():
                lines.append(f"  (attached: {block.filename})")
            case _:
                assert_never(block)
    return "\n".join(lines), buttons


class Console:
    def __init__(
        self,
        engine: Engine,
        user: str,
        clock: Callable[[], datetime],
        folder: Path | None = None,
    ) -> None:
        """`folder`: where attached files are saved (the console's working directory);
        None leaves them unsaved, named only."""
        self.engine = engine
        self.actor = to_actor(user)
        self.clock = clock
        self.folder = folder
        self.buttons: list[Button] = []
        self.notice: Message | None = None  # the last "no such button" answer

    async def say(self, line: str) -> list[Message]:
        stripped = line.strip()
        if stripped.isdigit() and 1 <= int(stripped) <= len(self.buttons):
            button = self.buttons[int(stripped) - 1]
            payload: Command | Action = Action(button.action_id, button.value)
        elif stripped.isdigit() and len(stripped) <= 3:
            self.notice = Message(self.no_such_button(int(stripped)))
            return [self.notice]
        else:
            payload = Command(line)
        reference = {"user": self.actor.user_id}
        return await self.engine.handle(InboundEvent(self.actor, payload, reference), self.clock())

    def no_such_button(self, number: int) -> str:
        """A number typed for a button that is not on screen: say which ones are."""
        if not self.buttons:
            return (
                f"There is no button {number} to click: the last reply had none. "
                "Type a command, e.g. help."
            )
        choices = ", ".join(f"{i} ({b.label})" for i, b in enumerate(self.buttons, 1))
        return f"There is no button {number}. The buttons are {choices}."

    def show(self, messages: list[Message]) -> str:
        if self.notice is not None and messages == [self.notice]:  # ours: the buttons stay
            return self.notice.text
        self.buttons = []
        parts = []
        for message in messages:
            text, buttons = to_text(message, len(self.buttons) + 1)
            self.buttons.extend(buttons)
            parts.append(text + self._save_files(message))
        return "\n\n".join(parts)

    def _save_files(self, message: Message) -> str:
        """Save the message's attachments; the lines that say where each went."""
        if self.folder is None:
            return ""
        lines = []
        for file in message.files():
            try:
                path = save_attachment(file, self.folder)
            except OSError as err:
                lines.append(f"  Could not save {file.filename}: {err.strerror or err}.")
            else:
                lines.append(f"  Saved {file.filename} as {path}")
        return "".join("\n" + line for line in lines)

    async def interactive(self) -> None:
        print(
            f"mentorbot chat as @{self.actor.user_id}. Type commands (e.g. help); "
            "a number clicks a button; quit, exit or Ctrl-D ends the chat."
        )
        loop = asyncio.get_running_loop()
        while True:
            try:
                line = await loop.run_in_executor(None, input, f"@{self.actor.user_id}> ")
            except EOFError:
                print()
                return
            if line.strip().lower() in QUIT_WORDS:
                return
            if line.strip():
                print(self.show(await self.say(line)), flush=True)
