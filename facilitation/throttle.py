"""Slow down guessing: after a few wrong tries in a short time, one browser session has to wait.

A join code has 31**7 (about 27 billion, 34 bits) possible values, so guessing one is
impractical already; the throttle makes sure a session cannot even try quickly. It is keyed
by whatever identifies the caller (the page passes its Streamlit session id), held in this
process's memory only, bounded in size, and needs no database.

    wait = join_throttle.wait_seconds(session_id)
    if wait:
        show(too_many_tries(wait))          # and do not look the code up at all
    elif lookup(code) is None:
        join_throttle.record_failure(session_id)
    else:
        join_throttle.record_success(session_id)
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from typing import Callable

MAX_FAILURES = 5
WINDOW_SECONDS = 60.0
MAX_TRACKED = 10_000  # sessions remembered at once; the least recently seen are forgotten first


def too_many_tries(wait_seconds: int) -> str:
    """The message a person sees while throttled."""
    unit = "second" if wait_seconds == 1 else "seconds"
    return f"Too many tries — wait {wait_seconds} {unit}, then check the code on the screen and try again."


class Throttle:
    """At most `max_failures` failures per key in any `window_seconds`; then wait until the oldest ages out.

    Thread-safe. `clock` is monotonic seconds (tests pass a fake one).
    """

    def __init__(self, max_failures: int = MAX_FAILURES, window_seconds: float = WINDOW_SECONDS, *,
                 clock: Callable[[], float] = time.monotonic, max_tracked: int = MAX_TRACKED):
        if max_failures < 1 or window_seconds <= 0 or max_tracked < 1:
            raise ValueError("max_failures, window_seconds and max_tracked must be positive")
        self.max_failures = max_failures
        self.window_seconds = float(window_seconds)
        self.max_tracked = max_tracked
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window_seconds:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def wait_seconds(self, key: str) -> int:
        """Whole seconds this key must wait before its next try; 0 when it may try now."""
        with self._lock:
            now = self._clock()
            times = self._recent(key, now)
            if times is None or len(times) < self.max_failures:
                return 0
            return max(1, math.ceil(times[-self.max_failures] + self.window_seconds - now))

    def record_failure(self, key: str) -> int:
        """Count one wrong try; returns the wait that now applies (0 if none)."""
        with self._lock:
            now = self._clock()
            times = self._recent(key, now)
            if times is None:
                times = self._failures[key] = deque(maxlen=self.max_failures)
            times.append(now)
            self._failures.move_to_end(key)
            while len(self._failures) > self.max_tracked:
                self._failures.popitem(last=False)
        return self.wait_seconds(key)

    def record_success(self, key: str) -> None:
        """A right answer forgets the key's earlier wrong ones."""
        with self._lock:
            self._failures.pop(key, None)

    def tracked(self) -> int:
        with self._lock:
            return len(self._failures)


# One per process, shared by every session of this server (each replica has its own).
join_throttle = Throttle()
facilitator_throttle = Throttle()
