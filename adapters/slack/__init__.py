"""Slack: slash commands, buttons, modals, App Home and DMs through slack-bolt's AsyncApp.

`translate` (payload → neutral event) and `render_block_kit` (neutral message →
Block Kit) are pure; `listeners` wires them into bolt; `sender` delivers the
outbox; `transport` mounts it all on the project's aiohttp app or Socket Mode.
"""
