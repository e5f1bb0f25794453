"""Files (an .ics invite, an export) to a person in Teams, through the file consent flow.

Why not a plain attachment: Teams renders a message attachment with a `contentUrl`
only for images (inline images, a base64 data: URI or a hosted URL). Any other
type, `text/calendar` included, is refused by the connector with 400 "Unknown
attachment type" (botbuilder-js#4845, BotBuilder-Samples#4006), and a link to a
data: URI is not opened from a card either. A link to a file the bot hosts would
need a public URL for the bot. What Teams documents for a bot sending a file in a
personal chat ("Send and receive files using bot", Teams bot APIs) is the file
consent flow, so that is what this module does:

1. `OfferedFiles.offer` keeps each file in the database for its person (the engine's
   `reach.offer_files`) and `consent_attachment` makes the FileConsentCard, whose
   accept and decline contexts carry only the filename and that token.
2. The person presses Allow: Teams sends an invoke `fileConsent/invoke` with the
   context back and an upload URL in their OneDrive (`read_consent`).
3. The token must name a file offered to the person whose account sent the invoke
   (`OfferedFiles.claim`); `upload` PUTs its bytes there (one Content-Range),
   `file_info_activity` shows it as a FileInfoCard, and the stored copy is deleted.
   Decline deletes it too; unanswered, it expires (`offered_file_retention`, 7 days).

Every file takes this path, however small: the card once carried the bytes in its
`acceptContext`, which failed for an export over Teams' ~100 KB message limit and
put private notes into Teams' copy of every such message. Storing them all means one
path to test and no content in any card; a stored .ics is a few hundred bytes.

File consent works in personal chats only, which is where the bot's proactive
messages go; a reply in a channel or group chat carries no consent card.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp

from conversations import reach
from conversations.messages import File

if TYPE_CHECKING:
    from conversations.engine import Engine

CONSENT_CARD = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO_CARD = "application/vnd.microsoft.teams.card.file.info"
CONSENT_INVOKE = "fileConsent/invoke"
CONTEXT_KEY = "mentorbot_file"
UPLOAD_TIMEOUT_SECONDS = 10.0
MAX_TOKEN = 100  # ours are 43 characters; anything much longer is not ours
# The filename an invoke hands back is repeated in our answers: only names we could have
# made (mentorbot-my-data-20261123.json, mentoring.ics) are, anything else is "the file".
_OUR_FILENAME = re.compile(r"[\w.\-]{1,100}")


TOO_LARGE = 413  # the connector's answer to an activity over Teams' ~100 KB


def too_large_note(files: list[File]) -> str:
    """Said in place of files whose consent card Teams would still not take in a message."""
    names = ", ".join(f.filename for f in files)
    return (
        f"I couldn't deliver {names} here: it is larger than a Teams message can carry. "
        "Try `/mentor export-data` in Slack or the web chat, or ask your program team "
        "for a copy."
    )


def describe(file: File) -> str:
    return "calendar invite" if file.mime.startswith("text/calendar") else "file"


def _is_invite(filename: str) -> bool:
    return filename.lower().endswith(".ics")


def consent_attachment(file: File, token: str) -> dict[str, Any]:
    """A FileConsentCard offering `file`, stored under `token`: the card carries the
    file's name and size, never its content."""
    carried = {"filename": file.filename, "token": token}
    use = (
        "open it to add it to your calendar" if _is_invite(file.filename) else "save it to open it"
    )
    return {
        "contentType": CONSENT_CARD,
        "name": file.filename,
        "content": {
            "description": f"The {describe(file)} {file.filename}: {use}.",
            "sizeInBytes": len(file.data()),
            "acceptContext": {CONTEXT_KEY: carried},
            "declineContext": {CONTEXT_KEY: carried},
        },
    }


@dataclass(frozen=True)
class Consent:
    """What a `fileConsent/invoke` says: accepted or not, which offered file (its name and
    token), and where to upload it."""

    accepted: bool
    filename: str
    token: str
    upload_url: str = ""
    upload_info: dict[str, Any] | None = None


class NotAConsent(ValueError):
    """The invoke is not an answer to one of our consent cards."""


