"""The local web chat driven end to end in headless Chromium.

The whole bot (build_app, SQLite in tmp_path, no scheduler) is served on a
loopback port and a real browser talks to it: join, click buttons, fill in the
profile form (first with a mistake, then correctly), and receive a proactive
message over the event stream without a reload.

Needs Debian's Chromium at /usr/bin/chromium (Playwright's own browser download
is not used); skipped with the reason when it is absent.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from adapters.local.hub import LocalHub
from bot.app import ENGINE_KEY, WORKER_KEY, build_app
from bot.config import load_settings

playwright_api = pytest.importorskip("playwright.async_api")
if TYPE_CHECKING:
    from playwright.async_api import Browser, Page
expect = playwright_api.expect

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
# For every action and every expectation (Playwright's own expect default is 5 s): a wait
# ends as soon as the page is right, so this only keeps a stalled machine from failing a
# test. That a message goes at once, not at the worker's idle tick, is tested in
# tests/test_delivery.py, where no browser's timing is involved.
TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)
PROFILE_FIELDS = (
    "offers",
    "wants",
    "goals",
    "department",
    "manager",
    "level",
    "timezone",
    "languages",
    "capacity",
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),  # under `make test`: one worker, one Chromium
    pytest.mark.asyncio(loop_scope="module"),  # the loop the one Chromium is driven from
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} not found; install Debian's chromium to run the browser tests",
    ),
]


@dataclass
class Clock:
    """The app's clock; tests move it forward to make a pause run out."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Server:
    app: web.Application
    url: str
    clock: Clock

    @property
    def hub(self) -> LocalHub:
        hub = self.app[WORKER_KEY].senders["local"]
        assert isinstance(hub, LocalHub)
        return hub

    async def wait_connected(self, user: str) -> None:
        """Until the user's event stream is open (before that a send is 'unreachable')."""
        for _ in range(TIMEOUT_MS // 20):
            if self.hub.connected(user):
                return
            await asyncio.sleep(0.02)
        pytest.fail(f"{user}'s page did not open its event stream")

    async def end_pause(self) -> None:
        """Three days on: the sweep queues "Your pause is over"; the app's own worker
        delivers it (woken as the scheduler would: the page sees what production does)."""
        self.clock.now += timedelta(days=3)
        items = await self.app[ENGINE_KEY].sweep(self.clock.now)
        assert [(item.kind, item.queued) for item in items] == [("pause-ended", True)]
        self.app[WORKER_KEY].poke()


@pytest_asyncio.fixture(loop_scope="module")
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


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium for all these tests (starting one costs seconds)."""
    async with playwright_api.async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest_asyncio.fixture(loop_scope="module")
async def page(server: Server, browser: Browser) -> AsyncIterator[Page]:
    """A fresh page in a fresh context (no cookies or storage from another test); fails
    the test if the page logs any error."""
    context = await browser.new_context(viewport={"width": 1000, "height": 900}, timezone_id="UTC")
    try:
        context.set_default_timeout(TIMEOUT_MS)
        pg = await context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda err: errors.append(f"uncaught: {err}"))
        pg.on(
            "console",
            lambda msg: (
                errors.append(f"{msg.text} at {msg.location.get('url')}")
                if msg.type == "error"
                else None
            ),
        )
        yield pg
        assert errors == [], f"the page logged errors: {errors}"
    finally:
        await context.close()


async def open_chat(page: Page, server: Server, user: str) -> None:
    await page.goto(server.url + "/")
    await expect(page).to_have_title(re.compile("mentorbot"))
    if await page.input_value("#user") != user:  # else the page remembered who we are
        await page.fill("#user", user)
        await page.get_by_role("button", name="Switch").click()
    await expect(page.locator("#log .msg.ctx", has_text=f"You are @{user}")).to_have_count(1)
    await server.wait_connected(user)


async def say(page: Page, line: str) -> None:
    """Type a line, see it echoed, and wait for the bot's answer."""
    answers = page.locator(".msg.bot")
    before = await answers.count()
    await page.fill("#text", line)
    await page.press("#text", "Enter")
    await expect(page.locator("#text")).to_have_value("")
    await expect(page.locator(".msg.me").last).to_have_text(line)
    await expect(answers.nth(before)).to_be_attached()


async def test_web_chat_end_to_end(server: Server, page: Page) -> None:
    await open_chat(page, server, "alice")
    await page.evaluate("window.sameDocument = true")  # gone if the page ever reloads

    # Join as a mentee.
    await say(page, "/mentor join mentee")
    welcome = page.locator(".msg.bot").filter(
        has_text="Welcome to the mentoring program! You've joined as a mentee."
    )
    await expect(welcome).to_have_count(1)
    await expect(welcome.locator(".buttons button")).to_have_text(
        ["Fill in my profile", "My status", "More"]
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
    forms = page.locator("form.card")
    await expect(forms).to_have_count(1)
    form = forms.first
    names = await form.locator("[name]").evaluate_all("els => els.map(e => e.name)")
    mentor_only = ("offers", "capacity")  # a mentee is not asked what they offer
    assert [n for n in PROFILE_FIELDS if n not in names] == list(mentor_only), names
    await expect(form.locator(".err")).to_have_count(0)
    await form.locator("[name=wants]").fill("Learn to lead a team")
    await form.locator("[name=department]").fill("Platform")
    await form.locator("[name=level]").fill("11")
    await form.get_by_role("button", name="Save").click()

    await expect(forms).to_have_count(2)
    retry = forms.last
    await expect(retry.locator(".err")).to_have_count(1)
    level_error = retry.locator("label", has=page.locator("[name=level]")).locator(".err")
    await expect(level_error).to_be_visible()
    await expect(level_error).not_to_be_empty()
    await expect(retry.locator("[name=level]")).to_have_value("11")
    await expect(retry.locator("[name=wants]")).to_have_value("Learn to lead a team")
    await expect(retry.locator("[name=department]")).to_have_value("Platform")

    await retry.locator("[name=level]").fill("4")
    await retry.get_by_role("button", name="Save").click()
    saved = page.locator(".msg.bot").filter(has_text="Saved to your profile")
    await expect(saved).to_have_count(1)
    level = saved.locator("dt", has_text="Level").locator("xpath=following-sibling::dd[1]")
    await expect(level).to_have_text("4")
    await expect(saved.locator("dl")).to_contain_text("Learn to lead a team")
    await expect(saved.locator("dl")).to_contain_text("Platform")
    await expect(forms).to_have_count(2)
    await expect(retry.get_by_role("button", name="Save")).to_be_enabled()

    # Pause until tomorrow; a sweep days later queues "Your pause is over", and the
    # delivery worker pushes it down the open event stream.
    await say(page, "/mentor pause until tomorrow")
    await expect(page.locator(".msg.bot").last).to_contain_text("Paused until")
    before = await page.locator("#log .msg").count()
    await server.end_pause()

    proactive = page.locator(".msg.proactive")
    await expect(proactive).to_have_count(1)
    await expect(proactive).to_contain_text("Your pause is over")
    await expect(page.locator("#log .msg")).to_have_count(before + 1)
    assert await page.evaluate("window.sameDocument === true"), "the page reloaded"
    await expect(page.locator(".msg.error")).to_have_count(0)
    await page.screenshot(path=str(SCREENSHOT))

    # The proactive message's button works like any other.
    await proactive.get_by_role("button", name="My status").click()
    await expect(status).to_have_count(2)
    await expect(status.last).to_contain_text("Active")


async def test_a_reload_or_a_switch_of_user_shows_the_last_messages(
    server: Server, page: Page
) -> None:
    await open_chat(page, server, "erin")
    await say(page, "/mentor join mentee")
    welcome = page.locator(".msg.bot").filter(has_text="You've joined as a mentee")
    await welcome.get_by_role("button", name="My status").click()
    await expect(page.locator(".msg.me")).to_have_text(["/mentor join mentee", "My status"])

    await page.reload()
    await open_chat(page, server, "erin")
    await expect(page.locator(".msg.me")).to_have_text(["/mentor join mentee", "My status"])
    await expect(page.locator(".msg.bot")).to_have_count(2)
    await expect(page.locator(".msg.ctx").last).to_contain_text("your last messages are above")

    await open_chat(page, server, "frank")  # someone else sees only their own
    await expect(page.locator(".msg.me")).to_have_count(0)
    await open_chat(page, server, "erin")
    await expect(page.locator(".msg.me")).to_have_count(2)
    # A button from before the reload still works.
    await welcome.get_by_role("button", name="My status").click()
    status = page.locator(".msg.bot").filter(
        has=page.get_by_role("heading", name="Your mentoring status")
    )
    await expect(status).to_have_count(2)


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("*bold* _italic_ `co_de`", "<strong>bold</strong> <em>italic</em> <code>co_de</code>"),
        ("(_a b_), *c*.", "(<em>a b</em>), <strong>c</strong>."),
        ("@jane_doe and @john_roe", "@jane_doe and @john_roe"),
        ("snake_case_name, 2*3*4, 2 * 3 * 4", "snake_case_name, 2*3*4, 2 * 3 * 4"),
        ("<b>hi</b>", "&lt;b&gt;hi&lt;/b&gt;"),
        (
            "see <https://example.com/a_b|the docs>",
            'see <a href="https://example.com/a_b" target="_blank" rel="noopener">the docs</a>',
        ),
        ("<javascript:alert(1)|x>", "&lt;javascript:alert(1)|x&gt;"),
    ],
)
async def test_markdown_subset(server: Server, page: Page, text: str, html: str) -> None:
    """Bot text renders *bold*, _italic_, `code` and links; names and snake_case stay literal."""
    await page.goto(server.url + "/")
    rendered = await page.evaluate(
        "t => { const d = document.createElement('div'); d.append(inline(t)); return d.innerHTML }",
        text,
    )
    assert rendered == html


