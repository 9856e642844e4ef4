import type { AnyWidget, RenderProps } from "@anywidget/types";
import { decodeFloat32, type PackedArray } from "./lib/buffers";
import { createPanels } from "./lib/panels";
import type { Summary, TimelineRow } from "./lib/summary";
import "./dashboard.css";

/** The timeline as Python packs it: one float32 column each, and the series they index. */
export interface PackedTimeline {
  /** [annotator, source] of each series. */
  series: [string, string][];
  /** Each row's bucket start, in hours since 1970-01-01 UTC. */
  start_h: PackedArray;
  series_index: PackedArray;
  labels: PackedArray;
}

/** Mirrors the synced traits of `labwidget.widgets.dashboard.Dashboard`. */
export interface DashboardTraits {
  summary: Summary | Record<string, never>;
  timeline: PackedTimeline | Record<string, never>;
  live: boolean;
  error: string;
}

/** The timeline's rows, decoded from its binary columns. */
export function unpackTimeline(packed: PackedTimeline): TimelineRow[] {
  const starts = decodeFloat32(packed.start_h);
  const series = decodeFloat32(packed.series_index);
  const labels = decodeFloat32(packed.labels);
  if (series.length !== starts.length || labels.length !== starts.length) {
    throw new Error(`timeline columns differ in length: ${starts.length}, ${series.length}, ${labels.length}`);
  }
  return Array.from(starts, (hours, i) => {
    const [annotator, source] = packed.series[series[i]] ?? ["?", "?"];
    return { start: new Date(hours * 3_600_000), annotator, source, labels: labels[i] };
  });
}

// Both traits are {} until Python has the first figures.
function isSummary(value: DashboardTraits["summary"]): value is Summary {
  return "options" in value;
}

function isTimeline(value: DashboardTraits["timeline"]): value is PackedTimeline {
  return "series" in value;
}

export function render({ model, el }: Pick<RenderProps<DashboardTraits>, "model" | "el">): () => void {
  const { root, draw } = createPanels();
  const frame = document.createElement("div");
  frame.className = "lw-widget lw-dash-widget";
  const status = document.createElement("p");
  status.className = "lw-dash__status";
  status.dataset.testid = "dashboard-status";
  status.setAttribute("role", "status");
  frame.append(root, status);
  el.append(frame);
  let drawnWidth = 0;

  function redraw(): void {
    const summary = model.get("summary");
    const packed = model.get("timeline");
    const error = model.get("error");
    status.textContent = error || (model.get("live") ? "live: updates as labels land" : "not live");
    status.classList.toggle("lw-dash__status--error", error !== "");
    if (!isSummary(summary) || !isTimeline(packed)) return;
    try {
      draw(summary, unpackTimeline(packed));
    } catch (problem) {
      status.textContent = `labwidget could not draw the dashboard: ${(problem as Error).message}`;
      status.classList.add("lw-dash__status--error");
    }
    drawnWidth = root.clientWidth;
  }

  // Charts are drawn at the panel's width: draw again when it changes noticeably.
  let resizeTimer: ReturnType<typeof setTimeout> | undefined;
  const resize = new ResizeObserver(() => {
    if (Math.abs(root.clientWidth - drawnWidth) < 24) return;
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(redraw, 150);
  });
  resize.observe(root);

  const names = ["change:summary", "change:timeline", "change:error", "change:live"];
  for (const name of names) model.on(name, redraw);
  redraw();

  return () => {
    for (const name of names) model.off(name, redraw);
    resize.disconnect();
    clearTimeout(resizeTimer);
  };
}

export default { render } satisfies AnyWidget<DashboardTraits>;
