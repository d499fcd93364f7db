"""Participant page: what is live now, one clear task, the countdown, and what this person has sent.

Every answer is kept as a server-side draft as soon as the field is left, so a refresh, a lost
connection or a lock at zero never loses a word. A refused answer stays in its field.
"""

import time
import uuid

import streamlit as st

from facilitation import controls, drafts, handoff_sides, i18n, live_cache, pairs, room, sending, views, workshops
from facilitation.exercises import in_language, library
from pages import after_widgets, pair_widgets, round_widgets
from pages.common import LIVE_POLL_SECONDS, PHONE_POLL_SECONDS, format_clock, plain, query_code, remember_participant, store, use_css
from pages.exercise_widgets import answer_text, field_readings, field_widget, json_value, widget_value
from pages import live as live_push
from pages import views as room_views

use_css("participant.css")
# Both read once per process while nothing they show changes (facilitation/live_cache.py): a whole room runs this.
workshop = live_cache.workshop_by_code(store(), query_code()) if query_code() else None
participant = live_cache.participant(store(), workshop.id, st.query_params.get("p")) if workshop else None
_ = i18n.translator(workshop.language if workshop else None).gettext
ngettext = i18n.translator(workshop.language if workshop else None).ngettext
if participant is None:
    st.title(_("You are not in a workshop yet"))
    st.write(_("This link does not match anyone in a workshop. Join with the code on the screen."))
    st.page_link("pages/join.py", label=_("Join a workshop"), icon=":material/login:",
                 query_params={"code": workshop.code} if workshop else None)
    st.stop()
remember_participant(workshop, participant)

live = live_cache.live_exercise(store(), workshop.id)


@st.fragment(run_every=PHONE_POLL_SECONDS)
def follow_the_room():
    """Redraw this screen when the facilitator changes what the room is doing (woken by push)."""
    live_push.follow(store(), workshop.id, "follow", topics={"live"}, revision=live.revision,
                     signature=live.signature, min_interval=live_push.PHONE_MIN_INTERVAL_S, page=True)
    # A whole room wakes at once: one read per server process answers them all.
    current = live if live_cache.revision(store(), workshop.id) == live.revision else live_cache.live_exercise(store(), workshop.id)
    if current.signature != live.signature and live_push.fragment_run_alone():
        st.rerun(scope="app")
    if current.seconds_left(time.time()) is not None:
        with st.container(key="time-left"):  # sticky (participant.css): in sight while scrolling a long form
            live_push.countdown(current.item.deadline, key="phone-clock", look="caption", running=_("{clock} left"), spoken=_("{time} left"),
                                up=_("Time is up.") + ("" if current.lock_at_zero else
                                                      " " + _("You can still send what you are writing.")))


with st.container(key="whoami"):
    st.text(f"{workshop.title}\n{participant.display_name} · {participant.function}")
follow_the_room()
if after_widgets.my_commitments(workshop, participant, live):
    st.stop()

if live.item is None:
    st.header(_("Welcome — you're in"))
    st.write(_("The facilitator will open the first exercise in a moment. Keep this page open; it changes by itself."))
    st.caption(_("Bookmark this page's address to come back as yourself from this device."))
    st.stop()

exercise = in_language(live.exercise, workshop.language)
item = live.item
accepting = live.accepting(time.time())
st.header(exercise.title)
st.subheader(exercise.question)
with st.expander(_("Why this exercise?")):
    st.write(exercise.purpose)
# Only an exercise done in pairs needs the room's names (read from the shared per-revision snapshot).
partners = ([p.display_name for p in live_cache.snapshot(store(), workshop.id).participants if p.id != participant.id]
            if exercise.partner_field else [])
# A commitment names a story or handoff the room told today (the same list the server checks against).
serves = (live_cache.serve_options(store(), workshop.id)
          if any(f.kind == "story_or_handoff" for f in exercise.fields) else [])
if exercise.guess_first and live.guess_term is not None:  # a term is up on the wall: guess it first
    round_widgets.guess_box(participant, exercise, live, live_cache.snapshot(store(), workshop.id))
# The receiving side of a handoff exercise offers the handoffs other functions said they make to this one.
handoff_choices = (handoff_sides.handoff_choices(live_cache.snapshot(store(), workshop.id), exercise, participant.function)
                   if exercise.receives_from else None)


# Only an exercise done in pairs reads the room's snapshot here: at a deadline every story moves it, and a
# phone redrawn after its Send would read the whole room again.
pair_round = (pair_widgets.phone_panel(exercise, live, live_cache.snapshot(store(), workshop.id), participant)
              if pairs.done_in_pairs(exercise) else None)


