import { makeRow, type Row } from "./row";
import { element } from "./ui";

/**
 * Rows are built a block at a time. Until a block comes near the screen it is one empty
 * placeholder of about its height, so a 1,000-step output costs the browser a screenful of rows
 * to show, and a long session never lays out more than it has scrolled through.
 */
export const BLOCK_ROWS = 12;
/** A placeholder's height per row until a built row has been measured. */
const DEFAULT_ROW_PX = 48;
/** Blocks are built this far ahead of the screen, so scrolling meets finished rows. */
const BLOCK_MARGIN = "1000px 0px";

export interface RowsHooks {
  stepCount(): number;
  currentStep(): number;
  /** These steps' rows were just built: fill and draw them. */
  built(steps: number[]): void;
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

/** The list of step rows, built as they come near the screen, with the cursor's row kept on it. */
export class Rows {
  /** Built rows by step; a step in a block not built yet has none. */
  readonly rows: (Row | undefined)[] = [];
  readonly #list: HTMLElement;
  readonly #hooks: RowsHooks;
  /** The step count the blocks were laid out for; -1 before the first layout. */
  #laidOut = -1;
  /** Placeholders of blocks not built yet, by block number. */
  readonly #placeholders = new Map<number, HTMLLIElement>();
  #rowPx = DEFAULT_ROW_PX;
  #rowPxMeasured = false;
  #observer: IntersectionObserver | null = null;
  #idleBuild: number | undefined;
  #scrollCheck: number | undefined;

  constructor(list: HTMLElement, hooks: RowsHooks) {
    this.#list = list;
    this.#hooks = hooks;
  }

  /** Whether the list is laid out for the current number of steps. */
  get laidOut(): boolean {
    return this.#laidOut === this.#hooks.stepCount();
  }

