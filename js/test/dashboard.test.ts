import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { type DashboardTraits, render, unpackTimeline } from "../dashboard";
import type { Summary } from "../lib/summary";
import { createFakeModel } from "./fake_model";

/** What Python's pack_float32 sends for `values`: little-endian float32 bytes. */
function packed(values: number[]) {
  const view = new DataView(new ArrayBuffer(4 * values.length));
  values.forEach((value, i) => view.setFloat32(4 * i, value, true));
  return { view, dtype: "float32", shape: [values.length] };
}

// 2026-11-02T09:00Z and 10:00Z, in hours since 1970.
const NINE = Date.UTC(2026, 10, 2, 9) / 3_600_000;

const TIMELINE = {
  series: [
    ["ana", "human"],
    ["prm", "model:prm-7b"],
  ] as [string, string][],
  start_h: packed([NINE, NINE, NINE + 1]),
  series_index: packed([0, 1, 0]),
  labels: packed([120, 400, 30]),
};

function summary(labels: number): Summary {
  return {
    options: {
      since: null,
      until: null,
      dataset: null,
      timezone: "Europe/Berlin",
      week_start: "monday",
      weekly_cap_h: 1,
      idle_cap_s: 600,
      bucket: "hour",
    },
    generated_at: "2026-11-02T10:30:00+00:00",
    totals: { labels, human: 150, automatic: 400, hours: 1.25, annotators: 1 },
    sources: { "model:prm-7b": 400, human: 150 },
    annotators: [
      { annotator: "prm", source: "model:prm-7b", labels: 400, ms: 0, hours: 0 },
      { annotator: "ana", source: "human", labels: 150, ms: 4_500_000, hours: 1.25 },
    ],
    distribution: [
      {
        dataset: "math",
        source: "human",
        ratings: { "-1": 10, "0": 5, "1": 120 },
        flags: 2,
        finish: { found_error: 8, solution: 7 },
        preferences: {},
      },
    ],
    week: {
      start: "2026-11-01T23:00:00+00:00",
      end: "2026-11-08T23:00:00+00:00",
      timezone: "Europe/Berlin",
      week_start: "monday",
      cap_h: 1,
      idle_cap_s: 600,
      annotators: [{ annotator: "ana", ms: 4_500_000, hours: 1.25, crossed: true }],
    },
    queue: { items: 40, done: 15, claimed: 5, open: 20 },
  };
}

beforeAll(() => {
  // jsdom has no ResizeObserver; the widget only needs one to exist.
  globalThis.ResizeObserver ??= class {
    observe(): void {}
    unobserve(): void {}
    disconnect(): void {}
  } as unknown as typeof ResizeObserver;
});

afterEach(() => document.body.replaceChildren());

describe("unpackTimeline", () => {
  it("turns the binary columns back into rows", () => {
    expect(unpackTimeline(TIMELINE)).toEqual([
      { start: new Date("2026-11-02T09:00:00Z"), annotator: "ana", source: "human", labels: 120 },
      { start: new Date("2026-11-02T09:00:00Z"), annotator: "prm", source: "model:prm-7b", labels: 400 },
      { start: new Date("2026-11-02T10:00:00Z"), annotator: "ana", source: "human", labels: 30 },
    ]);
  });

  it("refuses columns of different lengths", () => {
    expect(() => unpackTimeline({ ...TIMELINE, labels: packed([1]) })).toThrow(/differ in length/);
  });
});

