"""Plotly figures as PNG bytes, drawn by one headless Chromium kept warm for the process.

    png = figure_png(fig, width=1400, height=700)      # bytes, or None
    if png is None:
        reason = last_error()                          # a sentence for a log or a note

`warm_up()` starts the browser in the background ahead of the first picture.
`figure_png` never raises: when no browser can be found, the browser will not start, or
a drawing fails or takes too long, it returns None and `last_error()` says why, for the
calling thread (the report then writes a note and keeps the table); `browser_missing()`
tells whether the reason is that no browser was found. Calls are serialised by a lock, so the
Streamlit threads of several sessions can share the one browser.

How the browser is found (kaleido 1.x delegates this to choreographer):
1. `BROWSER_PATH` if set. This module sets it to `/usr/bin/chromium` when that file
   exists and the variable is not already set (the Debian/Ubuntu package location).
2. Otherwise choreographer's search: a browser fetched with `kaleido_get_chrome` /
   `choreo_get_chrome`, then chrome, chromium, msedge, brave … on PATH and in their
   usual install folders.
Chromium is started with `--no-sandbox` (choreographer's default, `enable_sandbox=False`),
which is what lets it run as root inside a container. MathJax is switched off so that a
server without internet never waits for a CDN; plotly.js comes from the installed plotly.

Each picture is handed back before kaleido reloads its browser tab for the next one (see
`_kaleido_class`), which saves 0.3 to 0.9 s per picture.

Why not `kaleido.start_sync_server()`: in kaleido 1.5, when the browser cannot start the
server thread dies and every later `calc_fig_sync()` blocks forever on a queue that
nobody serves. Here the same `kaleido.Kaleido` runs on an event-loop thread of our own,
and every wait has a timeout. A browser that failed is closed and started afresh on the
next call; after a failed start we wait `RETRY_AFTER_SECONDS` before trying again, so a
server without Chromium answers None at once instead of searching on every report.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import threading
import time
from typing import Any

if os.path.isfile("/usr/bin/chromium"):
    os.environ.setdefault("BROWSER_PATH", "/usr/bin/chromium")

START_TIMEOUT_SECONDS = 45.0
RENDER_TIMEOUT_SECONDS = 60.0
RETRY_AFTER_SECONDS = 60.0
_NOT_FOUND = "No Chromium or Chrome browser was found on this server"
MAX_PIXELS = 40_000_000  # width * height * scale²; beyond this Chromium runs out of canvas

_lock = threading.Lock()
_renderer: _Renderer | None = None
_failed_start_at: float | None = None
_start_error: str | None = None   # why the browser last failed to start (shared by all threads)
_local = threading.local()        # .error: why this thread's last figure_png returned None


class _Renderer:
    """One kaleido browser on its own event loop in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="figure-images", daemon=True)
        self.thread.start()
        self.kaleido: Any = None
        try:
            self.kaleido = self._call(self._open(), START_TIMEOUT_SECONDS)
        except BaseException:
            self.close()
            raise

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def _call(self, coro, timeout: float):
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"took longer than {timeout:.0f} s") from None

    @staticmethod
    async def _open():
        import kaleido  # imported late: importing it is slow and needs nothing until a picture is asked for

        k = _kaleido_class(kaleido)(n=1, timeout=RENDER_TIMEOUT_SECONDS, mathjax=False)
        await k.open()
        return k

    def render(self, fig_dict: dict, opts: dict) -> bytes:
        return self._call(self.kaleido.calc_fig(fig_dict, opts=opts), RENDER_TIMEOUT_SECONDS + 5)

    def close(self) -> None:
        if self.kaleido is not None:
            try:
                self._call(self.kaleido.close(), 15)
            except BaseException:  # noqa: BLE001 - closing a broken browser may fail in many ways
                pass
            self.kaleido = None
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def _kaleido_class(kaleido):
    """kaleido.Kaleido, changed to hand the picture back before it reloads its browser tab.

    After every picture kaleido 1.x reloads the tab (plotly.js and all: 0.3 to 0.9 s) and only
    then returns the bytes. Here the reload runs in the background on the renderer's event loop,
    so the caller has the picture at once; the next picture waits for the tab as before (kaleido
    queues the tab only once it has reloaded). Falls back to the plain class if kaleido's
    internals are not what this expects."""
    base = kaleido.Kaleido
    if not asyncio.iscoroutinefunction(getattr(base, "_return_kaleido_tab", None)):
        return base

    class EagerKaleido(base):
        async def _return_kaleido_tab(self, tab) -> None:
            pending = self.__dict__.setdefault("_story_relay_reloads", set())

            async def reload() -> None:
                try:
                    await base._return_kaleido_tab(self, tab)
                except Exception:  # noqa: BLE001 - a tab that did not reload: queue it anyway, so the
                    self.tabs_ready.put_nowait(tab)  # next picture fails fast and the browser is restarted

            task = asyncio.ensure_future(reload())
            pending.add(task)
            task.add_done_callback(pending.discard)

    return EagerKaleido


