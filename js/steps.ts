import type { AnyWidget, RenderProps } from "@anywidget/types";
import { StepActions } from "./lib/actions";
import { Cursor } from "./lib/cursor";
import { StepEditor } from "./lib/editor";
import { FinishBar } from "./lib/finish";
import { KEY_HINT } from "./lib/keys";
import { type Changed, Labels } from "./lib/labels";
import { renderMarkdown } from "./lib/markdown";
export { warmMarkdown as warm } from "./lib/markdown";
import { Progress } from "./lib/progress";
import { LabelRoute } from "./lib/route";
import { drawRow, type RowView } from "./lib/row";
import { Rows } from "./lib/rows";
import { SourceView } from "./lib/source_view";
import { StepHeatmap } from "./lib/step_heatmap";
import { element, helpOverlay, setHidden, setText } from "./lib/ui";
import type { LabelEvent, StepLabelerTraits } from "./types";
import "./steps.css";

/**
 * The step labeler's front end, wired from its parts: the labeling state (lib/labels.ts), the
 * rows (lib/rows.ts, lib/row.ts), the route its labels take (lib/route.ts), the keys
 * (lib/actions.ts), the cursor, editors, heatmap, progress and finish bars.
 */

const KERNEL_GONE_TEXT =
  "The kernel is gone. Every label marked saved is in the store; labels the server still takes " +
  "directly are saved and marked so, the others say not saved. Restart the kernel and re-run this " +
  "cell to go on.";

