"""One module per command; each exposes COMMAND, a CommandSpec."""
