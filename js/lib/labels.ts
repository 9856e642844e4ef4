import type { AnyModel } from "@anywidget/types";
import type { Evidence, LabelEvent, LabelKind, LabelValue, SavedState, StepLabelerTraits, Suggestion } from "../types";

export type StepsModel = AnyModel<StepLabelerTraits>;

export type Status = "none" | "pending" | "saved" | "error";

/** What a rating is called wherever it is shown. */
export const VALUE_NAMES: Record<LabelValue, string> = { [-1]: "✗ wrong", 0: "~ neutral", 1: "✓ correct" };

type Action = { id: string; label: LabelKind; alt: number; value?: number; text?: string };

/**
 * What this view knows about a step beyond what Python has saved: the latest action taken
 * here and its fate. `saved` bridges the gap between an ack and Python's trait update, which
 * may arrive in either order; `told` is false for a label committed directly, until the kernel
 * has re-read the store after it (its traits may still come from a read before it).
 */
export type LocalState =
  | ({ status: "pending" } & Action)
  | ({ status: "saved"; told: boolean } & Action)
  | { status: "error"; id: string; message: string; label?: LabelKind };

/** The steps whose rows a change concerns, or undefined when it may concern every row. */
export type Changed = number[] | undefined;

/**
 * The labeling state of one item as this view shows it: Python's traits (what is saved), and
 * over them the labels sent from here that Python has not shown yet, with their fate.
 */
export class Labels {
  readonly #model: StepsModel;
  readonly local = new Map<number, LocalState>();
  /** The finish (a label of the whole item) sent from here, while Python does not show it. */
  finish: LocalState | null = null;
  /** Steps waiting for the model's alternatives: the request id and how many there were. */
  readonly generating = new Map<number, { id: string; before: number }>();
  /** The alternative shown at a step, where the labeler moved off the chosen one (h/l). */
  readonly shownAlt = new Map<number, number>();
  /** What Python had saved for each step at its last update (see `savedKey`). */
  #savedKeys: string[] = [];

  constructor(model: StepsModel) {
    this.#model = model;
  }

  stepCount(): number {
    return this.#model.get("steps").length;
  }

