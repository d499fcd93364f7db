"""Cards on the projector and the phone: the number large, the client story under it, a column per
kind of number; the most built-on cards come first and are drawn larger. On the phone, the build-on
list shows the same cards, and the author sees who built on theirs."""

from __future__ import annotations

import time
import uuid

import streamlit as st

from facilitation import controls, i18n, live_cache, room
from facilitation.report import shorten
from facilitation.views.cards import cards as shape_cards
from pages.common import LIVE_POLL_SECONDS, store
from pages import live as live_push
from pages.views import register

PER_COLUMN = 2          # a column holds two cards, or one card drawn larger
COLUMNS_PER_PAGE = 4


def pack(groups: list, weight, capacity: int = PER_COLUMN) -> list[list[tuple[object, list, int, int]]]:
    """Groups of cards in columns of `capacity` slots (a card takes `weight(card)`), a small group sharing
    a column with the next: each column a list of (group, its cards here, part, parts)."""
    columns: list[list] = []
    used = capacity
    for group, cards in groups:
        segments = []
        for card in cards:
            w = weight(card)
            if used + w > capacity:
                columns.append([])
                used = 0
                segments.append([card])
                columns[-1].append((group, segments[-1]))
            elif segments and columns[-1] and columns[-1][-1][1] is segments[-1]:
                segments[-1].append(card)
            else:
                segments.append([card])
                columns[-1].append((group, segments[-1]))
            used += w
    parts: dict = {}
    for column in columns:
        for group, _cards in column:
            parts[group] = parts.get(group, 0) + 1
    seen: dict = {}
    out = []
    for column in columns:
        row = []
        for group, cards in column:
            seen[group] = seen.get(group, 0) + 1
            row.append((group, cards, seen[group], parts[group]))
        out.append(row)
    return out


def draw_columns(screen, columns: list, label, draw, *, per_page: int) -> None:
    """A page of packed columns: each group's heading over its cards."""
    page = room.wall_page(columns, per_page, screen.slot, weight=lambda column: sum(len(c) for _g, c, _p, _n in column))
    screen.show_page(page)
    for i, (place, column) in enumerate(zip(st.columns(per_page, gap="medium"), page.items)):
        with place:
            for j, (group, cards, part, parts) in enumerate(column):
                with st.container(key=f"group-{i}-{j}"):
                    st.text(label(group) + (f" ({part}/{parts})" if parts > 1 else ""))
                for card in cards:
                    draw(card)


def number_card(card, byline: str, *, additions: int, phone: bool = False, language: str | None = None) -> None:
    """One card: the number, the client story, who told it, how often it was built on, the latest additions."""
    t = i18n.translator(language)
    s = card.story
    with st.container(border=True, key=f"story-grown-{s.id}" if card.grown and not phone else f"story-{s.id}"):
        # Cut at a word to what the card shows (two lines of number, about two lines per answer), so
        # the text never stops mid-line; a grown card has room for more, the phone shows it whole.
        with st.container(key=f"headline-number-{s.id}"):
            st.text((card.number if phone or card.grown else shorten(card.number, 40)) or t.gettext("(no number given)"))
        limit = None if phone else (150 if card.grown else 45)
        client = "\n".join(f"{label}: {text if limit is None else shorten(text, limit)}"
                           for label, text in card.client_story)
        if client:
            with st.container(key=f"headline-client-{s.id}"):
                st.text(client)
        if byline:
            with st.container(key=f"byline-{s.id}"):
                st.text(byline)
        if card.additions:
            with st.container(key=f"built-{s.id}"):
                st.text("+ " + t.ngettext("built on {n} time", "built on {n} times", len(card.additions)).format(
                    n=len(card.additions)))
        for i, a in enumerate(card.additions[-additions:] if additions else ()):
            with st.container(key=f"addition-{i}-{s.id}"):
                st.text(f"+ {a.text}" + (f" — {a.byline}" if a.byline else ""))


