import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { ACK_TIMEOUT_MS, MAX_RESENDS, NO_REPLY_MESSAGE } from "../lib/protocol";
import widget, { PAIR_KEY_HINT } from "../pair";
import type { PairLabelerTraits, PreferenceEvent } from "../types";
import { createFakeModel } from "./fake_model";
import { accept, closeJupyterPage, openJupyterPage, sockets } from "./jupyter_page";

const mounted: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of mounted.splice(0)) cleanup();
  document.body.replaceChildren();
  vi.useRealTimers();
});

function mount(traits: Partial<PairLabelerTraits> = {}) {
  const model = createFakeModel<PairLabelerTraits>({
    prompt: "What is 2 + 2 * 3?",
    answer_a: "2 + 2 = 4, and 4 * 3 = **12**.",
    answer_b: "2 * 3 = 6, and 2 + 6 = **8**.",
    comparison_id: "cmp-1",
    preference: null,
    strength: null,
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
  const root = byTestId("pair-labeler");
  const sent = () => model.sent as PreferenceEvent[];
  const state = () => ({
    status: root.dataset.status,
    preference: root.dataset.preference,
    strength: root.dataset.strength,
  });
  return { model, el, root, cleanup, byTestId, sent, state };
}

function press(target: EventTarget, key: string, init: KeyboardEventInit = {}): KeyboardEvent {
  const ev = new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true, ...init });
  target.dispatchEvent(ev);
  return ev;
}

const ack = (id: string) => ({ kind: "ack", id });

describe("rendering", () => {
  test("shows the prompt on top, answers A and B side by side, and the key hint", () => {
    const { byTestId, root, el } = mount();
    expect(byTestId("pair-prompt").textContent?.trim()).toBe("What is 2 + 2 * 3?");
    expect(byTestId("answer-a").textContent).toMatch(/^A.*4 \* 3 = 12/);
    expect(byTestId("answer-b").textContent).toMatch(/^B.*2 \+ 6 = 8/);
    const order = [...el.querySelectorAll("[data-testid]")].map((n) => (n as HTMLElement).dataset.testid);
    expect(order.indexOf("pair-prompt")).toBeLessThan(order.indexOf("answer-a"));
    expect(order.indexOf("answer-a")).toBeLessThan(order.indexOf("answer-b"));
    expect(byTestId("pair-key-hint").textContent).toBe(PAIR_KEY_HINT);
    expect(PAIR_KEY_HINT).toMatch(/a or 1.*b or 2.*t or 3.*Shift\+A \/ Shift\+B/);
    expect(root.tabIndex).toBe(0);
    expect(root.getAttribute("data-lm-suppress-shortcuts")).toBe("true");
    expect(root.dataset).toMatchObject({ status: "none", preference: "" });
    expect(byTestId("pair-error").hidden).toBe(true);
  });

  test("the prompt and both answers render Markdown and math", () => {
    const { byTestId } = mount({ prompt: "Find **x**", answer_a: "So $x^2 = 4$", answer_b: "`x = 2`" });
    expect(byTestId("pair-prompt").querySelector("strong")?.textContent).toBe("x");
    expect(byTestId("answer-a-text").querySelector(".katex")).not.toBeNull();
    expect(byTestId("answer-b-text").querySelector("code")?.textContent).toBe("x = 2");
  });

  test("hostile HTML in the prompt or an answer stays text", () => {
    const attack = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>';
    const { el, byTestId } = mount({ prompt: attack, answer_a: attack, answer_b: "[x](javascript:alert(1))" });
    expect(el.querySelector("img, script")).toBeNull();
    expect(el.querySelector("a")).toBeNull();
    expect(byTestId("pair-prompt").textContent?.trim()).toBe(attack);
    expect(byTestId("answer-a-text").textContent?.trim()).toBe(attack);
    expect(byTestId("answer-b-text").textContent).toContain("javascript:alert(1)");
    expect((window as { pwned?: number }).pwned).toBeUndefined();
  });

  test("a saved preference from Python shows as saved", () => {
    const { state, byTestId } = mount({ preference: "b", strength: 2 });
    expect(state()).toEqual({ status: "saved", preference: "b", strength: "2" });
    expect(byTestId("pair-verdict").textContent).toBe("B is much better");
    expect(byTestId("pair-status").textContent).toBe("saved");
  });

  test("Python's changes redraw in place, keeping focus on the widget", () => {
    const { model, root, byTestId, state } = mount();
    root.focus();
    const answerNode = byTestId("answer-a-text");
    model.kernelSet("answer_a", "a *new* answer");
    model.kernelSet("preference", "tie");
    expect(document.activeElement).toBe(root);
    expect(byTestId("answer-a-text")).toBe(answerNode);
    expect(answerNode.querySelector("em")?.textContent).toBe("new");
    expect(state()).toEqual({ status: "saved", preference: "tie", strength: "" });
    expect(byTestId("pair-verdict").textContent).toBe("Tie");
  });
});

