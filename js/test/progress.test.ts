import { afterEach, describe, expect, test, vi } from "vitest";
import { CURSOR_SYNC_MS } from "../lib/cursor";
import { mount, press, unmountAll } from "./steps_mount";

/** The queue's progress bar and N / P (lib/progress.ts). */

afterEach(unmountAll);

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
