import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { directChannel } from "../lib/direct";
import { ACK_TIMEOUT_MS, MAX_RESENDS, NO_REPLY_MESSAGE } from "../lib/protocol";
import { CURSOR_SYNC_MS } from "../lib/cursor";
import { DRAW_HOLD_MS } from "../lib/route";
import { BLOCK_ROWS } from "../lib/rows";
import widget from "../steps";
import type { LabelEvent, StepLabelerTraits } from "../types";
import { createFakeModel } from "./fake_model";
import { accept, closeJupyterPage, liveSocket, openJupyterPage, sockets } from "./jupyter_page";

const mounted: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of mounted.splice(0)) cleanup();
  document.body.replaceChildren();
  vi.useRealTimers();
});

function mount(traits: Partial<StepLabelerTraits> = {}) {
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

function press(target: EventTarget, key: string, init: KeyboardEventInit = {}): KeyboardEvent {
  const ev = new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true, ...init });
  target.dispatchEvent(ev);
  return ev;
}

const rowState = (row: HTMLElement) => ({ status: row.dataset.status, value: row.dataset.value });

describe("rendering", () => {
  test("shows the prompt, numbered steps and the key hint", () => {
    const { byTestId, row, root } = mount();
    expect(byTestId("prompt").textContent?.trim()).toBe("What is 2 + 2 * 3?");
    expect(row(0).textContent).toContain("1.");
    expect(row(0).textContent).toContain("2 * 3 = 6");
    expect(row(2).textContent).toContain("3.");
    expect(row(2).textContent).toContain("The answer is 8.");
    expect(byTestId("key-hint").textContent).toMatch(/j\/k.*3.*2.*1.*\?/);
    expect(root.tabIndex).toBe(0);
    expect(root.getAttribute("data-lm-suppress-shortcuts")).toBe("true");
  });

  test("model content is text, never markup", () => {
    const attack = '<img src=x onerror="window.pwned=1">';
    const { el, byTestId, row } = mount({ prompt: attack, steps: [attack] });
    expect(el.querySelector("img")).toBeNull();
    expect(byTestId("prompt").textContent?.trim()).toBe(attack);
    expect(row(0).textContent).toContain(attack);
  });

  test("prompt and steps render Markdown and math", () => {
    const { byTestId, row } = mount({ prompt: "Find **x**", steps: ["So $x^2 = 4$", "`code`"] });
    expect(byTestId("prompt").querySelector("strong")?.textContent).toBe("x");
    expect(row(0).querySelector(".katex")).not.toBeNull();
    expect(row(1).querySelector("code")?.textContent).toBe("code");
  });

  test("saved labels from step_labels show as saved, with their value", () => {
    const { row } = mount({ step_labels: [1, null, -1] });
    expect(rowState(row(0))).toEqual({ status: "saved", value: "1" });
    expect(row(0).textContent).toContain("✓");
    expect(rowState(row(1))).toEqual({ status: "none", value: "" });
    expect(rowState(row(2))).toEqual({ status: "saved", value: "-1" });
    expect(row(2).textContent).toContain("✗");
  });

  test("the current step is highlighted, and brought to the middle of the screen when it leaves it", async () => {
    const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));
    const scrolled: [Element, unknown][] = [];
    HTMLElement.prototype.scrollIntoView = function (this: Element, arg?: unknown) {
      scrolled.push([this, arg]);
    };
    try {
      const { model, row } = mount();
      expect(row(0).getAttribute("aria-current")).not.toBeNull();
      model.kernelSet("cursor", 1); // on screen (jsdom lays nothing out): no scrolling
      await nextFrame();
      expect(scrolled).toEqual([]);
      row(2).getBoundingClientRect = () => ({ top: 2000, bottom: 2040 }) as DOMRect;
      model.kernelSet("cursor", 2);
      expect(row(1).getAttribute("aria-current")).toBeNull();
      expect(row(2).getAttribute("aria-current")).not.toBeNull();
      expect(row(2).classList.contains("lw-step--current")).toBe(true);
      expect(scrolled).toEqual([]); // its position is read in the frame, not in the key press
      await nextFrame();
      expect(scrolled).toEqual([[row(2), { block: "center" }]]);
    } finally {
      delete (HTMLElement.prototype as Partial<HTMLElement>).scrollIntoView;
    }
  });

  test("Python's changes redraw the rows in place, keeping focus on the widget", () => {
    const { model, root, byTestId, row } = mount();
    root.focus();
    model.kernelSet("prompt", "New prompt");
    model.kernelSet("steps", ["only step", "second"]);
    model.kernelSet("step_labels", [0, null]);
    expect(document.activeElement).toBe(root);
    expect(byTestId("prompt").textContent?.trim()).toBe("New prompt");
    expect(row(0).textContent).toContain("only step");
    expect(rowState(row(0))).toEqual({ status: "saved", value: "0" });
    expect(() => row(2)).toThrow();
  });
});

describe("focus scoping", () => {
  test("a key on the widget acts; on the page or a sibling it does nothing", () => {
    const { model, root, el } = mount();
    const sibling = document.createElement("div");
    sibling.tabIndex = 0;
    el.after(sibling);
    for (const target of [document.body, sibling]) {
      press(target, "j");
      press(target, "3");
    }
    expect(model.get("cursor")).toBe(0);
    expect(model.sent).toEqual([]);
    press(root, "j");
    expect(model.get("cursor")).toBe(1);
  });

  test("handled keys stop at the widget; unhandled keys bubble on untouched", () => {
    const { root, el } = mount();
    const bubbled: string[] = [];
    el.addEventListener("keydown", (ev) => bubbled.push(ev.key));
    const handled = press(root, "j");
    const rated = press(root, "0");
    const unhandled = press(root, "x");
    const chord = press(root, "j", { ctrlKey: true });
    expect(bubbled).toEqual(["x", "j"]);
    expect(handled.defaultPrevented).toBe(true);
    expect(rated.defaultPrevented).toBe(true);
    expect(unhandled.defaultPrevented).toBe(false);
    expect(chord.defaultPrevented).toBe(false);
  });

  test("keys typed into a text field inside the widget are left to it", () => {
    const { model, root } = mount();
    const input = document.createElement("input");
    root.append(input);
    const ev = press(input, "3");
    expect(model.sent).toEqual([]);
    expect(ev.defaultPrevented).toBe(false);
  });
});

describe("moving", () => {
  test("j/k and the arrows move the cursor, clamped at both ends, and save it once they stop", () => {
    vi.useFakeTimers();
    const { model, root, row, cleanup } = mount();
    press(root, "k");
    expect(model.get("cursor")).toBe(0);
    press(root, "j");
    press(root, "ArrowDown");
    press(root, "j");
    expect(model.get("cursor")).toBe(2);
    expect(row(2).dataset.status).toBe("none");
    press(root, "ArrowUp");
    expect(model.get("cursor")).toBe(1);
    expect(row(1).getAttribute("aria-current")).not.toBeNull();
    expect(model.viewSets).toEqual(["cursor", "cursor", "cursor"]);
    // Moves reach Python together, once the keys pause: a key press sends one message at most.
    expect(model.saved).toEqual([]);
    vi.advanceTimersByTime(CURSOR_SYNC_MS - 1);
    expect(model.saved).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(model.saved.map((s) => s.cursor)).toEqual([1]);
    // A move still waiting when the widget goes is saved then, not lost.
    press(root, "j");
    cleanup();
    expect(model.saved.map((s) => s.cursor)).toEqual([1, 2]);
    expect(vi.getTimerCount()).toBe(0);
  });

  test("the echo of a sent cursor does not undo a newer move, so the next key rates the right step", () => {
    vi.useFakeTimers();
    const { model, root, labelsSent } = mount();
    press(root, "3"); // step 0, then the cursor moves to 1
    vi.advanceTimersByTime(CURSOR_SYNC_MS); // 1 is sent
    press(root, "3"); // step 1, then the cursor moves to 2: not sent yet
    model.kernelSet("cursor", 1); // ipywidgets' echo of the 1 sent
    expect(model.get("cursor")).toBe(2);
    press(root, "3");
    expect(labelsSent().map((event) => event.step)).toEqual([0, 1, 2]);
    vi.advanceTimersByTime(CURSOR_SYNC_MS);
    expect(model.saved.map((state) => state.cursor)).toEqual([1, 2]);
    // Python moving the cursor anywhere else is obeyed.
    model.kernelSet("cursor", 0);
    press(root, "3");
    expect(labelsSent().map((event) => event.step)).toEqual([0, 1, 2, 0]);
  });

  test("with no steps, keys neither move nor rate", () => {
    const { model, root } = mount({ steps: [], step_labels: [], cursor: 0 });
    for (const key of ["j", "k", "3"]) expect(press(root, key).defaultPrevented).toBe(true);
    expect(model.viewSets).toEqual([]);
    expect(model.sent).toEqual([]);
  });

  test("clicking a step selects it and focuses the widget", () => {
    const { model, root, row } = mount();
    (row(2).querySelector(".lw-step__text") as HTMLElement).click();
    expect(model.get("cursor")).toBe(2);
    expect(document.activeElement).toBe(root);
    expect(model.sent).toEqual([]);
  });
});

