"""The web chat: a page at `/`, a JSON API for commands and actions, and an event
stream (Server-Sent Events) that carries proactive messages without a reload.

It trusts whoever types a user name: for local development and pilots only,
which is why bot/ serves it only when no platform is configured.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime
from importlib import resources

from aiohttp import web

from adapters.local.hub import LocalHub, write_to
from adapters.local.translate import BadRequest, to_actor, to_event
from conversations import chat_history
from conversations.engine import Engine
from conversations.messages import Message, to_dict

log = logging.getLogger(__name__)
STATIC = resources.files("adapters.local") / "static"
KEEPALIVE_SECONDS = 15.0


MAX_ECHO = 200


def said_of(body: dict[str, object]) -> str:
    """What the person's side of the chat shows for this request: the typed text, or the
    label of the button or form they used (the page sends it as `echo`)."""
    echo = body.get("echo")
    if isinstance(echo, str) and echo.strip():
        return echo[:MAX_ECHO]
    text = body.get("text")
    return text if isinstance(text, str) else ""


class LocalChat:
    def __init__(self, engine: Engine, hub: LocalHub, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.hub = hub
        self.clock = clock
        hub.on_delivered = self.remember_delivered

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self.page),
            web.get("/static/{name}", self.static),
            web.post("/local/api/messages", self.post_message),
            web.get("/local/api/stream", self.stream),
            web.get("/local/api/history", self.history),
        ]

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(text=(STATIC / "index.html").read_text(), content_type="text/html")

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        types = {".js": "application/javascript", ".css": "text/css"}
        kind = next((t for ext, t in types.items() if name.endswith(ext)), None)
        file = STATIC / name
        if kind is None or "/" in name or not file.is_file():
            raise web.HTTPNotFound()
        return web.Response(text=file.read_text(), content_type=kind)

    async def post_message(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"error": "Send a JSON object."}, status=400)
        try:
            event = to_event(body)
        except BadRequest as err:
            return web.json_response({"error": str(err)}, status=400)
        replies = await self.engine.handle(event, self.clock())
        if replies:  # none: a repeated event, already in the history
            await chat_history.remember(
                self.engine.db, event.actor.user_id, said_of(body), replies, self.clock()
            )
        return web.json_response({"replies": [to_dict(m) for m in replies]})

    async def history(self, request: web.Request) -> web.Response:
        """The person's last lines, oldest first, for the page to show on load."""
        try:
            actor = to_actor(request.query.get("user"))
        except BadRequest as err:
            return web.json_response({"error": str(err)}, status=400)
        lines = await chat_history.recent(self.engine.db, actor.user_id)
        return web.json_response({"lines": lines})

    async def remember_delivered(self, user_id: str, message: Message) -> None:
        await chat_history.remember(self.engine.db, user_id, None, [message], self.clock())

    async def stream(self, request: web.Request) -> web.StreamResponse:
        try:
            actor = to_actor(request.query.get("user"))
        except BadRequest as err:
            return web.json_response({"error": str(err)}, status=400)
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        queue = self.hub.subscribe(actor.user_id)
        try:
            await response.write(b": connected\n\n")
            while True:
                try:
                    delivery = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    await response.write(b": keepalive\n\n")
                    continue
                if delivery is None:
                    break
                data = json.dumps(delivery.payload, ensure_ascii=False)
                frame = f"event: message\ndata: {data}\n\n".encode()
                await write_to(delivery, response.write(frame))
        except ConnectionResetError:
            log.debug("web chat stream for %s closed by the browser", actor.user_id)
        finally:
            self.hub.unsubscribe(actor.user_id, queue)
        return response
