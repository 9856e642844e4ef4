import type { FinishReason, GenerateEvent, LabelEvent, LabelKind, LabelValue } from "../types";
import type { Cursor } from "./cursor";
import type { StepEditor } from "./editor";
import { type FinishBar, finishWarning } from "./finish";
import { type Action, keyAction } from "./keys";
import type { Changed, Labels, StepsModel } from "./labels";
import type { Progress } from "./progress";
import { makeLabelEvent, newEventId } from "./protocol";
import { KernelRequests, type LabelRoute } from "./route";
import type { Rows } from "./rows";
import type { SourceView } from "./source_view";
import type { StepHeatmap } from "./step_heatmap";
import { acceptedRatings } from "./suggestions";
import { placeOverlay } from "./ui";

/** The parts of the step labeler that keys act on. */
export interface StepParts {
  model: StepsModel;
  root: HTMLElement;
  help: HTMLElement;
  labels: Labels;
  rows: Rows;
  cursor: Cursor;
  editor: StepEditor;
  heatmap: StepHeatmap;
  finishBar: FinishBar;
  progress: Progress;
  sourceView: SourceView;
  route: LabelRoute<LabelEvent>;
  /** Long steps the labeler unfolded (`z`). */
  unfolded: Set<number>;
  /** Brings the rows of `changed` (undefined: every row) and the bars up to date. */
  draw(changed?: Changed): void;
  drawFinish(): void;
  kernelGone(): void;
}

/** What each key (and each click on a row) does: labels sent, the cursor moved, views toggled. */
export class StepActions {
  readonly #parts: StepParts;
  readonly #generation: KernelRequests<GenerateEvent>;
  /** When the previous label was sent (or the widget appeared): a label's time on task starts there. */
  #lastActionAt = performance.now();

