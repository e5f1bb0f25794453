"""The partner's confirm/dispute buttons on a logged meeting, rendered and clicked on each
platform through its double: a Block Kit button in Slack, an Adaptive Card submit in
Teams (the Slack–Teams pair of tests/test_cross_platform.py)."""

from __future__ import annotations

import json

from tests.test_cross_platform import MIA, World, pair_up, theo
from tests.test_cross_platform import world as world  # the fixture, shared


async def test_a_teams_partner_confirms_a_meeting_logged_from_slack(world: World) -> None:
    await pair_up(world)
    assert "is logged; Theo Grant can confirm it" in await world.slash(MIA, "met")
    await world.deliver()
    [notice] = [
        s for s in world.teams.sent_to(theo.personal_chat) if "logged your meeting" in s.text
    ]
    assert "Mia Park logged your meeting on Mon 23 Nov 2026" in notice.text
    assert notice.card is not None
    card = json.dumps(notice.card)
    assert "Yes, we met" in card and "No, we didn't" in card
    answer = await world.teams_submits(theo, notice.submit_data("Yes, we met"))
    assert "confirmed by you both" in answer


async def test_a_slack_partner_disputes_a_meeting_logged_from_teams(world: World) -> None:
    await pair_up(world)
    await world.deliver()  # the agreement first, so the next Teams answer is met's alone
    logged = await world.teams_says(theo, "met", "America/New_York")
    assert "is logged; Mia Park can confirm it" in logged
    await world.deliver()
    [posted] = [c for c in world.slack.delivered() if "logged your meeting" in c.params["text"]]
    labels = [
        e["text"]["text"]
        for block in posted.blocks()
        for e in block.get("elements", ())
        if e.get("type") == "button"
    ]
    assert labels == ["Yes, we met", "No, we didn't"]
    answer = await world.click(MIA, posted, "No, we didn't")
    assert "doesn't count as held, and Theo Grant is told" in answer
