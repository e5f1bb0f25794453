"""`privacy`: exactly what is stored and who sees what."""

from __future__ import annotations

from datetime import timedelta

from conversations.grammar import ParsedLine
from conversations.messages import Block, Context, Header, Message, Text
from conversations.policy import Policy
from conversations.router import CommandSpec
from conversations.turn import Turn

NO_BEARING = "Mentoring has no bearing on performance reviews."


def _days(span: timedelta) -> str:
    days = max(1, round(span.total_seconds() / 86400))
    return "1 day" if days == 1 else f"{days} days"


def privacy_sections(policy: Policy) -> list[tuple[str, str]]:
    """The privacy statement as (title, body) sections: the `privacy` command's answer and
    the bot's public /privacy page say the same thing."""
    retention = policy.outbox_retention
    named = policy.privacy != "aggregate"
    at_risk = (
        "the names of pairs that have stopped meeting (names only, so someone can offer help) "
        "and the names of mentors whose pairs keep meeting, as a thank-you"
        if named
        else "only the number of pairs that have stopped meeting, never names"
    )
    sections = [
        (
            "What I store",
            "Your name and chat account (your name comes from your platform's directory or "
            "from you, never from how someone else typed it; your e-mail only if the "
            "directory gives one), the profile you give me (role, offers, wants, goals, "
            "department, manager, level, time zone, languages, capacity), your pairings, "
            "meeting dates, agenda items, commitments, the ratings you give, and private notes "
            "you write; in the local web chat, also your last 50 messages with me.",
        ),
        (
            "What your mentoring partner sees",
            "Your name, your profile's offers, wants and goals, the meeting dates, the agenda "
            "and the commitments you share in the pair, and when you pause your pairing; when "
            "you log a meeting, that you logged it and its day, which they can confirm or "
            "dispute with one click. The meeting's calendar invite names you both, with your "
            "e-mail if I have one. Never "
            "your private notes or ratings.",
        ),
        (
            "What the program team (HR) sees",
            "A weekly digest of counts and trends: how many people take part and by role, how "
            "many pairs are active and how many paused, how many meetings were held (logged "
            "and not disputed by either of you) against how many were due and how many both of "
            "you confirmed, the "
            "days since pairs last met, the time to a first meeting, how many pairs stopped "
            "meeting and how many started again, and the average rating across the program "
            "(only when at least three ratings were given that week, so no one's rating shows); "
            f"and {at_risk}. Admins can also export the list of pairs with their states and "
            "meeting dates. HR never sees private notes, agendas, commitments, what you discuss, "
            "or your individual ratings.",
        ),
        (
            "Private notes",
            "A private note can be read by the person who wrote it and nobody else: not your "
            "partner, not HR, not an admin, not an export.",
        ),
        (
            "Your data",
            "`/mentor export-data` gives you everything I store about you as a file. "
            "`/mentor forget-me` erases your personal data and notes and ends your pairings "
            "(your partner is told you left); only anonymous counts remain. "
            "`/mentor leave` takes you out of matching and stops all reminders; your profile is "
            "kept so you can come back with `/mentor join`.",
        ),
        (
            "How long messages are kept",
            f"Messages I send you are kept with their text for {_days(retention)} after they "
            "go out (so a failed one can be retried and reported); then only the fact that "
            "one was sent remains. A file I offer you in Teams (your export, a calendar "
            f"invite) waits for you to save it for {_days(policy.offered_file_retention)}, "
            "then it is deleted; saving or declining it deletes it at once. `forget-me` also "
            "withdraws or empties messages to others that quote you or what you wrote, and "
            "deletes files waiting for you. What you type is never written to my logs.",
        ),
    ]
    return sections


async def privacy(turn: Turn, line: ParsedLine) -> list[Message]:
    sections = privacy_sections(turn.policy)
    text = "\n\n".join(f"{title}: {body}" for title, body in sections)
    blocks: list[Block] = [Header("Your privacy in the mentoring program")]
    for title, body in sections:
        blocks.append(Text(f"*{title}*\n{body}"))
    blocks.append(Context(NO_BEARING))
    return [Message(text, tuple(blocks))]


COMMAND = CommandSpec(
    name="privacy",
    usage="privacy",
    summary="What is stored about you, and exactly what your partner and HR can see.",
    handler=privacy,
    group="You and your data",
)