def read_consent(activity: dict[str, Any]) -> Consent:
    """The invoke's value → Consent; NotAConsent for anything we did not send."""
    if activity.get("type") != "invoke" or activity.get("name") != CONSENT_INVOKE:
        raise NotAConsent("not a file consent invoke")
    value = activity.get("value")
    if not isinstance(value, dict) or value.get("type", "fileUpload") != "fileUpload":
        raise NotAConsent("no fileUpload value")
    context = value.get("context")
    carried = context.get(CONTEXT_KEY) if isinstance(context, dict) else None
    if not isinstance(carried, dict) or not isinstance(carried.get("filename"), str):
        raise NotAConsent("the context is not one of ours")
    token = carried.get("token")
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN:
        raise NotAConsent("the context names no offered file")
    filename = carried["filename"] if _OUR_FILENAME.fullmatch(carried["filename"]) else "the file"
    if value.get("action") != "accept":
        return Consent(False, filename, token)
    info = value.get("uploadInfo")
    if not isinstance(info, dict):
        raise NotAConsent("an accept without upload info")
    upload_url = info.get("uploadUrl")
    if not isinstance(upload_url, str) or not upload_url.startswith(("https://", "http://")):
        raise NotAConsent("no upload URL")
    return Consent(True, filename, token, upload_url, info)


def declined_text(filename: str) -> str:
    after = " The message above has the time." if _is_invite(filename) else ""
    return f"No problem: {filename} was not saved.{after}"


def not_yours_text(filename: str) -> str:
    return (
        f"That file ({filename}) was offered to someone else, so I did not save it for you. "
        "Ask me for your own (for your data, type `export-data`)."
    )


def gone_text(filename: str) -> str:
    return (
        f"That file ({filename}) is no longer available: type `export-data` (or the command "
        "that produced it) again."
    )


def upload_failed_text(filename: str) -> str:
    after = " The message above has the time." if _is_invite(filename) else ""
    return (
        f"I could not save {filename} to your OneDrive just now. Press Allow to try again.{after}"
    )


async def upload(upload_url: str, file: File) -> None:
    """PUT the bytes to the OneDrive upload session Teams opened; raises on failure."""
    data = file.data()
    headers = {
        "Content-Length": str(len(data)),
        "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}",
    }
    timeout = aiohttp.ClientTimeout(total=UPLOAD_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async with session.put(upload_url, data=data, headers=headers) as response:
            if response.status not in (200, 201):
                raise RuntimeError(f"the upload URL answered {response.status}")


def file_info_activity(consent: Consent) -> dict[str, Any]:
    """The uploaded file as a FileInfoCard message: Teams shows it as a file in the chat."""
    info = consent.upload_info or {}
    return {
        "type": "message",
        "summary": f"{consent.filename} is in your OneDrive",
        "attachments": [
            {
                "contentType": FILE_INFO_CARD,
                "contentUrl": info.get("contentUrl"),
                "name": info.get("name") or consent.filename,
                "content": {
                    "uniqueId": info.get("uniqueId"),
                    "fileType": info.get("fileType") or consent.filename.rsplit(".", 1)[-1],
                },
            }
        ],
    }


Account = tuple[str, str, str]  # platform, tenant, user id: whom a file is offered to


class OfferedFiles:
    """The files offered through consent cards, kept by the engine for the person they
    are for, for the policy's `offered_file_retention`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def offer(self, account: Account, files: Sequence[File], now: datetime) -> list[str]:
        """Tokens for the files, in order; none when the account is unknown (then the
        message goes without consent cards and its file lines say why)."""
        keep_for = self.engine.policy.offered_file_retention
        tokens = await reach.offer_files(self.engine.db, *account, files, now, keep_for)
        return tokens or []

    async def claim(self, account: Account, token: str, now: datetime) -> reach.Offered:
        return await reach.claim_offered_file(self.engine.db, *account, token, now)

    async def discard(self, tokens: Sequence[str], account: Account | None = None) -> None:
        """Delete them: the account's own once saved or declined; any, unasked, when the
        card carrying them did not go out."""
        if tokens:
            await reach.discard_offered_files(self.engine.db, tokens, account)
