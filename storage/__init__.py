"""Persistence: SQLAlchemy models, repositories, the outbox and migrations.

The only package that writes SQL. Everything the scheduler and the engine know
lives here, so any process (or replica) can pick up where another left off.
"""
