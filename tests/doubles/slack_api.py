"""A local double of the Slack Web API, plus signed requests shaped as Slack sends them.

`SlackApi` is an aiohttp server on 127.0.0.1 (random port) that answers the
Web API methods the bot uses, records every call, and can be told to fail:
HTTP 429 with Retry-After, HTTP 500, or `{"ok": false, "error": …}`. It also
serves `response_url`s (`/respond/<id>`), recorded like any call, and the
files.uploadV2 flow: files.getUploadURLExternal hands out an upload URL
(`/upload/<file id>`, whose POSTed bytes are kept; fail it as method "upload"),
and files.completeUploadExternal shares the file into `channel_id` (`uploads()`).
Point SLACK_API_URL at `api.url`.

The request builders (`slash_command`, `block_actions`, `view_submission`,
`event_callback`) build bodies exactly as Slack documents them, and `sign`
adds the `X-Slack-Signature` / `X-Slack-Request-Timestamp` headers
(v0 HMAC-SHA256 of `v0:{timestamp}:{body}`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TEAM_ID = "T0001"
# Where a response_url points when a test gives none: loopback's discard port, so a stray
# answer fails fast on this machine and never leaves it. Pass `api.response_url()` to see it.
NOWHERE = "http://127.0.0.1:9/respond/none"
BOT_USER = "UBOT"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    status: int = 200  # the HTTP status the double answered
    error: str | None = None  # the `error` of an `ok: false` answer

    def blocks(self) -> list[dict[str, Any]]:
        raw = self.params.get("blocks") or []
        return json.loads(raw) if isinstance(raw, str) else list(raw)

    def view(self) -> dict[str, Any]:
        raw = self.params.get("view") or {}
        return json.loads(raw) if isinstance(raw, str) else dict(raw)


@dataclass
class Upload:
    """A file that went through the whole files.uploadV2 flow."""

    file_id: str
    filename: str
    title: str
    channel: str
    content: bytes


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: float | None = None
    times: int = 1


@dataclass
class SlackApi:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    url: str = ""
    _failures: dict[str, list[Failure]] = field(default_factory=dict)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    _pending_files: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → name, bytes
    _uploads: list[Upload] = field(default_factory=list)
    _socket: web.WebSocketResponse | None = None
    _socket_open: asyncio.Event = field(default_factory=asyncio.Event)
    _socket_acked: asyncio.Event = field(default_factory=asyncio.Event)

    # -- scripting ------------------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: float | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` fail this way (then it answers normally)."""
        self._failures.setdefault(method, []).append(Failure(status, error, retry_after, times))

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        tz: str | None = "Europe/Berlin",
        email: str | None = None,
    ) -> None:
        self.users[user_id] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name.lower(),
            "real_name": name,
            "tz": tz,
            "profile": {"display_name": name, "real_name": name, "email": email},
        }

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def delivered(self, method: str = "chat.postMessage") -> list[Call]:
        """Calls of `method` that the double answered with success."""
        return [c for c in self.called(method) if c.status == 200 and c.error is None]

    def posted_texts(self) -> list[str]:
        return [str(c.params.get("text", "")) for c in self.delivered()]

    def uploads(self) -> list[Upload]:
        """Files completed into a channel, in order."""
        return list(self._uploads)

    def response_url(self, name: str = "r1") -> str:
        return f"{self.url}respond/{name}"

    # -- the server -----------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        body = await request.read()
        if not body:
            return params
        if request.content_type == "application/json":
            params.update(json.loads(body))
        else:
            params.update(dict(urllib.parse.parse_qsl(body.decode())))
        return params

    def _failure(self, method: str) -> Failure | None:
        queue = self._failures.get(method) or []
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        call = Call(method, params, dict(request.headers))
        self.calls.append(call)
        failure = self._failure(method)
        if failure is not None:
            call.status, call.error = failure.status, failure.error
            headers = {}
            if failure.retry_after is not None:
                headers["Retry-After"] = str(int(failure.retry_after))
            if failure.status == 429:  # Slack's own shape for a rate limit
                body = {"ok": False, "error": "ratelimited"}
                return web.json_response(body, status=429, headers=headers)
            if failure.status != 200:
                return web.Response(status=failure.status, text="failure", headers=headers)
            return web.json_response({"ok": False, "error": failure.error}, headers=headers)
        return web.json_response(self.answer(method, params))

    def answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://acme.slack.com/",
                "team": "Acme",
                "user": "mentorbot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER,
                "bot_id": "B0BOT",
            }
        if method == "users.info":
            user_id = str(params.get("user", ""))
            user = self.users.get(user_id)
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": user}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(params.get("users", ""))}}
        if method == "chat.postMessage":
            return {"ok": True, "channel": params.get("channel"), "ts": f"{next(self._ts)}.0001"}
        if method == "apps.connections.open":
            return {"ok": True, "url": "ws" + self.url.removeprefix("http") + "socket"}
        if method in ("views.open", "views.publish", "views.update", "views.push"):
            return {"ok": True, "view": {"id": f"V{next(self._ts)}"}}
        if method == "files.getUploadURLExternal":
            if not params.get("filename") or not str(params.get("length", "")).isdigit():
                return {"ok": False, "error": "invalid_arguments"}
            file_id = f"F{next(self._ts):06d}"
            self._pending_files[file_id] = {
                "filename": str(params["filename"]),
                "length": int(params["length"]),
                "content": None,
            }
            return {"ok": True, "upload_url": f"{self.url}upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            return self._complete(params)
        return {"ok": True}

    def _complete(self, params: dict[str, Any]) -> dict[str, Any]:
        """Slack's checks: every file was uploaded with the announced length; a channel."""
        files = json.loads(str(params.get("files") or "[]"))
        channel = str(params.get("channel_id") or "")
        done: list[dict[str, Any]] = []
        for item in files:
            pending = self._pending_files.get(str(item.get("id")))
            if pending is None or pending["content"] is None:
                return {"ok": False, "error": "file_not_found"}
            if len(pending["content"]) != pending["length"]:
                return {"ok": False, "error": "file_upload_size_mismatch"}
            done.append({"id": item["id"], "name": pending["filename"]})
        for item in files:
            pending = self._pending_files.pop(str(item["id"]))
            if channel:
                title = str(item.get("title") or pending["filename"])
                upload = Upload(item["id"], pending["filename"], title, channel, pending["content"])
                self._uploads.append(upload)
        return {"ok": True, "files": done}

    async def upload(self, request: web.Request) -> web.Response:
        """The upload URL: Slack takes the raw bytes (or a multipart `file` part)."""
        file_id = request.match_info["file_id"]
        body = await request.read()
        self.calls.append(Call("upload", {"file_id": file_id}, dict(request.headers)))
        failure = self._failure("upload")
        if failure is not None:
            self.calls[-1].status = failure.status if failure.status != 200 else 500
            return web.Response(status=self.calls[-1].status, text="upload failed")
        pending = self._pending_files.get(file_id)
        if pending is None:
            return web.Response(status=404, text="no such upload")
        pending["content"] = body
        return web.Response(text=f"OK - {len(body)}")

    async def respond(self, request: web.Request) -> web.Response:
        params = await self._params(request)
        self.calls.append(Call("response_url", params, dict(request.headers)))
        failure = self._failure("response_url")
        if failure is not None:
            return web.Response(status=failure.status if failure.status != 200 else 404)
        return web.Response(text="ok")

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: Slack's WebSocket end; envelopes go out, acks come back."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._socket = ws
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {}})
        self._socket_open.set()
        async for frame in ws:
            if frame.type == web.WSMsgType.TEXT:
                self.socket_acks.append(json.loads(frame.data))
                self._socket_acked.set()
        return ws

    async def socket_request(
        self, kind: str, payload: dict[str, Any], envelope_id: str
    ) -> dict[str, Any]:
        """Send one Socket Mode envelope (e.g. kind `slash_commands`) and return its ack."""
        await asyncio.wait_for(self._socket_open.wait(), 10)
        assert self._socket is not None
        await self._socket.send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": True,
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        while True:
            found = [a for a in self.socket_acks if a.get("envelope_id") == envelope_id]
            if found:
                return found[0]
            self._socket_acked.clear()
            await asyncio.wait_for(self._socket_acked.wait(), 10)

    @asynccontextmanager
    async def serve(self) -> AsyncIterator[SlackApi]:
        app = web.Application()
        app.router.add_post("/api/{method}", self.api)
        app.router.add_get("/api/{method}", self.api)
        app.router.add_post("/respond/{name}", self.respond)
        app.router.add_post("/upload/{file_id}", self.upload)
        app.router.add_get("/socket", self.socket)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/"
        try:
            yield self
        finally:
            if self._socket is not None:
                await self._socket.close()
            await runner.cleanup()


