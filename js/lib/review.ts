import type { Evidence, LabelValue } from "../types";
import { VALUE_NAMES } from "./labels";
import { element, setData, setHidden } from "./ui";

/**
 * What a review or an adjudication shows beside a step (the `evidence` trait): under review,
 * the rollouts' success rate as a small bar and the judge's verdict, its rationale on hover and
 * for screen readers, and a model's prediction where asked for; under adjudication, who rated the step how. Machines and people are named
 * by their source, never mixed up.
 */

/** The evidence's element in a row, filled by `drawEvidence`. */
export function evidenceElement(step: number): HTMLDivElement {
  const node = element("div", "lw-review", `evidence-${step}`);
  node.hidden = true;
  return node;
}

function signed(value: LabelValue): string {
  return value > 0 ? "+1" : String(value);
}

/** A small bar of the rollouts' success rate, with the rate in words for screen readers. */
function rateBar(evidence: Evidence): HTMLElement | null {
  const rate = evidence.mc_rate;
  if (rate === null || rate === undefined) return null;
  const bar = element("span", "lw-review__bar", "mc-bar");
  const fill = element("span", "lw-review__fill");
  fill.style.width = `${Math.round(Math.min(Math.max(rate, 0), 1) * 100)}%`;
  bar.append(fill);
  bar.setAttribute("role", "meter");
  bar.setAttribute("aria-valuemin", "0");
  bar.setAttribute("aria-valuemax", "1");
  bar.setAttribute("aria-valuenow", String(rate));
  const { mc_successes: won, mc_n: n } = evidence;
  bar.setAttribute("aria-label", `rollouts reach the answer ${Math.round(rate * 100)}%`);
  bar.title = won != null && n != null ? `${won} of ${n} rollouts reach the answer` : `${Math.round(rate * 100)}% of rollouts reach the answer`;
  return bar;
}

function rollouts(evidence: Evidence): HTMLElement | null {
  const value = evidence.mc_value;
  if (value === null || value === undefined) return null;
  const part = element("span", "lw-review__mc", "mc-verdict");
  const rate = evidence.mc_rate;
  const bar = rateBar(evidence);
  const text = `${evidence.mc_source ?? "rollouts"} ${VALUE_NAMES[value]}${rate == null ? "" : ` ${Math.round(rate * 100)}%`}`;
  part.append(...(bar === null ? [] : [bar]), text);
  return part;
}

function judge(evidence: Evidence): HTMLElement | null {
  const value = evidence.judge_value;
  if (value === null || value === undefined) return null;
  const part = element("span", "lw-review__judge", "judge-verdict");
  part.textContent = `auto:judge ${VALUE_NAMES[value]}${evidence.rationale ? " ⓘ" : ""}`;
  if (evidence.rationale) {
    part.title = evidence.rationale;
    part.setAttribute("aria-description", evidence.rationale);
  }
  return part;
}

function model(evidence: Evidence): HTMLElement | null {
  if (evidence.model === undefined) return null;
  const { source, value, confidence } = evidence.model;
  const part = element("span", "lw-review__model", "model-verdict");
  part.textContent = `${source} ${VALUE_NAMES[value]}${confidence === null ? "" : ` ${Math.round(confidence * 100)}%`}`;
  return part;
}

function saidBy(evidence: Evidence): HTMLElement[] {
  return (evidence.labels ?? []).map(({ annotator, source, value }) => {
    const part = element("span", "lw-review__said");
    part.dataset.annotator = annotator;
    part.dataset.value = String(value);
    part.textContent = `${annotator}${source === "human" ? "" : ` (${source})`}: ${VALUE_NAMES[value]} (${signed(value)})`;
    return part;
  });
}

/** The evidence each element shows: a row is redrawn on every key, its evidence only when it changed. */
const drawn = new WeakMap<HTMLElement, Evidence | null>();

/** Fills `node` with a step's evidence, or hides it. */
export function drawEvidence(node: HTMLElement, evidence: Evidence | null): void {
  if (drawn.has(node) && drawn.get(node) === evidence) return;
  drawn.set(node, evidence);
  const parts = evidence === null ? [] : [rollouts(evidence), judge(evidence), model(evidence), ...saidBy(evidence)].filter((p) => p !== null);
  node.replaceChildren(...parts);
  setHidden(node, parts.length === 0);
  setData(node, "review", String(evidence?.review === true));
}
