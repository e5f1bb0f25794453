"""Routing a command line or an action to its handler; `help` is built from the same table.

Each command module exposes COMMAND (a CommandSpec). Help lists exactly the
registered commands, and an unknown word is answered with the closest one and
its right form.
"""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from conversations.events import Action, Command
from conversations.grammar import ParsedLine, parse_line, strip_prefix
from conversations.messages import Block, Button, Buttons, Context, Fields, Header, Message, Text
from conversations.small_talk import Kind, small_talk
from conversations.turn import Refusal, Turn
from storage.states import ProfileStatus

Handler = Callable[[Turn, ParsedLine], Awaitable[list[Message]]]
FormHandler = Callable[[Turn, dict[str, str]], Awaitable[list[Message]]]


@dataclass(frozen=True)
class CommandSpec:
    name: str
    usage: str
    summary: str
    handler: Handler
    details: str = ""
    examples: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    forms: dict[str, FormHandler] = field(default_factory=dict)
    group: str = "Getting started"
    # The handler changes nothing, neither in the database nor on the turn's identity,
    # person or profile: the engine may then answer from a read outside any transaction.
    read_only: bool = False


class Router:
    def __init__(self, specs: list[CommandSpec]) -> None:
        self.specs = specs
        self.by_word: dict[str, CommandSpec] = {}
        self.forms: dict[str, FormHandler] = {}
        for spec in specs:
            for word in (spec.name, *spec.aliases):
                self.by_word[word] = spec
            self.forms.update(spec.forms)

    def reads_only(self, payload: Command | Action) -> bool:
        """True when answering `payload` writes nothing: a read-only command, help, the
        overview, or a hint for an unknown word."""
        if isinstance(payload, Action):
            if payload.action_id != "run":
                return False
            line = payload.value
        else:
            line = payload.text
        verb = parse_line(line).verb
        if not verb or verb == "help":
            return True
        spec = self.by_word.get(verb)
        return spec is None or spec.read_only

    async def handle(self, turn: Turn, payload: Command | Action) -> list[Message]:
        try:
            if isinstance(payload, Command):
                return await self.run_line(turn, payload.text)
            return await self.run_action(turn, payload)
        except Refusal as refusal:
            return [refusal.message]

    async def run_line(self, turn: Turn, line: str) -> list[Message]:
        parsed = parse_line(line)
        if not parsed.verb:
            return [self.overview(turn)]
        spec = self.by_word.get(parsed.verb)
        talk = small_talk(strip_prefix(line)) if spec is None else None
        if talk is not None:
            return [self.small_talk(turn, talk)]
        if parsed.verb == "help":
            return [self.help(turn, parsed.args[0].lower() if parsed.args else "")]
        if spec is None:
            return [self.unknown(parsed.verb, line)]
        return await spec.handler(turn, parsed)

    async def run_action(self, turn: Turn, action: Action) -> list[Message]:
        if action.action_id == "run":
            return await self.run_line(turn, action.value)
        if action.action_id == "form.submit" and action.form_id in self.forms:
            return await self.forms[action.form_id](turn, dict(action.fields))
        return [
            Message(
                "That button or form is no longer active. Type `/mentor help` to see what you "
                "can do now."
            )
        ]

    def closest(self, word: str) -> CommandSpec | None:
        names = [*self.by_word, "help"]
        match = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
        if not match or match[0] == "help":
            return None
        return self.by_word[match[0]]

    def unknown(self, verb: str, line: str) -> Message:
        shown = verb if len(verb) <= 40 else verb[:40] + "…"
        spec = self.closest(verb)
        if spec:
            text = (
                f"I don't know the command “{shown}”. Did you mean `{spec.name}`?\n"
                f"Its form is `/mentor {spec.usage}` — {spec.summary}"
            )
            buttons = Buttons(
                (
                    Button(f"Help on {spec.name}", value=f"help {spec.name}"),
                    Button("All commands", value="help"),
                )
            )
        else:
            text = f"I don't know the command “{shown}”. Type `/mentor help` to see every command."
            buttons = Buttons((Button("All commands", value="help", style="primary"),))
        return Message.of(Text(text), buttons)

    def small_talk(self, turn: Turn, kind: Kind) -> Message:
        """A friendly answer to "hi", "thanks!" or "what can you do?"."""
        if kind == "greeting":
            return self.overview(turn)
        joined = turn.profile is not None and turn.profile.status != ProfileStatus.DRAFT
        if kind == "thanks":
            text = "You're welcome! I'm here whenever you need me."
            buttons = Buttons((Button("My status", value="status"), Button("Help", value="help")))
            return Message.of(Text(text), buttons)
        text = (
            "I help you learn from each other: I match mentees with mentors, help each pair "
            "agree how they'll work together, schedule meetings, prompt the mentee for an "
            "agenda before each one, check in afterwards and nudge when a pair stops meeting."
        )
        first = (
            Button("My status", value="status", style="primary")
            if joined
            else Button("Join as mentee", value="join mentee", style="primary")
        )
        buttons = Buttons(
            (first, Button("How it works", value="guide"), Button("All commands", value="help"))
        )
        return Message.of(Text(text), Text("Type `/mentor help` for every command."), buttons)

    def overview(self, turn: Turn) -> Message:
        joined = turn.profile is not None and turn.profile.status != ProfileStatus.DRAFT
        text = (
            "Hi! I'm the mentoring bot. "
            + (
                "Type `/mentor status` to see where you are."
                if joined
                else "Join with `/mentor join mentee`, `/mentor join mentor` or "
                "`/mentor join both`."
            )
            + " Type `/mentor help` for every command."
        )
        buttons = (
            (Button("My status", value="status", style="primary"), Button("Help", value="help"))
            if joined
            else (
                Button("Join as mentee", value="join mentee", style="primary"),
                Button("Join as mentor", value="join mentor"),
                Button("Help", value="help"),
            )
        )
        return Message.of(Text(text), Buttons(buttons))

    def help(self, turn: Turn, topic: str) -> Message:
        if topic:
            spec = self.by_word.get(topic)
            if spec is None:
                close = self.closest(topic)
                hint = f" Did you mean `{close.name}`?" if close else ""
                text = (
                    f"There is no command “{topic[:40]}”.{hint} Type `/mentor help` for the list."
                )
                return Message.of(Text(text))
            lines = [f"/mentor {spec.usage}", spec.summary]
            if spec.details:
                lines.append(spec.details)
            if spec.examples:
                lines.append("Examples: " + "; ".join(f"/mentor {e}" for e in spec.examples))
            blocks: list[Block] = [
                Header(f"/mentor {spec.name}"),
                Text(f"`/mentor {spec.usage}`\n{spec.summary}"),
            ]
            if spec.details:
                blocks.append(Text(spec.details))
            if spec.examples:
                blocks.append(
                    Context("Examples: " + " · ".join(f"`/mentor {e}`" for e in spec.examples))
                )
            return Message("\n".join(lines), tuple(blocks))
        groups: dict[str, list[CommandSpec]] = {}
        for spec in self.specs:
            groups.setdefault(spec.group, []).append(spec)
        text_lines = ["mentorbot commands (type them after /mentor):"]
        blocks = [Header("mentorbot commands")]
        for group, specs in groups.items():
            items = tuple((f"/mentor {s.usage}", s.summary) for s in specs)
            text_lines.append(f"{group}:")
            text_lines.extend(f"  /mentor {s.usage} — {s.summary}" for s in specs)
            blocks.append(Text(f"*{group}*"))
            blocks.append(Fields(items))
        footer = "`/mentor help COMMAND` explains one command. `/mentor help` shows this list."
        text_lines.append("/mentor help COMMAND explains one command.")
        blocks.append(Context(footer))
        return Message("\n".join(text_lines), tuple(blocks))