def _describe(exc: BaseException) -> str:
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if name == "ChromeNotFoundError":
        return f"{_NOT_FOUND} (install the chromium package, or set BROWSER_PATH to a Chrome/Chromium executable)."
    return f"{name}: {text}" if text else name


def last_error() -> str | None:
    """Why this thread's most recent `figure_png` call returned None; None after a success.

    Kept per thread, so two Streamlit sessions drawing at once each read their own reason.
    """
    return getattr(_local, "error", None)


def browser_missing() -> bool:
    """True when this thread's last `figure_png` failed because no browser could be found."""
    return (last_error() or "").find(_NOT_FOUND) >= 0


def _fail(message: str | None) -> None:
    _local.error = message


def figure_png(fig, width: int, height: int, scale: float = 2) -> bytes | None:
    """The figure drawn as a PNG of `width`×`height` CSS pixels times `scale`, or None.

    Never raises. On None, `last_error()` holds the reason. The first call in a process
    starts the browser (3 to 6 s, unless `warm_up()` did it already); later calls reuse it
    (well under a second for a small figure, about 4 s for a map of 1,500 stories at scale 2).
    """
    global _renderer
    try:
        fig_dict = fig.to_dict() if hasattr(fig, "to_dict") else dict(fig)
        width, height = int(width), int(height)
        if width < 10 or height < 10 or width * height * scale * scale > MAX_PIXELS:
            raise ValueError(f"a picture of {width}×{height} at scale {scale} is not a sensible size")
        opts = {"format": "png", "width": width, "height": height, "scale": scale}
    except Exception as exc:  # noqa: BLE001 - documented: never raises
        _fail(f"The figure could not be prepared: {_describe(exc)}")
        return None

    with _lock:
        for attempt in (1, 2):
            warm = _renderer is not None
            if not warm and not _start():
                _fail(_start_error)
                return None
            try:
                png = _renderer.render(fig_dict, opts)
            except BaseException as exc:  # noqa: BLE001
                _fail(f"The picture could not be drawn: {_describe(exc)}")
                _renderer.close()
                _renderer = None
                if warm and attempt == 1:
                    continue  # a browser that sat idle may have died; try once with a fresh one
                return None
            if not isinstance(png, (bytes, bytearray)) or not png.startswith(b"\x89PNG"):
                _fail("The picture browser returned something that is not a PNG.")
                return None
            _fail(None)
            return bytes(png)
    return None  # pragma: no cover


def _start() -> bool:
    """Start the browser unless it runs or failed to start a moment ago (hold _lock)."""
    global _renderer, _start_error, _failed_start_at
    if _renderer is not None:
        return True
    if _failed_start_at is not None and time.monotonic() - _failed_start_at < RETRY_AFTER_SECONDS:
        return False
    try:
        _renderer = _Renderer()
    except BaseException as exc:  # noqa: BLE001
        _failed_start_at = time.monotonic()
        _start_error = f"The picture browser could not start: {_describe(exc)}"
        return False
    _failed_start_at = _start_error = None
    return True


def warm_up() -> None:
    """Start the browser in a background thread and return at once, so that the first picture
    (say, when the report page opens) does not wait the few seconds Chromium takes to start."""
    def run() -> None:
        with _lock:
            _start()

    threading.Thread(target=run, name="figure-images-warm-up", daemon=True).start()


def shutdown(timeout: float = 5.0) -> None:
    """Close the warm browser (also done at interpreter exit). Gives up after `timeout`
    seconds if a picture is being drawn; the browser then dies with the process."""
    global _renderer
    if not _lock.acquire(timeout=timeout):
        return
    try:
        if _renderer is not None:
            _renderer.close()
            _renderer = None
    finally:
        _lock.release()


def reset() -> None:
    """Forget a failed start so the next call tries again at once (for tests and admins)."""
    global _failed_start_at, _start_error
    with _lock:
        _failed_start_at = _start_error = None
        _local.error = None


atexit.register(shutdown)
