"""Which pair a command is about, and who the other person is.

Commands name a pair with `with @person` (anywhere among the arguments) or, from
buttons, `pair:ID`. Someone with a single pair never has to name it; someone with
several is asked which one, with a button for each.
"""

from __future__ import annotations

from conversations.grammar import parse_mention
from conversations.messages import Button, Buttons, Input, Message, Option, Text
from conversations.partners import partner_of
from conversations.turn import Refusal, Turn
from storage.models import Pair
from storage.pairs import pairs_with_partner_names
from storage.states import PairState


def pair_input(pair: Pair, partner: str) -> Input:
    """The first field of every pair form: which pairing it is for (one fixed choice)."""
    return Input("pair", "With", "select", str(pair.id), options=(Option(str(pair.id), partner),))


def take_target(args: tuple[str, ...]) -> tuple[str | None, int | None, list[str]]:
    """Split `with @person` / `pair:ID` out of the arguments: (mention token, pair id, rest)."""
    rest: list[str] = []
    mention: str | None = None
    pair_id: int | None = None
    words = list(args)
    i = 0
    while i < len(words):
        word = words[i]
        if word.lower().startswith("pair:") and word[5:].isdigit() and pair_id is None:
            pair_id = int(word[5:])
        elif (
            word.lower() == "with"
            and i + 1 < len(words)
            and mention is None
            and parse_mention(words[i + 1])
        ):
            mention = words[i + 1]
            i += 1
        elif mention is None and pair_id is None and i == 0 and parse_mention(word):
            mention = word
        else:
            rest.append(word)
        i += 1
    return mention, pair_id, rest


async def _partner_named(
    turn: Turn, pairs: list[Pair], name: str | None, rest: list[str]
) -> tuple[Pair, list[str]] | None:
    """The pair whose partner is called `name` (full display name or first name), with the
    rest of a name typed with spaces (`@Theo Grant`) taken off the arguments.

    Partners are matched by name before the platform's directory is asked, so a Slack
    user can name a partner who is on Teams, where no Slack mention can reach.
    """
    if not name:
        return None
    wanted = name.casefold()
    hits: list[tuple[Pair, list[str]]] = []
    for pair in pairs:
        words = (await turn.partner_name(pair)).split()
        folded = [w.casefold() for w in words]
        if not folded or (folded[0] != wanted and "".join(folded) != wanted):
            continue
        tail = folded[1:]
        typed = [w.casefold() for w in rest[len(rest) - len(tail) :]] if tail else []
        hits.append((pair, rest[: len(rest) - len(tail)] if tail and typed == tail else rest))
    return hits[0] if len(hits) == 1 else None


async def choose_pair(
    turn: Turn,
    args: tuple[str, ...],
    *,
    verb: str,
    states: tuple[PairState, ...] = (PairState.ACTIVE,),
) -> tuple[Pair, list[str]]:
    """The speaker's pair the command is about, plus the remaining arguments.

    Refuses (with the right form) when the speaker has no such pair, names
    someone they are not paired with, or has several pairs and named none.
    """
    mention, pair_id, rest = take_target(args)
    found = await pairs_with_partner_names(turn.session, turn.person.id, turn.program.id, states)
    turn.know_names(
        {partner_of(pair, turn.person.id): name for pair, name in found if name is not None}
    )
    pairs = [pair for pair, _ in found]
    if pair_id is not None:
        pairs = [p for p in pairs if p.id == pair_id]
        if not pairs:
            raise Refusal(
                "That pairing is no longer open, so nothing was changed. "
                "`/mentor status` shows your pairs."
            )
        return pairs[0], rest
    if not pairs:
        raise Refusal(
            f"You have no {' or '.join(states)} mentoring pair, so there is nothing to {verb} yet. "
            "Once you're matched, I'll tell you; `/mentor status` shows where you are."
        )
    if mention is not None:
        parsed = parse_mention(mention)
        assert parsed is not None
        named = await _partner_named(turn, pairs, parsed.name, rest) if not parsed.user_id else None
        if named is not None:
            return named
        identity = await turn.resolve_mention(parsed)
        chosen = [p for p in pairs if partner_of(p, turn.person.id) == identity.person_id]
        if not chosen:
            raise Refusal(
                f"You're not paired with {parsed.label()}; `/mentor status` shows your pairs."
            )
        return chosen[0], rest
    if len(pairs) == 1:
        return pairs[0], rest
    buttons = []
    for pair in pairs:
        partner = partner_of(pair, turn.person.id)
        name = await turn.display_name(partner)
        buttons.append(
            Button(f"With {name}", value=f"{verb} pair:{pair.id} {' '.join(rest)}".strip())
        )
    mentions = " or ".join(
        [f"`with {await turn.mention_of(partner_of(p, turn.person.id))}`" for p in pairs]
    )
    text = f"You have several pairs; which one? Add {mentions} to `/mentor {verb}`."
    raise Refusal(Message.of(Text(text), Buttons(tuple(buttons[:5]))))
