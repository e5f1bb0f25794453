"""The local adapter: a web chat and a console, the embedded default with no platform."""
