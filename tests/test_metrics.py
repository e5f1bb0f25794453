"""GET /metrics: the Prometheus text format, the names operators alert on, bounded labels
(no user ids or texts), and the bearer token in production."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from adapters.delivery import SendResult
from bot import metrics, metrics_http
from bot.app import ENGINE_KEY, WORKER_KEY, build_app
from bot.config import load_settings
from bot.scheduler import Jobs
from storage.database import Database

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
REQUIRED = (
    "mentorbot_inbound_requests_total",
    "mentorbot_turn_seconds",
    "mentorbot_outbox_pending",
    "mentorbot_outbox_oldest_seconds",
    "mentorbot_deliveries_total",
    "mentorbot_rate_limited_total",
    "mentorbot_sweep_seconds",
    "mentorbot_match_round_seconds",
    "mentorbot_digest_posted_total",
)


def sample(name: str, **labels: str) -> float:
    return metrics.get().registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def served(
    db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[str, web.Application]]:
    monkeypatch.delenv(metrics_http.TOKEN_ENV, raising=False)
    settings = load_settings(str(ROOT / "app.yaml"), env={"DATABASE_URL": db_url})
    app = build_app(settings, clock=lambda: NOW, scheduler_enabled=False)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", app
    await runner.cleanup()


async def test_metrics_name_every_required_series_with_bounded_labels(
    served: tuple[str, web.Application],
) -> None:
    url, app = served
    joined = sample("mentorbot_turn_seconds_count", command="join")
    local_ok = sample("mentorbot_inbound_requests_total", surface="local", status="200")
    async with aiohttp.ClientSession() as http:
        for text in ("join mentee", "profile set wants=python", "frobnicate", "status"):
            body = {"user": "alice_u1234", "text": text}
            async with http.post(url + "/local/api/messages", json=body) as r:
                assert r.status == 200
        async with http.get(url + "/metrics") as r:
            assert r.status == 200
            assert r.headers["Content-Type"].startswith("text/plain; version=")
            text = await r.text()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    for name in REQUIRED:
        base = name.removesuffix("_total")
        assert base in families, name
    assert "alice" not in text and "python" not in text and "frobnicate" not in text
    assert sample("mentorbot_turn_seconds_count", command="join") == joined + 1
    assert sample("mentorbot_turn_seconds_count", command="unknown") >= 1
    assert sample("mentorbot_inbound_requests_total", surface="local", status="200") >= (
        local_ok + 4
    )
    # The outbox gauges come from the database at scrape time (nothing queued here).
    assert sample("mentorbot_outbox_pending") == 0
    # Labels stay within their fixed sets whatever people type.
    commands = {s.labels["command"] for s in families["mentorbot_turn_seconds"].samples if s.labels}
    router = app[ENGINE_KEY].router
    assert commands <= {*(spec.name for spec in router.specs), "help", "overview", "unknown"} | {
        "action",
        "form",
    }


async def test_sweeps_rounds_and_deliveries_are_counted(
    served: tuple[str, web.Application],
) -> None:
    _, app = served
    engine, worker = app[ENGINE_KEY], app[WORKER_KEY]
    sweeps = sample("mentorbot_sweep_seconds_count")
    rounds = sample("mentorbot_match_round_seconds_count")
    jobs = Jobs(engine, worker, lambda: NOW)
    await jobs.sweep()
    await engine.match_round(NOW, dry_run=False)
    assert sample("mentorbot_sweep_seconds_count") == sweeps + 1
    assert sample("mentorbot_match_round_seconds_count") == rounds + 1
    limited = sample("mentorbot_rate_limited_total", platform="slack")
    metrics.delivery("slack", SendResult("retry", "429", 1.0).outcome, rate_limited=True)
    metrics.delivery("slack", "delivered", kind="digest")
    assert sample("mentorbot_rate_limited_total", platform="slack") == limited + 1
    assert sample("mentorbot_deliveries_total", platform="slack", outcome="delivered") >= 1
    assert sample("mentorbot_digest_posted_total") >= 1


@pytest.mark.parametrize(
    ("token", "production", "header", "status"),
    [
        (None, False, None, 200),  # development: open (the bot listens on loopback)
        (None, True, None, 403),  # production without a token: refused, never open
        (None, True, "Bearer ", 403),
        ("s3cret", False, None, 403),  # a token set is always required
        ("s3cret", True, "Bearer wrong", 403),
        ("s3cret", True, "Bearer s3cret", 200),
    ],
)
async def test_the_bearer_token_guards_metrics(
    db: Database, token: str | None, production: bool, header: str | None, status: int
) -> None:
    app = web.Application()
    app.router.add_get(
        "/metrics",
        metrics_http.metrics_handler(db, lambda: NOW, token=token, production=production),
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        headers = {"Authorization": header} if header is not None else {}
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{runner.addresses[0][1]}/metrics"
            async with http.get(url, headers=headers) as r:
                assert r.status == status
                if status == 200:
                    assert "mentorbot_outbox_pending" in await r.text()
    finally:
        await runner.cleanup()
