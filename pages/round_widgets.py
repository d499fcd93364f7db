"""A phone's part in a paced exercise: the round the room is in, what is left to send and what was
sent, and the guess box of the guess-first terminology wall. The rules are in facilitation/rounds.py."""

from __future__ import annotations

import uuid

import streamlit as st

from facilitation import drafts, i18n, rounds
from facilitation.exercises import Exercise, library
from facilitation.workshops import LiveExercise, Participant, Snapshot, Story, Workshop
from pages.common import plain, store
from pages.exercise_widgets import answer_text, field_widget, json_value, widget_value
from pages import live as live_push


def _slot(exercise: Exercise) -> str:
    """The id of the story this phone is building; a new one when the person starts another story."""
    return st.session_state.setdefault(f"story_slot_{exercise.key}", uuid.uuid4().hex)


def _another_key(exercise: Exercise) -> str:
    return f"another_after_{exercise.key}"


def _round_answers(exercise: Exercise, index: int, fid: str) -> dict:
    return {f.name: json_value(st.session_state.get(f"{fid}-{f.name}")) for f in exercise.round_fields(index)}


def paced_forms(workshop: Workshop, participant: Participant, exercise: Exercise, live: LiveExercise,
                mine: list[Story], *, accepting: bool, serves: list[str]) -> None:
    """The rounds this person still has to send (the room's round and any earlier one left), each sent alone."""
    _ = i18n.translator(exercise.language).gettext
    another = st.session_state.get(_another_key(exercise))
    starting_another = another is not None and bool(mine) and mine[-1].id == another
    state = rounds.my_rounds(exercise, mine, live.round, starting_another=starting_another)
    with st.container(key="round-now"):
        st.text(rounds.round_label(exercise, live.round, _))
    message = st.session_state.pop("round_sent", None)
    if message and not state.up_to_date:  # up to date, the note below says it with what comes next
        st.success(message, icon=":material/check_circle:")
    slot = _slot(exercise)
    for index in state.to_send:
        _round_form(workshop, participant, exercise, index, f"{slot}-r{index}",
                    state.story.id if state.story else None, accepting=accepting, serves=serves,
                    late=index < live.round, titled=len(state.to_send) > 1)
    nxt = live.round + 1
    if state.up_to_date:
        if nxt < len(exercise.rounds):
            st.info(_("Round {n} is sent: it is part of your story now. Next: round {next}, {title}; it opens "
                      "on your phone when the facilitator moves the room on.").format(
                        n=live.round + 1, next=nxt + 1, title=exercise.rounds[nxt].title), icon=":material/hourglass_top:")
        else:
            st.info(_("Every round is sent. Thank you."), icon=":material/task_alt:")
        if accepting and mine:
            st.button(_("Start another story"), key=f"another-{exercise.key}", icon=":material/add:", type="tertiary",
                      on_click=_start_another, args=(exercise, mine[-1].id))
    elif nxt < len(exercise.rounds):
        st.caption(_("Coming next: round {next}, {title}.").format(next=nxt + 1, title=exercise.rounds[nxt].title))


def _start_another(exercise: Exercise, latest_id: int) -> None:
    st.session_state[_another_key(exercise)] = latest_id
    st.session_state[f"story_slot_{exercise.key}"] = uuid.uuid4().hex


def _round_form(workshop: Workshop, participant: Participant, exercise: Exercise, index: int, fid: str,
                story_id: int | None, *, accepting: bool, serves: list[str], late: bool, titled: bool) -> None:
    if not st.session_state.get(f"loaded-{fid}"):
        # A refresh, a new device or the next round: bring back what was typed for these fields.
        st.session_state[f"loaded-{fid}"] = True
        draft = drafts.load_draft(store(), participant, exercise.key)
        for f in exercise.round_fields(index):
            value = widget_value(f, draft.get(f.name), workshop, [], serves=serves)
            if value is not None:
                st.session_state[f"{fid}-{f.name}"] = value
    _ = i18n.translator(exercise.language).gettext
    problems_form, problems = st.session_state.get("send_problems", (None, {}))
    if problems_form != fid:
        problems = {}
    with st.container(border=True, key=f"round-form-{index}"):
        if titled:  # two rounds to send: say which is which (alone, the line above names it)
            with st.container(key=f"round-title-{index}"):
                st.text(_("Round {n} · {title}").format(n=index + 1, title=exercise.rounds[index].title))
        if late:
            st.caption(_("The room has moved on; you can still send this round."))
        if not accepting:
            st.warning(_("This exercise is locked. What you typed is kept here and on the server."), icon=":material/lock:")
        else:
            live_push.keep_typing(code=workshop.code, token=participant.token, exercise_key=exercise.key, form_id=fid,
                                  fields=[f.name for f in exercise.round_fields(index) if f.is_text])
        for f in exercise.round_fields(index):
            field_widget(f, f"{fid}-{f.name}", workshop, [], disabled=not accepting, serves=serves,
                         on_change=_keep_draft, args=(participant, exercise.key, index, fid))
            if f.name in problems:
                st.error(plain(_(problems[f.name])))
        for name, message in problems.items():
            if name not in {f.name for f in exercise.round_fields(index)}:
                st.error(plain(_(message)))
        st.button(_("Send round {n}").format(n=index + 1), type="primary", width="stretch", disabled=not accepting,
                  key=f"send-{fid}", on_click=_send_round, args=(participant, exercise.key, index, fid, story_id, exercise.language))


