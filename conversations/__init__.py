"""The conversation engine and the mentoring domain.

Platform-neutral: events in, messages out. Never imports a platform SDK,
an HTTP library or the scheduler (an import-linter contract keeps it so), and
never reads the wall clock: `now` is always passed in.
"""
