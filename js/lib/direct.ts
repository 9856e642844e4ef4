import type { DirectContext } from "../types";
import { newEventId, parseReply, trySend } from "./protocol";
import { serverBase } from "./server";

/**
 * Direct commits (Python: `labwidget.server`, `labwidget.commits`). Through the kernel a label's ack takes the trip
 * page → server → kernel and back; labwidget's server extension can commit it and ack itself,
 * once the kernel has signed what it may commit: the `_direct` trait. One websocket per page
 * carries every widget's contexts and labels; a widget whose context the server has not (yet)
 * accepted sends through the kernel, as it would without the extension.
 */

/** The socket a channel speaks through; the browser's WebSocket, or a fake in tests. */
export interface DirectSocket {
  readonly readyState: number;
  send(data: string): void;
  close(): void;
  onopen: ((ev: Event) => void) | null;
  onclose: ((ev: CloseEvent) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
}

export type OpenSocket = (url: string) => DirectSocket;
export type DirectListener = (reply: unknown) => void;

const OPEN = 1;
/** Waits before opening the socket again after it closed, growing with each failure. */
export const RECONNECT_MS = [1_000, 5_000, 30_000];

/** One websocket to the server extension, shared by the widgets of a page. */
export class DirectChannel {
  readonly #url: string;
  readonly #open: OpenSocket;
  #socket: DirectSocket | null = null;
  #failures = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;
  /** Contexts some widget uses, by signature, with how many widgets use each. */
  readonly #contexts = new Map<string, { context: DirectContext; users: number }>();
  /** Signatures the server has accepted on the socket now open. */
  readonly #ready = new Set<string>();
  readonly #listeners = new Set<DirectListener>();

  constructor(url: string, open: OpenSocket) {
    this.#url = url;
    this.#open = open;
  }

