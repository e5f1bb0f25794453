"""Every block type renders on every surface, and a new one is a type error in each.

The renderers (Block Kit, Adaptive Card, console text, and the web chat's JSON
name) `match` on the block and end in `assert_never`: mypy, not a user, finds the
block type someone added to conversations/messages.py and forgot to render.
"""

from __future__ import annotations

import re
import shutil
import typing
from pathlib import Path

import pytest
from mypy import api as mypy_api

from adapters.local.console import to_text
from adapters.slack.render_block_kit import to_blocks
from adapters.teams.render_adaptive_card import to_adaptive_card
from conversations.messages import (
    Block,
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
    Text,
    block_type,
    from_dict,
    to_dict,
)

ROOT = Path(__file__).resolve().parent.parent
FALLBACK = "the plain-text fallback"

ONE_OF_EACH: dict[type[typing.Any], Block] = {
    Header: Header("A header"),
    Text: Text("Some *text*"),
    Fields: Fields((("Label", "value"),)),
    Buttons: Buttons((Button("Go", value="status"),)),
    Divider: Divider(),
    Context: Context("small print"),
    Form: Form("profile", "Your profile", (Input("goals", "Goals", value="grow"),)),
    File: File("invite.ics", "text/calendar", "BEGIN:VCALENDAR"),
}


def test_the_examples_cover_every_block_type() -> None:
    assert set(ONE_OF_EACH) == set(typing.get_args(Block))


@pytest.mark.parametrize("block", list(ONE_OF_EACH.values()), ids=lambda b: type(b).__name__)
def test_every_block_renders_on_every_surface(block: Block) -> None:
    message = Message(FALLBACK, (Header("First"), block))
    slack = to_blocks(message)
    assert len(slack) >= 2 and FALLBACK not in str(slack)
    card = to_adaptive_card(message)["body"]
    assert FALLBACK not in str(card)
    assert len(card) >= (1 if isinstance(block, Divider) else 2)  # a divider is a separator
    console, _ = to_text(message)
    assert FALLBACK not in console and len(console.splitlines()) >= 2
    assert from_dict(to_dict(message)) == message


def test_the_web_chat_draws_every_block_type_it_is_sent() -> None:
    script = (ROOT / "adapters/local/static/chat.js").read_text()
    drawn = set(re.findall(r'case "(\w+)":', script))
    assert {block_type(b) for b in ONE_OF_EACH.values()} <= drawn


# A block type added to the union and rendered nowhere.
_NEW_BLOCK = """
@dataclass(frozen=True)
class Hologram:
    text: str


Block = Header | Text | Fields | Buttons | Divider | Context | Form | File | Hologram
"""
_RENDERERS = (
    "conversations/messages.py",
    "adapters/slack/render_block_kit.py",
    "adapters/teams/render_adaptive_card.py",
    "adapters/local/console.py",
)


def _mypy(tmp: Path, add_block: bool) -> dict[str, str]:
    """mypy's report on a copy of the block model and the renderers, by file."""
    tree = tmp / ("new" if add_block else "same")
    for name in (*_RENDERERS, "conversations/payload_versions.py"):
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tree / name)
    for package in (
        "conversations",
        "adapters",
        "adapters/slack",
        "adapters/teams",
        "adapters/local",
    ):
        (tree / package / "__init__.py").touch()
    messages = tree / "conversations/messages.py"
    source = messages.read_text()
    union = "Block = Header | Text | Fields | Buttons | Divider | Context | Form | File\n"
    assert union in source
    if add_block:
        messages.write_text(source.replace(union, _NEW_BLOCK))
    config = tmp / "mypy.ini"
    config.write_text("[mypy]\n")
    out, err, _ = mypy_api.run(
        [
            "--config-file",
            str(config),
            "--cache-dir",
            str(tmp / "cache"),
            "--follow-imports=skip",
            "--ignore-missing-imports",
            "--python-version=3.11",
            *(str(tree / name) for name in _RENDERERS),
        ]
    )
    assert not err, err
    report: dict[str, str] = {name: "" for name in _RENDERERS}
    for line in out.splitlines():
        for name in _RENDERERS:
            if line.startswith(str(tree / name) + ":"):
                report[name] += line + "\n"
    return report


def test_a_block_type_no_renderer_knows_is_a_type_error_in_each(tmp_path: Path) -> None:
    assert _mypy(tmp_path, add_block=False) == {name: "" for name in _RENDERERS}
    report = _mypy(tmp_path, add_block=True)
    for name in _RENDERERS:
        assert '"assert_never" has incompatible type "Hologram"' in report[name], (name, report)
