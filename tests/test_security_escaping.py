"""What people write stays text: names, agendas, goals, notes, commitments and decline
reasons never become markup on any surface (Slack blocks and `text`, Teams cards, the
web chat, the console), and the HR digest's channel post cannot ping or phish.

Hostile strings go in as data (messages.literal is how the engine quotes them) and through
the real engine; every renderer's output is checked for markup that would act.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from adapters.local.console import to_text
from adapters.slack.render_block_kit import to_messages
from adapters.slack.sender import SlackSender
from adapters.slack.webapi import make_client
from adapters.teams.render_adaptive_card import to_activity
from bot.delivery import DeliveryWorker
from conversations.digest.figures import BASE_KEYS, AtRiskPair, Digest
from conversations.digest.messages import digest_message
from conversations.engine import APOLOGY, Engine
from conversations.events import Actor
from conversations.messages import (
    Context,
    Fields,
    Header,
    Message,
    Text,
    from_dict,
    literal,
    to_dict,
)
from storage import outbox
from storage.database import Database
from storage.models import OutboxMessage
from tests.doubles.slack_api import SlackApi
from tests.harness import Chat, VirtualClock

HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123>",
    "<@U123|boss>",
    "<#C0HR|hr>",
    "<https://evil.example|click here>",
    "<mailto:x@evil.example|mail>",
    "*bold*",
    "_italic_",
    "~strike~",
    "`code`",
    "[x](https://evil.example)",
    "![img](https://evil.example/p.png)",
    "https://evil.example/login",
    "www.evil.example",
    "evil.example",
    "@here",
    "@channel",
    "<at>Boss</at>",
    "<b>bold</b><script>alert(1)</script>",
    "&lt;!channel&gt;",
    "&amp;",
    "\\*not escaped\\*",
    "- list",
    "# heading",
    "> quote",
]
HOSTILE_TEXT = st.lists(
    st.one_of(st.sampled_from(HOSTILE), st.text(alphabet="ab *_<>[]()&!@:/.\\-#`~|", max_size=8)),
    min_size=1,
    max_size=5,
).map(" ".join)

SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


# --- what would act on each surface ---------------------------------------------------


def slack_strings(message: Message) -> list[str]:
    """Every string Slack parses as mrkdwn: the top-level text and mrkdwn objects."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for body in to_messages(message):
        out.append(body["text"])
        walk(body.get("blocks", []))
    return out


def slack_active(text: str) -> list[str]:
    """Control sequences Slack would act on: any `<…>` (our engine copy in these tests
    writes none), or an `&` that is not one of the three entities Slack knows."""
    found = re.findall(r"<[^>]*>?", text)
    found += re.findall(r"&(?!amp;|lt;|gt;)", text)
    return found


