"""Files (an .ics invite) to a person in Teams, through the file consent flow.

Why not a plain attachment: Teams renders a message attachment with a `contentUrl`
only for images (inline images, a base64 data: URI or a hosted URL). Any other
type, `text/calendar` included, is refused by the connector with 400 "Unknown
attachment type" (botbuilder-js#4845, BotBuilder-Samples#4006), and a link to a
data: URI is not opened from a card either. A link to a file the bot hosts would
need a public URL for the bot and a store of files. What Teams documents for a bot
sending a file in a personal chat ("Send and receive files using bot", Teams bot
APIs) is the file consent flow, so that is what this module does:

1. `consent_attachment`: the reply carries a FileConsentCard for each file. The
   file's bytes travel in the card's `acceptContext`, which Teams hands back, so
   nothing is stored and a queued message still carries its file.
2. The person presses Allow: Teams sends an invoke `fileConsent/invoke` with an
   upload URL in their OneDrive (`read_consent`).
3. `upload` PUTs the bytes there (one Content-Range), and `file_info_activity` shows
   the uploaded file as a FileInfoCard in the chat, which opens in Teams and
   downloads into a calendar.

File consent works in personal chats only, which is where the bot's proactive
messages go; a reply in a channel or group chat carries no consent card.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import aiohttp

from conversations.messages import File

CONSENT_CARD = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO_CARD = "application/vnd.microsoft.teams.card.file.info"
CONSENT_INVOKE = "fileConsent/invoke"
CONTEXT_KEY = "mentorbot_file"
UPLOAD_TIMEOUT_SECONDS = 10.0


TOO_LARGE = 413  # the connector's answer to an activity over Teams' ~100 KB


def too_large_note(files: list[File]) -> str:
    """Said in place of files whose consent card made the message too large for Teams
    (the card carries the file's bytes)."""
    names = ", ".join(f.filename for f in files)
    return (
        f"I couldn't deliver {names} here: it is larger than a Teams message can carry. "
        "Try `/mentor export-data` in Slack or the web chat, or ask your program team "
        "for a copy."
    )


def describe(file: File) -> str:
    return "calendar invite" if file.mime.startswith("text/calendar") else "file"


def consent_attachment(file: File) -> dict[str, Any]:
    """A FileConsentCard offering `file`; accepting it brings the bytes back to us."""
    data = file.data()
    carried = {
        "filename": file.filename,
        "mime": file.mime,
        "content": file.content,
        "encoding": file.encoding,
    }
    return {
        "contentType": CONSENT_CARD,
        "name": file.filename,
        "content": {
            "description": f"The {describe(file)} {file.filename}: open it to add it to your "
            "calendar.",
            "sizeInBytes": len(data),
            "acceptContext": {CONTEXT_KEY: carried},
            "declineContext": {CONTEXT_KEY: {"filename": file.filename}},
        },
    }


@dataclass(frozen=True)
class Consent:
    """What a `fileConsent/invoke` says: accepted or not, the file, where to upload it."""

    accepted: bool
    filename: str
    file: File | None = None
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
    filename = carried["filename"]
    if value.get("action") != "accept":
        return Consent(False, filename)
    info = value.get("uploadInfo")
    content = carried.get("content")
    if not isinstance(info, dict) or not isinstance(content, str):
        raise NotAConsent("an accept without upload info or content")
    upload_url = info.get("uploadUrl")
    if not isinstance(upload_url, str) or not upload_url.startswith(("https://", "http://")):
        raise NotAConsent("no upload URL")
    encoding: Literal["text", "base64"] = (
        "base64" if carried.get("encoding") == "base64" else "text"
    )
    file = File(filename, str(carried.get("mime") or "application/octet-stream"), content, encoding)
    return Consent(True, filename, file, upload_url, info)


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
