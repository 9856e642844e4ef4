import type { AnyModel } from "@anywidget/types";
import type { StepLabelerTraits } from "../types";
import { decodeFloat32, decodeStrings, isPacked } from "./buffers";
import { type Heatmap, mountHeatmap } from "./heatmap";

/**
 * The step labeler's token heatmap: each step's tokens, coloured by their scores, shown in the
 * step's row in place of its text (`t` switches between them). Rows built later get their tokens
 * as they are built. The root carries `lw-steps--heatmap` exactly while the tokens show.
 */
export class StepHeatmap {
  readonly #model: AnyModel<StepLabelerTraits>;
  readonly #root: HTMLElement;
  readonly #list: HTMLElement;
  #heatmap: Heatmap | null = null;
  #on = true;
  /** Why the traits' tokens cannot be shown, or "": said in the finish bar. */
  error = "";

  constructor(model: AnyModel<StepLabelerTraits>, root: HTMLElement, list: HTMLElement) {
    this.#model = model;
    this.#root = root;
    this.#list = list;
  }

  /** Whether the tokens stand in for the steps' text. */
  get shown(): boolean {
    return this.#heatmap !== null && this.#on;
  }

  /** (Re)builds the heatmap from the traits into `slots`, one per step (undefined: not built yet). */
  mount(slots: (HTMLElement | undefined)[]): void {
    this.dispose();
    const packedTokens = this.#model.get("tokens");
    if (!isPacked(packedTokens)) return;
    try {
      this.#heatmap = mountHeatmap(this.#list, {
        tokens: decodeStrings(packedTokens),
        scores: decodeFloat32(this.#model.get("token_scores") as Parameters<typeof decodeFloat32>[0]),
        stepTokenCounts: this.#model.get("step_token_counts"),
        kind: this.#model.get("score_kind"),
        about: this.#model.get("score_about"),
        slots,
      });
      this.#heatmap.setVisible(this.#on);
      this.#root.classList.toggle("lw-steps--heatmap", this.#on);
    } catch (error) {
      this.error = `cannot show the token heatmap: ${(error as Error).message}`;
    }
  }

  /** Puts the tokens of `step` into its row's slot, just built. */
  attach(step: number, slot: HTMLElement): void {
    this.#heatmap?.attach(step, slot);
  }

  /** Switches between the tokens and the text (`t`); false where there are no tokens to show. */
  toggle(): boolean {
    if (this.#heatmap === null) return false;
    this.#on = !this.#on;
    this.#heatmap.setVisible(this.#on);
    this.#root.classList.toggle("lw-steps--heatmap", this.#on);
    return true;
  }

  /** Removes the tokens, and the class that hides the text for them. */
  dispose(): void {
    this.#heatmap?.dispose();
    this.#heatmap = null;
    this.#root.classList.remove("lw-steps--heatmap");
  }
}
