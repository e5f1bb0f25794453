"""The follow-through settings in app.yaml: defaults, custom values, errors that name the key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from conversations.followthrough.policy import DEFAULT_LADDER, FollowThrough


def load(tmp_path: Path, text: str) -> FollowThrough:
    path = tmp_path / "app.yaml"
    path.write_text(text)
    return load_settings(str(path), env={}).policy.follow


def problems(tmp_path: Path, text: str) -> str:
    path = tmp_path / "app.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_settings(str(path), env={})
    return str(err.value)


def test_defaults_without_the_sections(tmp_path: Path) -> None:
    follow = load(tmp_path, "cadence: weekly\n")
    assert follow == FollowThrough()
    assert follow.agenda_lead == timedelta(hours=24) and follow.lapse_ladder == DEFAULT_LADDER


def test_custom_values_are_read(tmp_path: Path) -> None:
    follow = load(
        tmp_path,
        "meetings: {length: 30m, agenda_lead: 2d, agenda_reminder: 3h, mentor_agenda: 12h,"
        " checkin_after: 30m}\n"
        "term: {months: 9, renewal_notice: 3w, agreement_reminder: 2d}\n"
        "lapse:\n  grace: 1w\n  ladder:\n    - {after: 0d, step: nudge_both}\n"
        "    - {after: 5d, step: at_risk}\n",
    )
    assert follow.meeting_length == timedelta(minutes=30)
    assert follow.agenda_lead == timedelta(days=2) and follow.mentor_agenda_lead == timedelta(
        hours=12
    )
    assert follow.term_months == 9 and follow.renewal_lead == timedelta(weeks=3)
    assert follow.agreement_reminder == timedelta(days=2)
    assert FollowThrough().agreement_reminder is None  # none unless app.yaml asks
    shipped = load_settings(str(Path(__file__).parent.parent / "app.yaml"), env={})
    assert shipped.policy.follow.agreement_reminder == timedelta(days=3)
    assert follow.lapse_grace == timedelta(weeks=1)
    assert [(s.after.days, s.action) for s in follow.lapse_ladder] == [
        (0, "nudge_both"),
        (5, "at_risk"),
    ]


def test_typos_get_did_you_mean(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        "meetings: {agenda_led: 24h}\nlaps: {}\n"
        "lapse:\n  ladder:\n    - {after: 0d, step: nudge_menter}\n",
    )
    assert "`meetings.agenda_led` is not a setting. Did you mean `agenda_lead`?" in text
    assert "`laps` is not a setting. Did you mean `lapse`?" in text
    assert "step 'nudge_menter' is not a step. Did you mean `nudge_mentor`?" in text


def test_bad_values_say_the_expected_form(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        "meetings: {agenda_lead: tomorrow, mentor_agenda: sometimes}\nterm: {months: 40}\n"
        "lapse:\n  ladder:\n    - {after: 4d, step: nudge_mentee}\n"
        "    - {after: 2d, step: nudge_both}\n",
    )
    assert "`meetings.agenda_lead` must be a duration like 45m, 24h, 3d or 2w" in text
    assert "`meetings.mentor_agenda` must be when_set or a lead time" in text
    assert "`term.months` must be a whole number from 1 to 24" in text
    assert "step 2`: after must be later than the step before it" in text


def test_ladder_steps_are_named_by_their_position(tmp_path: Path) -> None:
    text = problems(
        tmp_path,
        "meetings: {length: 5m}\nlapse:\n  ladder:\n    - {after: 0d, step: nudge_mentee}\n"
        "    - {aftr: 4d, step: nudge_both}\n    - 7\n",
    )
    assert "`meetings.length` must be between 10m and 4h." in text
    assert "`lapse.ladder step 2`: `aftr` is not a setting. Did you mean `after`?" in text
    assert "`lapse.ladder step 2`: after is required" in text
    assert "`lapse.ladder step 3` must be a mapping with after and step." in text
    assert "`lapse.ladder` must be a list like" in problems(tmp_path, "lapse: {ladder: []}\n")
