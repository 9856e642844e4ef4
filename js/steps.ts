import type { AnyWidget, RenderProps } from "@anywidget/types";
import { KEY_HINT, keyAction } from "./lib/keys";
import { renderMarkdown } from "./lib/markdown";
import { makeLabelEvent, Outbox, type Outcome } from "./lib/protocol";
import type { LabelEvent, LabelValue, StepLabelerTraits } from "./types";
import "./steps.css";

type Status = "none" | "pending" | "saved" | "error";

/**
 * What this view knows about a step beyond `step_labels`: the latest rating made here and its
 * fate. `saved` bridges the gap between an ack and Python's `step_labels` update, which may
 * arrive in either order.
 */
type LocalState =
  | { status: "pending"; id: string; value: LabelValue }
  | { status: "saved"; id: string; value: LabelValue }
  | { status: "error"; id: string; message: string };

interface Row {
  li: HTMLLIElement;
  text: HTMLDivElement;
  /** The source last rendered into `text`: rendering is costly, so only a change re-renders. */
  source: string | null;
  label: HTMLSpanElement;
  status: HTMLSpanElement;
  error: HTMLDivElement;
}

const VALUE_NAMES: Record<LabelValue, string> = { [-1]: "✗ wrong", 0: "~ neutral", 1: "✓ correct" };
const STATUS_TEXT: Record<Status, string> = { none: "", pending: "saving…", saved: "saved", error: "not saved" };
const RATE_BUTTONS: { value: LabelValue; text: string }[] = [
  { value: -1, text: "−1" },
  { value: 0, text: "0" },
  { value: 1, text: "+1" },
];

function signed(value: LabelValue): string {
  return value > 0 ? `+${value}` : String(value);
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  testId?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (testId !== undefined) node.dataset.testid = testId;
  return node;
}

function makeRow(step: number): Row {
  const li = element("li", "lw-step", `step-${step}`);
  li.dataset.step = String(step);
  const number = element("span", "lw-step__number");
  number.textContent = `${step + 1}.`;
  const text = element("div", "lw-step__text");
  const label = element("span", "lw-step__label");
  const status = element("span", "lw-step__status");
  const buttons = element("span", "lw-step__buttons");
  for (const { value, text: caption } of RATE_BUTTONS) {
    const button = element("button", "lw-step__rate", `rate-${step}-${value}`);
    button.type = "button";
    button.dataset.rate = String(value);
    button.title = `${VALUE_NAMES[value]} (${signed(value)})`;
    button.textContent = caption;
    buttons.append(button);
  }
  const error = element("div", "lw-step__error", `step-error-${step}`);
  li.append(number, text, label, status, buttons, error);
  return { li, text, source: null, label, status, error };
}