describe("keys", () => {
  test.each([
    ["a", "a", 1, {}],
    ["1", "a", 1, {}],
    ["A", "a", 2, { shiftKey: true }],
    ["b", "b", 1, {}],
    ["2", "b", 1, {}],
    ["B", "b", 2, { shiftKey: true }],
    ["t", "tie", null, {}],
    ["3", "tie", null, {}],
    ["T", "tie", null, { shiftKey: true }],
  ] as [string, string, number | null, KeyboardEventInit][])(
    "%s sends %s, strength %s",
    (key, preference, strength, init) => {
      const { root, sent } = mount();
      const ev = press(root, key, init);
      expect(ev.defaultPrevented).toBe(true);
      expect(sent()).toEqual([
        {
          kind: "preference",
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          comparison: "cmp-1",
          preference,
          strength,
          t_client: expect.any(Number),
          duration_ms: expect.any(Number),
        },
      ]);
    },
  );

  test("keys on the page or a sibling do nothing; on the widget they act", () => {
    const { model, root, el } = mount();
    const sibling = document.createElement("div");
    sibling.tabIndex = 0;
    el.after(sibling);
    for (const target of [document.body, sibling]) for (const key of ["a", "B", "t", "1"]) press(target, key);
    expect(model.sent).toEqual([]);
    press(root, "a");
    expect(model.sent).toHaveLength(1);
  });

  test("handled keys stop at the widget; unhandled keys and chords bubble on untouched", () => {
    const { root, el } = mount();
    const bubbled: string[] = [];
    el.addEventListener("keydown", (ev) => bubbled.push(ev.key));
    const handled = ["a", "B", "t", "2"].map((key) => press(root, key));
    const unhandled = press(root, "x");
    const chord = press(root, "a", { ctrlKey: true });
    const shiftedDigit = press(root, "!", { shiftKey: true });
    expect(bubbled).toEqual(["x", "a", "!"]);
    expect(handled.every((ev) => ev.defaultPrevented)).toBe(true);
    expect([unhandled, chord, shiftedDigit].some((ev) => ev.defaultPrevented)).toBe(false);
  });

  test("the buttons choose too and focus the widget", () => {
    const { byTestId, root, sent } = mount();
    for (const id of ["choose-a-2", "choose-a-1", "choose-tie", "choose-b-1", "choose-b-2"]) byTestId(id).click();
    expect(sent().map((e) => [e.preference, e.strength])).toEqual([
      ["a", 2],
      ["a", 1],
      ["tie", null],
      ["b", 1],
      ["b", 2],
    ]);
    expect(document.activeElement).toBe(root);
  });
});

