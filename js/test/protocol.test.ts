import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import {
  ACK_TIMEOUT_MS,
  KERNEL_GONE_MESSAGE,
  makeLabelEvent,
  MAX_RESENDS,
  newEventId,
  NO_REPLY_MESSAGE,
  Outbox,
  type Outcome,
  parseReply,
  trySend,
} from "../lib/protocol";
import type { LabelEvent } from "../types";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("events", () => {
  test("a label event carries the item, step, value and a fresh uuid", () => {
    const before = performance.timeOrigin + performance.now();
    const event = makeLabelEvent({ kind: "label", item: "item-7", step: 2, alt: 0, label: "rating", value: -1, duration_ms: 0 });
    const after = performance.timeOrigin + performance.now();
    expect(event).toMatchObject({ kind: "label", item: "item-7", step: 2, alt: 0, value: -1 });
    expect(event.id).toMatch(UUID_V4);
    expect(event.t_client).toBeGreaterThanOrEqual(before);
    expect(event.t_client).toBeLessThanOrEqual(after);
    expect(makeLabelEvent({ kind: "label", item: "item-7", step: 2, alt: 0, label: "rating", value: -1, duration_ms: 0 }).id).not.toBe(event.id);
  });

  test("ids are still uuids where crypto.randomUUID is missing (plain http)", () => {
    const realCrypto = globalThis.crypto;
    vi.stubGlobal("crypto", { getRandomValues: (a: Uint8Array) => realCrypto.getRandomValues(a) });
    try {
      const ids = new Set(Array.from({ length: 50 }, newEventId));
      expect(ids.size).toBe(50);
      for (const id of ids) expect(id).toMatch(UUID_V4);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe("parseReply", () => {
  test.each([
    [{ kind: "ack", id: "a" }, { kind: "ack", id: "a" }],
    [{ kind: "error", id: "a", message: "store is read-only" }, { kind: "error", id: "a", message: "store is read-only" }],
    [{ kind: "error", id: "a" }, { kind: "error", id: "a", message: "not saved: rejected by the kernel" }],
  ])("%o is a reply", (msg, reply) => {
    expect(parseReply(msg)).toEqual(reply);
  });

  test.each([null, "ack", 3, {}, { kind: "ack" }, { kind: "ack", id: 5 }, { kind: "label", id: "a" }, { kind: "progress", id: "a" }])(
    "%o is not a reply",
    (msg) => {
      expect(parseReply(msg)).toBeNull();
    },
  );
});

describe("Outbox", () => {
  let sent: LabelEvent[];
  let settled: [LabelEvent, Outcome][];
  let outbox: Outbox;

  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    settled = [];
    outbox = new Outbox({ send: (e) => sent.push(e), settle: (e, o) => settled.push([e, o]) });
  });
  afterEach(() => {
    outbox.dispose();
    vi.useRealTimers();
  });

  test("an ack settles the event once and stops the resends", () => {
    const event = makeLabelEvent({ kind: "label", item: "item", step: 0, alt: 0, label: "rating", value: 1, duration_ms: 0 });
    outbox.submit(event);
    expect(sent).toEqual([event]);
    outbox.receive({ kind: "ack", id: event.id });
    outbox.receive({ kind: "ack", id: event.id });
    expect(settled).toEqual([[event, { ok: true }]]);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10 * ACK_TIMEOUT_MS);
    expect(sent).toHaveLength(1);
  });

  test("an event whose send throws (the kernel is gone) is settled as not saved at once, never re-sent", () => {
    const unsent: LabelEvent[] = [];
    const gone = new Outbox({
      send: () => {
        throw new Error("Cannot send");
      },
      settle: (e, o) => settled.push([e, o]),
      unsent: (e) => unsent.push(e),
    });
    const event = makeLabelEvent({ kind: "label", item: "item", step: 0, alt: 0, label: "rating", value: 1, duration_ms: 0 });
    gone.submit(event);
    expect(unsent).toEqual([event]);
    expect(settled).toEqual([[event, { ok: false, message: KERNEL_GONE_MESSAGE }]]);
    expect(vi.getTimerCount()).toBe(0);
  });

  test("a resend that throws settles the event then", () => {
    let fail = false;
    const flaky = new Outbox({
      send: (e) => {
        if (fail) throw new Error("Cannot send");
        sent.push(e);
      },
      settle: (e, o) => settled.push([e, o]),
    });
    const event = makeLabelEvent({ kind: "label", item: "item", step: 0, alt: 0, label: "rating", value: 1, duration_ms: 0 });
    flaky.submit(event);
    fail = true;
    vi.advanceTimersByTime(ACK_TIMEOUT_MS);
    expect(settled).toEqual([[event, { ok: false, message: KERNEL_GONE_MESSAGE }]]);
    expect(vi.getTimerCount()).toBe(0);
  });

  test("trySend says whether a send went", () => {
    expect(trySend(() => {})).toBe(true);
    expect(
      trySend(() => {
        throw new Error("Cannot send");
      }),
    ).toBe(false);
  });

  test("an error settles the event with the kernel's message", () => {
    const event = makeLabelEvent({ kind: "label", item: "item", step: 0, alt: 0, label: "rating", value: 1, duration_ms: 0 });
    outbox.submit(event);
    outbox.receive({ kind: "error", id: event.id, message: "unknown item" });
    expect(settled).toEqual([[event, { ok: false, message: "unknown item" }]]);
    expect(vi.getTimerCount()).toBe(0);
  });

  test("replies for unknown ids and other kinds are ignored", () => {
    const event = makeLabelEvent({ kind: "label", item: "item", step: 0, alt: 0, label: "rating", value: 1, duration_ms: 0 });
    outbox.submit(event);
    outbox.receive({ kind: "ack", id: "someone-else" });
    outbox.receive({ kind: "progress", id: event.id });
    outbox.receive("ack");
    expect(settled).toEqual([]);
    expect(vi.getTimerCount()).toBe(1);
  });

  test("an unanswered event is re-sent unchanged, then reported as not saved", () => {
    const event = makeLabelEvent({ kind: "label", item: "item", step: 0, alt: 0, label: "rating", value: 1, duration_ms: 0 });
    outbox.submit(event);
    for (let resend = 1; resend <= MAX_RESENDS; resend++) {
      vi.advanceTimersByTime(ACK_TIMEOUT_MS - 1);
      expect(sent).toHaveLength(resend);
      vi.advanceTimersByTime(1);
      expect(sent).toHaveLength(resend + 1);
    }
    expect(sent.every((e) => e === event)).toBe(true);
    expect(settled).toEqual([]);
    vi.advanceTimersByTime(ACK_TIMEOUT_MS);
    expect(settled).toEqual([[event, { ok: false, message: NO_REPLY_MESSAGE }]]);
    expect(sent).toHaveLength(1 + MAX_RESENDS);
    expect(vi.getTimerCount()).toBe(0);
  });

  test("a late ack after giving up still settles the event as saved", () => {
    const event = makeLabelEvent({ kind: "label", item: "item", step: 0, alt: 0, label: "rating", value: 1, duration_ms: 0 });
    outbox.submit(event);
    vi.advanceTimersByTime((MAX_RESENDS + 1) * ACK_TIMEOUT_MS);
    outbox.receive({ kind: "ack", id: event.id });
    expect(settled.map(([, outcome]) => outcome)).toEqual([{ ok: false, message: NO_REPLY_MESSAGE }, { ok: true }]);
  });

  test("dispose clears every timer and ignores later replies", () => {
    const first = makeLabelEvent({ kind: "label", item: "item", step: 0, alt: 0, label: "rating", value: 1, duration_ms: 0 });
    const second = makeLabelEvent({ kind: "label", item: "item", step: 1, alt: 0, label: "rating", value: 0, duration_ms: 0 });
    outbox.submit(first);
    outbox.submit(second);
    expect(vi.getTimerCount()).toBe(2);
    outbox.dispose();
    expect(vi.getTimerCount()).toBe(0);
    outbox.receive({ kind: "ack", id: first.id });
    vi.advanceTimersByTime(10 * ACK_TIMEOUT_MS);
    expect(settled).toEqual([]);
    expect(sent).toHaveLength(2);
  });
});
