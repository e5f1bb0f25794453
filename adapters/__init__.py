"""Platform adapters: platform payload → neutral event, neutral message → platform, and
proactive sends. One sub-package per platform."""