# -- requests as Slack sends them ---------------------------------------------------------


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's request signing: v0=HMAC-SHA256(secret, "v0:{ts}:{body}")."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@dataclass(frozen=True)
class Signed:
    body: str
    headers: dict[str, str]


def _form(fields: dict[str, str], secret: str, timestamp: int | None) -> Signed:
    body = urllib.parse.urlencode(fields)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(secret, body, timestamp)}
    return Signed(body, headers)


def slash_command(
    secret: str,
    text: str,
    *,
    user_id: str = "U1",
    user_name: str = "alice",
    command: str = "/mentor",
    response_url: str = "",
    trigger_id: str = "13345224609.738474920.8088930838d88f008e0",
    channel_id: str = "C0GENERAL",
    timestamp: int | None = None,
) -> Signed:
    """A slash command, form-encoded as Slack posts it."""
    fields = {
        "token": "gIkuvaNzQIHg97ATvDxqgjtO",
        "team_id": TEAM_ID,
        "team_domain": "acme",
        "channel_id": channel_id,
        "channel_name": "general",
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": "A0MENTOR",
        "is_enterprise_install": "false",
        "response_url": response_url or NOWHERE,
        "trigger_id": trigger_id,
    }
    return _form(fields, secret, timestamp)


def _user(user_id: str, user_name: str) -> dict[str, str]:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM_ID}


