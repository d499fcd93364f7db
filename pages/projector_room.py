"""What every projector layout shares: the story card, the wall and its pages, bylines.

The projector page builds one `Screen` per run and hands it, with the shaped data of the
exercise's view (`facilitation.views`), to the view's layout in `pages/views/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from facilitation import i18n, room
from pages.exercise_widgets import story_card

__all__ = ["Screen", "story_card"]


@dataclass
class Screen:
    """The projector being drawn: the live exercise, the stories the room may see, the page slot."""

    workshop: object
    snap: object
    exercise: object
    told: list
    labelled: set
    slot: int                       # the rotation step (see room.rotation_slot)
    theme: str                      # "dark" or "light"
    note_slot: object = None        # st.empty() in the header for "showing 6 of 20 · page 1 of 4"
    pages: int = field(default=1)   # pages of the biggest wall drawn; > 1 makes the projector turn them

    def line(self, story) -> str:
        """The byline the room may see under a story (anonymity rule applied)."""
        by = room.byline(story, show_names=self.workshop.show_names, labelled=self.labelled)
        return i18n.translator(self.workshop.language).gettext("Other functions") if by == room.OTHER_FUNCTIONS else by

    def first_name_only(self, story) -> str:
        """The teller's name when names are shown (the group heading already says the function)."""
        return story.author_name if self.workshop.show_names else ""

    def show_page(self, page: room.WallPage) -> None:
        """Say which part of a rotating wall is up, and make the projector turn the pages."""
        self.pages = max(self.pages, page.pages)
        if page.note and self.note_slot is not None:
            with self.note_slot.container(key="page-note"):
                st.text(page.note_in(i18n.translator(self.workshop.language).gettext))

    def card(self, story, **kwargs) -> None:
        """A compact story card with the room's byline."""
        story_card(self.exercise, story, show_author=False, compact=True, byline=self.line(story), **kwargs)

    def wall(self, stories: list, per_page: int = 6, per_row: int = 3) -> None:
        """Stories (newest first) as cards in rows, a page at a time."""
        page = room.wall_page(stories, per_page, self.slot)
        self.show_page(page)
        columns = st.columns(per_row, gap="medium")
        for i, story in enumerate(page.items):
            with columns[i % per_row]:
                self.card(story, additions=self.snap.build_ons(story.id)[-2:] if self.exercise.build_on else ())

    def grouped_wall(self, groups: dict, label, byline_of, *, per_column: int, columns_per_page: int,
                     extra_column: bool = False):
        """Every group on the wall: each group's stories in columns, the columns in pages that rotate.
        Returns the extra column (for something beside the groups) when asked for one."""
        page = room.wall_page(room.wall_columns(groups, per_column), columns_per_page, self.slot,
                              weight=lambda column: len(column[1]))
        self.show_page(page)
        columns = st.columns(columns_per_page + (1 if extra_column else 0), gap="medium")
        for i, (column, (group, stories, part, parts)) in enumerate(zip(columns, page.items)):
            with column:
                with st.container(key=f"group-{i}"):
                    st.text(label(group) + (f" ({part}/{parts})" if parts > 1 else ""))
                for story in stories:
                    story_card(self.exercise, story, show_author=False, compact=True, byline=byline_of(story))
        return columns[-1] if extra_column else None
