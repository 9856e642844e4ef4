import { afterEach, describe, expect, test, vi } from "vitest";
import type { LabelEvent } from "../types";
import { type Mounted, mount, press, unmountAll } from "./steps_mount";

/** What the keys do (lib/actions.ts) beyond rating: flags, alternatives, help, time on task. */

afterEach(unmountAll);

describe("PRM800K labeling", () => {
  const ack = (model: Mounted["model"], event: LabelEvent) =>
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
