import * as Plot from "@observablehq/plot";
import {
  bucketHours,
  formatHours,
  type KappaRow,
  origin,
  ORIGIN_TEXT,
  type Origin,
  type Summary,
  type TimelineRow,
  wallClock,
} from "./summary";

/**
 * The dashboard's charts, drawn by Observable Plot. Every chart is an SVG with a label and a
 * description for screen readers; the panels put a table of the same numbers next to each.
 * Axes and text take `currentColor`, so they follow the page's light or dark theme; the colours
 * of the data are mid-tones that read on both.
 */

/** One colour per origin, the same in every chart: people, models, automatic methods. */
export const ORIGIN_COLOURS: Record<Origin, string> = { human: "#4c78a8", model: "#e45756", auto: "#f0a30a" };
const RATINGS = ["-1", "0", "+1"];
const RATING_COLOURS = ["#e45756", "#9d9d9d", "#54a24b"];

const HEIGHT = 220;

function common(width: number, ariaLabel: string, ariaDescription: string): Plot.PlotOptions {
  return {
    width,
    height: HEIGHT,
    ariaLabel,
    ariaDescription,
    className: "lw-dash__plot",
    style: { background: "transparent", color: "currentColor", fontSize: "11px" },
    marginLeft: 48,
  };
}

/** Labels per hour over time, one line per person (people only: machines are much faster). */
export function rateChart(rows: TimelineRow[], summary: Summary, width: number): Element {
  const { timezone, bucket } = summary.options;
  const perHour = bucketHours(bucket);
  // A person's line drops to 0 at the end of a bucket with labels when the next one has none,
  // instead of bridging the time they were away.
  const span = perHour * 3_600_000;
  const byPerson = new Map<string, Map<number, number>>();
  for (const row of rows) {
    if (origin(row.source) !== "human") continue;
    const counts = byPerson.get(row.annotator) ?? new Map<number, number>();
    counts.set(row.start.getTime(), (counts.get(row.start.getTime()) ?? 0) + row.labels);
    byPerson.set(row.annotator, counts);
  }
  const data: { at: Date; rate: number; annotator: string }[] = [];
  for (const [annotator, counts] of byPerson) {
    const starts = [...counts.keys()].sort((a, b) => a - b);
    starts.forEach((start, i) => {
      data.push({ at: wallClock(new Date(start), timezone), rate: (counts.get(start) ?? 0) / perHour, annotator });
      // Two hours of slack: a day in a zone with daylight saving lasts 23 or 25 hours.
      const next = starts[i + 1] ?? Infinity;
      if (next > start + span + 2 * 3_600_000 || i === starts.length - 1) {
        data.push({ at: wallClock(new Date(start + span), timezone), rate: 0, annotator });
      }
    });
  }
  return Plot.plot({
    ...common(
      width,
      "Labels per hour by person",
      `Each person's labels per hour, per ${bucket}, in ${timezone}; the table below holds the numbers.`,
    ),
    x: { type: "utc", label: null },
    y: { label: "labels per hour", grid: true, zero: true },
    color: { legend: true, type: "categorical" },
    marks: [
      Plot.ruleY([0]),
      Plot.lineY(data, { x: "at", y: "rate", stroke: "annotator", curve: "step-after", tip: true }),
    ],
  });
}

/** Labels per bucket, stacked by origin: how much people did and how much machines did. */
export function originChart(rows: TimelineRow[], summary: Summary, width: number): Element {
  const { timezone, bucket } = summary.options;
  const span = bucketHours(bucket) * 3_600_000;
  // One bar segment per bucket and origin, however many people or methods it adds up.
  const sums = new Map<string, { at: Date; end: Date; labels: number; origin: string }>();
  for (const row of rows) {
    const at = wallClock(row.start, timezone);
    const kind = ORIGIN_TEXT[origin(row.source)];
    const key = `${at.getTime()} ${kind}`;
    const sum = sums.get(key) ?? { at, end: new Date(at.getTime() + span), labels: 0, origin: kind };
    sum.labels += row.labels;
    sums.set(key, sum);
  }
  const data = [...sums.values()];
  const origins = Object.keys(ORIGIN_TEXT) as Origin[];
  const domain = origins.map((key) => ORIGIN_TEXT[key]);
  return Plot.plot({
    ...common(
      width,
      "Labels by people and by machines",
      `Labels per ${bucket} in ${timezone}, stacked by origin: people, models, automatic methods.`,
    ),
    x: { type: "utc", label: null },
    y: { label: `labels per ${bucket}`, grid: true },
    color: { legend: true, domain, range: origins.map((key) => ORIGIN_COLOURS[key]) },
    marks: [
      Plot.rectY(data, { x1: "at", x2: "end", y: "labels", fill: "origin", order: domain, tip: true }),
      Plot.ruleY([0]),
    ],
  });
}

