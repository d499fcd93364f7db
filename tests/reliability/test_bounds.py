"""Bounded input and bounded drawing (issue 11, item 1).

A workshop is small by rule: every list a facilitator types is bounded on the server with a
message for a person. A workshop that got into the database some other way (a row written by
hand, an old server) is drawn within a bounded cost anyway: the map, the projector and the
report draw at most MAX_LANES_DRAWN lanes and MAX_STAGES_DRAWN columns and say so.

The huge workshop is drawn in a child process with a 2 GB address-space limit and a time
limit, so the test fails (MemoryError, or killed) instead of taking the machine down: before
these bounds, the map of 20,000 functions × 2,000 stages needed more than 8 GB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from facilitation import input_rules
from facilitation import workshops as W

from .conftest import ROOT, run_page

HUGE_FUNCTIONS, HUGE_STAGES = 20_000, 2_000
CHILD_MEMORY_LIMIT = 2 * 1024 ** 3  # bytes of address space
CHILD_TIMEOUT_S = 240


def test_a_huge_workshop_is_refused_at_creation_with_a_message(store, figures):
    functions = [f"Function {i}" for i in range(HUGE_FUNCTIONS)]
    stages = [f"Stage {i}" for i in range(HUGE_STAGES)]
    started = time.perf_counter()
    with pytest.raises(W.WorkshopInputError) as refused:
        W.create_workshop(store, title="Huge", functions=functions, stages=stages,
                          agenda_plan=[("over_the_wall", 15)] * 5_000)
    took = time.perf_counter() - started
    problems = refused.value.problems
    assert problems["functions"] == ("20,000 functions are more than one workshop can show: the limit is "
                                     f"{input_rules.MAX_FUNCTIONS}. Please remove {HUGE_FUNCTIONS - input_rules.MAX_FUNCTIONS:,}.")
    assert problems["stages"].startswith("2,000 stages are more than one workshop can show")
    assert problems["agenda"].startswith("5,000 exercises are more than one workshop can run")
    with store.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM workshops").scalar_one() == 0
    db = "SQLite" if store.is_sqlite else "PostgreSQL"
    figures.add(f"create 20,000 functions x 2,000 stages x 5,000 agenda items ({db})",
                f"refused with three messages in {took * 1000:.0f} ms, nothing stored")


LIMITS = [
    ("functions", dict(functions=[f"F{i}" for i in range(input_rules.MAX_FUNCTIONS + 1)]), "the limit is 30"),
    ("stages", dict(stages=[f"S{i}" for i in range(input_rules.MAX_STAGES + 1)]), "the limit is 15"),
    ("agenda", dict(agenda_plan=[("over_the_wall", 5)] * (input_rules.MAX_AGENDA_ITEMS + 1)), "the limit is 30"),
    ("title", dict(title="t" * (input_rules.TITLE_MAX + 1)), "the limit is 200"),
    ("organisation", dict(organisation="o" * (input_rules.TITLE_MAX + 1)), "the limit is 200"),
    ("facilitator", dict(facilitator="f" * (input_rules.TITLE_MAX + 1)), "the limit is 200"),
    ("functions", dict(functions=["Sales", "x" * (input_rules.FUNCTION_NAME_MAX + 1)]), "longer than 60"),
    ("functions", dict(functions=5), "must be a list of names"),
    ("stages", dict(stages=["Sale", 7]), "must be a list of names"),
    ("agenda", dict(agenda_plan=5), "must be a list"),
    ("agenda", dict(agenda_plan=[("over_the_wall", True)]), "between 1 and 180"),
]


@pytest.mark.parametrize("field, given, message", LIMITS)
def test_every_typed_list_and_field_is_bounded_on_the_server(sqlite_store, field, given, message):
    given = {"title": "Bounded", "agenda_plan": [("over_the_wall", 15)], **given}
    with pytest.raises(W.WorkshopInputError) as refused:
        W.create_workshop(sqlite_store, **given)
    assert message in refused.value.problems[field]
    at_limit = {"functions": [f"F{i}" for i in range(input_rules.MAX_FUNCTIONS)],
                "stages": [f"S{i}" for i in range(input_rules.MAX_STAGES)],
                "agenda_plan": [("over_the_wall", 5)] * input_rules.MAX_AGENDA_ITEMS}
    w, _ = W.create_workshop(sqlite_store, title="At the limits", **at_limit)  # the limits themselves are fine
    assert len(w.functions) == input_rules.MAX_FUNCTIONS and len(W.agenda(sqlite_store, w.id)) == 30


def test_new_page_refuses_an_over_long_function_list_with_a_message(page_store):
    at = run_page("pages/new.py")
    next(t for t in at.text_input if t.label == "Title").input("Too many teams")
    functions = next(t for t in at.text_area if t.label.startswith("Functions in the room"))
    functions.input("\n".join(f"Team {i}" for i in range(5_000)))
    next(b for b in at.button if b.label == "Create workshop").click()
    at.run()
    assert not at.exception
    errors = [e.value.replace("\\", "").replace("\u2060", "") for e in at.error]  # escaped as markdown
    assert any("5,000 functions are more than one workshop can show" in e for e in errors), errors
    assert "just_created" not in at.session_state
    from facilitation.store import get_store
    with get_store(page_store).read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM workshops").scalar_one() == 0


_CHILD = textwrap.dedent('''
    import json, os, resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
    sys.path.insert(0, {root!r})
    import sqlalchemy as sa
    from streamlit.testing.v1 import AppTest
    from facilitation import access, journey_map as jm, report, sign_in, workshops as W
    from facilitation.store import get_store, workshops as table

    store = get_store(os.environ["DATABASE_URL"])
    w, key = W.create_workshop(store, title="Huge", agenda_plan=[("over_the_wall", 15)])
    F = [f"Function {{i}}" for i in range({nf})]
    S = [f"Stage {{i}}" for i in range({ns})]
    with store.write() as conn:  # straight into the table, past every rule
        conn.execute(sa.update(table).where(table.c.id == w.id).values(functions=F, stages=S))
    W.open_exercise(store, w.id, 0)
    w = W.get_workshop(store, w.id)
    people = []
    for i in range(40):
        p = W.join_workshop(store, w.code, f"P{{i}}", F[i * 397 % len(F)])
        people.append(p)
        r = W.submit_story(store, p, "over_the_wall", {{"stage": S[i * 37 % len(S)], "promise": "x", "experience": "y",
                           "next_function": F[i * 91 % len(F)], "lost": "z", "gap": 1 + i % 5}}, f"k{{i}}")
        assert r.ok, r.problems
    out = {{}}
    t = time.perf_counter()
    snap = W.snapshot(store, w.id)
    journey = jm.build_journey(snap)
    figure = jm.journey_figure(journey)
    figure.to_json()
    jm.sankey_figure(journey).to_json()
    out["figure_s"] = time.perf_counter() - t
    out["lanes_drawn"] = len(figure.layout.yaxis.ticktext)
    out["columns_drawn"] = len(figure.layout.xaxis.ticktext)
    out["notes"] = [a.text for a in figure.layout.annotations if "Showing" in (a.text or "")]
    t = time.perf_counter()
    out["report_bytes"] = len(report.build_report(snap, include_map_image=False))
    out["report_s"] = time.perf_counter() - t
    app = {app!r}
    def page(path, **query):
        at = AppTest.from_file(app, default_timeout=120)
        at.query_params.update(query)
        at.run()
        if path != "pages/join.py":
            at.switch_page(path)
            at.query_params.update(query)
            at.run()
        assert not at.exception, (path, at.exception)
        return at
    for name, path, query in (("map", "pages/map.py", {{"code": w.code, "key": key}}),
                              ("projector", "pages/projector.py", {{"code": w.code, "screen": sign_in.projector_token(store, w, access.server_secret())}}),
                              ("console", "pages/console.py", {{"code": w.code, "key": key}}),
                              ("join", "pages/join.py", {{"code": w.code}}),
                              ("participate", "pages/participate.py", {{"code": w.code, "p": people[0].token}})):
        t = time.perf_counter()
        page(path, **query)
        out[name + "_s"] = time.perf_counter() - t
    out["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(out))
''')


def test_a_huge_workshop_in_the_database_is_drawn_at_a_bounded_cost(tmp_path, figures):
    script = tmp_path / "huge.py"
    script.write_text(_CHILD.format(limit=CHILD_MEMORY_LIMIT, root=str(ROOT), nf=HUGE_FUNCTIONS, ns=HUGE_STAGES,
                                    app=str(ROOT / "app.py")), encoding="utf-8")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/huge.sqlite3"}
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                              timeout=CHILD_TIMEOUT_S, cwd=str(ROOT))
    except subprocess.TimeoutExpired:
        pytest.fail(f"drawing a {HUGE_FUNCTIONS:,} x {HUGE_STAGES:,} workshop took over {CHILD_TIMEOUT_S} s")
    took = time.perf_counter() - started
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))[7:])
    assert result["lanes_drawn"] <= input_rules.MAX_FUNCTIONS and result["columns_drawn"] <= input_rules.MAX_STAGES
    assert any("Showing 30 of 20,000 functions and 15 of 2,000 stages" in n for n in result["notes"]), result["notes"]
    figures.add("map of a 20,000 x 2,000 workshop written straight into the database (40 stories)",
                f"drawn with 30 lanes x 15 columns and a 'Showing 30 of 20,000 functions' note: figure + Sankey "
                f"{result['figure_s']:.2f} s, report {result['report_s']:.2f} s; pages in AppTest: map "
                f"{result['map_s']:.1f} s, projector {result['projector_s']:.1f} s, console {result['console_s']:.1f} s, "
                f"join {result['join_s']:.1f} s, participant {result['participate_s']:.1f} s; peak RSS "
                f"{result['max_rss_mb']:.0f} MB (whole child, {took:.0f} s with imports and setup)")
