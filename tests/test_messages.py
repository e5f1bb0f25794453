"""The neutral message model: JSON round trip and the console's text rendering."""

from __future__ import annotations

from adapters.local.console import to_text
from conversations.messages import (
    Button,
    Buttons,
    Context,
    Divider,
    Fields,
    Form,
    Header,
    Input,
    Message,
    Option,
    Text,
    fallback_text,
    from_dict,
    to_dict,
)

FULL = Message(
    "fallback",
    (
        Header("Title"),
        Text("*bold* and _italic_"),
        Fields((("Role", "Mentee"), ("Level", "4"))),
        Buttons((Button("Go", value="status", style="primary"), Button("Stop", "x.stop"))),
        Divider(),
        Context("small print"),
        Form(
            "profile",
            "Your profile",
            (
                Input("goals", "Goals", kind="multiline", value="a\nb", error="too long"),
                Input("lang", "Language", kind="select", options=(Option("en", "English"),)),
            ),
        ),
    ),
)


def test_messages_round_trip_through_json() -> None:
    assert from_dict(to_dict(FULL)) == FULL


def test_unknown_blocks_are_dropped_and_the_text_still_reads() -> None:
    data = {"text": "hello", "blocks": [{"type": "hologram", "x": 1}]}
    message = from_dict(data)
    assert message == Message("hello", ())
    assert to_text(message) == ("hello", [])


def test_console_rendering_numbers_buttons_and_shows_forms() -> None:
    text, buttons = to_text(FULL, first_number=3)
    assert "TITLE" in text and "[3] Go  [4] Stop" in text
    assert "Goals (goals): a\nb  ← too long" in text
    assert [b.value for b in buttons] == ["status", ""]


def test_fallback_text_is_what_the_text_blocks_say() -> None:
    blocks = (
        Header("Meeting"),
        Text("Your meeting is on Tue."),
        Buttons((Button("Yes"),)),
        Text("Bring your agenda."),
        Context("Only you see this."),
    )
    assert fallback_text(blocks) == "Your meeting is on Tue.\nBring your agenda."
    assert Message.of(*blocks) == Message(fallback_text(blocks), blocks)
    assert Message.of(Text("Hi")) == Message("Hi", (Text("Hi"),))
