import { vi } from "vitest";
import widget from "../steps";
import type { LabelEvent, StepLabelerTraits } from "../types";
import { createFakeModel } from "./fake_model";

/** Mounting the step labeler on a fake model, shared by the tests of its parts. */

const mounted: (() => void)[] = [];

/** Cleans up every widget mounted so far; each test file runs it after each test. */
export function unmountAll(): void {
  for (const cleanup of mounted.splice(0)) cleanup();
  document.body.replaceChildren();
  vi.useRealTimers();
}

/** Renders a step labeler of three steps (or `traits`) into a fresh element of the page. */
export function mount(traits: Partial<StepLabelerTraits> = {}) {
  const steps = traits.steps ?? ["2 * 3 = 6", "2 + 6 = 8", "The answer is 8."];
  const model = createFakeModel<StepLabelerTraits>({
    prompt: "What is 2 + 2 * 3?",
    steps,
    alternatives: steps.map((text) => [text]),
    item_id: "item-1",
    step_labels: steps.map(() => null),
    saved: {},
    suggestions: [],
    progress: {},
    tokens: {},
    token_scores: {},
    step_token_counts: [],
    score_kind: "logprob",
    cursor: 0,
    max_height: null,
    _direct: {},
    ...traits,
  });
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = widget.render({ model, el });
  mounted.push(cleanup);
  const byTestId = (id: string) => {
    const found = el.querySelector<HTMLElement>(`[data-testid="${id}"]`);
    if (found === null) throw new Error(`no element with data-testid=${id}`);
    return found;
  };
  const root = byTestId("step-labeler");
  const row = (step: number) => byTestId(`step-${step}`);
  const labelsSent = () => model.sent as LabelEvent[];
  return { model, el, root, cleanup, byTestId, row, labelsSent };
}

export type Mounted = ReturnType<typeof mount>;

export function press(target: EventTarget, key: string, init: KeyboardEventInit = {}): KeyboardEvent {
  const ev = new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true, ...init });
  target.dispatchEvent(ev);
  return ev;
}

export const rowState = (row: HTMLElement) => ({ status: row.dataset.status, value: row.dataset.value });
