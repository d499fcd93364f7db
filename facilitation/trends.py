"""Across workshops: is a seam between two functions closing from one workshop to the next?

An organisation that runs Story Relay every quarter wants to see each handoff's gap over
time. `gap_trend(store, organisation)` reads that organisation's workshops (the name
compared without case or surrounding spaces) and their visible stories with SQLAlchemy Core,
and gives one row per workshop and handoff. A handoff here is a pair of functions, all stages
together: stages can be renamed between workshops, the seam between two teams stays.
`trend_figure(rows)` draws the handoffs most stories describe as lines over the workshop dates.

The rows are built by `trend_rows`, a pure function of the workshops and stories, with the
same rules as the journey map (`journey_map.map_roles`; gaps rescaled to 1–5; hidden stories
and additions to other stories left out).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Mapping

import sqlalchemy as sa

from .exercises import Exercise, library
from .journey_map import GAP_MAX, GAP_MIN, _THEMES, _FONT_FAMILY, _esc, _field, _gap, _make_figure, _name, map_roles
from .store import Store, stories, workshops

DEFAULT_TOP = 6
# Okabe & Ito's palette: told apart with every common form of colour blindness (and each line has its own dash).
LINE_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
LINE_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
TREND_EMPTY_NOTE = "The trend appears once two workshops of this organisation have handoff stories"


@dataclass(frozen=True)
class TrendWorkshop:
    """One workshop on the time axis."""

    id: int
    title: str
    date: dt.date


def workshop_date(held_on: dt.date | None, created_at: float) -> dt.date:
    """When a workshop took place: its date if the facilitator gave one, else the day it was created (UTC)."""
    if held_on is not None:
        return held_on
    return dt.datetime.fromtimestamp(created_at, tz=dt.timezone.utc).date()


def trend_rows(items: Iterable[tuple[TrendWorkshop, Iterable[tuple[str, str, dict]]]],
               exercises: Mapping[str, Exercise] | None = None) -> list[dict]:
    """One row per workshop and handoff (pure): from `(workshop, [(exercise key, teller's function, answers)])`.

    Row keys: workshop_id, workshop, date, from, to, handoff ("A → B"), stories, scored,
    mean gap (None if no story scored it). Sorted by date, workshop id, then handoff.
    """
    lib = library() if exercises is None else exercises
    roles = {k: (ex, r) for k, ex in lib.items() if (r := map_roles(ex)) is not None and r.handoff}
    rows: list[dict] = []
    for workshop, told in items:
        counts: dict[tuple[str, str], list] = defaultdict(lambda: [0, []])
        for key, function, answers in told:
            found = roles.get(key)
            if found is None or not isinstance(answers, dict):
                continue
            ex, r = found
            src = _name(answers.get(r.function)) if r.function else ""
            src = src or _name(function)
            dst = _name(answers.get(r.handoff.get("to_function", "")))
            stage = _name(answers.get(r.stage))
            if not src or not dst or not stage:
                continue
            entry = counts[(src, dst)]
            entry[0] += 1
            gap = _gap(answers.get(r.handoff.get("gap", "")), _field(ex, r.handoff.get("gap")))
            if gap is not None:
                entry[1].append(gap)
        for (src, dst), (n, gaps) in counts.items():
            rows.append({
                "workshop_id": workshop.id, "workshop": workshop.title, "date": workshop.date,
                "from": src, "to": dst, "handoff": f"{src} → {dst}", "stories": n, "scored": len(gaps),
                "mean gap": sum(gaps) / len(gaps) if gaps else None,
            })
    rows.sort(key=lambda r: (r["date"], r["workshop_id"], r["from"].casefold(), r["to"].casefold()))
    return rows


def organisation_workshops(store: Store, organisation: str) -> list[TrendWorkshop]:
    """The organisation's workshops, oldest first ([] for a blank name)."""
    name = organisation.strip().lower()
    if not name:
        return []
    with store.read() as conn:
        found = conn.execute(
            sa.select(workshops.c.id, workshops.c.title, workshops.c.held_on, workshops.c.created_at)
            .where(sa.func.lower(sa.func.trim(workshops.c.organisation)) == name)).all()
    out = [TrendWorkshop(r.id, r.title, workshop_date(r.held_on, r.created_at)) for r in found]
    out.sort(key=lambda w: (w.date, w.id))
    return out


