"""Benchmark: group 1,500 stories into common themes on this machine, with the network blocked.

    python bench/bench_themes.py [--stories 1500] [--runs 5]

Makes a synthetic room of customer remarks (12 things customers keep saying, each in several
phrasings with different details, heard in the nine default functions, plus one-off remarks),
then times `themes.suggest` — embedding, clustering, labels — with the packaged WordLlama model
and with the TF-IDF fallback. Every outgoing connection is refused while it runs (HF_HUB_OFFLINE
is set too), so the figures are those of a server without internet. Prints stories per second,
model load time, and memory (peak Python allocations during a run, and the process's peak RSS).
It does not pass or fail.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import socket
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from facilitation import themes  # noqa: E402
from facilitation.workshops import DEFAULT_FUNCTIONS, Story  # noqa: E402

SAYINGS = [
    ["when will we actually be live", "the go-live date keeps slipping", "you promised we'd launch by {month}"],
    ["the invoice does not match the quote", "we were billed twice for {product}", "the price on the bill is higher than the contract"],
    ["we never know who to call when {product} breaks", "every time it is someone new on the phone", "give us one named contact"],
    ["the training was for the wrong version", "our team was trained on a screen we don't have", "training covered features we did not buy"],
    ["support asks for the same logs again", "we sent those logs last week already", "why do we have to explain the setup again"],
    ["the import template was never mentioned", "nobody told us about the data import format", "we waited weeks for the import template"],
    ["the integration with our ERP needs paid consulting", "{product} does not talk to our ERP out of the box", "the ERP connector was sold as standard"],
    ["we heard about the roadmap change from a blog post", "the feature we were promised is gone from the roadmap", "nobody warned us the release moved"],
    ["the renewal letter came out of nowhere", "silence until the renewal quote arrived", "we only hear from you at renewal time"],
    ["your engineer stayed on the call until our shift finished", "support fixed it at night with our operators", "the on-site visit saved our {month} close"],
    ["the reports arrive but nobody reads them with us", "we get a dashboard and no conversation", "a quarterly review would help us more than the report"],
    ["our champion left and nobody noticed", "the person who bought {product} moved on", "you still email someone who left months ago"],
]
DETAILS = {"month": ["March", "May", "June", "September", "the new year"],
           "product": ["the scanner app", "the portal", "the planner", "the robot fleet", "the billing module"]}
OPENERS = ["", "Honestly, ", "She said: ", "On the call they said ", "In the ticket: ", "Their ops lead told me "]
CLOSERS = ["", ".", " and they were not happy.", ", again.", " — twice this month.", " and asked what we will change."]
STRAYS = ["They loved the webinar.", "Dark mode please.", "The coffee at the kick-off was great.",
          "Can we get the slides?", "They are hiring two more planners.", "Their CFO is new."]


def remarks(n: int, seed: int = 0) -> list[Story]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        if rng.random() < 0.08:
            text = rng.choice(STRAYS)
        else:
            phrase = rng.choice(rng.choice(SAYINGS)).format(**{k: rng.choice(v) for k, v in DETAILS.items()})
            text = rng.choice(OPENERS) + phrase + rng.choice(CLOSERS)
        out.append(Story(id=i + 1, exercise_key="always_be_storytelling", participant_id=i % 300 + 1, author_name="",
                         function=rng.choice(DEFAULT_FUNCTIONS), answers={"remark": text}, hidden=False,
                         created_at=float(i), updated_at=float(i)))
    return out


def block_network() -> None:
    def refuse(self, address, *args, **kwargs):
        raise OSError(f"network blocked by bench_themes ({address!r})")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    os.environ["HF_HUB_OFFLINE"] = "1"


def run(model: themes.Embedder, told: list[Story], runs: int) -> dict:
    topic = themes.TOPICS["remarks"]
    times, peaks, found = [], [], []
    for _ in range(runs):
        tracemalloc.start()
        t0 = time.perf_counter()
        found = themes.suggest(told, topic, model)
        times.append(time.perf_counter() - t0)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # The phases of one run, for the table.
    texts = [themes.story_text(s, topic) for s in told]
    t0 = time.perf_counter()
    vectors = model.embed(texts)
    t1 = time.perf_counter()
    themes.cluster(vectors, themes.DISTANCE_THRESHOLD[model.name])
    t2 = time.perf_counter()
    med = statistics.median(times)
    in_themes = sum(len(g.story_ids) for g in found)
    return {"median_s": med, "stories_per_s": len(told) / med, "embed_s": t1 - t0, "cluster_s": t2 - t1,
            "peak_mib": max(peaks) / 2**20, "themes": len(found), "in_themes": in_themes,
            "top": [(g.label, len(g.story_ids)) for g in found[:5]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=1500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    block_network()
    told = remarks(args.stories)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    t0 = time.perf_counter()
    model, note = themes.embedder()
    load_s = time.perf_counter() - t0
    if note:
        print(note)
    rss_model = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(told):,} stories, network blocked; model {model.name} loaded from the wheel in {load_s:.2f} s "
          f"(process peak RSS {rss0:.0f} → {rss_model:.0f} MiB)")
    for m in (model, themes.TfidfEmbedder()):
        r = run(m, told, args.runs)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{m.name:9s}: median {r['median_s']:.2f} s per grouping = {r['stories_per_s']:,.0f} stories/s "
              f"(embed {r['embed_s']:.3f} s, cluster {r['cluster_s']:.2f} s); peak Python allocations "
              f"{r['peak_mib']:.0f} MiB; process peak RSS {rss:.0f} MiB; {r['themes']} themes holding "
              f"{r['in_themes']:,} stories; biggest: " + "; ".join(f"{label} ({n})" for label, n in r["top"]))


if __name__ == "__main__":
    main()
