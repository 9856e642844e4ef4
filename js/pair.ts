import type { AnyWidget, RenderProps } from "@anywidget/types";
import { renderMarkdown } from "./lib/markdown";
import { newEventId } from "./lib/protocol";
import { LabelRoute } from "./lib/route";
import { element } from "./lib/ui";
import type { PairLabelerTraits, Preference, PreferenceEvent } from "./types";
import "./pair.css";

type Status = "none" | "pending" | "saved" | "error";

/** What the annotator said: which answer is better, and by how much (null for a tie). */
export interface Choice {
  preference: Preference;
  strength: number | null;
}

/**
 * The latest preference made in this view and its fate. `saved` bridges the gap between an ack
 * and Python's `preference` update, which may arrive in either order; `told` is false for one
 * committed directly, until the kernel has re-read the store after it.
 */
interface LocalState {
  status: "pending" | "saved" | "error";
  id: string;
  choice: Choice;
  message: string;
  told: boolean;
}

const STRONG = 2;
const PLAIN = 1;

const KEY_MAP = new Map<string, Preference>([
  ["a", "a"],
  ["1", "a"],
  ["b", "b"],
  ["2", "b"],
  ["t", "tie"],
  ["3", "tie"],
]);

/** One line that tells the user the key map; shown under the answers. */
export const PAIR_KEY_HINT =
  "a or 1: A is better · b or 2: B is better · t or 3: tie · Shift+A / Shift+B: much better";

const STATUS_TEXT: Record<Status, string> = { none: "", pending: "saving…", saved: "saved", error: "not saved" };

const BUTTONS: { testId: string; choice: Choice; text: string }[] = [
  { testId: "choose-a-2", choice: { preference: "a", strength: STRONG }, text: "A ≫" },
  { testId: "choose-a-1", choice: { preference: "a", strength: PLAIN }, text: "A >" },
  { testId: "choose-tie", choice: { preference: "tie", strength: null }, text: "Tie" },
  { testId: "choose-b-1", choice: { preference: "b", strength: PLAIN }, text: "B >" },
  { testId: "choose-b-2", choice: { preference: "b", strength: STRONG }, text: "B ≫" },
];

/**
 * The preference a keydown expresses, or null when the widget must leave the key alone.
 *
 * A capital `A` / `B` (Shift, as in the step labeler's capital finish keys) means "much
 * better". Ctrl/meta/alt chords belong to the browser and JupyterLab.
 */
export function keyChoice(ev: KeyboardEvent): Choice | null {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.isComposing) return null;
  const preference = KEY_MAP.get(ev.key.toLowerCase());
  if (preference === undefined) return null;
  if (preference === "tie") return { preference, strength: null };
  return { preference, strength: ev.key === preference.toUpperCase() ? STRONG : PLAIN };
}

/** "A is much better", "Tie", ... for a choice. */
export function describe({ preference, strength }: Choice): string {
  if (preference === "tie") return "Tie";
  const side = preference.toUpperCase();
  if (strength === null || strength === PLAIN) return `${side} is better`;
  if (strength === STRONG) return `${side} is much better`;
  return `${side} is better (strength ${strength})`;
}

/** A block of Markdown that re-renders only when its source changes (rendering is costly). */
function markdownBlock(className: string, testId: string): { node: HTMLDivElement; show(source: string): void } {
  const node = element("div", className, testId);
  let shown: string | null = null;
  return {
    node,
    show(source) {
      if (source === shown) return;
      node.replaceChildren(renderMarkdown(source));
      shown = source;
    },
  };
}

function answerPanel(side: "a" | "b"): { panel: HTMLElement; show(source: string): void } {
  const panel = element("section", "lw-pair__answer", `answer-${side}`);
  panel.dataset.side = side;
  panel.setAttribute("aria-label", `Answer ${side.toUpperCase()}`);
  const heading = element("div", "lw-pair__side");
  heading.textContent = side.toUpperCase();
  const text = markdownBlock("lw-pair__text", `answer-${side}-text`);
  panel.append(heading, text.node);
  return { panel, show: text.show };
}

