import type { PackedArray } from "./lib/buffers";
import type { ScoreKind } from "./lib/heatmap";

/**
 * Mirrors the synced traits of `labwidget.widgets.steps.StepLabeler` and its custom messages.
 *
 * A leaf: the modules it imports types from import nothing of labwidget's, so no module is in a
 * cycle with it.
 */

/** The kernel's signed word that the server extension may commit a widget's labels: its `_direct` trait. */
export interface DirectContext {
  context: string;
  signature: string;
}

/** A step label: -1 wrong, 0 neutral, +1 correct. */
export type LabelValue = -1 | 0 | 1;

export type FinishReason = "solution" | "found_error" | "bad_problem" | "give_up";

/** The label kinds a step (or, for `finish`, the whole item) can receive. */
export type LabelKind = "rating" | "flag" | "choice" | "replacement" | "note" | "finish" | "adjudication";

/** What the rating keys do: label the steps, review the machines' labels, or adjudicate disputes. */
export type Mode = "label" | "review" | "adjudicate";

/** One labeler's rating of a disputed step, shown to the adjudicator. */
export interface SaidLabel {
  annotator: string;
  source: string;
  value: LabelValue;
}

/**
 * What a review or an adjudication shows beside a step: the rollouts' success rate and the
 * judge's verdict with its rationale (review), or who said what (adjudication).
 */
export interface Evidence {
  review?: boolean;
  mc_rate?: number | null;
  mc_n?: number | null;
  mc_successes?: number | null;
  mc_value?: LabelValue | null;
  mc_source?: string | null;
  judge_value?: LabelValue | null;
  rationale?: string | null;
  /** With `suggestions="model:<name>"`, that model's prediction (none on a blind item). */
  model?: Suggestion;
  labels?: SaidLabel[];
}

/** Everything the store holds for this annotator, as Python lays it out after each commit. */
export interface SavedState {
  ratings: (LabelValue | null)[][];
  flags: boolean[][];
  choices: (number | null)[];
  replacements: (string | null)[];
  notes: (string | null)[];
  finish: FinishReason | null;
}

/** A suggested rating from a model or an automatic method, shown apart until accepted. */
export interface Suggestion {
  value: LabelValue;
  confidence: number | null;
  source: string;
}

export interface StepLabelerTraits {
  prompt: string;
  steps: string[];
  /** Every alternative at each step; `alternatives[i][0] === steps[i]`. */
  alternatives: string[][];
  item_id: string;
  /** The saved rating of each step's first alternative; only Python writes this. */
  step_labels: (LabelValue | null)[];
  /** Everything saved; only Python writes this. */
  saved: Partial<SavedState>;
  /** A suggestion per step (first alternative), or null. */
  suggestions: (Suggestion | null)[];
  /** What a review or adjudication shows beside each step (absent from an older kernel). */
  evidence?: (Evidence | null)[];
  mode?: Mode;
  /** The current step; JS writes it when the user moves. */
  cursor: number;
  /** The output's tokens, step after step, with one float32 score each (the heatmap). */
  /** Packed by Python's `pack_strings`; `decodeStrings` reads them. */
  tokens: PackedArray | Record<string, never>;
  token_scores: PackedArray | Record<string, never>;
  step_token_counts: number[];
  score_kind: ScoreKind;
  /** What the token scores are, in words: the heatmap's caption (absent from an older kernel). */
  score_about?: string;
  /** With a queue: where in it this item is, and how far along the annotator is. */
  progress: Partial<QueueProgress>;
  /** The steps' greatest height (CSS, e.g. "70vh"), beyond which they scroll; null: no limit. */
  max_height: string | null;
  /** The kernel's signed word that the server extension may commit this item's labels. */
  _direct: Partial<DirectContext>;
}

export interface QueueProgress {
  position: number;
  total: number;
  done: number;
  session_labels: number;
  session_started_ms: number;
  /** With a weekly cap set in the store: this annotator's week against it. */
  cap?: { hours_this_week: number; cap_h: number; crossed: boolean };
}

/** JS -> Python: ask the generator for `n` alternatives at `step`. */
export interface GenerateEvent {
  kind: "generate";
  id: string;
  item: string;
  step: number;
  n: number;
}

/** JS -> Python: show the queue's item at `position`. */
export interface GotoEvent {
  kind: "goto";
  id: string;
  position: number;
}

/** JS -> Python: one label (or an undo), identified by an id made in JS so resends are idempotent. */
export interface LabelEvent {
  kind: "label" | "undo";
  id: string;
  item: string;
  /** null for a label of the whole item (`finish`). */
  step: number | null;
  alt: number;
  label: LabelKind;
  value?: number;
  text?: string;
  /** A human rating that confirms the step's suggestion (Python records which). */
  accepts_suggestion?: boolean;
  t_client: number;
  /** Time on task: since the previous label (or since the widget appeared). */
  duration_ms: number;
}

/** Python -> JS: the reply to a `LabelEvent`, matched by its id. */
export type Reply = { kind: "ack"; id: string } | { kind: "error"; id: string; message: string };

/** Which answer of a pair is better. */
export type Preference = "a" | "b" | "tie";

/** Mirrors the synced traits of `labwidget.widgets.pair.PairLabeler`. */
export interface PairLabelerTraits {
  prompt: string;
  answer_a: string;
  answer_b: string;
  comparison_id: string;
  /** The saved preference of this annotator, as the store holds it; only Python writes this. */
  preference: Preference | null;
  /** 1 better, 2 much better; null for a tie or before any preference. Only Python writes this. */
  strength: number | null;
  /** The kernel's signed word that the server extension may commit this comparison's preferences. */
  _direct: Partial<DirectContext>;
}

/** JS -> Python: one preference; `duration_ms` is the time on task since render or the last one. */
export interface PreferenceEvent {
  kind: "preference";
  id: string;
  comparison: string;
  preference: Preference;
  strength: number | null;
  t_client: number;
  duration_ms: number;
}