  currentStep(): number {
    return Math.min(Math.max(this.#model.get("cursor"), 0), this.stepCount() - 1);
  }

  saved(): Partial<SavedState> {
    return this.#model.get("saved") ?? {};
  }

  /** Every alternative of `step`. Python sets steps and alternatives together; until both have arrived, steps wins. */
  alternativesAt(step: number): string[] {
    const alternatives = this.#model.get("alternatives")?.[step];
    const text = this.#model.get("steps")[step];
    return alternatives?.[0] === text ? alternatives : [text];
  }

  /** The alternative shown at `step`: the one moved to here, else the one chosen, else the first. */
  altOf(step: number): number {
    return this.shownAlt.get(step) ?? this.saved().choices?.[step] ?? 0;
  }

  suggestionAt(step: number): Suggestion | null {
    return this.#model.get("suggestions")?.[step] ?? null;
  }

  evidenceAt(step: number): Evidence | null {
    return this.#model.get("evidence")?.[step] ?? null;
  }

  /** The label kind the rating keys send: an adjudicator's verdict, or a rating. */
  ratingKind(): "rating" | "adjudication" {
    return this.#model.get("mode") === "adjudicate" ? "adjudication" : "rating";
  }

  savedRating(step: number, alt: number): LabelValue | null {
    return alt === 0 ? (this.#model.get("step_labels")[step] ?? null) : (this.saved().ratings?.[step]?.[alt] ?? null);
  }

  /** The rating shown for the alternative shown at `step`: the latest sent from here, else the saved one. */
  rating(step: number): LabelValue | null {
    const state = this.local.get(step);
    const alt = this.altOf(step);
    if (state?.status !== "error" && state?.label === this.ratingKind() && state.alt === alt && state.value !== undefined) {
      return state.value as LabelValue;
    }
    return this.savedRating(step, alt);
  }

  /**
   * A flag, choice, replacement or note of `step` as shown, with its status: the latest action
   * of that kind taken here, until Python's traits have it; else what Python saved (`saved`).
   */
  mark<T extends number | string | null>(
    step: number,
    kind: "flag" | "choice" | "replacement" | "note",
    saved: T,
    alt?: number,
  ): { value: T; status: Status } {
    const state = this.local.get(step);
    if (state?.label !== kind || (alt !== undefined && state.status !== "error" && state.alt !== alt)) {
      return { value: saved, status: saved === null || saved === 0 || saved === "" ? "none" : "saved" };
    }
    if (state.status === "error") return { value: saved, status: "error" };
    const value = (kind === "replacement" || kind === "note" ? state.text : state.value) as T;
    return { value: value ?? saved, status: state.status };
  }

  /** The row's status: its latest action's fate, else whether a rating is shown. */
  status(step: number): Status {
    if (this.generating.has(step)) return "pending";
    return this.local.get(step)?.status ?? (this.rating(step) === null ? "none" : "saved");
  }

  /** Why the latest action on `step` was not saved, or "". */
  error(step: number): string {
    const state = this.local.get(step);
    return state?.status === "error" ? state.message : "";
  }

  /** The first step shown as wrong, or null: steps after it are dimmed (PRM800K phase 2). */
  firstError(): number | null {
    for (let step = 0; step < this.stepCount(); step++) if (this.rating(step) === -1) return step;
    return null;
  }

  /** Shows `event`, just sent, as pending. */
  track(event: LabelEvent): void {
    const pending: LocalState = { status: "pending", id: event.id, label: event.label, alt: event.alt, value: event.value, text: event.text };
    if (event.step === null) this.finish = pending;
    else this.local.set(event.step, pending);
  }

  /**
   * Records a reply to `event`; only the latest action on a step decides what it shows. Null
   * when the reply is about an item no longer shown.
   */
  settle(event: LabelEvent, outcome: { ok: true; told: boolean } | { ok: false; message: string }): Changed | null {
    if (event.item !== this.#model.get("item_id")) return null;
    // Which label an undo restored shows once the kernel has re-read the store: till then, pending.
    const restoring = event.kind === "undo" && outcome.ok && !outcome.told;
    const { id, label, alt, value, text } = event;
    const next: LocalState = !outcome.ok
      ? { status: "error", id, message: outcome.message, label }
      : restoring
        ? { status: "pending", id, label, alt, value, text }
        : { status: "saved", told: outcome.told, id, label, alt, value, text };
    if (event.step === null) {
      if (this.finish?.id === id) this.finish = next;
      return undefined;
    }
    if (this.local.get(event.step)?.id === id) this.local.set(event.step, next);
    return [event.step];
  }

  /** The kernel's traits show these events now: what this view kept for them is no longer needed. */
  told(events: LabelEvent[]): Changed {
    const changed: number[] = [];
    for (const event of events) {
      if (event.step === null && this.finish?.id === event.id) this.finish = null;
      else if (event.step !== null && this.local.get(event.step)?.id === event.id) {
        this.local.delete(event.step);
        changed.push(event.step);
      }
    }
    return events.some((event) => event.step === null) ? undefined : changed;
  }

  /**
   * Python's saved traits changed. They now hold every acked action, so what this view kept for
   * them is no longer needed; except for one committed directly, until the kernel has re-read
   * the store after it. Returns the steps whose saved labels changed or were kept here.
   */
  onSaved(): number[] {
    const changed: number[] = [];
    const known = (state: LocalState | null | undefined) => state?.status === "saved" && state.told;
    for (const [step, state] of this.local) {
      if (!known(state)) continue;
      this.local.delete(step);
      changed.push(step);
    }
    if (known(this.finish)) this.finish = null;
    const keys = Array.from({ length: this.stepCount() }, (_, step) => this.#savedKey(step));
    keys.forEach((key, step) => {
      if (key !== this.#savedKeys[step]) changed.push(step);
    });
    this.#savedKeys = keys;
    return changed;
  }

  /** Forgets everything this view knew about the item: a new one is shown. */
  clear(): void {
    this.local.clear();
    this.generating.clear();
    this.shownAlt.clear();
    this.finish = null;
  }

  /** What Python has saved for a step, as a string that changes whenever any of it does. */
  #savedKey(step: number): string {
    const { ratings, flags, choices, replacements, notes } = this.saved();
    return JSON.stringify([this.#model.get("step_labels")[step], ratings?.[step], flags?.[step], choices?.[step], replacements?.[step], notes?.[step]]);
  }
}