def block_actions(
    secret: str,
    action_id: str,
    value: str,
    *,
    user_id: str = "U1",
    user_name: str = "alice",
    response_url: str | None = None,
    trigger_id: str = "12466734323.1395872398.4f4a3b",
    view: dict[str, Any] | None = None,
    timestamp: int | None = None,
) -> Signed:
    """A button click: `payload=` JSON, form-encoded. With `view`, the click was in a view
    (App Home or a modal) and there is no response_url."""
    action = {
        "action_id": action_id,
        "block_id": "b1",
        "text": {"type": "plain_text", "text": "button", "emoji": True},
        "value": value,
        "type": "button",
        "action_ts": "1548426417.840180",
    }
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "acme"},
        "user": _user(user_id, user_name),
        "api_app_id": "A0MENTOR",
        "token": "9s8d9as89d8as9d8as989",
        "trigger_id": trigger_id,
        "actions": [action],
    }
    if view is None:
        payload["container"] = {
            "type": "message",
            "message_ts": "1548261231.000200",
            "channel_id": "D0U1",
            "is_ephemeral": True,
        }
        payload["channel"] = {"id": "D0U1", "name": "directmessage"}
        payload["response_url"] = response_url or NOWHERE
    else:
        payload["container"] = {"type": "view", "view_id": view.get("id", "V1")}
        payload["view"] = view
    return _form({"payload": json.dumps(payload)}, secret, timestamp)


def view_submission(
    secret: str,
    view: dict[str, Any],
    values: dict[str, str],
    *,
    user_id: str = "U1",
    user_name: str = "alice",
    timestamp: int | None = None,
) -> Signed:
    """A modal submitted: `view` is the modal the bot opened, `values` what was typed
    (by block id); each input answers in the shape its element type has."""
    state: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        typed = values.get(block["block_id"], "")
        kind = element["type"]
        if kind == "plain_text_input":
            answer: dict[str, Any] = {"type": kind, "value": typed or None}
        elif kind == "static_select":
            answer = {"type": kind, "selected_option": {"value": typed} if typed else None}
        elif kind == "multi_static_select":
            answer = {"type": kind, "selected_options": [{"value": v} for v in typed.split(",")]}
        elif kind == "datepicker":
            answer = {"type": kind, "selected_date": typed or None}
        else:
            answer = {"type": kind, "selected_time": typed or None}
        state[block["block_id"]] = {element["action_id"]: answer}
    submitted = {
        "id": "V0MODAL",
        "team_id": TEAM_ID,
        "type": "modal",
        "blocks": view.get("blocks", []),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "state": {"values": state},
        "hash": "156663117.cd33ad1f",
        "title": view.get("title"),
    }
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "acme"},
        "user": _user(user_id, user_name),
        "api_app_id": "A0MENTOR",
        "token": "9s8d9as89d8as9d8as989",
        "trigger_id": "12466734323.1395872398.4f4a3b",
        "view": submitted,
        "response_urls": [],
    }
    return _form({"payload": json.dumps(payload)}, secret, timestamp)


def event_callback(
    secret: str,
    event: dict[str, Any],
    *,
    event_id: str = "Ev0001",
    timestamp: int | None = None,
) -> Signed:
    """An Events API envelope (JSON), e.g. app_home_opened or message.im."""
    envelope = {
        "token": "XXYYZZ",
        "team_id": TEAM_ID,
        "api_app_id": "A0MENTOR",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1700000000,
        "authorizations": [
            {
                "team_id": TEAM_ID,
                "user_id": BOT_USER,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
    }
    body = json.dumps(envelope)
    return Signed(body, {"Content-Type": "application/json", **sign(secret, body, timestamp)})


def app_home_opened(secret: str, user_id: str = "U1", *, event_id: str = "Ev0001") -> Signed:
    event = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": "D0" + user_id,
        "tab": "home",
        "event_ts": "1700000000.000100",
    }
    return event_callback(secret, event, event_id=event_id)


def direct_message(
    secret: str, text: str, user_id: str = "U1", *, event_id: str = "Ev0002"
) -> Signed:
    event = {
        "type": "message",
        "channel": "D0" + user_id,
        "user": user_id,
        "text": text,
        "ts": "1700000000.000200",
        "channel_type": "im",
        "event_ts": "1700000000.000200",
    }
    return event_callback(secret, event, event_id=event_id)