def gap_trend(store: Store, organisation: str, exercises: Mapping[str, Exercise] | None = None) -> list[dict]:
    """Each handoff's mean gap per workshop of `organisation`, oldest workshop first (see `trend_rows`).

    Reads the workshops and their visible stories (not hidden, not additions to another story)
    of the exercises that make handoffs, in one read transaction.
    """
    lib = library() if exercises is None else exercises
    keys = [k for k, ex in lib.items() if (r := map_roles(ex)) is not None and r.handoff]
    found = organisation_workshops(store, organisation)
    if not found or not keys:
        return []
    by_id = {w.id: w for w in found}
    told: dict[int, list[tuple[str, str, dict]]] = defaultdict(list)
    query = (sa.select(stories.c.workshop_id, stories.c.exercise_key, stories.c.function, stories.c.answers)
             .where(stories.c.workshop_id.in_(list(by_id)), stories.c.exercise_key.in_(keys),
                    stories.c.hidden == sa.false())
             .order_by(stories.c.workshop_id, stories.c.created_at, stories.c.id))
    if "builds_on" in stories.c:
        query = query.where(stories.c.builds_on.is_(None))
    with store.read() as conn:
        for r in conn.execute(query):
            told[r.workshop_id].append((r.exercise_key, r.function, r.answers))
    return trend_rows(((w, told.get(w.id, [])) for w in found), lib)


def trend_workshop_count(rows: list[dict]) -> int:
    """How many workshops the trend rows cover."""
    return len({r["workshop_id"] for r in rows})


def top_handoffs(rows: list[dict], top: int = DEFAULT_TOP) -> list[tuple[str, str]]:
    """The (from, to) pairs with the most stories over all workshops, most first (ties by name)."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        totals[(r["from"], r["to"])] += r["stories"]
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0][0].casefold(), kv[0][1].casefold()))
    return [pair for pair, _n in ranked[:max(0, top)]]


def trend_figure(rows: list[dict], *, top: int = DEFAULT_TOP, theme: str = "light", height: int = 520):
    """Lines of mean gap (1–5) over workshop dates, one per handoff, for the `top` handoffs by story count.

    Each line has its own colour (Okabe–Ito) and dash pattern, so the legend can be read without
    telling colours apart; hover gives the workshop, stories and mean gap (all text escaped).
    """
    if theme not in _THEMES:
        raise ValueError(f"theme must be one of {', '.join(_THEMES)}, not {theme!r}")
    t = _THEMES[theme]
    pairs = top_handoffs(rows, top)
    dates = sorted({r["date"] for r in rows})
    traces: list[dict] = []
    annotations: list[dict] = []
    for k, (src, dst) in enumerate(pairs):
        points = [r for r in rows if (r["from"], r["to"]) == (src, dst) and r["mean gap"] is not None]
        if not points:
            continue
        colour = LINE_COLOURS[k % len(LINE_COLOURS)]
        name = _esc(f"{src} → {dst}")
        traces.append({
            "type": "scatter", "mode": "lines+markers", "name": name,
            "x": [p["date"].isoformat() for p in points], "y": [round(p["mean gap"], 2) for p in points],
            "line": {"color": colour, "width": 4, "dash": LINE_DASHES[k % len(LINE_DASHES)]},
            "marker": {"size": 11, "color": colour, "line": {"color": t["paper"], "width": 1.5}},
            "hovertext": [f"<b>{name}</b><br>{_esc(p['workshop'])} · {p['date'].isoformat()}<br>"
                          f"{p['stories']} {'story' if p['stories'] == 1 else 'stories'} · mean gap {p['mean gap']:.1f}"
                          for p in points],
            "hoverinfo": "text",
        })
    if not traces:
        annotations.append({"xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False,
                            "text": TREND_EMPTY_NOTE, "font": {"size": 20, "color": t["muted"]}})
    axis = {"showgrid": True, "gridcolor": t["rule"], "zeroline": False, "linecolor": t["rule"],
            "tickfont": {"size": 16, "color": t["text"]}, "fixedrange": True}
    layout = {
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 30, "b": 60, "autoexpand": True},
        "paper_bgcolor": t["paper"], "plot_bgcolor": t["paper"],
        "font": {"family": _FONT_FAMILY, "size": 16, "color": t["text"]},
        "xaxis": {**axis, "type": "date", "tickvals": [d.isoformat() for d in dates],
                  "ticktext": [d.strftime("%d %b %Y") for d in dates], "title": {"text": "Workshop date"}},
        "yaxis": {**axis, "range": [GAP_MIN - 0.2, GAP_MAX + 0.2], "tickvals": [1, 2, 3, 4, 5],
                  "title": {"text": "Mean gap (1 barely any – 5 a canyon)"}},
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "font": {"size": 15, "color": t["text"]},
                   "bgcolor": "rgba(0,0,0,0)"},
        "showlegend": True,
        "annotations": annotations,
        "hovermode": "closest",
        "hoverlabel": {"font": {"size": 15, "color": t["text"]}, "align": "left", "bgcolor": t["hover_bg"],
                       "bordercolor": t["rule"]},
        "dragmode": False,
        "template": {"data": {"scatter": [{"type": "scatter"}]}},
    }
    return _make_figure({"data": traces, "layout": layout})
