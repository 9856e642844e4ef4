import "./heatmap.css";

/** What the per-token scores are; it decides the scale's center and which end is worrying. */
export type ScoreKind = "logprob" | "entropy" | "score";

/** Maps a score to a colour: `center` is neutral, `center ± halfRange` and beyond saturate. */
export interface Scale {
  center: number;
  halfRange: number;
  /** Values above the center are the worrying (red) end, as for entropy. By default, below are. */
  highIsBad?: boolean;
  /** Names the value in the hover text, e.g. "logprob". */
  label?: string;
}

/** Tells the heatmap which of its elements are on screen; `IntersectionObserver` fits. */
export interface VisibilityObserver {
  observe(target: Element): void;
  unobserve(target: Element): void;
  disconnect(): void;
}

export type ObserverFactory = (
  onChange: (entries: readonly { target: Element; isIntersecting: boolean }[]) => void,
) => VisibilityObserver;

export interface HeatmapOptions {
  /** The output's tokens: the first step's, then the second's, ... */
  tokens: string[];
  /** One score per token, from `decodeFloat32`. */
  scores: Float32Array;
  /** How many tokens each step has; they add up to `tokens.length`. */
  stepTokenCounts: number[];
  kind: ScoreKind;
  /**
   * What the scores are, in words (e.g. "log-prob of each token under the sampling
   * distribution …"), shown above the steps with what the colours mean. Without it the caption
   * names the kind alone.
   */
  about?: string;
  /**
   * One element per step (the labeler's step rows) that gets that step's tokens appended, or
   * `undefined` for a step whose element does not exist yet: its tokens wait for `attach`. By
   * default the heatmap adds its own block of steps to the container.
   */
  slots?: (HTMLElement | undefined)[];
  /**
   * Makes the observer that reports what is on screen; tests pass a fake. By default an
   * `IntersectionObserver`, or, where there is none (jsdom) or this is `null`, everything is
   * rendered at once.
   */
  createObserver?: ObserverFactory | null;
}

export interface Heatmap {
  /**
   * Puts a step's tokens into `slot` (for a slot that was `undefined` when the heatmap was made)
   * and colours its first chunk at once: call it as the step is about to be seen.
   */
  attach(step: number, slot: HTMLElement): void;
  /** Shows or hides every element the heatmap added. */
  setVisible(on: boolean): void;
  /** Disconnects the observer and removes every element the heatmap added. */
  dispose(): void;
}

/**
 * ColorBrewer RdBu's inner ends, which colour-blind readers tell apart. Drawn with alpha over
 * whatever the theme's background is, so light and dark themes both keep their text colour.
 */
const WORRYING_RGB = "214, 96, 77";
const REASSURING_RGB = "67, 147, 195";
const MAX_ALPHA = 0.6;

/** Steps longer than this are rendered a chunk at a time, so one huge step stays cheap. */
export const CHUNK_TOKENS = 200;

/** For the height a step is assumed to take until the browser lays it out (see the CSS). */
const LINE_HEIGHT_EM = 1.6;
const CHARS_PER_LINE = 100;

/** Rendered a little before it scrolls into view, so that colours are there on arrival. */
const ROOT_MARGIN = "200px 0px";

const LN_HALF = Math.log(0.5);

/** What a score is when nothing more is known, and what its colours say (see `scaleFor`). */
const KIND_TEXT: Record<ScoreKind, { what: string; colours: string }> = {
  logprob: { what: "log-prob of each token", colours: "red: less likely than ½, blue: likelier" },
  entropy: { what: "entropy at each token", colours: "red: more uncertain than the median, blue: less" },
  score: { what: "a score per token", colours: "red: low, blue: high" },
};

/** The heatmap's caption: what the scores are and what the colours mean. */
export function captionText(kind: ScoreKind, about = ""): string {
  const { what, colours } = KIND_TEXT[kind];
  return `${about.trim() || what}. ${colours}.`;
}
const ROBUST_PERCENTILE = 95;

/**
 * The colour of a score: transparent at the center, then more and more opaque red on the
 * worrying side and blue on the other, saturating at `center ± halfRange`. NaN is neutral.
 */
export function divergingColor(value: number, scale: Scale): string {
  const offset = value - scale.center;
  if (Number.isNaN(offset)) return "transparent";
  const { halfRange } = scale;
  const t = halfRange > 0 && Number.isFinite(halfRange) ? offset / halfRange : Math.sign(offset);
  const strength = Math.min(Math.abs(t), 1);
  // Two decimals: colours that look the same are the same string.
  const alpha = Math.round(strength * MAX_ALPHA * 100) / 100;
  if (alpha === 0) return "transparent";
  const worrying = scale.highIsBad ? t > 0 : t < 0;
  return `rgba(${worrying ? WORRYING_RGB : REASSURING_RGB}, ${alpha})`;
}

