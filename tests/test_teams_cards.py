"""to_adaptive_card: neutral messages → Adaptive Card 1.5, checked against golden JSON files
(tests/golden/; regenerate with MENTORBOT_UPDATE_GOLDEN=1 and review the diff) and against
the rules Teams enforces for cards."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from adapters.teams.files import NotAConsent, read_consent
from adapters.teams.render_adaptive_card import to_activity, to_adaptive_card, to_card_markdown
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

GOLDEN = Path(__file__).resolve().parent / "golden"

STATUS = Message(
    "Your mentoring status: mentee, active.",
    (
        Header("Your mentoring"),
        Text(
            "*Mentee* — Active\n• wants: _public speaking_\n• see <https://example.com/faq|the FAQ>"
        ),
        Fields((("Role", "Mentee"), ("Manager", "<@0000-aad|Bo Chen>"))),
        Divider(),
        Context("Type `/mentor help` for every command."),
        Buttons(
            (
                Button("Edit profile", value="profile", style="primary"),
                Button("Pause", value="pause"),
                Button("Leave", value="leave", style="danger"),
            )
        ),
    ),
)

FORM_WITH_ERRORS = Message(
    "Some fields need another look: Level must be a whole number from 1 to 10.",
    (
        Text("Some fields need another look."),
        Form(
            form_id="profile",
            title="Your mentoring profile",
            inputs=(
                Input("offers", "I can offer", value="python, public speaking", hint="e.g. a, b"),
                Input("goals", "Goals", kind="multiline", value="Speak at a conference"),
                Input(
                    "level",
                    "Level",
                    value="eleven",
                    error="Level must be a whole number from 1 to 10. e.g. 4",
                ),
                Input(
                    "role",
                    "Role",
                    kind="select",
                    value="mentee",
                    optional=False,
                    options=(Option("mentee", "Mentee"), Option("mentor", "Mentor")),
                ),
                Input(
                    "languages",
                    "Languages",
                    kind="multiselect",
                    value="en,de",
                    options=(Option("en", "English"), Option("de", "German")),
                ),
                Input("start", "Start", kind="date", value="2026-12-01"),
                Input("at", "Time", kind="time", placeholder="09:00"),
            ),
        ),
    ),
)


MEETING = Message(
    "You scheduled a meeting with Bo: Thu 3 Dec, 15:00.",
    (
        Text("You scheduled a meeting with Bo: Thu 3 Dec, 15:00."),
        File("mentoring.ics", "text/calendar", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),
        Context("Add the invite to your calendar."),
    ),
)


@pytest.mark.parametrize(
    ("name", "message"), [("status", STATUS), ("form", FORM_WITH_ERRORS), ("meeting", MEETING)]
)
def test_cards_match_their_golden_json(name: str, message: Message) -> None:
    card = to_adaptive_card(message)
    path = GOLDEN / f"teams_card_{name}.json"
    if os.environ.get("MENTORBOT_UPDATE_GOLDEN"):
        path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    assert card == json.loads(path.read_text())


# What Adaptive Cards 1.5 defines (the subset we emit) and what each element must carry.
ELEMENTS = {"TextBlock", "FactSet", "ActionSet", "Container"}
INPUTS = {"Input.Text", "Input.ChoiceSet", "Input.Date", "Input.Time"}
ACTIONS = {"Action.Submit"}


def check(element: dict[str, Any], ids: set[str]) -> None:
    kind = element["type"]
    assert kind in ELEMENTS | INPUTS, kind
    if kind == "TextBlock":
        assert isinstance(element["text"], str) and element["text"]
    elif kind in INPUTS:
        assert element["id"] not in ids and element["label"]
        ids.add(element["id"])
    elif kind == "FactSet":
        assert all(set(f) == {"title", "value"} for f in element["facts"])
    elif kind == "ActionSet":
        for action in element["actions"]:
            assert action["type"] in ACTIONS and action["title"]
            assert action.get("style", "default") in ("default", "positive", "destructive")
            assert isinstance(action["data"]["mentorbot"]["action_id"], str)
    elif kind == "Container":
        for item in element["items"]:
            check(item, ids)


@pytest.mark.parametrize("message", [STATUS, FORM_WITH_ERRORS, MEETING, Message("Plain words.")])
def test_cards_are_valid_adaptive_cards_1_5(message: Message) -> None:
    card = to_adaptive_card(message)
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert card["fallbackText"] == message.text
    ids: set[str] = set()
    for element in card["body"]:
        check(element, ids)


def test_buttons_carry_the_neutral_action_and_forms_their_id() -> None:
    card = to_adaptive_card(STATUS)
    actions = next(e for e in card["body"] if e["type"] == "ActionSet")["actions"]
    assert actions[0]["data"] == {"mentorbot": {"action_id": "run", "value": "profile"}}
    assert [a.get("style") for a in actions] == ["positive", None, "destructive"]
    form = to_adaptive_card(FORM_WITH_ERRORS)["body"][1]["items"]
    level = next(i for i in form if i.get("id") == "level")
    assert level["value"] == "eleven"  # what the person typed is kept
    error = form[form.index(level) + 1]
    assert error["color"] == "Attention" and "1 to 10" in error["text"]
    submit = form[-1]["actions"][0]
    assert submit["data"] == {"mentorbot": {"action_id": "form.submit", "form_id": "profile"}}


def test_markdown_subset() -> None:
    assert to_card_markdown("*bold* and _it_") == "**bold** and _it_"
    assert to_card_markdown("2 * 3 * 4") == "2 * 3 * 4"
    assert to_card_markdown("<https://x.org/a|the site>") == "[the site](https://x.org/a)"
    assert to_card_markdown("• one\n• two") == "- one\n- two"
    assert to_card_markdown("Saved:\n  Level: 4\n\nNext") == "Saved:\n\n  Level: 4\n\nNext"
    assert to_card_markdown("ask <@9f1c-aad|Bo Chen>") == "ask @Bo Chen"


def test_activities_plain_text_or_one_card() -> None:
    assert to_activity(Message("Hello.")) == {
        "type": "message",
        "text": "Hello.",
        "textFormat": "markdown",
    }
    activity = to_activity(STATUS)
    assert "text" not in activity and activity["summary"] == STATUS.text
    assert activity["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"


def test_an_unknown_block_falls_back_to_the_text() -> None:
    class Strange:
        pass

    message = Message("Still readable.", (Header("Hi"), Strange()))  # type: ignore[arg-type]
    body = to_adaptive_card(message)["body"]
    assert body[-1]["text"] == "Still readable."
    assert to_adaptive_card(Message("Only text."))["body"][0]["text"] == "Only text."


def test_a_file_rides_beside_the_card_as_a_consent_card_naming_only_its_token() -> None:
    activity = to_activity(MEETING, offers=["tok-1"])
    card, consent = activity["attachments"]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert consent["contentType"] == "application/vnd.microsoft.teams.card.file.consent"
    [invite] = MEETING.files()
    carried = {"mentorbot_file": {"filename": invite.filename, "token": "tok-1"}}
    assert consent["content"]["acceptContext"] == carried
    assert consent["content"]["declineContext"] == carried
    assert consent["content"]["sizeInBytes"] == len(invite.data())
    assert "BEGIN:VCALENDAR" not in json.dumps(activity)
    elsewhere = to_activity(MEETING)  # not offered: not a personal chat
    assert len(elsewhere["attachments"]) == 1
    assert "personal chat" in json.dumps(elsewhere["attachments"][0]["content"])


def test_a_consent_answer_names_an_offered_file_by_token_and_a_filename_we_could_make() -> None:
    def invoke(context: dict[str, Any]) -> dict[str, Any]:
        value = {"type": "fileUpload", "action": "decline", "context": {"mentorbot_file": context}}
        return {"type": "invoke", "name": "fileConsent/invoke", "value": value}

    consent = read_consent(invoke({"filename": "mentoring.ics", "token": "tok-1"}))
    assert (consent.accepted, consent.filename, consent.token) == (False, "mentoring.ics", "tok-1")
    forged = read_consent(invoke({"filename": "<at>Everyone</at> [x](http://e.vil)", "token": "t"}))
    assert forged.filename == "the file"
    for context in ({"filename": "a.ics"}, {"filename": "a.ics", "token": "t" * 101}):
        with pytest.raises(NotAConsent):
            read_consent(invoke(context))
