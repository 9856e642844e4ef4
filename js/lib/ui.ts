import { KEYS } from "./keys";
import "./widget.css";

/** A new element with a class and, for tests and screen readers alike, a stable test id. */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  testId?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (testId !== undefined) node.dataset.testid = testId;
  return node;
}

const KEY_NAMES: Record<string, string> = { ArrowDown: "↓", ArrowUp: "↑", ArrowLeft: "←", ArrowRight: "→" };

/** The `?` overlay: every key and what it does, grouped by action, hidden until asked for. */
export function helpOverlay(): HTMLDivElement {
  const overlay = element("div", "lw-help", "key-help");
  overlay.hidden = true;
  overlay.setAttribute("role", "dialog");
  overlay.setAttribute("aria-label", "Keyboard shortcuts");
  const title = element("div", "lw-help__title");
  title.textContent = "Keys (Esc or ? closes)";
  const table = element("dl", "lw-help__keys");
  const byMeaning = new Map<string, string[]>();
  for (const [key, , meaning] of KEYS) byMeaning.set(meaning, [...(byMeaning.get(meaning) ?? []), KEY_NAMES[key] ?? key]);
  for (const [meaning, keys] of byMeaning) {
    const term = element("dt", "lw-help__key");
    term.textContent = keys.join(" ");
    const description = element("dd", "lw-help__meaning");
    description.textContent = meaning;
    table.append(term, description);
  }
  overlay.append(title, table);
  return overlay;
}

/**
 * Puts an overlay of `container` (positioned absolutely in it) at the height of `anchor`, the
 * row the user is looking at, and scrolls it into view: in a long widget its top may be screens
 * above what is on screen.
 */
export function placeOverlay(overlay: HTMLElement, container: HTMLElement, anchor: HTMLElement | null): void {
  const top = anchor === null ? 0 : anchor.getBoundingClientRect().top - container.getBoundingClientRect().top;
  overlay.style.top = `${Math.max(0, Math.round(top))}px`;
  overlay.scrollIntoView?.({ block: "nearest" }); // jsdom has none
}

// Redraws run on every key press over every row: writing only what changed keeps them from
// invalidating style and layout for the whole list.
export function setText(node: HTMLElement, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}

export function setData(node: HTMLElement, key: string, value: string): void {
  if (node.dataset[key] !== value) node.dataset[key] = value;
}

export function setHidden(node: HTMLElement, hidden: boolean): void {
  if (node.hidden !== hidden) node.hidden = hidden;
}
