"""Common themes across functions, found on this server with no internet.

Stories of one kind (a topic: what customers say, what gets lost in handoffs, how we keep
customers) are embedded with WordLlama's small static model, which ships inside the
`wordllama` wheel (16 MB of weights plus its tokenizer file), and grouped by agglomerative
clustering on cosine distance. The model is loaded straight from the package folder with our
own three calls (tokenizer file, safetensors weights, `WordLlamaInference`), never through
`WordLlama.load`, which may look for files online; `wordllama` is pinned exactly for that
reason. If the model cannot be loaded, a plain TF-IDF (scikit-learn) takes its place, and the
facilitator sees which one grouped the stories.

Each theme has a short label (YAKE keywords of its stories, or its most central story), the
functions it was heard in, and its stories. Themes are suggestions until the facilitator
confirms them; only confirmed themes reach the projector and the report. The facilitator can
rename, merge, split (move chosen stories to a new theme) and dismiss themes.
"""

from __future__ import annotations

import abc
import re
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import sqlalchemy as sa

from . import i18n, input_rules
from .i18n import N_
from .exercises import library
from .store import Store, stories, theme_stories, themes, workshops
from . import workshops as _workshops
from .workshops import Story, _stories_query, _story

LABEL_MAX_CHARS = 80
MIN_THEME_STORIES = 2
LABEL_SAMPLE = 20  # stories of a theme whose keywords make its label
# Cosine distance under which two groups of stories join (average linkage); per embedding.
# Tuned on tests/theme_samples.py: the go-live and invoice remarks group, the strays stay alone.
DISTANCE_THRESHOLD = {"wordllama": 0.8, "tfidf": 0.9}
WORDLLAMA_CONFIG = "l2_supercat"
WORDLLAMA_DIM = 256
Clock = Callable[[], float]


@dataclass(frozen=True)
class Topic:
    key: str
    title: str
    exercise_key: str
    fields: tuple[str, ...]  # answer fields whose text is grouped (joined)


TOPICS: dict[str, Topic] = {t.key: t for t in (
    Topic("remarks", N_("What customers say"), "always_be_storytelling", ("remark",)),
    Topic("lost", N_("What gets lost in handoffs"), "over_the_wall", ("lost",)),
    Topic("practices", N_("How we keep customers"), "untold_retention_stories", ("practice", "story")),
)}


def story_text(story: Story, topic: Topic) -> str:
    """The text of a story that its theme is found from."""
    parts = [str(story.answers.get(f, "")).strip() for f in topic.fields]
    return ". ".join(p for p in parts if p)


_WORD = re.compile(r"[\w'’-]+")


def content_words(text: str) -> str:
    """The text without English stop words (the text itself if nothing else is left)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    kept = [w for w in _WORD.findall(text) if w.casefold() not in ENGLISH_STOP_WORDS]
    return " ".join(kept) if kept else text


# --- embeddings -------------------------------------------------------------------------------------

class Embedder(abc.ABC):
    """Texts → unit vectors; `name` says which model made them."""

    name = ""

    @abc.abstractmethod
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per text."""


class WordLlamaEmbedder(Embedder):
    """WordLlama's packaged model, loaded from the wheel's own folder (no download, no hub)."""

    name = "wordllama"

    def __init__(self):
        import wordllama
        from safetensors import safe_open
        from tokenizers import Tokenizer
        from wordllama.inference import WordLlamaInference

        root = Path(wordllama.__file__).resolve().parent
        weights = root / "weights" / f"{WORDLLAMA_CONFIG}_{WORDLLAMA_DIM}.safetensors"
        tokenizer = root / "tokenizers" / f"{WORDLLAMA_CONFIG}_tokenizer_config.json"
        if not weights.is_file() or not tokenizer.is_file():
            raise FileNotFoundError(f"the wordllama package has no {weights.name} / {tokenizer.name}")
        with safe_open(str(weights), framework="np", device="cpu") as f:
            embedding = f.get_tensor("embedding.weight")
        self._model = WordLlamaInference(embedding, Tokenizer.from_file(str(tokenizer)))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        # A static model averages its tokens: without stop words the content words carry the meaning.
        vectors = np.asarray(self._model.embed([content_words(t) for t in texts], norm=True), dtype=np.float32)
        return vectors.reshape(len(texts), -1)


