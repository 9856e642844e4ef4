import type { LabelValue } from "../types";

export type Action = { kind: "move"; delta: -1 | 1 } | { kind: "rate"; value: LabelValue };

const KEY_MAP = new Map<string, Action>([
  ["j", { kind: "move", delta: 1 }],
  ["ArrowDown", { kind: "move", delta: 1 }],
  ["k", { kind: "move", delta: -1 }],
  ["ArrowUp", { kind: "move", delta: -1 }],
  ["1", { kind: "rate", value: -1 }],
  ["2", { kind: "rate", value: 0 }],
  ["3", { kind: "rate", value: 1 }],
  ["-", { kind: "rate", value: -1 }],
  ["0", { kind: "rate", value: 0 }],
  ["+", { kind: "rate", value: 1 }],
  ["=", { kind: "rate", value: 1 }],
]);

/** One line that tells the user the key map; shown under the steps. */
export const KEY_HINT =
  "j/↓ next · k/↑ previous · 1 or - wrong · 2 or 0 neutral · 3 or + correct · click a step to select it";

const TEXT_ENTRY = 'input, textarea, select, [contenteditable]:not([contenteditable="false"])';

function isTextEntry(target: EventTarget | null): boolean {
  return target instanceof Element && target.closest(TEXT_ENTRY) !== null;
}

/**
 * The widget action for a keydown, or null when the widget must leave the key alone.
 *
 * Shift is allowed because `+` needs it on most layouts; ctrl/meta/alt chords belong to the
 * browser and JupyterLab, and keys typed into text fields belong to those fields.
 */
export function keyAction(ev: KeyboardEvent): Action | null {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.isComposing) return null;
  if (isTextEntry(ev.target)) return null;
  return KEY_MAP.get(ev.key) ?? null;
}