describe("saving", () => {
  test("a preference is pending until acked, then saved", () => {
    const { model, root, sent, state, byTestId } = mount();
    press(root, "B", { shiftKey: true });
    expect(state()).toEqual({ status: "pending", preference: "b", strength: "2" });
    expect(byTestId("pair-status").textContent).toBe("saving…");
    expect(byTestId("pair-verdict").textContent).toBe("B is much better");
    expect(model.viewSets).toEqual([]);
    model.kernelSet("preference", "b");
    model.kernelSet("strength", 2);
    expect(state().status).toBe("pending");
    model.emit("msg:custom", ack(sent()[0].id), []);
    expect(state()).toEqual({ status: "saved", preference: "b", strength: "2" });
    expect(byTestId("pair-status").textContent).toBe("saved");
  });

  test("an ack that arrives before Python's traits still shows the new preference as saved", () => {
    const { model, root, sent, state } = mount({ preference: "a", strength: 1 });
    press(root, "t");
    model.emit("msg:custom", ack(sent()[0].id), []);
    expect(state()).toEqual({ status: "saved", preference: "tie", strength: "" });
    model.kernelSet("preference", "tie");
    model.kernelSet("strength", null);
    expect(state()).toEqual({ status: "saved", preference: "tie", strength: "" });
  });

  test("once saved, Python's traits decide what shows (another view of the widget may change them)", () => {
    const { model, root, sent, state } = mount();
    press(root, "a");
    model.emit("msg:custom", ack(sent()[0].id), []);
    model.kernelSet("preference", "b");
    expect(state()).toEqual({ status: "saved", preference: "b", strength: "" });
    model.kernelSet("strength", 1);
    expect(state()).toEqual({ status: "saved", preference: "b", strength: "1" });
  });

  test("a newer preference stays pending when an older one is acked", () => {
    const { model, root, sent, state } = mount();
    press(root, "a");
    press(root, "b");
    const [older, newer] = sent();
    model.emit("msg:custom", ack(older.id), []);
    expect(state()).toEqual({ status: "pending", preference: "b", strength: "1" });
    model.emit("msg:custom", ack(newer.id), []);
    expect(state()).toEqual({ status: "saved", preference: "b", strength: "1" });
  });

  test("an ack with an unknown id, or another message, changes nothing", () => {
    const { model, root, el, sent } = mount();
    press(root, "a");
    const before = el.innerHTML;
    model.emit("msg:custom", ack("00000000-0000-4000-8000-000000000000"), []);
    model.emit("msg:custom", { kind: "progress", id: sent()[0].id }, []);
    expect(el.innerHTML).toBe(before);
  });

  test("an error is shown inline and the saved preference stays shown", () => {
    const { model, root, sent, state, byTestId } = mount({ preference: "a", strength: 1 });
    press(root, "b");
    model.emit("msg:custom", { kind: "error", id: sent()[0].id, message: "not saved: store is read-only" }, []);
    expect(state()).toEqual({ status: "error", preference: "a", strength: "1" });
    const error = byTestId("pair-error");
    expect(error.textContent).toBe("not saved: store is read-only");
    expect(error.hidden).toBe(false);
    expect(byTestId("pair-status").textContent).toBe("not saved");
    // The next preference clears the error once it is saved.
    press(root, "t");
    expect(error.hidden).toBe(true);
    model.emit("msg:custom", ack(sent()[1].id), []);
    expect(state()).toEqual({ status: "saved", preference: "tie", strength: "" });
  });

  test("a new comparison drops what this view knew about the old one", () => {
    const { model, root, sent, state } = mount();
    press(root, "a");
    model.kernelSet("comparison_id", "cmp-2");
    expect(state()).toEqual({ status: "none", preference: "", strength: "" });
    model.emit("msg:custom", ack(sent()[0].id), []);
    expect(state().status).toBe("none");
    press(root, "b");
    expect(sent()[1].comparison).toBe("cmp-2");
  });
});

