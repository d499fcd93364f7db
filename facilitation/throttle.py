"""Slow down guessing and floods, per client address (not per browser session, which is free to renew).

A join code has 31**7 (about 27 billion, 34 bits) possible values, so guessing one is
impractical already; the throttles make sure nobody can even try quickly. They are keyed by the
client's address (`client_key`: an IPv4 address, or the /64 network of an IPv6 one), held in this
process's memory only, bounded in size, and need no database. The address is the TCP peer's, or
the one a trusted proxy names in X-Forwarded-For (STORY_RELAY_TRUSTED_PROXIES, facilitation/routes.py).

    wait = join_throttle.wait_seconds(address)
    if wait:
        show(too_many_tries(wait))          # and do not look the code up at all
    elif lookup(code) is None:
        join_throttle.record_failure(address)
    else:
        pass                                # a right code is not a guess: nothing to forget

Sizes, for a room behind one NAT address (conference Wi-Fi):
- wrong join codes: 60 a minute per address. A room of 500 mistypes a few dozen times while
  joining; a guesser gets one try a second, about 10^5 a day against 2.75*10^10 codes.
- wrong facilitator keys: 10 a minute per address (a key is pasted, not typed from a screen).
- joins: a burst of 150, then 4 a second per address (STORY_RELAY_JOIN_BURST scales both), and
  5 per browser session in 10 minutes. 500 people behind one NAT address who scan the QR code
  over a minute and a half all get in at the first press; if all 500 press Join within the same
  30 s, the last waits about 75 s (a countdown). One script is refused after its burst.
- new workshops: a burst of 20, then one every 30 s per address.
"""

from __future__ import annotations

import ipaddress
import math
import os
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


def client_key(address: str | None) -> str:
    """What the throttles count by: an IPv4 address, or the /64 network of an IPv6 one (one household
    or phone gets a whole /64, so single IPv6 addresses would give a guesser endless fresh keys)."""
    if not address:
        return "loopback"
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return address[:64]
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback"
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _english_ngettext(one: str, many: str, n: int) -> str:
    return one if n == 1 else many


def too_many_joins(wait_seconds: int, ngettext: Callable[[str, str, int], str] = _english_ngettext) -> str:
    """The message on the join form while this network joins too fast (`ngettext` of the room's language)."""
    return ngettext("Many people are joining from this network right now — press Join again in {n} second. "
                    "Your name stays in the form.",
                    "Many people are joining from this network right now — press Join again in {n} seconds. "
                    "Your name stays in the form.", wait_seconds).format(n=wait_seconds)


def too_many_workshops(wait_seconds: int) -> str:
    unit = "second" if wait_seconds == 1 else "seconds"
    return (f"Many workshops were created from this network in the last minutes — try again in {wait_seconds} {unit}. "
            "What you typed stays in the form.")


class RateLimit:
    """A token bucket per key: `burst` at once, then `per_second` more each second.

    `take(key)` spends one token and returns 0, or returns the whole seconds until one is free
    (and spends nothing). Thread-safe, bounded in size; `clock` is monotonic seconds.
    """

    def __init__(self, burst: float, per_second: float, *, clock: Callable[[], float] = time.monotonic,
                 max_tracked: int = MAX_TRACKED):
        if burst < 1 or per_second <= 0 or max_tracked < 1:
            raise ValueError("burst, per_second and max_tracked must be positive")
        self.burst, self.per_second, self.max_tracked = float(burst), float(per_second), max_tracked
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def take(self, key: str) -> int:
        with self._lock:
            now = self._clock()
            tokens, at = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.per_second)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                self._buckets.move_to_end(key)
                while len(self._buckets) > self.max_tracked:
                    self._buckets.popitem(last=False)
                return 0
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self.per_second))

    def give_back(self, key: str) -> None:
        """Return the token of an attempt that did not happen after all (the form was refused)."""
        with self._lock:
            if key in self._buckets:
                tokens, at = self._buckets[key]
                self._buckets[key] = (min(self.burst, tokens + 1), at)

    def tracked(self) -> int:
        with self._lock:
            return len(self._buckets)


def _setting(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, "") or default)
    except ValueError:
        return default
    return value if value > 0 else default


JOIN_BURST = _setting("STORY_RELAY_JOIN_BURST", 150)
JOIN_PER_SECOND = JOIN_BURST / 37.5  # 4 a second with the default burst

# One per process, shared by every session of this server (each replica has its own).
join_throttle = Throttle(60, 60.0)              # wrong join codes per address
facilitator_throttle = Throttle(10, 60.0)       # wrong facilitator keys per address
join_rate = RateLimit(JOIN_BURST, JOIN_PER_SECOND)  # joins per address (150 at once, then 4 a second)
session_join_rate = RateLimit(5, 5 / 600)       # joins per browser session
create_rate = RateLimit(20, 1 / 30)             # new workshops (and demo / restored ones) per address
