"""Many people at once: 200 submitters in threads on both databases, and a report built while
stories keep arriving. Every acknowledged story is stored exactly once; nobody gets an exception.
"""

from __future__ import annotations

import io
import re
import statistics
import threading
import time

import docx
import pytest
import sqlalchemy as sa

from facilitation import report
from facilitation import workshops as W
from facilitation.store import stories

from .conftest import EXERCISE, open_room, valid_answers

SUBMITTERS = 200
DOUBLE_DELIVERIES = 20  # the first 20 people's requests also arrive a second time, at the same moment
JOIN_TIMEOUT_S = 120


def _db(store) -> str:
    return "SQLite" if store.is_sqlite else "PostgreSQL"


@pytest.mark.slow
def test_200_people_send_a_story_at_the_same_moment(store, figures):
    w, _ = open_room(store)
    people = [W.join_workshop(store, w.code, f"Person {i}", w.functions[i % len(w.functions)])
              for i in range(SUBMITTERS)]
    jobs = [(i, f"key-{i}") for i in range(SUBMITTERS)] + [(i, f"key-{i}") for i in range(DOUBLE_DELIVERIES)]
    start = threading.Barrier(len(jobs), timeout=60)
    results: list[W.SubmitResult | None] = [None] * len(jobs)
    seconds: list[float] = [0.0] * len(jobs)
    errors: list[str] = []

    def send(j: int, i: int, key: str) -> None:
        try:
            start.wait()
            t0 = time.perf_counter()
            results[j] = W.submit_story(store, people[i], EXERCISE, valid_answers(w, lost=f"story {i}"), key)
            seconds[j] = time.perf_counter() - t0
        except BaseException as exc:  # noqa: BLE001 - the test is that there are none
            errors.append(f"{i}: {exc!r}")

    threads = [threading.Thread(target=send, args=(j, i, key), daemon=True) for j, (i, key) in enumerate(jobs)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    deadline = time.monotonic() + JOIN_TIMEOUT_S
    for t in threads:
        t.join(timeout=max(0.1, deadline - time.monotonic()))
    wall = time.perf_counter() - t0
    assert not any(t.is_alive() for t in threads), "a submit hung"
    assert errors == [], errors[:5]

    not_saved = [r for r in results if r is not None and r.problems.get("_form") == W.NOT_SAVED_YET]
    assert not not_saved, (f"{len(not_saved)} of {len(jobs)} requests got 'not saved yet' although the busy "
                           "timeout is 10 s")
    assert all(r is not None and r.ok for r in results), [r.problems for r in results if r and not r.ok][:5]

    with store.read() as conn:
        rows = conn.execute(sa.select(stories.c.id, stories.c.idempotency_key, stories.c.participant_id,
                                      stories.c.answers).where(stories.c.workshop_id == w.id)).all()
    assert len(rows) == SUBMITTERS
    assert sorted(r.idempotency_key for r in rows) == sorted(f"key-{i}" for i in range(SUBMITTERS))
    by_key = {r.idempotency_key: r for r in rows}
    for j, (i, key) in enumerate(jobs):
        assert results[j].story.id == by_key[key].id  # every acknowledgement names the stored story
        assert by_key[key].participant_id == people[i].id and by_key[key].answers["lost"] == f"story {i}"
    assert sum(r.created for r in results) == SUBMITTERS  # a double delivery is acknowledged, not stored again

    figures.add(f"{SUBMITTERS} concurrent submitters + {DOUBLE_DELIVERIES} double deliveries, {_db(store)}",
                f"{len(rows)} stored once each, 0 'not saved yet', 0 exceptions; all done in {wall:.1f} s "
                f"(median {statistics.median(seconds):.2f} s, slowest {max(seconds):.2f} s per request)")


MARK = re.compile(r"\[m\d+-\d+\]")
SUBMIT_THREADS = 3
MAX_PER_THREAD = 120
REPORT_BUILDS = 3


def _report_text(data: bytes) -> str:
    doc = docx.Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    parts += [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


@pytest.mark.slow
def test_report_is_built_while_stories_keep_arriving(store, figures):
    w, _ = open_room(store)
    people = [W.join_workshop(store, w.code, f"Writer {k}", w.functions[k]) for k in range(SUBMIT_THREADS)]
    stop = threading.Event()
    sent: list[str] = []
    errors: list[str] = []

    def keep_sending(k: int) -> None:
        try:
            for i in range(MAX_PER_THREAD):
                if stop.is_set():
                    return
                marker = f"[m{k}-{i}]"
                result = W.submit_story(store, people[k], EXERCISE, valid_answers(w, experience=f"Story {marker}"),
                                        f"live-{k}-{i}")
                assert result.ok, result.problems
                sent.append(marker)
                time.sleep(0.005)
        except BaseException as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=keep_sending, args=(k,), daemon=True) for k in range(SUBMIT_THREADS)]
    for t in threads:
        t.start()
    builds: list[tuple[int, int, float]] = []  # (stories in the snapshot, stories sent by then, seconds)
    try:
        deadline = time.monotonic() + 60
        while len(builds) < REPORT_BUILDS and time.monotonic() < deadline and not errors:
            time.sleep(0.2)
            snap = W.snapshot(store, w.id)
            t0 = time.perf_counter()
            data = report.build_report(snap, include_map_image=False)
            took = time.perf_counter() - t0
            in_snapshot = {MARK.search(s.answers["experience"]).group() for s in snap.stories}
            in_report = set(MARK.findall(_report_text(data)))
            assert in_report == in_snapshot  # every story of the snapshot, and nothing that came later
            builds.append((len(in_snapshot), len(sent), took))
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert errors == []
    assert len(builds) == REPORT_BUILDS
    assert builds[-1][0] > builds[0][0], "stories kept arriving between the builds"
    assert len(W.list_stories(store, w.id)) == len(sent)
    figures.add(f"Report built while {SUBMIT_THREADS} people keep sending, {_db(store)}",
                f"{len(builds)} reports with {', '.join(str(b[0]) for b in builds)} stories, each holding exactly "
                f"its snapshot; {len(sent)} stories sent meanwhile, all stored; slowest build {max(b[2] for b in builds):.1f} s")