describe("labels", () => {
  test("a key sends one label event and shows it as pending until acked", () => {
    const { model, root, row, labelsSent } = mount();
    press(root, "3");
    expect(labelsSent()).toHaveLength(1);
    const [event] = labelsSent();
    expect(event).toEqual({
      kind: "label",
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      item: "item-1",
      step: 0,
      alt: 0,
      label: "rating",
      value: 1,
      t_client: expect.any(Number),
      duration_ms: expect.any(Number),
    });
    expect(rowState(row(0))).toEqual({ status: "pending", value: "1" });
    expect(row(0).textContent).toContain("saving…");
    expect(model.get("cursor")).toBe(1);
    expect(model.viewSets).not.toContain("step_labels");
  });

  test.each([
    ["ack first", ["ack", "labels"]],
    ["step_labels first", ["labels", "ack"]],
  ])("a step is saved once acked (%s)", (_, order) => {
    const { model, root, row, labelsSent } = mount();
    press(root, "1");
    const { id } = labelsSent()[0];
    for (const what of order) {
      if (what === "ack") model.emit("msg:custom", { kind: "ack", id }, []);
      else model.kernelSet("step_labels", [-1, null, null]);
    }
    expect(rowState(row(0))).toEqual({ status: "saved", value: "-1" });
    expect(row(0).textContent).toContain("saved");
  });

  test("an ack with an unknown id changes nothing", () => {
    const { model, root, el, labelsSent } = mount();
    press(root, "3");
    const before = el.innerHTML;
    model.emit("msg:custom", { kind: "ack", id: "00000000-0000-4000-8000-000000000000" }, []);
    model.emit("msg:custom", { kind: "progress", id: labelsSent()[0].id }, []);
    expect(el.innerHTML).toBe(before);
  });

  test("a newer rating of the same step stays pending when the older one is acked", () => {
    const { model, root, row, labelsSent } = mount();
    press(root, "3");
    press(root, "k");
    press(root, "1");
    const [older, newer] = labelsSent();
    expect([older.step, newer.step]).toEqual([0, 0]);
    model.emit("msg:custom", { kind: "ack", id: older.id }, []);
    model.kernelSet("step_labels", [1, null, null]);
    expect(rowState(row(0))).toEqual({ status: "pending", value: "-1" });
    model.emit("msg:custom", { kind: "ack", id: newer.id }, []);
    expect(rowState(row(0))).toEqual({ status: "saved", value: "-1" });
  });

  test("an error shows its message on the step, which keeps its saved value", () => {
    const { model, root, row, byTestId, labelsSent } = mount({ step_labels: [0, null, null] });
    press(root, "1");
    expect(rowState(row(0))).toEqual({ status: "pending", value: "-1" });
    model.emit("msg:custom", { kind: "error", id: labelsSent()[0].id, message: "store is read-only" }, []);
    expect(rowState(row(0))).toEqual({ status: "error", value: "0" });
    const error = byTestId("step-error-0");
    expect(error.textContent).toBe("store is read-only");
    expect(error.hidden).toBe(false);
    expect(byTestId("step-error-1").hidden).toBe(true);
  });

  test("the buttons on a row rate that step", () => {
    const { model, byTestId, row, labelsSent } = mount();
    byTestId("rate-1--1").click();
    byTestId("rate-2-0").click();
    byTestId("rate-0-1").click();
    expect(labelsSent().map((e) => [e.step, e.value])).toEqual([
      [1, -1],
      [2, 0],
      [0, 1],
    ]);
    expect([0, 1, 2].map((i) => row(i).dataset.value)).toEqual(["1", "-1", "0"]);
    expect(model.get("cursor")).toBe(1);
  });

  test("rating the last step keeps the cursor there", () => {
    const { model, root, labelsSent } = mount({ cursor: 2 });
    press(root, "+");
    press(root, "=");
    expect(labelsSent().map((e) => e.step)).toEqual([2, 2]);
    expect(model.get("cursor")).toBe(2);
  });

  test("a new item drops what this view knew about the old one", () => {
    const { model, root, row, labelsSent } = mount();
    press(root, "3");
    model.kernelSet("item_id", "item-2");
    expect(rowState(row(0))).toEqual({ status: "none", value: "" });
    model.emit("msg:custom", { kind: "error", id: labelsSent()[0].id, message: "late" }, []);
    expect(rowState(row(0))).toEqual({ status: "none", value: "" });
  });
});

describe("retries", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  test("without an ack the same event is re-sent, then the step says it was not saved until acked", () => {
    const { model, root, row, byTestId, labelsSent } = mount({ step_labels: [1, null, null] });
    press(root, "2");
    vi.advanceTimersByTime(ACK_TIMEOUT_MS - 1);
    expect(labelsSent()).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(labelsSent()).toHaveLength(2);
    expect(labelsSent()[1]).toEqual(labelsSent()[0]);
    vi.advanceTimersByTime((MAX_RESENDS - 1) * ACK_TIMEOUT_MS);
    expect(labelsSent()).toHaveLength(1 + MAX_RESENDS);
    expect(new Set(labelsSent().map((e) => e.id)).size).toBe(1);
    expect(rowState(row(0))).toEqual({ status: "pending", value: "0" });
    vi.advanceTimersByTime(ACK_TIMEOUT_MS);
    expect(rowState(row(0))).toEqual({ status: "error", value: "1" });
    expect(byTestId("step-error-0").textContent).toBe(NO_REPLY_MESSAGE);
    expect(vi.getTimerCount()).toBe(0);
    // The event did reach the store after all: a late ack must not leave a false error.
    model.emit("msg:custom", { kind: "ack", id: labelsSent()[0].id }, []);
    expect(rowState(row(0))).toEqual({ status: "saved", value: "0" });
    expect(byTestId("step-error-0").hidden).toBe(true);
  });
});

