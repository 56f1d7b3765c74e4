"""The garbage collector paused while a batch is scored.

A 1,000-deal request makes ~100k short-lived objects (structs, times, feature lists, result dicts); each 700 of them
start a collection pass, ~10 ms of a 1,000-deal request (docs/performance.md). They are freed by reference counting
as the request ends, so the collector is paused while batches are scored and resumed after, never left off. The
pause nests across threads: the collector resumes when the last paused batch ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_paused = 0


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the collector for the block (a no-op where it was already off and not by this module)."""
    global _paused
    with _lock:
        ours = _paused > 0 or gc.isenabled()
        if ours:
            _paused += 1
            gc.disable()
    try:
        yield
    finally:
        if ours:
            with _lock:
                _paused -= 1
                if _paused == 0:
                    gc.enable()
