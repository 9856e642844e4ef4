import type { AnyModel } from "@anywidget/types";
import type { GotoEvent, QueueProgress, StepLabelerTraits } from "../types";
import { newEventId } from "./protocol";
import { KernelRequests } from "./route";
import { element, setData, setHidden, setText } from "./ui";

/**
 * The queue's progress bar: where in the queue this item is, what is done, and this session's
 * pace, with `N` / `P` asking Python for the next or previous item; and, once this annotator's
 * week is over the store's weekly cap, a gentle notice. Hidden without a queue or a notice.
 */
export class Progress {
  readonly element = element("div", "lw-steps__progress", "progress");
  readonly #bar = element("div", "lw-steps__progress-bar");
  readonly #text = element("span", "lw-steps__progress-text");
  readonly #cap = element("span", "lw-steps__cap", "cap-notice");
  readonly #model: AnyModel<StepLabelerTraits>;
  readonly #requests: KernelRequests<GotoEvent>;
  /** Why the last move in the queue failed, or "": shown in place of the progress. */
  #error = "";
  #ticker: ReturnType<typeof setInterval> | undefined;

  constructor(model: AnyModel<StepLabelerTraits>, kernelGone: () => void) {
    this.#model = model;
    this.element.append(this.#bar, this.#text, this.#cap);
    this.#requests = new KernelRequests<GotoEvent>(model, {
      onReply: (_event, outcome) => {
        this.#error = outcome.ok ? "" : outcome.message;
        this.draw();
      },
      onKernelGone: kernelGone,
    });
    model.on("change:progress", this.draw);
  }

  draw = () => {
    const { position = 0, total = 0, done = 0, session_labels = 0, session_started_ms, cap } = this.#model.get("progress") ?? {};
    const notice = capNotice(cap);
    setText(this.#cap, notice);
    setHidden(this.#cap, notice === "");
    setHidden(this.element, total === 0 && notice === "");
    setHidden(this.#bar, total === 0);
    if (total === 0) return setText(this.#text, "");
    const elapsed = Math.max(Date.now() - (session_started_ms ?? Date.now()), 0);
    const minutes = Math.floor(elapsed / 60_000);
    const seconds = Math.floor((elapsed % 60_000) / 1000);
    const perHour = elapsed > 0 ? Math.round((session_labels * 3_600_000) / elapsed) : 0;
    this.#bar.style.width = `${(100 * done) / total}%`;
    setText(this.#text, this.#error ||
      `item ${position + 1} of ${total} · ${done} done · ${session_labels} labels this session · ` +
        `${perHour} labels/h · ${minutes}:${String(seconds).padStart(2, "0")} (N next, P previous)`);
    setData(this.element, "done", String(done));
    setData(this.element, "total", String(total));
    setData(this.element, "position", String(position));
    // The session clock ticks only while there is a queue to show it for.
    this.#ticker ??= setInterval(this.draw, 1000);
  };

  /** Whether the queue has an item `delta` away from this one. */
  canGo(delta: -1 | 1): boolean {
    const { position = 0, total = 0 } = this.#model.get("progress") ?? {};
    const target = position + delta;
    return total > 0 && target >= 0 && target < total;
  }

  /** Asks Python for the item `delta` away in the queue (see `canGo`). */
  go(delta: -1 | 1): void {
    const { position = 0 } = this.#model.get("progress") ?? {};
    this.#requests.send({ kind: "goto", id: newEventId(), position: position + delta });
  }

  dispose(): void {
    this.#model.off("change:progress", this.draw);
    clearInterval(this.#ticker);
    this.#requests.dispose();
  }
}

/** A crossed weekly cap in words, kindly; "" while under it (or without a cap). */
export function capNotice(cap: QueueProgress["cap"]): string {
  if (cap === undefined || !cap.crossed) return "";
  const hours = (h: number) => `${Math.round(h * 10) / 10} h`;
  return `${hours(cap.hours_this_week)} of labeling this week, past the team's ${hours(cap.cap_h)} cap: a good moment to hand over.`;
}
