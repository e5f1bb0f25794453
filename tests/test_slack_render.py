"""to_blocks and friends: golden Block Kit JSON for representative messages, and every
Block Kit limit respected on hostile input. Set UPDATE_GOLDEN=1 to rewrite the goldens."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.render_block_kit import (
    MAX_BLOCKS,
    mrkdwn,
    split_text,
    to_blocks,
    to_home_view,
    to_messages,
    to_modal,
    view_errors,
)
from adapters.slack.translate import to_event
from conversations.events import Action, Command
from conversations.messages import (
    Button,
    Buttons,
    Context,
    Divider,
    Fields,
    File,
    Form,
    Header,
    Input,
    Message,
    Option,
    Text,
)

GOLDEN = Path(__file__).parent / "golden" / "slack"

STATUS = Message(
    "Mentee — Active",
    (
        Header("Your mentoring status"),
        Fields((("Role", "Mentee"), ("Status", "Active"), ("Wants", "public speaking, python"))),
        Text("*Your pairs*\n• mentored by Bob (next meeting Tue 01 Dec 2026)"),
        Context("Add goals to your profile: `/mentor profile`."),
        Buttons(
            (
                Button("Edit my profile", value="profile"),
                Button("Pause", value="pause"),
                Button("Leave", value="leave", style="danger"),
                Button("Help", value="help", style="primary"),
            )
        ),
    ),
)
PROFILE_FORM = Form(
    form_id="profile",
    title="Your mentoring profile",
    inputs=(
        Input("offers", "What you offer", value="python, hiring", hint="e.g. python"),
        Input("goals", "Goals", kind="multiline", placeholder="What do you want to achieve?"),
        Input("level", "Level", value="eleven", error="Level must be a whole number 1–10"),
        Input(
            "role",
            "Role",
            kind="select",
            value="mentor",
            optional=False,
            options=(Option("mentee", "Mentee"), Option("mentor", "Mentor")),
        ),
        Input(
            "languages",
            "Languages",
            kind="multiselect",
            value="en,de",
            options=(Option("en", "English"), Option("de", "German"), Option("fr", "French")),
        ),
        Input("start", "Start", kind="date", value="2026-12-01"),
        Input("at", "Time", kind="time", value="15:30"),
    ),
)
INVITE = File(
    "mentoring.ics", "text/calendar", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
)
CASES: dict[str, Message] = {
    "status": STATUS,
    "meeting_with_invite": Message(
        "You scheduled a meeting with Bob: Thu 3 Dec, 15:00.",
        (
            Text("You scheduled a meeting with Bob: Thu 3 Dec, 15:00."),
            INVITE,
            Context("Add the invite to your calendar."),
        ),
    ),
    "plain_text_only": Message("Just text, no blocks & nothing else <3"),
    "form_in_a_message": Message(
        "Here is your profile.", (Text("Here is your profile."), PROFILE_FORM)
    ),
    "links_lists_and_escapes": Message(
        "x",
        (
            Text(
                "See <https://example.com/guide|the guide> or ask <@U123|bob>.\n"
                "- first & second\n- <!channel> is not a ping\n  - nested"
            ),
            Divider(),
        ),
    ),
}


def golden(name: str, data: Any) -> None:
    path = GOLDEN / f"{name}.json"
    rendered = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(rendered)
    assert path.exists(), f"{path} missing; run with UPDATE_GOLDEN=1 and review it"
    assert rendered == path.read_text()


@pytest.mark.parametrize("name", sorted(CASES))
def test_to_blocks_golden(name: str) -> None:
    golden(name, to_blocks(CASES[name]))


def test_modal_and_home_golden() -> None:
    golden("profile_modal", to_modal(PROFILE_FORM))
    golden("home_view", to_home_view(STATUS))


def test_every_neutral_block_renders_and_buttons_have_unique_action_ids() -> None:
    blocks = to_blocks(STATUS)
    [actions] = [b for b in blocks if b["type"] == "actions"]
    ids = [e["action_id"] for e in actions["elements"]]
    assert ids == ["run#0", "run#1", "run#2", "run#3"]
    assert actions["elements"][2]["style"] == "danger"
    assert "style" not in actions["elements"][0]


def test_mrkdwn_escapes_what_people_typed_but_keeps_links_and_mentions() -> None:
    assert mrkdwn("a & b <!here> <@U1|x> <https://x.io|y>") == (
        "a &amp; b &lt;!here&gt; <@U1|x> <https://x.io|y>"
    )
    assert mrkdwn("- one\n- two") == "• one\n• two"
    assert mrkdwn("<javascript:alert(1)|click>") == "&lt;javascript:alert(1)|click&gt;"


def test_long_text_is_split_at_line_boundaries_and_nothing_is_lost() -> None:
    lines = [f"line {n}: " + "word " * 20 for n in range(200)]
    text = "\n".join(lines)
    blocks = to_blocks(Message(text, (Text(text),)))
    assert len(blocks) > 1
    for block in blocks:
        assert len(block["text"]["text"]) <= 3000
    joined = "\n".join(b["text"]["text"] for b in blocks)
    assert joined.split() == text.split()
    assert all(b["text"]["text"].startswith("line ") for b in blocks)


def test_one_enormous_word_is_cut_hard_without_breaking_an_entity() -> None:
    text = "&" * 5000
    pieces = split_text(mrkdwn(text))
    assert all(len(p) <= 3000 for p in pieces)
    assert "".join(pieces) == "&amp;" * 5000
    assert all(p.endswith(";") for p in pieces)


def test_limits_on_headers_labels_fields_buttons_and_values() -> None:
    buttons = tuple(Button("L" * 100, value=f"v{n}") for n in range(30))
    long_value = Button("Too long", value="x" * 2001)
    message = Message(
        "m",
        (
            Header("H" * 200),
            Fields(tuple((f"label {n}", "v" * 2500) for n in range(13))),
            Buttons((*buttons, long_value)),
            Context("c" * 4000),
        ),
    )
    blocks = to_blocks(message)
    header = blocks[0]
    assert len(header["text"]["text"]) == 150 and header["text"]["text"].endswith("…")
    field_sections = [b for b in blocks if "fields" in b]
    assert [len(b["fields"]) for b in field_sections] == [10, 3]
    assert all(len(f["text"]) <= 2000 for b in field_sections for f in b["fields"])
    actions = [b for b in blocks if b["type"] == "actions"]
    assert [len(a["elements"]) for a in actions] == [25, 5]
    elements = [e for a in actions for e in a["elements"]]
    assert all(len(e["text"]["text"]) <= 75 for e in elements)
    assert len({e["action_id"] for e in elements}) == 30
    assert all(len(e["value"]) <= 2000 for e in elements)
    contexts = [b for b in blocks if b["type"] == "context"]
    assert any("Too long" in c["elements"][0]["text"] for c in contexts)  # not silently dropped
    assert all(len(c["elements"][0]["text"]) <= 3000 for c in contexts)


def test_more_than_fifty_blocks_become_several_messages() -> None:
    message = Message("many", tuple(Text(f"item {n}") for n in range(120)))
    bodies = to_messages(message)
    assert [len(b["blocks"]) for b in bodies] == [50, 50, 20]
    assert bodies[0]["text"] == "many"
    assert all(len(b["blocks"]) <= MAX_BLOCKS for b in bodies)
    home = to_home_view(Message("many", tuple(Text(f"item {n}") for n in range(150))))
    assert len(home["blocks"]) == 100


def test_modal_limits_and_values_too_long_to_show_are_kept() -> None:
    form = Form(
        "profile",
        "A very long title that goes on and on",
        (Input("goals", "Goals", kind="multiline", value="g" * 3500),),
        submit_label="Save all of my changes now",
    )
    modal = to_modal(form)
    assert len(modal["title"]["text"]) <= 24 and len(modal["submit"]["text"]) <= 24
    [block] = modal["blocks"]
    assert "initial_value" not in block["element"] and block["optional"] is True
    assert "3500 characters" in block["hint"]["text"]
    assert json.loads(modal["private_metadata"]) == {"form_id": "profile", "keep": ["goals"]}
    # submitted empty: left out (unchanged); submitted with text: taken
    payload: dict[str, Any] = {
        "type": "view_submission",
        "team": {"id": "T1"},
        "user": {"id": "U1", "username": "alice"},
        "view": {
            **modal,
            "state": {"values": {"goals": {"goals": {"type": "plain_text_input", "value": None}}}},
        },
    }
    event = to_event(payload)
    assert isinstance(event.payload, Action) and event.payload.fields == {}
    payload["view"]["state"]["values"]["goals"]["goals"]["value"] = "new goal"
    event = to_event(payload)
    assert isinstance(event.payload, Action) and event.payload.fields == {"goals": "new goal"}


def test_a_message_whose_blocks_render_to_nothing_is_sent_as_text() -> None:
    assert to_messages(Message("only text", (Buttons(()),))) == [{"text": "only text"}]


def test_view_errors_name_the_inputs() -> None:
    assert view_errors(PROFILE_FORM) == {"level": "Level must be a whole number 1–10"}


def test_to_event_for_each_payload_shape() -> None:
    command = to_event(
        {
            "command": "/mentor",
            "text": "pause until <@U2|bob>",
            "team_id": "T1",
            "user_id": "U1",
            "user_name": "alice",
        }
    )
    assert command.payload == Command("pause until <@U2|bob>")
    assert (command.actor.platform, command.actor.tenant, command.actor.user_id) == (
        "slack",
        "T1",
        "U1",
    )
    assert command.actor.display_name == "alice" and command.event_id is None
    assert command.reference == {"team_id": "T1", "user_id": "U1"}

    click = to_event(
        {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": "U1", "username": "alice", "team_id": "T1"},
            "actions": [{"action_id": "run#3", "value": "join mentee"}],
        }
    )
    assert click.payload == Action("run", "join mentee")

    submitted = to_event(
        {
            "type": "view_submission",
            "team": {"id": "T1"},
            "user": {"id": "U1", "username": "alice"},
            "view": {
                "callback_id": "form:profile",
                "private_metadata": "",
                "state": {
                    "values": {
                        "level": {"level": {"type": "plain_text_input", "value": "4"}},
                        "role": {
                            "role": {
                                "type": "static_select",
                                "selected_option": {"value": "mentor"},
                            }
                        },
                        "languages": {
                            "languages": {
                                "type": "multi_static_select",
                                "selected_options": [{"value": "en"}, {"value": "de"}],
                            }
                        },
                        "start": {"start": {"type": "datepicker", "selected_date": "2026-12-01"}},
                        "at": {"at": {"type": "timepicker", "selected_time": None}},
                    }
                },
            },
        }
    )
    assert submitted.payload == Action(
        "form.submit",
        form_id="profile",
        fields={
            "level": "4",
            "role": "mentor",
            "languages": "en,de",
            "start": "2026-12-01",
            "at": "",
        },
    )

    dm = to_event(
        {
            "type": "event_callback",
            "team_id": "T1",
            "event_id": "Ev1",
            "event": {"type": "message", "user": "U1", "text": "status", "channel_type": "im"},
        }
    )
    assert dm.payload == Command("status") and dm.event_id == "Ev1"
