import { createPanels } from "./lib/panels";
import { type Summary, timelineFromJson } from "./lib/summary";
import "./dashboard.css";

/**
 * The HTML report's script: `labwidget report` inlines it with the figures of `Store.summary()`
 * in a JSON script element, and it draws the dashboard's panels from them. It loads nothing.
 */
function main(): void {
  const data = document.getElementById("labwidget-summary");
  const mount = document.getElementById("labwidget-report");
  if (data === null || mount === null) return;
  const { timeline, ...summary } = JSON.parse(data.textContent ?? "{}") as Summary & {
    timeline: { start: string; annotator: string; source: string; labels: number }[];
  };
  const { root, draw } = createPanels();
  mount.replaceChildren(root);
  draw(summary, timelineFromJson(timeline));
  document.body.dataset.ready = "true";
}

main();
