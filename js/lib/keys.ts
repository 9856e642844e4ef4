import type { FinishReason, LabelValue } from "../types";

export type Action =
  | { kind: "move"; delta: -1 | 1 }
  | { kind: "rate"; value: LabelValue }
  | { kind: "alternative"; delta: -1 | 1 }
  | { kind: "choose" }
  | { kind: "flag" }
  | { kind: "edit"; label: "note" | "replacement" }
  | { kind: "undo" }
  | { kind: "finish"; reason: FinishReason }
  | { kind: "accept"; all: boolean }
  | { kind: "queue"; delta: -1 | 1 }
  | { kind: "heatmap" }
  | { kind: "generate" }
  | { kind: "source" }
  | { kind: "fold" }
  | { kind: "help" };

/** Every key, with what it does, in the order the help overlay lists them. */
export const KEYS: [string, Action, string][] = [
  ["j", { kind: "move", delta: 1 }, "next step"],
  ["ArrowDown", { kind: "move", delta: 1 }, "next step"],
  ["k", { kind: "move", delta: -1 }, "previous step"],
  ["ArrowUp", { kind: "move", delta: -1 }, "previous step"],
  ["3", { kind: "rate", value: 1 }, "correct (+1)"],
  ["+", { kind: "rate", value: 1 }, "correct (+1)"],
  ["=", { kind: "rate", value: 1 }, "correct (+1)"],
  ["2", { kind: "rate", value: 0 }, "neutral (0)"],
  ["0", { kind: "rate", value: 0 }, "neutral (0)"],
  ["1", { kind: "rate", value: -1 }, "wrong (−1)"],
  ["-", { kind: "rate", value: -1 }, "wrong (−1)"],
  ["f", { kind: "flag" }, "flag / unflag: can't tell"],
  ["a", { kind: "accept", all: false }, "accept this step's suggestion"],
  ["A", { kind: "accept", all: true }, "accept every remaining suggestion"],
  ["l", { kind: "alternative", delta: 1 }, "next alternative of this step"],
  ["ArrowRight", { kind: "alternative", delta: 1 }, "next alternative of this step"],
  ["h", { kind: "alternative", delta: -1 }, "previous alternative of this step"],
  ["ArrowLeft", { kind: "alternative", delta: -1 }, "previous alternative of this step"],
  ["c", { kind: "choose" }, "choose this alternative to continue the solution"],
  ["g", { kind: "generate" }, "ask the model for 3 more alternatives of this step"],
  ["r", { kind: "edit", label: "replacement" }, "write a replacement step"],
  ["n", { kind: "edit", label: "note" }, "write a note on this step"],
  ["u", { kind: "undo" }, "undo this step's last rating"],
  ["S", { kind: "finish", reason: "solution" }, "finish: the solution is right"],
  ["E", { kind: "finish", reason: "found_error" }, "finish: found the first error"],
  ["B", { kind: "finish", reason: "bad_problem" }, "finish: bad problem"],
  ["G", { kind: "finish", reason: "give_up" }, "finish: give up"],
  ["t", { kind: "heatmap" }, "show / hide the token heatmap"],
  ["v", { kind: "source" }, "show / hide this step's text exactly as written"],
  ["z", { kind: "fold" }, "show all of a long folded step / fold it again"],
  ["N", { kind: "queue", delta: 1 }, "next item in the queue"],
  ["P", { kind: "queue", delta: -1 }, "previous item in the queue"],
  ["?", { kind: "help" }, "show / hide these keys"],
];

const KEY_MAP = new Map<string, Action>(KEYS.map(([key, action]) => [key, action]));

/** One line that tells the user the main keys; `?` shows the rest. */
export const KEY_HINT =
  "j/k move · 3 correct · 2 neutral · 1 wrong · a accept suggestion · f flag · u undo · E finish · v source · ? all keys";

const TEXT_ENTRY = 'input, textarea, select, [contenteditable]:not([contenteditable="false"])';

function isTextEntry(target: EventTarget | null): boolean {
  return target instanceof Element && target.closest(TEXT_ENTRY) !== null;
}

/**
 * The widget action for a keydown, or null when the widget must leave the key alone.
 *
 * Shift is allowed because `+`, `?` and the finish keys need it; ctrl/meta/alt chords belong
 * to the browser and JupyterLab, and keys typed into text fields belong to those fields.
 */
export function keyAction(ev: KeyboardEvent): Action | null {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.isComposing) return null;
  if (isTextEntry(ev.target)) return null;
  return KEY_MAP.get(ev.key) ?? null;
}
