import type { AnyModel } from "@anywidget/types";
import type { StepLabelerTraits } from "../types";
import { trySend } from "./protocol";

/**
 * The cursor reaches Python this long after the keyboard stops moving it, so that a key press
 * sends the kernel its label and nothing else: the label's ack never queues behind the cursor's
 * own round trip.
 */
export const CURSOR_SYNC_MS = 250;

export interface CursorHooks {
  /** The cursor moved, here or in Python: draw it. */
  moved(): void;
  /** The cursor could not reach Python: the kernel is gone. */
  kernelGone(): void;
}

/** The current step (the `cursor` trait): moved here at once, sent to Python once the keys pause. */
export class Cursor {
  readonly #model: AnyModel<StepLabelerTraits>;
  readonly #hooks: CursorHooks;
  #sync: ReturnType<typeof setTimeout> | undefined;
  /** The cursor as last sent to Python, and a move made since that waits to be sent. */
  #sent: number | null = null;
  #unsent: number | null = null;

  constructor(model: AnyModel<StepLabelerTraits>, hooks: CursorHooks) {
    this.#model = model;
    this.#hooks = hooks;
    model.on("change:cursor", this.#onChange);
  }

  /** Moves to `step`, kept within the steps. */
  moveTo(step: number): void {
    const target = Math.min(Math.max(step, 0), this.#model.get("steps").length - 1);
    if (target < 0 || target === this.#model.get("cursor")) return;
    this.#unsent = target;
    this.#model.set("cursor", target);
    clearTimeout(this.#sync);
    this.#sync = setTimeout(this.#send, CURSOR_SYNC_MS);
  }

  /** Sends a move still waiting, e.g. before Python loads another item and resets it. */
  flush(): void {
    if (this.#sync === undefined) return;
    clearTimeout(this.#sync);
    this.#send();
  }

  /** Sends a move still waiting and stops listening. */
  dispose(): void {
    this.#model.off("change:cursor", this.#onChange);
    this.flush();
  }

  #send = () => {
    this.#sync = undefined;
    this.#sent = this.#unsent;
    this.#unsent = null;
    if (!trySend(() => this.#model.save_changes())) this.#hooks.kernelGone();
  };

  /**
   * ipywidgets echoes a sent cursor back once Python has it. An echo that comes while a newer
   * move waits to be sent would take the cursor back, and the next key would label the step
   * before; so the newer move stands.
   */
  #onChange = () => {
    const cursor = this.#model.get("cursor");
    if (this.#unsent !== null && cursor === this.#sent && cursor !== this.#unsent) {
      this.#model.set("cursor", this.#unsent);
      return;
    }
    this.#hooks.moved();
  };
}
