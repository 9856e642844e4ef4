import type { LabelValue } from "../types";
import { type Fold, foldOf } from "./fold";
import { type Labels, type Status, VALUE_NAMES } from "./labels";
import { renderMarkdown } from "./markdown";
import { drawEvidence, evidenceElement } from "./review";
import type { SourceView } from "./source_view";
import { shownSuggestion, suggestionText } from "./suggestions";
import { element, setData, setHidden, setText } from "./ui";

/** One step's row: its elements, and what was last rendered into them. */
export interface Row {
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
  /** A review's machine verdicts, or an adjudication's who said what (lib/review.ts). */
  evidence: HTMLDivElement;
  marks: HTMLSpanElement;
  label: HTMLSpanElement;
  status: HTMLSpanElement;
  extra: HTMLDivElement;
  /** The step's replacement and note, each with its own saved mark. */
  replacement: HTMLSpanElement;
  note: HTMLSpanElement;
  error: HTMLDivElement;
}

/** What a row shows besides the labeling state: the view's own toggles and where the cursor is. */
export interface RowView {
  labels: Labels;
  /** The heatmap is on: the step's tokens stand in for its text. */
  tokensShown: boolean;
  /** Long steps the labeler unfolded (`z`). */
  unfolded: ReadonlySet<number>;
  current: number;
  sourceView: SourceView;
}

const STATUS_TEXT: Record<Status, string> = { none: "", pending: "saving…", saved: "saved", error: "not saved" };
const RATE_BUTTONS: { value: LabelValue; text: string }[] = [
  { value: -1, text: "−1" },
  { value: 0, text: "0" },
  { value: 1, text: "+1" },
];

function signed(value: number): string {
  return value > 0 ? `+${value}` : String(value);
}

export function makeRow(step: number): Row {
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
  const evidence = evidenceElement(step);
  body.append(alternative, text, evidence, heat, fold, extra);
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
    li, text, rendered: null, foldSource: null, folded: null, fold, alternative, heat, suggestion, evidence, marks, label, status, extra,
    replacement, note, error,
  };
}

/** Brings `row`, the row of `step`, up to date; `errorAt` is the first step shown as wrong. */
export function drawRow(row: Row, step: number, errorAt: number | null, view: RowView): void {
  const { labels } = view;
  const alt = labels.altOf(step);
  const alternatives = labels.alternativesAt(step);
  const source = alternatives[alt] ?? "";
  if (row.foldSource !== source) {
    row.folded = foldOf(source);
    row.foldSource = source;
  }
  const folded = row.folded !== null && !view.unfolded.has(step);
  const shown = folded && row.folded !== null ? row.folded.shown : source;
  // With the heatmap on, the tokens stand in for the text: it is rendered when it shows.
  if (row.rendered !== shown && !view.tokensShown) {
    row.text.replaceChildren(renderMarkdown(shown));
    row.rendered = shown;
  }
  row.li.classList.toggle("lw-step--long", row.folded !== null);
  row.li.classList.toggle("lw-step--folded", folded);
  setText(row.fold, row.folded === null ? "" : folded ? `${row.folded.more} (z shows all)` : "(z folds this step)");
  const saved = labels.saved();
  const choice = labels.mark(step, "choice", saved.choices?.[step] ?? null);
  const chosen = choice.value === alt;
  setText(row.alternative, alternatives.length > 1
      ? `alternative ${alt + 1} of ${alternatives.length}${chosen ? ` · chosen ${STATUS_TEXT[choice.status]}` : ""} (h/l, c to choose)`
      : "");
  setData(row.alternative, "status", chosen ? choice.status : "none");
  const value = labels.rating(step);
  const status = labels.status(step);
  setText(row.label, value === null ? "" : `${VALUE_NAMES[value]} (${signed(value)})`);
  const suggested = shownSuggestion(labels, step);
  setText(row.suggestion, suggested === null ? "" : suggestionText(suggested));
  setData(row.li, "suggested", suggested === null ? "" : String(suggested.value));
  const evidence = labels.evidenceAt(step);
  drawEvidence(row.evidence, evidence);
  row.li.classList.toggle("lw-step--review", evidence?.review === true || (evidence?.labels?.length ?? 0) > 0);
  setText(row.status, labels.generating.has(step) ? "generating…" : STATUS_TEXT[status]);
  const message = labels.error(step);
  setText(row.error, message);
  setHidden(row.error, message === "");
  const flag = labels.mark(step, "flag", saved.flags?.[step]?.[alt] ? 1 : 0, alt);
  const flagged = flag.value === 1;
  setText(row.marks, flagged ? `⚑ can't tell · ${STATUS_TEXT[flag.status]}` : "");
  setData(row.marks, "status", flagged ? flag.status : "none");
  for (const kind of ["replacement", "note"] as const) {
    const mark = labels.mark(step, kind, saved[`${kind}s`]?.[step] ?? null);
    setText(row[kind], mark.value ? `${kind}: ${mark.value} · ${STATUS_TEXT[mark.status]}` : "");
    setData(row[kind], "status", mark.value ? mark.status : "none");
  }
  setData(row.li, "status", status);
  setData(row.li, "value", value === null ? "" : String(value));
  setData(row.li, "flagged", String(flagged));
  setData(row.li, "alt", String(alt));
  row.li.classList.toggle("lw-step--after-error", errorAt !== null && step > errorAt);
  const current = step === view.current;
  row.li.classList.toggle("lw-step--current", current);
  row.li.toggleAttribute("aria-current", current);
  if (current && view.sourceView.open) view.sourceView.show(step, source, row.extra);
}
