import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { CURSOR_SYNC_MS } from "../lib/cursor";
import { directChannel } from "../lib/direct";
import { ACK_TIMEOUT_MS, KERNEL_GONE_MESSAGE, MAX_RESENDS, NO_REPLY_MESSAGE } from "../lib/protocol";
import { DRAW_HOLD_MS, KernelRequests, LabelRoute } from "../lib/route";
import type { StepLabelerTraits } from "../types";
import { createFakeModel } from "./fake_model";
import { accept, closeJupyterPage, liveSocket, openJupyterPage, sockets } from "./jupyter_page";
import { type Mounted, mount, press, rowState, unmountAll } from "./steps_mount";

/** The route a label takes (lib/route.ts): resends, direct commits, and a kernel that is gone. */

afterEach(unmountAll);

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
    unmountAll();
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

describe("when the kernel is gone", () => {
  /** JupyterLab's comm once its kernel is gone: every send throws. */
  function killKernel(model: Mounted["model"]) {
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

describe("LabelRoute", () => {
  interface Event {
    id: string;
    value: number;
  }
  type Traits = { _direct: { context?: string; signature?: string } };

  beforeEach(() => {
    vi.useFakeTimers();
    openJupyterPage();
  });
  afterEach(closeJupyterPage);

  /** A route over a fake model, recording what its hooks hear, in order. */
  function makeRoute(options: { direct?: boolean; holdDraws?: boolean } = {}) {
    const model = createFakeModel<Traits>({ _direct: options.direct ? { context: "{}", signature: "sig" } : {} });
    const heard: unknown[] = [];
    let route: LabelRoute<Event> | null = null;
    route = new LabelRoute<Event>(
      model,
      {
        onAck: (event, told) => heard.push(["ack", event.id, told, route?.holding]),
        onError: (event, message) => heard.push(["error", event.id, message]),
        onTold: (events) => heard.push(["told", events.map((event) => event.id)]),
        onKernelGone: () => heard.push(["kernel gone"]),
        committed: (events) => ({ values: events.map((event) => event.value) }),
        onRelease: () => heard.push(["release", route?.holding]),
      },
      { holdDraws: options.holdDraws },
    );
    return { model, route, heard };
  }

  test("without the server's word an event goes to the kernel, and its ack is told at once", () => {
    const { model, route, heard } = makeRoute({ holdDraws: true });
    route.send({ id: "e1", value: 1 });
    expect(model.sent).toEqual([{ id: "e1", value: 1 }]);
    expect(route.holding).toBe(false);
    model.emit("msg:custom", { kind: "ack", id: "e1" }, []);
    expect(heard).toEqual([["ack", "e1", true, false]]);
  });

  test("sent directly, an event holds drawing until its ack; the kernel is told after, and says when its traits show it", () => {
    const { model, route, heard } = makeRoute({ direct: true, holdDraws: true });
    const socket = accept();
    route.send({ id: "e1", value: 1 });
    expect(model.sent).toEqual([]);
    expect(socket.events()).toEqual([{ id: "e1", value: 1, context: "sig" }]);
    expect(route.holding).toBe(true);
    socket.reply({ kind: "ack", id: "e1" });
    // The ack is heard while drawing is still held, so that it is drawn with the key press.
    expect(heard).toEqual([
      ["ack", "e1", false, true],
      ["release", false],
    ]);
    vi.advanceTimersByTime(0);
    const [committed] = model.sent as { kind: string; id: string; values: number[] }[];
    expect(committed).toMatchObject({ kind: "committed", values: [1] });
    model.emit("msg:custom", { kind: "ack", id: committed.id }, []);
    expect(heard.at(-1)).toEqual(["told", ["e1"]]);
  });

  test("a held draw goes after DRAW_HOLD_MS without an ack, once", () => {
    const { route, heard } = makeRoute({ direct: true, holdDraws: true });
    accept();
    route.send({ id: "e1", value: 1 });
    route.send({ id: "e2", value: 2 });
    vi.advanceTimersByTime(DRAW_HOLD_MS - 1);
    expect(heard).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(heard).toEqual([["release", false]]);
    expect(route.holding).toBe(false);
  });

  test("without holdDraws nothing is held", () => {
    const { route, heard } = makeRoute({ direct: true });
    const socket = accept();
    route.send({ id: "e1", value: 1 });
    expect(route.holding).toBe(false);
    socket.reply({ kind: "error", id: "e1", message: "not saved: read-only" });
    expect(heard).toEqual([["error", "e1", "not saved: read-only"]]);
  });

  test("an event the kernel cannot take is not saved, and says the kernel is gone", () => {
    const { model, route, heard } = makeRoute();
    model.send = () => {
      throw new Error("Cannot send");
    };
    route.send({ id: "e1", value: 1 });
    expect(heard).toEqual([["kernel gone"], ["error", "e1", KERNEL_GONE_MESSAGE]]);
  });

  test("dispose stops listening, resending and holding", () => {
    const { model, route } = makeRoute({ direct: true, holdDraws: true });
    accept();
    route.send({ id: "e1", value: 1 });
    route.dispose();
    expect(model.listenerCount()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(route.holding).toBe(false);
  });
});

describe("KernelRequests", () => {
  test("a request goes to the kernel until answered, and its answer is matched to it", () => {
    vi.useFakeTimers();
    const model = createFakeModel<{ _direct: object }>({ _direct: {} });
    const replies: unknown[] = [];
    const requests = new KernelRequests<{ kind: string; id: string }>(model, {
      onReply: (event, outcome) => replies.push([event.id, outcome]),
      onKernelGone: () => replies.push("kernel gone"),
    });
    requests.send({ kind: "goto", id: "r1" });
    vi.advanceTimersByTime(ACK_TIMEOUT_MS);
    expect(model.sent).toEqual([{ kind: "goto", id: "r1" }, { kind: "goto", id: "r1" }]);
    model.emit("msg:custom", { kind: "error", id: "r1", message: "no such item" }, []);
    expect(replies).toEqual([["r1", { ok: false, message: "no such item" }]]);
    requests.dispose();
    expect(model.listenerCount()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
