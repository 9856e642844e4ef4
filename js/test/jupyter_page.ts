import { vi } from "vitest";

/** A page served by Jupyter, with the browser's WebSocket faked: for widgets' direct commits. */

const OPEN = 1;

/** The browser's WebSocket as the page's direct channel sees it; the test opens and answers it. */
export class PageSocket {
  static made: PageSocket[] = [];
  readyState = 0;
  readonly sent: Record<string, unknown>[] = [];
  closeCalls = 0;
  onopen: ((ev: Event) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;

  constructor(readonly url: string) {
    PageSocket.made.push(this);
  }

  send(data: string): void {
    if (this.readyState !== OPEN) throw new Error("InvalidStateError: the socket is not open");
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(): void {
    this.closeCalls += 1;
    this.readyState = 2;
  }

  open(): void {
    this.readyState = OPEN;
    this.onopen?.(new Event("open"));
  }

  reply(message: object): void {
    this.onmessage?.(new MessageEvent("message", { data: JSON.stringify(message) }));
  }

  drop(): void {
    this.readyState = 3;
    this.onclose?.(new CloseEvent("close"));
  }

  /** Events sent to be committed, not the contexts offered. */
  events(): Record<string, unknown>[] {
    return this.sent.filter((message) => message.kind !== "context");
  }

  offered(): unknown[] {
    return this.sent.filter((message) => message.kind === "context").map((message) => message.signature);
  }
}

export const sockets = PageSocket.made;

/** The socket the page speaks on now: the latest one not closed, opened if still connecting. */
export function liveSocket(): PageSocket {
  const socket = sockets.filter((s) => s.closeCalls === 0).at(-1);
  if (socket === undefined) throw new Error("the page has no open socket");
  if (socket.readyState !== OPEN) socket.open();
  return socket;
}

/** The server accepts `signature` on the page's socket. */
export function accept(signature = "sig"): PageSocket {
  const socket = liveSocket();
  socket.reply({ kind: "ready", signature });
  return socket;
}

/** Publishes `baseUrl` in the page as JupyterLab does (`#jupyter-config-data`); null removes it. */
export function setJupyterConfig(baseUrl: string | null): void {
  document.getElementById("jupyter-config-data")?.remove();
  if (baseUrl === null) return;
  const config = Object.assign(document.createElement("script"), { id: "jupyter-config-data", type: "application/json" });
  config.textContent = JSON.stringify({ baseUrl, appName: "JupyterLab" });
  document.head.append(config);
}

/** Makes the document a JupyterLab page (its config data) whose WebSockets are `PageSocket`s. */
export function openJupyterPage(): void {
  setJupyterConfig("/lab/");
  vi.stubGlobal("WebSocket", PageSocket);
}

/** Undoes `openJupyterPage`, including the page's cached direct channel. */
export function closeJupyterPage(): void {
  setJupyterConfig(null);
  delete (globalThis as Record<string, unknown>).__labwidgetDirect;
  vi.unstubAllGlobals();
  sockets.length = 0;
}
