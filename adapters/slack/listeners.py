"""The bolt AsyncApp and its listeners: the thin layer between Slack and the engine.

How acks and work are split (measured with bench/slack_load.py):

* The app runs with `process_before_response=True`. With bolt's default
  (False) the listener runs as a task and bolt's runner polls every 10 ms
  for `ack()`, so an answer waits for the next poll tick on top of the work:
  a bare bolt app answering `/mentor` from one client took 12 ms (p50) by
  default and 0.7 ms with `process_before_response` (bench/slack_load.py;
  under 50 concurrent clients other requests fill the ticks and throughput is
  alike). Running the listener inline and owning the background work
  ourselves removes that tick and keeps the split explicit.
* A slash command or a modal submission gets its answer *in* the ack (one
  round trip, no extra Web API call) when the engine answers within
  `answer_budget` (2 s). If the database is slow, the ack goes out at the
  budget with "One moment…" and the answer follows through `response_url`
  (or a DM), so Slack's 3-second limit holds whatever the database is doing.
* Button clicks and events are acked at once (Slack ignores their response
  body) and handled in background tasks, which `close()` waits for.
* A reply's files (an .ics invite) cannot ride in an ack or a response_url
  answer (both are ephemeral): they are uploaded into the person's DM with the
  bot, after the answer, in the background. A DM typed in the Messages tab gets
  them in that same DM.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.identity import UserDirectory, Workspace
from adapters.slack.render_block_kit import (
    FORM_CALLBACK,
    to_home_view,
    to_messages,
    to_modal,
    view_errors,
    without_forms,
)
from adapters.slack.sender import SlackSender
from adapters.slack.translate import (
    BadPayload,
    SlackUser,
    reference,
    team_and_user,
    to_actor,
    to_event,
)
from conversations.engine import APOLOGY, Engine
from conversations.events import Command, InboundEvent
from conversations.messages import File, Message, Text

log = logging.getLogger(__name__)

ANSWER_BUDGET = 2.0  # seconds of work before a command is acked with "One moment…"
MODAL_TIMEOUT = 0.9  # views.open must not push the ack past Slack's 3 seconds
HOME_COMMAND = "home"
# Where the transport puts a slash command's replay key in bolt's context (guard.py).
REPLAY_KEY = "mentorbot_replay_key"


class WithoutBodies(logging.Filter):
    """bolt's own warnings quote the request ("Unhandled request ({…, 'value': what the
    person typed})", a middleware that skipped `next()` with the whole body): they keep
    their level and lose the quote, since what people type never goes to a log."""

    QUOTING = ("Unhandled request", "skipped calling either")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith(self.QUOTING):
            kind = "no listener handles it" if "Unhandled" in record.msg else "a middleware"
            record.msg, record.args = f"bolt refused a Slack request ({kind})", ()
        return True


BOLT_LOGGER = logging.getLogger("slack_bolt")
BOLT_LOGGER.addFilter(WithoutBodies())


def files_of(replies: list[Message]) -> list[File]:
    return [file for message in replies for file in message.files()]


class SlackBot:
    def __init__(
        self,
        engine: Engine,
        clock: Callable[[], datetime],
        client: AsyncWebClient,
        *,
        signing_secret: str | None,
        answer_budget: float = ANSWER_BUDGET,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.client = client
        self.answer_budget = answer_budget
        self.directory = UserDirectory(client)
        self.sender = SlackSender(client)
        self._tasks: set[asyncio.Task[None]] = set()
        self.app = AsyncApp(
            client=client,
            signing_secret=signing_secret or "",
            request_verification_enabled=signing_secret is not None,
            process_before_response=True,
            logger=BOLT_LOGGER,
        )
        self.app.middleware(self.remember_workspace)
        self.app.command(re.compile(r"^/"))(self.on_command)
        self.app.action(re.compile(r".*"))(self.on_action)
        self.app.view(re.compile("^" + re.escape(FORM_CALLBACK)))(self.on_view_submission)
        self.app.event("app_home_opened")(self.on_home_opened)
        self.app.event("message")(self.on_message)

    async def remember_workspace(
        self, context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
    ) -> None:
        """Learn the bot's own workspace from bolt's authorization (auth.test): only its
        members' directory e-mails are trusted (identity.py)."""
        result = context.authorize_result
        if result is not None and result.team_id and self.directory.workspace is None:
            self.directory.workspace = Workspace(str(result.team_id), result.enterprise_id)
        await next()

    # -- background work ------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Slack background work failed", exc_info=task.exception())

    async def settle(self) -> None:
        """Wait until no background work is in flight (tests, and a graceful stop)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self, grace: float = 5.0) -> None:
        """Let answers in flight finish (bounded), then stop."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace)
        for task in set(self._tasks):
            task.cancel()

    # -- turns ----------------------------------------------------------------------

    async def _user(self, body: dict[str, Any]) -> SlackUser | None:
        _, user_id, _ = team_and_user(body)
        return await self.directory.lookup(user_id) if user_id else None

    async def _run(self, event: InboundEvent) -> list[Message]:
        return await self.engine.handle(event, self.clock())

    async def _turn(self, body: dict[str, Any], replay_key: str | None = None) -> list[Message]:
        if replay_key is not None and not await self.engine.first_request(
            "slack", replay_key, self.clock()
        ):
            log.info("ignoring a replayed Slack slash command")
            return []
        try:
            event = to_event(body, await self._user(body))
        except BadPayload as err:
            log.warning("ignoring a Slack payload: %s", err)
            return []
        except Exception:  # never a stack trace (or Slack's "dispatch_failed") for a person
            log.exception("could not read a Slack payload")
            return [Message(APOLOGY, (Text(APOLOGY),))]
        return await self._run(event)

    async def _within_budget(
        self, work: Awaitable[list[Message]]
    ) -> tuple[list[Message] | None, asyncio.Future[list[Message]]]:
        """The replies if ready within the budget, else None (the work goes on)."""
        future = asyncio.ensure_future(work)
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.answer_budget), future
        except TimeoutError:
            return None, future

    async def _open_modal(self, trigger_id: str, form_message: Message) -> bool:
        form = form_message.form()
        assert form is not None
        try:
            await asyncio.wait_for(
                self.client.views_open(trigger_id=trigger_id, view=to_modal(form)), MODAL_TIMEOUT
            )
        except Exception as err:  # expired trigger, rate limit…: the form stays in the message
            log.warning("views.open failed, showing the form in the message: %s", err)
            return False
        return True

    async def _bodies(self, replies: list[Message], trigger_id: str | None) -> list[dict[str, Any]]:
        """Replies as Slack message bodies; the first form opens as a modal when it can."""
        bodies: list[dict[str, Any]] = []
        for message in replies:
            if trigger_id and message.form() is not None:
                if await self._open_modal(trigger_id, message):
                    message = without_forms(message)
                trigger_id = None  # a trigger opens one modal
            bodies.extend(to_messages(message))
        return bodies

    async def _dm(
        self, user_id: str, bodies: list[dict[str, Any]], files: Sequence[File] = ()
    ) -> None:
        channel = await self.sender.dm_channel(user_id)
        for body in bodies:
            await self.client.chat_postMessage(channel=channel, **body)
        await self.sender.upload(channel, files)

    async def _files_by_dm(self, user_id: str, files: Sequence[File]) -> None:
        """Upload files into the person's DM with the bot; a failure is logged, not raised
        (the answer they belong to has gone out and says what they hold)."""
        if not files:
            return
        try:
            channel = await self.sender.dm_channel(user_id)
        except Exception as err:
            log.warning("no DM channel for %s, so its files were not uploaded: %s", user_id, err)
            return
        await self.sender.upload(channel, files)

    async def _respond(
        self, body: dict[str, Any], respond: AsyncRespond | None, bodies: list[dict[str, Any]]
    ) -> bool:
        """Answer through the response_url of the person's message; False if that failed."""
        if respond is None or not body.get("response_url"):
            return False
        try:
            for part in bodies:
                response = await respond(response_type="ephemeral", replace_original=False, **part)
                if response.status_code != 200:
                    raise RuntimeError(f"response_url answered {response.status_code}")
        except Exception as err:
            log.warning("response_url failed (%s); answering by DM", err)
            return False
        return True

    async def _answer(
        self,
        body: dict[str, Any],
        respond: AsyncRespond | None,
        bodies: list[dict[str, Any]],
        files: Sequence[File] = (),
    ) -> None:
        """Answer where the person is (the response_url of their message, else a DM); the
        files go to their DM either way, after the answer."""
        _, user_id, _ = team_and_user(body)
        if not bodies or await self._respond(body, respond, bodies):
            await self._files_by_dm(user_id, files)
        else:
            await self._dm(user_id, bodies, files)

    # -- listeners (bolt passes arguments by name) --------------------------------------

    async def on_command(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        respond: AsyncRespond,
        context: AsyncBoltContext,
    ) -> None:
        replay_key = context.get(REPLAY_KEY)
        turn = self._turn(body, replay_key if isinstance(replay_key, str) else None)
        replies, work = await self._within_budget(turn)
        if replies is None:
            await ack(text="One moment…", response_type="ephemeral")
            self._spawn(self._answer_later(work, body, respond))
            return
        bodies = await self._bodies(replies, body.get("trigger_id"))
        if not bodies:
            await ack()
            return
        await ack(response_type="ephemeral", **bodies[0])
        files = files_of(replies)
        if len(bodies) > 1 or files:
            self._spawn(self._answer(body, respond, bodies[1:], files))

    async def _answer_later(
        self, work: asyncio.Future[list[Message]], body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        # The trigger_id has expired by now: forms show in the message.
        replies = await work
        await self._answer(body, respond, await self._bodies(replies, None), files_of(replies))

    async def on_action(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        self._spawn(self._action(body, respond))

    async def _action(self, body: dict[str, Any], respond: AsyncRespond) -> None:
        replies = await self._turn(body)
        bodies = await self._bodies(replies, body.get("trigger_id"))
        if bodies:
            await self._answer(body, respond, bodies, files_of(replies))
        view = body.get("view") or {}
        if view.get("type") == "home":  # what was clicked may have changed the overview
            await self._publish_home(body, event_id=None)

    async def on_view_submission(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        replies, work = await self._within_budget(self._turn(body))
        if replies is None:
            await ack()
            self._spawn(self._dm_later(work, body))
            return
        form_message = next((m for m in replies if m.form() is not None), None)
        form = form_message.form() if form_message is not None else None
        if form is not None and view_errors(form):
            await ack(response_action="errors", errors=view_errors(form))
            return
        rest = [m for m in replies if m is not form_message]
        if form is not None:  # a next step: the modal becomes the new form
            await ack(response_action="update", view=to_modal(form))
        else:
            await ack()
        bodies = [b for m in rest for b in to_messages(m)]
        if bodies:
            _, user_id, _ = team_and_user(body)
            self._spawn(self._dm(user_id, bodies, files_of(rest)))

    async def _dm_later(self, work: asyncio.Future[list[Message]], body: dict[str, Any]) -> None:
        _, user_id, _ = team_and_user(body)
        replies = await work
        await self._dm(user_id, [b for m in replies for b in to_messages(m)], files_of(replies))

    async def on_home_opened(self, body: dict[str, Any]) -> None:
        event = body.get("event") or {}
        if event.get("tab", "home") == "home":
            self._spawn(self._publish_home(body, event_id=body.get("event_id")))

    async def _publish_home(self, body: dict[str, Any], event_id: str | None) -> None:
        team_id, user_id, name = team_and_user(body)
        actor = to_actor(team_id, user_id, name, await self._user(body))
        event = InboundEvent(actor, Command(HOME_COMMAND), reference(team_id, user_id), event_id)
        replies = await self._run(event)
        if replies:  # none: a retry of an event already handled
            await self.client.views_publish(user_id=user_id, view=to_home_view(replies[0]))

    async def on_message(self, body: dict[str, Any]) -> None:
        """A message in the bot's DM (Messages tab) is a command, like `/mentor …`."""
        event = body.get("event") or {}
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        self._spawn(self._direct_message(body, str(event.get("channel", ""))))

    async def _direct_message(self, body: dict[str, Any], channel: str) -> None:
        replies = await self._turn(body)
        for part in await self._bodies(replies, None):
            await self.client.chat_postMessage(channel=channel, **part)
        await self.sender.upload(channel, files_of(replies))
