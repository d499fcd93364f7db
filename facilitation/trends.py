"""Across workshops: is a seam between two functions closing from one workshop to the next?

An organisation that runs Story Relay every quarter wants to see each handoff's gap over
time. `gap_trend(store, workshop_id)` reads the workshops linked to this one and their visible
stories with SQLAlchemy Core, and gives one row per workshop and handoff. Linked means one
facilitator can open them all: workshops with the same facilitator key, and workshops joined to
one series by `link_workshop`, which asks for the other workshop's join code and facilitator
key. The organisation's name links nothing: anyone can type "Acme", nobody else has the key.
With names off in a workshop, a function that could point at one or two people is folded into
"Other functions" there, as on its own map (`room.named_functions`). A handoff here is a pair of functions, all stages
together: stages can be renamed between workshops, the seam between two teams stays.
`trend_figure(rows)` draws the handoffs most stories describe as lines over the workshop dates.

The rows are built by `trend_rows`, a pure function of the workshops and stories, with the
same rules as the journey map (`journey_map.map_roles`; gaps rescaled to 1–5; hidden stories
and additions to other stories left out).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Mapping

import sqlalchemy as sa

from .exercises import Exercise, library
from .journey_map import GAP_MAX, GAP_MIN, _THEMES, _FONT_FAMILY, _esc, _field, _gap, _make_figure, _name, map_roles
from .room import OTHER_FUNCTIONS, contributor, named_functions
from .store import Store, stories, trend_links, workshops
from .workshops import WorkshopInputError, facilitator_workshop

DEFAULT_TOP = 6
# Okabe & Ito's palette: told apart with every common form of colour blindness (and each line has its own dash).
LINE_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
LINE_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
TREND_EMPTY_NOTE = "The trend appears once two linked workshops have handoff stories"


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


LINK_REFUSED = ("That join code and facilitator key do not open a workshop on this server. "
                "Check both (the key was shown once, when the workshop was created) and try again.")


def _trend_workshop(r) -> TrendWorkshop:
    return TrendWorkshop(r.id, r.title, workshop_date(r.held_on, r.created_at))


def linked_workshops(store: Store, workshop_id: int) -> list[TrendWorkshop]:
    """This workshop and every workshop its facilitator can open through it, oldest first: the same
    facilitator key or the same series (`link_workshop`), and so on from those. [] for an unknown workshop."""
    with store.read() as conn:
        ids: set[int] = {workshop_id}
        while True:
            hashes = sa.select(workshops.c.facilitator_key_hash).where(workshops.c.id.in_(ids))
            series = sa.select(trend_links.c.series).where(trend_links.c.workshop_id.in_(ids))
            found = set(conn.execute(sa.select(workshops.c.id).where(workshops.c.facilitator_key_hash.in_(hashes))
                                     ).scalars())
            found |= set(conn.execute(sa.select(trend_links.c.workshop_id).where(trend_links.c.series.in_(series))
                                      ).scalars())
            if found <= ids:
                break
            ids |= found
        rows = conn.execute(sa.select(workshops.c.id, workshops.c.title, workshops.c.held_on, workshops.c.created_at)
                            .where(workshops.c.id.in_(ids))).all()
    return sorted((_trend_workshop(r) for r in rows), key=lambda w: (w.date, w.id))


def series_members(store: Store, workshop_id: int) -> list[TrendWorkshop]:
    """The workshops linked to this one by `link_workshop` (not by a shared key), oldest first."""
    with store.read() as conn:
        series = conn.execute(sa.select(trend_links.c.series).where(trend_links.c.workshop_id == workshop_id)
                              ).scalar_one_or_none()
        if series is None:
            return []
        found = conn.execute(sa.select(workshops.c.id, workshops.c.title, workshops.c.held_on, workshops.c.created_at)
                             .select_from(workshops.join(trend_links, trend_links.c.workshop_id == workshops.c.id))
                             .where(trend_links.c.series == series, workshops.c.id != workshop_id)).all()
    return sorted((_trend_workshop(r) for r in found), key=lambda w: (w.date, w.id))


def link_workshop(store: Store, workshop_id: int, code: str, key: str) -> TrendWorkshop:
    """Put another workshop into this workshop's trend, proven by its join code and facilitator key.

    Both end up in one series (two series already made are merged). Raises WorkshopInputError
    with a message for a person when the code and key do not open a workshop, or name this one.
    """
    other = facilitator_workshop(store, code, key)
    if other is None:
        raise WorkshopInputError({"link": LINK_REFUSED})
    if other.id == workshop_id:
        raise WorkshopInputError({"link": "That is this workshop: enter the code and key of another one."})
    with store.write() as conn:
        mine = conn.execute(sa.select(trend_links.c.series).where(trend_links.c.workshop_id == workshop_id)
                            ).scalar_one_or_none()
        theirs = conn.execute(sa.select(trend_links.c.series).where(trend_links.c.workshop_id == other.id)
                              ).scalar_one_or_none()
        series = mine or theirs or secrets.token_hex(16)
        if theirs is not None and theirs != series:
            conn.execute(sa.update(trend_links).where(trend_links.c.series == theirs).values(series=series))
        for wid, had in ((workshop_id, mine), (other.id, theirs)):
            if had is None:
                conn.execute(sa.insert(trend_links).values(workshop_id=wid, series=series))
    return TrendWorkshop(other.id, other.title, workshop_date(other.held_on, other.created_at))


def unlink_workshop(store: Store, workshop_id: int, other_id: int) -> None:
    """Take a workshop out of this workshop's series (this workshop itself too); nothing else changes."""
    with store.write() as conn:
        series = conn.execute(sa.select(trend_links.c.series).where(trend_links.c.workshop_id == workshop_id)
                              ).scalar_one_or_none()
        if series is None:
            return
        conn.execute(sa.delete(trend_links).where(trend_links.c.workshop_id == other_id,
                                                  trend_links.c.series == series))


