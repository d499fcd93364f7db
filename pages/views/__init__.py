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

from typing import Callable

from facilitation.views import ModuleScan

FALLBACK = "wall"
_layouts: dict[str, Callable] = {}
_phone: dict[str, Callable] = {}


def register(name: str, *, phone: bool = False):
    """Decorator: the projector layout (or, with `phone=True`, the phone part) of view `name`."""
    def add(fn: Callable) -> Callable:
        (_phone if phone else _layouts)[name] = fn
        return fn
    return add


_scan = ModuleScan(__name__)


def discover() -> None:
    """Import every module of this package (and any folder added to its `__path__`) once."""
    _scan(__path__)


def layout(name: str) -> Callable:
    """The projector layout registered for view `name`, else the wall's."""
    discover()
    return _layouts.get(name) or _layouts[FALLBACK]


def phone(name: str) -> Callable | None:
    """What view `name` shows on a participant's phone, if anything."""
    discover()
    return _phone.get(name)
