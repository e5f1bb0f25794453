"""A local double of the Bot Framework, over real HTTP on 127.0.0.1 (random port).

It plays every Microsoft endpoint the Teams adapter talks to:

- the connector REST API at `url` (the activities' `serviceUrl`):
  `POST /v3/conversations/{id}/activities[/{replyToId}]` records what the bot
  sends, `POST /v3/conversations` opens a 1:1 chat, `GET
  /v3/conversations/{id}/members/{member}` answers from a roster;
- the channel's identity provider: OpenID metadata at `openid_url`, a JWKS with
  our own RSA key (endorsed for msteams), and `sign()` to issue inbound tokens;
- the bot's token endpoint (`/{tenant}/oauth2/v2.0/token` under `url`).

Sends are checked as Teams checks attachments: a file attachment other than an
image (`contentUrl` with any other type) is refused with 400 "Unknown attachment
type", and so is a file consent card outside a personal chat; `refused` keeps them.
A OneDrive upload session (`PUT /onedrive/{name}`, `upload_url()`) keeps what the
bot uploads in `uploaded`, and `file_consent()` builds the invoke Teams sends when a
person answers a file consent card.

`storm([429, 429, 502, …])` makes the next sends fail with those statuses, in
order; `keys_available = False` makes the key endpoint fail. Activities shaped
as Teams sends them come from `message()`, `submit()` and `installed()`.

Reusable: a Slack–Teams test needs only `BotConnector`, `TeamsUser` and `post()`.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

APP_ID = "00000000-0000-0000-0000-00000000b07a"
BOT_ID = f"28:{APP_ID}"
TENANT = "72f988bf-0000-4000-8000-00000000acme"
ISSUER = "https://api.botframework.com"
ISSUED_TOKEN = "bot-token-from-the-double"


@dataclass(frozen=True)
class TeamsUser:
    """A Teams account: Bot Framework id (29:…), Azure AD object id, name, e-mail."""

    name: str
    aad: str = field(default_factory=lambda: str(uuid.uuid4()))
    email: str | None = None

    @property
    def id(self) -> str:
        return f"29:1{self.aad.replace('-', '')[:20]}"

    @property
    def personal_chat(self) -> str:
        return f"a:1personal-{self.aad}"

    def account(self, *, with_aad: bool = True) -> dict[str, Any]:
        account = {"id": self.id, "name": self.name}
        if with_aad:
            account["aadObjectId"] = self.aad
        return account


@dataclass
class Sent:
    """One activity the bot sent and the double accepted."""

    conversation: str
    activity: dict[str, Any]
    authorization: str | None

    @property
    def text(self) -> str:
        """The words a person would read: the text, or the card's fallback text."""
        if self.activity.get("text"):
            return str(self.activity["text"])
        for attachment in self.activity.get("attachments") or ():
            content = attachment.get("content") or {}
            if content.get("fallbackText"):
                return str(content["fallbackText"])
        return ""

    @property
    def attachments(self) -> list[dict[str, Any]]:
        return list(self.activity.get("attachments") or ())

    def of_type(self, content_type: str) -> list[dict[str, Any]]:
        return [a for a in self.attachments if a.get("contentType") == content_type]

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.activity.get("attachments") or ():
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return dict(attachment["content"])
        return None

    def submit_data(self, title: str) -> dict[str, Any]:
        """The data of the card's Action.Submit with this title (what Teams posts back)."""
        card = self.card or {}

        def walk(node: Any) -> Any:
            if isinstance(node, dict):
                if node.get("type") == "Action.Submit" and node.get("title") == title:
                    return node.get("data") or {}
                for value in node.values():
                    found = walk(value)
                    if found is not None:
                        return found
            elif isinstance(node, list):
                for item in node:
                    found = walk(item)
                    if found is not None:
                        return found
            return None

        data = walk(card)
        if data is None:
            raise AssertionError(f"no button {title!r} on the card")
        return dict(data)


KNOWN_CARDS = frozenset(
    {
        "application/vnd.microsoft.card.adaptive",
        "application/vnd.microsoft.card.hero",
        "application/vnd.microsoft.card.thumbnail",
        "application/vnd.microsoft.teams.card.file.consent",
        "application/vnd.microsoft.teams.card.file.info",
    }
)