def card_strings(message: Message) -> list[str]:
    """Every string Teams renders as markdown: TextBlocks, FactSet values, a text reply."""
    activity = to_activity(message)
    out: list[str] = []
    if "text" in activity:
        out.append(activity["text"])

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                out.append(node["text"])
            if node.get("type") == "FactSet":
                out.extend(f["value"] for f in node["facts"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(activity.get("attachments", []))
    return out


_UNESCAPED = r"(?<!\\)"


def card_active(text: str) -> list[str]:
    """Markdown Teams would act on: links (also image links), autolinked addresses,
    mentions, HTML tags."""
    found = re.findall(_UNESCAPED + r"\[[^\]]*" + _UNESCAPED + r"\]\(", text)
    # An address autolinks only with a name after the dot: "www." ending a sentence does not.
    found += re.findall(r"https?:(?!\u2060)|www\.(?!\u2060)(?=\w)", text)
    found += re.findall(r"evil\.(?!\u2060)(?=\w)", text)  # the hostile strings' domain
    found += re.findall(r"<at>|" + _UNESCAPED + r"<[a-z/!]", text)
    return found


# The web chat's inline markdown (adapters/local/static/chat.js), token for token.
_WEB_INLINE = re.compile(
    "|".join(
        [
            r"\\[\s\S]",
            r"(?<![\w*])\*[^*\s](?:[^*\n]*[^*\s])?\*(?![\w*])",
            r"(?<![\w_])_[^_\s](?:[^_\n]*[^_\s])?_(?![\w_])",
            r"`[^`\n]+`",
            r"<(https?://[^|>\s]+)(?:\|([^>]+))?>",
        ]
    )
)


def web_nodes(text: str) -> list[tuple[str, str]]:
    """(kind, text) nodes chat.js builds from a text block: `text`, `a`, `strong`, `em`,
    `code`. Everything is set as textContent, so only these kinds can carry markup."""
    nodes: list[tuple[str, str]] = []
    last = 0
    for m in _WEB_INLINE.finditer(text):
        nodes.append(("text", text[last : m.start()]))
        token = m.group(0)
        if token[0] == "\\":
            nodes.append(("text", token[1:]))
        elif m.group(1):
            nodes.append(("a", m.group(1)))
        else:
            kind = {"*": "strong", "_": "em"}.get(token[0], "code")
            nodes.append((kind, token[1:-1]))
        last = m.end()
    nodes.append(("text", text[last:]))
    return [n for n in nodes if n[1]]


def web_texts(message: Message) -> list[str]:
    """The strings chat.js reads as inline markdown, from the JSON the web chat receives."""
    data = json.loads(json.dumps(to_dict(message)))
    texts = [data["text"]] if not data["blocks"] else []
    texts += [b["text"] for b in data["blocks"] if b["type"] in ("text", "context")]
    return texts


# --- the renderers, fed hostile text directly --------------------------------------------


@settings(max_examples=400, deadline=None)
@given(typed=HOSTILE_TEXT)
def test_typed_text_renders_literally_on_every_surface(typed: str) -> None:
    shown = literal(typed)
    message = Message(
        f"Agenda with {shown}:\n1. {shown}",
        (
            Header(f"Meeting with {shown}"),
            Text(f"*Agenda so far*\n• {shown}"),
            Fields((("Goals", shown),)),
            Context(f"Your private note: {shown}"),
        ),
    )
    for text in slack_strings(message):
        assert slack_active(text) == [], text
    for text in card_strings(message):
        assert card_active(text) == [], text
        assert "**Agenda so far**" in text or "Agenda so far" not in text  # our bold still bold
    assert to_activity(Message(shown))["text"].count("\\") >= typed.count("\\")
    for text in web_texts(message):
        nodes = web_nodes(text)
        assert all(kind in ("text", "strong") for kind, _ in nodes), nodes
        assert "".join(t for _, t in nodes).endswith(typed)
    console, _ = to_text(message)
    assert console.endswith(f"  (Your private note: {typed})")
    assert to_text(Message(shown))[0] == typed
    # the plain-text fields show exactly what was typed
    header = to_messages(message)[0]["blocks"][0]
    assert header["text"]["text"] == f"Meeting with {typed}"[:150] or len(typed) > 130


def test_our_own_markup_still_renders() -> None:
    message = Message("*Hi* <https://example.org|docs>", (Text("*Hi* <https://example.org|docs>"),))
    assert slack_strings(message)[1] == "*Hi* <https://example.org|docs>"
    assert card_strings(message) == ["**Hi** [docs](https://example.org)"]
    assert [k for k, _ in web_nodes("*Hi* <https://example.org|docs>")] == ["strong", "text", "a"]


# --- through the real engine -----------------------------------------------------------

_run = itertools.count()


class NamedChat(Chat):
    """The harness with display names chosen by the test (as a directory would give them)."""

    names: dict[str, str]

    def actor(self, user: str, timezone: str | None = None) -> Actor:
        return Actor("local", user.lower(), self.names.get(user, user), timezone=timezone)


def assert_inert(messages: list[Message], typed: list[str]) -> None:
    for message in messages:
        for text in slack_strings(message):
            assert slack_active(text) == [], text
        for text in card_strings(message):
            assert card_active(text) == [], text
        for text in web_texts(message):
            assert "a" not in {kind for kind, _ in web_nodes(text)}, text
        for t in typed:  # the console shows what was typed, as typed
            if literal(t) in message.text:
                assert t in to_text(Message(message.text))[0]


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=SUPPRESS,
    phases=(Phase.explicit, Phase.generate),
)
@example(name="<!channel> *boss*", item="<https://evil.example|click> [x](https://evil.example)")
@example(name="www.evil.example <!here>", item="# heading >[|# \\*not escaped\\* &/ <#C0HR|hr>")
@given(name=HOSTILE_TEXT.filter(lambda s: s.strip()), item=HOSTILE_TEXT)
async def test_hostile_text_through_the_engine_never_acts(
    engine: Engine, name: str, item: str
) -> None:
    n = next(_run)
    mentee, mentor = f"mentee{n}", f"mentor{n}"
    chat = NamedChat(engine, now=datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    chat.names = {mentee: name, mentor: name[::-1] or "x"}
    seen: list[Message] = []
    line = item.replace('"', "").replace("”", "").replace("“", "") or "x"
    for user, text in (
        (mentee, "join mentee"),
        (mentor, "join mentor"),
        (mentee, f'profile set goals="{line}" department="{line[:100]}"'),
        ("hana", f"admin pair @{mentee} @{mentor}"),
        (mentee, "agreement agree"),
        (mentor, "agreement agree"),
        (mentee, "schedule tomorrow 9am"),
        (mentee, f"agenda add {line}"),
        (mentee, f"commit {line}"),
        (mentee, "agenda"),
        (mentee, "status"),
        (mentor, "status"),
        (mentee, "home"),
        (mentee, f"frobnicate {line}"),
        (mentee, f"profile {line}"),
    ):
        replies = await chat.say(user, text)
        assert replies and all(m.text != APOLOGY for m in replies), text
        seen.extend(replies)
    chat.now += timedelta(days=1, hours=2)
    seen.extend(await chat.say(mentee, f"met {line}"))
    async with engine.db.transaction() as session:
        rows = await session.scalars(select(OutboxMessage.payload))
        seen.extend(from_dict(p) for p in rows if p)
    assert any(literal(name) in m.text for m in seen)  # the names did reach the copy
    assert_inert(seen, [name, line])


# --- the HR digest's channel post over the Slack double --------------------------------


async def test_digest_channel_post_cannot_ping_or_phish(db: Database) -> None:
    figures: dict[str, float | None] = dict.fromkeys(BASE_KEYS, 0)
    digest = Digest(
        program_name="Acme mentoring",
        program_slug="acme",
        as_of=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        privacy="named",
        timezone="UTC",
        figures={**figures, "lapses.at_risk": 1},
        previous={},
        trend=(),
        recognition=(("<!channel> <https://evil.example/login|Payroll update>", 3),),
        at_risk=(AtRiskPair("<@U0CEO>", "[x](https://evil.example) *urgent*", None),),
        objective=None,
    )
    message = digest_message(digest, chart=False)
    clock = VirtualClock()
    async with SlackApi().serve() as api:
        async with db.transaction() as session:
            await outbox.enqueue(
                session,
                key="digest-hostile",
                kind="digest",
                payload=to_dict(message),
                now=clock.now(),
                person_id=None,
                platform="slack",
                channel="C0HR",
            )
        worker = DeliveryWorker(
            db, {"slack": SlackSender(make_client("xoxb", api.url + "api/"))}, clock
        )
        clock.busy = lambda: worker.sending
        await worker.run_once()
        [post] = api.called("chat.postMessage")
    sent = json.dumps(post.params)
    for bad in ("<!channel>", "<https://evil", "<@U0CEO>"):
        assert bad not in sent, bad
    texts = [post.params["text"]]
    blocks = post.params["blocks"]
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    texts += [json.dumps(blocks)]
    assert "&lt;!channel&gt;" in post.params["text"]
    for text in texts:
        assert "<!" not in text and "<@" not in text and "<http" not in text
