import type { LabelValue, Suggestion } from "../types";
import { type Labels, VALUE_NAMES } from "./labels";

/**
 * Suggested ratings (from a model or an automatic method) beside the labeler's own. A suggestion
 * shows apart from labels, on a step's first alternative while it has no rating, and becomes a
 * label only when the labeler accepts it (`a`, or `A` for every step), marked as accepted.
 */

/** The suggestion a step's row shows, or null. */
export function shownSuggestion(labels: Labels, step: number): Suggestion | null {
  return labels.rating(step) === null && labels.altOf(step) === 0 ? labels.suggestionAt(step) : null;
}

/** How a row words its suggestion, e.g. "suggested ✓ correct 92% · model:prm (a accepts)". */
export function suggestionText({ value, confidence, source }: Suggestion): string {
  const certainty = confidence === null ? "" : ` ${Math.round(confidence * 100)}%`;
  return `suggested ${VALUE_NAMES[value]}${certainty} · ${source} (a accepts)`;
}

/** The ratings accepting suggestions gives: the one of `step`, or (`all`) of every step. */
export function acceptedRatings(labels: Labels, step: number, all: boolean): { step: number; value: LabelValue }[] {
  const steps = all ? [...Array(labels.stepCount()).keys()] : [step];
  return steps.flatMap((target) => {
    const suggested = shownSuggestion(labels, target);
    return suggested === null ? [] : [{ step: target, value: suggested.value }];
  });
}
