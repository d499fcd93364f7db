"""The wall on the projector: the newest stories as cards, six to a page."""

from pages.views import register


@register("wall")
def wall(screen, stories) -> None:
    screen.wall(stories)
