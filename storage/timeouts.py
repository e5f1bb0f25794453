"""How long the bot waits for its database before giving up on it.

A database that hangs (a stalled network, a locked table, a failover in progress)
must not hang the bot: every connection attempt, statement and pool checkout has a
bound, so a turn fails (and apologises) instead of waiting forever, `/readyz` says
"not ready" in time, and work resumes by itself once the database answers again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Timeouts:
    """Seconds. `statement` bounds each statement on the client (asyncpg's command
    timeout, which also covers a silent network) and on the server (PostgreSQL's
    statement_timeout); `pool` bounds the wait for a pooled connection; SQLite waits
    `sqlite_busy` for another process's write lock; `turn` bounds a whole turn of
    several statements (conversations/engine.py apologises after it, well within the
    15 s Slack and Teams users wait)."""

    connect: float = 5.0
    statement: float = 5.0
    pool: float = 5.0
    sqlite_busy: float = 5.0
    turn: float = 10.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Timeouts:
        """Defaults, or MENTORBOT_DB_CONNECT_TIMEOUT / _STATEMENT_TIMEOUT / _POOL_TIMEOUT /
        _SQLITE_BUSY_TIMEOUT / _TURN_TIMEOUT (the tests shorten them; production keeps these)."""
        env = dict(os.environ) if env is None else env
        found: dict[str, float] = {}
        for name in ("connect", "statement", "pool", "sqlite_busy", "turn"):
            raw = env.get(f"MENTORBOT_DB_{name.upper()}_TIMEOUT", "")
            try:
                value = float(raw)
            except ValueError:
                continue
            if value > 0:
                found[name] = value
        return cls(**found)

    def asyncpg_connect_args(
        self, *, read_only: bool = False, migrating: bool = False
    ) -> dict[str, Any]:
        """`migrating`: statements unbounded, on the client and the server. A migration may
        rebuild a large table, and a replica starting beside another waits its turn for
        the migration lock for as long as that takes; only the connect stays bounded."""
        if migrating:
            return {"timeout": self.connect, "server_settings": {"statement_timeout": "0"}}
        server = {"statement_timeout": str(int(self.statement * 1000))}
        if read_only:
            server["default_transaction_read_only"] = "on"
        return {
            "timeout": self.connect,
            "command_timeout": self.statement,
            "server_settings": server,
        }
