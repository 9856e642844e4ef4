"""StepLabeler: a prompt and its numbered steps, labeled PRM800K-style from the keyboard."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Literal, Protocol

import traitlets

from labwidget.commits import commit, step_of, steps_context
from labwidget.store import StepSpec, Store, alternatives_of
from labwidget.widgets._base import FollowUp, Handler, LabWidget
from labwidget.widgets._buffers import unpack_float32
from labwidget.widgets._inputs import Suggestion, check_steps, check_suggestions, check_text
from labwidget.widgets._item import item_traits, shown_state
from labwidget.widgets._modes import disputes_of, shows_of
from labwidget.widgets._queue import CapWatch, resume_at
from labwidget.widgets._tokens import token_traits
from labwidget.widgets._traits import OptionalInts, StringLists, Strings


class StepLabeler(LabWidget):
    """Label each step of a model's output −1 / 0 / +1 (PRM800K) from the keyboard.

    Keys, while the widget has focus (``?`` shows them all): ``j``/``k`` or ↓/↑ move;
    ``1``/``2``/``3`` (or ``-``/``0``/``+``) rate the current step wrong / neutral / correct;
    ``f`` flags it as "can't tell"; ``h``/``l`` show its other alternatives and ``c`` chooses
    one; ``r`` writes a replacement step, ``n`` a note; ``u`` undoes; ``S``/``E``/``B``/``G``
    finish the item as solution / found_error / bad_problem / give_up (with a step rated wrong,
    ``S`` asks first); ``v`` shows the current step exactly as written; ``z`` unfolds a step
    longer than about three screens.

    Args:
        prompt: the question or prompt the steps answer (a string; "" for none).
        steps: the model's output split into steps, a list of strings; a step may be a list
            of alternative completions (PRM800K), the first being the one on the model's own
            path. One string is refused, not split: ``labwidget.label(text)`` splits a text
            into steps. An empty list, or one of blank steps only, is refused too.
        store: where labels are committed; re-adding the same prompt and steps reuses the item.
        dataset: the dataset the item belongs to in the store.
        meta: any JSON-able facts about the output (model, checkpoint, generation settings).
        source: where the output came from, for the store's records.
        queue: item ids in the store to label one after another (e.g. ``store.claim(50)``)
            instead of one prompt and its steps; ``N``/``P`` move through it, a progress bar
            counts what is done (and, past the store's ``weekly_cap_h``, says so gently), and
            a new widget resumes at the first item not done. An item's
            ``meta["suggestions"]`` become its suggestions. ``"review"``: the items whose
            steps the consensus router sends to people (``labwidget.auto.review_queue``), each
            step showing the rollouts' success rate as a bar and the judge's verdict with its
            rationale (and a ``suggestions="model:<name>"`` model's prediction); ``a`` accepts
            the machines' label, stored as a human label beside theirs.
        tokens: the output's tokens, step after step, with ``token_scores`` (one float per
            token: log-probs, entropies or a model's scores, as named by ``score_kind``) and
            ``step_token_counts`` (tokens per step): shown as a heatmap, ``t`` toggles it.
            Scores travel as one float32 buffer; NaN or inf is refused. They are kept with
            the item in the store (the first ones kept stay), so the item shows them again
            when it is reopened, e.g. from a queue.
        score_meta: facts about the token scores, kept with them; its ``"about"`` says what
            they are in words (e.g. "log-prob under the sampling distribution") and is shown
            as the heatmap's caption.
        generator: makes alternatives on demand (``g`` at a step asks it for three
            continuations of the path so far; they are stored as that step's alternatives).
        suggestions: a suggested rating per step (``{"value", "confidence", "source"}`` or
            None), e.g. from a process reward model; ``a`` accepts the current step's, ``A``
            all remaining ones, and each is stored as a human label recording what it confirmed.
            ``"model:<name>"`` shows that model's predictions in the store (``lw.suggest``),
            its score as the confidence; a blind item (``blind_rate``) shows none.
        adjudicate: walk the steps where labelers disagree (``lw.disagreements``; ``"auto"``
            counts the ``auto:`` sources too), showing who said what: a rating key stores
            the adjudicator's verdict as an ``adjudication`` event, which datasets and exports
            take in place of everyone's rating. With ``queue``, only its items.
        max_height: the greatest height of the steps (a CSS length, ``"70vh"`` by default):
            a longer output scrolls inside the widget, keeping the current step in view, rather
            than making the notebook one very long output. ``None`` lets it grow with its steps.
    """

    _bundle_name = "steps"

    # Inputs, set from Python.
    prompt = traitlets.Unicode("", help="The prompt the steps answer.").tag(sync=True)
    steps = Strings(help="Each step's first alternative.").tag(sync=True)
    alternatives = StringLists(help="Every alternative at each step.").tag(sync=True)
    item_id = traitlets.Unicode("", help="The item's content-hash id in the store.").tag(sync=True)
    # Captured outputs, written by Python after each commit, and the step the keyboard is on.
    step_labels = OptionalInts(help="The committed rating of each step: -1, 0, 1 or None.").tag(
        sync=True
    )
    saved = traitlets.Dict(
        help="Everything committed: ratings and flags per alternative, choices, replacements, "
        "notes per step, and the finish reason."
    ).tag(sync=True)
    suggestions: traitlets.List[Any] = traitlets.List(
        help="A suggested rating per step from a model or an automatic method, or None: "
        "{value, confidence, source}. Shown apart from human labels until accepted."
    ).tag(sync=True)
    tokens = traitlets.Dict(
        help="The output's tokens, step after step, for the heatmap: UTF-8 with a NUL between "
        "them in one binary buffer (pack_strings; unpack_strings reads them back)."
    ).tag(sync=True)
    token_scores = traitlets.Dict(
        help="One float32 score per token, packed as a binary buffer (pack_float32)."
    ).tag(sync=True)
    step_token_counts = traitlets.List(
        traitlets.Int(), help="How many of the tokens belong to each step."
    ).tag(sync=True)
    score_kind = traitlets.Enum(
        ["logprob", "entropy", "score"], "logprob", help="What the token scores are."
    ).tag(sync=True)
    score_about = traitlets.Unicode(
        "",
        help="What the token scores are, in words (e.g. under which distribution the log-probs "
        "were computed): the heatmap's caption.",
    ).tag(sync=True)
    evidence: traitlets.List[Any] = traitlets.List(
        help="What a review or an adjudication shows beside each step, or None: the rollouts' "
        "success rate and the judge's verdict with its rationale {review, mc_rate, mc_n, "
        "mc_successes, mc_value, mc_source, judge_value, rationale}, or who said what {labels}."
    ).tag(sync=True)
    mode = traitlets.Enum(
        ["label", "review", "adjudicate"],
        "label",
        help="What the rating keys do: label the steps, review the machines' labels (both "
        "store a rating), or adjudicate (store an adjudication).",
    ).tag(sync=True)
    cursor = traitlets.Int(0, help="The step the keyboard acts on.").tag(sync=True)
    progress = traitlets.Dict(
        help="With a queue: {position, total, done, session_labels, session_started_ms}; and "
        "with a weekly cap set, cap: {hours_this_week, cap_h, crossed}."
    ).tag(sync=True)
    max_height = traitlets.Unicode(
        "70vh",
        allow_none=True,
        help="The greatest height of the steps (CSS), beyond which they scroll; None: no limit.",
    ).tag(sync=True)

    def __init__(
        self,
        prompt: str = "",
        steps: Sequence[StepSpec] = (),
        *,
        store: Store,
        dataset: str = "default",
        meta: dict[str, Any] | None = None,
        source: str | None = None,
        suggestions: Sequence[Suggestion | None] | str = (),
        queue: Sequence[str] | Literal["review"] | None = None,
        adjudicate: bool | Literal["auto"] = False,
        tokens: Sequence[str] = (),
        token_scores: Any = None,
        step_token_counts: Sequence[int] = (),
        score_kind: str = "logprob",
        score_meta: dict[str, Any] | None = None,
        generator: Generator | None = None,
        max_height: str | None = "70vh",
    ) -> None:
        # Every trait is worked out before the comm opens, so the page gets the whole widget in
        # one message instead of an empty one and a dozen updates.
        self._shows = shows_of(suggestions, queue, adjudicate)
        if self._shows.model is not None:
            suggestions = ()
        traits: dict[str, Any] = {"max_height": max_height, "mode": self._shows.mode}
        self._session_labels = 0
        self._session_started = time.time()
        self._queue: list[str] = []
        self._done: set[str] = set()
        self._position = 0
        self._cap = CapWatch(store)
        if self._shows.mode != "label" and not (queue and queue != "review"):
            if prompt or steps:
                raise TypeError("a review or adjudication walks stored items: give no steps")
            queue = self._shows.queue(store)
            if not queue:
                wanted = "review" if self._shows.mode == "review" else "adjudication"
                raise ValueError(f"no step in {store!r} waits for {wanted}")
        if queue is not None:
            if prompt or steps or suggestions:
                raise TypeError("give either a queue of item ids or one item's prompt and steps")
            if tokens or token_scores is not None:
                raise TypeError(
                    "tokens and token_scores go with one item's steps; a queued item shows the "
                    "token scores kept with it in the store"
                )
            if not queue:
                raise ValueError("the queue is empty")
            self._queue = [str(item) for item in queue]
            for item in self._queue:
                store.item(item)  # a missing id fails here, not half-way through the queue
            # Which items are done is read once here; after that only the item being labeled
            # can change, so a label re-checks that one item, not the whole queue.
            self._done = self._shows.done(store, self._queue)
            self._position = resume_at(self._queue, self._done)
            traits.update(self._queue_traits(store, self._position))
        else:
            # Everything is checked before anything is stored.
            text = check_text(prompt, "prompt")
            positions = alternatives_of(check_steps(steps))
            suggested = check_suggestions(suggestions, len(positions))
            heatmap: dict[str, Any] = {}
            if tokens or token_scores is not None:
                about = (score_meta or {}).get("about", "")
                heatmap = token_traits(
                    tokens,
                    token_scores,
                    step_token_counts,
                    steps=len(positions),
                    score_kind=score_kind,
                    score_about=about if isinstance(about, str) else "",
                )
            # The item is written again if lost (re-running the cell): its commit need not
            # wait for the disk; the first label's durable commit takes it along.
            with store.batch(durable=False) as batch:
                new_id = batch.add_item(text, positions, dataset=dataset, meta=meta, source=source)
                if heatmap:
                    batch.add_token_scores(
                        new_id,
                        list(tokens),
                        unpack_float32(heatmap["token_scores"]),
                        heatmap["step_token_counts"],
                        kind=score_kind,
                        meta=score_meta,
                    )
            # What was passed is shown, even where the store kept other scores before.
            traits.update(item_traits(store, new_id, suggested, heatmap, self._shows))
            traits["progress"] = self._progress(0)
        super().__init__(store=store, **traits)
        self.generator = generator

    def _queue_traits(self, store: Store, position: int) -> dict[str, Any]:
        """The traits showing the queue's item at ``position``, with its meta's suggestions."""
        item = store.item(self._queue[position])
        suggested = check_suggestions(item["meta"].get("suggestions") or (), len(item["steps"]))
        traits = item_traits(store, item["id"], suggested, None, self._shows)
        return {**traits, "progress": self._progress(position)}

    def _show(self, position: int) -> None:
        """Show the queue's item at ``position``, in one update message."""
        traits = self._queue_traits(self.store, position)
        self._position = position
        with self.hold_sync():
            self.set_trait("cursor", -1)  # so that 0 below is a change and reaches the page
            for name, value in traits.items():
                setattr(self, name, value)

    def _progress(self, position: int) -> dict[str, Any]:
        progress: dict[str, Any] = {
            "position": position,
            "total": len(self._queue),
            "done": len(self._done),
            "session_labels": self._session_labels,
            "session_started_ms": self._session_started * 1000,
        }
        if self._cap.status:
            progress["cap"] = self._cap.status
        return progress

    def _refresh(self) -> None:
        shape = [len(a) for a in self.alternatives]
        saved = shown_state(self.store, self.item_id, shape, self._shows)
        with self.hold_sync():  # one update message for both traits
            self.saved = saved
            self.step_labels = [ratings[0] for ratings in saved["ratings"]]

    def _handlers(self) -> dict[str, Handler]:
        return {
            "label": self._on_label,
            "undo": self._on_undo,
            "committed": self._on_committed,
            "goto": self._on_goto,
            "generate": self._on_generate,
        }

    def path_to(self, step: int) -> list[str]:
        """The steps before ``step`` as the annotator has them: chosen or written by hand."""
        saved = self.saved
        path = []
        for position in range(step):
            replacement = saved["replacements"][position]
            chosen = saved["choices"][position] or 0
            path.append(replacement or self.alternatives[position][chosen])
        return path

    def _on_generate(self, event: dict[str, Any]) -> None:
        if self.generator is None:
            raise ValueError("this labeler has no generator: pass generator=… to make alternatives")
        step, _ = step_of(event, self.item_id, len(self.steps))
        count = event.get("n", 3)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 16:
            raise ValueError(f"ask for 1 to 16 alternatives, not {count!r}")
        texts = self.generator(self.prompt, self.path_to(step), count)
        if isinstance(texts, str) or not isinstance(texts, Sequence):
            raise TypeError(f"the generator must return a list of strings, not {type(texts)}")
        self.store.add_alternatives(self.item_id, step, [str(t) for t in texts])
        alternatives = self.store.item(self.item_id)["alternatives"]
        with self.hold_trait_notifications():
            self.alternatives = alternatives
            self._refresh()

    def _on_goto(self, event: dict[str, Any]) -> None:
        position = event.get("position")
        if not self._queue:
            raise ValueError("this labeler has no queue")
        if isinstance(position, bool) or not isinstance(position, int):
            raise ValueError(f"there is no queue position {position!r}")
        self._show(min(max(position, 0), len(self._queue) - 1))

    def _context(self) -> dict[str, Any]:
        """What this labeler shows, which decides what its events may write."""
        disputes = disputes_of(self.evidence) if self.mode == "adjudicate" else None
        return steps_context(self.item_id, len(self.steps), self.suggestions, disputes)

    def _on_label(self, event: dict[str, Any]) -> FollowUp:
        commit(self.store, self._context(), event)
        self._session_labels += 1
        return self._show_committed

    def _on_committed(self, event: dict[str, Any]) -> None:
        """The page's word that the server extension committed some of its events directly.

        ``{kind: "committed", id, items, labels}``: the items they were on (the queue may have
        moved on from them since) and how many were labels rather than undos. The traits are
        re-read before the ack: the page keeps what its acks showed until then.
        """
        items, labels = event.get("items"), event.get("labels")
        if not isinstance(items, list) or isinstance(labels, bool) or not isinstance(labels, int):
            raise ValueError("a committed message names its items and counts its labels")
        self._session_labels += max(labels, 0)
        self._show_committed([item for item in items if isinstance(item, str)])

    def _show_committed(self, items: Sequence[str] = ()) -> None:
        """The traits show what is saved and, with a queue, what is done."""
        self._refresh()
        if self._queue:
            changed = [item for item in {*items, self.item_id} if item in self._queue]
            self._done.difference_update(changed)
            self._done |= self._shows.done(self.store, changed)
        if self._queue or self._cap.check():
            self.progress = self._progress(self._position)

    def _on_undo(self, event: dict[str, Any]) -> None:
        commit(self.store, self._context(), event)
        self._refresh()


class Generator(Protocol):
    """Makes candidate next steps: ``(prompt, steps so far, n) -> n step texts``.

    Typically a closure over the user's torch model that samples ``n`` continuations of the
    prefix and cuts each at its first step boundary.
    """

    def __call__(self, prompt: str, prefix_steps: list[str], n: int) -> Sequence[str]:
        """Return ``n`` candidate texts for the step after ``prefix_steps``."""