export function render({ model, el }: Pick<RenderProps<StepLabelerTraits>, "model" | "el">): () => void {
  const local = new Map<number, LocalState>();
  const rows: Row[] = [];

  const root = element("div", "lw-steps", "step-labeler");
  root.tabIndex = 0;
  // Keeps JupyterLab's command-mode shortcuts (j, k, 0 0, ...) from firing while the widget has focus.
  root.dataset.lmSuppressShortcuts = "true";
  root.setAttribute("aria-label", "Step labeler");
  const prompt = element("div", "lw-steps__prompt", "prompt");
  const list = element("ol", "lw-steps__list");
  const hint = element("div", "lw-steps__hint", "key-hint");
  hint.textContent = KEY_HINT;
  root.append(prompt, list, hint);
  el.append(root);

  let promptSource: string | null = null;
  const stepCount = () => model.get("steps").length;
  const currentStep = () => Math.min(Math.max(model.get("cursor"), 0), stepCount() - 1);

  function shown(step: number): { status: Status; value: LabelValue | null; message: string } {
    const saved = model.get("step_labels")[step] ?? null;
    const state = local.get(step);
    if (state === undefined) return { status: saved === null ? "none" : "saved", value: saved, message: "" };
    if (state.status === "error") return { status: "error", value: saved, message: state.message };
    return { status: state.status, value: state.value, message: "" };
  }

  function drawRow(step: number): void {
    const row = rows[step];
    const { status, value, message } = shown(step);
    const source = model.get("steps")[step];
    if (row.source !== source) {
      row.text.replaceChildren(renderMarkdown(source));
      row.source = source;
    }
    row.label.textContent = value === null ? "" : `${VALUE_NAMES[value]} (${signed(value)})`;
    row.status.textContent = STATUS_TEXT[status];
    row.error.textContent = message;
    row.error.hidden = message === "";
    row.li.dataset.status = status;
    row.li.dataset.value = value === null ? "" : String(value);
    const current = step === currentStep();
    row.li.classList.toggle("lw-step--current", current);
    row.li.toggleAttribute("aria-current", current);
  }

  // Rows are reused rather than rebuilt so that focus inside the widget survives a redraw.
  function draw(): void {
    if (promptSource !== model.get("prompt")) {
      promptSource = model.get("prompt");
      prompt.replaceChildren(renderMarkdown(promptSource));
    }
    while (rows.length < stepCount()) {
      const row = makeRow(rows.length);
      rows.push(row);
      list.append(row.li);
    }
    while (rows.length > stepCount()) rows.pop()?.li.remove();
    rows.forEach((_, step) => drawRow(step));
  }

  function moveTo(step: number): void {
    const target = Math.min(Math.max(step, 0), stepCount() - 1);
    if (target < 0 || target === model.get("cursor")) return;
    model.set("cursor", target);
    model.save_changes();
  }

  function rate(step: number, value: LabelValue): void {
    if (step < 0 || step >= stepCount()) return;
    const event = makeLabelEvent(model.get("item_id"), step, value);
    local.set(step, { status: "pending", id: event.id, value });
    outbox.submit(event);
    drawRow(step);
    moveTo(step + 1);
  }

  // Only the latest rating of a step decides what it shows; replies to older ones are stale.
  function settle(event: LabelEvent, outcome: Outcome): void {
    if (event.item !== model.get("item_id") || local.get(event.step)?.id !== event.id) return;
    local.set(
      event.step,
      outcome.ok
        ? { status: "saved", id: event.id, value: event.value }
        : { status: "error", id: event.id, message: outcome.message },
    );
    drawRow(event.step);
  }

  const outbox = new Outbox({ send: (event) => model.send(event), settle });

  const onKeydown = (ev: KeyboardEvent) => {
    const action = keyAction(ev);
    if (action === null) return;
    // JupyterLab handles shortcuts while keydown bubbles, so stopping it here keeps j/k/0
    // from also moving between notebook cells.
    ev.preventDefault();
    ev.stopPropagation();
    if (action.kind === "move") moveTo(currentStep() + action.delta);
    else rate(currentStep(), action.value);
  };

  const onClick = (ev: MouseEvent) => {
    if (!(ev.target instanceof Element)) return;
    const row = ev.target.closest<HTMLElement>(".lw-step");
    if (row === null) return;
    root.focus({ preventScroll: true });
    const step = Number(row.dataset.step);
    const button = ev.target.closest<HTMLElement>(".lw-step__rate");
    if (button === null) moveTo(step);
    else rate(step, Number(button.dataset.rate) as LabelValue);
  };

  const onCursor = () => {
    draw();
    // jsdom has no scrollIntoView.
    rows[currentStep()]?.li.scrollIntoView?.({ block: "nearest" });
  };
  const onStepLabels = () => {
    // Python's step_labels now holds every acked label, so the local bridge is no longer needed.
    for (const [step, state] of local) if (state.status === "saved") local.delete(step);
    draw();
  };
  const onItem = () => {
    local.clear();
    draw();
  };
  const onCustom = (msg: unknown) => outbox.receive(msg);

  const modelListeners: [string, (msg?: unknown) => void][] = [
    ["change:prompt", draw],
    ["change:steps", draw],
    ["change:step_labels", onStepLabels],
    ["change:cursor", onCursor],
    ["change:item_id", onItem],
    ["msg:custom", onCustom],
  ];
  for (const [name, callback] of modelListeners) model.on(name, callback);
  root.addEventListener("keydown", onKeydown);
  list.addEventListener("click", onClick);
  draw();

  return () => {
    for (const [name, callback] of modelListeners) model.off(name, callback);
    root.removeEventListener("keydown", onKeydown);
    list.removeEventListener("click", onClick);
    outbox.dispose();
  };
}

export default { render } satisfies AnyWidget<StepLabelerTraits>;