export function render({ model, el }: Pick<RenderProps<StepLabelerTraits>, "model" | "el">): () => void {
  const root = element("div", "lw-widget lw-steps", "step-labeler");
  root.tabIndex = 0;
  // Keeps JupyterLab's command-mode shortcuts (j, k, 0 0, ...) from firing while the widget has focus.
  root.dataset.lmSuppressShortcuts = "true";
  root.setAttribute("aria-label", "Step labeler");
  const prompt = element("div", "lw-steps__prompt", "prompt");
  const list = element("ol", "lw-steps__list");
  const hint = element("div", "lw-steps__hint", "key-hint");
  hint.textContent = KEY_HINT;
  const help = helpOverlay();
  const gone = element("div", "lw-steps__gone", "kernel-gone");
  gone.setAttribute("role", "alert");
  gone.hidden = true;
  /**
   * The kernel is gone (JupyterLab's comm refused a send): the widget says so, and what is
   * safe, instead of the page throwing "Cannot send". It stays until the cell runs again.
   */
  const kernelGone = () => {
    setText(gone, KERNEL_GONE_TEXT);
    setHidden(gone, false);
  };

  const labels = new Labels(model);
  const sourceView = new SourceView();
  const unfolded = new Set<number>();
  const finishBar = new FinishBar();
  const progress = new Progress(model, kernelGone);
  const heatmap = new StepHeatmap(model, root, list);
  root.append(progress.element, gone, prompt, list, finishBar.element, hint, help);
  el.append(root);

  const rowView = (): RowView => ({ labels, tokensShown: heatmap.shown, unfolded, current: labels.currentStep(), sourceView });
  const rows: Rows = new Rows(list, {
    stepCount: () => labels.stepCount(),
    currentStep: () => labels.currentStep(),
    built: (steps) => {
      const errorAt = labels.firstError();
      const view = rowView();
      for (const step of steps) {
        const row = rows.rows[step];
        if (row === undefined) continue;
        heatmap.attach(step, row.heat);
        drawRow(row, step, errorAt, view);
      }
    },
  });

  let promptSource: string | null = null;
  /** The first error and the cursor as last drawn: when either moves, more rows change. */
  let drawnErrorAt: number | null = null;
  let drawnCursor = -1;
  /** What was asked to be drawn while the route held drawing for an ack (see `RouteOptions.holdDraws`). */
  let asked = { all: false, steps: new Set<number>(), cursor: false };

  /**
   * Brings the DOM up to date: every built row, or only the `changed` steps when the rest
   * cannot have changed. A key press redraws a row or two, never the whole list, so the ack
   * that follows it finds the page idle.
   */
  function draw(changed?: Changed): void {
    if (route.holding) {
      if (changed === undefined) asked.all = true;
      else for (const step of changed) asked.steps.add(step);
      return;
    }
    progress.draw();
    if (promptSource !== model.get("prompt")) {
      promptSource = model.get("prompt");
      prompt.replaceChildren(renderMarkdown(promptSource));
    }
    if (!rows.laidOut) rows.layOut();
    const errorAt = labels.firstError();
    const view = rowView();
    const redraw = (step: number) => {
      const row = rows.rows[step];
      if (row !== undefined) drawRow(row, step, errorAt, view);
    };
    if (changed === undefined || errorAt !== drawnErrorAt) rows.rows.forEach((_, step) => redraw(step));
    else for (const step of new Set([...changed, drawnCursor, view.current])) redraw(step);
    drawnErrorAt = errorAt;
    drawnCursor = view.current;
    drawFinish(errorAt);
  }

  function drawFinish(errorAt = labels.firstError()): void {
    finishBar.draw({ heatmapError: heatmap.error, local: labels.finish, reason: labels.saved().finish ?? null, errorAt });
  }

  function onCursor(): void {
    if (route.holding) {
      asked.cursor = true;
      return;
    }
    rows.rowOf(labels.currentStep());
    draw([]);
    rows.buildAheadWhenIdle();
    rows.scrollToCursorInFrame();
  }

  // Labels go to the server extension once it has accepted this item's context; the kernel
  // hears of them afterwards, and re-reads what is saved.
  const route = new LabelRoute<LabelEvent>(
    model,
    {
      onAck: (event, told) => drawSettled(labels.settle(event, { ok: true, told })),
      onError: (event, message) => drawSettled(labels.settle(event, { ok: false, message })),
      onTold: (events) => draw(labels.told(events)),
      onKernelGone: kernelGone,
      committed: (events) => ({
        items: [...new Set(events.map((event) => event.item))],
        labels: events.filter((event) => event.kind === "label").length,
      }),
      onRelease: () => {
        const { all, steps, cursor } = asked;
        asked = { all: false, steps: new Set(), cursor: false };
        if (cursor) onCursor();
        draw(all ? undefined : [...steps]);
      },
    },
    { holdDraws: true },
  );
  const drawSettled = (changed: Changed | null) => {
    if (changed !== null) draw(changed);
  };

  const cursor = new Cursor(model, { moved: onCursor, kernelGone });
  const editor = new StepEditor(root, (step, kind, text) => actions.label(step, kind, { text }));
  const actions: StepActions = new StepActions({
    model, root, help, labels, rows, cursor, editor, heatmap, finishBar, progress, sourceView, route, unfolded,
    draw, drawFinish, kernelGone,
  });

  const mountTokens = () => heatmap.mount(Array.from({ length: labels.stepCount() }, (_, step) => rows.rows[step]?.heat));
  const onSaved = () => draw(labels.onSaved());
  const onItem = () => {
    labels.clear();
    finishBar.ask(null);
    heatmap.error = "";
    unfolded.clear();
    sourceView.hide();
    editor.close();
    mountTokens();
    draw();
  };
  const onTokens = () => {
    mountTokens();
    draw();
  };
  const drawAll = () => draw();
  const bound = () => rows.bound(model.get("max_height") ?? null);
  const modelListeners: [string, () => void][] = [
    ["change:prompt", drawAll],
    ["change:steps", drawAll],
    ["change:alternatives", drawAll],
    ["change:evidence", drawAll],
    ["change:step_labels", onSaved],
    ["change:saved", onSaved],
    ["change:item_id", onItem],
    ["change:tokens", onTokens],
    ["change:token_scores", onTokens],
    ["change:step_token_counts", onTokens],
    ["change:score_kind", onTokens],
    ["change:max_height", bound],
  ];
  for (const [name, callback] of modelListeners) model.on(name, callback);
  root.addEventListener("keydown", actions.onKeydown);
  list.addEventListener("click", actions.onClick);
  bound();
  mountTokens();
  draw();

  return () => {
    for (const [name, callback] of modelListeners) model.off(name, callback);
    root.removeEventListener("keydown", actions.onKeydown);
    list.removeEventListener("click", actions.onClick);
    editor.close();
    rows.dispose();
    heatmap.dispose();
    progress.dispose();
    cursor.dispose();
    actions.dispose();
    route.dispose();
  };
}

export default { render } satisfies AnyWidget<StepLabelerTraits>;
