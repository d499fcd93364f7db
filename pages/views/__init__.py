"""Projector layouts of the room views, one module per view, registered by the view's name.

    from pages.views import register

    @register("cards")
    def cards(screen, shaped):   # screen: pages.projector_room.Screen; shaped: the view's shape(...)
        ...

A module may also register what the view shows on a participant's phone under the live form:
`@register("cards", phone=True)` on `def cards_phone(workshop, participant, item, exercise)` (it reads
the snapshot itself, e.g. `live_cache.snapshot(store(), workshop.id)` in a fragment that follows the room).
Modules are found with pkgutil on first use; a view without a projector layout gets the wall's.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Callable

FALLBACK = "wall"
_layouts: dict[str, Callable] = {}
_phone: dict[str, Callable] = {}
_found: set[str] = set()


def register(name: str, *, phone: bool = False):
    """Decorator: the projector layout (or, with `phone=True`, the phone part) of view `name`."""
    def add(fn: Callable) -> Callable:
        (_phone if phone else _layouts)[name] = fn
        return fn
    return add


_scanned: tuple = ()  # the __path__ last scanned: every run of every phone asks, the folders rarely change


def discover() -> None:
    """Import every module of this package (and any folder added to its `__path__`) once."""
    global _scanned
    if tuple(__path__) == _scanned:
        return
    for module in pkgutil.iter_modules(__path__):
        if module.name not in _found:
            _found.add(module.name)
            importlib.import_module(f"{__name__}.{module.name}")
    _scanned = tuple(__path__)


def layout(name: str) -> Callable:
    """The projector layout registered for view `name`, else the wall's."""
    discover()
    return _layouts.get(name) or _layouts[FALLBACK]


def phone(name: str) -> Callable | None:
    """What view `name` shows on a participant's phone, if anything."""
    discover()
    return _phone.get(name)
