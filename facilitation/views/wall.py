"""The wall: the newest stories as cards; in the report, every story by function."""

from . import View, register


@register
class Wall(View):
    name = "wall"
