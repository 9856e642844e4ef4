import { afterEach, describe, expect, test, vi } from "vitest";
import { BLOCK_ROWS } from "../lib/rows";
import { mount, unmountAll } from "./steps_mount";

/** The rows (lib/rows.ts): built a block at a time as they near the screen, the cursor kept on it, a bounded height. */

afterEach(unmountAll);

describe("the cursor's row", () => {
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
