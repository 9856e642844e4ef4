import type { LabelEvent, Reply } from "../types";

/** How long to wait for an ack before sending the same event again. */
export const ACK_TIMEOUT_MS = 3000;
/** Resends before the label is reported as not saved. */
export const MAX_RESENDS = 3;
export const NO_REPLY_MESSAGE = "not saved: no reply from the kernel";
export const KERNEL_GONE_MESSAGE = "not saved: the kernel is gone (restart it and re-run the cell)";

/**
 * Runs `send`, a message to the kernel (`model.send`, `model.save_changes`); false when it
 * could not go. Once the kernel is gone (shut down, restarted, died) JupyterLab's comm throws
 * "Cannot send" from every send: a state to show on the widget, never an uncaught error.
 */
export function trySend(send: () => void): boolean {
  try {
    send();
    return true;
  } catch {
    return false;
  }
}

/**
 * A random v4 UUID.
 *
 * `crypto.randomUUID` exists only in secure contexts; a Jupyter server reached over plain http
 * on another host is not one, yet `crypto.getRandomValues` works there too.
 */
export function newEventId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** An event with a fresh id and the client's clock (epoch ms), ready for an `Outbox`. */
export function makeLabelEvent(fields: Omit<LabelEvent, "id" | "t_client">): LabelEvent {
  return { ...fields, id: newEventId(), t_client: performance.timeOrigin + performance.now() };
}

/** The reply in a custom message from Python, or null when the message is not a reply. */
export function parseReply(msg: unknown): Reply | null {
  if (typeof msg !== "object" || msg === null) return null;
  const { kind, id, message } = msg as Record<string, unknown>;
  if (typeof id !== "string") return null;
  if (kind === "ack") return { kind, id };
  if (kind === "error") {
    return { kind, id, message: typeof message === "string" ? message : "not saved: rejected by the kernel" };
  }
  return null;
}

export type Outcome = { ok: true } | { ok: false; message: string };

/** What an outbox can send: any message with the id its reply will carry. */
export interface Identified {
  id: string;
}

export interface OutboxHooks<E extends Identified = LabelEvent> {
  /** Sends the event; one that throws (the kernel is gone) is settled as not saved at once. */
  send(event: E): void;
  /** Called once per reply (or give-up) for an event this outbox sent. */
  settle(event: E, outcome: Outcome): void;
  /** Called, before `settle`, for an event whose `send` threw. */
  unsent?(event: E): void;
}

interface Entry<E> {
  event: E;
  resends: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Sends label events and matches Python's replies to them by id.
 *
 * An unanswered event is re-sent unchanged every `ACK_TIMEOUT_MS`; Python stores a repeated id
 * once, so resending is safe. After `MAX_RESENDS` the event is settled as not saved, but it is
 * kept so that a late ack still marks it saved: the label did reach the store.
 */
export class Outbox<E extends Identified = LabelEvent> {
  readonly #hooks: OutboxHooks<E>;
  readonly #entries = new Map<string, Entry<E>>();

  constructor(hooks: OutboxHooks<E>) {
    this.#hooks = hooks;
  }

  submit(event: E): void {
    const entry: Entry<E> = { event, resends: 0, timer: undefined };
    this.#entries.set(event.id, entry);
    this.#send(entry);
  }

  /** Handles a custom message; anything but a reply to a known event is ignored. */
  receive(msg: unknown): void {
    const reply = parseReply(msg);
    const entry = reply && this.#entries.get(reply.id);
    if (!reply || !entry) return;
    clearTimeout(entry.timer);
    this.#entries.delete(reply.id);
    this.#hooks.settle(entry.event, reply.kind === "ack" ? { ok: true } : { ok: false, message: reply.message });
  }

  /** Stops all retry timers; replies arriving later are ignored. */
  dispose(): void {
    for (const entry of this.#entries.values()) clearTimeout(entry.timer);
    this.#entries.clear();
  }

  /** Sends an entry and waits for its reply; one that cannot go gets none, and is settled now. */
  #send(entry: Entry<E>): void {
    try {
      this.#hooks.send(entry.event);
    } catch {
      entry.timer = undefined;
      this.#entries.delete(entry.event.id);
      this.#hooks.unsent?.(entry.event);
      this.#hooks.settle(entry.event, { ok: false, message: KERNEL_GONE_MESSAGE });
      return;
    }
    this.#arm(entry);
  }

  #arm(entry: Entry<E>): void {
    entry.timer = setTimeout(() => {
      if (entry.resends < MAX_RESENDS) {
        entry.resends += 1;
        this.#send(entry);
      } else {
        entry.timer = undefined;
        this.#hooks.settle(entry.event, { ok: false, message: NO_REPLY_MESSAGE });
      }
    }, ACK_TIMEOUT_MS);
  }
}
