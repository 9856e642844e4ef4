import { afterEach, describe, expect, test, vi } from "vitest";
import { CURSOR_SYNC_MS } from "../lib/cursor";
import { mount, press, unmountAll } from "./steps_mount";

/** The cursor (lib/cursor.ts): moved at once, sent to Python once the keys pause. */

afterEach(unmountAll);

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
