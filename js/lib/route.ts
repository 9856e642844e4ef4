import { type DirectChannel, type DirectModel, DirectRoute, directChannel } from "./direct";
import { type Identified, Outbox, type Outcome } from "./protocol";

/**
 * The one way a widget's labels leave the page. A label goes to labwidget's server extension,
 * which commits it and acks at once, while the server has accepted the widget's signed context;
 * otherwise (no extension, a PostgreSQL store, the context not yet accepted) it goes to the
 * kernel as a custom message. Either way it is re-sent until answered (`Outbox`), and the
 * widget hears `onAck` or `onError`, never which way it went, except through `told`: an event
 * committed directly reaches the kernel's traits only once the kernel has re-read the store.
 */

/** The longest a key press's drawing waits for the ack of a label sent to the server extension. */
export const DRAW_HOLD_MS = 10;

/** What a route needs of a widget's model: its `_direct` trait and the kernel's comm. */
export type RouteModel = DirectModel;

export interface RouteHooks<E> {
  /**
   * The event is in the store. `told` is false for one committed directly: the kernel's traits
   * may not show it yet, and `onTold` says when they do.
   */
  onAck(event: E, told: boolean): void;
  /** The event was refused, never answered, or could not be sent; `message` says which. */
  onError(event: E, message: string): void;
  /** The kernel has re-read the store after these directly committed events: its traits show them. */
  onTold?(events: E[]): void;
  /** The kernel is gone (JupyterLab refused a send). Labels the server still takes are saved. */
  onKernelGone?(): void;
  /** The fields of the one `committed` message that tells the kernel of directly acked events. */
  committed(events: E[]): Record<string, unknown>;
  /**
   * With `holdDraws`: a key press's drawing may go now (its ack came, or `DRAW_HOLD_MS` passed).
   * Draw what was asked for while `holding`.
   */
  onRelease?(): void;
}

export interface RouteOptions {
  /**
   * Hold the widget's drawing while a label sent directly awaits its ack. The ack takes a few
   * milliseconds, about what the browser needs to style, lay out and paint the page after a key
   * press; drawing the key press at once would make its ack wait for that frame. So the key press
   * is drawn together with its ack, or after `DRAW_HOLD_MS` if none came.
   */
  holdDraws?: boolean;
  /** The page's channel to the server extension; by default the one of this document, if any. */
  channel?: DirectChannel | null;
}

/** Sends a widget's label events by the fastest way open and tells it what became of each. */
export class LabelRoute<E extends Identified> {
  readonly #model: RouteModel;
  readonly #hooks: RouteHooks<E>;
  readonly #holdDraws: boolean;
  readonly #direct: DirectRoute<E>;
  readonly #outbox: Outbox<E>;
  #held: { ids: Set<string>; timer: ReturnType<typeof setTimeout> } | null = null;

  constructor(model: RouteModel, hooks: RouteHooks<E>, options: RouteOptions = {}) {
    this.#model = model;
    this.#hooks = hooks;
    this.#holdDraws = options.holdDraws ?? false;
    const channel = options.channel === undefined ? directChannel(document) : options.channel;
    this.#direct = new DirectRoute<E>(model, channel, {
      receive: (msg) => this.#outbox.receive(msg),
      committed: hooks.committed,
      told: (events) => hooks.onTold?.(events),
      kernelGone: () => hooks.onKernelGone?.(),
    });
    this.#outbox = new Outbox<E>({
      send: (event) => this.#send(event),
      settle: (event, outcome) => this.#settle(event, outcome),
      unsent: () => hooks.onKernelGone?.(),
    });
    model.on("msg:custom", this.#onKernelReply);
  }

  /** Whether drawing waits for the ack of a label sent directly (see `RouteOptions.holdDraws`). */
  get holding(): boolean {
    return this.#held !== null;
  }

  /** Sends `event`, and again until it is answered; its fate comes to `onAck` or `onError`. */
  send(event: E): void {
    this.#outbox.submit(event);
  }

  /** Stops resending and listening, tells the kernel of acks not yet told, gives up the context. */
  dispose(): void {
    this.#model.off("msg:custom", this.#onKernelReply);
    if (this.#held !== null) clearTimeout(this.#held.timer);
    this.#held = null;
    this.#outbox.dispose();
    this.#direct.dispose();
  }

  // A resend goes the same way as a first send: directly if it can, else through the kernel.
  #send(event: E): void {
    if (!this.#direct.send(event)) {
      this.#model.send(event);
      return;
    }
    if (!this.#holdDraws) return;
    this.#held ??= { ids: new Set(), timer: setTimeout(this.#release, DRAW_HOLD_MS) };
    this.#held.ids.add(event.id);
  }

  #settle(event: E, outcome: Outcome): void {
    if (outcome.ok) this.#hooks.onAck(event, !this.#direct.untold(event.id));
    else this.#hooks.onError(event, outcome.message);
    if (this.#held?.ids.delete(event.id) && this.#held.ids.size === 0) this.#release();
  }

  #release = () => {
    if (this.#held === null) return;
    clearTimeout(this.#held.timer);
    this.#held = null;
    this.#hooks.onRelease?.();
  };

  #onKernelReply = (msg: unknown) => this.#outbox.receive(msg);
}

export interface RequestHooks<E> {
  /** Python answered the request: `{ok: true}`, or what went wrong. */
  onReply(event: E, outcome: Outcome): void;
  /** The kernel is gone (JupyterLab refused a send). */
  onKernelGone(): void;
}

/**
 * Requests only the kernel can answer (another item of the queue, alternatives from the model):
 * sent as custom messages, re-sent until answered, each answer matched to its request.
 */
export class KernelRequests<E extends Identified> {
  readonly #model: RouteModel;
  readonly #outbox: Outbox<E>;

  constructor(model: RouteModel, hooks: RequestHooks<E>) {
    this.#model = model;
    this.#outbox = new Outbox<E>({
      send: (event) => model.send(event),
      settle: (event, outcome) => hooks.onReply(event, outcome),
      unsent: () => hooks.onKernelGone(),
    });
    model.on("msg:custom", this.#onReply);
  }

  send(event: E): void {
    this.#outbox.submit(event);
  }

  dispose(): void {
    this.#model.off("msg:custom", this.#onReply);
    this.#outbox.dispose();
  }

  #onReply = (msg: unknown) => this.#outbox.receive(msg);
}
