"""The engine: `handle(event, now) -> replies`, and `sweep(now)` for proactive work.

An event that writes is one database transaction: the speaker's identity and
conversation reference are recorded, the command runs, and whatever it queued for
other people commits with it. A command that only reads (`status` from someone
already known, nothing of theirs changed) is answered outside any transaction from
one read; should it write after all, it falls back to the transactional path. Any
failure rolls everything back and the person gets a plain apology, never a stack
trace.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.commands import (
    admin,
    agenda,
    checkin,
    guide,
    home,
    join,
    leave,
    lifecycle,
    meeting,
    mydata,
    pause,
    privacy,
    profile,
    proposals,
    request,
    schedule,
    status,
)
from conversations.digest.sweep import sweep_digest
from conversations.events import Action, Actor, Command, InboundEvent
from conversations.followthrough import agreement
from conversations.followthrough.sweep import sweep_follow_through
from conversations.matching import schedule as match_schedule
from conversations.matching.rounds import (
    Progress,
    RoundResult,
    no_progress,
    run_recorded_round,
    run_round,
)
from conversations.messages import Message, Text
from conversations.policy import Policy
from conversations.router import Router
from conversations.sweeps import DueItem, SweepContext, Sweeper
from conversations.turn import Turn
from storage import inbound, people, programs, references
from storage.database import Database
from storage.models import Program
from storage.speaker_reads import SpeakerBatches

log = logging.getLogger(__name__)

APOLOGY = (
    "Sorry, something went wrong on my side and nothing was changed. Please try again in a "
    "moment; if it keeps happening, tell your program team."
)


def build_router() -> Router:
    return Router(
        [
            join.COMMAND,
            guide.COMMAND,
            profile.COMMAND,
            status.COMMAND,
            pause.PAUSE,
            pause.RESUME,
            leave.COMMAND,
            privacy.COMMAND,
            proposals.ACCEPT,
            proposals.DECLINE,
            request.COMMAND,
            home.COMMAND,
            agreement.COMMAND,
            schedule.COMMAND,
            agenda.COMMAND,
            checkin.MET,
            checkin.SKIP,
            meeting.MEETING,
            checkin.COMMIT,
            lifecycle.END,
            lifecycle.RENEW,
            mydata.EXPORT,
            mydata.FORGET,
            admin.COMMAND,
        ]
    )


# Every feature's proactive work, run in this order by each sweep.
SWEEPERS: list[Sweeper] = [
    pause.sweep_pauses,
    proposals.sweep_proposals,
    match_schedule.sweep_match_rounds,
    sweep_follow_through,
    sweep_digest,
]


def _clean(text: str) -> str:
    return text.replace("\x00", "") if "\x00" in text else text


def without_nul(event: InboundEvent) -> InboundEvent:
    """The event with NUL characters taken out of everything typed: they mean nothing to
    a person, and PostgreSQL refuses them in text (the command would fail)."""
    payload = event.payload
    if isinstance(payload, Command):
        cleaned: Command | Action = Command(_clean(payload.text))
    else:
        cleaned = Action(
            _clean(payload.action_id),
            _clean(payload.value),
            _clean(payload.form_id),
            {_clean(k): _clean(v) for k, v in payload.fields.items()},
        )
    actor = replace(event.actor, display_name=_clean(event.actor.display_name))
    return replace(event, actor=actor, payload=cleaned)


class _DryRun(Exception):
    pass


class Engine:
    def __init__(self, db: Database, policy: Policy) -> None:
        self.db = db
        self.policy = policy
        self.router = build_router()
        self._cached_program: Program | None = None
        self._speakers = SpeakerBatches(db.reader) if db.reader is not None else None
        self._abandoned: set[asyncio.Future[list[Message]]] = set()

    async def _program(self, session: AsyncSession, now: datetime) -> Program:
        """The configured program, created on first use and then kept in memory.

        Only its id and name are read during a turn, and both come from app.yaml,
        so a restart is the only way they change.
        """
        if self._cached_program is None:
            found = await programs.ensure_program(
                session,
                self.policy.program_slug,
                self.policy.program_name,
                self.policy.objective,
                now,
            )
            await session.flush()
            # A copy that belongs to no session: a rolled-back transaction (a dry run, a
            # failed turn) cannot expire it under later turns.
            self._cached_program = Program(
                id=found.id,
                slug=found.slug,
                name=found.name,
                objective=found.objective,
                settings=dict(found.settings or {}),
                created_at=found.created_at,
            )
        return self._cached_program

    @property
    def program_id(self) -> int | None:
        return self._cached_program.id if self._cached_program is not None else None

    async def handle(self, event: InboundEvent, now: datetime) -> list[Message]:
        """Answer one inbound event. Always returns at least one message, except for
        a platform retry of an event already handled (then nothing).

        A turn stuck on a hung database is apologised for after the database's turn
        timeout (storage/timeouts.py; well within Slack's and Teams' patience) and
        cancelled without waiting: its transaction rolls back on its own, bounded by the
        database timeouts (cancelling and waiting would wait on those too)."""
        work = asyncio.ensure_future(self._answer(event, now))
        deadline = self.db.timeouts.turn
        done, _ = await asyncio.wait((work,), timeout=deadline)
        if done:
            return work.result()
        work.cancel()
        self._abandoned.add(work)
        work.add_done_callback(self._forget)
        log.error(
            "an event from %s was not answered within %.0f s (database hanging?); apologising",
            event.actor.platform,
            deadline,
        )
        return [Message(APOLOGY, (Text(APOLOGY),))]

    def _forget(self, work: asyncio.Future[list[Message]]) -> None:
        self._abandoned.discard(work)
        if not work.cancelled():
            work.exception()  # retrieved: it was logged where it happened

    async def _answer(self, event: InboundEvent, now: datetime) -> list[Message]:
        known = self._cached_program is not None
        event = without_nul(event)
        try:
            try:
                return await self._handle(event, now)
            except IntegrityError:
                # Two events raced on a unique key (a new person's first two messages, or a
                # platform retry of the same event). The loser runs again and now sees the
                # winner's rows: the person exists, or the event id is known (→ no reply).
                log.info("retrying an event from %s after a unique-key race", event.actor.platform)
                if not known:
                    self._cached_program = None
                return await self._handle(event, now)
        except Exception:
            log.exception("failed handling an event from %s", event.actor.platform)
            if not known:
                self._cached_program = None
        return [Message.of(Text(APOLOGY))]

    async def first_request(self, platform: str, key: str, now: datetime) -> bool:
        """Record a platform request that carries no event id (a signed Slack slash
        command, keyed by a hash of its signature input); False when it was recorded
        before, i.e. it is a replay and must not act again. When the database cannot
        say, True: the turn that follows answers, with an apology if it is down."""
        try:
            async with self.db.transaction() as session:
                return await inbound.first_time_seen(session, platform, key, now)
        except IntegrityError:  # the same request raced in on another replica
            return False
        except Exception as err:
            log.warning("could not check a %s request for a replay: %s", platform, type(err))
            return True

    async def _handle(self, event: InboundEvent, now: datetime) -> list[Message]:
        if (
            self._cached_program is not None
            and event.event_id is None
            and self.router.reads_only(event.payload)
        ):
            replies = await self._read_only_turn(event, now, self._cached_program)
            if replies is not None:
                return replies
        actor = event.actor
        async with self.db.transaction() as session:
            if event.event_id and not await inbound.first_time_seen(
                session, actor.platform, event.event_id, now
            ):
                return []
            program = await self._program(session, now)
            key = people.IdentityKey(actor.platform, actor.tenant, actor.user_id)
            speaker = await people.load_speaker(session, key, program.id)
            if speaker is None:  # first contact: create the identity, then load it as usual
                await people.upsert_identity(
                    session,
                    key,
                    display_name=actor.display_name,
                    email=actor.email,
                    timezone=actor.timezone,
                    now=now,
                )
                speaker = await people.load_speaker(session, key, program.id)
                assert speaker is not None
            else:
                await people.refresh_identity(
                    session,
                    speaker.identity,
                    display_name=actor.name_update,
                    email=actor.email,
                    timezone=actor.timezone,
                    now=now,
                    person=speaker.person,
                )
            if event.reference is not None and event.reference != speaker.reference:
                await references.save_reference(session, speaker.identity.id, event.reference, now)
            turn = self._turn(session, now, program, actor, speaker)
            return await self.router.handle(turn, event.payload)

    def _turn(
        self,
        session: AsyncSession,
        now: datetime,
        program: Program,
        actor: Actor,
        speaker: people.Speaker,
    ) -> Turn:
        return Turn(
            session=session,
            now=now,
            policy=self.policy,
            program=program,
            actor=actor,
            identity=speaker.identity,
            person=speaker.person,
            profile=speaker.profile,
            pairs=speaker.pairs,
        )

    async def _read_only_turn(
        self, event: InboundEvent, now: datetime, program: Program
    ) -> list[Message] | None:
        """Answer a command that writes nothing from one read outside any transaction (the
        common `status`: one driver call instead of a session, BEGIN, two statements and
        COMMIT). None when the turn has something to write after all (first contact, a
        changed name, time zone, e-mail or reference, last seen to refresh): the caller
        then runs the ordinary transactional turn, which writes it.

        The handler gets a session that begins a transaction only if it reads more (names
        of partners, agendas); what it did there is committed like any turn's."""
        if self._speakers is None:
            return None
        actor = event.actor
        key = people.IdentityKey(actor.platform, actor.tenant, actor.user_id)
        try:
            speaker = await self._speakers.read(key, program.id)
        except Exception:  # a dropped connection, a restarted server: the ordinary path copes
            log.warning("read-only turn fell back to a transaction", exc_info=True)
            return None
        if (
            speaker is None
            or (event.reference is not None and event.reference != speaker.reference)
            or people.identity_updates(
                speaker.identity,
                display_name=actor.name_update,
                email=actor.email,
                timezone=actor.timezone,
                now=now,
            )
        ):
            return None
        session = self.db.session()  # no connection, no transaction until a handler reads
        try:
            turn = self._turn(session, now, program, actor, speaker)
            replies = await self.router.handle(turn, event.payload)
            if session.in_transaction():
                await session.commit()
            return replies
        finally:
            if session.in_transaction():  # the handler failed: roll back what it began
                await session.close()

    async def sweep(self, now: datetime, *, dry_run: bool = False) -> list[DueItem]:
        """Find what is due as of `now` and queue it in the outbox (idempotently).

        A dry run computes the same items and rolls everything back.
        """
        items: list[DueItem] = []
        known = self._cached_program is not None
        try:
            async with self.db.transaction() as session:
                context = SweepContext(session, await self._program(session, now), self.policy, now)
                for sweeper in SWEEPERS:
                    items.extend(await sweeper(context))
                if dry_run:
                    raise _DryRun
        except _DryRun:
            if not known:  # the program row may have been created in what was rolled back
                self._cached_program = None
        return items

    async def match_round(
        self, now: datetime, *, dry_run: bool, progress: Progress = no_progress
    ) -> RoundResult:
        """Run a matching round now (the CLI's `mentorbot match`); a dry run writes nothing."""
        async with self.db.transaction() as session:
            program = await self._program(session, now)
            if dry_run:
                return await run_round(
                    session, self.policy, program, now, dry_run=True, progress=progress
                )
            result = await run_recorded_round(
                session, self.policy, program, now, f"manual:{now.isoformat()}", progress=progress
            )
            if result is None:
                raise RuntimeError("a round for this exact moment has already run")
            return result
