"""`profile` (a form) and `profile set key=value …`.

Nothing typed is lost: with `profile set`, valid keys are saved and each bad
one is echoed back with what was wrong and the right form; a submitted form
with a bad field comes back with every value as typed and the error inline.
"""

from __future__ import annotations

import difflib

from conversations.grammar import ParsedLine, parse_mention, split_key_values
from conversations.messages import (
    Block,
    Button,
    Buttons,
    Context,
    Fields,
    Form,
    Input,
    Message,
    Text,
)
from conversations.profile_fields import FIELDS, FieldError, Value, parse_field
from conversations.router import CommandSpec
from conversations.turn import Refusal, Turn
from storage.models import Profile
from storage.states import ProfileStatus

FORM_ID = "profile"
SET_FORM = "profile set key=value …"


async def current_value(
    turn: Turn, profile: Profile, key: str, *, for_display: bool = False
) -> str:
    """The stored value as a person would type it back (or read it, `for_display`)."""
    if key == "manager":
        if profile.manager_id is None:
            return ""
        if for_display:
            return await turn.display_name(profile.manager_id)
        return await turn.mention_of(profile.manager_id)
    value = getattr(profile, key)
    if isinstance(value, list):
        return ", ".join(value)
    return "" if value is None else str(value)


# Fields only a mentor's profile asks for.
MENTOR_ONLY = ("offers", "capacity")


