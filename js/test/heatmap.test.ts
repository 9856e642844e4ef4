import { afterEach, describe, expect, it, vi } from "vitest";
import {
  CHUNK_TOKENS,
  divergingColor,
  formatScore,
  mountHeatmap,
  type ObserverFactory,
  captionText,
  renderTokens,
  type Scale,
  scaleFor,
} from "../lib/heatmap";

const RED = "214, 96, 77";
const BLUE = "67, 147, 195";
const SCALE: Scale = { center: 0, halfRange: 2, label: "logprob" };

function parts(color: string): { rgb: string; alpha: number } {
  const match = /^rgba\((\d+, \d+, \d+), ([\d.]+)\)$/.exec(color);
  if (match === null) throw new Error(`not an rgba colour: ${color}`);
  return { rgb: match[1], alpha: Number(match[2]) };
}

describe("divergingColor", () => {
  it("is transparent at the center, so the theme's background shows", () => {
    expect(divergingColor(0, SCALE)).toBe("transparent");
    expect(divergingColor(-0.69, { center: -0.69, halfRange: 3 })).toBe("transparent");
  });

  it("saturates at center ± halfRange and beyond: red below, blue above", () => {
    expect(divergingColor(-2, SCALE)).toBe(`rgba(${RED}, 0.6)`);
    expect(divergingColor(-50, SCALE)).toBe(`rgba(${RED}, 0.6)`);
    expect(divergingColor(2, SCALE)).toBe(`rgba(${BLUE}, 0.6)`);
    expect(divergingColor(Infinity, SCALE)).toBe(`rgba(${BLUE}, 0.6)`);
    expect(divergingColor(-1, SCALE)).toBe(`rgba(${RED}, 0.3)`);
  });

  it("is symmetric: equal distances get equal strength and opposite hues", () => {
    for (const d of [0.1, 0.5, 1.3, 2, 7]) {
      const below = parts(divergingColor(-d, SCALE));
      const above = parts(divergingColor(d, SCALE));
      expect(below.alpha).toBe(above.alpha);
      expect(below.rgb).toBe(RED);
      expect(above.rgb).toBe(BLUE);
    }
  });

  it("puts red above the center when high values are the worrying ones", () => {
    const entropy: Scale = { center: 1, halfRange: 1, highIsBad: true };
    expect(divergingColor(2, entropy)).toBe(`rgba(${RED}, 0.6)`);
    expect(divergingColor(0, entropy)).toBe(`rgba(${BLUE}, 0.6)`);
  });

  it("never yields NaN, whatever the value or scale", () => {
    const scales: Scale[] = [SCALE, { center: 0, halfRange: 0 }, { center: 0, halfRange: NaN }, { center: 1, halfRange: -1 }];
    for (const scale of scales) {
      for (const value of [NaN, -Infinity, -1e30, -1, 0, 1e-9, 1, 1e30, Infinity]) {
        expect(divergingColor(value, scale)).not.toMatch(/NaN|Infinity/);
      }
    }
    expect(divergingColor(NaN, SCALE)).toBe("transparent");
    // A zero half-range (all scores equal) still tells the sides apart.
    expect(divergingColor(1, { center: 0, halfRange: 0 })).toBe(`rgba(${BLUE}, 0.6)`);
  });
});