# --- dot voting -----------------------------------------------------------------------------------

def toggle_dot(story_id: int, put: bool) -> None:
    result = (controls.cast_vote(store(), participant, story_id, gettext=_) if put
              else controls.withdraw_vote(store(), participant, story_id, gettext=_))
    # Shown under the button that was tapped, until the next tap: that is where the person is looking.
    st.session_state["vote_message"] = (story_id, result.ok, result.message)


def _about(text: str, limit: int = 120) -> str:
    """A story as a button's accessible name has it: one line, at most `limit` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[:limit - 1].rstrip() + "…"


@st.fragment(run_every=LIVE_POLL_SECONDS)
def vote_wall():
    """The stories to vote on, with this person's dots; redrawn when the stories change (others' dots
    are not shown here, so they wake nothing)."""
    snap = live_cache.snapshot(store(), workshop.id)
    live_push.follow(store(), workshop.id, "vote-wall", topics={"stories"}, revision=snap.workshop.revision,
                     min_interval=live_push.WALL_MIN_INTERVAL_S)
    told = room.room_stories(snap, item)
    mine = controls.my_dots(store(), participant, exercise.key)
    st.subheader(_("Vote: {left} of {dots} dots left").format(left=max(0, item.dots - len(mine)), dots=item.dots))
    st.caption(_("Put a dot on the stories worth telling. Tap again to take a dot back.")
               + ("" if exercise.own_votes else " " + _("Your own stories take no dots.")))
    tapped, tap_ok, tap_message = st.session_state.get("vote_message", (None, True, ""))
    labelled = room.labelled_functions(told, show_names=workshop.show_names)
    names: dict[str, str] = {}
    for story in told:
        with st.container(border=True, key=f"vote-{story.id}"):
            st.text(story.answers.get(exercise.headline, ""))
            if line := room.byline(story, show_names=workshop.show_names, labelled=labelled):
                with st.container(key=f"byline-{story.id}"):
                    st.text(line)  # names and functions are typed by people: never markdown
            # Above the button just tapped: below it, a card at the bottom of a phone's screen would
            # put the answer out of sight.
            if tapped == story.id and not tap_ok:
                with st.container(key=f"vote-message-{story.id}"):
                    st.warning(tap_message, icon=":material/info:")
            if story.participant_id == participant.id and not exercise.own_votes and story.id not in mine:
                st.caption(_("Your story: your dots go to other people's."))
            elif story.id in mine:
                st.button(_("Take my dot back"), key=f"unvote-{story.id}", icon=":material/radio_button_checked:",
                          on_click=toggle_dot, args=(story.id, False))
                names[f"unvote-{story.id}"] = _("Take my dot back from: {story}").format(
                    story=_about(story.answers.get(exercise.headline, "")))
            else:
                st.button(_("Put a dot here"), key=f"vote-btn-{story.id}", icon=":material/radio_button_unchecked:",
                          on_click=toggle_dot, args=(story.id, True))
                names[f"vote-btn-{story.id}"] = _("Put a dot here: {story}").format(
                    story=_about(story.answers.get(exercise.headline, "")))
    # A screen reader tells the buttons apart by the story each one votes for.
    live_push.name_buttons(names, key="vote-names")


if item.voting == "open":
    vote_wall()
elif item.voting == "closed":
    st.info(_("Voting is closed. The results are on the screen at the front."))


# --- the story form ---------------------------------------------------------------------------------

form_key = f"form_id_{exercise.key}"
editing = st.session_state.get("editing")  # (story id, form id) while changing a story already sent
if editing and editing[2] != exercise.key:
    editing = st.session_state["editing"] = None
# Sent by POST from this page (live_push.send_by_post): the redraw that follows brings a fresh form.
if (not editing and (sent_form := st.session_state.get(form_key))
        and live_cache.may_have_stories(store(), workshop.id, exercise.key, participant.id)
        and workshops.form_sent(store(), participant, sent_form)):
    st.session_state["just_sent"] = _("Sent — thank you. You can add another below.")
    st.session_state[form_key] = uuid.uuid4().hex
if form_key not in st.session_state:
    st.session_state[form_key] = uuid.uuid4().hex
    draft = drafts.load_draft(store(), participant, exercise.key)
    for f in exercise.fields:  # a refresh or a new device: bring back what was typed
        value = widget_value(f, draft.get(f.name), workshop, partners, handoff_choices, serves=serves)
        if value is not None:
            st.session_state[f"{st.session_state[form_key]}-{f.name}"] = value
form_id = editing[1] if editing else st.session_state[form_key]
# A listener's form names their teller already (the pair sends one form, the listener sends it).
if pair_round is not None and not editing and (me := pair_round.member(participant.id)) and me.role == pairs.LISTENER:
    teller = pair_round.pair_of(participant.id).teller
    partner_key = f"{form_id}-{exercise.partner_field.name}"
    if teller is not None and teller.name in partners and st.session_state.get(partner_key) is None:
        st.session_state[partner_key] = teller.name


def current_answers(ex_key: str, fid: str) -> dict:
    return {f.name: json_value(st.session_state.get(f"{fid}-{f.name}")) for f in library()[ex_key].fields}


def keep_draft(ex_key: str, fid: str) -> None:
    if not st.session_state.get("editing"):  # never for a form already sent (a field left as Send was pressed)
        # Queued, not waited for: the field's run is done at once (a reload waits for it: drafts.load_draft).
        drafts.save_draft(store(), participant, ex_key, current_answers(ex_key, fid), form_id=fid, wait=False)


def send(ex_key: str, fid: str) -> None:
    """Store the story before the page draws: a success empties the form, a refusal keeps every word."""
    answers = current_answers(ex_key, fid)
    edit = st.session_state.get("editing")
    if edit:
        result = workshops.edit_story(store(), participant, edit[0], answers)
    else:
        # A stored story takes its draft with it (same transaction); a refused one keeps every word here.
        result = sending.take_story(store(), participant, ex_key, answers, fid)
    st.session_state["send_problems"] = fid, ({} if result.ok else result.problems)
    if result.ok:
        st.session_state["just_sent"] = _("Changes saved.") if edit else _("Sent — thank you. You can add another below.")
        if edit:
            st.session_state["editing"] = None
        else:
            st.session_state[form_key] = uuid.uuid4().hex  # a fresh, empty form for the next story
        # If a rerun of the fields (a field just left) takes this run's place, it redraws the whole page.
        st.session_state["redraw_page"] = True


sent_just_now = False
if message := st.session_state.pop("just_sent", None):
    st.success(message, icon=":material/check_circle:")
    sent_just_now = not editing
    st.session_state.pop("redraw_page", None)  # this run draws the whole page


@st.fragment
def story_form_fields():
    """The form's fields alone rerun as a person moves from field to field (each change keeps a draft
    on the server)."""
    if st.session_state.pop("redraw_page", False):
        st.rerun(scope="app")
    problems_form, problems = st.session_state.get("send_problems", (None, {}))
    if problems_form != form_id:
        problems = {}
    with st.container(border=True, key="story-form"):
        if editing:
            st.caption(_("Changing a story you sent"))
        elif not accepting:
            st.warning(_("This exercise is locked. What you typed is kept here and on the server."), icon=":material/lock:")
        if accepting and not editing:  # the field being typed is kept as it is typed, without a rerun
            live_push.keep_typing(code=workshop.code, token=participant.token, exercise_key=exercise.key,
                                  form_id=form_id, fields=[f.name for f in exercise.fields if f.is_text])
        shown = round_widgets.editable_fields(exercise, editing[3]) if editing and exercise.paced else exercise.fields
        for f in shown:
            field_widget(f, f"{form_id}-{f.name}", workshop, partners, disabled=not accepting,
                         on_change=keep_draft, args=(exercise.key, form_id), handoffs=handoff_choices,
                         serves=serves)
            if f.name in problems:
                st.error(plain(_(problems[f.name])))
        for name, message in problems.items():
            if name not in {f.name for f in shown}:
                st.error(plain(_(message)))


def story_form():
    """The fields, then Send. Send is outside the fields' fragment on purpose: a press is one run of the
    whole page (the story stored, the form emptied, "What you sent" redrawn), and a run of the whole
    page is never lost to another rerun arriving at the same moment, which a fragment's button press
    can be (a screen's slow safety-net poll landing just then dropped about one Send in eight at a
    deadline: bench/load.py --scenario deadline)."""
    story_form_fields()
    with st.container(key="story-send"):
        st.button(_("Save changes") if editing else _("Send"), type="primary", width="stretch", disabled=not accepting,
                  key=f"send-{form_id}", on_click=send, args=(exercise.key, form_id))
        if accepting and not editing:  # in a browser, Send stores the story by POST: no script run to wait for
            live_push.send_by_post(code=workshop.code, token=participant.token, exercise_key=exercise.key,
                                   form_id=form_id, button_key=f"send-{form_id}",
                                   fields=field_readings(exercise.fields, workshop, partners, handoff_choices, serves=serves),
                                   sending=_("Sending…"), sent=_("Sent — thank you. A fresh form opens in a moment."),
                                   # Said where the person is looking too, not only above the form.
                                   note=_("Sent — thank you. The form above is empty for your next story.") if sent_just_now else "")
        if editing and st.button(_("Cancel"), type="tertiary", key=f"cancel-{form_id}"):
            st.session_state["editing"] = None
            st.rerun()


mine = [s for s in workshops.list_stories(store(), workshop.id, exercise.key, participant_id=participant.id,
                                          include_hidden=True) if s.builds_on is None
        ] if live_cache.may_have_stories(store(), workshop.id, exercise.key, participant.id) else []
if exercise.paced and not editing and item.voting != "open":
    round_widgets.paced_forms(workshop, participant, exercise, live, mine, accepting=accepting, serves=serves)
elif item.voting != "open" or editing:
    story_form()


# --- building on other stories --------------------------------------------------------------------

def add_to_story(story_id: int, key: str) -> None:
    result = controls.build_on(store(), participant, story_id, st.session_state.get(f"build-{key}", ""), key, gettext=_)
    if result.ok:
        del st.session_state[f"build-key-{story_id}"]
    else:
        st.session_state[f"build-problem-{story_id}"] = " ".join(result.problems.values())


@st.fragment(run_every=LIVE_POLL_SECONDS)
def build_on_wall():
    snap = live_cache.snapshot(store(), workshop.id)
    live_push.follow(store(), workshop.id, "build-on-wall", topics={"stories"}, revision=snap.workshop.revision,
                     min_interval=live_push.WALL_MIN_INTERVAL_S * 3)
    others = [s for s in room.room_stories(snap, item) if s.participant_id != participant.id]
    if not others:
        return
    st.subheader(_("Build on someone's story"))
    st.caption(_("Add what you know about the same customer: why they bought, why they stay."))
    for story in reversed(others[-12:]):
        additions = snap.build_ons(story.id)
        with st.container(border=True, key=f"build-on-{story.id}"):
            st.text(story.answers.get(exercise.headline, ""))
            for addition in additions:
                st.text(f"+ {addition.answers.get('addition', '')}")
            # The label is ours, not the story's (an expander label is markdown), and it never changes,
            # so a box someone is typing in stays open when others add to the same story.
            with st.expander(_("Add to this story")):
                key = st.session_state.setdefault(f"build-key-{story.id}", uuid.uuid4().hex)
                st.text_area(_("Your addition"), key=f"build-{key}", max_chars=controls.BUILD_ON_MAX_CHARS, height=80)
                if problem := st.session_state.pop(f"build-problem-{story.id}", None):
                    st.error(problem)
                st.button(_("Add"), key=f"build-send-{key}", on_click=add_to_story, args=(story.id, key))


if exercise.build_on and accepting and item.voting != "open" and not views.get(exercise.room_view).draws_build_ons:
    build_on_wall()

# What the exercise's room view shows on the phone, if it shows anything there (pages/views/).
if phone_part := room_views.phone(views.get(exercise.room_view).name):
    phone_part(workshop, participant, item, exercise)


# --- what this person sent --------------------------------------------------------------------------

if mine:
    # Names off: the sending function of a handoff answered reads as the choices did (handoff_sides).
    shown_handoff = (handoff_sides.anonymous_handoffs(live_cache.snapshot(store(), workshop.id))
                     if exercise.receives_from else None)
    st.subheader(_("What you sent ({n})").format(n=len(mine)))
    for story in reversed(mine):
        with st.container(border=True, key=f"mine-{story.id}"):
            if exercise.paced:
                round_widgets.sent_story(exercise, story)
            else:
                for f in exercise.fields:
                    if f.name in story.answers:
                        st.text(f"{f.label}\n{answer_text(f, story.answers[f.name], workshop.language, shown_handoff=shown_handoff)}")
            if accepting and not editing and st.button(_("Change"), key=f"edit-{story.id}", icon=":material/edit:"):
                fid = uuid.uuid4().hex
                for f in exercise.fields:
                    value = widget_value(f, story.answers.get(f.name), workshop, partners, handoff_choices,
                                         serves=serves)
                    if value is not None:
                        st.session_state[f"{fid}-{f.name}"] = value
                st.session_state["editing"] = (story.id, fid, exercise.key, story)
                st.rerun()