  /** Asks the server to vouch for `context`; the returned function gives it up again. */
  use(context: DirectContext): () => void {
    const known = this.#contexts.get(context.signature);
    if (known !== undefined) known.users += 1;
    else {
      this.#contexts.set(context.signature, { context, users: 1 });
      this.#offer(context);
    }
    this.#connect();
    let used = true;
    return () => {
      if (!used) return;
      used = false;
      const entry = this.#contexts.get(context.signature);
      if (entry !== undefined && --entry.users === 0) {
        this.#contexts.delete(context.signature);
        this.#ready.delete(context.signature);
      }
      if (this.#contexts.size === 0) this.#stop();
    };
  }

  /** Sends `event` for the server to commit under `signature`; false if it cannot take it now. */
  send(signature: string, event: object): boolean {
    if (!this.ready(signature)) return false;
    this.#socket!.send(JSON.stringify({ ...event, context: signature }));
    return true;
  }

  ready(signature: string): boolean {
    return this.#socket?.readyState === OPEN && this.#ready.has(signature);
  }

  /** `listener` gets every ack and error the server sends; the returned function stops that. */
  subscribe(listener: DirectListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #connect(): void {
    if (this.#socket !== null || this.#retry !== undefined) return;
    let socket: DirectSocket;
    try {
      socket = this.#open(this.#url);
    } catch {
      this.#failures += 1;
      this.#scheduleRetry();
      return;
    }
    this.#socket = socket;
    socket.onopen = () => {
      this.#failures = 0;
      for (const { context } of this.#contexts.values()) this.#offer(context);
    };
    socket.onmessage = (ev) => this.#receive(ev.data);
    socket.onclose = () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#ready.clear();
      this.#failures += 1;
      if (this.#contexts.size > 0) this.#scheduleRetry();
    };
  }

  #scheduleRetry(): void {
    const wait = RECONNECT_MS[Math.min(this.#failures - 1, RECONNECT_MS.length - 1)];
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#connect();
    }, wait);
  }

  #stop(): void {
    clearTimeout(this.#retry);
    this.#retry = undefined;
    const socket = this.#socket;
    this.#socket = null;
    this.#ready.clear();
    socket?.close();
  }

  #offer(context: DirectContext): void {
    if (this.#socket?.readyState !== OPEN) return;
    this.#socket.send(JSON.stringify({ kind: "context", ...context }));
  }

  #receive(data: unknown): void {
    let reply: unknown;
    try {
      reply = JSON.parse(String(data));
    } catch {
      return;
    }
    const { kind, signature } = (reply ?? {}) as { kind?: unknown; signature?: unknown };
    if (kind === "ready" && typeof signature === "string" && this.#contexts.has(signature)) {
      this.#ready.add(signature);
    } else if (kind === "refused" && typeof signature === "string") {
      this.#ready.delete(signature);
    } else {
      for (const listener of [...this.#listeners]) listener(reply);
    }
  }
}

// The bundle is evaluated once per page, but a page may hold bundles of two labwidget versions.
const CHANNELS = "__labwidgetDirect";

/** The page's channel to the server extension, or null on a page no Jupyter server serves. */
export function directChannel(
  doc: Document,
  open: OpenSocket = (url) => new WebSocket(url),
): DirectChannel | null {
  const base = serverBase(doc);
  if (base === null || typeof WebSocket === "undefined") return null;
  const url = new URL("labwidget/labels", base);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const holder = globalThis as typeof globalThis & { [CHANNELS]?: Map<string, DirectChannel> };
  holder[CHANNELS] ??= new Map();
  let channel = holder[CHANNELS].get(url.href);
  if (channel === undefined) {
    channel = new DirectChannel(url.href, open);
    holder[CHANNELS].set(url.href, channel);
  }
  return channel;
}

/** What a widget's model offers a `DirectRoute`: its `_direct` trait and the kernel's comm. */
export interface DirectModel {
  get(key: "_direct"): Partial<DirectContext> | undefined;
  on(event: "change:_direct", callback: () => void): void;
  on(event: "msg:custom", callback: (msg: unknown) => void): void;
  off(event: "change:_direct", callback: () => void): void;
  off(event: "msg:custom", callback: (msg: unknown) => void): void;
  send(content: unknown): void;
}

export interface DirectRouteOptions<E> {
  /** Gets every reply for this widget's direct events: hand it to the route's `Outbox` (lib/route.ts). */
  receive(reply: unknown): void;
  /** The fields of the one `committed` message that tells the kernel of these acked events. */
  committed(events: E[]): Record<string, unknown>;
  /** The kernel has answered the `committed` message for `events`, after the traits it re-read. */
  told(events: E[]): void;
  /**
   * The `committed` message for `events` could not be sent: the kernel is gone. The events are
   * saved all the same; the kernel will never re-read them, so they stay untold.
   */
  kernelGone?(events: E[]): void;
}

/**
 * One widget's way to the server extension: it offers the widget's `_direct` context on the
 * page's channel, sends an event there while the server has accepted that context, and tells
 * the kernel of acked events in one `{kind: "committed", id, ...}` message, in a task after
 * the ack has been drawn. `send` returns false when the event must go through the kernel.
 *
 * The kernel re-reads the store before it answers that message; until the answer, its traits
 * may still come from a read before these events, and must not replace what the acks showed.
 */
export class DirectRoute<E extends { id: string }> {
  readonly #model: DirectModel;
  readonly #channel: DirectChannel | null;
  readonly #options: DirectRouteOptions<E>;
  readonly #sent = new Map<string, E>();
  /** Acked events the kernel has not yet answered a `committed` message for. */
  readonly #untold = new Set<string>();
  /** The events of each `committed` message the kernel has not answered, by its id. */
  readonly #telling = new Map<string, E[]>();
  readonly #stopReplies: () => void;
  #release = () => {};
  #acked: E[] = [];
  #tellKernel: ReturnType<typeof setTimeout> | undefined;

  constructor(model: DirectModel, channel: DirectChannel | null, options: DirectRouteOptions<E>) {
    this.#model = model;
    this.#channel = channel;
    this.#options = options;
    this.#stopReplies = channel?.subscribe(this.#onReply) ?? (() => {});
    model.on("change:_direct", this.#onContext);
    model.on("msg:custom", this.#onKernelReply);
    this.#onContext();
  }

  /** Whether `id` was committed directly and the kernel's traits may not show it yet. */
  untold(id: string): boolean {
    return this.#untold.has(id);
  }

  /** Sends `event` to the server extension; false if it has not accepted the context. */
  send(event: E): boolean {
    if (this.#channel?.send(this.#model.get("_direct")?.signature ?? "", event)) {
      this.#sent.set(event.id, event);
      return true;
    }
    this.#sent.delete(event.id); // a resend, now through the kernel
    return false;
  }

  /** Tells the kernel of acks not yet told, gives up the context and stops listening. */
  dispose(): void {
    this.#model.off("change:_direct", this.#onContext);
    this.#model.off("msg:custom", this.#onKernelReply);
    this.#stopReplies();
    this.#flush();
    this.#release();
  }

  #onContext = () => {
    // The new context first: giving up the page's last one first would close the socket.
    const releaseOld = this.#release;
    const { context, signature } = this.#model.get("_direct") ?? {};
    const channel = this.#channel;
    this.#release = channel !== null && context && signature ? channel.use({ context, signature }) : () => {};
    releaseOld();
  };

  #onReply = (msg: unknown) => {
    const reply = parseReply(msg);
    const event = reply && this.#sent.get(reply.id);
    if (reply && event) {
      this.#sent.delete(reply.id);
      if (reply.kind === "ack") {
        this.#untold.add(event.id);
        this.#acked.push(event);
        this.#tellKernel ??= setTimeout(this.#flush, 0);
      }
    }
    this.#options.receive(msg); // after the bookkeeping, so the route sees the event untold
  };

  #flush = () => {
    clearTimeout(this.#tellKernel);
    this.#tellKernel = undefined;
    const events = this.#acked;
    this.#acked = [];
    if (events.length === 0) return;
    const id = newEventId();
    this.#telling.set(id, events);
    if (trySend(() => this.#model.send({ kind: "committed", id, ...this.#options.committed(events) }))) return;
    this.#telling.delete(id);
    this.#options.kernelGone?.(events);
  };

  // An error counts as an answer too: the kernel read the message after the commits it names.
  #onKernelReply = (msg: unknown) => {
    const reply = parseReply(msg);
    const events = reply && this.#telling.get(reply.id);
    if (!reply || !events) return;
    this.#telling.delete(reply.id);
    for (const event of events) this.#untold.delete(event.id);
    this.#options.told(events);
  };
}
