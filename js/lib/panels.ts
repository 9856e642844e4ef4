import { agreementChart, originChart, queueChart, ratingsChart, rateChart, weekChart } from "./charts";
import {
  bucketHours,
  formatCount,
  formatHours,
  formatTime,
  origin,
  type Summary,
  type TimelineRow,
} from "./summary";

/**
 * The dashboard's panels, shared by the widget and the HTML report. Each panel is a focusable
 * section with a heading, a chart and, under "Numbers", a table of every figure the chart shows,
 * so a keyboard or screen-reader user gets all of it.
 */

type Cell = string | number;

function make<K extends keyof HTMLElementTagNameMap>(tag: K, className = "", text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A table with a header row; numbers are right-aligned and formatted, text is as given. */
export function table(caption: string, head: string[], rows: Cell[][], testId: string): HTMLTableElement {
  const node = make("table", "lw-dash__table");
  node.dataset.testid = testId;
  node.append(make("caption", "", caption));
  const header = make("tr");
  for (const title of head) {
    const th = make("th", "", title);
    th.scope = "col";
    header.append(th);
  }
  node.append(make("thead"), make("tbody"));
  node.tHead?.append(header);
  for (const row of rows) {
    const tr = make("tr");
    row.forEach((cell, i) => {
      const td = make(i === 0 ? "th" : "td", typeof cell === "number" ? "lw-dash__num" : "");
      if (i === 0) (td as HTMLTableCellElement).scope = "row";
      td.textContent = typeof cell === "number" ? formatCount(cell) : cell;
      tr.append(td);
    });
    node.tBodies[0].append(tr);
  }
  return node;
}

function numbers(content: HTMLTableElement): HTMLDetailsElement {
  const details = make("details", "lw-dash__numbers");
  details.append(make("summary", "", "Numbers"), content);
  return details;
}

interface Panel {
  section: HTMLElement;
  body: HTMLElement;
}

function panel(id: string, title: string): Panel {
  const section = make("section", "lw-dash__panel");
  section.dataset.testid = `panel-${id}`;
  section.tabIndex = 0;
  const heading = make("h3", "lw-dash__title", title);
  heading.id = `lw-dash-${id}-${Math.random().toString(36).slice(2, 8)}`;
  section.setAttribute("aria-labelledby", heading.id);
  const body = make("div", "lw-dash__body");
  section.append(heading, body);
  return { section, body };
}

function stat(label: string, value: string, testId: string): HTMLElement {
  const item = make("div", "lw-dash__stat");
  const number = make("dd", "lw-dash__value", value);
  number.dataset.testid = testId;
  item.append(make("dt", "lw-dash__label", label), number);
  return item;
}

function windowText(summary: Summary): string {
  const { since, until, dataset, timezone } = summary.options;
  const parts = [
    since === null ? "from the first label" : `from ${formatTime(since, timezone)}`,
    until === null ? "to now" : `to ${formatTime(until, timezone)}`,
    dataset === null ? "all datasets" : `dataset ${dataset}`,
    timezone,
  ];
  return parts.join(" · ");
}

function overview(summary: Summary, width: number): Element[] {
  const { totals, queue } = summary;
  const stats = make("dl", "lw-dash__stats");
  stats.append(
    stat("labels", formatCount(totals.labels), "total-labels"),
    stat("by people", formatCount(totals.human), "total-human"),
    stat("by machines", formatCount(totals.automatic), "total-automatic"),
    stat("hours labeling", formatHours(totals.hours), "total-hours"),
    stat("people", formatCount(totals.annotators), "total-annotators"),
    stat("items done", `${formatCount(queue.done)} of ${formatCount(queue.items)}`, "queue-done"),
    stat("claimed", formatCount(queue.claimed), "queue-claimed"),
    stat("open", formatCount(queue.open), "queue-open"),
  );
  const rows: Cell[][] = [
    ["done (someone finished it)", queue.done],
    ["claimed (and not done)", queue.claimed],
    ["open", queue.open],
    ["all items", queue.items],
  ];
  // Only where machines labeled with rollouts is there a review queue to speak of.
  if (summary.review != null) {
    stats.append(stat("to review", formatCount(summary.review.items), "queue-review"));
    rows.push(["waiting for review (machines disagree)", summary.review.items]);
  }
  return [stats, queueChart(summary, width), numbers(table("The queue", ["items", "count"], rows, "table-queue"))];
}

function week(summary: Summary, width: number): Element[] {
  const { week: w } = summary;
  const about = make(
    "p",
    "lw-dash__note",
    `Week from ${formatTime(w.start, w.timezone)} to ${formatTime(w.end, w.timezone)} (${w.timezone}), ` +
      (w.cap_h === null ? "no weekly cap set." : `cap ${formatHours(w.cap_h)} a person.`) +
      ` Each action counts the time since the one before, at most ${Math.round(w.idle_cap_s / 60)} min.`,
  );
  const crossed = w.annotators.filter((row) => row.crossed);
  const parts: Element[] = [about];
  if (crossed.length > 0 && w.cap_h !== null) {
    const notice = make(
      "p",
      "lw-dash__crossed-notice",
      `Over the weekly cap of ${formatHours(w.cap_h)}: ` +
        crossed.map((row) => `${row.annotator} (${formatHours(row.hours)})`).join(", "),
    );
    notice.dataset.testid = "cap-crossed";
    notice.setAttribute("role", "status");
    parts.push(notice);
  }
  if (w.annotators.length === 0) {
    parts.push(make("p", "lw-dash__empty", "No one has labeled this week yet."));
  } else {
    parts.push(weekChart(summary, width));
  }
  const rows: Cell[][] = w.annotators.map((row) => [
    row.annotator,
    formatHours(row.hours),
    w.cap_h === null ? "no cap" : row.crossed ? "over the cap" : "under the cap",
  ]);
  parts.push(numbers(table("Hours this week", ["person", "hours", "cap"], rows, "table-week")));
  return parts;
}

function rates(summary: Summary, timeline: TimelineRow[], width: number): Element[] {
  const people = summary.annotators.filter((row) => origin(row.source) === "human");
  const rows: Cell[][] = people.map((row) => [
    row.annotator,
    row.labels,
    formatHours(row.hours),
    row.hours > 0 ? Math.round(row.labels / row.hours) : "–",
  ]);
  const note = make(
    "p",
    "lw-dash__note",
    `Per ${summary.options.bucket}; the rate is labels in the ${summary.options.bucket} / ${bucketHours(summary.options.bucket)} h.`,
  );
  return [
    note,
    people.length === 0 ? make("p", "lw-dash__empty", "No labels by people yet.") : rateChart(timeline, summary, width),
    numbers(table("Labels by person", ["person", "labels", "hours", "labels per hour labeling"], rows, "table-people")),
  ];
}

function origins(summary: Summary, timeline: TimelineRow[], width: number): Element[] {
  const rows: Cell[][] = Object.entries(summary.sources).map(([source, labels]) => [source, labels]);
  return [
    timeline.length === 0 ? make("p", "lw-dash__empty", "No labels yet.") : originChart(timeline, summary, width),
    numbers(table("Labels by source", ["source", "labels"], rows, "table-sources")),
  ];
}

function agreement(summary: Summary, width: number): Element[] {
  const found = summary.agreement;
  if (found === undefined) return [make("p", "lw-dash__empty", "Counting agreement…")];
  if ("error" in found) return [make("p", "lw-dash__empty", `Agreement needs more: ${found.error}`)];
  const alpha = found.alpha === null ? "n/a" : found.alpha.toFixed(3);
  const about = make(
    "p",
    "lw-dash__note",
    `Krippendorff's α (ordinal −1/0/+1) ${alpha} over ${formatCount(found.steps)} steps rated by two or more people ` +
      `in ${formatCount(found.items)} items; Cohen's κ per pair below, red −1 through white 0 to blue +1.`,
  );
  about.dataset.testid = "agreement-alpha";
  const rows: Cell[][] = found.kappa.map((row) => [
    `${row.a} · ${row.b}`,
    row.kappa === null ? "n/a" : row.kappa.toFixed(3),
    row.items,
    row.steps,
  ]);
  return [
    about,
    rows.length === 0
      ? make("p", "lw-dash__empty", "No two people have rated the same step yet.")
      : agreementChart(found.kappa, width),
    numbers(table("Cohen's κ per pair of people", ["pair", "κ", "items", "steps"], rows, "table-agreement")),
  ];
}

function distribution(summary: Summary, width: number): Element[] {
  const reasons = [...new Set(summary.distribution.flatMap((row) => Object.keys(row.finish)))].sort();
  const choices = [...new Set(summary.distribution.flatMap((row) => Object.keys(row.preferences)))].sort();
  const rows: Cell[][] = summary.distribution.map((row) => [
    `${row.dataset} · ${row.source}`,
    row.ratings["-1"],
    row.ratings["0"],
    row.ratings["1"],
    row.flags,
    ...reasons.map((reason) => row.finish[reason] ?? 0),
    ...choices.map((choice) => row.preferences[choice] ?? 0),
  ]);
  const head = [
    "dataset · source",
    "−1",
    "0",
    "+1",
    "flagged",
    ...reasons.map((reason) => `finish: ${reason}`),
    ...choices.map((choice) => `preferred: ${choice}`),
  ];
  const hasRatings = summary.distribution.some((row) => row.ratings["-1"] + row.ratings["0"] + row.ratings["1"] > 0);
  return [
    hasRatings ? ratingsChart(summary, width) : make("p", "lw-dash__empty", "No step ratings yet."),
    numbers(table("Current labels per dataset and source", head, rows, "table-distribution")),
  ];
}

/** The dashboard's DOM; `draw` fills it from a summary and its timeline, in place. */
export function createPanels(): { root: HTMLElement; draw(summary: Summary, timeline: TimelineRow[]): void } {
  const root = make("div", "lw-dash");
  root.dataset.testid = "dashboard";
  const header = make("div", "lw-dash__header");
  const title = make("h2", "lw-dash__heading", "Labeling");
  const scope = make("p", "lw-dash__scope");
  scope.dataset.testid = "dashboard-scope";
  header.append(title, scope);
  const sections = {
    overview: panel("overview", "Overview and queue"),
    week: panel("week", "This week"),
    rates: panel("rates", "Labels per hour by person"),
    origins: panel("origins", "People and machines"),
    distribution: panel("distribution", "Current labels per dataset"),
    agreement: panel("agreement", "Agreement between people"),
  };
  const grid = make("div", "lw-dash__grid");
  grid.append(...Object.values(sections).map(({ section }) => section));
  root.append(header, grid);

  /** Fills a panel anew, keeping which "Numbers" are open and where the focus was inside it. */
  function refill({ body }: Panel, parts: Element[]): void {
    const details = [...body.querySelectorAll("details")];
    const open = details.map((node) => node.open);
    const focused = details.findIndex((node) => node.contains(document.activeElement));
    body.replaceChildren(...parts);
    const fresh = [...body.querySelectorAll("details")];
    fresh.forEach((node, i) => (node.open = open[i] ?? false));
    if (focused >= 0) fresh[focused]?.querySelector("summary")?.focus({ preventScroll: true });
  }

  function draw(summary: Summary, timeline: TimelineRow[]): void {
    scope.textContent = `${windowText(summary)} · as of ${formatTime(summary.generated_at, summary.options.timezone)}`;
    // Charts fill their panel; a panel is as wide as the grid allows (one column when narrow).
    const width = Math.max(280, Math.floor((sections.week.body.clientWidth || 560) - 4));
    refill(sections.overview, overview(summary, width));
    refill(sections.week, week(summary, width));
    refill(sections.rates, rates(summary, timeline, width));
    refill(sections.origins, origins(summary, timeline, width));
    refill(sections.distribution, distribution(summary, width));
    refill(sections.agreement, agreement(summary, width));
    root.dataset.generatedAt = summary.generated_at;
  }

  return { root, draw };
}
