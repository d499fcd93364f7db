"""Benchmark: the list a commitment picks what it serves from (today's handoffs and stories), for a big room.

    python bench/bench_serve_options.py [--participants 300] [--stories 1500] [--runs 20]

Makes the demo workshop with a crowd (on a temporary SQLite file), then times
`commitments.serve_options` on its snapshot: what the server works out once per revision per
process for the phones (facilitation.live_cache.serve_options) and once more when a commitment is
sent. Prints numbers; it does not pass or fail.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from facilitation import commitments, demo, workshops  # noqa: E402
from facilitation.store import Store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--stories", type=int, default=1500)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{folder}/bench.sqlite3")
        workshop, _key = demo.create_demo_workshop(store, participants=args.participants, stories=args.stories)
        snap = workshops.snapshot(store, workshop.id)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            options = commitments.serve_options(snap)
            times.append((time.perf_counter() - start) * 1000)
        store.dispose()
    print(f"room: {len(snap.participants):,} people, {len(snap.stories):,} stories; {len(options):,} options")
    print(f"serve_options: median {statistics.median(times):.1f} ms, max {max(times):.1f} ms over {args.runs} runs")


if __name__ == "__main__":
    main()
