import type { AnyModel } from "@anywidget/types";

// `any` as in @anywidget/types' own EventHandler: listeners take differently typed arguments.
type Callback = (...args: any[]) => void;

/** An anywidget model without Jupyter, plus what tests need to drive and inspect it. */
export interface FakeModel<T extends object> extends AnyModel<T> {
  /** Contents of every `send`, in order. */
  sent: unknown[];
  /** A snapshot of the state at each `save_changes`. */
  saved: T[];
  /** Keys the view itself set (the kernel's changes go through `kernelSet`). */
  viewSets: (keyof T)[];
  /** Simulates a trait change coming from Python. */
  kernelSet<K extends keyof T>(key: K, value: T[K]): void;
  /** Fires an event at the listeners, e.g. `emit("msg:custom", msg, [])`. */
  emit(event: string, ...args: unknown[]): void;
  listenerCount(): number;
}

/**
 * Backbone semantics where the view depends on them: `set` fires `change:<key>` and `change`
 * synchronously, and only when the value actually changes.
 */
export function createFakeModel<T extends object>(initial: T): FakeModel<T> {
  const state = structuredClone(initial);
  const listeners = new Map<string, Callback[]>();

  const emit = (event: string, ...args: unknown[]) => {
    for (const callback of [...(listeners.get(event) ?? [])]) callback(...args);
  };
  const assign = <K extends keyof T>(key: K, value: T[K]) => {
    const old = state[key];
    state[key] = value;
    if (JSON.stringify(old) !== JSON.stringify(value)) {
      emit(`change:${String(key)}`, { name: key, old, new: value });
      emit("change");
    }
  };

  const model: FakeModel<T> = {
    get: (key) => state[key],
    set(key, value) {
      model.viewSets.push(key);
      assign(key, value);
    },
    save_changes() {
      model.saved.push(structuredClone(state));
    },
    on(event: string, callback: Callback) {
      listeners.set(event, [...(listeners.get(event) ?? []), callback]);
    },
    off(event?: string | null, callback?: Callback | null) {
      if (!event) {
        listeners.clear();
        return;
      }
      listeners.set(event, callback ? (listeners.get(event) ?? []).filter((f) => f !== callback) : []);
    },
    send(content: unknown) {
      model.sent.push(structuredClone(content));
    },
    widget_manager: {
      get_model: () => Promise.reject(new Error("the fake model has no widget manager")),
    },
    sent: [],
    saved: [],
    viewSets: [],
    kernelSet: assign,
    emit,
    listenerCount: () => [...listeners.values()].reduce((n, callbacks) => n + callbacks.length, 0),
  };
  return model;
}