def _keep_draft(participant: Participant, exercise_key: str, index: int, fid: str) -> None:
    drafts.merge_draft(store(), participant, exercise_key, _round_answers(library()[exercise_key], index, fid))


def _send_round(participant: Participant, exercise_key: str, index: int, fid: str, story_id: int | None,
                language: str | None = None) -> None:
    """Store one round before the page draws: a success moves on, a refusal keeps every word in its field."""
    exercise = library()[exercise_key]
    _ = i18n.translator(language).gettext
    answers = _round_answers(exercise, index, fid)
    result = rounds.submit_round(store(), participant, exercise_key, index, answers, fid, story_id=story_id)
    st.session_state["send_problems"] = fid, ({} if result.ok else result.problems)
    if result.ok:
        st.session_state["round_sent"] = _("Round {n} sent — it is part of your story now.").format(n=index + 1)
    else:
        drafts.merge_draft(store(), participant, exercise_key, answers)


def sent_story(exercise: Exercise, story: Story) -> None:
    """One of this person's stories, round by round (a round not sent yet says so)."""
    _ = i18n.translator(exercise.language).gettext
    for index, r in enumerate(exercise.rounds):
        got = [f for f in exercise.round_fields(index) if f.name in story.answers]
        with st.container(key=f"mine-{story.id}-round-{index}"):
            if not got:
                st.caption(_("Round {n} · {title}: not sent yet").format(n=index + 1, title=r.title))
                continue
            st.caption(_("Round {n} · {title}").format(n=index + 1, title=r.title))
            for f in got:
                st.text(f"{f.label}\n{answer_text(f, story.answers[f.name], exercise.language)}")


def editable_fields(exercise: Exercise, story: Story):
    """The fields a person may change in a story they sent: those of the rounds it has."""
    sent = rounds.rounds_in(exercise, story)
    return [f for i in sorted(sent) for f in exercise.round_fields(i)] if exercise.paced else list(exercise.fields)


# --- guess first -----------------------------------------------------------------------------------

def guess_box(participant: Participant, exercise: Exercise, live: LiveExercise, snap: Snapshot) -> None:
    """The term up on the wall: a guess box for the other functions, the meaning once it is revealed."""
    if not exercise.guess_first or live.guess_term is None:
        return
    story_id, revealed = live.guess_term
    term_story = next((s for s in snap.stories if s.id == story_id and not s.hidden), None)
    if term_story is None:
        return
    _ = i18n.translator(exercise.language).gettext
    term_field, meaning_field = exercise.glossary
    mine = rounds.my_guess(snap, participant, story_id)
    with st.container(border=True, key="guess-box"):
        st.caption(_("Guess first: what does this word mean?"))
        with st.container(key="guess-term"):
            st.text(str(term_story.answers.get(term_field, "")))
        if revealed:
            st.text(_("It means: {meaning}").format(meaning=term_story.answers.get(meaning_field, "")))
            if mine:
                st.caption(plain(_("Your guess was: {guess}").format(guess=mine.text)))
            return
        if why := rounds.guess_refusal(participant, term_story, _):
            st.info(plain(why), icon=":material/hearing:")
            return
        key = f"guess-{story_id}"
        if key not in st.session_state and mine:
            st.session_state[key] = mine.text
        st.text_input(_("What do you think it means?"), key=key, max_chars=rounds.GUESS_MAX_CHARS,
                      placeholder=_("Your best guess, in a few words"))
        if problem := st.session_state.pop(f"guess-problem-{story_id}", None):
            st.error(plain(_(problem)))
        st.button(_("Change my guess") if mine else _("Send my guess"), key=f"guess-send-{story_id}", type="primary",
                  on_click=_send_guess, args=(participant, story_id, key, exercise.language))
        if mine:
            st.caption(plain(_("Your guess is in: {guess}. You can change it until the meaning is revealed.").format(guess=mine.text)))


def _send_guess(participant: Participant, story_id: int, key: str, language: str | None = None) -> None:
    if problem := rounds.submit_guess(store(), participant, story_id, st.session_state.get(key, ""),
                                      gettext=i18n.translator(language).gettext):
        st.session_state[f"guess-problem-{story_id}"] = problem