def _refusal(conversation: str, activity: dict[str, Any]) -> str:
    """Why Teams would refuse the activity's attachments ("" when it would not)."""
    for attachment in activity.get("attachments") or ():
        kind = str(attachment.get("contentType") or "")
        if (
            kind == "application/vnd.microsoft.teams.card.file.consent"
            and not conversation.startswith("a:")
        ):
            return "File consent cards are only supported in personal chats"
        if kind not in KNOWN_CARDS and not kind.startswith("image/"):
            return "Unknown attachment type"
    return ""


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class BotConnector:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "double-key-1"
        self.sent: list[Sent] = []
        self.refused: list[tuple[dict[str, Any], str]] = []  # (activity, why)
        self.uploaded: dict[str, bytes] = {}  # OneDrive file name → bytes
        self.created: list[dict[str, Any]] = []
        self.attempts = 0
        self.members: dict[str, dict[str, Any]] = {}
        self.keys_available = True
        self.key_fetches = 0
        self.tokens_issued = 0
        self._storm: deque[tuple[int, float | None]] = deque()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create_conversation)
        app.router.add_post("/v3/conversations/{cid}/activities", self._send)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._send)
        app.router.add_get("/v3/conversations/{cid}/members/{mid}", self._member)
        app.router.add_put("/onedrive/{name}", self._onedrive)
        app.router.add_get("/openid/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/openid/keys", self._keys)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def openid_url(self) -> str:
        return f"{self.url}/openid/.well-known/openidconfiguration"

    def env(self, app_id: str = APP_ID) -> dict[str, str]:
        """The environment that points a bot with app id at this double."""
        return {
            "MICROSOFT_APP_ID": app_id,
            "MICROSOFT_APP_PASSWORD": "secret",
            "MICROSOFT_APP_TENANT_ID": TENANT,
            "MICROSOFT_OPENID_METADATA_URL": self.openid_url,
            "MICROSOFT_LOGIN_URL": self.url,
        }

    # -- test controls ---------------------------------------------------------------------

    def add_member(self, user: TeamsUser) -> None:
        """Put the user in the roster (the only place their e-mail is given)."""
        self.members[user.id] = {
            "id": user.id,
            "name": user.name,
            "aadObjectId": user.aad,
            "email": user.email,
            "userPrincipalName": user.email,
            "tenantId": TENANT,
        }

    def storm(self, statuses: list[int], retry_after: float | None = None) -> None:
        """The next len(statuses) sends answer these statuses, in order; a 2xx among them
        lets that send through."""
        self._storm.extend((s, retry_after) for s in statuses)

    def sent_to(self, conversation: str) -> list[Sent]:
        return [s for s in self.sent if s.conversation == conversation]

    def sign(self, claims: dict[str, Any] | None = None, *, key: Any = None, kid: str = "") -> str:
        """A token as the channel issues it: for APP_ID, from ISSUER, valid for an hour."""
        now = int(time.time())
        body = {"iss": ISSUER, "aud": APP_ID, "nbf": now - 10, "exp": now + 3600}
        body["serviceurl"] = self.url
        body.update(claims or {})
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(
            body, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid}
        )

    # -- endpoints -------------------------------------------------------------------------

    async def _send(self, request: web.Request) -> web.Response:
        self.attempts += 1
        status, retry_after = self._storm.popleft() if self._storm else (200, None)
        if status >= 300:
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            return web.json_response(
                {"error": {"code": "Throttled", "message": "slow down"}},
                status=status,
                headers=headers,
            )
        activity = await request.json()
        why = _refusal(request.match_info["cid"], activity)
        if why:
            self.refused.append((activity, why))
            return web.json_response({"error": {"code": "BadArgument", "message": why}}, status=400)
        self.sent.append(
            Sent(request.match_info["cid"], activity, request.headers.get("Authorization"))
        )
        return web.json_response({"id": f"sent-{next(self._ids)}"})

    def upload_url(self, name: str) -> str:
        return f"{self.url}/onedrive/{name}"

    async def _onedrive(self, request: web.Request) -> web.Response:
        """An upload session as OneDrive takes it: the whole file in one Content-Range."""
        body = await request.read()
        expected = f"bytes 0-{len(body) - 1}/{len(body)}"
        if request.headers.get("Content-Range") != expected:
            return web.json_response({"error": {"code": "invalidRange"}}, status=400)
        name = request.match_info["name"]
        self.uploaded[name] = body
        return web.json_response(
            {"id": f"item-{name}", "name": name, "size": len(body)}, status=201
        )

    async def _create_conversation(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("isGroup"):
            return await self._post_to_channel(request, body)
        self.created.append(body)
        member = (body.get("members") or [{}])[0].get("id", "")
        user = self.members.get(member)
        chat = f"a:1personal-{user['aadObjectId']}" if user else f"a:1personal-{member}"
        return web.json_response({"id": chat, "activityId": f"created-{next(self._ids)}"})

    async def _post_to_channel(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        """A new thread in a channel, its first message in `activity` (a send: storms and
        attachment checks apply). Teams needs the channel and tenant in channelData."""
        self.attempts += 1
        status, retry_after = self._storm.popleft() if self._storm else (200, None)
        if status >= 300:
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            return web.json_response(
                {"error": {"code": "Throttled", "message": "slow down"}},
                status=status,
                headers=headers,
            )
        data = body.get("channelData") or {}
        channel = str((data.get("channel") or {}).get("id") or "")
        tenant = str((data.get("tenant") or {}).get("id") or "")
        activity = body.get("activity")
        if not channel or not tenant or not isinstance(activity, dict):
            return web.json_response(
                {"error": {"code": "BadArgument", "message": "channel, tenant and activity"}},
                status=400,
            )
        why = _refusal(channel, activity)
        if why:
            self.refused.append((activity, why))
            return web.json_response({"error": {"code": "BadArgument", "message": why}}, status=400)
        self.created.append(body)
        self.sent.append(Sent(channel, activity, request.headers.get("Authorization")))
        thread = f"{channel};messageid={next(self._ids)}"
        return web.json_response({"id": thread, "activityId": f"sent-{next(self._ids)}"})

    async def _member(self, request: web.Request) -> web.Response:
        member = self.members.get(request.match_info["mid"])
        if member is None:
            return web.json_response(
                {"error": {"code": "MemberNotFoundInConversation", "message": "no"}}, status=404
            )
        return web.json_response(member)

    async def _metadata(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": ISSUER,
                "jwks_uri": f"{self.url}/openid/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        self.key_fetches += 1
        if not self.keys_available:
            return web.Response(status=503, text="unavailable")
        public = self.key.public_key().public_numbers()
        jwk = {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "n": _b64(public.n),
            "e": _b64(public.e),
            "endorsements": ["msteams", "emulator"],
        }
        return web.json_response({"keys": [jwk]})

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "client_credentials" or form.get("client_secret") != "secret":
            return web.json_response({"error": "invalid_client"}, status=401)
        self.tokens_issued += 1
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3600, "access_token": ISSUED_TOKEN}
        )


# -- activities shaped as Teams sends them -------------------------------------------------

_activity_ids = itertools.count(1_732_530_000_000)


def _base(service_url: str, user: TeamsUser, conversation: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "message",
        "id": str(next(_activity_ids)),
        "timestamp": "2026-11-23T09:00:00.000Z",
        "localTimestamp": "2026-11-23T10:00:00.000+01:00",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": user.account(),
        "conversation": conversation,
        "recipient": {"id": BOT_ID, "name": "Mentor"},
        "entities": [
            {
                "type": "clientInfo",
                "locale": "en-US",
                "country": "US",
                "platform": "Web",
                "timezone": "Europe/Berlin",
            }
        ],
        "channelData": {"tenant": {"id": TENANT}},
        "locale": "en-US",
        "localTimezone": "Europe/Berlin",
    }


def personal(user: TeamsUser) -> dict[str, Any]:
    return {"conversationType": "personal", "tenantId": TENANT, "id": user.personal_chat}


CHANNEL_ID = "19:general0000000000@thread.tacv2"
TEAM_ID = "19:team00000000000000@thread.tacv2"


def message(
    service_url: str,
    user: TeamsUser,
    text: str,
    *,
    channel: bool = False,
    mention: list[TeamsUser] | None = None,
) -> dict[str, Any]:
    """A message in the user's 1:1 chat, or in a team channel with the bot @mentioned."""
    if not channel:
        activity = _base(service_url, user, personal(user))
        activity.update(text=text, textFormat="plain")
        for other in mention or ():
            activity["entities"].append(
                {
                    "type": "mention",
                    "text": f"<at>{other.name}</at>",
                    "mentioned": {"id": other.id, "name": other.name},
                }
            )
        return activity
    conversation = {
        "isGroup": True,
        "conversationType": "channel",
        "tenantId": TENANT,
        "id": f"{CHANNEL_ID};messageid=1732530000000",
    }
    activity = _base(service_url, user, conversation)
    activity["text"] = f"<at>Mentor</at> {text}"
    activity["textFormat"] = "plain"
    activity["entities"].append(
        {
            "type": "mention",
            "text": "<at>Mentor</at>",
            "mentioned": {"id": BOT_ID, "name": "Mentor"},
        }
    )
    for other in mention or ():
        activity["entities"].append(
            {
                "type": "mention",
                "text": f"<at>{other.name}</at>",
                "mentioned": {"id": other.id, "name": other.name},
            }
        )
    activity["channelData"] = {
        "teamsChannelId": CHANNEL_ID,
        "teamsTeamId": TEAM_ID,
        "channel": {"id": CHANNEL_ID},
        "team": {"id": TEAM_ID},
        "tenant": {"id": TENANT},
    }
    return activity


def submit(service_url: str, user: TeamsUser, data: dict[str, Any]) -> dict[str, Any]:
    """What Teams posts when the user presses an Action.Submit: the data plus the inputs."""
    activity = _base(service_url, user, personal(user))
    activity["value"] = data
    activity["replyToId"] = "1732530000000"
    activity["channelData"] = {"tenant": {"id": TENANT}, "source": {"name": "message"}}
    return activity


def file_consent(
    service_url: str,
    user: TeamsUser,
    consent_card: dict[str, Any],
    *,
    accept: bool = True,
    upload_url: str = "",
) -> dict[str, Any]:
    """The invoke Teams posts when the user presses Allow (or Decline) on a file consent
    card: the card's accept (or decline) context comes back, with an upload session."""
    activity = _base(service_url, user, personal(user))
    content = consent_card["content"]
    name = str(consent_card.get("name") or "file")
    value: dict[str, Any] = {
        "type": "fileUpload",
        "action": "accept" if accept else "decline",
        "context": content["acceptContext" if accept else "declineContext"],
    }
    if accept:
        value["uploadInfo"] = {
            "contentUrl": f"https://acme-my.sharepoint.com/personal/me/Documents/Applications/{name}",
            "fileType": name.rsplit(".", 1)[-1],
            "name": name,
            "uploadUrl": upload_url,
            "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C8C",
        }
    activity.update(type="invoke", name="fileConsent/invoke", value=value, replyToId="sent-1")
    activity.pop("text", None)
    return activity


def installed(service_url: str, user: TeamsUser) -> dict[str, Any]:
    """installationUpdate: the user added the app for themselves."""
    activity = _base(service_url, user, personal(user))
    activity.update(type="installationUpdate", action="add")
    return activity


def added_to_chat(service_url: str, user: TeamsUser) -> dict[str, Any]:
    """conversationUpdate: the bot joined the user's 1:1 chat."""
    activity = _base(service_url, user, personal(user))
    activity.update(type="conversationUpdate", membersAdded=[{"id": BOT_ID}])
    return activity


async def post(
    session: aiohttp.ClientSession, bot_url: str, activity: dict[str, Any], token: str | None = None
) -> int:
    """POST the activity to the bot's /api/messages; returns the HTTP status."""
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with session.post(
        f"{bot_url}/api/messages", data=json.dumps(activity), headers=headers
    ) as response:
        await response.read()
        return response.status


def added_to_team(service_url: str, user: TeamsUser) -> dict[str, Any]:
    """conversationUpdate: the user added the app to a team (posted in its General
    channel, whose id is the team's; channelData names the team, not a channel)."""
    conversation = {
        "isGroup": True,
        "conversationType": "channel",
        "tenantId": TENANT,
        "id": TEAM_ID,
    }
    activity = _base(service_url, user, conversation)
    activity.update(type="conversationUpdate", membersAdded=[{"id": BOT_ID}])
    activity["channelData"] = {
        "team": {"id": TEAM_ID, "name": "People team", "aadGroupId": str(uuid.uuid4())},
        "eventType": "teamMemberAdded",
        "tenant": {"id": TENANT},
    }
    return activity