/** The value at percentile `p` of ascending `sorted`, interpolating linearly (as numpy does). */
function percentile(sorted: ArrayLike<number>, p: number): number {
  const at = (p / 100) * (sorted.length - 1);
  const below = Math.floor(at);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (at - below);
}

/** The 95th percentile of the distances from `center`: a few outliers do not wash out the rest. */
function robustHalfRange(values: number[], center: number): number {
  // A typed array sorts numerically in native code: 100k scores in a few ms.
  const distances = Float64Array.from(values, (v) => Math.abs(v - center)).sort();
  const half = percentile(distances, ROBUST_PERCENTILE);
  return half > 0 ? half : 1;
}

/**
 * A scale that suits the scores' kind.
 *
 * - `logprob`: centred at ln 0.5, so tokens the model found less likely than a coin flip are
 *   red and likelier ones blue.
 * - `entropy`: centred at the median, high entropy (uncertain) red.
 * - `score`: a probability in [0, 1] is centred at 0.5 with half-range 0.5; anything else at 0.
 *   Low scores are red.
 *
 * The half-range is the 95th percentile of the distances from the center (1 when they are all
 * zero). NaN is ignored.
 */
export function scaleFor(scores: Float32Array, kind: ScoreKind): Scale {
  const values = Array.from(scores).filter((v) => !Number.isNaN(v));
  switch (kind) {
    case "logprob":
      return { center: LN_HALF, halfRange: robustHalfRange(values, LN_HALF), label: "logprob" };
    case "entropy": {
      const center = values.length === 0 ? 0 : percentile(Float64Array.from(values).sort(), 50);
      return { center, halfRange: robustHalfRange(values, center), highIsBad: true, label: "entropy" };
    }
    case "score":
      if (values.every((v) => v >= 0 && v <= 1)) return { center: 0.5, halfRange: 0.5, label: "score" };
      return { center: 0, halfRange: robustHalfRange(values, 0), label: "score" };
  }
}

/** A score for hover text: two decimals, or two significant digits when tiny, and a true minus. */
export function formatScore(value: number): string {
  const magnitude = Math.abs(value);
  const text = magnitude !== 0 && (magnitude < 0.01 || magnitude >= 1e5) ? value.toExponential(2) : value.toFixed(2);
  return text.replace(/-/g, "\u2212");
}

function hoverText(value: number, scale: Scale): string {
  const text = `${scale.label ?? "score"} ${formatScore(value)}`;
  return scale.label === "logprob" ? `${text} (p ${formatScore(Math.exp(value))})` : text;
}

/** Appends `text` to `span`, with a ↵ mark (drawn by CSS, so `textContent` stays exact) per newline. */
function appendTokenText(span: HTMLElement, text: string): void {
  if (!text.includes("\n")) {
    span.textContent = text;
    return;
  }
  text.split("\n").forEach((part, i) => {
    if (i > 0) {
      const mark = document.createElement("span");
      mark.className = "lw-tok__nl";
      mark.setAttribute("aria-hidden", "true");
      span.append(mark, "\n");
    }
    if (part !== "") span.append(part);
  });
}

/**
 * Replaces the container's contents with `tokens[start:end]`, one `span.lw-tok` each, coloured
 * by `scale` and with the score in its `title`. Token text is model output: it is only ever
 * text, never markup.
 */
export function renderTokens(
  container: HTMLElement,
  tokens: string[],
  scores: Float32Array,
  start: number,
  end: number,
  scale: Scale,
): void {
  const fragment = document.createDocumentFragment();
  for (let i = start; i < end; i++) {
    const span = document.createElement("span");
    span.className = "lw-tok";
    span.dataset.i = String(i);
    appendTokenText(span, tokens[i]);
    span.style.backgroundColor = divergingColor(scores[i], scale);
    span.title = hoverText(scores[i], scale);
    fragment.append(span);
  }
  container.replaceChildren(fragment);
}

/** About how many lines `text` wraps to, so that skipped steps keep the scrollbar close. */
function estimateLines(text: string): number {
  return text.split("\n").reduce((lines, line) => lines + Math.max(1, Math.ceil(line.length / CHARS_PER_LINE)), 0);
}

function defaultObserver(): ObserverFactory | null {
  if (typeof IntersectionObserver === "undefined") return null;
  // scrollMargin stretches the notebook's own scroll area too, not just the window.
  const init = { rootMargin: ROOT_MARGIN, scrollMargin: ROOT_MARGIN } as IntersectionObserverInit;
  return (onChange) => new IntersectionObserver(onChange, init);
}