/** Current step ratings per dataset and source, −1 / 0 / +1 side by side in one bar each. */
export function ratingsChart(summary: Summary, width: number): Element {
  const data = summary.distribution.flatMap((row) =>
    (["-1", "0", "1"] as const).map((value) => ({
      group: `${row.dataset} · ${row.source}`,
      value: value === "1" ? "+1" : value,
      labels: row.ratings[value],
    })),
  );
  const groups = [...new Set(data.map((d) => d.group))];
  return Plot.plot({
    ...common(
      width,
      "Current step ratings per dataset and source",
      "For each dataset and source, how many current step ratings are -1, 0 and +1.",
    ),
    height: Math.max(60, 28 * groups.length + 40),
    marginLeft: Math.min(260, 8 + 7 * Math.max(...groups.map((g) => g.length), 8)),
    x: { label: "current ratings", grid: true },
    y: { label: null, domain: groups },
    color: { legend: true, domain: RATINGS, range: RATING_COLOURS },
    marks: [Plot.barX(data, { y: "group", x: "labels", fill: "value", order: RATINGS, tip: true }), Plot.ruleX([0])],
  });
}

/** Each person's hours this week, with the weekly cap as a line; a crossed cap shows red. */
export function weekChart(summary: Summary, width: number): Element {
  const { cap_h: cap, annotators } = summary.week;
  const people = annotators.map((row) => row.annotator);
  return Plot.plot({
    ...common(
      width,
      "Hours labeling this week",
      cap === null
        ? "Each person's hours labeling this week; there is no weekly cap."
        : `Each person's hours labeling this week against the weekly cap of ${formatHours(cap)}.`,
    ),
    height: Math.max(60, 26 * people.length + 40),
    marginLeft: Math.min(200, 8 + 7 * Math.max(...people.map((p) => p.length), 8)),
    x: { label: "hours this week", grid: true, domain: [0, Math.max(cap ?? 0, ...annotators.map((r) => r.hours), 1)] },
    y: { label: null, domain: people },
    marks: [
      Plot.barX(
        annotators.filter((row) => !row.crossed),
        { y: "annotator", x: "hours", fill: ORIGIN_COLOURS.human, tip: true },
      ),
      Plot.barX(
        annotators.filter((row) => row.crossed),
        { y: "annotator", x: "hours", fill: ORIGIN_COLOURS.model, className: "lw-dash__crossed", tip: true },
      ),
      ...(cap === null ? [] : [Plot.ruleX([cap], { stroke: "currentColor", strokeWidth: 2, strokeDasharray: "4,3" })]),
      Plot.ruleX([0]),
    ],
  });
}

/** The queue as one bar: done, claimed, open. */
export function queueChart(summary: Summary, width: number): Element {
  const { done, claimed, open } = summary.queue;
  const parts = [
    { state: "done", items: done },
    { state: "claimed", items: claimed },
    { state: "open", items: open },
  ];
  return Plot.plot({
    ...common(width, "The queue", `Items done: ${done}, claimed: ${claimed}, open: ${open}.`),
    height: 70,
    marginLeft: 8,
    x: { label: "items", grid: true },
    color: { legend: true, domain: ["done", "claimed", "open"], range: ["#54a24b", "#f0a30a", "#9d9d9d"] },
    marks: [Plot.barX(parts, { x: "items", fill: "state", order: ["done", "claimed", "open"], tip: true })],
  });
}

/**
 * Cohen's κ between each pair of people as a matrix heatmap, both ways round. The cells run
 * from red (−1) through white (0) to blue (+1); their numbers are dark on a light halo, so they
 * read on every cell in either theme.
 */
export function agreementChart(rows: KappaRow[], width: number): Element {
  const people = [...new Set(rows.flatMap((row) => [row.a, row.b]))].sort();
  const cells = rows.flatMap((row) => [row, { ...row, a: row.b, b: row.a }]);
  const side = Math.min(width - 120, Math.max(120, 44 * people.length));
  const margin = Math.min(160, 8 + 7 * Math.max(...people.map((p) => p.length), 6));
  return Plot.plot({
    ...common(
      width,
      "Agreement between people: Cohen's kappa per pair",
      "A matrix of Cohen's kappa for each pair of people over the steps both rated; the table below holds the numbers.",
    ),
    width: side + margin + 24,
    height: side + 72,
    marginLeft: margin,
    marginBottom: 56,
    x: { label: null, domain: people, tickRotate: -30 },
    y: { label: null, domain: people },
    // No colour ramp legend (drawn on a canvas): each cell prints its κ, and the note says the scale.
    color: { type: "linear", scheme: "rdbu", domain: [-1, 1] },
    marks: [
      Plot.cell(cells, { x: "a", y: "b", fill: "kappa", inset: 0.5, tip: true }),
      Plot.text(cells, {
        x: "a",
        y: "b",
        text: (row: KappaRow) => (row.kappa === null ? "n/a" : row.kappa.toFixed(2)),
        fill: "black",
        stroke: "white",
        strokeWidth: 3,
        paintOrder: "stroke",
      }),
    ],
  });
}
