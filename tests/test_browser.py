"""The local web chat driven end to end in headless Chromium.

The whole bot is served on a loopback port (aiohttp runner, SQLite in tmp_path)
and a real browser talks to it: join, click buttons, fill the profile form
(first with a mistake, then correctly), and receive a proactive message over the
event stream without reloading the page.

Needs Debian's Chromium at /usr/bin/chromium; skipped with the reason when absent.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import ENGINE_KEY, WORKER_KEY, build_app
from bot.config import load_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path("/tmp/webchat.png")
TIMEOUT_MS = 10_000

pytestmark = pytest.mark.browser


@dataclass
class Clock:
    """The app's clock; the test moves it forward to make a pause run out."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Server:
    app: web.Application
    url: str
    clock: Clock


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    config = tmp_path / "app.yaml"
    config.write_text("program:\n  name: Mentoring program\n  slug: default\ntimezone: UTC\n")
    settings = load_settings(
        config=str(config), env={"DATABASE_URL": f"sqlite:///{tmp_path}/bot.db"}
    )
    assert settings.local_chat
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    app = build_app(settings, clock=clock, scheduler_enabled=False)
    runner = web.AppRunner(app, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield Server(app, f"http://{host}:{port}", clock)
    finally:
        await runner.cleanup()


@pytest.fixture
async def page(server: Server) -> AsyncIterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found; install Debian's chromium to run the browser tests")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                viewport={"width": 1000, "height": 900}, timezone_id="UTC"
            )
            context.set_default_timeout(TIMEOUT_MS)
            pg = await context.new_page()
            errors: list[str] = []
            pg.on("pageerror", lambda err: errors.append(str(err)))
            pg.on(
                "console",
                lambda msg: (
                    errors.append(f"{msg.text} {msg.location}") if msg.type == "error" else None
                ),
            )
            yield pg
            assert errors == [], f"the page logged errors: {errors}"
        finally:
            await browser.close()


async def test_web_chat_end_to_end(server: Server, page) -> None:  # type: ignore[no-untyped-def]
    from playwright.async_api import expect

    await page.goto(server.url + "/")
    await expect(page).to_have_title(re.compile("mentorbot"))

    # Pick a user name; the page greets and opens the event stream.
    await page.fill("#user", "alice")
    await page.get_by_role("button", name="Switch").click()
    await expect(page.locator("#log .msg").first).to_contain_text("You are @alice")

    # Join as a mentee.
    await page.fill("#text", "/mentor join mentee")
    await page.press("#text", "Enter")
    await expect(page.locator("#text")).to_have_value("")
    await expect(page.locator(".msg.me").last).to_have_text("/mentor join mentee")
    welcome = page.locator(".msg.bot").filter(
        has_text="Welcome to Mentoring program! You've joined as a mentee."
    )
    await expect(welcome).to_have_count(1)
    await expect(welcome.locator(".buttons button")).to_contain_text(
        ["Fill in my profile", "My status"]
    )

    # A button echoes its label and answers with the status card.
    await welcome.get_by_role("button", name="My status").click()
    await expect(page.locator(".msg.me").last).to_have_text("My status")
    status = page.locator(".msg.bot").filter(
        has=page.get_by_role("heading", name="Your mentoring status")
    )
    await expect(status).to_have_count(1)

    # The profile form: a bad level comes back with an inline error and the typed values.
    await welcome.get_by_role("button", name="Fill in my profile").click()
    form = page.locator("form.card").last
    await expect(form).to_be_visible()
    names = await form.locator("[name]").evaluate_all("els => els.map(e => e.name)")
    for name in (
        "offers",
        "wants",
        "goals",
        "department",
        "manager",
        "level",
        "timezone",
        "languages",
        "capacity",
    ):
        assert name in names, f"profile form lacks {name}: {names}"
    await expect(form.locator(".err")).to_have_count(0)
    await form.locator("[name=wants]").fill("Learn to lead a team")
    await form.locator("[name=department]").fill("Platform")
    await form.locator("[name=level]").fill("11")
    await form.get_by_role("button", name="Save").click()

    forms = page.locator("form.card")
    await expect(forms).to_have_count(2)
    retry = forms.last
    await expect(retry.locator(".err")).to_have_count(1)
    await expect(retry.locator(".err")).not_to_be_empty()
    await expect(retry.locator("[name=level]")).to_have_value("11")
    await expect(retry.locator("[name=wants]")).to_have_value("Learn to lead a team")
    await expect(retry.locator("[name=department]")).to_have_value("Platform")

    await retry.locator("[name=level]").fill("4")
    await retry.get_by_role("button", name="Save").click()
    saved = page.locator(".msg.bot").last
    await expect(saved.locator("strong")).to_have_text("Saved to your profile")
    await expect(saved.locator("dl")).to_contain_text("4")
    await expect(saved.locator("dl")).to_contain_text("Learn to lead a team")
    await expect(forms).to_have_count(2)
    await expect(page.locator(".msg.error")).to_have_count(0)

    # Pause until tomorrow; a sweep days later queues "Your pause is over", and the
    # delivery worker pushes it down the open event stream: no reload.
    await page.fill("#text", "/mentor pause until tomorrow")
    await page.press("#text", "Enter")
    await expect(page.locator(".msg.bot").last).to_contain_text("Paused until")
    messages_before = await page.locator("#log .msg").count()

    server.clock.now += timedelta(days=3)
    items = await server.app[ENGINE_KEY].sweep(server.clock.now)
    assert [item.kind for item in items] == ["pause-ended"]
    assert items[0].queued
    await server.app[WORKER_KEY].run_once()  # the background worker may have beaten us to it

    proactive = page.locator(".msg.proactive")
    await expect(proactive).to_have_count(1)
    await expect(proactive).to_contain_text("Your pause is over")
    await expect(proactive.get_by_role("button", name="My status")).to_be_visible()
    await expect(page.locator("#log .msg")).to_have_count(messages_before + 1)
    assert await page.evaluate("performance.getEntriesByType('navigation').length") == 1

    await page.screenshot(path=str(SCREENSHOT), full_page=True)

    # The proactive message's button works like any other.
    await proactive.get_by_role("button", name="My status").click()
    await expect(status).to_have_count(2)