describe("cleanup", () => {
  test("removes every listener and timer; the widget no longer reacts", () => {
    vi.useFakeTimers();
    const { model, root, row, cleanup, labelsSent } = mount();
    press(root, "3");
    expect(model.listenerCount()).toBeGreaterThan(0);
    // the label's resend, the cursor's sync and the frame that checks the cursor is on screen
    expect(vi.getTimerCount()).toBe(3);
    cleanup();
    expect(model.listenerCount()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    const ev = press(root, "j");
    press(root, "3");
    row(2).click();
    expect(ev.defaultPrevented).toBe(false);
    expect(model.get("cursor")).toBe(1);
    expect(labelsSent()).toHaveLength(1);
  });
});

describe("PRM800K labeling", () => {
  const ack = (model: ReturnType<typeof mount>["model"], event: LabelEvent) =>
    model.emit("msg:custom", { kind: "ack", id: event.id }, []);

  test("f flags the current step, and again unflags what Python saved", () => {
    const { model, root, row, labelsSent } = mount();
    press(root, "f");
    expect(labelsSent()[0]).toMatchObject({ kind: "label", label: "flag", step: 0, alt: 0, value: 1 });
    expect(row(0).dataset.status).toBe("pending");
    model.kernelSet("saved", { flags: [[true], [false], [false]] });
    ack(model, labelsSent()[0]);
    expect(row(0).dataset.flagged).toBe("true");
    expect(row(0).textContent).toContain("can't tell");
    press(root, "f");
    expect(labelsSent()[1]).toMatchObject({ label: "flag", step: 0, value: 0 });
  });

  test("h/l show the other alternatives of a step; ratings and c apply to the one shown", () => {
    const { root, row, labelsSent } = mount({
      steps: ["a", "b0"],
      alternatives: [["a"], ["b0", "b1", "b2"]],
    });
    press(root, "l");
    expect(row(0).dataset.alt).toBe("0");
    press(root, "j");
    press(root, "l");
    press(root, "l");
    expect(row(1).dataset.alt).toBe("2");
    expect(row(1).querySelector(".lw-step__text")?.textContent?.trim()).toBe("b2");
    expect(row(1).textContent).toContain("alternative 3 of 3");
    press(root, "h");
    press(root, "c");
    expect(labelsSent().at(-1)).toMatchObject({ label: "choice", step: 1, alt: 0, value: 1 });
    press(root, "1");
    expect(labelsSent().at(-1)).toMatchObject({ label: "rating", step: 1, alt: 1, value: -1 });
  });

  test.each([
    ["n", "note"],
    ["r", "replacement"],
  ] as const)("%s opens an editor: Enter saves a %s, and its keys never reach the key map", (key, kind) => {
    const { el, root, byTestId, labelsSent } = mount();
    let leaked = 0;
    el.addEventListener("keydown", () => leaked++);
    press(root, key);
    const box = byTestId("editor-0") as HTMLTextAreaElement;
    expect(document.activeElement).toBe(box);
    box.value = "  check the sign  ";
    press(box, "3");
    press(box, "j");
    press(box, "Enter");
    expect(leaked).toBe(0);
    expect(labelsSent()).toHaveLength(1);
    expect(labelsSent()[0]).toMatchObject({ label: kind, step: 0, text: "check the sign" });
    expect(el.querySelector("textarea")).toBeNull();
    expect(document.activeElement).toBe(root);
  });

  test("Escape closes an editor without saving", () => {
    const { el, root, byTestId, labelsSent } = mount();
    press(root, "n");
    (byTestId("editor-0") as HTMLTextAreaElement).value = "draft";
    press(byTestId("editor-0"), "Escape");
    expect(el.querySelector("textarea")).toBeNull();
    expect(labelsSent()).toHaveLength(0);
  });

  test("u sends an undo for the current step; the row shows what Python restores", () => {
    const { model, root, row, labelsSent } = mount({ step_labels: [-1, null, null] });
    press(root, "u");
    const [undo] = labelsSent();
    expect(undo).toMatchObject({ kind: "undo", step: 0, alt: 0, label: "rating" });
    expect(rowState(row(0))).toEqual({ status: "pending", value: "-1" });
    model.kernelSet("step_labels", [1, null, null]);
    ack(model, undo);
    expect(rowState(row(0))).toEqual({ status: "saved", value: "1" });
  });

  test("after the first wrong step the rest dim, and E finishes with found_error", () => {
    const { model, root, row, byTestId, labelsSent } = mount();
    press(root, "3");
    press(root, "1");
    expect(row(2).classList.contains("lw-step--after-error")).toBe(true);
    expect(row(1).classList.contains("lw-step--after-error")).toBe(false);
    expect(byTestId("finish-bar").textContent).toContain("First error at step 2");
    press(root, "E");
    const finish = labelsSent().at(-1) as LabelEvent;
    expect(finish).toMatchObject({ label: "finish", step: null, text: "found_error" });
    expect(byTestId("finish-bar").dataset.status).toBe("pending");
    model.kernelSet("saved", { finish: "found_error" });
    ack(model, finish);
    expect(byTestId("finish-bar").dataset.status).toBe("saved");
    expect(byTestId("finish-bar").dataset.reason).toBe("found_error");
  });

  test.each([
    ["S", "solution"],
    ["B", "bad_problem"],
    ["G", "give_up"],
  ])("%s finishes the item as %s", (key, reason) => {
    const { root, labelsSent } = mount();
    press(root, key, { shiftKey: true });
    expect(labelsSent()[0]).toMatchObject({ label: "finish", text: reason });
  });

  test("a refused finish shows its error in the finish bar", () => {
    const { model, root, byTestId, labelsSent } = mount();
    press(root, "S", { shiftKey: true });
    model.emit("msg:custom", { kind: "error", id: labelsSent()[0].id, message: "not saved: nope" }, []);
    expect(byTestId("finish-bar").textContent).toBe("not saved: nope");
    expect(byTestId("finish-bar").dataset.status).toBe("error");
  });

  test("? toggles the key help, and Escape closes it", () => {
    const { root, byTestId } = mount();
    const help = byTestId("key-help");
    expect(help.hidden).toBe(true);
    press(root, "?", { shiftKey: true });
    expect(help.hidden).toBe(false);
    expect(help.textContent).toContain("finish: found the first error");
    const escape = press(root, "Escape");
    expect(help.hidden).toBe(true);
    expect(escape.defaultPrevented).toBe(true);
    expect(press(root, "Escape").defaultPrevented).toBe(false);
  });

  test("each label carries the time since the previous one", () => {
    let now = 1_000;
    const spy = vi.spyOn(performance, "now").mockImplementation(() => now);
    try {
      const { root, labelsSent } = mount();
      now += 2_500;
      press(root, "3");
      now += 400;
      press(root, "2");
      expect(labelsSent().map((e) => e.duration_ms)).toEqual([2_500, 400]);
    } finally {
      spy.mockRestore();
    }
  });

  test("cleanup with an editor open removes it and its listener", () => {
    const { el, root, cleanup, labelsSent } = mount();
    press(root, "n");
    const box = el.querySelector("textarea") as HTMLTextAreaElement;
    cleanup();
    expect(el.querySelector("textarea")).toBeNull();
    box.value = "late";
    press(box, "Enter");
    expect(labelsSent()).toHaveLength(0);
  });
});

describe("long outputs", () => {
  test("rows are built a block at a time as they come near the screen", () => {
    const observed = new Set<Element>();
    let report: IntersectionObserverCallback = () => {};
    let disconnected = false;
    class FakeObserver {
      constructor(callback: IntersectionObserverCallback) {
        report = callback;
      }
      observe(target: Element) {
        observed.add(target);
      }
      unobserve(target: Element) {
        observed.delete(target);
      }
      disconnect() {
        disconnected = true;
      }
    }
    vi.stubGlobal("IntersectionObserver", FakeObserver);
    try {
      const steps = Array.from({ length: 1000 }, (_, i) => `Step ${i}: $x_{${i}} = ${i}$`);
      const { model, el, row, cleanup } = mount({ steps, step_labels: steps.map(() => null) });
      const built = () => el.querySelectorAll(".lw-step").length;
      const blocks = Math.ceil(1000 / BLOCK_ROWS);
      // The first block is built and typeset; every other block is one placeholder.
      expect(built()).toBe(BLOCK_ROWS);
      expect(observed.size).toBe(blocks - 1);
      expect(row(0).querySelector(".katex")).not.toBeNull();
      expect(row(BLOCK_ROWS - 1).querySelector(".katex")).not.toBeNull();
      expect(el.querySelector(`[data-testid="step-${BLOCK_ROWS}"]`)).toBeNull();
      const placeholders = [...el.querySelectorAll<HTMLElement>(".lw-steps__placeholder")];
      expect(placeholders.map((p) => p.dataset.block)).toEqual(Array.from({ length: blocks - 1 }, (_, i) => String(i + 1)));
      expect(placeholders.at(-1)?.style.height).toBe(`${(1000 - (blocks - 1) * BLOCK_ROWS) * 48}px`);
      const entry = (target: Element, isIntersecting: boolean) =>
        ({ target, isIntersecting }) as unknown as IntersectionObserverEntry;
      report([entry(placeholders[0], true), entry(placeholders[1], false)], {} as IntersectionObserver);
      expect(built()).toBe(2 * BLOCK_ROWS);
      expect(row(2 * BLOCK_ROWS - 1).querySelector(".katex")).not.toBeNull();
      expect(observed.has(placeholders[0])).toBe(false);
      expect(placeholders[0].isConnected).toBe(false);
      // Rows stay in step order, and a jump of the cursor builds the block it lands in.
      expect([...el.querySelectorAll<HTMLElement>(".lw-step")].map((li) => Number(li.dataset.step))).toEqual(
        Array.from({ length: 2 * BLOCK_ROWS }, (_, i) => i),
      );
      model.kernelSet("cursor", 500);
      expect(row(500).classList.contains("lw-step--current")).toBe(true);
      expect(built()).toBe(3 * BLOCK_ROWS);
      model.kernelSet("step_labels", steps.map((_, i) => (i === 501 ? -1 : null)));
      expect(row(500).classList.contains("lw-step--after-error")).toBe(false);
      expect(row(502).classList.contains("lw-step--after-error")).toBe(true);
      cleanup();
      expect(disconnected).toBe(true);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe("building blocks in a bounded scroll area", () => {
  test("with max_height the steps' own scroll area is the observer's root; without, the window", () => {
    const made: { init: IntersectionObserverInit | undefined; observed: Set<Element>; disconnected: boolean }[] = [];
    class FakeObserver {
      readonly record: (typeof made)[number];
      constructor(_callback: IntersectionObserverCallback, init?: IntersectionObserverInit) {
        this.record = { init, observed: new Set(), disconnected: false };
        made.push(this.record);
      }
      observe(target: Element) {
        this.record.observed.add(target);
      }
      unobserve(target: Element) {
        this.record.observed.delete(target);
      }
      disconnect() {
        this.record.disconnected = true;
      }
    }
    vi.stubGlobal("IntersectionObserver", FakeObserver);
    try {
      const steps = Array.from({ length: 100 }, (_, i) => `Step ${i}`);
      const { model, el } = mount({ steps, step_labels: steps.map(() => null), max_height: "70vh" });
      const list = el.querySelector(".lw-steps__list");
      expect(made).toHaveLength(1);
      expect(made[0].init?.root).toBe(list);
      expect(made[0].init?.rootMargin).toBe("1000px 0px");
      const placeholders = el.querySelectorAll(".lw-steps__placeholder");
      expect(made[0].observed.size).toBe(placeholders.length);
      model.kernelSet("max_height", null);
      expect(made[0].disconnected).toBe(true);
      expect(made[1].init?.root).toBeUndefined();
      expect([...made[1].observed]).toEqual([...placeholders]);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe("building ahead", () => {
  test("blocks around the cursor are built while the page is idle, one per idle period", () => {
    const idle: (() => void)[] = [];
    const cancelled: number[] = [];
    vi.stubGlobal("IntersectionObserver", class {
      observe() {}
      unobserve() {}
      disconnect() {}
    });
    vi.stubGlobal("requestIdleCallback", (callback: () => void) => idle.push(callback));
    vi.stubGlobal("cancelIdleCallback", (handle: number) => cancelled.push(handle));
    try {
      const steps = Array.from({ length: 10 * BLOCK_ROWS }, (_, i) => `Step ${i}`);
      const { model, el, cleanup } = mount({ steps, step_labels: steps.map(() => null) });
      const built = () => [...el.querySelectorAll<HTMLElement>(".lw-step")].map((li) => Number(li.dataset.step));
      expect(built()).toHaveLength(BLOCK_ROWS);
      expect(idle).toHaveLength(1);
      idle.shift()?.();
      expect(built()).toHaveLength(2 * BLOCK_ROWS);
      idle.shift()?.();
      expect(built()).toHaveLength(3 * BLOCK_ROWS); // two blocks ahead of the cursor, then it rests
      expect(idle).toHaveLength(0);
      model.kernelSet("cursor", 6 * BLOCK_ROWS);
      expect(built()).toHaveLength(4 * BLOCK_ROWS); // the cursor's own block, at once
      idle.shift()?.();
      idle.shift()?.();
      idle.shift()?.();
      expect(built()).toEqual(expect.arrayContaining([5, 6, 7, 8].flatMap((b) => [b * BLOCK_ROWS, (b + 1) * BLOCK_ROWS - 1])));
      expect(idle).toHaveLength(0);
      model.kernelSet("cursor", 0);
      cleanup();
      expect(cancelled).toHaveLength(0); // nothing was waiting: block 1 and 2 are built
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe("redraws", () => {
  test("a key press, its ack and Python's update each write to the rows they concern only", () => {
    const steps = Array.from({ length: 200 }, (_, i) => `Step ${i}`);
    const { model, el, root, labelsSent } = mount({ steps, step_labels: steps.map(() => null), cursor: 50 });
    const observer = new MutationObserver(() => {});
    observer.observe(el.querySelector(".lw-steps__list") as HTMLElement, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
    });
    /** The steps whose rows `action` changed in the DOM. */
    const touchedBy = (action: () => void) => {
      action();
      const rows = observer.takeRecords().map(({ target }) =>
        Number((target instanceof Element ? target : target.parentElement)?.closest<HTMLElement>(".lw-step")?.dataset.step),
      );
      return [...new Set(rows)].sort((a, b) => a - b);
    };
    expect(touchedBy(() => press(root, "3"))).toEqual([50, 51]); // the label on 50, the cursor onto 51
    expect(touchedBy(() => model.emit("msg:custom", { kind: "ack", id: labelsSent()[0].id }, []))).toEqual([50]);
    // Python's update says what the page already shows: nothing changes.
    expect(touchedBy(() => model.kernelSet("step_labels", steps.map((_, i) => (i === 50 ? 1 : null))))).toEqual([]);
    const fromElsewhere = steps.map((_, i) => (i === 50 || i === 120 ? 1 : null));
    expect(touchedBy(() => model.kernelSet("step_labels", fromElsewhere))).toEqual([120]);
    observer.disconnect();
  });
});

describe("suggestions", () => {
  const suggestions = [
    { value: 1 as const, confidence: 0.92, source: "model:prm" },
    null,
    { value: -1 as const, confidence: null, source: "auto:math-shepherd" },
  ];

  test("show apart from labels, and a accepts the current step's as a human rating", () => {
    const { root, row, labelsSent, model } = mount({ suggestions });
    expect(row(0).dataset.suggested).toBe("1");
    expect(row(0).dataset.value).toBe("");
    expect(row(0).textContent).toContain("suggested ✓ correct 92% · model:prm");
    expect(row(1).dataset.suggested).toBe("");
    press(root, "a");
    expect(labelsSent()[0]).toMatchObject({ label: "rating", step: 0, value: 1, accepts_suggestion: true });
    expect(row(0).dataset.value).toBe("1");
    expect(row(0).dataset.suggested).toBe("");
    expect(model.get("cursor")).toBe(1);
    press(root, "a");
    expect(labelsSent()).toHaveLength(1);
  });

  test("A accepts every remaining suggestion, leaving human labels alone", () => {
    const { root, labelsSent } = mount({ suggestions, step_labels: [-1, null, null] });
    press(root, "A", { shiftKey: true });
    expect(labelsSent().map((e) => [e.step, e.value, e.accepts_suggestion])).toEqual([[2, -1, true]]);
  });
});

describe("queue", () => {
  const progress = { position: 1, total: 4, done: 1, session_labels: 6, session_started_ms: 0 };

  test("shows where the item is in the queue, what is done and this session's pace", () => {
    vi.useFakeTimers();
    vi.setSystemTime(10 * 60_000);
    const { byTestId } = mount({ progress });
    const bar = byTestId("progress");
    expect(bar.hidden).toBe(false);
    expect(bar.textContent).toContain("item 2 of 4 · 1 done · 6 labels this session · 36 labels/h · 10:00");
    vi.advanceTimersByTime(5_000);
    expect(bar.textContent).toContain("10:05");
  });

  test("has no progress bar and no clock without a queue", () => {
    vi.useFakeTimers();
    const { byTestId } = mount();
    expect(byTestId("progress").hidden).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  test("N and P ask Python for the next and previous item, within the queue", () => {
    const { root, model } = mount({ progress });
    press(root, "N", { shiftKey: true });
    press(root, "P", { shiftKey: true });
    expect(model.sent.map((m) => [(m as { kind: string }).kind, (m as { position: number }).position])).toEqual([
      ["goto", 2],
      ["goto", 0],
    ]);
    model.kernelSet("progress", { ...progress, position: 3 });
    press(root, "N", { shiftKey: true });
    expect(model.sent).toHaveLength(2);
  });

  test("a cursor move still waiting reaches Python before N, so Python's reset to step 1 shows", () => {
    vi.useFakeTimers();
    const { root, model, row } = mount({ progress });
    press(root, "j");
    expect(model.saved).toEqual([]);
    press(root, "N", { shiftKey: true });
    expect(model.saved.map((s) => s.cursor)).toEqual([1]);
    vi.advanceTimersByTime(CURSOR_SYNC_MS);
    expect(model.saved).toHaveLength(1); // sent once, not again when the wait would have ended
    model.kernelSet("cursor", 0); // Python loads the next item at its first step
    expect(row(0).classList.contains("lw-step--current")).toBe(true);
  });

  test("a refused move shows its error in the progress bar; cleanup stops the clock", () => {
    vi.useFakeTimers();
    const { root, model, byTestId, cleanup } = mount({ progress });
    press(root, "N", { shiftKey: true });
    const [goto] = model.sent as { id: string }[];
    model.emit("msg:custom", { kind: "error", id: goto.id, message: "not saved: gone" }, []);
    expect(byTestId("progress").textContent).toBe("not saved: gone");
    cleanup();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("token heatmap", () => {
  const packed = (values: number[]) => {
    const view = new DataView(new ArrayBuffer(values.length * 4));
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    return { view, dtype: "float32", shape: [values.length] };
  };
  /** Texts as Python's pack_strings sends them: UTF-8, NUL between them. */
  const packedStrings = (texts: string[]) => {
    const bytes = new TextEncoder().encode(texts.join("\0"));
    return { view: new DataView(bytes.buffer), dtype: "utf8-nul", shape: [texts.length] };
  };
  const traits = {
    steps: ["2 * 3 = 6", "so 8"],
    tokens: packedStrings(["2", " *", " 3", " =", " 6", "so", " 8"]),
    token_scores: packed([-0.1, -0.2, -0.1, -3, -0.05, -0.3, -4]),
    step_token_counts: [5, 2],
  };

  test("colours each step's tokens in place of its text, with the score on hover; t toggles", () => {
    const { root, row, cleanup } = mount(traits);
    const tokens = row(1).querySelectorAll<HTMLElement>(".lw-tok");
    expect([...tokens].map((t) => t.textContent)).toEqual(["so", " 8"]);
    expect(tokens[1].title).toContain("−4.00");
    expect(tokens[1].style.backgroundColor).not.toBe("");
    expect(root.classList.contains("lw-steps--heatmap")).toBe(true);
    press(root, "t");
    expect(root.classList.contains("lw-steps--heatmap")).toBe(false);
    expect(row(1).querySelector<HTMLElement>(".lw-heatmap__step")?.hidden).toBe(true);
    press(root, "t");
    expect(root.classList.contains("lw-steps--heatmap")).toBe(true);
    cleanup();
    expect(row(1).querySelector(".lw-tok")).toBeNull();
  });

  test("without tokens there is no heatmap and t does nothing", () => {
    const { root, el } = mount();
    press(root, "t");
    expect(el.querySelector(".lw-tok")).toBeNull();
    expect(root.classList.contains("lw-steps--heatmap")).toBe(false);
  });

  test("tokens that are not packed texts show an error instead of colours", () => {
    const { el, byTestId } = mount({ ...traits, tokens: { ...packedStrings(["2", " *"]), shape: [7] } });
    expect(el.querySelector(".lw-tok")).toBeNull();
    expect(byTestId("finish-bar").textContent).toContain("cannot show the token heatmap: 2 texts in a value of shape [7]");
  });

  test("scores that do not fit the tokens show an error instead of colours", () => {
    const { el, byTestId } = mount({ ...traits, token_scores: packed([1, 2]) });
    expect(el.querySelector(".lw-tok")).toBeNull();
    expect(byTestId("finish-bar").textContent).toContain("cannot show the token heatmap");
  });
});

describe("alternatives from the model", () => {
  test("g asks Python for alternatives of the current step, then shows the first new one", () => {
    const { model, root, row } = mount({ steps: ["a", "b"], alternatives: [["a"], ["b"]] });
    press(root, "j");
    press(root, "g");
    const [request] = model.sent as { kind: string; id: string; step: number; n: number }[];
    expect(request).toMatchObject({ kind: "generate", step: 1, n: 3 });
    expect(row(1).textContent).toContain("generating…");
    press(root, "g");
    expect(model.sent).toHaveLength(1);
    model.kernelSet("alternatives", [["a"], ["b", "b1", "b2", "b3"]]);
    model.emit("msg:custom", { kind: "ack", id: request.id }, []);
    expect(row(1).dataset.alt).toBe("1");
    expect(row(1).textContent).toContain("alternative 2 of 4");
  });

  test("a generator error shows on the step", () => {
    const { model, root, byTestId } = mount();
    press(root, "g");
    const [request] = model.sent as { id: string }[];
    model.emit("msg:custom", { kind: "error", id: request.id, message: "not saved: no generator" }, []);
    expect(byTestId("step-error-0").textContent).toBe("not saved: no generator");
  });
});

describe("direct commits", () => {
  const CONTEXT = '{"item":"item-1","steps":3}';
  const UUID = /^[0-9a-f-]{36}$/;

  function mountDirect(traits: Partial<StepLabelerTraits> = {}) {
    return mount({ _direct: { context: CONTEXT, signature: "sig" }, ...traits });
  }

  /** The page's direct channel: the one steps.ts got, cached for the page. */
  function directChannelOf() {
    const channel = directChannel(document);
    if (channel === null) throw new Error("the page has no direct channel");
    return channel;
  }

  /** The `committed` messages the kernel got. */
  const committedSent = (model: { sent: unknown[] }) =>
    (model.sent as { kind: string; id: string }[]).filter((message) => message.kind === "committed");

  beforeEach(openJupyterPage);

  afterEach(() => {
    for (const cleanup of mounted.splice(0)) cleanup();
    closeJupyterPage();
  });

  test("the kernel's context is offered on the page's socket to the server extension", () => {
    const { model } = mountDirect();
    expect(sockets.map((socket) => socket.url)).toEqual(["ws://localhost:3000/lab/labwidget/labels"]);
    expect(sockets[0].sent).toEqual([]);
    sockets[0].open();
    expect(sockets[0].sent).toEqual([{ kind: "context", context: CONTEXT, signature: "sig" }]);
    expect(model.sent).toEqual([]);
  });

  test("without a context from the kernel no socket is opened", () => {
    const { root, labelsSent } = mount();
    press(root, "3");
    expect(sockets).toEqual([]);
    expect(labelsSent()).toHaveLength(1);
  });

  test("until the server accepts the context, labels go through the kernel and show at once", () => {
    const { root, row, labelsSent } = mountDirect();
    press(root, "3"); // the socket is still connecting
    sockets[0].open();
    press(root, "2"); // the context is offered, not yet accepted
    expect(labelsSent().map((event) => [event.kind, event.step, event.value])).toEqual([
      ["label", 0, 1],
      ["label", 1, 0],
    ]);
    expect(rowState(row(0))).toEqual({ status: "pending", value: "1" });
    expect(rowState(row(1))).toEqual({ status: "pending", value: "0" });
    // A context the server refuses leaves labels with the kernel.
    accept();
    sockets[0].reply({ kind: "refused", signature: "sig", message: "no kernel of this server signed this context" });
    press(root, "1");
    expect(labelsSent().map((event) => event.step)).toEqual([0, 1, 2]);
    expect(sockets[0].events()).toEqual([]);
  });

  test("once the server accepts the context, a label goes over the socket under it, not through the kernel", () => {
    const { model, root } = mountDirect();
    const socket = accept();
    press(root, "3");
    expect(model.sent).toEqual([]);
    expect(socket.events()).toEqual([
      {
        kind: "label",
        id: expect.stringMatching(UUID),
        item: "item-1",
        step: 0,
        alt: 0,
        label: "rating",
        value: 1,
        t_client: expect.any(Number),
        duration_ms: expect.any(Number),
        context: "sig",
      },
    ]);
  });

  test("the key press is drawn together with its ack, and the kernel is told of it in a later task", () => {
    vi.useFakeTimers();
    const { model, root, row } = mountDirect();
    const socket = accept();
    press(root, "3");
    // The model has moved on; only the drawing waits for the ack.
    expect(model.get("cursor")).toBe(1);
    expect(rowState(row(0))).toEqual({ status: "none", value: "" });
    expect(row(0).getAttribute("aria-current")).not.toBeNull();
    expect(row(1).getAttribute("aria-current")).toBeNull();
    socket.reply({ kind: "ack", id: socket.events()[0].id });
    expect(rowState(row(0))).toEqual({ status: "saved", value: "1" });
    expect(row(0).querySelector(".lw-step__status")?.textContent).toBe("saved");
    expect(row(1).getAttribute("aria-current")).not.toBeNull();
    expect(model.sent).toEqual([]);
    vi.advanceTimersByTime(0);
    expect(model.sent).toEqual([{ kind: "committed", id: expect.stringMatching(UUID), items: ["item-1"], labels: 1 }]);
    // Acked is done: nothing is sent again, on either path.
    vi.advanceTimersByTime((MAX_RESENDS + 1) * ACK_TIMEOUT_MS);
    expect(socket.events()).toHaveLength(1);
    expect(model.sent).toHaveLength(1);
  });

  test("without an ack, the key press is drawn as pending after DRAW_HOLD_MS", () => {
    vi.useFakeTimers();
    const { model, root, row } = mountDirect();
    const socket = accept();
    press(root, "3");
    vi.advanceTimersByTime(DRAW_HOLD_MS - 1);
    expect(rowState(row(0))).toEqual({ status: "none", value: "" });
    vi.advanceTimersByTime(1);
    expect(rowState(row(0))).toEqual({ status: "pending", value: "1" });
    expect(row(0).textContent).toContain("saving…");
    expect(row(1).getAttribute("aria-current")).not.toBeNull();
    socket.reply({ kind: "ack", id: socket.events()[0].id });
    expect(rowState(row(0))).toEqual({ status: "saved", value: "1" });
    vi.advanceTimersByTime(0);
    expect(committedSent(model)).toEqual([{ kind: "committed", id: expect.stringMatching(UUID), items: ["item-1"], labels: 1 }]);
  });

  test("with the kernel gone, a label committed directly is saved, and the widget says the kernel is gone", () => {
    vi.useFakeTimers();
    const { model, root, row, byTestId } = mountDirect();
    const socket = accept();
    model.send = () => {
      throw new Error("Cannot send");
    };
    press(root, "3");
    socket.reply({ kind: "ack", id: socket.events()[0].id });
    vi.advanceTimersByTime(0); // the committed message cannot reach the kernel
    expect(rowState(row(0))).toEqual({ status: "saved", value: "1" });
    expect(byTestId("kernel-gone").hidden).toBe(false);
    press(root, "1"); // still goes directly, and is saved
    socket.reply({ kind: "ack", id: socket.events()[1].id });
    expect(rowState(row(1))).toEqual({ status: "saved", value: "-1" });
  });

  test("acks that arrive together reach the kernel as one committed message", () => {
    vi.useFakeTimers();
    const { model, root, row } = mountDirect();
    const socket = accept();
    press(root, "3");
    press(root, "3");
    const [first, second] = socket.events();
    expect([first.step, second.step]).toEqual([0, 1]);
    socket.reply({ kind: "ack", id: first.id });
    socket.reply({ kind: "ack", id: second.id });
    expect([rowState(row(0)), rowState(row(1))]).toEqual([
      { status: "saved", value: "1" },
      { status: "saved", value: "1" },
    ]);
    expect(model.sent).toEqual([]);
    vi.advanceTimersByTime(0);
    expect(model.sent).toEqual([{ kind: "committed", id: expect.stringMatching(UUID), items: ["item-1"], labels: 2 }]);
  });

  test("an error from the server shows on the row, and the kernel is told nothing", () => {
    vi.useFakeTimers();
    const { model, root, row, byTestId } = mountDirect({ step_labels: [0, null, null] });
    const socket = accept();
    press(root, "1");
    socket.reply({ kind: "error", id: socket.events()[0].id, message: "not saved: the store is read-only" });
    expect(rowState(row(0))).toEqual({ status: "error", value: "0" });
    expect(byTestId("step-error-0").textContent).toBe("not saved: the store is read-only");
    expect(byTestId("step-error-0").hidden).toBe(false);
    vi.advanceTimersByTime((MAX_RESENDS + 1) * ACK_TIMEOUT_MS);
    expect(model.sent).toEqual([]);
    expect(socket.events()).toHaveLength(1);
  });

  test("an undo committed directly counts no labels, and is pending until the kernel shows what it restored", () => {
    vi.useFakeTimers();
    const { model, root, row } = mountDirect({ step_labels: [-1, null, null] });
    const socket = accept();
    press(root, "u");
    const [undo] = socket.events();
    expect(undo).toMatchObject({ kind: "undo", item: "item-1", step: 0, alt: 0, label: "rating", context: "sig" });
    expect(model.sent).toEqual([]);
    socket.reply({ kind: "ack", id: undo.id });
    // Acked, but which label it restored only the kernel's re-read will say.
    expect(rowState(row(0))).toEqual({ status: "pending", value: "-1" });
    vi.advanceTimersByTime(0);
    const [committed] = committedSent(model);
    expect(committed).toEqual({ kind: "committed", id: expect.stringMatching(UUID), items: ["item-1"], labels: 0 });
    // The kernel re-reads the store, then answers.
    model.kernelSet("step_labels", [null, null, null]);
    model.emit("msg:custom", { kind: "ack", id: committed.id }, []);
    expect(rowState(row(0))).toEqual({ status: "none", value: "" });
  });

  test("traits the kernel re-read before a direct commit do not hide it; once told, the row follows Python", () => {
    vi.useFakeTimers();
    const { model, root, row } = mountDirect();
    const socket = accept();
    press(root, "3");
    socket.reply({ kind: "ack", id: socket.events()[0].id });
    vi.advanceTimersByTime(0);
    press(root, "1");
    socket.reply({ kind: "ack", id: socket.events()[1].id });
    const [first] = committedSent(model);
    // The kernel's answer to the first message, re-read before the second label was committed.
    model.kernelSet("step_labels", [1, null, null]);
    model.emit("msg:custom", { kind: "ack", id: first.id }, []);
    expect([rowState(row(0)), rowState(row(1))]).toEqual([
      { status: "saved", value: "1" },
      { status: "saved", value: "-1" },
    ]);
    vi.advanceTimersByTime(0);
    const [, second] = committedSent(model);
    model.kernelSet("step_labels", [1, -1, null]);
    model.emit("msg:custom", { kind: "ack", id: second.id }, []);
    // Told: the local copy is gone, so what Python holds next is what shows.
    model.kernelSet("step_labels", [1, 0, null]);
    expect(rowState(row(1))).toEqual({ status: "saved", value: "0" });
  });

  test("a new item's context is offered, and its labels go under it once the server accepts it", () => {
    const context2 = '{"item":"item-2","steps":3}';
    const { model, root, labelsSent } = mountDirect();
    accept();
    model.kernelSet("item_id", "item-2");
    model.kernelSet("_direct", { context: context2, signature: "sig-2" });
    const socket = liveSocket();
    expect(socket.sent.filter((message) => message.kind === "context").at(-1)).toEqual({
      kind: "context",
      context: context2,
      signature: "sig-2",
    });
    expect(directChannelOf().ready("sig")).toBe(false); // the old item's context is given up
    press(root, "3");
    expect(labelsSent()).toMatchObject([{ kind: "label", item: "item-2", step: 0 }]);
    socket.reply({ kind: "ready", signature: "sig-2" });
    press(root, "3");
    expect(socket.events()).toMatchObject([{ kind: "label", item: "item-2", step: 1, context: "sig-2" }]);
    expect(labelsSent()).toHaveLength(1);
  });

  test("a new item's context is offered on the socket already open", () => {
    const { model } = mountDirect();
    accept();
    model.kernelSet("_direct", { context: '{"item":"item-2"}', signature: "sig-2" });
    expect(sockets).toHaveLength(1);
    expect(sockets[0].closeCalls).toBe(0);
    expect(sockets[0].offered()).toEqual(["sig", "sig-2"]);
  });

  test("a kernel that takes its context back has the labels sent through it again", () => {
    const { model, root, labelsSent } = mountDirect();
    accept();
    model.kernelSet("_direct", {});
    expect(sockets[0].closeCalls).toBe(1);
    press(root, "3");
    expect(labelsSent()).toMatchObject([{ kind: "label", step: 0 }]);
    expect(sockets[0].events()).toEqual([]);
  });

  test("widgets on one page share one socket, each hearing only of its own acks", () => {
    vi.useFakeTimers();
    const first = mountDirect();
    const second = mountDirect();
    expect(sockets).toHaveLength(1);
    const socket = accept();
    expect(socket.offered()).toEqual(["sig"]);
    press(second.root, "3");
    socket.reply({ kind: "ack", id: socket.events()[0].id });
    vi.advanceTimersByTime(0);
    expect(first.model.sent).toEqual([]);
    expect(committedSent(second.model)).toHaveLength(1);
    expect(rowState(second.row(0))).toEqual({ status: "saved", value: "1" });
    expect(rowState(first.row(0))).toEqual({ status: "none", value: "" });
    first.cleanup();
    expect(socket.closeCalls).toBe(0);
    press(second.root, "3");
    expect(socket.events()).toHaveLength(2);
    second.cleanup();
    expect(socket.closeCalls).toBe(1);
  });

  test("cleanup tells the kernel what was acked, closes the socket and leaves no timers", () => {
    vi.useFakeTimers();
    const { model, root, cleanup } = mountDirect();
    const socket = accept();
    press(root, "3");
    socket.reply({ kind: "ack", id: socket.events()[0].id });
    press(root, "3"); // still awaiting its ack, its drawing held
    cleanup();
    expect(model.sent).toEqual([{ kind: "committed", id: expect.stringMatching(UUID), items: ["item-1"], labels: 1 }]);
    expect(socket.closeCalls).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
    // The close completes and the last ack arrives too late: nothing reconnects or reaches the kernel.
    socket.reply({ kind: "ack", id: socket.events()[1].id });
    socket.drop();
    expect(vi.getTimerCount()).toBe(0);
    expect(sockets).toHaveLength(1);
    expect(model.sent).toHaveLength(1);
  });
});

describe("long steps", () => {
  const huge = "(1)".repeat(349_526); // one line of 1 MiB

  test("a step of one huge line is folded to its start, says how much is left out, and z unfolds and folds it", () => {
    const { root, row, byTestId } = mount({ steps: ["short", huge, "after"] });
    const text = () => row(1).querySelector(".lw-step__text")?.textContent ?? "";
    expect(text().length).toBeLessThan(13_000);
    expect(huge.startsWith(text().trim())).toBe(true);
    expect(byTestId("fold-1").textContent).toBe(`… ${(huge.length - 12_000).toLocaleString("en-US")} more characters (z shows all)`);
    expect(row(1).classList.contains("lw-step--folded")).toBe(true);
    // Its controls stay on screen while it scrolls by: the CSS makes them sticky in long rows.
    expect(row(1).classList.contains("lw-step--long")).toBe(true);
    expect(row(0).classList.contains("lw-step--long")).toBe(false);
    expect(byTestId("fold-0").textContent).toBe("");

    press(root, "z"); // on step 1, which is short: nothing to unfold
    expect(text().length).toBeLessThan(13_000);
    press(root, "j");
    press(root, "z");
    expect(text().length > huge.length).toBe(true); // all of it (and whatever the renderer adds)
    expect(row(1).classList.contains("lw-step--folded")).toBe(false);
    expect(byTestId("fold-1").textContent).toBe("(z folds this step)");
    press(root, "z");
    expect(text().length).toBeLessThan(13_000);
    expect(row(1).classList.contains("lw-step--folded")).toBe(true);
  });

  test("folding an unfolded step brings its start back on screen; unfolding scrolls nothing", async () => {
    const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));
    const scrolled: [Element, unknown][] = [];
    HTMLElement.prototype.scrollIntoView = function (this: Element, arg?: unknown) {
      scrolled.push([this, arg]);
    };
    try {
      const { root, row } = mount({ steps: [huge] });
      await nextFrame();
      press(root, "z");
      await nextFrame();
      expect(scrolled).toEqual([]);
      row(0).getBoundingClientRect = () => ({ top: -90_000, bottom: -87_000, height: 3000 }) as DOMRect;
      press(root, "z");
      await nextFrame();
      expect(scrolled).toEqual([[row(0), { block: "start" }]]);
    } finally {
      delete (HTMLElement.prototype as Partial<HTMLElement>).scrollIntoView;
    }
  });

  test("a step of many lines is folded after 120 of them", () => {
    const long = Array.from({ length: 5000 }, (_, i) => `line ${i}`).join("\n");
    const { row, byTestId } = mount({ steps: [long] });
    expect(row(0).querySelector(".lw-step__text")?.textContent).toContain("line 119");
    expect(row(0).querySelector(".lw-step__text")?.textContent).not.toContain("line 120");
    expect(byTestId("fold-0").textContent).toBe("… 4,880 more lines (z shows all)");
  });

  test("a new item folds its long steps again", () => {
    const { model, root, row } = mount({ steps: [huge] });
    press(root, "z");
    expect(row(0).classList.contains("lw-step--folded")).toBe(false);
    model.kernelSet("item_id", "item-2");
    expect(row(0).classList.contains("lw-step--folded")).toBe(true);
  });
});

describe("source view", () => {
  const attack = '**bold** <img src=x onerror="window.pwned=1"> $x$';

  test("v shows the current step's text exactly as written, as text; it follows the cursor; v hides it", () => {
    const { el, root, row, byTestId } = mount({ steps: ["2 * 3 = 6", attack] });
    expect(el.querySelector('[data-testid="step-source"]')).toBeNull();
    press(root, "v");
    expect(row(0).contains(byTestId("step-source"))).toBe(true);
    expect(byTestId("step-source").textContent).toBe("2 * 3 = 6");
    press(root, "j");
    const source = byTestId("step-source");
    expect(row(1).contains(source)).toBe(true);
    expect(source.tagName).toBe("PRE");
    expect(source.textContent).toBe(attack);
    expect(source.children).toHaveLength(0);
    expect(el.querySelector("img")).toBeNull();
    press(root, "v");
    expect(el.querySelector('[data-testid="step-source"]')).toBeNull();
  });

  test("the source of a folded step is all of it, and Escape hides it", () => {
    const huge = "x".repeat(50_000);
    const { el, root, byTestId } = mount({ steps: [huge] });
    press(root, "v");
    expect(byTestId("step-source").textContent).toBe(huge);
    const escape = press(root, "Escape");
    expect(escape.defaultPrevented).toBe(true);
    expect(el.querySelector('[data-testid="step-source"]')).toBeNull();
  });

  test("v scrolls the source onto the screen: under a long step it starts below it", () => {
    const scrolled: [Element, unknown][] = [];
    HTMLElement.prototype.scrollIntoView = function (this: Element, arg?: unknown) {
      scrolled.push([this, arg]);
    };
    try {
      const { root, byTestId } = mount();
      press(root, "v");
      expect(scrolled).toEqual([[byTestId("step-source"), { block: "nearest" }]]);
    } finally {
      delete (HTMLElement.prototype as Partial<HTMLElement>).scrollIntoView;
    }
  });

  test("it shows the alternative on screen", () => {
    const { root, byTestId } = mount({ steps: ["a0"], alternatives: [["a0", "a1"]] });
    press(root, "v");
    press(root, "l");
    expect(byTestId("step-source").textContent).toBe("a1");
  });
});

describe("key help placement", () => {
  test("? opens the help at the current step's height and scrolls it into view", () => {
    const scrolled: [Element, unknown][] = [];
    HTMLElement.prototype.scrollIntoView = function (this: Element, arg?: unknown) {
      scrolled.push([this, arg]);
    };
    try {
      const { root, row, byTestId } = mount();
      root.getBoundingClientRect = () => ({ top: 100 }) as DOMRect;
      row(2).getBoundingClientRect = () => ({ top: 2100 }) as DOMRect;
      press(root, "j");
      press(root, "j");
      scrolled.length = 0;
      press(root, "?", { shiftKey: true });
      const help = byTestId("key-help");
      expect(help.hidden).toBe(false);
      expect(help.style.top).toBe("2000px");
      expect(scrolled).toEqual([[help, { block: "nearest" }]]);
      expect(document.activeElement === root || root.contains(document.activeElement) || document.activeElement === document.body).toBe(true);
      expect(help.textContent).toContain("exactly as written");
    } finally {
      delete (HTMLElement.prototype as Partial<HTMLElement>).scrollIntoView;
    }
  });
});

describe("finishing as a solution with a step rated wrong", () => {
  const finishes = (sent: LabelEvent[]) => sent.filter((event) => event.label === "finish").map((event) => event.text);

  test("the first S asks in the finish bar; a second S at once finishes anyway", () => {
    const { root, byTestId, labelsSent } = mount({ step_labels: [1, -1, null] });
    press(root, "S", { shiftKey: true });
    expect(finishes(labelsSent())).toEqual([]);
    expect(byTestId("finish-bar").textContent).toBe(
      "step 2 is rated wrong: press S again to finish as a solution anyway, or E to finish at the first error",
    );
    expect(byTestId("finish-bar").dataset.asking).toBe("true");
    press(root, "Shift"); // the Shift of the second S is no other key
    press(root, "S", { shiftKey: true });
    expect(finishes(labelsSent())).toEqual(["solution"]);
    expect(byTestId("finish-bar").dataset.asking).toBe("false");
  });

  test("after E, S does not silently replace found_error: any other key in between lets it be", () => {
    const { model, root, byTestId, labelsSent } = mount({ step_labels: [-1, null, null] });
    press(root, "E", { shiftKey: true });
    model.kernelSet("saved", { finish: "found_error" });
    model.emit("msg:custom", { kind: "ack", id: labelsSent()[0].id }, []);
    press(root, "S", { shiftKey: true });
    press(root, "j");
    expect(byTestId("finish-bar").textContent).toBe("finished: found the first error");
    press(root, "S", { shiftKey: true });
    expect(finishes(labelsSent())).toEqual(["found_error"]);
    press(root, "E", { shiftKey: true }); // the answer the question offers
    expect(finishes(labelsSent())).toEqual(["found_error", "found_error"]);
  });

  test("with no step rated wrong, S finishes at once", () => {
    const { root, labelsSent } = mount({ step_labels: [1, 1, 0] });
    press(root, "S", { shiftKey: true });
    expect(finishes(labelsSent())).toEqual(["solution"]);
  });

  test("a wrong rating still pending counts: S right after 1 asks", () => {
    const { root, labelsSent } = mount();
    press(root, "1");
    press(root, "S", { shiftKey: true });
    expect(finishes(labelsSent())).toEqual([]);
  });
});

describe("saved marks of flags, choices, replacements and notes", () => {
  const ack = (model: ReturnType<typeof mount>["model"], event: LabelEvent) =>
    model.emit("msg:custom", { kind: "ack", id: event.id }, []);

  test("a flag says saving…, then saved, and stays saved once Python shows it", () => {
    const { model, root, byTestId, labelsSent } = mount();
    press(root, "f");
    const marks = byTestId("marks-0");
    expect(marks.textContent).toBe("⚑ can't tell · saving…");
    expect(marks.dataset.status).toBe("pending");
    ack(model, labelsSent()[0]);
    expect(marks.textContent).toBe("⚑ can't tell · saved");
    model.kernelSet("saved", { flags: [[true], [false], [false]] });
    expect(marks.textContent).toBe("⚑ can't tell · saved");
    expect(marks.dataset.status).toBe("saved");
  });

  test("a note and a replacement each carry their own status; an error says not saved", () => {
    const { model, root, byTestId, labelsSent } = mount();
    press(root, "n");
    (byTestId("editor-0") as HTMLTextAreaElement).value = "check the sign";
    press(byTestId("editor-0"), "Enter");
    expect(byTestId("note-0").textContent).toBe("note: check the sign · saving…");
    ack(model, labelsSent()[0]);
    model.kernelSet("saved", { notes: ["check the sign", null, null] });
    expect(byTestId("note-0").textContent).toBe("note: check the sign · saved");
    expect(byTestId("note-0").dataset.status).toBe("saved");

    press(root, "r");
    (byTestId("editor-0") as HTMLTextAreaElement).value = "2 * 3 = 6, so";
    press(byTestId("editor-0"), "Enter");
    model.emit("msg:custom", { kind: "error", id: labelsSent()[1].id, message: "not saved: disk full" }, []);
    expect(byTestId("replacement-0").dataset.status).toBe("none");
    expect(byTestId("step-error-0").textContent).toBe("not saved: disk full");
    expect(byTestId("note-0").textContent).toBe("note: check the sign · saved");
  });

  test("a choice says whether it is saved", () => {
    const { model, root, byTestId, labelsSent } = mount({ steps: ["a0"], alternatives: [["a0", "a1"]] });
    press(root, "l");
    press(root, "c");
    expect(byTestId("alternative-0").textContent).toContain("chosen saving…");
    ack(model, labelsSent()[0]);
    model.kernelSet("saved", { choices: [1] });
    expect(byTestId("alternative-0").textContent).toContain("chosen saved");
    expect(byTestId("alternative-0").dataset.status).toBe("saved");
  });
});

describe("when the kernel is gone", () => {
  /** JupyterLab's comm once its kernel is gone: every send throws. */
  function killKernel(model: ReturnType<typeof mount>["model"]) {
    model.send = () => {
      throw new Error("Cannot send");
    };
    model.save_changes = () => {
      throw new Error("Cannot send");
    };
  }

  const uncaught: unknown[] = [];
  const onError = (ev: ErrorEvent) => {
    uncaught.push(ev.error ?? ev.message);
    ev.preventDefault();
  };
  beforeEach(() => {
    uncaught.length = 0;
    window.addEventListener("error", onError);
  });
  afterEach(() => window.removeEventListener("error", onError));

  test("a label says not saved and the widget says what is safe, with no uncaught error", () => {
    vi.useFakeTimers();
    const { model, root, row, byTestId } = mount({ step_labels: [1, null, null] });
    expect(byTestId("kernel-gone").hidden).toBe(true);
    killKernel(model);
    press(root, "j");
    press(root, "1");
    expect(rowState(row(1))).toEqual({ status: "error", value: "" });
    expect(byTestId("step-error-1").textContent).toBe("not saved: the kernel is gone (restart it and re-run the cell)");
    expect(rowState(row(0))).toEqual({ status: "saved", value: "1" });
    const gone = byTestId("kernel-gone");
    expect(gone.hidden).toBe(false);
    expect(gone.textContent).toContain("Every label marked saved is in the store");
    expect(gone.textContent).toContain("Restart the kernel and re-run this cell");
    vi.advanceTimersByTime((MAX_RESENDS + 1) * ACK_TIMEOUT_MS + CURSOR_SYNC_MS);
    expect(uncaught).toEqual([]);
  });

  test("a cursor that cannot reach Python shows the state too", () => {
    vi.useFakeTimers();
    const { model, root, byTestId } = mount();
    killKernel(model);
    press(root, "j");
    vi.advanceTimersByTime(CURSOR_SYNC_MS);
    expect(byTestId("kernel-gone").hidden).toBe(false);
    expect(uncaught).toEqual([]);
  });

  test.each([
    ["N", { progress: { position: 0, total: 3, done: 0 } }],
    ["g", {}],
  ] as const)("%s, which asks the kernel, shows the state", (key, traits) => {
    const { model, root, byTestId } = mount(traits);
    killKernel(model);
    press(root, key, { shiftKey: key === "N" });
    expect(byTestId("kernel-gone").hidden).toBe(false);
    expect(uncaught).toEqual([]);
  });
});

describe("height", () => {
  test("max_height bounds the steps, which then scroll on their own; null lets them grow", () => {
    const { model, el } = mount({ max_height: "70vh" });
    const list = el.querySelector<HTMLElement>(".lw-steps__list");
    expect(list?.style.maxHeight).toBe("70vh");
    expect(list?.classList.contains("lw-steps__list--bounded")).toBe(true);
    model.kernelSet("max_height", null);
    expect(list?.style.maxHeight).toBe("");
    expect(list?.classList.contains("lw-steps__list--bounded")).toBe(false);
  });
});