def gap_trend(store: Store, workshop_id: int, exercises: Mapping[str, Exercise] | None = None) -> list[dict]:
    """Each handoff's mean gap per workshop linked to this one, oldest workshop first (see `trend_rows`).

    Reads the linked workshops (`linked_workshops`) and their visible stories (not hidden, not
    additions to another story) of the exercises that make handoffs, in one read transaction.
    """
    lib = library() if exercises is None else exercises
    keys = [k for k, ex in lib.items() if (r := map_roles(ex)) is not None and r.handoff]
    found = linked_workshops(store, workshop_id)
    if not found or not keys:
        return []
    by_id = {w.id: w for w in found}
    told: dict[int, list[tuple]] = defaultdict(list)
    query = (sa.select(stories.c.id, stories.c.workshop_id, stories.c.exercise_key, stories.c.function,
                       stories.c.answers, stories.c.participant_id, stories.c.proxy_name, workshops.c.show_names)
             .select_from(stories.join(workshops, workshops.c.id == stories.c.workshop_id))
             .where(stories.c.workshop_id.in_(list(by_id)), stories.c.exercise_key.in_(keys),
                    stories.c.hidden == sa.false(), stories.c.builds_on.is_(None))
             .order_by(stories.c.workshop_id, stories.c.created_at, stories.c.id))
    with store.read() as conn:
        rows = conn.execute(query).all()
    for wid in by_id:
        mine = [r for r in rows if r.workshop_id == wid]
        folds = _anonymous_folds(mine) if mine and not mine[0].show_names else None
        told[wid] = [(r.exercise_key, folds.get((r.exercise_key, r.function), OTHER_FUNCTIONS) if folds is not None
                      else r.function, r.answers) for r in mine]
    return trend_rows(((w, told.get(w.id, [])) for w in found), lib)


def _anonymous_folds(rows) -> dict[tuple[str, str], str]:
    """(exercise, teller's function) → the function a workshop with names off may show (room's rule)."""
    contributors: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for r in rows:
        contributors[r.exercise_key][r.function].add(contributor(r.participant_id, r.function, r.proxy_name, r.id))
    folds = {}
    for key, by_function in contributors.items():
        named = named_functions(by_function)
        folds.update({(key, f): f if f in named else OTHER_FUNCTIONS for f in by_function})
    return folds


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


def in_words(rows: list[dict], *, top: int = DEFAULT_TOP) -> list[str]:
    """The trend chart as text (its equivalent for a screen reader): per handoff on the chart, its mean
    gap in each workshop, oldest first. Plain text, not escaped."""
    lines = []
    for src, dst in top_handoffs(rows, top):
        points = [f"{r['workshop']} ({r['date'].isoformat()}): "
                  + (f"mean gap {r['mean gap']:.1f}" if r["mean gap"] is not None else "not scored")
                  + f", {r['stories']} {'story' if r['stories'] == 1 else 'stories'}"
                  for r in rows if (r["from"], r["to"]) == (src, dst)]
        lines.append(f"{src} to {dst}: " + "; ".join(points) + ".")
    return lines


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
