"""How long the domain's long steps take, for whoever watches (the process's metrics).

The domain stays free of any metrics library: it times a step by name, and the
composition root (bot/) registers an observer. With none registered, timing costs
two clock reads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Observer = Callable[[str, float], None]

_observers: list[Observer] = []


def watch(observer: Observer) -> None:
    """Call `observer(step, seconds)` after every timed step (once per observer)."""
    if observer not in _observers:
        _observers.append(observer)


@contextmanager
def timed(step: str) -> Iterator[None]:
    """Time the block (finished or failed) and tell every observer."""
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - start
        for observer in _observers:
            observer(step, seconds)