  /**
   * Bounds the list's height (CSS, e.g. "70vh"), so that it scrolls on its own, or (null) lets
   * it grow, and (re)makes the observer that builds blocks as they come near the screen. A
   * bounded list is its root, so blocks are built as they near the visible part of it;
   * otherwise the window is, and the notebook's scroll area stretched by scrollMargin. Without
   * an IntersectionObserver (jsdom) every block is built at once.
   */
  bound(height: string | null): void {
    this.#list.style.maxHeight = height ?? "";
    this.#list.classList.toggle("lw-steps__list--bounded", height !== null);
    this.#observer?.disconnect();
    if (typeof IntersectionObserver === "undefined") return;
    this.#observer = new IntersectionObserver(
      (entries) => {
        // Layout is clean here: measure the built rows before adding more.
        if (!this.#rowPxMeasured) this.#measure();
        for (const entry of entries) {
          if (entry.isIntersecting) this.#build(Number((entry.target as HTMLElement).dataset.block));
        }
      },
      height !== null
        ? { root: this.#list, rootMargin: BLOCK_MARGIN }
        : ({ rootMargin: BLOCK_MARGIN, scrollMargin: BLOCK_MARGIN } as IntersectionObserverInit),
    );
    for (const placeholder of this.#placeholders.values()) this.#observer.observe(placeholder);
  }

  /** Lays the list out afresh for a new number of steps: the first block built, the rest placeholders. */
  layOut(): void {
    for (const placeholder of this.#placeholders.values()) this.#observer?.unobserve(placeholder);
    this.#placeholders.clear();
    this.rows.length = 0;
    this.#laidOut = this.#hooks.stepCount();
    const blocks = Math.ceil(this.#laidOut / BLOCK_ROWS);
    this.#list.replaceChildren(...Array.from({ length: blocks }, (_, block) => this.#placeholder(block)));
    for (let block = 0; block < blocks; block++) {
      if (block === 0 || this.#observer === null) this.#build(block);
    }
    this.#build(Math.floor(this.#hooks.currentStep() / BLOCK_ROWS));
    this.buildAheadWhenIdle();
  }

  /** The row of `step`, built if its block was not yet. */
  rowOf(step: number): Row | undefined {
    if (this.rows[step] === undefined) this.#build(Math.floor(step / BLOCK_ROWS));
    return this.rows[step];
  }

  /**
   * Builds the blocks just ahead of (and behind) the cursor while the page is idle, one block
   * per idle period, so that moving through the steps never waits for a block to be built.
   * The observer alone would build them only once they near the screen, which JupyterLab's
   * clipping panels hide until they are on it.
   */
  buildAheadWhenIdle(): void {
    if (typeof requestIdleCallback !== "function" || this.#idleBuild !== undefined) return;
    const near = () => {
      const block = Math.floor(this.#hooks.currentStep() / BLOCK_ROWS);
      return [block + 1, block + 2, block - 1].filter((b) => this.#placeholders.has(b));
    };
    if (near().length === 0) return;
    this.#idleBuild = requestIdleCallback(
      () => {
        this.#idleBuild = undefined;
        const [next] = near();
        if (next !== undefined) this.#build(next);
        this.buildAheadWhenIdle();
      },
      { timeout: 1000 },
    );
  }

  /**
   * Brings the cursor's row on screen, checked in the next frame: reading its position now
   * would lay the page out twice, once here and once for the frame.
   */
  scrollToCursorInFrame(): void {
    if (this.#scrollCheck !== undefined) return;
    this.#scrollCheck = requestAnimationFrame(() => {
      this.#scrollCheck = undefined;
      const li = this.rows[this.#hooks.currentStep()]?.li;
      if (li === undefined || onScreen(li)) return;
      // A step taller than half the screen shows from its start: its middle says little.
      const tall = li.getBoundingClientRect().height > window.innerHeight / 2;
      li.scrollIntoView?.({ block: tall ? "start" : "center" }); // jsdom has none
    });
  }

  /** Stops observing, building and scrolling. */
  dispose(): void {
    this.#observer?.disconnect();
    if (this.#idleBuild !== undefined) cancelIdleCallback(this.#idleBuild);
    if (this.#scrollCheck !== undefined) cancelAnimationFrame(this.#scrollCheck);
  }

  /** Sizes the placeholders from the rows built so far, so the scrollbar is about right. */
  #measure(): void {
    const built = this.rows.filter((row): row is Row => row !== undefined && row.li.isConnected);
    const height = built.reduce((sum, row) => sum + row.li.offsetHeight, 0);
    if (height === 0) return;
    this.#rowPxMeasured = true;
    this.#rowPx = height / built.length;
    for (const [block, placeholder] of this.#placeholders) placeholder.style.height = `${this.#blockSize(block) * this.#rowPx}px`;
  }

  #blockSize(block: number): number {
    return Math.min(BLOCK_ROWS, this.#hooks.stepCount() - block * BLOCK_ROWS);
  }

  #placeholder(block: number): HTMLLIElement {
    const placeholder = element("li", "lw-steps__placeholder");
    placeholder.dataset.block = String(block);
    placeholder.setAttribute("aria-hidden", "true");
    placeholder.style.height = `${this.#blockSize(block) * this.#rowPx}px`;
    this.#placeholders.set(block, placeholder);
    this.#observer?.observe(placeholder);
    return placeholder;
  }

  /** Builds and draws the rows of `block` in place of its placeholder. */
  #build(block: number): void {
    const placeholder = this.#placeholders.get(block);
    if (placeholder === undefined) return;
    this.#placeholders.delete(block);
    this.#observer?.unobserve(placeholder);
    const first = block * BLOCK_ROWS;
    const steps = Array.from({ length: this.#blockSize(block) }, (_, i) => first + i);
    for (const step of steps) this.rows[step] = makeRow(step);
    this.#hooks.built(steps);
    placeholder.replaceWith(...steps.map((step) => (this.rows[step] as Row).li));
  }
}
