import { afterEach, describe, expect, test, vi } from "vitest";
import { DirectChannel, type DirectSocket, directChannel, RECONNECT_MS } from "../lib/direct";
import { setJupyterConfig } from "./jupyter_page";

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** A websocket the test drives: it opens, answers and drops when the test says so. */
class FakeSocket implements DirectSocket {
  readyState = CONNECTING;
  /** What the channel sent, parsed. */
  readonly sent: Record<string, unknown>[] = [];
  closeCalls = 0;
  onopen: ((ev: Event) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    // As the browser's: sending on a socket that is not open throws.
    if (this.readyState !== OPEN) throw new Error("InvalidStateError: the socket is not open");
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  /** As the browser's: closing only starts the handshake; the close event comes later. */
  close(): void {
    this.closeCalls += 1;
    this.readyState = CLOSING;
  }

  open(): void {
    this.readyState = OPEN;
    this.onopen?.(new Event("open"));
  }

  /** The server's reply; a string goes as it is, anything else as JSON. */
  reply(message: unknown): void {
    const data = typeof message === "string" ? message : JSON.stringify(message);
    this.onmessage?.(new MessageEvent("message", { data }));
  }

  /** The connection ends (server gone, network down, or the close handshake done). */
  drop(): void {
    this.readyState = CLOSED;
    this.onclose?.(new CloseEvent("close"));
  }

  offered(): unknown[] {
    return this.sent.filter((message) => message.kind === "context").map((message) => message.signature);
  }
}

const URL_ = "ws://localhost:3000/labwidget/labels";
const A = { context: '{"item":"a"}', signature: "sig-a" };
const B = { context: '{"item":"b"}', signature: "sig-b" };

/** A channel whose sockets are fakes, in the order it opened them. */
function fakeChannel() {
  const sockets: FakeSocket[] = [];
  const channel = new DirectChannel(URL_, (url) => {
    const socket = new FakeSocket(url);
    sockets.push(socket);
    return socket;
  });
  const latest = () => {
    const socket = sockets.at(-1);
    if (socket === undefined) throw new Error("the channel opened no socket");
    return socket;
  };
  return { channel, sockets, latest };
}

/** Opens the latest socket and has the server accept each of `signatures` on it. */
function accept(socket: FakeSocket, ...signatures: string[]): void {
  if (socket.readyState !== OPEN) socket.open();
  for (const signature of signatures) socket.reply({ kind: "ready", signature });
}

afterEach(() => {
  setJupyterConfig(null);
  delete (globalThis as Record<string, unknown>).__labwidgetDirect;
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe("contexts", () => {
  test("are offered once the socket opens, and at once on a socket already open", () => {
    const { channel, sockets, latest } = fakeChannel();
    expect(sockets).toHaveLength(0); // no socket before a widget has a context
    channel.use(A);
    expect(sockets).toHaveLength(1);
    expect(latest().url).toBe(URL_);
    expect(latest().sent).toEqual([]);
    latest().open();
    expect(latest().sent).toEqual([{ kind: "context", context: A.context, signature: A.signature }]);
    channel.use(B);
    expect(latest().sent.at(-1)).toEqual({ kind: "context", context: B.context, signature: B.signature });
    // A second widget on the same item needs no second offer, nor a second socket.
    channel.use(A);
    expect(latest().offered()).toEqual([A.signature, B.signature]);
    expect(sockets).toHaveLength(1);
  });

  test("events are refused until the server is ready for their context, then sent under it", () => {
    const { channel, latest } = fakeChannel();
    channel.use(A);
    channel.use(B);
    const event = { kind: "label", id: "e1", item: "a", step: 0, value: 1 };
    expect(channel.send(A.signature, event)).toBe(false); // connecting
    latest().open();
    expect(channel.ready(A.signature)).toBe(false);
    expect(channel.send(A.signature, event)).toBe(false); // offered, not yet accepted
    latest().reply({ kind: "ready", signature: B.signature });
    expect(channel.send(A.signature, event)).toBe(false); // B's readiness says nothing of A
    latest().reply({ kind: "ready", signature: A.signature });
    expect(channel.ready(A.signature)).toBe(true);
    expect(channel.send(A.signature, event)).toBe(true);
    expect(latest().sent.at(-1)).toEqual({ ...event, context: A.signature });
    expect(channel.send("sig-unknown", event)).toBe(false);
    expect(latest().sent.filter((message) => message.kind === "label")).toHaveLength(1);
  });

  test("a ready for a context no widget uses does not make it sendable", () => {
    const { channel, latest } = fakeChannel();
    channel.use(A);
    latest().open();
    latest().reply({ kind: "ready", signature: "sig-forged" });
    expect(channel.ready("sig-forged")).toBe(false);
    expect(channel.send("sig-forged", { kind: "label", id: "e1" })).toBe(false);
  });

  test("a refused context is not sent on; its widget keeps using the kernel", () => {
    const { channel, latest } = fakeChannel();
    const listener = vi.fn();
    channel.subscribe(listener);
    channel.use(A);
    accept(latest(), A.signature);
    expect(channel.ready(A.signature)).toBe(true);
    latest().reply({ kind: "refused", signature: A.signature, message: "no kernel of this server signed this context" });
    expect(channel.ready(A.signature)).toBe(false);
    expect(channel.send(A.signature, { kind: "label", id: "e1" })).toBe(false);
    expect(listener).not.toHaveBeenCalled(); // ready and refused are the channel's, not the widgets'
  });
});

describe("replies", () => {
  test("acks and errors go to every subscriber until it unsubscribes; garbage is dropped", () => {
    const { channel, latest } = fakeChannel();
    const first = vi.fn();
    const second = vi.fn();
    const stopFirst = channel.subscribe(first);
    channel.subscribe(second);
    channel.use(A);
    accept(latest(), A.signature);
    const ack = { kind: "ack", id: "e1" };
    const error = { kind: "error", id: "e2", message: "not saved: there is no step 9" };
    latest().reply(ack);
    latest().reply(error);
    expect(first.mock.calls).toEqual([[ack], [error]]);
    expect(second.mock.calls).toEqual([[ack], [error]]);
    stopFirst();
    latest().reply({ kind: "ack", id: "e3" });
    latest().reply("not json {");
    expect(first).toHaveBeenCalledTimes(2);
    expect(second.mock.calls.at(-1)).toEqual([{ kind: "ack", id: "e3" }]);
    expect(second).toHaveBeenCalledTimes(3);
  });
});

describe("users of a context", () => {
  test("a context stays until its last user gives it up; then the socket closes", () => {
    const { channel, sockets, latest } = fakeChannel();
    const releaseA1 = channel.use(A);
    const releaseA2 = channel.use(A);
    const releaseB = channel.use(B);
    accept(latest(), A.signature, B.signature);
    releaseA1();
    releaseA1(); // giving up twice counts once
    expect(channel.ready(A.signature)).toBe(true);
    releaseA2();
    expect(channel.ready(A.signature)).toBe(false);
    expect(channel.send(A.signature, { kind: "label", id: "e1" })).toBe(false);
    expect(channel.ready(B.signature)).toBe(true);
    expect(latest().closeCalls).toBe(0);
    releaseB();
    expect(channel.ready(B.signature)).toBe(false);
    expect(latest().closeCalls).toBe(1);
    expect(sockets).toHaveLength(1);
  });

  test("a context given up and used again is offered again", () => {
    const { channel, latest } = fakeChannel();
    channel.use(B); // keeps the socket open
    const releaseA = channel.use(A);
    accept(latest(), B.signature, A.signature);
    releaseA();
    channel.use(A);
    expect(latest().offered()).toEqual([B.signature, A.signature, A.signature]);
    expect(channel.ready(A.signature)).toBe(false); // the server must vouch for it anew
  });

  test("after the last release the old socket's late close is ignored, and the next use opens a new one", () => {
    vi.useFakeTimers();
    const { channel, sockets } = fakeChannel();
    const release = channel.use(A);
    accept(sockets[0], A.signature);
    release();
    expect(vi.getTimerCount()).toBe(0);
    channel.use(A);
    expect(sockets).toHaveLength(2);
    accept(sockets[1], A.signature);
    expect(sockets[1].offered()).toEqual([A.signature]);
    // The first socket's close handshake finishes only now: it must not disturb the second.
    sockets[0].drop();
    expect(channel.ready(A.signature)).toBe(true);
    expect(channel.send(A.signature, { kind: "label", id: "e1" })).toBe(true);
    expect(sockets[1].sent.at(-1)).toEqual({ kind: "label", id: "e1", context: A.signature });
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(RECONNECT_MS.at(-1)! * 2);
    expect(sockets).toHaveLength(2);
  });
});

describe("reconnecting", () => {
  test("a dropped socket is opened again and every context offered again, to be accepted anew", () => {
    vi.useFakeTimers();
    const { channel, sockets } = fakeChannel();
    channel.use(A);
    channel.use(B);
    accept(sockets[0], A.signature, B.signature);
    sockets[0].drop();
    expect(channel.ready(A.signature)).toBe(false);
    expect(channel.send(A.signature, { kind: "label", id: "e1" })).toBe(false);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(RECONNECT_MS.at(-1)!);
    expect(sockets).toHaveLength(2);
    expect(sockets[1].url).toBe(URL_);
    sockets[1].open();
    expect(sockets[1].offered()).toEqual([A.signature, B.signature]);
    expect(channel.ready(A.signature)).toBe(false); // accepted on the old socket, not this one
    sockets[1].reply({ kind: "ready", signature: A.signature });
    expect(channel.send(A.signature, { kind: "label", id: "e1" })).toBe(true);
    expect(sockets[1].sent.at(-1)).toEqual({ kind: "label", id: "e1", context: A.signature });
    expect(sockets[0].sent.filter((message) => message.kind === "label")).toEqual([]);
  });

  test("the waits between attempts grow to the last one and stay there", () => {
    vi.useFakeTimers();
    const { channel, sockets } = fakeChannel();
    channel.use(A);
    accept(sockets[0], A.signature);
    const waits: number[] = [];
    for (let attempt = 0; attempt < RECONNECT_MS.length + 1; attempt++) {
      sockets.at(-1)!.drop(); // never opens again: the server is down
      const before = sockets.length;
      let waited = 0;
      while (sockets.length === before) {
        expect(waited).toBeLessThanOrEqual(RECONNECT_MS.at(-1)!);
        vi.advanceTimersByTime(100);
        waited += 100;
      }
      waits.push(waited);
    }
    expect(waits.every((wait, i) => i === 0 || wait >= waits[i - 1])).toBe(true);
    expect(waits.slice(-2)).toEqual([RECONNECT_MS.at(-1), RECONNECT_MS.at(-1)]);
    // A socket that opens starts the waits over.
    sockets.at(-1)!.open();
    sockets.at(-1)!.drop();
    vi.advanceTimersByTime(waits[0] - 100);
    const count = sockets.length;
    vi.advanceTimersByTime(100);
    expect(sockets).toHaveLength(count + 1);
  });

  test("the first reconnect after a close waits RECONNECT_MS[0], then each wait in turn", () => {
    vi.useFakeTimers();
    const { channel, sockets } = fakeChannel();
    channel.use(A);
    accept(sockets[0], A.signature);
    for (const [attempt, wait] of [...RECONNECT_MS, RECONNECT_MS.at(-1)!].entries()) {
      sockets.at(-1)!.drop();
      vi.advanceTimersByTime(wait - 1);
      expect(sockets).toHaveLength(attempt + 1);
      vi.advanceTimersByTime(1);
      expect(sockets).toHaveLength(attempt + 2);
    }
  });

  test("releasing the last context cancels a pending reconnect", () => {
    vi.useFakeTimers();
    const { channel, sockets } = fakeChannel();
    const release = channel.use(A);
    accept(sockets[0], A.signature);
    sockets[0].drop();
    expect(vi.getTimerCount()).toBe(1);
    release();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(RECONNECT_MS.at(-1)! * 2);
    expect(sockets).toHaveLength(1);
  });

  test("a socket that cannot be made is tried again later", () => {
    vi.useFakeTimers();
    const sockets: FakeSocket[] = [];
    let failing = 1;
    const channel = new DirectChannel(URL_, (url) => {
      if (failing-- > 0) throw new SyntaxError("The URL's scheme must be either 'ws' or 'wss'");
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    });
    const release = channel.use(A);
    expect(sockets).toHaveLength(0);
    expect(channel.send(A.signature, { kind: "label", id: "e1" })).toBe(false);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(RECONNECT_MS[0] - 1);
    expect(sockets).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
    accept(sockets[0], A.signature);
    expect(sockets[0].offered()).toEqual([A.signature]);
    expect(channel.send(A.signature, { kind: "label", id: "e1" })).toBe(true);
    release();
    expect(vi.getTimerCount()).toBe(0);
  });

  test("a socket that keeps failing to be made is tried less and less often", () => {
    vi.useFakeTimers();
    let attempts = 0;
    const channel = new DirectChannel(URL_, () => {
      attempts += 1;
      throw new SyntaxError("The URL's scheme must be either 'ws' or 'wss'");
    });
    channel.use(A);
    vi.advanceTimersByTime(RECONNECT_MS.reduce((sum, wait) => sum + wait, 0));
    expect(attempts).toBe(1 + RECONNECT_MS.length);
  });
});

describe("directChannel", () => {
  const record = () => {
    const urls: string[] = [];
    const open = (url: string) => {
      urls.push(url);
      return new FakeSocket(url);
    };
    return { urls, open };
  };

  test("is null on a page no Jupyter server serves", () => {
    const { open } = record();
    expect(directChannel(document, open)).toBeNull();
    expect((globalThis as Record<string, unknown>).__labwidgetDirect).toBeUndefined();
  });

  test("is null in a browser without websockets", () => {
    setJupyterConfig("/user/ada/");
    vi.stubGlobal("WebSocket", undefined);
    expect(directChannel(document, record().open)).toBeNull();
  });

  test.each([
    ["/user/ada/", "ws://localhost:3000/user/ada/labwidget/labels"],
    ["https://hub.example.org/user/ada/", "wss://hub.example.org/user/ada/labwidget/labels"],
    ["http://127.0.0.1:8888/", "ws://127.0.0.1:8888/labwidget/labels"],
  ])("for base URL %s speaks to %s", (baseUrl, expected) => {
    setJupyterConfig(baseUrl);
    const { urls, open } = record();
    const channel = directChannel(document, open);
    expect(channel).not.toBeNull();
    channel?.use(A)();
    expect(urls).toEqual([expected]);
  });

  test("is one channel per page, shared by every widget (and bundle) on it", () => {
    setJupyterConfig("/user/ada/");
    const first = record();
    const second = record();
    const channel = directChannel(document, first.open);
    expect(directChannel(document, second.open)).toBe(channel);
    channel?.use(A);
    channel?.use(B);
    expect(first.urls).toHaveLength(1);
    expect(second.urls).toEqual([]);
    // The cache is on globalThis, where another bundle's copy of this module finds it.
    const holder = (globalThis as Record<string, unknown>).__labwidgetDirect as Map<string, DirectChannel>;
    expect([...holder.values()]).toEqual([channel]);
    setJupyterConfig("/user/grace/");
    expect(directChannel(document, second.open)).not.toBe(channel);
  });
});
