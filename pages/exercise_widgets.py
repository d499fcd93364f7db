"""Generic rendering of an exercise from its declarative file: form fields and story cards."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from facilitation import commitments, i18n
from facilitation.exercises import Exercise, Field
from facilitation.handoff_sides import handoff_text
from facilitation.workshops import Story, Workshop


def field_widget(f: Field, key: str, workshop: Workshop, partners: list[str], *, disabled: bool = False,
                 on_change=None, args: tuple = (), handoffs: dict[str, str] | None = None,
                 serves: list[str] = ()):
    """One widget for one field; returns its value (max_chars is only the browser's hint).

    `handoffs` (value → label) are the choices of a field of kind "handoff": the handoffs other
    functions said they make to the teller's own (facilitation.handoff_sides); `serves` those of a
    field of kind "story_or_handoff": today's handoffs and stories (facilitation.commitments)."""
    _ = i18n.translator(workshop.language).gettext
    label = f.label if f.required else _("{label} (optional)").format(label=f.label)
    common = dict(key=key, help=f.help or None, disabled=disabled, on_change=on_change, args=args)
    if f.kind == "handoff":
        offered = handoffs or {}
        return st.selectbox(label, list(offered), index=None, format_func=lambda v: offered.get(v, str(v)),
                            placeholder=_("Choose…") if offered else _("Nobody has handed a customer to you yet"), **common)
    if f.kind == "short_text":
        return st.text_input(label, max_chars=f.max_chars, placeholder=f.placeholder or None, **common)
    if f.kind == "long_text":
        return st.text_area(label, max_chars=f.max_chars, placeholder=f.placeholder or None, height=110, **common)
    if f.kind in ("function", "stage", "choice", "partner", "story_or_handoff"):
        options = field_options(f, workshop, partners, serves=serves)
        if f.kind == "story_or_handoff" and not options:
            st.caption(_("Nothing from today to pick yet: stories and handoffs appear here once the room has told "
                         "them. Leave this one empty."))
        return st.selectbox(label, options, index=None, placeholder=_("Choose…"),
                            format_func=f.option_label if f.kind == "choice" else
                            (lambda v: commitments.serve_label(v, workshop.language)) if f.kind == "story_or_handoff"
                            else str, **common)
    if f.kind == "scale":
        def describe(n: int) -> str:
            if n == f.scale_min and f.scale_low:
                return f"{n} · {f.scale_low}"
            if n == f.scale_max and f.scale_high:
                return f"{n} · {f.scale_high}"
            return str(n)
        return st.radio(label, list(range(f.scale_min, f.scale_max + 1)), index=None, horizontal=True,
                        format_func=describe, **common)
    if f.kind == "date":
        return st.date_input(label, value=None, min_value=dt.date.today() - dt.timedelta(days=3650), **common)
    raise ValueError(f"no widget for field kind {f.kind!r}")


def field_readings(fields, workshop: Workshop, partners: list[str], handoffs: dict[str, str] | None = None,
                   *, serves: list[str] = ()) -> list[dict]:
    """How the browser reads each field's answer off the page, as `field_widget` draws it (pages/live.py
    `send_by_post`): text as typed, a selectbox's shown label back to its value, a scale's position, a
    date as ISO text. Two options with the same label cannot be told apart: that field is "unreadable"
    and the form's own Send is used."""
    readings = []
    for f in fields:
        if f.kind in ("short_text", "long_text"):
            readings.append({"name": f.name, "kind": "text"})
        elif f.kind == "scale":
            readings.append({"name": f.name, "kind": "radio", "options": list(range(f.scale_min, f.scale_max + 1))})
        elif f.kind == "date":
            readings.append({"name": f.name, "kind": "date"})
        elif f.kind == "handoff" or f.kind in ("function", "stage", "choice", "partner", "story_or_handoff"):
            if f.kind == "handoff":
                labels = [(label, value) for value, label in (handoffs or {}).items()]
            else:
                label_of = (f.option_label if f.kind == "choice" else
                            (lambda v: commitments.serve_label(v, workshop.language)) if f.kind == "story_or_handoff" else str)
                labels = [(label_of(v), v) for v in field_options(f, workshop, partners, serves=serves)]
            by_label = dict(labels)
            readings.append({"name": f.name, "kind": "select", "labels": by_label} if len(by_label) == len(labels)
                            else {"name": f.name, "kind": "unreadable"})
        else:
            readings.append({"name": f.name, "kind": "unreadable"})
    return readings


def field_options(f: Field, workshop: Workshop, partners: list[str], *, serves: list[str] = ()) -> list:
    return {"function": workshop.functions, "stage": workshop.stages, "choice": list(f.options),
            "partner": partners, "story_or_handoff": list(serves)}.get(f.kind, [])


def widget_value(f: Field, value, workshop: Workshop, partners: list[str], handoffs: dict[str, str] | None = None,
                 *, serves: list[str] = ()):
    """A stored answer (JSON) as the value its widget takes, or None when it no longer fits."""
    if value is None:
        return None
    if f.kind == "handoff":
        return value if value in (handoffs or {}) else None
    if f.kind == "date":
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            return None
    if f.kind in ("function", "stage", "choice", "partner", "story_or_handoff"):
        return value if value in field_options(f, workshop, partners, serves=serves) else None
    if f.kind == "scale":
        return value if isinstance(value, int) and f.scale_min <= value <= f.scale_max else None
    return value if isinstance(value, str) else None


def json_value(value):
    """A widget's value as it is stored in a draft (dates as ISO text)."""
    return value.isoformat() if isinstance(value, dt.date) else value


def answer_text(f: Field, value, language: str | None = None, *, shown_handoff=None) -> str:
    """An answer as plain text for display (a choice by its label in the exercise's language); `shown_handoff`
    (handoff_sides.anonymous_handoffs) folds the sending function of a handoff answer on a screen that keeps
    names off."""
    if value is None:
        return ""
    if f.kind == "scale":
        return i18n.translator(language).gettext("{value} of {maximum}").format(value=value, maximum=f.scale_max)
    if f.kind == "choice":
        return f.option_label(value)
    if f.kind == "handoff":
        return handoff_text(shown_handoff(value) if shown_handoff else value, language)
    if f.kind == "story_or_handoff":
        return commitments.serve_label(value, language)
    return str(value)


def story_card(exercise: Exercise, story: Story, *, show_author: bool, compact: bool = False, byline: str | None = None,
               dots: int | None = None, additions: list[Story] = ()) -> None:
    """A story as the room sees it; all participant text goes through st.text (no markdown, no HTML)."""
    t = i18n.translator(exercise.language)
    with st.container(border=True, key=f"story-{story.id}"):
        with st.container(key=f"headline-{story.id}"):
            st.text(story.answers.get(exercise.headline, ""))
        if byline is None:
            byline = story.function if not show_author or not story.author_name else f"{story.author_name} · {story.function}"
            if story.by_proxy:
                byline += " " + t.gettext("(entered by the facilitator)")
        if byline:
            with st.container(key=f"byline-{story.id}"):
                st.text(byline)
        if dots:  # the room's votes on a line of their own, never lost in the byline
            with st.container(key=f"dots-{story.id}"):
                st.text(f"{'●' * min(dots, 12)} " + t.ngettext("{n} dot", "{n} dots", dots).format(n=dots))
        if not compact:
            for f in exercise.fields:
                if f.name == exercise.headline or f.name not in story.answers:
                    continue
                st.text(f"{f.label}\n{answer_text(f, story.answers[f.name], exercise.language)}")
        for addition in additions:
            with st.container(key=f"addition-{addition.id}"):
                st.text(f"+ {addition.answers.get('addition', '')}")