async def profile_form(
    turn: Turn, typed: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> Form:
    profile = await turn.ensure_profile()
    inputs = []
    for key, spec in FIELDS.items():
        if (
            profile.role == "mentee"
            and key in MENTOR_ONLY
            and not (typed and key in typed)
            and not getattr(profile, key)
        ):
            continue  # a mentee is not asked what they offer or how many mentees they take
        value = (
            typed[key]
            if typed is not None and key in typed
            else await current_value(turn, profile, key)
        )
        inputs.append(
            Input(
                name=key,
                label=spec.label,
                kind="multiline" if spec.multiline else "text",
                value=value,
                hint=f"e.g. {spec.form.split('=', 1)[1]}",
                error=(errors or {}).get(key, ""),
            )
        )
    return Form(form_id=FORM_ID, title="Your mentoring profile", inputs=tuple(inputs))


def _form_message(form: Form, intro: str) -> Message:
    lines = [intro, "", "Your profile:"]
    lines.extend(f"  {i.label}: {i.value or '—'}" for i in form.inputs)
    lines.append("")
    lines.append(
        f"To change it by typing: `/mentor {SET_FORM}`, e.g. "
        '`/mentor profile set wants="public speaking" level=4`.'
    )
    return Message("\n".join(lines), (Text(intro), form))


async def _apply(turn: Turn, key: str, raw: str) -> Value:
    """Parse and store one key; FieldError or Refusal says what is wrong."""
    profile = await turn.ensure_profile()
    if key == "manager":
        raw = raw.strip()
        if not raw:
            profile.manager_id = None
            return None
        mention = parse_mention(raw)
        if mention is None:
            raise FieldError(f"“{raw[:60]}” is not a person; write manager=@name")
        identity = await turn.resolve_mention(mention)
        if identity.person_id == turn.person.id:
            raise FieldError("you can't be your own manager")
        profile.manager_id = identity.person_id
        return identity.display_name
    value = parse_field(key, raw)
    setattr(profile, key, value)
    return value


async def _set(turn: Turn, line: ParsedLine) -> list[Message]:
    pairs, loose = split_key_values(line.args[1:])
    if not pairs:
        understood = f" I didn't find any key=value in “{' '.join(loose)[:80]}”." if loose else ""
        raise Refusal(
            f"Nothing to set.{understood} The form is `/mentor {SET_FORM}`, with keys "
            f"{', '.join(FIELDS)}; quote values with spaces: "
            '`/mentor profile set goals="speak at a conference"`.'
        )
    saved: list[tuple[str, str]] = []
    problems: list[str] = []
    for key, raw in pairs:
        if key not in FIELDS:
            close = difflib.get_close_matches(key, list(FIELDS), n=1, cutoff=0.6)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            problems.append(f"“{key[:40]}” is not a profile key.{hint} Keys: {', '.join(FIELDS)}.")
            continue
        try:
            await _apply(turn, key, raw)
        except FieldError as err:
            problems.append(
                f"{key}: {err}. Right form: `{FIELDS[key].form}` (you wrote “{raw[:200]}”)."
            )
            continue
        profile = await turn.ensure_profile()
        shown = await current_value(turn, profile, key, for_display=True)
        saved.append((FIELDS[key].label, shown or "(cleared)"))
    if loose:
        problems.append(
            f"I skipped “{' '.join(loose)[:80]}”: not key=value. "
            'Quote values with spaces: goals="my goal".'
        )
    profile = await turn.ensure_profile()
    if saved:
        profile.updated_at = turn.now
        await turn.audit("profile.set", keys=[k for k, _ in pairs if k in FIELDS])
    return [_set_reply(saved, problems)]


def _set_reply(saved: list[tuple[str, str]], problems: list[str]) -> Message:
    blocks: list[Block] = []
    lines: list[str] = []
    if saved:
        lines.append("Saved:")
        lines.extend(f"  {label}: {value}" for label, value in saved)
        blocks.append(Text("*Saved to your profile*"))
        blocks.append(Fields(tuple(saved)))
    if problems:
        lines.append("Not saved:" if saved else "Nothing was saved:")
        lines.extend(f"  • {p}" for p in problems)
        blocks.append(Text("*Not saved*\n" + "\n".join(f"• {p}" for p in problems)))
    blocks.append(
        Buttons((Button("Open my profile", value="profile"), Button("My status", value="status")))
    )
    return Message("\n".join(lines), tuple(blocks))


async def profile(turn: Turn, line: ParsedLine) -> list[Message]:
    sub = line.args[0].lower() if line.args else ""
    if sub == "set":
        return await _set(turn, line)
    if sub in ("", "show", "edit"):
        form = await profile_form(turn)
        return [_form_message(form, "Here is your profile. Change anything and save.")]
    if "=" in sub:
        # `profile offers=x` — clearly meant `profile set offers=x`.
        return await _set(turn, ParsedLine(line.verb, ("set", *line.args), line.rest))
    raise Refusal(
        f"I understood `profile` but not “{line.rest[:60]}”. Use `/mentor profile` for the form "
        f"or `/mentor {SET_FORM}` (keys: {', '.join(FIELDS)})."
    )


async def submit(turn: Turn, fields: dict[str, str]) -> list[Message]:
    """The profile form: all fields valid → saved; otherwise the form again, as typed."""
    errors: dict[str, str] = {}
    parsed: dict[str, Value] = {}
    typed = {key: fields.get(key, "") for key in FIELDS if key in fields}
    for key, raw in typed.items():
        if key == "manager":
            continue
        try:
            parsed[key] = parse_field(key, raw)
        except FieldError as err:
            errors[key] = f"{FIELDS[key].label} {err}. e.g. {FIELDS[key].form.split('=', 1)[1]}"
    if "manager" in typed:
        try:
            await _apply(turn, "manager", typed["manager"])
        except (FieldError, Refusal) as err:
            errors["manager"] = str(err)
    if errors:
        form = await profile_form(turn, typed=typed, errors=errors)
        return [
            Message(
                "Some fields need another look: " + "; ".join(errors.values()),
                (Text("Some fields need another look."), form),
            )
        ]
    profile = await turn.ensure_profile()
    for key, value in parsed.items():
        setattr(profile, key, value)
    profile.updated_at = turn.now
    await turn.audit("profile.form", keys=sorted(typed))
    saved = [
        (FIELDS[k].label, await current_value(turn, profile, k, for_display=True) or "—")
        for k in typed
    ]
    reply = _set_reply(saved, [])
    if profile.status == ProfileStatus.DRAFT:
        hint = "Your profile is saved. Join with `/mentor join mentee|mentor|both` to be matched."
        reply = Message(reply.text + "\n" + hint, (*reply.blocks, Context(hint)))
    return [reply]


COMMAND = CommandSpec(
    name="profile",
    usage="profile [set key=value …]",
    summary="See and edit what you offer, want and aim for (a form, or key=value).",
    details=(
        "Keys: "
        + "; ".join(f"{f.key} ({f.form})" for f in FIELDS.values())
        + ". Quote values with spaces. An empty value clears a key: `department=`."
    ),
    examples=(
        "profile",
        'profile set offers="public speaking, python" level=6',
        "profile set timezone=Europe/Berlin languages=en,de",
    ),
    handler=profile,
    forms={FORM_ID: submit},
)
