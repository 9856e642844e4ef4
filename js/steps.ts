import type { AnyWidget, RenderProps } from "@anywidget/types";
import { decodeFloat32, decodeStrings, isPacked } from "./lib/buffers";
import { DirectRoute, directChannel } from "./lib/direct";
import { finishBarText, finishWarning } from "./lib/finish";
import { type Fold, foldOf } from "./lib/fold";
import { type Heatmap, mountHeatmap } from "./lib/heatmap";
import { type Action, KEY_HINT, keyAction } from "./lib/keys";
import { renderMarkdown } from "./lib/markdown";
import { makeLabelEvent, newEventId, Outbox, type Outcome, trySend } from "./lib/protocol";
import { SourceView } from "./lib/source_view";
import { element, helpOverlay, placeOverlay } from "./lib/ui";
import type { FinishReason, GenerateEvent, GotoEvent, LabelEvent, LabelKind, LabelValue, StepLabelerTraits } from "./types";
import "./steps.css";

type Status = "none" | "pending" | "saved" | "error";

/**
 * What this view knows about a step beyond what Python has saved: the latest action taken
 * here and its fate. `saved` bridges the gap between an ack and Python's trait update, which
 * may arrive in either order.
 */
type LocalState =
  | { status: "pending" | "saved"; id: string; label: LabelKind; alt: number; value?: number; text?: string }
  | { status: "error"; id: string; message: string; label?: LabelKind };

interface Row {
  li: HTMLLIElement;
  text: HTMLDivElement;
  /** The source last rendered as Markdown into `text`: rendering is costly (KaTeX, sanitizing). */
  rendered: string | null;
  /** The source `folded` was worked out for, and how it is folded (null: shown whole). */
  foldSource: string | null;
  folded: Fold | null;
  /** Says how much of a folded step is left out, and which key shows it. */
  fold: HTMLDivElement;
  alternative: HTMLSpanElement;
  /** Where the step's tokens go when the heatmap is on. */
  heat: HTMLDivElement;
  suggestion: HTMLSpanElement;
  marks: HTMLSpanElement;
  label: HTMLSpanElement;
  status: HTMLSpanElement;
  extra: HTMLDivElement;
  /** The step's replacement and note, each with its own saved mark. */
  replacement: HTMLSpanElement;
  note: HTMLSpanElement;
  error: HTMLDivElement;
}

const VALUE_NAMES: Record<LabelValue, string> = { [-1]: "✗ wrong", 0: "~ neutral", 1: "✓ correct" };
const STATUS_TEXT: Record<Status, string> = { none: "", pending: "saving…", saved: "saved", error: "not saved" };
const RATE_BUTTONS: { value: LabelValue; text: string }[] = [
  { value: -1, text: "−1" },
  { value: 0, text: "0" },
  { value: 1, text: "+1" },
];
const KERNEL_GONE_TEXT =
  "The kernel is gone. Every label marked saved is in the store; labels the server still takes " +
  "directly are saved and marked so, the others say not saved. Restart the kernel and re-run this " +
  "cell to go on.";

/**
 * Rows are built a block at a time. Until a block comes near the screen it is one empty
 * placeholder of about its height, so a 1,000-step output costs the browser a screenful of rows
 * to show, and a long session never lays out more than it has scrolled through.
 */
export const BLOCK_ROWS = 12;
/** The longest a key press's drawing waits for the ack of a label sent to the server extension. */
export const DRAW_HOLD_MS = 10;
/** A placeholder's height per row until a built row has been measured. */
const DEFAULT_ROW_PX = 48;
/** Blocks are built this far ahead of the screen, so scrolling meets finished rows. */
const BLOCK_MARGIN = "1000px 0px";

/**
 * The cursor reaches Python this long after the keyboard stops moving it, so that a key press
 * sends the kernel its label and nothing else: the label's ack never queues behind the cursor's
 * own round trip.
 */
export const CURSOR_SYNC_MS = 250;

function signed(value: number): string {
  return value > 0 ? `+${value}` : String(value);
}

