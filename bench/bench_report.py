"""Benchmark: the Word report of a big room, against the 3 s target.

    python bench/bench_report.py [--participants 300] [--stories 1500] [--runs 5]

Builds a synthetic snapshot (no database) of 300 participants and 1,500 "Over the wall"
stories, starts the picture browser once (timed on its own: the target excludes it), then
builds the .docx `--runs` times with the journey map picture and `--runs` times without it,
and prints the median (and min/max) of each, the ratio of the median to the target, the
time of the map picture alone, and the size of the document. Prints numbers; it does not
pass or fail.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from facilitation import figure_images, journey_map, report  # noqa: E402
from facilitation.sample_data import EXERCISE_KEY, synthetic_snapshot  # noqa: E402
from facilitation.workshops import AgendaItem  # noqa: E402

TARGET_S = 3.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--stories", type=int, default=1500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    snap = synthetic_snapshot(args.participants, args.stories, seed=0, hidden_share=0.02)
    opened = snap.workshop.created_at + 60
    snap = dataclasses.replace(snap, agenda=[AgendaItem(0, EXERCISE_KEY, 15, opened, opened + 900)])
    visible = sum(1 for s in snap.stories if not s.hidden)
    print(f"Report of {len(snap.participants):,} participants and {visible:,} visible stories "
          f"({len(snap.stories) - visible} hidden), {args.runs} runs each; target {TARGET_S:.1f} s.")

    t0 = time.perf_counter()
    figure_images.warm_up()
    probe = figure_images.figure_png({"data": [{"type": "bar", "y": [1, 2]}], "layout": {}}, 200, 150)
    start_s = time.perf_counter() - t0
    if probe is None:
        print(f"  picture browser: not available ({figure_images.last_error()}); "
              "the runs 'with the picture' write a note instead")
    else:
        print(f"  first browser start (excluded from the target): {start_s:.2f} s")

    t0 = time.perf_counter()
    report.build_report(snap, include_map_image=False)
    print(f"  first build in this process (imports, caches; not counted): {time.perf_counter() - t0:.2f} s")

    journey = journey_map.build_journey(snap)
    fig = journey_map.journey_figure(journey, theme="light")
    scale = report.map_scale(journey)
    picture = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        figure_images.figure_png(fig, report.MAP_PX_WIDTH, int(fig.layout.height or 700), scale=scale)
        picture.append(time.perf_counter() - t0)

    def measure(include_map_image: bool) -> tuple[list[float], int]:
        times, size = [], 0
        for _ in range(args.runs):
            t0 = time.perf_counter()
            data = report.build_report(snap, include_map_image=include_map_image)
            times.append(time.perf_counter() - t0)
            size = len(data)
        return times, size

    with_picture, size_with = measure(True)
    without_picture, size_without = measure(False)

    def line(name: str, xs: list[float], extra: str = "") -> None:
        med = statistics.median(xs)
        print(f"  {name:<38} median {med:5.2f} s  (min {min(xs):.2f}, max {max(xs):.2f})  "
              f"{med / TARGET_S:4.0%} of target{extra}")

    line(".docx with the map picture", with_picture, f"  {size_with / 1e6:.1f} MB")
    line(".docx without the picture", without_picture, f"  {size_without / 1e6:.1f} MB")
    line(f"the map picture alone (scale {scale:g})", picture)
    verdict = "within" if statistics.median(with_picture) <= TARGET_S else "OVER"
    print(f"  → {verdict} the {TARGET_S:.0f} s target with the picture "
          f"(ratio {statistics.median(with_picture) / TARGET_S:.2f}).")


if __name__ == "__main__":
    main()
