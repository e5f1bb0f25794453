"""`export-data` and `forget-me`: a person's right to see and to erase what is stored.

`export-data` hands over everything stored about the speaker as a JSON file, their own
private notes included (and nobody else's). `forget-me` asks first; confirmed, it ends
the speaker's pairs with a kind word to each partner, then erases their personal data,
keeping only anonymous counts (storage/personal_data.py says exactly what).
"""

from __future__ import annotations

import json

from conversations.grammar import ParsedLine
from conversations.messages import Button, Buttons, Context, File, Message, Text
from conversations.router import CommandSpec
from conversations.turn import Refusal, Turn, enqueue_for_person
from conversations.wording import plural
from storage import personal_data

CONFIRM_WORDS = ("confirm", "yes")


async def export_data(turn: Turn, line: ParsedLine) -> list[Message]:
    data = await personal_data.export(turn.session, turn.person.id)
    await turn.audit("privacy.export")
    content = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)
    counts = (
        f"{plural(len(data['pairs']), 'pairing')}, {plural(len(data['meetings']), 'meeting')}, "
        f"{plural(len(data['my_private_notes']), 'private note')}"
    )
    text = (
        f"Here is everything I store about you ({counts}), as JSON. Your private notes are "
        "included because they are yours; your partners' notes and ratings are not."
    )
    filename = f"mentorbot-my-data-{turn.now:%Y%m%d}.json"
    return [Message.of(Text(text), File(filename, "application/json", content))]


async def forget_me(turn: Turn, line: ParsedLine) -> list[Message]:
    word = line.args[0].lower() if line.args else ""
    if word and word not in CONFIRM_WORDS:
        raise Refusal(
            f"I understood `forget-me` but not “{word[:40]}”. Type `/mentor forget-me` to see "
            "what it does, then `/mentor forget-me confirm` to go ahead."
        )
    pairs = await personal_data.open_pairs_of(turn.session, turn.person.id)
    if word not in CONFIRM_WORDS:
        ending = (
            f" Your current {'pairing' if len(pairs) == 1 else 'pairings'} will end, and "
            f"{'your partner' if len(pairs) == 1 else 'your partners'} will be told "
            "you have left the program (nothing more)."
            if pairs
            else ""
        )
        text = (
            "This erases you from the mentoring program: your profile details, private notes, "
            "agenda items, commitments, ratings and feedback, and your chat accounts as I know "
            f"them.{ending} Only anonymous counts remain (that a participant took part and "
            "when meetings happened). It cannot be undone. Want a copy first? "
            "`/mentor export-data`."
        )
        buttons = Buttons(
            (
                Button("Yes, forget me", value="forget-me confirm", style="danger"),
                Button("Export my data first", value="export-data"),
            )
        )
        return [Message.of(Text(text), buttons)]
    me = await turn.display_name(turn.person.id)
    for pair in pairs:
        partner = pair.mentor_id if pair.mentee_id == turn.person.id else pair.mentee_id
        note = (
            f"{me} has left the mentoring program, so your pairing has ended. Thank you for the "
            "time you gave each other. `/mentor status` shows what happens next for you."
        )
        await enqueue_for_person(
            turn.session,
            partner,
            f"partner-left:{pair.id}:{partner}",
            "partner-left",
            Message.of(Text(note)),
            turn.now,
        )
        await personal_data.end_pair(turn.session, pair, "a participant left the program", turn.now)
    await turn.audit("privacy.forget", pairs_ended=len(pairs))
    await personal_data.erase(turn.session, turn.person.id, turn.now)
    text = (
        "Done: I have erased your personal data and notes"
        + (
            f" and ended {plural(len(pairs), 'pairing')}; "
            f"{'your partner was' if len(pairs) == 1 else 'your partners were'} told"
            if pairs
            else ""
        )
        + ". Only anonymous counts remain. If you write to me again, you start afresh."
    )
    return [Message.of(Text(text), Context("Thank you for taking part."))]


EXPORT = CommandSpec(
    name="export-data",
    usage="export-data",
    summary="Everything stored about you, as a JSON file (your private notes included).",
    handler=export_data,
    group="You and your data",
)

FORGET = CommandSpec(
    name="forget-me",
    usage="forget-me [confirm]",
    summary="Erase your personal data and notes and leave the program (asks first).",
    details=(
        "Your pairings end and your partners are told you left. Only anonymous counts remain."
    ),
    handler=forget_me,
    group="You and your data",
)
