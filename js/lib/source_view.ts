import { element } from "./ui";

/**
 * The current step's text exactly as the model wrote it (`v`): settles any doubt about how it
 * was rendered without leaving the widget. It is only ever text in a `<pre>`, never markup, and
 * it follows the cursor while it is open.
 */
export class SourceView {
  readonly #pre = element("pre", "lw-step__source", "step-source");
  #step: number | null = null;

  constructor() {
    this.#pre.setAttribute("aria-label", "The step as written");
  }

  get open(): boolean {
    return this.#step !== null;
  }

  /** Shows `text`, the source of `step`, after `anchor` (inside the step's row). */
  show(step: number, text: string, anchor: Element): void {
    this.#step = step;
    this.#pre.dataset.step = String(step);
    if (this.#pre.textContent !== text) this.#pre.textContent = text;
    if (this.#pre.previousElementSibling !== anchor) anchor.after(this.#pre);
  }

  /** Scrolls the source onto the screen: under a long step it may start below it. */
  reveal(): void {
    this.#pre.scrollIntoView?.({ block: "nearest" }); // jsdom has none
  }

  hide(): void {
    this.#step = null;
    this.#pre.remove();
  }
}
