"""Benchmark: build the journey map for a big room and time it against the 200 ms target.

    python bench/bench_journey_map.py [--participants 300] [--stories 1500] [--runs 20]

Builds a synthetic snapshot (no database) of 300 participants and 1,500 "Over the wall"
stories over 9 functions and 6 stages, then times `build_journey` + `journey_figure`
together (what a live view does on every change), then what the map page adds: the Sankey,
and a filtered map (`filter_snapshot` + `build_journey(..., whole=...)`). Prints numbers; it
does not pass or fail.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from facilitation import journey_map  # noqa: E402
from facilitation.journey_map import build_journey, filter_snapshot, journey_figure, sankey_figure  # noqa: E402
from facilitation.sample_data import synthetic_snapshot  # noqa: E402

TARGET_MS = 200.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--stories", type=int, default=1500)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    args = parser.parse_args()

    snapshot = synthetic_snapshot(args.participants, args.stories, seed=0)
    t0 = time.perf_counter()
    journey = build_journey(snapshot)
    journey_figure(journey, theme=args.theme)
    cold_ms = (time.perf_counter() - t0) * 1000  # first call in the process: lazy Plotly imports, empty caches

    def p95(xs: list[float]) -> float:
        return sorted(xs)[max(0, round(0.95 * len(xs)) - 1)]

    def measure(snap, *, fresh_text: bool) -> tuple[list[float], list[float], list[float]]:
        build_ms, figure_ms, total_ms = [], [], []
        for _ in range(args.runs):
            if fresh_text:
                journey_map._wrap.cache_clear()  # as if every story were new
            t0 = time.perf_counter()
            journey = build_journey(snap)
            t1 = time.perf_counter()
            journey_figure(journey, theme=args.theme)
            t2 = time.perf_counter()
            build_ms.append((t1 - t0) * 1000)
            figure_ms.append((t2 - t1) * 1000)
            total_ms.append((t2 - t0) * 1000)
        return build_ms, figure_ms, total_ms

    # Every story with its own text, so no shortened/escaped hover text can be reused.
    unique = dataclasses.replace(snapshot, stories=[
        dataclasses.replace(s, answers={**s.answers, "experience": f"{s.answers['experience']} Case {s.id}: "
                                        f"the customer asked twice and waited {s.id % 17 + 2} days.",
                                        "lost": f"{s.answers['lost']} (case {s.id})"})
        for s in snapshot.stories])
    fig = journey_figure(journey, theme=args.theme)
    print(f"journey map: {args.participants} participants, {journey.story_count} stories, "
          f"{len(journey.functions)} functions x {len(journey.stages)} stages, {len(journey.handoffs)} handoffs "
          f"({len(journey.dead_ends)} dead ends), {len(fig.data)} traces, {len(fig.layout.annotations)} annotations")
    print(f"first call in the process (imports, cold caches): {cold_ms:.1f} ms")
    worst = []
    for title, snap, fresh in (("live redraw: same stories, text cache warm", snapshot, False),
                               ("every story new: unique texts, text cache cleared", unique, True)):
        build_ms, figure_ms, total_ms = measure(snap, fresh_text=fresh)
        worst.append(total_ms)
        print(title)
        for name, xs in (("build_journey", build_ms), ("journey_figure", figure_ms), ("both", total_ms)):
            print(f"  {name:<16}  median {statistics.median(xs):7.1f} ms   p95 {p95(xs):7.1f} ms   ({args.runs} runs)")
    total_ms = worst[-1]
    print(f"target {TARGET_MS:.0f} ms (every story new): median is {statistics.median(total_ms) / TARGET_MS:.2f}x, "
          f"p95 is {p95(total_ms) / TARGET_MS:.2f}x of the target")

    # The map page: the Sankey of the same journey, and a map filtered to two functions.
    sankey_ms, filtered_ms = [], []
    functions = list(snapshot.workshop.functions[:2])
    for _ in range(args.runs):
        t0 = time.perf_counter()
        sankey_figure(journey, theme=args.theme)
        t1 = time.perf_counter()
        view = filter_snapshot(snapshot, functions=functions)
        journey_figure(build_journey(view, whole=snapshot), theme=args.theme)
        t2 = time.perf_counter()
        sankey_ms.append((t1 - t0) * 1000)
        filtered_ms.append((t2 - t1) * 1000)
    print("map page")
    for name, xs in (("sankey_figure", sankey_ms), (f"filtered map ({' + '.join(functions)})", filtered_ms)):
        print(f"  {name:<16}  median {statistics.median(xs):7.1f} ms   p95 {p95(xs):7.1f} ms   ({args.runs} runs)")


if __name__ == "__main__":
    main()