// Redraws run on every key press over every row: writing only what changed keeps them from
// invalidating style and layout for the whole list.
function setText(node: HTMLElement, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

function setData(node: HTMLElement, key: string, value: string): void {
  if (node.dataset[key] !== value) node.dataset[key] = value;
}

function setHidden(node: HTMLElement, hidden: boolean): void {
  if (node.hidden !== hidden) node.hidden = hidden;
}

function makeRow(step: number): Row {
  const li = element("li", "lw-step", `step-${step}`);
  li.dataset.step = String(step);
  const number = element("span", "lw-step__number", `number-${step}`);
  number.textContent = `${step + 1}.`;
  const body = element("div", "lw-step__body");
  const text = element("div", "lw-step__text");
  const alternative = element("span", "lw-step__alternative", `alternative-${step}`);
  const extra = element("div", "lw-step__extra", `step-extra-${step}`);
  const replacement = element("span", "lw-step__replacement", `replacement-${step}`);
  const note = element("span", "lw-step__note", `note-${step}`);
  extra.append(replacement, note);
  const heat = element("div", "lw-step__heat", `heat-${step}`);
  const fold = element("div", "lw-step__fold", `fold-${step}`);
  body.append(alternative, text, heat, fold, extra);
  const marks = element("span", "lw-step__marks", `marks-${step}`);
  const suggestion = element("span", "lw-step__suggestion", `suggestion-${step}`);
  const label = element("span", "lw-step__label");
  const status = element("span", "lw-step__status");
  const buttons = element("span", "lw-step__buttons");
  for (const { value, text: caption } of RATE_BUTTONS) {
    const button = element("button", "lw-step__rate", `rate-${step}-${value}`);
    button.type = "button";
    button.dataset.rate = String(value);
    button.title = `${VALUE_NAMES[value]} (${signed(value)})`;
    button.textContent = caption;
    buttons.append(button);
  }
  const error = element("div", "lw-step__error", `step-error-${step}`);
  li.append(number, body, marks, suggestion, label, status, buttons, error);
  return {
    li, text, rendered: null, foldSource: null, folded: null, fold, alternative, heat, suggestion, marks, label, status, extra,
    replacement, note, error,
  };
}

export function render({ model, el }: Pick<RenderProps<StepLabelerTraits>, "model" | "el">): () => void {
  const local = new Map<number, LocalState>();
  /** Steps waiting for the model's alternatives: the request id and how many there were. */
  const generating = new Map<number, { id: string; before: number }>();
  const shownAlt = new Map<number, number>();
  /** Built rows by step; a step in a block not built yet has none. */
  const rows: (Row | undefined)[] = [];
  let finishState: LocalState | null = null;
  let editor: { step: number; label: "note" | "replacement"; box: HTMLTextAreaElement } | null = null;
  let lastActionAt = performance.now();

  const root = element("div", "lw-widget lw-steps", "step-labeler");
  root.tabIndex = 0;
  // Keeps JupyterLab's command-mode shortcuts (j, k, 0 0, ...) from firing while the widget has focus.
  root.dataset.lmSuppressShortcuts = "true";
  root.setAttribute("aria-label", "Step labeler");
  const prompt = element("div", "lw-steps__prompt", "prompt");
  const list = element("ol", "lw-steps__list");
  const finishBar = element("div", "lw-steps__finish", "finish-bar");
  const progress = element("div", "lw-steps__progress", "progress");
  const progressBar = element("div", "lw-steps__progress-bar");
  const progressText = element("span", "lw-steps__progress-text");
  progress.append(progressBar, progressText);
  const hint = element("div", "lw-steps__hint", "key-hint");
  hint.textContent = KEY_HINT;
  const help = helpOverlay();
  const kernelGoneBar = element("div", "lw-steps__gone", "kernel-gone");
  kernelGoneBar.setAttribute("role", "alert");
  kernelGoneBar.hidden = true;
  const sourceView = new SourceView();
  /** Long steps the labeler unfolded (`z`). */
  const unfolded = new Set<number>();
  /** The question a first `S` asked (a step is rated wrong), while it waits for a second `S`. */
  let finishAsk: string | null = null;
  root.append(progress, kernelGoneBar, prompt, list, finishBar, hint, help);
  el.append(root);

  let promptSource: string | null = null;
  const stepCount = () => model.get("steps").length;
  const currentStep = () => Math.min(Math.max(model.get("cursor"), 0), stepCount() - 1);
  const saved = () => model.get("saved") ?? {};
  // Python sets steps and alternatives together; until both have arrived, steps wins.
  const alternativesAt = (step: number) => {
    const alternatives = model.get("alternatives")?.[step];
    return alternatives?.[0] === model.get("steps")[step] ? alternatives : [model.get("steps")[step]];
  };
  const altOf = (step: number) => shownAlt.get(step) ?? saved().choices?.[step] ?? 0;
  const savedRating = (step: number, alt: number): LabelValue | null =>
    alt === 0 ? (model.get("step_labels")[step] ?? null) : (saved().ratings?.[step]?.[alt] ?? null);

  const suggestionAt = (step: number) => model.get("suggestions")?.[step] ?? null;

  function shownRating(step: number): LabelValue | null {
    const state = local.get(step);
    const alt = altOf(step);
    if (state?.status !== "error" && state?.label === "rating" && state.alt === alt && state.value !== undefined) {
      return state.value as LabelValue;
    }
    return savedRating(step, alt);
  }

  /**
   * A flag, choice, replacement or note of `step` as shown, with its status: the latest action
   * of that kind taken here, until Python's traits have it; else what Python saved (`saved`).
   */
  function shownMark<T extends number | string | null>(
    step: number,
    kind: "flag" | "choice" | "replacement" | "note",
    saved: T,
    alt?: number,
  ): { value: T; status: Status } {
    const state = local.get(step);
    if (state?.label !== kind || (alt !== undefined && state.status !== "error" && state.alt !== alt)) {
      return { value: saved, status: saved === null || saved === 0 || saved === "" ? "none" : "saved" };
    }
    if (state.status === "error") return { value: saved, status: "error" };
    const value = (kind === "replacement" || kind === "note" ? state.text : state.value) as T;
    return { value: value ?? saved, status: state.status };
  }

  /** The first step shown as wrong, or null: steps after it are dimmed (PRM800K phase 2). */
  function firstError(): number | null {
    for (let step = 0; step < stepCount(); step++) if (shownRating(step) === -1) return step;
    return null;
  }

  /** The step count the blocks were laid out for; -1 before the first layout. */
  let laidOut = -1;
  /** Placeholders of blocks not built yet, by block number. */
  const placeholders = new Map<number, HTMLLIElement>();
  let rowPx = DEFAULT_ROW_PX;
  let rowPxMeasured = false;
  let observer: IntersectionObserver | null = null;

  /**
   * (Re)makes the observer that builds blocks as they come near the screen. Steps that scroll on
   * their own (`max_height`) are its root, so blocks are built as they near the visible part
   * of that scroll area; otherwise the window is, and the notebook's scroll area stretched by
   * scrollMargin. Without an IntersectionObserver (jsdom) every block is built at once.
   */
  function observeBlocks(bounded: boolean): void {
    observer?.disconnect();
    if (typeof IntersectionObserver === "undefined") return;
    observer = new IntersectionObserver(
      (entries) => {
        // Layout is clean here: measure the built rows before adding more.
        if (!rowPxMeasured) measureRows();
        for (const entry of entries) {
          if (entry.isIntersecting) buildBlock(Number((entry.target as HTMLElement).dataset.block));
        }
      },
      bounded
        ? { root: list, rootMargin: BLOCK_MARGIN }
        : ({ rootMargin: BLOCK_MARGIN, scrollMargin: BLOCK_MARGIN } as IntersectionObserverInit),
    );
    for (const placeholder of placeholders.values()) observer.observe(placeholder);
  }

  /** Sizes the placeholders from the rows built so far, so the scrollbar is about right. */
  function measureRows(): void {
    const built = rows.filter((row): row is Row => row !== undefined && row.li.isConnected);
    const height = built.reduce((sum, row) => sum + row.li.offsetHeight, 0);
    if (height === 0) return;
    rowPxMeasured = true;
    rowPx = height / built.length;
    for (const [block, placeholder] of placeholders) placeholder.style.height = `${blockSize(block) * rowPx}px`;
  }

  const blockSize = (block: number) => Math.min(BLOCK_ROWS, stepCount() - block * BLOCK_ROWS);

  function makePlaceholder(block: number): HTMLLIElement {
    const placeholder = element("li", "lw-steps__placeholder");
    placeholder.dataset.block = String(block);
    placeholder.setAttribute("aria-hidden", "true");
    placeholder.style.height = `${blockSize(block) * rowPx}px`;
    placeholders.set(block, placeholder);
    observer?.observe(placeholder);
    return placeholder;
  }

  /** Builds and draws the rows of `block` in place of its placeholder. */
  function buildBlock(block: number): void {
    const placeholder = placeholders.get(block);
    if (placeholder === undefined) return;
    placeholders.delete(block);
    observer?.unobserve(placeholder);
    const first = block * BLOCK_ROWS;
    const built: HTMLLIElement[] = [];
    const errorAt = firstError();
    for (let step = first; step < first + blockSize(block); step++) {
      const row = makeRow(step);
      rows[step] = row;
      built.push(row.li);
      heatmap?.attach(step, row.heat);
      drawRow(step, errorAt);
    }
    placeholder.replaceWith(...built);
  }

  /**
   * Whether a row is wholly inside the window and every scrolling area around it. A cursor that
   * leaves the screen is brought to the middle of it, not just to its edge: the next several
   * steps then need no scrolling, and scrolling repaints the whole notebook while an ack is due.
   */
  function onScreen(li: HTMLElement): boolean {
    const box = li.getBoundingClientRect();
    let top = 0;
    let bottom = window.innerHeight;
    for (let node = li.parentElement; node !== null; node = node.parentElement) {
      if (node.scrollHeight <= node.clientHeight || getComputedStyle(node).overflowY === "visible") continue;
      const area = node.getBoundingClientRect();
      top = Math.max(top, area.top);
      bottom = Math.min(bottom, area.bottom);
    }
    return box.top >= top && box.bottom <= bottom;
  }

  let idleBuild: number | undefined;

  /**
   * Builds the blocks just ahead of (and behind) the cursor while the page is idle, one block
   * per idle period, so that moving through the steps never waits for a block to be built.
   * The observer alone would build them only once they near the screen, which JupyterLab's
   * clipping panels hide until they are on it.
   */
  function buildAheadWhenIdle(): void {
    if (typeof requestIdleCallback !== "function" || idleBuild !== undefined) return;
    const near = () => {
      const block = Math.floor(currentStep() / BLOCK_ROWS);
      return [block + 1, block + 2, block - 1].filter((b) => placeholders.has(b));
    };
    if (near().length === 0) return;
    idleBuild = requestIdleCallback(
      () => {
        idleBuild = undefined;
        const [next] = near();
        if (next !== undefined) buildBlock(next);
        buildAheadWhenIdle();
      },
      { timeout: 1000 },
    );
  }

  /** The row of `step`, built if its block was not yet. */
  function rowOf(step: number): Row | undefined {
    if (rows[step] === undefined) buildBlock(Math.floor(step / BLOCK_ROWS));
    return rows[step];
  }

  /** Lays the list out afresh for a new number of steps: the first block built, the rest placeholders. */
  function layOut(): void {
    for (const placeholder of placeholders.values()) observer?.unobserve(placeholder);
    placeholders.clear();
    rows.length = 0;
    laidOut = stepCount();
    const blocks = Math.ceil(laidOut / BLOCK_ROWS);
    list.replaceChildren(...Array.from({ length: blocks }, (_, block) => makePlaceholder(block)));
    for (let block = 0; block < blocks; block++) {
      if (block === 0 || observer === null) buildBlock(block);
    }
    buildBlock(Math.floor(currentStep() / BLOCK_ROWS));
    buildAheadWhenIdle();
  }

  function drawRow(step: number, errorAt: number | null): void {
    const row = rows[step];
    if (row === undefined) return;
    const alt = altOf(step);
    const alternatives = alternativesAt(step);
    const source = alternatives[alt] ?? "";
    if (row.foldSource !== source) {
      row.folded = foldOf(source);
      row.foldSource = source;
    }
    const folded = row.folded !== null && !unfolded.has(step);
    const shown = folded && row.folded !== null ? row.folded.shown : source;
    // With the heatmap on, the tokens stand in for the text: it is rendered when it shows.
    if (row.rendered !== shown && !(heatmap !== null && heatmapOn)) {
      row.text.replaceChildren(renderMarkdown(shown));
      row.rendered = shown;
    }
    row.li.classList.toggle("lw-step--long", row.folded !== null);
    row.li.classList.toggle("lw-step--folded", folded);
    setText(row.fold, row.folded === null ? "" : folded ? `${row.folded.more} (z shows all)` : "(z folds this step)");
    const choice = shownMark(step, "choice", saved().choices?.[step] ?? null);
    const chosen = choice.value === alt;
    setText(row.alternative, alternatives.length > 1
        ? `alternative ${alt + 1} of ${alternatives.length}${chosen ? ` · chosen ${STATUS_TEXT[choice.status]}` : ""} (h/l, c to choose)`
        : "");
    setData(row.alternative, "status", chosen ? choice.status : "none");
    const value = shownRating(step);
    const state = local.get(step);
    const status: Status = generating.has(step) ? "pending" : (state?.status ?? (value === null ? "none" : "saved"));
    setText(row.label, value === null ? "" : `${VALUE_NAMES[value]} (${signed(value)})`);
    const suggested = value === null && alt === 0 ? suggestionAt(step) : null;
    setText(row.suggestion, suggested === null
        ? ""
        : `suggested ${VALUE_NAMES[suggested.value]}${suggested.confidence === null ? "" : ` ${Math.round(suggested.confidence * 100)}%`} · ${suggested.source} (a accepts)`);
    setData(row.li, "suggested", suggested === null ? "" : String(suggested.value));
    setText(row.status, generating.has(step) ? "generating…" : STATUS_TEXT[status]);
    const message = state?.status === "error" ? state.message : "";
    setText(row.error, message);
    setHidden(row.error, message === "");
    const flag = shownMark(step, "flag", saved().flags?.[step]?.[alt] ? 1 : 0, alt);
    const flagged = flag.value === 1;
    setText(row.marks, flagged ? `⚑ can't tell · ${STATUS_TEXT[flag.status]}` : "");
    setData(row.marks, "status", flagged ? flag.status : "none");
    for (const kind of ["replacement", "note"] as const) {
      const mark = shownMark(step, kind, saved()[`${kind}s`]?.[step] ?? null);
      setText(row[kind], mark.value ? `${kind}: ${mark.value} · ${STATUS_TEXT[mark.status]}` : "");
      setData(row[kind], "status", mark.value ? mark.status : "none");
    }
    setData(row.li, "status", status);
    setData(row.li, "value", value === null ? "" : String(value));
    setData(row.li, "flagged", String(flagged));
    setData(row.li, "alt", String(alt));
    row.li.classList.toggle("lw-step--after-error", errorAt !== null && step > errorAt);
    const current = step === currentStep();
    row.li.classList.toggle("lw-step--current", current);
    row.li.toggleAttribute("aria-current", current);
    if (current && sourceView.open) sourceView.show(step, source, row.extra);
  }

  function drawFinish(errorAt: number | null): void {
    const reason = saved().finish ?? null;
    const text = finishBarText({ heatmapError, local: finishState, reason, errorAt, warning: finishAsk });
    setText(finishBar, text);
    setHidden(finishBar, text === "");
    setData(finishBar, "status", finishState?.status ?? (reason === null ? "none" : "saved"));
    setData(finishBar, "reason", reason ?? "");
    setData(finishBar, "asking", String(finishAsk !== null));
  }

  let heatmap: Heatmap | null = null;
  let heatmapOn = true;
  let heatmapError = "";

  /**
   * (Re)builds the token heatmap from the traits; the item's text shows when it is off. Rows
   * built later get their tokens as they are built. Call `draw` after it.
   */
  function mountTokens(): void {
    heatmap?.dispose();
    heatmap = null;
    const packedTokens = model.get("tokens");
    root.classList.remove("lw-steps--heatmap");
    if (isPacked(packedTokens)) {
      try {
        heatmap = mountHeatmap(list, {
          tokens: decodeStrings(packedTokens),
          scores: decodeFloat32(model.get("token_scores") as Parameters<typeof decodeFloat32>[0]),
          stepTokenCounts: model.get("step_token_counts"),
          kind: model.get("score_kind"),
          about: model.get("score_about"),
          slots: Array.from({ length: stepCount() }, (_, step) => rows[step]?.heat),
        });
        heatmap.setVisible(heatmapOn);
        root.classList.toggle("lw-steps--heatmap", heatmapOn);
      } catch (error) {
        heatmapError = `cannot show the token heatmap: ${(error as Error).message}`;
      }
    }
  }

  function toggleHeatmap(): void {
    if (heatmap === null) return;
    heatmapOn = !heatmapOn;
    heatmap.setVisible(heatmapOn);
    root.classList.toggle("lw-steps--heatmap", heatmapOn);
    draw();
  }

  let navigationError = "";
  let ticker: ReturnType<typeof setInterval> | undefined;

  /** The queue's progress: where we are, what is done, and this session's pace. */
  function drawProgress(): void {
    const { position = 0, total = 0, done = 0, session_labels = 0, session_started_ms } = model.get("progress") ?? {};
    setHidden(progress, total === 0);
    if (total === 0) return;
    const elapsed = Math.max(Date.now() - (session_started_ms ?? Date.now()), 0);
    const minutes = Math.floor(elapsed / 60_000);
    const seconds = Math.floor((elapsed % 60_000) / 1000);
    const perHour = elapsed > 0 ? Math.round((session_labels * 3_600_000) / elapsed) : 0;
    progressBar.style.width = `${(100 * done) / total}%`;
    setText(progressText, navigationError ||
      `item ${position + 1} of ${total} · ${done} done · ${session_labels} labels this session · ` +
        `${perHour} labels/h · ${minutes}:${String(seconds).padStart(2, "0")} (N next, P previous)`);
    setData(progress, "done", String(done));
    setData(progress, "total", String(total));
    setData(progress, "position", String(position));
    // The session clock ticks only while there is a queue to show it for.
    ticker ??= setInterval(drawProgress, 1000);
  }

  /** The first error and the cursor as last drawn: when either moves, more rows change. */
  let drawnErrorAt: number | null = null;
  let drawnCursor = -1;

  /**
   * Draws asked for while labels sent to the server extension await their acks. Those acks
   * take a few milliseconds, about what the browser needs to style, lay out and paint the page
   * after a key press; drawing the key press at once would make its ack wait for that frame.
   * So the key press is drawn together with its ack, or after `DRAW_HOLD_MS` if none came.
   */
  let held: { ids: Set<string>; all: boolean; steps: Set<number>; cursor: boolean; timer: ReturnType<typeof setTimeout> } | null = null;

  function holdDraws(id: string): void {
    held ??= { ids: new Set(), all: false, steps: new Set(), cursor: false, timer: setTimeout(releaseDraws, DRAW_HOLD_MS) };
    held.ids.add(id);
  }

  function releaseDraws(): void {
    if (held === null) return;
    const { all, steps, cursor, timer } = held;
    clearTimeout(timer);
    held = null;
    if (cursor) onCursor();
    draw(all ? undefined : [...steps]);
  }

  /**
   * Brings the DOM up to date: every built row, or only the `changed` steps when the rest
   * cannot have changed. A key press redraws a row or two, never the whole list, so the ack
   * that follows it finds the page idle.
   */
  function draw(changed?: number[]): void {
    if (held !== null) {
      if (changed === undefined) held.all = true;
      else for (const step of changed) held.steps.add(step);
      return;
    }
    drawProgress();
    if (promptSource !== model.get("prompt")) {
      promptSource = model.get("prompt");
      prompt.replaceChildren(renderMarkdown(promptSource));
    }
    if (laidOut !== stepCount()) layOut();
    const errorAt = firstError();
    if (changed === undefined || errorAt !== drawnErrorAt) {
      rows.forEach((_, step) => drawRow(step, errorAt));
    } else {
      for (const step of new Set([...changed, drawnCursor, currentStep()])) drawRow(step, errorAt);
    }
    drawnErrorAt = errorAt;
    drawnCursor = currentStep();
    drawFinish(errorAt);
  }

  let cursorSync: ReturnType<typeof setTimeout> | undefined;
  /** The cursor as last sent to Python, and a move made since that waits to be sent. */
  let sentCursor: number | null = null;
  let unsentCursor: number | null = null;

  function moveTo(step: number): void {
    const target = Math.min(Math.max(step, 0), stepCount() - 1);
    if (target < 0 || target === model.get("cursor")) return;
    unsentCursor = target;
    model.set("cursor", target);
    clearTimeout(cursorSync);
    cursorSync = setTimeout(syncCursor, CURSOR_SYNC_MS);
  }

  function syncCursor(): void {
    cursorSync = undefined;
    sentCursor = unsentCursor;
    unsentCursor = null;
    if (!trySend(() => model.save_changes())) showKernelGone();
  }

  /**
   * ipywidgets echoes a sent cursor back once Python has it. An echo that comes while a newer
   * move waits to be sent would take the cursor back, and the next key would label the step
   * before; so the newer move stands.
   */
  function onCursorChange(): void {
    const cursor = model.get("cursor");
    if (unsentCursor !== null && cursor === sentCursor && cursor !== unsentCursor) {
      model.set("cursor", unsentCursor);
      return;
    }
    onCursor();
  }

  /** Sends a cursor move still waiting, e.g. before Python loads another item and resets it. */
  function flushCursor(): void {
    if (cursorSync === undefined) return;
    clearTimeout(cursorSync);
    syncCursor();
  }

  /**
   * Sends one event; the time since the previous one is its time on task. `track` records it
   * before it goes: an event that cannot be sent (the kernel is gone) is settled at once.
   */
  function submit(fields: Omit<LabelEvent, "id" | "t_client" | "duration_ms" | "item">, track: (event: LabelEvent) => void): void {
    const now = performance.now();
    const event = makeLabelEvent({
      ...fields,
      item: model.get("item_id"),
      duration_ms: Math.round(now - lastActionAt),
    });
    lastActionAt = now;
    track(event);
    outbox.submit(event);
  }

  function label(
    step: number,
    kind: Exclude<LabelKind, "finish">,
    payload: { value?: number; text?: string; accepts_suggestion?: boolean },
  ): void {
    if (step < 0 || step >= stepCount()) return;
    // A choice is one per step (its value names the alternative); the rest are per alternative.
    const alt = kind === "choice" ? 0 : altOf(step);
    submit({ kind: "label", step, alt, label: kind, ...payload }, (event) => {
      local.set(step, { status: "pending", id: event.id, label: kind, alt, ...payload });
    });
    draw([step]);
  }

  function rate(step: number, value: LabelValue): void {
    label(step, "rating", { value });
    moveTo(step + 1);
  }

  /** Accepts the suggestion of one step, or of every step still without a rating. */
  function accept(step: number, all: boolean): void {
    const steps = all ? [...Array(stepCount()).keys()] : [step];
    for (const target of steps) {
      const suggested = suggestionAt(target);
      if (suggested === null || shownRating(target) !== null || altOf(target) !== 0) continue;
      label(target, "rating", { value: suggested.value, accepts_suggestion: true });
    }
    if (!all) moveTo(step + 1);
  }

  function undo(step: number): void {
    const alt = altOf(step);
    // No value: until Python answers with the restored label, the row shows what is saved.
    submit({ kind: "undo", step, alt, label: "rating" }, (event) => {
      local.set(step, { status: "pending", id: event.id, label: "rating", alt });
    });
    draw([step]);
  }

  function finish(reason: FinishReason): void {
    submit({ kind: "label", step: null, alt: 0, label: "finish", text: reason }, (event) => {
      finishState = { status: "pending", id: event.id, label: "finish", alt: 0, text: reason };
    });
    draw();
  }

  function openEditor(step: number, kind: "note" | "replacement"): void {
    closeEditor();
    const box = element("textarea", "lw-step__editor", `editor-${step}`);
    box.placeholder =
      kind === "note" ? "A note on this step (Enter saves, Esc cancels)" : "The step as it should be (Enter saves, Esc cancels)";
    box.value = (kind === "note" ? saved().notes?.[step] : saved().replacements?.[step]) ?? "";
    box.addEventListener("keydown", onEditorKeydown);
    rowOf(step)?.extra.after(box);
    editor = { step, label: kind, box };
    box.focus();
  }

  function closeEditor(): void {
    if (editor === null) return;
    editor.box.removeEventListener("keydown", onEditorKeydown);
    editor.box.remove();
    editor = null;
    root.focus({ preventScroll: true });
  }

  const onEditorKeydown = (ev: KeyboardEvent) => {
    // The editor's keys are its own: nothing typed here may reach JupyterLab or the key map.
    ev.stopPropagation();
    if (editor === null) return;
    if (ev.key === "Escape") {
      ev.preventDefault();
      closeEditor();
    } else if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      const { step, label: kind, box } = editor;
      const text = box.value.trim();
      closeEditor();
      if (text !== "") label(step, kind, { text });
    }
  };

  // Only the latest action on a step decides what it shows; replies to older ones are stale.
  function settle(event: LabelEvent, outcome: Outcome): void {
    if (event.item !== model.get("item_id")) return;
    // Which label an undo restored shows once the kernel has re-read the store: till then, pending.
    const restoring = event.kind === "undo" && direct.untold(event.id);
    const next: LocalState = outcome.ok
      ? { status: restoring ? "pending" : "saved", id: event.id, label: event.label, alt: event.alt, value: event.value, text: event.text }
      : { status: "error", id: event.id, message: outcome.message, label: event.label };
    if (event.step === null) {
      if (finishState?.id === event.id) finishState = next;
    } else if (local.get(event.step)?.id === event.id) {
      local.set(event.step, next);
    }
    draw(event.step === null ? undefined : [event.step]);
    if (held?.ids.delete(event.id) && held.ids.size === 0) releaseDraws();
  }

  // Labels go to the server extension once it has accepted this item's context; the kernel
  // hears of them afterwards, and re-reads what is saved.
  const direct = new DirectRoute<LabelEvent>(model, directChannel(document), {
    receive: (msg) => outbox.receive(msg),
    committed: (events) => ({
      items: [...new Set(events.map((event) => event.item))],
      labels: events.filter((event) => event.kind === "label").length,
    }),
    told: (events) => {
      // The kernel's traits show these events now: the local bridge is no longer needed.
      const changed: number[] = [];
      for (const event of events) {
        if (event.step === null && finishState?.id === event.id) finishState = null;
        else if (event.step !== null && local.get(event.step)?.id === event.id) {
          local.delete(event.step);
          changed.push(event.step);
        }
      }
      draw(events.some((event) => event.step === null) ? undefined : changed);
    },
    kernelGone: () => showKernelGone(),
  });
  const sendLabel = (event: LabelEvent) => {
    if (direct.send(event)) holdDraws(event.id);
    else model.send(event);
  };
  const outbox = new Outbox({ send: sendLabel, settle, unsent: () => showKernelGone() });
  const navigation = new Outbox<GotoEvent>({
    send: (event) => model.send(event),
    unsent: () => showKernelGone(),
    settle: (_event, outcome) => {
      navigationError = outcome.ok ? "" : outcome.message;
      drawProgress();
    },
  });

  const generation = new Outbox<GenerateEvent>({
    send: (event) => model.send(event),
    unsent: () => showKernelGone(),
    settle: (event, outcome) => {
      const request = generating.get(event.step);
      if (request?.id !== event.id) return;
      generating.delete(event.step);
      // Show the first new alternative, so the labeler can rate it straight away.
      if (outcome.ok) shownAlt.set(event.step, Math.min(request.before, alternativesAt(event.step).length - 1));
      else local.set(event.step, { status: "error", id: event.id, message: outcome.message });
      draw();
    },
  });

  /**
   * The kernel is gone (JupyterLab's comm refused a send): the widget says so, and what is
   * safe, instead of the page throwing "Cannot send". It stays until the cell runs again.
   */
  function showKernelGone(): void {
    setText(kernelGoneBar, KERNEL_GONE_TEXT);
    setHidden(kernelGoneBar, false);
  }

  function generate(step: number): void {
    if (generating.has(step)) return;
    const event: GenerateEvent = { kind: "generate", id: newEventId(), item: model.get("item_id"), step, n: 3 };
    generating.set(step, { id: event.id, before: alternativesAt(step).length });
    generation.submit(event);
    draw();
  }

  function goto(delta: -1 | 1): void {
    const { position = 0, total = 0 } = model.get("progress") ?? {};
    const target = position + delta;
    if (total === 0 || target < 0 || target >= total) return;
    closeEditor();
    flushCursor();
    navigation.submit({ kind: "goto", id: newEventId(), position: target });
  }

  function act(action: Action): void {
    const step = currentStep();
    // A question asked by the first S stands for the very next key only.
    const asked = finishAsk;
    if (asked !== null) {
      finishAsk = null;
      drawFinish(firstError());
    }
    switch (action.kind) {
      case "move":
        return moveTo(step + action.delta);
      case "rate":
        return rate(step, action.value);
      case "alternative": {
        const count = alternativesAt(step).length;
        shownAlt.set(step, (altOf(step) + action.delta + count) % count);
        return draw([step]);
      }
      case "choose":
        return label(step, "choice", { value: altOf(step) });
      case "flag":
        return label(step, "flag", { value: saved().flags?.[step]?.[altOf(step)] ? 0 : 1 });
      case "edit":
        return openEditor(step, action.label);
      case "undo":
        return undo(step);
      case "finish": {
        const warning = finishWarning(action.reason, firstError());
        if (warning !== null && asked === null) {
          finishAsk = warning;
          return drawFinish(firstError());
        }
        return finish(action.reason);
      }
      case "accept":
        return accept(step, action.all);
      case "queue":
        return goto(action.delta);
      case "heatmap":
        return toggleHeatmap();
      case "generate":
        return generate(step);
      case "source":
        if (sourceView.open) sourceView.hide();
        else showSource(step);
        return;
      case "fold":
        if (rows[step]?.folded == null) return;
        if (unfolded.delete(step)) {
          draw([step]);
          // Folding may leave the screen where the rest of the step was: bring the step back.
          return scrollToCursorInFrame();
        }
        unfolded.add(step);
        return draw([step]);
      case "help":
        return toggleHelp();
    }
  }

  function showSource(step: number): void {
    const row = rowOf(step);
    if (row === undefined) return;
    sourceView.show(step, alternativesAt(step)[altOf(step)] ?? "", row.extra);
    sourceView.reveal();
  }

  /** Shows the key help where the labeler is looking (at the current step), or hides it. */
  function toggleHelp(): void {
    help.hidden = !help.hidden;
    if (!help.hidden) placeOverlay(help, root, rows[currentStep()]?.li ?? null);
  }

  const onKeydown = (ev: KeyboardEvent) => {
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
    // JupyterLab handles shortcuts while keydown bubbles, so stopping it here keeps j/k/0
    // from also moving between notebook cells.
    ev.preventDefault();
    ev.stopPropagation();
    if (stepCount() > 0 || action.kind === "help" || action.kind === "queue") act(action);
  };

  const onClick = (ev: MouseEvent) => {
    if (!(ev.target instanceof Element) || ev.target.closest("textarea") !== null) return;
    const row = ev.target.closest<HTMLElement>(".lw-step");
    if (row === null) return;
    root.focus({ preventScroll: true });
    const step = Number(row.dataset.step);
    const button = ev.target.closest<HTMLElement>(".lw-step__rate");
    if (button === null) moveTo(step);
    else rate(step, Number(button.dataset.rate) as LabelValue);
  };

  function onCursor(): void {
    if (held !== null) {
      held.cursor = true;
      return;
    }
    const step = currentStep();
    rowOf(step);
    draw([]);
    buildAheadWhenIdle();
    scrollToCursorInFrame();
  }

  /**
   * Brings the cursor's row on screen, checked in the next frame: reading its position now
   * would lay the page out twice, once here and once for the frame.
   */
  let scrollCheck: number | undefined;
  function scrollToCursorInFrame(): void {
    if (scrollCheck !== undefined) return;
    scrollCheck = requestAnimationFrame(() => {
      scrollCheck = undefined;
      const li = rows[currentStep()]?.li;
      if (li === undefined || onScreen(li)) return;
      // A step taller than half the screen shows from its start: its middle says little.
      const tall = li.getBoundingClientRect().height > window.innerHeight / 2;
      li.scrollIntoView?.({ block: tall ? "start" : "center" }); // jsdom has none
    });
  }
  /** What Python has saved for a step, as a string that changes whenever any of it does. */
  const savedKey = (step: number) => {
    const { ratings, flags, choices, replacements, notes } = saved();
    return JSON.stringify([model.get("step_labels")[step], ratings?.[step], flags?.[step], choices?.[step], replacements?.[step], notes?.[step]]);
  };
  let savedKeys: string[] = [];

  const onSaved = () => {
    const changed: number[] = [];
    // Python's traits now hold every acked action, so the local bridge is no longer needed;
    // except for one committed directly, until the kernel has re-read the store after it.
    const known = (state: LocalState | null | undefined) => state?.status === "saved" && !direct.untold(state.id);
    for (const [step, state] of local) {
      if (!known(state)) continue;
      local.delete(step);
      changed.push(step);
    }
    if (known(finishState)) finishState = null;
    const keys = Array.from({ length: stepCount() }, (_, step) => savedKey(step));
    keys.forEach((key, step) => {
      if (key !== savedKeys[step]) changed.push(step);
    });
    savedKeys = keys;
    draw(changed);
  };
  const onItem = () => {
    local.clear();
    generating.clear();
    shownAlt.clear();
    finishState = null;
    finishAsk = null;
    heatmapError = "";
    unfolded.clear();
    sourceView.hide();
    closeEditor();
    mountTokens();
    draw();
  };
  const onTokens = () => {
    mountTokens();
    draw();
  };
  const onCustom = (msg: unknown) => {
    outbox.receive(msg);
    navigation.receive(msg);
    generation.receive(msg);
  };

  /**
   * A long output scrolls inside the widget (`max_height`, e.g. "70vh"), so a 50,000-step item
   * is not one endless notebook output; null lets it grow with its steps.
   */
  const applyMaxHeight = () => {
    const height = model.get("max_height") ?? null;
    list.style.maxHeight = height ?? "";
    list.classList.toggle("lw-steps__list--bounded", height !== null);
    observeBlocks(height !== null);
  };

  const drawAll = () => draw();
  const modelListeners: [string, (msg?: unknown) => void][] = [
    ["change:prompt", drawAll],
    ["change:steps", drawAll],
    ["change:alternatives", drawAll],
    ["change:step_labels", onSaved],
    ["change:saved", onSaved],
    ["change:cursor", onCursorChange],
    ["change:item_id", onItem],
    ["change:progress", drawProgress],
    ["change:tokens", onTokens],
    ["change:token_scores", onTokens],
    ["change:step_token_counts", onTokens],
    ["change:score_kind", onTokens],
    ["change:max_height", applyMaxHeight],
    ["msg:custom", onCustom],
  ];
  for (const [name, callback] of modelListeners) model.on(name, callback);
  root.addEventListener("keydown", onKeydown);
  list.addEventListener("click", onClick);
  applyMaxHeight();
  mountTokens();
  draw();

  return () => {
    for (const [name, callback] of modelListeners) model.off(name, callback);
    root.removeEventListener("keydown", onKeydown);
    list.removeEventListener("click", onClick);
    closeEditor();
    observer?.disconnect();
    if (idleBuild !== undefined) cancelIdleCallback(idleBuild);
    heatmap?.dispose();
    clearInterval(ticker);
    if (held !== null) clearTimeout(held.timer);
    if (scrollCheck !== undefined) cancelAnimationFrame(scrollCheck);
    flushCursor();
    outbox.dispose();
    direct.dispose();
    navigation.dispose();
    generation.dispose();
  };
}

export default { render } satisfies AnyWidget<StepLabelerTraits>;