@register("cards")
def cards_view(screen, wall) -> None:
    gettext = i18n.translator(screen.workshop.language).gettext
    draw_columns(screen, pack(wall.groups, lambda card: PER_COLUMN if card.grown else 1),
                 lambda group: wall.group_name(group, gettext),
                 lambda card: number_card(card, screen.line(card.story), additions=1 if card.grown else 0,
                                          language=screen.workshop.language),
                 per_page=COLUMNS_PER_PAGE)


def _add(participant, story_id: int, key: str, language: str | None = None) -> None:
    _ = i18n.translator(language).gettext
    result = controls.build_on(store(), participant, story_id, st.session_state.get(f"cards-build-{key}", ""), key,
                               gettext=_)
    if result.ok:
        del st.session_state[f"cards-build-key-{story_id}"]
        st.session_state[f"cards-added-{story_id}"] = True
    else:
        st.session_state[f"cards-build-problem-{story_id}"] = " ".join(result.problems.values())


@register("cards", phone=True)
def cards_phone(workshop, participant, item, exercise) -> None:
    """Under the form: who built on this person's cards, then the others' cards to build on."""
    _ = i18n.translator(workshop.language).gettext

    @st.fragment(run_every=LIVE_POLL_SECONDS)
    def build_on_cards():
        snap = live_cache.snapshot(store(), workshop.id)
        live_push.follow(store(), workshop.id, "cards-phone", topics={"stories"}, revision=snap.workshop.revision,
                         min_interval=live_push.WALL_MIN_INTERVAL_S * 3)
        told = room.room_stories(snap, item)
        labelled = room.labelled_functions(told, show_names=workshop.show_names)
        wall = shape_cards(told, exercise, snap, labelled=labelled, show_names=workshop.show_names)
        # Most built-on first across every kind of number (the projector orders within each kind).
        every = sorted((c for _kind, group in wall.groups for c in group), key=lambda c: -len(c.additions))
        mine = [c for c in every if c.story.participant_id == participant.id and c.additions]
        if mine:
            with st.container(key="others-added-mine"):
                st.subheader(_("Others built on your story"))
                for card in mine:
                    with st.container(border=True, key=f"others-added-{card.story.id}"):
                        with st.container(key=f"headline-number-mine-{card.story.id}"):
                            st.text(card.number)
                        for a in card.additions:
                            st.text(f"+ {a.text}" + (f" — {a.byline}" if a.byline else ""))
        live = live_cache.live_exercise(store(), workshop.id)
        if not (exercise.build_on and live.accepting(time.time()) and item.voting != "open"):
            return
        others = [c for c in every if c.story.participant_id != participant.id]
        if not others:
            return
        st.subheader(_("Build on someone's story"))
        st.caption(_("Add what you know about the same client: why they bought, why they stay. "
                     "Stories built on most come first."))
        for card in others[:12]:
            with st.container(key=f"build-on-{card.story.id}"):
                number_card(card, room.byline(card.story, show_names=workshop.show_names, labelled=labelled),
                            additions=len(card.additions), phone=True, language=workshop.language)
                # The label is ours (an expander label is markdown) and never changes, so a box someone
                # is typing in stays open when others add to the same story.
                with st.expander(_("Add to this story")):
                    key = st.session_state.setdefault(f"cards-build-key-{card.story.id}", uuid.uuid4().hex)
                    st.text_area(_("Your addition"), key=f"cards-build-{key}", max_chars=controls.BUILD_ON_MAX_CHARS,
                                 height=80)
                    if problem := st.session_state.pop(f"cards-build-problem-{card.story.id}", None):
                        st.error(problem)
                    if st.session_state.pop(f"cards-added-{card.story.id}", False):
                        st.success(_("Added — the author sees it on their phone."), icon=":material/check_circle:")
                    st.button(_("Add"), key=f"cards-build-send-{key}", on_click=_add,
                              args=(participant, card.story.id, key, workshop.language))

    build_on_cards()
