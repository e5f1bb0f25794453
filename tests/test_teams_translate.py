"""Teams activity JSON → neutral events (pure): prefixes, mentions, submissions, identity,
and the conversation reference kept for proactive messages."""

from __future__ import annotations

import pytest

from adapters.teams.translate import NotForUs, command_text, to_event, to_reference
from conversations.events import Action, Command
from conversations.grammar import parse_line, parse_mention
from tests.doubles.bot_connector import TENANT, TeamsUser, installed, message, submit

URL = "https://smba.trafficmanager.net/emea/"
ana = TeamsUser("Ana Lopez")
bo = TeamsUser("Bo Chen")
kim = TeamsUser("Kim")


@pytest.mark.parametrize("text", ["mentor status", "/mentor status", "status", " Status "])
def test_every_form_of_a_command_reads_the_same(text: str) -> None:
    event = to_event(message(URL, ana, text))
    assert isinstance(event.payload, Command)
    assert parse_line(event.payload.text).verb == "status"


def test_in_a_channel_the_bot_mention_goes_and_people_become_ids() -> None:
    activity = message(
        URL,
        ana,
        "/mentor profile set manager=<at>Bo Chen</at> &amp; <at>Kim</at>",
        channel=True,
        mention=[bo, kim],
    )
    text = command_text(activity, {bo.id: bo.aad, kim.id: kim.aad})
    assert text == f'/mentor profile set manager="<@{bo.aad}|Bo Chen>" & <@{kim.aad}|Kim>'
    line = parse_line(text)
    manager = parse_mention(line.args[1].split("=", 1)[1])
    assert manager is not None and (manager.user_id, manager.name) == (bo.aad, "Bo Chen")
    assert parse_mention(line.args[3]) is not None
    # Without the roster, a mention still reads as a name rather than vanishing.
    assert command_text(activity).endswith("manager=@BoChen & @Kim")


def test_identity_tenant_and_time_zone() -> None:
    event = to_event(message(URL, ana, "status"), email="ana@example.com")
    actor = event.actor
    assert (actor.platform, actor.user_id, actor.tenant) == ("teams", ana.aad, TENANT)
    assert actor.display_name == "Ana Lopez" and actor.email == "ana@example.com"
    assert actor.timezone == "Europe/Berlin"
    odd = message(URL, ana, "status")
    odd["localTimezone"] = "Mars/Olympus"
    assert to_event(odd).actor.timezone is None
    again = message(URL, ana, "status")
    assert event.event_id and to_event(again).event_id != event.event_id


def test_card_submissions_become_actions_with_their_fields() -> None:
    data = {"mentorbot": {"action_id": "form.submit", "form_id": "profile"}, "level": 4}
    event = to_event(submit(URL, ana, {**data, "offers": "python", "msteams": {"x": 1}}))
    assert event.payload == Action(
        "form.submit", form_id="profile", fields={"level": "4", "offers": "python"}
    )
    click = to_event(submit(URL, ana, {"mentorbot": {"action_id": "run", "value": "status"}}))
    assert click.payload == Action("run", "status")
    with pytest.raises(NotForUs):
        to_event(submit(URL, ana, {"someone": "else's card"}))
    with pytest.raises(NotForUs):
        to_event(installed(URL, ana))


def test_references_keep_only_a_personal_chat_and_nothing_per_message() -> None:
    personal = to_reference(message(URL, ana, "status"))
    assert personal["conversation"] == {
        "id": ana.personal_chat,
        "conversationType": "personal",
        "tenantId": TENANT,
    }
    assert personal == to_reference(message(URL, ana, "help"))  # unchanged: no rewrite
    channel = to_reference(message(URL, ana, "status", channel=True))
    assert "conversation" not in channel
    assert channel["user"]["id"] == ana.id and channel["tenantId"] == TENANT
    assert channel["serviceUrl"] == URL
