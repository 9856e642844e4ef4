import { afterEach, describe, expect, test } from "vitest";
import { mount, press, unmountAll } from "./steps_mount";

/** The source view, v (lib/source_view.ts). */

afterEach(unmountAll);

describe("source view", () => {
  const attack = '**bold** <img src=x onerror="window.pwned=1"> $x$';

  test("v shows the current step's text exactly as written, as text; it follows the cursor; v hides it", () => {
    const { el, root, row, byTestId } = mount({ steps: ["2 * 3 = 6", attack] });
    expect(el.querySelector('[data-testid="step-source"]')).toBeNull();
    press(root, "v");
    expect(row(0).contains(byTestId("step-source"))).toBe(true);
    expect(byTestId("step-source").textContent).toBe("2 * 3 = 6");
    press(root, "j");
    const source = byTestId("step-source");
    expect(row(1).contains(source)).toBe(true);
    expect(source.tagName).toBe("PRE");
    expect(source.textContent).toBe(attack);
    expect(source.children).toHaveLength(0);
    expect(el.querySelector("img")).toBeNull();
    press(root, "v");
    expect(el.querySelector('[data-testid="step-source"]')).toBeNull();
  });

  test("the source of a folded step is all of it, and Escape hides it", () => {
    const huge = "x".repeat(50_000);
    const { el, root, byTestId } = mount({ steps: [huge] });
    press(root, "v");
    expect(byTestId("step-source").textContent).toBe(huge);
    const escape = press(root, "Escape");
    expect(escape.defaultPrevented).toBe(true);
    expect(el.querySelector('[data-testid="step-source"]')).toBeNull();
  });

  test("v scrolls the source onto the screen: under a long step it starts below it", () => {
    const scrolled: [Element, unknown][] = [];
    HTMLElement.prototype.scrollIntoView = function (this: Element, arg?: unknown) {
      scrolled.push([this, arg]);
    };
    try {
      const { root, byTestId } = mount();
      press(root, "v");
      expect(scrolled).toEqual([[byTestId("step-source"), { block: "nearest" }]]);
    } finally {
      delete (HTMLElement.prototype as Partial<HTMLElement>).scrollIntoView;
    }
  });

  test("it shows the alternative on screen", () => {
    const { root, byTestId } = mount({ steps: ["a0"], alternatives: [["a0", "a1"]] });
    press(root, "v");
    press(root, "l");
    expect(byTestId("step-source").textContent).toBe("a1");
  });
});