async def test_sending_without_a_name_keeps_the_text(server: Server, page: Page) -> None:
    await page.goto(server.url + "/")
    await page.fill("#text", "/mentor help")
    await page.press("#text", "Enter")
    await expect(page.locator(".msg.error")).to_contain_text("user name")
    await expect(page.locator("#text")).to_have_value("/mentor help")
    await expect(page.locator("#user")).to_be_focused()


async def test_replies_keep_the_order_of_what_was_sent(server: Server, page: Page) -> None:
    """Two quick commands from a new person: both answered, in order, no apology."""
    await open_chat(page, server, "carol")
    for line in ("/mentor join mentee", "/mentor status", "/mentor help"):
        await page.fill("#text", line)
        await page.press("#text", "Enter")
    answers = page.locator(".msg.bot")
    await expect(answers).to_have_count(3)
    await expect(answers.nth(0)).to_contain_text("You've joined as a mentee")
    await expect(answers.nth(1).get_by_role("heading")).to_have_text("Your mentoring status")
    await expect(answers.nth(2)).to_contain_text("/mentor join")
    await expect(answers.nth(2)).not_to_contain_text("`")  # the help shows no raw markdown
    await expect(page.locator(".msg.me")).to_have_text(
        ["/mentor join mentee", "/mentor status", "/mentor help"]
    )


