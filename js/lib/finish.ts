import type { FinishReason } from "../types";
import { element, setData, setHidden, setText } from "./ui";

/** What the finish bar says about a saved finish. */
export const FINISH_TEXT: Record<FinishReason, string> = {
  solution: "finished: solution",
  found_error: "finished: found the first error",
  bad_problem: "finished: bad problem",
  give_up: "finished: gave up",
};

/**
 * Why finishing as `reason` needs a second press of its key, or null when it may go at once.
 *
 * PRM800K calls a solution "solution" only when no step of it is wrong: with a step rated wrong,
 * `S` (after `E` or not) would file a contradiction, or silently replace "found_error". So the
 * first `S` only says so; a second `S` at once finishes anyway, and any other key lets it be.
 *
 * >>> finishWarning("solution", 2)
 * "step 3 is rated wrong: press S again to finish as a solution anyway, or E to finish at the first error"
 */
export function finishWarning(reason: FinishReason, wrongStep: number | null): string | null {
  if (reason !== "solution" || wrongStep === null) return null;
  return `step ${wrongStep + 1} is rated wrong: press S again to finish as a solution anyway, or E to finish at the first error`;
}

export interface FinishBarState {
  /** A problem with the item's token scores, shown here as it concerns the whole item. */
  heatmapError: string;
  /** The finish this view sent and its fate, if Python has not shown it yet. */
  local: { status: "pending" | "saved" } | { status: "error"; message: string } | null;
  /** The finish Python has saved. */
  reason: FinishReason | null;
  /** The first step rated wrong, or null. */
  errorAt: number | null;
  /** The question a first `S` asked, while it waits for the second. */
  warning: string | null;
}

/** The finish bar's text: the most pressing of what it can say, or "" when there is nothing. */
export function finishBarText({ heatmapError, local, reason, errorAt, warning }: FinishBarState): string {
  if (warning !== null) return warning;
  if (heatmapError !== "") return heatmapError;
  if (local?.status === "error") return local.message;
  if (local?.status === "pending") return "finishing…";
  if (reason !== null) return FINISH_TEXT[reason];
  if (errorAt !== null) return `First error at step ${errorAt + 1}: press E to finish (found_error).`;
  return "";
}

/**
 * The bar under the steps that says how the item was finished, or what finishing it needs. It
 * also holds the question a first `S` asked (see `finishWarning`), which stands for one key only.
 */
export class FinishBar {
  readonly element = element("div", "lw-steps__finish", "finish-bar");
  /** The question a first `S` asked, while it waits for a second `S`. */
  #asking: string | null = null;

  get asking(): string | null {
    return this.#asking;
  }

  /** Asks `question` (null: drops the question asked). Call `draw` after it. */
  ask(question: string | null): void {
    this.#asking = question;
  }

  draw(state: Omit<FinishBarState, "warning">): void {
    const text = finishBarText({ ...state, warning: this.#asking });
    setText(this.element, text);
    setHidden(this.element, text === "");
    setData(this.element, "status", state.local?.status ?? (state.reason === null ? "none" : "saved"));
    setData(this.element, "reason", state.reason ?? "");
    setData(this.element, "asking", String(this.#asking !== null));
  }
}
