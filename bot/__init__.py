"""Composition root: configuration, the aiohttp app, scheduler, delivery and the CLI."""