export function render({ model, el }: Pick<RenderProps<PairLabelerTraits>, "model" | "el">): () => void {
  let local: LocalState | null = null;
  // Time on task: from render (or a new comparison) to the first preference, then between them.
  let since = performance.now();

  const root = element("div", "lw-widget lw-pair", "pair-labeler");
  root.tabIndex = 0;
  // Keeps JupyterLab's command-mode shortcuts (a, b: insert a cell; 0 0: restart) from firing.
  root.dataset.lmSuppressShortcuts = "true";
  root.setAttribute("aria-label", "Pairwise preference");
  const prompt = markdownBlock("lw-pair__prompt", "pair-prompt");
  const answers = element("div", "lw-pair__answers");
  const a = answerPanel("a");
  const b = answerPanel("b");
  answers.append(a.panel, b.panel);
  const bar = element("div", "lw-pair__bar");
  const buttons = element("span", "lw-pair__buttons");
  for (const { testId, choice, text } of BUTTONS) {
    const button = element("button", "lw-pair__choose", testId);
    button.type = "button";
    button.textContent = text;
    button.title = describe(choice);
    buttons.append(button);
  }
  const verdict = element("span", "lw-pair__verdict", "pair-verdict");
  const status = element("span", "lw-pair__status", "pair-status");
  bar.append(buttons, verdict, status);
  const error = element("div", "lw-pair__error", "pair-error");
  const hint = element("div", "lw-pair__hint", "pair-key-hint");
  hint.textContent = PAIR_KEY_HINT;
  root.append(prompt.node, answers, bar, error, hint);
  el.append(root);

  function savedChoice(): Choice | null {
    const preference = model.get("preference");
    return preference === null ? null : { preference, strength: model.get("strength") };
  }

  function shown(): { status: Status; choice: Choice | null; message: string } {
    const saved = savedChoice();
    if (local === null) return { status: saved === null ? "none" : "saved", choice: saved, message: "" };
    if (local.status === "error") return { status: "error", choice: saved, message: local.message };
    return { status: local.status, choice: local.choice, message: "" };
  }

  // Nodes are updated in place rather than rebuilt so that focus inside the widget survives.
  function draw(): void {
    prompt.show(model.get("prompt"));
    a.show(model.get("answer_a"));
    b.show(model.get("answer_b"));
    const { status: current, choice, message } = shown();
    root.dataset.status = current;
    root.dataset.preference = choice?.preference ?? "";
    root.dataset.strength = choice?.strength == null ? "" : String(choice.strength);
    verdict.textContent = choice === null ? "" : describe(choice);
    status.textContent = STATUS_TEXT[current];
    error.textContent = message;
    error.hidden = message === "";
  }

  function choose(choice: Choice): void {
    const now = performance.now();
    const event: PreferenceEvent = {
      kind: "preference",
      id: newEventId(),
      comparison: model.get("comparison_id"),
      preference: choice.preference,
      strength: choice.strength,
      t_client: performance.timeOrigin + now,
      duration_ms: Math.round(now - since),
    };
    since = now;
    local = { status: "pending", id: event.id, choice, message: "", told: false };
    route.send(event);
    draw();
  }

  // Only the latest preference decides what is shown; replies to older ones are stale.
  function settle(id: string, next: Pick<LocalState, "status" | "message" | "told">): void {
    if (local === null || local.id !== id) return;
    local = { ...local, ...next };
    draw();
  }

  // Preferences go to the server extension once it has accepted this comparison's context;
  // the kernel hears of them afterwards and re-reads the current one.
  const route = new LabelRoute<PreferenceEvent>(model, {
    onAck: (event, told) => settle(event.id, { status: "saved", message: "", told }),
    onError: (event, message) => settle(event.id, { status: "error", message, told: false }),
    committed: (events) => ({ preferences: events.length }),
    onTold: (events) => {
      // The kernel's traits show these preferences now: the local bridge is no longer needed.
      if (local !== null && events.some((event) => event.id === local?.id)) local = null;
      draw();
    },
  });

  const onKeydown = (ev: KeyboardEvent) => {
    const choice = keyChoice(ev);
    if (choice === null) return;
    // JupyterLab handles shortcuts while keydown bubbles; stopping it here keeps a / b from
    // also inserting notebook cells.
    ev.preventDefault();
    ev.stopPropagation();
    choose(choice);
  };

  const onClick = (ev: MouseEvent) => {
    if (!(ev.target instanceof Element)) return;
    const button = ev.target.closest<HTMLElement>(".lw-pair__choose");
    const found = BUTTONS.find(({ testId }) => testId === button?.dataset.testid);
    if (found === undefined) return;
    root.focus({ preventScroll: true });
    choose(found.choice);
  };

  const onSaved = () => {
    // Python's traits now hold every acked preference, so the local bridge is no longer needed;
    // except for one committed directly, until the kernel has re-read the store after it.
    if (local?.status === "saved" && local.told) local = null;
    draw();
  };
  const onComparison = () => {
    local = null;
    since = performance.now();
    draw();
  };
  const modelListeners: [string, () => void][] = [
    ["change:prompt", draw],
    ["change:answer_a", draw],
    ["change:answer_b", draw],
    ["change:preference", onSaved],
    ["change:strength", onSaved],
    ["change:comparison_id", onComparison],
  ];
  for (const [name, callback] of modelListeners) model.on(name, callback);
  root.addEventListener("keydown", onKeydown);
  buttons.addEventListener("click", onClick);
  draw();

  return () => {
    for (const [name, callback] of modelListeners) model.off(name, callback);
    root.removeEventListener("keydown", onKeydown);
    buttons.removeEventListener("click", onClick);
    route.dispose();
  };
}

export default { render } satisfies AnyWidget<PairLabelerTraits>;
