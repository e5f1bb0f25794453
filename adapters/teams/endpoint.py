"""`POST /api/messages`: Teams activities in, engine replies out through the connector.

The request's token is checked first (auth.py): 401 for a missing or bad one,
503 while the signing keys cannot be fetched, and the activity is never handed
to the bot in either case. A message becomes a neutral event (translate.py),
its sender's e-mail and mentioned people's ids come from the roster, and the
engine's replies go back as text or Adaptive Cards (a reply the connector will
not take, even after brief retries, waits in the outbox). Installing the bot
(`installationUpdate`, `conversationUpdate`) records where the person can be
reached, so messages queued for them go out. A reply's files are offered (stored for
the person) and go beside its card as file consent cards in a personal chat (files.py);
the `fileConsent/invoke` that answers one uploads the file, if it was offered to the
person answering, and shows it. Nothing here answers 500.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity

from adapters.loopback import is_loopback_url
from adapters.teams.auth import AuthError
from adapters.teams.connector import BotAuthentication
from adapters.teams.files import (
    CONSENT_INVOKE,
    Account,
    NotAConsent,
    declined_text,
    file_info_activity,
    gone_text,
    not_yours_text,
    read_consent,
    upload,
    upload_failed_text,
)
from adapters.teams.gate import Refused, admit, well_formed
from adapters.teams.render_adaptive_card import to_activity
from adapters.teams.roster import Roster
from adapters.teams.sender import TeamsSender, classify
from adapters.teams.translate import (
    NotForUs,
    is_personal,
    mentions,
    to_actor,
    to_event,
    to_reference,
)
from conversations import reach
from conversations.engine import Engine
from conversations.events import Actor, InboundEvent
from conversations.messages import Message

log = logging.getLogger(__name__)
# msrest warns about every channelData field botbuilder's models do not list (teamsTeamId…).
logging.getLogger("msrest.serialization").setLevel(logging.ERROR)

Reachable = Callable[[str, str, str], None]
MAX_BODY = 256 * 1024


class TeamsEndpoint:
    def __init__(
        self,
        engine: Engine,
        adapter: CloudAdapter,
        auth: BotAuthentication,
        sender: TeamsSender,
        clock: Callable[[], datetime],
        on_reachable: Reachable | None = None,
    ) -> None:
        self.engine = engine
        self.adapter = adapter
        self.auth = auth
        self.sender = sender
        self.clock = clock
        self.on_reachable = on_reachable
        self.roster = Roster()
        self._reachable_seen: set[tuple[str, str]] = set()

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/api/messages", self.post)]

    async def post(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.json_response({"error": "activity too large"}, status=413)
        try:
            body = await request.json()
            if not isinstance(body, dict) or not well_formed(body):
                raise ValueError("not an activity")
            activity = Activity().deserialize(body)
        except Exception:  # bad UTF-8, bad JSON, nested too deep, not an activity: all 400
            return web.json_response({"error": "send a Bot Framework activity"}, status=400)
        try:
            result = await self.auth.authenticate(
                activity, request.headers.get("Authorization", "")
            )
        except AuthError as err:
            log.info("refused a Teams request (%d): %s", err.status, err.reason)
            if err.status == 503:
                error, headers = "try again later", {"Retry-After": "30"}
            else:
                error, headers = "unauthorized", None
            return web.json_response({"error": error}, status=err.status, headers=headers)
        try:
            admit(self.auth.settings, body)
        except Refused as err:
            log.info("refused a Teams request (403): %s", err.reason)
            return web.json_response({"error": "forbidden"}, status=403)
        if activity.type == "invoke" and activity.name != CONSENT_INVOKE:
            return web.json_response({}, status=200)  # no other invoke-based features (yet)
        try:
            await self.adapter.process_activity(
                result, activity, lambda context: self.on_turn(context, body)
            )
        except Exception:
            # Not expected: the engine apologises rather than raise, and replies Teams will
            # not take are queued. Whatever it was is logged; Teams gets no 500 to retry on.
            log.exception("a Teams %s activity could not be handled", activity.type)
        return web.json_response({}, status=200)

    async def on_turn(self, context: TurnContext, body: dict[str, Any]) -> None:
        kind = body.get("type")
        if kind == "message":
            await self._message(context, body)
        elif kind in ("conversationUpdate", "installationUpdate"):
            await self._installed(context, body)
        elif kind == "invoke":
            await self._file_consent(context, body)

    async def _file_consent(self, context: TurnContext, body: dict[str, Any]) -> None:
        """The person answered a file consent card. On Allow, the file offered under the
        card's token, if it was offered to them, is uploaded to the URL Teams opened in
        their OneDrive, shown in the chat and deleted here; on Decline it is deleted."""
        try:
            consent = read_consent(body)
            actor = to_actor(await self._with_aad(context, body))
        except (NotAConsent, NotForUs) as err:
            log.info("ignoring a file consent invoke: %s", err)
            return
        offers = self.sender.offers
        if offers is None:
            return
        account: Account = (actor.platform, actor.tenant, actor.user_id)
        if not consent.accepted:
            await offers.discard([consent.token], account)
            await self._say(context, declined_text(consent.filename))
            return
        offered = await offers.claim(account, consent.token, self.clock())
        if offered.file is None:
            if offered.status == "not-yours":
                log.warning("a file consent answer came from someone the file was not for")
                await self._say(context, not_yours_text(consent.filename))
            else:
                await self._say(context, gone_text(consent.filename))
            return
        try:
            if not self.auth.settings.authenticated and not is_loopback_url(consent.upload_url):
                raise ValueError("without an app id files go only to a loopback upload URL")
            await upload(consent.upload_url, offered.file)
        except Exception as err:  # OneDrive refused or was unreachable: say so, keep going
            log.warning("uploading %s to OneDrive failed: %s", consent.filename, err)
            await self._say(context, upload_failed_text(consent.filename))
            return
        await offers.discard([consent.token], account)
        await context.send_activity(Activity().deserialize(file_info_activity(consent)))

    async def _say(self, context: TurnContext, text: str) -> None:
        await context.send_activity(Activity(type="message", text=text))

    async def _with_aad(self, context: TurnContext, body: dict[str, Any]) -> dict[str, Any]:
        """The activity with its sender's Azure AD object id (the id we know people by),
        from the roster when Teams left it out."""
        sender = body.get("from") or {}
        if sender.get("aadObjectId"):
            return body
        member = await self.roster.member(context, str(sender.get("id") or ""))
        if not member.aad_object_id:
            return body
        return {**body, "from": {**sender, "aadObjectId": member.aad_object_id}}

    async def _message(self, context: TurnContext, body: dict[str, Any]) -> None:
        sender = body.get("from") or {}
        member = await self.roster.member(context, str(sender.get("id") or ""))
        if member.aad_object_id and not sender.get("aadObjectId"):
            body = {**body, "from": {**sender, "aadObjectId": member.aad_object_id}}
        aad_ids: dict[str, str] = {}
        named: list[Actor] = []
        bot_id = (body.get("recipient") or {}).get("id")
        for entity in mentions(body):
            mentioned = entity["mentioned"]
            if mentioned["id"] == bot_id:
                continue
            found = await self.roster.member(context, str(mentioned["id"]))
            aad = str(mentioned.get("aadObjectId") or found.aad_object_id or "")
            if aad:
                aad_ids[str(mentioned["id"])] = aad
                if found.email:
                    account = {
                        "id": mentioned["id"],
                        "aadObjectId": aad,
                        "name": mentioned.get("name"),
                    }
                    named.append(to_actor({**body, "from": account}, found.email))
        if named:
            await self._introduce(named)
        try:
            event = to_event(body, email=member.email, aad_ids=aad_ids)
        except NotForUs as err:
            log.debug("nothing to answer in a Teams message: %s", err)
            return
        replies = await self.engine.handle(event, self.clock())
        sent = 0
        try:
            for reply in replies:
                await self._reply(context, reply, event.actor)
                sent += 1
        except Exception as err:
            log.warning("Teams refused a reply (%s); queuing it for the delivery worker", err)
            await self._queue(event, replies[sent:])
        self._became_reachable(event.actor)

    async def _queue(self, event: InboundEvent, replies: list[Message]) -> None:
        """Replies the connector would not take go to the outbox, so none is lost; the
        delivery worker sends them to the person's chat once Teams takes messages again."""
        turn = event.event_id or uuid.uuid4().hex
        await reach.queue_replies(self.engine.db, event.actor, turn, replies, self.clock())

    async def _reply(self, context: TurnContext, message: Message, actor: Actor) -> None:
        """Send one reply, paced and retried like proactive messages, but briefly: Teams
        gives up on the request after 15 seconds. Its files are offered to the speaker
        once; if the reply does not go out, the offers are withdrawn (the queued reply
        offers them again when the delivery worker sends it)."""
        conversation = str(context.activity.conversation.id)
        offered: list[str] = []
        offers = self.sender.offers
        if message.files() and offers is not None and is_personal(context.activity.serialize()):
            account = (actor.platform, actor.tenant, actor.user_id)
            offered = await offers.offer(account, message.files(), self.clock())
        activity = to_activity(message, offers=offered)
        for attempt in range(self.sender.attempts):
            try:
                await self.sender.pacer.wait(conversation)
                await context.send_activity(Activity().deserialize(activity))
                return
            except Exception as err:
                result = classify(err)
                wait = self.sender.backoff(attempt, result.retry_after)
                if result.outcome != "retry" or attempt + 1 == self.sender.attempts or wait > 5:
                    await self.sender.withdraw(offered)
                    raise
                await asyncio.sleep(wait)

    async def _installed(self, context: TurnContext, body: dict[str, Any]) -> None:
        """The bot was added (to a personal chat, a team, a group chat): remember the
        person who added it; greet them in a personal chat."""
        added = [m.get("id") for m in body.get("membersAdded") or () if isinstance(m, dict)]
        bot_id = (body.get("recipient") or {}).get("id")
        action = str(body.get("action") or "")
        if body.get("type") == "installationUpdate" and action.startswith("remove"):
            return
        if body.get("type") == "conversationUpdate" and bot_id not in added:
            return
        sender = body.get("from") or {}
        member = await self.roster.member(context, str(sender.get("id") or ""))
        if member.aad_object_id and not sender.get("aadObjectId"):
            body = {**body, "from": {**sender, "aadObjectId": member.aad_object_id}}
        try:
            actor = to_actor(body, member.email)
        except NotForUs:
            return
        if body.get("type") == "conversationUpdate" and is_personal(body):
            greeting = {**body, "type": "message", "text": "", "value": None}
            await self._message(context, greeting)
            return
        await self._remember(actor, to_reference(body))
        self._became_reachable(actor)

    async def _introduce(self, named: list[Actor]) -> None:
        """Record people named in a message, with the roster's e-mail, before the engine
        meets them as mentions: a Teams account is then created as the same person as a
        Slack (or local) account with that e-mail, not as a stranger."""
        await reach.introduce(self.engine.db, named, self.clock())

    async def _remember(self, actor: Actor, reference: dict[str, Any]) -> None:
        await reach.remember(self.engine.db, actor, reference, self.clock())

    def _became_reachable(self, actor: Actor) -> None:
        """Tell the delivery worker once per process: this person's queued messages can go."""
        key = (actor.tenant, actor.user_id)
        if self.on_reachable is None or key in self._reachable_seen:
            return
        if len(self._reachable_seen) > 100_000:
            self._reachable_seen.clear()
        self._reachable_seen.add(key)
        self.on_reachable(actor.platform, actor.user_id, actor.tenant)