describe("scaleFor", () => {
  it("centres log-probs at ln 0.5 with the 95th percentile distance as half-range", () => {
    // Distances from ln 0.5 sorted: 0.307, 0.693, 0.693, 2.307, 9.307; 95th percentile 2.307 + 0.8·7.
    const scale = scaleFor(new Float32Array([0, 0, -1, -3, -10]), "logprob");
    expect(scale.center).toBeCloseTo(-0.693147, 6);
    expect(scale.halfRange).toBeCloseTo(7.906853, 5);
    expect(scale.highIsBad).toBeFalsy();
    expect(scale.label).toBe("logprob");
  });

  it("centres entropy at the median, with high entropy the worrying end", () => {
    // Median 1; distances 1, 0.5, 0, 1, 3 sorted 0, 0.5, 1, 1, 3: 95th percentile 1 + 0.8·2.
    const scale = scaleFor(new Float32Array([0, 0.5, 1, 2, 4]), "entropy");
    expect(scale).toMatchObject({ center: 1, highIsBad: true, label: "entropy" });
    expect(scale.halfRange).toBeCloseTo(2.6, 10);
  });

  it("centres probabilities at 0.5 with half-range 0.5", () => {
    expect(scaleFor(new Float32Array([0, 0.25, 1]), "score")).toEqual({ center: 0.5, halfRange: 0.5, label: "score" });
  });

  it("centres scores outside [0, 1] at 0", () => {
    // |x| sorted 0.5, 1, 2, 4: 95th percentile 2 + 0.85·2.
    const scale = scaleFor(new Float32Array([-1, 0.5, 2, -4]), "score");
    expect(scale.center).toBe(0);
    expect(scale.halfRange).toBeCloseTo(3.7, 6);
  });

  it("keeps a usable half-range when all scores are equal, empty or NaN", () => {
    expect(scaleFor(new Float32Array([0.3, 0.3]), "entropy")).toEqual({ center: 0.30000001192092896, halfRange: 1, highIsBad: true, label: "entropy" });
    expect(scaleFor(new Float32Array([]), "logprob").halfRange).toBe(1);
    expect(scaleFor(new Float32Array([NaN, -1]), "logprob").halfRange).toBeCloseTo(0.306853, 5);
  });
});

describe("formatScore", () => {
  it("writes two decimals with a true minus sign", () => {
    expect(formatScore(-2.3125)).toBe("\u22122.31");
    expect(formatScore(0)).toBe("0.00");
    expect(formatScore(0.0012)).toBe("1.20e\u22123");
  });
});

describe("renderTokens", () => {
  const tokens = ["The", " answer", " is", " 4", "."];
  const scores = new Float32Array([-0.01, -2.3125, -0.5, -6, 0]);

  it("makes one span per token in the range, with the exact text and the score on hover", () => {
    const el = document.createElement("div");
    renderTokens(el, tokens, scores, 1, 4, SCALE);
    const spans = [...el.querySelectorAll<HTMLElement>("span.lw-tok")];
    expect(spans).toHaveLength(3);
    expect(spans.map((s) => s.textContent)).toEqual([" answer", " is", " 4"]);
    expect(spans.map((s) => s.dataset.i)).toEqual(["1", "2", "3"]);
    expect(spans[0].title).toBe("logprob \u22122.31 (p 0.10)");
    expect(spans[2].title).toBe("logprob \u22126.00 (p 2.48e\u22123)");
    expect(spans[2].style.backgroundColor).toBe(`rgba(${RED}, 0.6)`);
    expect(el.textContent).toBe(" answer is 4");
  });

  it("replaces what the container held", () => {
    const el = document.createElement("div");
    el.textContent = "placeholder";
    renderTokens(el, tokens, scores, 0, 2, SCALE);
    expect(el.textContent).toBe("The answer");
  });

  it("names the kind in the title", () => {
    const el = document.createElement("div");
    renderTokens(el, ["a"], new Float32Array([0.75]), 0, 1, scaleFor(new Float32Array([0.75]), "score"));
    expect(el.querySelector<HTMLElement>(".lw-tok")?.title).toBe("score 0.75");
  });

  it("keeps hostile token text as text", () => {
    const hostile = ['<img src=x onerror="alert(1)">', "<script>alert(2)</script>", "&amp;"];
    const el = document.createElement("div");
    renderTokens(el, hostile, new Float32Array([0, 0, 0]), 0, 3, SCALE);
    expect(el.querySelector("img, script")).toBeNull();
    expect([...el.querySelectorAll(".lw-tok")].map((s) => s.textContent)).toEqual(hostile);
  });

  it("marks newlines with ↵ while the text stays exact", () => {
    const el = document.createElement("div");
    renderTokens(el, ["a\n\nb", " ", "\n"], new Float32Array([0, 0, 0]), 0, 3, SCALE);
    const spans = [...el.querySelectorAll(".lw-tok")];
    expect(spans.map((s) => s.textContent)).toEqual(["a\n\nb", " ", "\n"]);
    expect(spans.map((s) => s.querySelectorAll(".lw-tok__nl").length)).toEqual([2, 0, 1]);
  });
});

