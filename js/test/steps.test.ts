import { afterEach, describe, expect, test, vi } from "vitest";
import { mount, press, rowState, unmountAll } from "./steps_mount";

/** The step labeler as a whole: what it draws, which keys it takes, how it redraws, and its cleanup. */

afterEach(unmountAll);

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
