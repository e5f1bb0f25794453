"""The weekly HR digest: its figures, the trend chart, its message and the sweep that
posts it on schedule."""