/** An observer the test drives: `show` reports elements as scrolled into view. */
function fakeObserver() {
  const observed = new Set<Element>();
  let report: Parameters<ObserverFactory>[0] = () => {};
  const state = { observed, disconnected: false, created: 0 };
  const factory: ObserverFactory = (onChange) => {
    report = onChange;
    state.created++;
    return {
      observe: (el) => observed.add(el),
      unobserve: (el) => observed.delete(el),
      disconnect: () => {
        observed.clear();
        state.disconnected = true;
      },
    };
  };
  const show = (...targets: Element[]) => report(targets.map((target) => ({ target, isIntersecting: true })));
  const hide = (...targets: Element[]) => report(targets.map((target) => ({ target, isIntersecting: false })));
  return { factory, state, show, hide };
}

const stepsText = (el: Element) => [...el.querySelectorAll(".lw-heatmap__step")].map((s) => s.textContent).join("");
const chunksOf = (el: Element, step: number) => [...el.querySelectorAll(`[data-step="${step}"] .lw-heatmap__chunk`)];
const spanCount = (el: Element) => el.querySelectorAll(".lw-tok").length;

describe("mountHeatmap", () => {
  const tokens = ["1+1", "=2", ".", "\n", "So", " 2", "<b>x</b>"];
  const scores = new Float32Array([-0.1, -0.2, -3, -0.5, -1, -0.01, -2]);
  const stepTokenCounts = [3, 2, 2];

  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("renders only the steps reported visible, and more as they become visible", () => {
    const container = document.createElement("div");
    const fake = fakeObserver();
    mountHeatmap(container, { tokens, scores, stepTokenCounts, kind: "logprob", createObserver: fake.factory });
    expect(spanCount(container)).toBe(0);
    expect(fake.state.observed.size).toBe(3);
    // Unrendered steps hold their plain text, taking the room they will need.
    expect(stepsText(container)).toBe(tokens.join(""));
    // Until laid out, a step's height is estimated from its lines: "\nSo" is two.
    expect(chunksOf(container, 1)[0].parentElement?.style.getPropertyValue("contain-intrinsic-size")).toBe("auto 3.2em");

    fake.show(...chunksOf(container, 1));
    expect([...container.querySelectorAll(".lw-tok")].map((s) => s.textContent)).toEqual(["\n", "So"]);
    expect(fake.state.observed.size).toBe(2);

    fake.hide(...chunksOf(container, 2));
    expect(spanCount(container)).toBe(2);
    fake.show(...chunksOf(container, 2), ...chunksOf(container, 1));
    expect(spanCount(container)).toBe(4);
    expect(container.querySelector("b")).toBeNull();
    expect(container.querySelector('[data-i="6"]')?.textContent).toBe("<b>x</b>");
    expect(stepsText(container)).toBe(tokens.join(""));
  });

  it("hides and shows everything it added", () => {
    const container = document.createElement("div");
    const fake = fakeObserver();
    const heatmap = mountHeatmap(container, { tokens, scores, stepTokenCounts, kind: "logprob", createObserver: fake.factory });
    const root = container.querySelector<HTMLElement>(".lw-heatmap");
    heatmap.setVisible(false);
    expect(root?.hidden).toBe(true);
    heatmap.setVisible(true);
    expect(root?.hidden).toBe(false);
  });

  it("disposes: disconnects the observer and leaves no added nodes", () => {
    const container = document.createElement("div");
    container.innerHTML = "<p>existing</p>";
    const before = container.innerHTML;
    const fake = fakeObserver();
    const heatmap = mountHeatmap(container, { tokens, scores, stepTokenCounts, kind: "logprob", createObserver: fake.factory });
    fake.show(...chunksOf(container, 0));
    heatmap.dispose();
    expect(fake.state.disconnected).toBe(true);
    expect(container.innerHTML).toBe(before);
  });

  it("puts each step's tokens into the slot given for it", () => {
    const container = document.createElement("ol");
    const slots = stepTokenCounts.map(() => container.appendChild(document.createElement("li")));
    const fake = fakeObserver();
    const heatmap = mountHeatmap(container, { tokens, scores, stepTokenCounts, kind: "logprob", slots, createObserver: fake.factory });
    expect(slots.map((slot) => slot.textContent)).toEqual(["1+1=2.", "\nSo", " 2<b>x</b>"]);
    fake.show(...chunksOf(slots[2], 2));
    expect(spanCount(slots[2])).toBe(2);
    expect(spanCount(slots[0])).toBe(0);
    heatmap.setVisible(false);
    expect(slots.map((slot) => slot.querySelector<HTMLElement>(".lw-heatmap__step")?.hidden)).toEqual([true, true, true]);
    heatmap.dispose();
    expect(slots.map((slot) => slot.childNodes.length)).toEqual([0, 0, 0]);
    expect(container.querySelector(".lw-heatmap")).toBeNull();
  });

  it("waits for a step's slot, then colours its first chunk as soon as it is attached", () => {
    const container = document.createElement("ol");
    const late = document.createElement("li");
    const fake = fakeObserver();
    const slots = [container.appendChild(document.createElement("li")), undefined, undefined];
    const heatmap = mountHeatmap(container, { tokens, scores, stepTokenCounts, kind: "logprob", slots, createObserver: fake.factory });
    expect(spanCount(slots[0] as HTMLElement)).toBe(0);
    // Steps without a slot have no elements yet: nothing of theirs is made or observed.
    expect(fake.state.observed.size).toBe(chunksOf(container, 0).length);
    heatmap.setVisible(false);
    heatmap.attach(2, late);
    expect(late.textContent).toBe(" 2<b>x</b>");
    expect(spanCount(late)).toBe(2);
    expect(late.querySelector<HTMLElement>(".lw-heatmap__step")?.hidden).toBe(true); // made hidden, as the rest
    heatmap.attach(2, late);
    expect(late.childNodes).toHaveLength(1);
    heatmap.dispose();
    expect(late.childNodes).toHaveLength(0);
  });

  it("renders everything at once when there is no observer", () => {
    const container = document.createElement("div");
    mountHeatmap(container, { tokens, scores, stepTokenCounts, kind: "logprob", createObserver: null });
    expect(spanCount(container)).toBe(tokens.length);
  });

  it("uses an IntersectionObserver with a margin where there is one", () => {
    const observe = vi.fn();
    const disconnect = vi.fn();
    const made: IntersectionObserverInit[] = [];
    vi.stubGlobal(
      "IntersectionObserver",
      class {
        constructor(_callback: unknown, init: IntersectionObserverInit) {
          made.push(init);
        }
        observe = observe;
        unobserve = vi.fn();
        disconnect = disconnect;
      },
    );
    const heatmap = mountHeatmap(document.createElement("div"), { tokens, scores, stepTokenCounts, kind: "logprob" });
    expect(made).toEqual([{ rootMargin: "200px 0px", scrollMargin: "200px 0px" }]);
    expect(observe).toHaveBeenCalledTimes(3);
    heatmap.dispose();
    expect(disconnect).toHaveBeenCalledOnce();
  });

  it("says above the steps what the scores are and what the colours mean", () => {
    const container = document.createElement("div");
    const about = "log-prob of each token under the sampling distribution <b>(top-p)</b>";
    const heatmap = mountHeatmap(container, { tokens, scores, stepTokenCounts, kind: "logprob", about, createObserver: null });
    const caption = container.querySelector<HTMLElement>('[data-testid="heatmap-caption"]');
    expect(caption?.textContent).toBe(`${about}. red: less likely than ½, blue: likelier.`);
    expect(caption?.querySelector("b")).toBeNull();
    expect(container.querySelector(".lw-heatmap")?.firstElementChild).toBe(caption);
    heatmap.setVisible(false);
    expect(caption?.hidden).toBe(true);
    heatmap.setVisible(true);
    expect(caption?.hidden).toBe(false);
  });

  it("puts the caption just above the rows when the steps go into slots, and takes it away", () => {
    const box = document.createElement("div");
    const list = box.appendChild(document.createElement("ol"));
    const slots = stepTokenCounts.map(() => list.appendChild(document.createElement("li")));
    const heatmap = mountHeatmap(list, { tokens, scores, stepTokenCounts, kind: "entropy", slots, createObserver: null });
    expect([...box.children].map((child) => child.className)).toEqual(["lw-heatmap__caption", ""]);
    expect(box.firstElementChild?.textContent).toBe("entropy at each token. red: more uncertain than the median, blue: less.");
    heatmap.setVisible(false);
    expect((box.firstElementChild as HTMLElement).hidden).toBe(true);
    heatmap.dispose();
    expect(box.children).toHaveLength(1);
  });

  it("names the kind alone when nothing more is said", () => {
    expect(captionText("score")).toBe("a score per token. red: low, blue: high.");
    expect(captionText("logprob", "  ")).toBe("log-prob of each token. red: less likely than ½, blue: likelier.");
  });

  it("refuses tokens, scores and steps that do not add up", () => {
    const el = document.createElement("div");
    expect(() => mountHeatmap(el, { tokens, scores: new Float32Array(3), stepTokenCounts, kind: "score" })).toThrow(
      "7 tokens but 3 scores",
    );
    expect(() => mountHeatmap(el, { tokens, scores, stepTokenCounts: [3, 3], kind: "score" })).toThrow(
      "the step token counts [3, 3] do not add up to 7 tokens",
    );
    expect(() => mountHeatmap(el, { tokens, scores, stepTokenCounts, kind: "score", slots: [el] })).toThrow(
      "1 slots for 3 steps",
    );
    expect(el.childNodes).toHaveLength(0);
  });

  it("mounts 1,000 steps / 100k tokens without 100k spans", () => {
    const n = 100_000;
    const many = Array.from({ length: n }, (_, i) => (i % 50 === 49 ? "\n" : ` t${i}`));
    const manyScores = Float32Array.from({ length: n }, (_, i) => -((i * 7) % 13) / 2);
    const container = document.createElement("div");
    const fake = fakeObserver();
    const started = performance.now();
    mountHeatmap(container, {
      tokens: many,
      scores: manyScores,
      stepTokenCounts: Array.from({ length: 1000 }, () => 100),
      kind: "logprob",
      createObserver: fake.factory,
    });
    expect(spanCount(container)).toBe(0);
    expect(container.querySelectorAll(".lw-heatmap__step")).toHaveLength(1000);
    fake.show(...chunksOf(container, 0), ...chunksOf(container, 1), ...chunksOf(container, 2));
    expect(spanCount(container)).toBe(300);
    // Generous for jsdom on a loaded machine; a browser is far faster.
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it("splits one huge step into chunks, rendering only the visible ones", () => {
    const n = 100_000;
    const many = Array.from({ length: n }, (_, i) => ` t${i}`);
    const container = document.createElement("div");
    const fake = fakeObserver();
    mountHeatmap(container, { tokens: many, scores: new Float32Array(n), stepTokenCounts: [n], kind: "score", createObserver: fake.factory });
    const chunks = chunksOf(container, 0);
    expect(chunks).toHaveLength(n / CHUNK_TOKENS);
    fake.show(chunks[10]);
    const spans = [...container.querySelectorAll<HTMLElement>(".lw-tok")];
    expect(spans).toHaveLength(CHUNK_TOKENS);
    expect(spans[0].dataset.i).toBe(String(10 * CHUNK_TOKENS));
  });
});