function checkLayout({ tokens, scores, stepTokenCounts, slots }: HeatmapOptions): void {
  if (scores.length !== tokens.length) {
    throw new Error(`${tokens.length} tokens but ${scores.length} scores: each token needs exactly one score`);
  }
  const total = stepTokenCounts.reduce((sum, n) => sum + n, 0);
  if (!stepTokenCounts.every((n) => Number.isInteger(n) && n >= 0) || total !== tokens.length) {
    throw new Error(`the step token counts [${stepTokenCounts.join(", ")}] do not add up to ${tokens.length} tokens`);
  }
  if (slots !== undefined && slots.length !== stepTokenCounts.length) {
    throw new Error(`${slots.length} slots for ${stepTokenCounts.length} steps`);
  }
}

/**
 * Shows per-token scores as a heatmap, one block per step, rendering only what is on screen.
 *
 * Until a chunk of at most {@link CHUNK_TOKENS} tokens scrolls near the viewport it holds its
 * plain text, which takes the same room, so 100k tokens never become 100k elements at once. A
 * chunk, once rendered, stays rendered. With `slots`, a step's elements are made only once it
 * has a slot (its row exists). Steps off screen are not even laid out
 * (`content-visibility: auto`); until they are, their height is estimated from their text.
 *
 * @throws Error when the tokens, scores, step counts and slots do not add up.
 */
export function mountHeatmap(container: HTMLElement, options: HeatmapOptions): Heatmap {
  checkLayout(options);
  const { tokens, scores, stepTokenCounts, kind, slots } = options;
  // Model output is text, and so is what the kernel says about it: textContent, never markup.
  const caption = document.createElement("div");
  caption.className = "lw-heatmap__caption";
  caption.dataset.testid = "heatmap-caption";
  caption.textContent = captionText(kind, options.about);
  const scale = scaleFor(scores, kind);
  const pending = new Map<Element, { chunk: HTMLElement; start: number; end: number }>();
  const starts: number[] = [];
  stepTokenCounts.reduce((start, count) => (starts.push(start), start + count), 0);

  let observer: VisibilityObserver | null = null;
  const renderChunk = (target: Element) => {
    const chunk = pending.get(target);
    if (chunk === undefined) return;
    pending.delete(target);
    observer?.unobserve(target);
    renderTokens(chunk.chunk, tokens, scores, chunk.start, chunk.end, scale);
  };
  const factory = options.createObserver === undefined ? defaultObserver() : options.createObserver;
  if (factory !== null) {
    observer = factory((entries) => {
      for (const entry of entries) if (entry.isIntersecting) renderChunk(entry.target);
    });
  }

  let visible = true;
  /** Steps' blocks, made when their step is first shown: 1,000 steps cost only those on screen. */
  const blocks: (HTMLElement | undefined)[] = [];
  function blockOf(step: number): HTMLElement {
    const made = blocks[step];
    if (made !== undefined) return made;
    const block = document.createElement("div");
    block.className = "lw-heatmap__step";
    block.dataset.step = String(step);
    block.hidden = !visible;
    const start = starts[step];
    const end = start + stepTokenCounts[step];
    let lines = 0;
    for (let from = start; from < end; from += CHUNK_TOKENS) {
      const to = Math.min(from + CHUNK_TOKENS, end);
      const chunk = document.createElement("span");
      chunk.className = "lw-heatmap__chunk";
      chunk.textContent = tokens.slice(from, to).join("");
      lines += estimateLines(chunk.textContent);
      pending.set(chunk, { chunk, start: from, end: to });
      block.append(chunk);
      if (observer === null) renderChunk(chunk);
      else observer.observe(chunk);
    }
    block.style.setProperty("contain-intrinsic-size", `auto ${(lines * LINE_HEIGHT_EM).toFixed(1)}em`);
    blocks[step] = block;
    return block;
  }

  let root: HTMLElement | null = null;
  if (slots === undefined) {
    root = document.createElement("div");
    root.className = "lw-heatmap";
    root.append(caption, ...stepTokenCounts.map((_, step) => blockOf(step)));
    container.append(root);
  } else {
    // The steps live in the labeler's rows; the caption goes just above them.
    if (container.parentNode !== null) container.before(caption);
    else container.prepend(caption);
    slots.forEach((slot, step) => slot?.append(blockOf(step)));
  }

  return {
    attach(step, slot) {
      if (step < 0 || step >= stepTokenCounts.length) return;
      const block = blockOf(step);
      if (block.parentElement === slot) return;
      slot.append(block);
      // A step is attached as its row is built, i.e. as it nears the screen: its first chunk
      // is drawn now rather than a frame later, when the observer would report it.
      if (block.firstElementChild !== null) renderChunk(block.firstElementChild);
    },
    setVisible(on) {
      visible = on;
      caption.hidden = !on;
      if (root !== null) root.hidden = !on;
      else for (const block of blocks) if (block !== undefined) block.hidden = !on;
    },
    dispose() {
      observer?.disconnect();
      pending.clear();
      caption.remove();
      if (root !== null) root.remove();
      else for (const block of blocks) block?.remove();
    },
  };
}