class TfidfEmbedder(Embedder):
    """The fallback: TF-IDF over words and word pairs of the texts themselves (scikit-learn)."""

    name = "tfidf"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        from sklearn.feature_extraction.text import TfidfVectorizer

        if not any(t.strip() for t in texts):
            return np.zeros((len(texts), 1), dtype=np.float32)
        try:
            matrix = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english",
                                     min_df=1).fit_transform(texts)
        except ValueError:  # only stop words
            matrix = TfidfVectorizer(ngram_range=(1, 1)).fit_transform(texts)
        return matrix.toarray().astype(np.float32)


_model_lock = threading.Lock()


@lru_cache(maxsize=1)
def _loaded() -> tuple[Embedder, str]:
    try:
        return WordLlamaEmbedder(), ""
    except Exception as exc:  # noqa: BLE001 - any failure to load falls back, and says why
        return TfidfEmbedder(), f"The local model could not be loaded ({type(exc).__name__}: {exc}); TF-IDF grouped the stories."


def embedder() -> tuple[Embedder, str]:
    """The model to group with, loaded once per process, and a note when it is the fallback."""
    with _model_lock:
        return _loaded()


# --- grouping ---------------------------------------------------------------------------------------

def cluster(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """Indices grouped by average-linkage clustering on cosine distance, biggest group first."""
    n = len(vectors)
    if n == 0:
        return []
    if n == 1:
        return [[0]]
    from sklearn.cluster import AgglomerativeClustering

    norms = np.linalg.norm(vectors, axis=1)
    empty = norms == 0
    groups: list[list[int]] = [[int(i)] for i in np.flatnonzero(empty)]
    keep = np.flatnonzero(~empty)
    if len(keep) == 1:
        groups.append([int(keep[0])])
    elif len(keep) > 1:
        labels = AgglomerativeClustering(n_clusters=None, distance_threshold=threshold, metric="cosine",
                                         linkage="average").fit_predict(vectors[keep])
        found: dict[int, list[int]] = {}
        for i, label in zip(keep, labels):
            found.setdefault(int(label), []).append(int(i))
        groups.extend(found.values())
    return sorted(groups, key=lambda g: (-len(g), g[0]))


def by_centrality(vectors: np.ndarray, members: list[int]) -> list[int]:
    """The members, most typical of the group first (closest to its mean direction)."""
    if len(members) <= 2:
        return list(members)
    sub = vectors[members]
    closeness = sub @ sub.mean(axis=0)
    return [members[i] for i in np.argsort(-closeness, kind="stable")]


def keyword_label(texts: Sequence[str], fallback: str, words: int = 2) -> str:
    """A short label: YAKE's best keywords (one or two words each) that at least two of the texts
    share, the best two joined ('go-live date, promised'); else `fallback` (the most central story)."""
    try:
        import yake

        found = yake.KeywordExtractor(lan="en", n=2, top=15, dedup_lim=0.9).extract_keywords(" \n".join(texts))
    except Exception:  # noqa: BLE001 - a label is a convenience; the central story is a fine one
        found = []
    folded = [t.casefold() for t in texts]
    need = 2 if len(texts) > 1 else 1
    kept: list[str] = []
    for keyword, _score in found:  # YAKE lists the best keyword first
        k = keyword.casefold()
        if sum(k in t for t in folded) < need or any(k in c.casefold() or c.casefold() in k for c in kept):
            continue
        kept.append(keyword)
        if len(kept) == words:
            break
    label = shorten(", ".join(kept) or fallback, LABEL_MAX_CHARS)
    return label[:1].upper() + label[1:]


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Suggestion:
    """A theme found by the model, before it is stored."""

    topic: str
    label: str
    story_ids: tuple[int, ...]
    central_id: int


def suggest(told: Iterable[Story], topic: Topic, model: Embedder | None = None) -> list[Suggestion]:
    """Group a topic's stories into themes (pure; no database). Groups of one story are left out."""
    told = [s for s in told if story_text(s, topic)]
    if len(told) < MIN_THEME_STORIES:
        return []
    model = model or embedder()[0]
    texts = [story_text(s, topic) for s in told]
    vectors = model.embed(texts)
    out = []
    for members in cluster(vectors, DISTANCE_THRESHOLD.get(model.name, 0.7)):
        if len(members) < MIN_THEME_STORIES:
            continue
        ranked = by_centrality(vectors, members)
        middle = ranked[0]
        # YAKE reads the most typical stories only: the label is theirs, and it stays fast for big themes.
        label = keyword_label([texts[i] for i in ranked[:LABEL_SAMPLE]], fallback=shorten(texts[middle], 60))
        out.append(Suggestion(topic.key, label, tuple(told[i].id for i in members), told[middle].id))
    # Themes heard in more functions first: that is the common ground.
    by_id = {s.id: s for s in told}
    out.sort(key=lambda g: (-len({by_id[i].function for i in g.story_ids}), -len(g.story_ids)))
    return out


# --- stored themes ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Theme:
    id: int
    topic: str
    label: str
    confirmed: bool
    method: str
    position: int
    stories: tuple[Story, ...]

    @property
    def functions(self) -> list[str]:
        """The functions it was heard in, most stories first."""
        counts: dict[str, int] = {}
        for s in self.stories:
            counts[s.function] = counts.get(s.function, 0) + 1
        return sorted(counts, key=lambda f: (-counts[f], f.casefold()))

    @property
    def heard_by(self) -> int:
        return len(self.functions)

    @property
    def topic_title(self) -> str:
        t = TOPICS.get(self.topic)
        return t.title if t else self.topic

    def heard_by_line(self, labelled: set[str] | None = None, language: str | None = None) -> str:
        """'heard by 5 functions: Sales, Support …'; functions that may not be named are counted, not named
        (in the workshop's `language`)."""
        t = i18n.translator(language)
        n = self.heard_by
        head = t.ngettext("heard by {n} function", "heard by {n} functions", n).format(n=i18n.format_number(n, language))
        if labelled is None:
            return head
        named = [f for f in self.functions if f in labelled]
        others = n - len(named)
        if not named:
            return head
        tail = ", ".join(named)
        if others:
            tail = t.ngettext("{named} and {n} other", "{named} and {n} others", others).format(
                named=tail, n=i18n.format_number(others, language))
        return f"{head}: {tail}"


class ThemeInputError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def topic_stories(store: Store, workshop_id: int) -> dict[str, list[Story]]:
    """The visible stories (no hidden ones, no additions) of each topic whose exercise exists."""
    lib = library()
    out: dict[str, list[Story]] = {}
    keys = [t.exercise_key for t in TOPICS.values() if t.exercise_key in lib]
    if not keys:
        return out
    q = _stories_query(workshop_id).where(stories.c.exercise_key.in_(keys), stories.c.hidden == sa.false(),
                                          stories.c.builds_on.is_(None))
    with store.read() as conn:
        told = [_story(r) for r in conn.execute(q).all()]
    for t in TOPICS.values():
        if t.exercise_key in lib:
            out[t.key] = [s for s in told if s.exercise_key == t.exercise_key]
    return out


def list_themes(store: Store, workshop_id: int, *, confirmed_only: bool = False) -> list[Theme]:
    """The workshop's themes in the facilitator's order; hidden stories never appear in one."""
    q = sa.select(themes).where(themes.c.workshop_id == workshop_id)
    if confirmed_only:
        q = q.where(themes.c.confirmed == sa.true())
    with store.read() as conn:
        rows = conn.execute(q.order_by(themes.c.position, themes.c.id)).all()
        links = conn.execute(sa.select(theme_stories.c.theme_id, theme_stories.c.story_id)
                             .join(themes, themes.c.id == theme_stories.c.theme_id)
                             .where(themes.c.workshop_id == workshop_id)
                             .order_by(theme_stories.c.id)).all()
        told = {s.id: s for s in (_story(r) for r in conn.execute(
            _stories_query(workshop_id).where(stories.c.hidden == sa.false())).all())}
    members: dict[int, list[Story]] = {}
    for link in links:
        if link.story_id in told:
            members.setdefault(link.theme_id, []).append(told[link.story_id])
    out = [Theme(r.id, r.topic, r.label, bool(r.confirmed), r.method, r.position, tuple(members.get(r.id, ())))
           for r in rows]
    return [t for t in out if t.stories]


def _bump(conn, workshop_id: int) -> None:
    _workshops._bump(conn, workshop_id, "after")


def find_themes(store: Store, workshop_id: int, *, model: Embedder | None = None, clock: Clock = time.time) -> str:
    """Group the workshop's stories into suggested themes; returns the method's note ('' normally).

    Confirmed themes stay as they are and keep their stories; the suggestions that were not
    confirmed are replaced by a fresh grouping of every other story.
    """
    note = ""
    if model is None:
        model, note = embedder()
    told = topic_stories(store, workshop_id)
    with store.read() as conn:
        kept = {r.story_id for r in conn.execute(
            sa.select(theme_stories.c.story_id).join(themes, themes.c.id == theme_stories.c.theme_id)
            .where(themes.c.workshop_id == workshop_id, themes.c.confirmed == sa.true()))}
    found: list[Suggestion] = []
    for key, group in told.items():
        found += suggest([s for s in group if s.id not in kept], TOPICS[key], model)
    now = clock()
    with store.write() as conn:
        stale = sa.select(themes.c.id).where(themes.c.workshop_id == workshop_id, themes.c.confirmed == sa.false())
        conn.execute(sa.delete(theme_stories).where(theme_stories.c.theme_id.in_(stale)))
        conn.execute(sa.delete(themes).where(themes.c.workshop_id == workshop_id, themes.c.confirmed == sa.false()))
        start = conn.execute(sa.select(sa.func.coalesce(sa.func.max(themes.c.position), -1))
                             .where(themes.c.workshop_id == workshop_id)).scalar_one() + 1
        for i, g in enumerate(found):
            theme_id = conn.execute(sa.insert(themes).values(
                workshop_id=workshop_id, topic=g.topic, label=g.label, confirmed=False, position=start + i,
                method=model.name, created_at=now)).inserted_primary_key[0]
            conn.execute(sa.insert(theme_stories), [{"theme_id": theme_id, "story_id": sid} for sid in g.story_ids])
        _bump(conn, workshop_id)
    return note


def _own(conn, workshop_id: int, theme_ids: Iterable[int]) -> list:
    ids = list(theme_ids)
    rows = conn.execute(sa.select(themes).where(themes.c.workshop_id == workshop_id, themes.c.id.in_(ids))).all()
    if len(rows) != len(set(ids)):
        raise ThemeInputError("That theme is no longer there; the list has been refreshed.")
    return sorted(rows, key=lambda r: ids.index(r.id))


def confirm_theme(store: Store, workshop_id: int, theme_id: int, confirmed: bool = True) -> None:
    """Confirm a theme (it reaches the projector and the report) or take it back to a suggestion."""
    with store.write() as conn:
        _own(conn, workshop_id, [theme_id])
        conn.execute(sa.update(themes).where(themes.c.id == theme_id).values(confirmed=confirmed))
        _bump(conn, workshop_id)


def rename_theme(store: Store, workshop_id: int, theme_id: int, label: str) -> None:
    """Give a theme the facilitator's own name (one line, stored as typed)."""
    if p := input_rules.text_problem(label, max_chars=LABEL_MAX_CHARS, what="The theme's name", one_line=True):
        raise ThemeInputError(p)
    with store.write() as conn:
        _own(conn, workshop_id, [theme_id])
        conn.execute(sa.update(themes).where(themes.c.id == theme_id).values(label=label.strip()))
        _bump(conn, workshop_id)


def merge_themes(store: Store, workshop_id: int, theme_ids: Sequence[int]) -> int:
    """Merge themes into the first one named (its label and state kept); returns its id."""
    if len(set(theme_ids)) < 2:
        raise ThemeInputError("Choose at least two themes to merge.")
    with store.write() as conn:
        rows = _own(conn, workshop_id, list(dict.fromkeys(theme_ids)))
        keep, rest = rows[0].id, [r.id for r in rows[1:]]
        have = {r.story_id for r in conn.execute(sa.select(theme_stories.c.story_id).where(theme_stories.c.theme_id == keep))}
        moving = conn.execute(sa.select(theme_stories.c.story_id).where(theme_stories.c.theme_id.in_(rest))
                              .order_by(theme_stories.c.id)).all()
        add = list(dict.fromkeys(r.story_id for r in moving if r.story_id not in have))
        conn.execute(sa.delete(theme_stories).where(theme_stories.c.theme_id.in_(rest)))
        conn.execute(sa.delete(themes).where(themes.c.id.in_(rest)))
        if add:
            conn.execute(sa.insert(theme_stories), [{"theme_id": keep, "story_id": sid} for sid in add])
        _bump(conn, workshop_id)
    return keep


def split_theme(store: Store, workshop_id: int, theme_id: int, story_ids: Sequence[int], label: str = "",
                clock: Clock = time.time) -> int:
    """Move the chosen stories out of a theme into a new (unconfirmed) theme; returns the new id."""
    chosen = set(story_ids)
    with store.write() as conn:
        row = _own(conn, workshop_id, [theme_id])[0]
        members = [r.story_id for r in conn.execute(sa.select(theme_stories.c.story_id)
                                                    .where(theme_stories.c.theme_id == theme_id)
                                                    .order_by(theme_stories.c.id))]
        moving = [sid for sid in members if sid in chosen]
        if not moving:
            raise ThemeInputError("Tick the stories that belong in a theme of their own.")
        if len(moving) == len(members):
            raise ThemeInputError("Leave at least one story in the theme: tick only the ones that go.")
        if not label:
            texts = [story_text(_story(r), TOPICS[row.topic]) if row.topic in TOPICS else "" for r in conn.execute(
                _stories_query(workshop_id).where(stories.c.id.in_(moving))).all()]
            label = keyword_label(texts, fallback=shorten(texts[0] if texts else row.label, 60))
        elif p := input_rules.text_problem(label, max_chars=LABEL_MAX_CHARS, what="The theme's name", one_line=True):
            raise ThemeInputError(p)
        new_id = conn.execute(sa.insert(themes).values(
            workshop_id=workshop_id, topic=row.topic, label=label.strip(), confirmed=False, position=row.position,
            method=row.method, created_at=clock())).inserted_primary_key[0]
        conn.execute(sa.delete(theme_stories).where(theme_stories.c.theme_id == theme_id,
                                                    theme_stories.c.story_id.in_(moving)))
        conn.execute(sa.insert(theme_stories), [{"theme_id": new_id, "story_id": sid} for sid in moving])
        _bump(conn, workshop_id)
    return new_id


def dismiss_theme(store: Store, workshop_id: int, theme_id: int) -> None:
    """Drop a theme (its stories stay in the workshop, untouched)."""
    with store.write() as conn:
        _own(conn, workshop_id, [theme_id])
        conn.execute(sa.delete(theme_stories).where(theme_stories.c.theme_id == theme_id))
        conn.execute(sa.delete(themes).where(themes.c.id == theme_id))
        _bump(conn, workshop_id)