describe("the dashboard", () => {
  function mount(traits: DashboardTraits) {
    const model = createFakeModel<DashboardTraits>(traits);
    const el = document.createElement("div");
    document.body.append(el);
    const cleanup = render({ model, el });
    const byId = (id: string) => el.querySelector(`[data-testid="${id}"]`)?.textContent ?? null;
    return { model, el, cleanup, byId };
  }

  it("shows every figure, and the numbers of each chart in a table", () => {
    const { el, byId } = mount({ summary: summary(550), timeline: TIMELINE, live: true, error: "" });
    expect(byId("total-labels")).toBe("550");
    expect(byId("queue-done")).toBe("15 of 40");
    expect(byId("cap-crossed")).toBe("Over the weekly cap of 1 h: ana (1.3 h)");
    expect(byId("dashboard-status")).toBe("live: updates as labels land");
    const rows = [...el.querySelectorAll('[data-testid="table-distribution"] tbody tr')].map((tr) =>
      [...tr.children].map((cell) => cell.textContent),
    );
    expect(rows).toEqual([["math · human", "10", "5", "120", "2", "8", "7"]]);
    // Each panel is a stop for Tab, named by its heading; each chart has a label.
    const panels = [...el.querySelectorAll<HTMLElement>(".lw-dash__panel")];
    expect(panels.map((panel) => panel.tabIndex)).toEqual([0, 0, 0, 0, 0, 0]);
    for (const panel of panels) {
      expect(el.querySelector(`#${panel.getAttribute("aria-labelledby")}`)?.textContent).toBeTruthy();
    }
    expect(el.querySelectorAll("svg[aria-label]").length).toBeGreaterThanOrEqual(5);
  });

  it("draws agreement as a heatmap of kappa per pair, and what is left to review", () => {
    const agreement = {
      alpha: 0.61,
      items: 12,
      steps: 40,
      kappa: [
        { a: "ana", b: "bo", kappa: 0.7, items: 12, steps: 40 },
        { a: "ana", b: "cy", kappa: null, items: 1, steps: 2 },
      ],
    };
    const { el, byId } = mount({
      summary: { ...summary(550), agreement, review: { items: 7 } },
      timeline: TIMELINE,
      live: true,
      error: "",
    });
    expect(byId("dashboard-status")).toBe("live: updates as labels land");
    expect(byId("queue-review")).toBe("7");
    expect(byId("agreement-alpha")).toContain("α (ordinal −1/0/+1) 0.610 over 40 steps");
    const heatmap = el.querySelector('[data-testid="panel-agreement"] svg[aria-label^="Agreement"]');
    expect(heatmap).not.toBeNull();
    // Both ways round: two cells for the pair with a kappa; an undefined one says n/a, uncoloured.
    expect(heatmap?.querySelectorAll("rect")).toHaveLength(2);
    expect(heatmap?.textContent).toContain("0.70");
    expect(heatmap?.textContent).toContain("n/a");
    const rows = [...el.querySelectorAll('[data-testid="table-agreement"] tbody tr')].map((tr) =>
      [...tr.children].map((cell) => cell.textContent),
    );
    expect(rows).toEqual([
      ["ana · bo", "0.700", "12", "40"],
      ["ana · cy", "n/a", "1", "2"],
    ]);
  });

  it("says so until agreement is counted, or why it cannot be, and hides an absent review queue", () => {
    const { model, el, byId } = mount({ summary: summary(550), timeline: TIMELINE, live: true, error: "" });
    const panel = () => el.querySelector('[data-testid="panel-agreement"]')?.textContent ?? "";
    expect(panel()).toContain("Counting agreement…");
    expect(byId("queue-review")).toBeNull();
    model.kernelSet("summary", { ...summary(550), agreement: { error: "pip install 'labwidget[agreement]'" }, review: null });
    expect(panel()).toContain("pip install 'labwidget[agreement]'");
  });

  it("draws again when Python sends new figures, keeping an open table open", () => {
    const { model, el, byId } = mount({ summary: summary(550), timeline: TIMELINE, live: true, error: "" });
    const details = el.querySelector<HTMLDetailsElement>('[data-testid="panel-week"] details');
    if (details === null) throw new Error("no Numbers in the week's panel");
    details.open = true;
    model.kernelSet("summary", summary(551));
    expect(byId("total-labels")).toBe("551");
    expect(el.querySelector<HTMLDetailsElement>('[data-testid="panel-week"] details')?.open).toBe(true);
  });

  it("waits for the first figures, and says why they are out of date", () => {
    const { model, el, byId } = mount({ summary: {}, timeline: {}, live: true, error: "" });
    expect(el.querySelector("svg")).toBeNull();
    model.kernelSet("error", "not up to date: OperationalError: the database is away (trying again)");
    expect(byId("dashboard-status")).toMatch(/^not up to date/);
  });

  it("removes its listeners on cleanup", () => {
    const { model, cleanup } = mount({ summary: summary(1), timeline: TIMELINE, live: false, error: "" });
    expect(model.listenerCount()).toBeGreaterThan(0);
    cleanup();
    expect(model.listenerCount()).toBe(0);
  });
});