async def test_a_phone_screen_keeps_label_and_value_lists_readable(
    server: Server, page: Page
) -> None:
    """On a narrow screen the help's command list must not squeeze its text to a letter a line."""
    await page.set_viewport_size({"width": 375, "height": 800})
    await open_chat(page, server, "dan")
    await say(page, "/mentor help")
    widths = await page.locator(".msg.bot dd").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().width)"
    )
    assert widths, "the help shows no command list"
    assert min(widths) > 200, widths
    overflow = await page.evaluate("document.documentElement.scrollWidth - innerWidth")
    assert overflow <= 0, "the page scrolls sideways"


async def post(server: Server, user: str, line: str) -> str:
    """Say a line through the JSON API, without a browser (so without an event stream)."""
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            server.url + "/local/api/messages", json={"user": user, "text": line}
        )
        assert response.status == 200
        body = await response.json()
    return "\n".join(reply["text"] for reply in body["replies"])


async def test_message_queued_before_the_chat_opens_arrives_when_it_does(
    server: Server, page: Page
) -> None:
    assert "joined as a mentee" in await post(server, "bob", "/mentor join mentee")
    assert "Paused until" in await post(server, "bob", "/mentor pause until tomorrow")
    await server.end_pause()  # bob has no chat open: the row waits in the outbox

    await open_chat(page, server, "bob")
    await expect(page.locator(".msg.proactive")).to_contain_text("Your pause is over")


async def test_message_sent_after_the_tab_closed_is_not_lost(server: Server, page: Page) -> None:
    await open_chat(page, server, "bob")
    await say(page, "/mentor join mentee")
    await say(page, "/mentor pause until tomorrow")
    await expect(page.locator(".msg.bot").last).to_contain_text("Paused until")
    await page.goto("about:blank")  # bob closes the chat
    await asyncio.sleep(0.5)
    await server.end_pause()

    # Opening the chat again is enough, wherever the first attempt is by then (writing
    # to the closed stream, or recording that bob was away): no clock moves, no poke.
    await open_chat(page, server, "bob")
    await expect(page.locator(".msg.proactive")).to_contain_text("Your pause is over")


HOSTILE = (
    "*loud* _slanted_ `code` <https://evil.example/login|Reset your password> "
    "https://evil.example/x <img src=x onerror=alert(1)> <!here> &amp;"
)


async def test_what_a_person_types_shows_as_typed_in_the_browser(
    server: Server, page: Page
) -> None:
    """Issue 14, item 6, in the real page (the unit tests check a copy of chat.js's
    tokenizer): markup in a profile field comes back as the characters typed, with no
    link, image, emphasis or code made from it."""
    await open_chat(page, server, "mallory")
    await say(page, "/mentor join mentee")
    await say(page, "/mentor profile")
    form = page.locator("form.card").last
    await form.locator("[name=goals]").fill(HOSTILE)
    await form.get_by_role("button", name="Save").click()
    saved = page.locator(".msg.bot").filter(has_text="Saved to your profile")
    await expect(saved).to_have_count(1)
    goals = saved.locator("dt", has_text="My goals").locator("xpath=following-sibling::dd[1]")
    await expect(goals).to_have_text(HOSTILE)
    made = await goals.evaluate("dd => [...dd.querySelectorAll('*')].map(e => e.tagName)")
    assert made == [], f"elements made from typed text: {made}"
    assert await page.locator("a[href*='evil.example'], img").count() == 0