describe("direct commits", () => {
  const CONTEXT = '{"widget":"pair","comparison":"cmp-1"}';
  beforeEach(openJupyterPage);
  afterEach(() => {
    for (const cleanup of mounted.splice(0)) cleanup();
    closeJupyterPage();
  });

  test("once the server accepts the context, a preference is committed there, then the kernel is told", async () => {
    const { model, root, state } = mount({ _direct: { context: CONTEXT, signature: "sig" } });
    const socket = accept();
    expect(socket.offered()).toEqual(["sig"]);
    press(root, "a");
    expect(model.sent).toEqual([]);
    const [event] = socket.events();
    expect(event).toMatchObject({ kind: "preference", comparison: "cmp-1", preference: "a", strength: 1, context: "sig" });
    expect(state().status).toBe("pending");
    socket.reply({ kind: "ack", id: event.id });
    expect(state()).toEqual({ status: "saved", preference: "a", strength: "1" });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(model.sent).toEqual([{ kind: "committed", id: expect.any(String), preferences: 1 }]);
  });

  test("before the server accepts it, or after it refuses it, preferences go through the kernel", () => {
    const { sent, root } = mount({ _direct: { context: CONTEXT, signature: "sig" } });
    press(root, "b");
    expect(sent()).toHaveLength(1);
    accept().reply({ kind: "refused", signature: "sig", message: "no kernel of this server signed this context" });
    press(root, "t");
    expect(sent().map((event) => event.preference)).toEqual(["b", "tie"]);
    expect(sockets[0].events()).toEqual([]);
  });

  test("an error from the server shows inline and the kernel is not told", async () => {
    const { model, root, state, byTestId } = mount({ _direct: { context: CONTEXT, signature: "sig" } });
    const socket = accept();
    press(root, "a");
    socket.reply({ kind: "error", id: socket.events()[0].id, message: "not saved: database is locked" });
    expect(state().status).toBe("error");
    expect(byTestId("pair-error").textContent).toBe("not saved: database is locked");
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(model.sent).toEqual([]);
  });

  test("a preference the kernel re-read before a direct commit does not hide it", async () => {
    const { model, root, state } = mount({ _direct: { context: CONTEXT, signature: "sig" } });
    const socket = accept();
    press(root, "a");
    socket.reply({ kind: "ack", id: socket.events()[0].id });
    await new Promise((resolve) => setTimeout(resolve, 0));
    press(root, "b");
    socket.reply({ kind: "ack", id: socket.events()[1].id });
    const [first] = model.sent as { id: string }[];
    // The kernel's answer to the first message, re-read before "b" was committed.
    model.kernelSet("preference", "a");
    model.kernelSet("strength", 1);
    model.emit("msg:custom", { kind: "ack", id: first.id }, []);
    expect(state()).toEqual({ status: "saved", preference: "b", strength: "1" });
    await new Promise((resolve) => setTimeout(resolve, 0));
    const [, second] = model.sent as { id: string }[];
    model.kernelSet("preference", "b");
    model.emit("msg:custom", { kind: "ack", id: second.id }, []);
    // Told: the local copy is gone, so what Python holds next is what shows.
    model.kernelSet("preference", "tie");
    expect(state()).toEqual({ status: "saved", preference: "tie", strength: "1" });
  });

  test("cleanup gives the context up, closing the page's socket", () => {
    const { cleanup } = mount({ _direct: { context: CONTEXT, signature: "sig" } });
    accept();
    cleanup();
    expect(sockets[0].closeCalls).toBe(1);
  });
});

describe("time on task", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  test("duration_ms counts from render to the first preference, then between preferences", () => {
    const { root, sent } = mount();
    vi.advanceTimersByTime(4200);
    press(root, "a");
    vi.advanceTimersByTime(1500);
    press(root, "b");
    expect(sent().map((e) => e.duration_ms)).toEqual([4200, 1500]);
    expect(sent()[1].t_client - sent()[0].t_client).toBeCloseTo(1500, 0);
  });

  test("a new comparison restarts the clock", () => {
    const { model, root, sent } = mount();
    vi.advanceTimersByTime(9000);
    model.kernelSet("comparison_id", "cmp-2");
    vi.advanceTimersByTime(700);
    press(root, "t");
    expect(sent()[0].duration_ms).toBe(700);
  });
});

describe("retries", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  test("without an ack the same event is re-sent, then reported not saved until a late ack", () => {
    const { model, root, sent, state, byTestId } = mount();
    press(root, "a");
    vi.advanceTimersByTime(ACK_TIMEOUT_MS * MAX_RESENDS);
    expect(sent()).toHaveLength(1 + MAX_RESENDS);
    expect(new Set(sent().map((e) => JSON.stringify(e))).size).toBe(1);
    expect(state().status).toBe("pending");
    vi.advanceTimersByTime(ACK_TIMEOUT_MS);
    expect(state()).toEqual({ status: "error", preference: "", strength: "" });
    expect(byTestId("pair-error").textContent).toBe(NO_REPLY_MESSAGE);
    expect(vi.getTimerCount()).toBe(0);
    model.emit("msg:custom", ack(sent()[0].id), []);
    expect(state()).toEqual({ status: "saved", preference: "a", strength: "1" });
    expect(byTestId("pair-error").hidden).toBe(true);
  });
});

describe("cleanup", () => {
  test("removes every listener and timer; the widget no longer reacts", () => {
    vi.useFakeTimers();
    const { model, root, byTestId, cleanup, sent } = mount();
    press(root, "a");
    expect(model.listenerCount()).toBeGreaterThan(0);
    expect(vi.getTimerCount()).toBe(1);
    cleanup();
    expect(model.listenerCount()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    const ev = press(root, "b");
    byTestId("choose-tie").click();
    expect(ev.defaultPrevented).toBe(false);
    expect(sent()).toHaveLength(1);
  });
});