  constructor(parts: StepParts) {
    this.#parts = parts;
    this.#generation = new KernelRequests<GenerateEvent>(parts.model, {
      onReply: (event, outcome) => {
        const { labels } = this.#parts;
        const request = labels.generating.get(event.step);
        if (request?.id !== event.id) return;
        labels.generating.delete(event.step);
        // Show the first new alternative, so the labeler can rate it straight away.
        if (outcome.ok) labels.shownAlt.set(event.step, Math.min(request.before, labels.alternativesAt(event.step).length - 1));
        else labels.local.set(event.step, { status: "error", id: event.id, message: outcome.message });
        this.#parts.draw();
      },
      onKernelGone: () => this.#parts.kernelGone(),
    });
  }

  /**
   * Acts on a key pressed in the widget. JupyterLab handles shortcuts while keydown bubbles, so
   * a key the widget takes stops here: j/k/0 then do not also move between notebook cells.
   */
  onKeydown = (ev: KeyboardEvent) => {
    const { help, sourceView, labels } = this.#parts;
    const action = keyAction(ev);
    if (action === null) {
      if (ev.key === "Escape" && (!help.hidden || sourceView.open)) {
        if (!help.hidden) help.hidden = true;
        else sourceView.hide();
        ev.preventDefault();
        ev.stopPropagation();
      }
      return;
    }
    ev.preventDefault();
    ev.stopPropagation();
    if (labels.stepCount() > 0 || action.kind === "help" || action.kind === "queue") this.act(action);
  };

  /** A click on a row selects it; on one of its rating buttons, rates it. */
  onClick = (ev: MouseEvent) => {
    if (!(ev.target instanceof Element) || ev.target.closest("textarea") !== null) return;
    const row = ev.target.closest<HTMLElement>(".lw-step");
    if (row === null) return;
    this.#parts.root.focus({ preventScroll: true });
    const step = Number(row.dataset.step);
    const button = ev.target.closest<HTMLElement>(".lw-step__rate");
    if (button === null) this.#parts.cursor.moveTo(step);
    else this.#rate(step, Number(button.dataset.rate) as LabelValue);
  };

  /** Sends a label of `step` (a choice, flag, replacement or note, or a rating), shown as pending. */
  label(step: number, kind: Exclude<LabelKind, "finish">, payload: { value?: number; text?: string; accepts_suggestion?: boolean }): void {
    const { labels } = this.#parts;
    if (step < 0 || step >= labels.stepCount()) return;
    // A choice is one per step (its value names the alternative); the rest are per alternative.
    const alt = kind === "choice" ? 0 : labels.altOf(step);
    this.#submit({ kind: "label", step, alt, label: kind, ...payload });
    this.#parts.draw([step]);
  }

  dispose(): void {
    this.#generation.dispose();
  }

  act(action: Action): void {
    const { labels, cursor, finishBar, model } = this.#parts;
    const step = labels.currentStep();
    // A question asked by the first S stands for the very next key only.
    const asked = finishBar.asking;
    if (asked !== null) {
      finishBar.ask(null);
      this.#parts.drawFinish();
    }
    switch (action.kind) {
      case "move":
        return cursor.moveTo(step + action.delta);
      case "rate":
        return this.#rate(step, action.value);
      case "alternative": {
        const count = labels.alternativesAt(step).length;
        labels.shownAlt.set(step, (labels.altOf(step) + action.delta + count) % count);
        return this.#parts.draw([step]);
      }
      case "choose":
        return this.label(step, "choice", { value: labels.altOf(step) });
      case "flag":
        return this.label(step, "flag", { value: labels.saved().flags?.[step]?.[labels.altOf(step)] ? 0 : 1 });
      case "edit": {
        const text = (action.label === "note" ? labels.saved().notes?.[step] : labels.saved().replacements?.[step]) ?? "";
        return this.#parts.editor.open(step, action.label, text, this.#parts.rows.rowOf(step)?.extra);
      }
      case "undo":
        return this.#undo(step);
      case "finish": {
        const warning = finishWarning(action.reason, labels.firstError());
        if (warning !== null && asked === null) {
          finishBar.ask(warning);
          return this.#parts.drawFinish();
        }
        return this.#finish(action.reason);
      }
      case "accept":
        for (const { step: target, value } of acceptedRatings(labels, step, action.all)) {
          this.label(target, "rating", { value, accepts_suggestion: true });
        }
        if (!action.all) cursor.moveTo(step + 1);
        return;
      case "queue":
        if (!this.#parts.progress.canGo(action.delta)) return;
        this.#parts.editor.close();
        cursor.flush();
        return this.#parts.progress.go(action.delta);
      case "heatmap":
        if (this.#parts.heatmap.toggle()) this.#parts.draw();
        return;
      case "generate":
        return this.#generate(step, model.get("item_id"));
      case "source":
        return this.#toggleSource(step);
      case "fold":
        return this.#fold(step);
      case "help":
        return this.#toggleHelp();
    }
  }

  /**
   * Sends one event; the time since the previous one is its time on task. It is shown as pending
   * before it goes: one that cannot be sent (the kernel is gone) is settled at once.
   */
  #submit(fields: Omit<LabelEvent, "id" | "t_client" | "duration_ms" | "item">): void {
    const now = performance.now();
    const event = makeLabelEvent({ ...fields, item: this.#parts.model.get("item_id"), duration_ms: Math.round(now - this.#lastActionAt) });
    this.#lastActionAt = now;
    this.#parts.labels.track(event);
    this.#parts.route.send(event);
  }

  #rate(step: number, value: LabelValue): void {
    this.label(step, this.#parts.labels.ratingKind(), { value });
    this.#parts.cursor.moveTo(step + 1);
  }

  #undo(step: number): void {
    // No value: until Python answers with the restored label, the row shows what is saved.
    const { labels } = this.#parts;
    this.#submit({ kind: "undo", step, alt: labels.altOf(step), label: labels.ratingKind() });
    this.#parts.draw([step]);
  }

  #finish(reason: FinishReason): void {
    this.#submit({ kind: "label", step: null, alt: 0, label: "finish", text: reason });
    this.#parts.draw();
  }

  #generate(step: number, item: string): void {
    const { labels } = this.#parts;
    if (labels.generating.has(step)) return;
    const event: GenerateEvent = { kind: "generate", id: newEventId(), item, step, n: 3 };
    labels.generating.set(step, { id: event.id, before: labels.alternativesAt(step).length });
    this.#generation.send(event);
    this.#parts.draw();
  }

  #toggleSource(step: number): void {
    const { sourceView, rows, labels } = this.#parts;
    if (sourceView.open) return sourceView.hide();
    const row = rows.rowOf(step);
    if (row === undefined) return;
    sourceView.show(step, labels.alternativesAt(step)[labels.altOf(step)] ?? "", row.extra);
    sourceView.reveal();
  }

  #fold(step: number): void {
    const { rows, unfolded } = this.#parts;
    if (rows.rows[step]?.folded == null) return;
    if (unfolded.delete(step)) {
      this.#parts.draw([step]);
      // Folding may leave the screen where the rest of the step was: bring the step back.
      return rows.scrollToCursorInFrame();
    }
    unfolded.add(step);
    this.#parts.draw([step]);
  }

  /** Shows the key help where the labeler is looking (at the current step), or hides it. */
  #toggleHelp(): void {
    const { help, root, rows, labels } = this.#parts;
    help.hidden = !help.hidden;
    if (!help.hidden) placeOverlay(help, root, rows.rows[labels.currentStep()]?.li ?? null);
  }
}
