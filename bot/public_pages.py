"""`GET /privacy` and `GET /terms`: the pages a Teams (or Slack) app listing links to.

Both are the bot's own privacy statement, the very text the `privacy` command answers
with (so the two never disagree), as a small readable HTML page; the terms page puts
the few rules of taking part before it. Every piece of text is escaped, and `code`
spans become <code>.
"""

from __future__ import annotations

import html
import re

from aiohttp import web

from conversations.commands.privacy import NO_BEARING, privacy_sections
from conversations.policy import Policy

_CODE = re.compile(r"`([^`]+)`")
_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;"
    "color:#1d1d1f}h1{font-size:1.6rem}h2{font-size:1.1rem;margin-top:1.5rem}"
    "code{background:#f1f1f3;padding:0 .25em;border-radius:3px}"
)
TERMS = (
    (
        "Taking part",
        "Joining the mentoring program is voluntary, and you can leave at any time with "
        "`/mentor leave`. " + NO_BEARING,
    ),
    (
        "Respect",
        "Treat your mentoring partner with respect and keep what they share in confidence. "
        "Do not use the bot for anything but the program.",
    ),
    (
        "Your data",
        "The bot stores what the privacy statement below lists, and nothing else; the program "
        "team sees counts and trends, never your notes.",
    ),
)


def _inline(text: str) -> str:
    return _CODE.sub(r"<code>\1</code>", html.escape(text))


def page(title: str, program: str, sections: list[tuple[str, str]]) -> str:
    """A complete HTML page of titled sections; every text escaped."""
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)} · {html.escape(program)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{html.escape(program)}</p>",
    ]
    for heading, body in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>\n<p>{_inline(body)}</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def routes(policy: Policy) -> list[web.RouteDef]:
    """The two pages for this program's policy (its privacy setting changes the text)."""
    privacy_sections_ = [*privacy_sections(policy), ("Performance reviews", NO_BEARING)]
    privacy_html = page("Privacy statement", policy.program_name, privacy_sections_)
    terms_html = page(
        "Terms of use",
        policy.program_name,
        [*TERMS, *(("Privacy: " + t, b) for t, b in privacy_sections(policy))],
    )

    async def privacy(request: web.Request) -> web.Response:
        return web.Response(text=privacy_html, content_type="text/html")

    async def terms(request: web.Request) -> web.Response:
        return web.Response(text=terms_html, content_type="text/html")

    return [web.get("/privacy", privacy), web.get("/terms", terms)]
