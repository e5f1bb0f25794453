"""`mentorbot match [--dry-run]`: a round from the command line, with a progress bar on
stderr; prints the proposals (scores and reasons), coverage and the mean score."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable

from bot.clock import utcnow
from bot.config import Settings
from conversations.engine import Engine
from conversations.wording import plural
from storage.database import Database

WIDTH = 30


class ProgressBar:
    """A one-line bar per phase on stderr (silent when stderr is not a terminal)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.phase = ""

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self.tty:
            return
        filled = WIDTH * done // max(total, 1)
        end = "\n" if done >= total else ""
        sys.stderr.write(
            f"\r{phase:<8} [{'#' * filled}{'.' * (WIDTH - filled)}] {done}/{total}{end}"
        )
        sys.stderr.flush()


async def run_match(
    settings: Settings,
    dry_run: bool,
    with_db: Callable[[Settings, Callable[[Database], Awaitable[int]]], Awaitable[int]],
) -> int:
    async def work(db: Database) -> int:
        result = await Engine(db, settings.policy).match_round(
            utcnow(), dry_run=dry_run, progress=ProgressBar()
        )
        title = "Dry run (nothing changed)" if dry_run else "Matching round"
        print(
            f"{title}: {plural(len(result.proposals), 'proposal')} from "
            f"{plural(result.mentees_in_pool, 'mentee')} and "
            f"{plural(result.mentors_in_pool, 'mentor')}."
        )
        for p in result.proposals:
            print(
                f"  {result.names.get(p.mentee_id, p.mentee_id)} <- "
                f"{result.names.get(p.mentor_id, p.mentor_id)}  score {p.score:.3f}  "
                f"{'; '.join(p.reasons)}"
            )
        for person, why in result.unmatched.items():
            print(f"  unmatched: {result.names.get(person, person)}: {why}")
        print(
            f"Coverage {result.coverage:.1%}, mean score {result.mean_score:.3f}, "
            f"{'proven optimal (gap 0)' if result.solution.certified else 'optimality NOT proven'}."
        )
        return 0

    return await with_db(settings, work)
