import { afterEach, describe, expect, test } from "vitest";
import { FOLD_CHARS, FOLD_LINES, foldOf } from "../lib/fold";
import { mount, press, unmountAll } from "./steps_mount";

afterEach(unmountAll);

describe("foldOf", () => {
  test("a step of a few screens or less is shown whole", () => {
    expect(foldOf("3 * 4 = 12")).toBeNull();
    expect(foldOf("line\n".repeat(FOLD_LINES))).toBeNull();
    expect(foldOf("x".repeat(FOLD_CHARS))).toBeNull();
  });

  test("many lines are cut after FOLD_LINES, the rest counted in lines", () => {
    const fold = foldOf(Array.from({ length: 5000 }, (_, i) => `line ${i}`).join("\n"));
    expect(fold?.shown.split("\n")).toHaveLength(FOLD_LINES + 1); // 120 lines and the empty rest
    expect(fold?.shown.endsWith("line 119\n")).toBe(true);
    expect(fold?.more).toBe("… 4,880 more lines");
  });

  test("one huge line is cut after FOLD_CHARS, the rest counted in characters", () => {
    const fold = foldOf("(*)".repeat(349_526)); // 1 MiB and a bit
    expect(fold?.shown).toBe("(*)".repeat(4000));
    expect(fold?.more).toBe(`… ${(349_526 * 3 - 12_000).toLocaleString("en-US")} more characters`);
  });

  test("long lines are cut at FOLD_CHARS even within FOLD_LINES, the rest counted in lines", () => {
    const fold = foldOf(`${"y".repeat(300)}\n`.repeat(100));
    expect(fold?.shown).toHaveLength(FOLD_CHARS);
    expect(fold?.more).toBe("… 61 more lines"); // 39 whole lines shown, the 40th cut inside it
  });

  test("a cut never splits a character, and characters are counted as such", () => {
    const fold = foldOf(`${"a".repeat(FOLD_CHARS - 1)}${"😀".repeat(10)}`);
    expect(fold?.shown).toBe("a".repeat(FOLD_CHARS - 1));
    expect(fold?.more).toBe("… 10 more characters");
  });

  test("trailing blank lines are no reason to fold", () => {
    expect(foldOf(`step\n${"\n".repeat(FOLD_LINES + 5)}`)).toBeNull();
  });
});

describe("long steps", () => {
  const huge = "(1)".repeat(349_526); // one line of 1 MiB

  test("a step of one huge line is folded to its start, says how much is left out, and z unfolds and folds it", () => {
    const { root, row, byTestId } = mount({ steps: ["short", huge, "after"] });
    const text = () => row(1).querySelector(".lw-step__text")?.textContent ?? "";
    expect(text().length).toBeLessThan(13_000);
    expect(huge.startsWith(text().trim())).toBe(true);
    expect(byTestId("fold-1").textContent).toBe(`… ${(huge.length - 12_000).toLocaleString("en-US")} more characters (z shows all)`);
    expect(row(1).classList.contains("lw-step--folded")).toBe(true);
    // Its controls stay on screen while it scrolls by: the CSS makes them sticky in long rows.
    expect(row(1).classList.contains("lw-step--long")).toBe(true);
    expect(row(0).classList.contains("lw-step--long")).toBe(false);
    expect(byTestId("fold-0").textContent).toBe("");

    press(root, "z"); // on step 1, which is short: nothing to unfold
    expect(text().length).toBeLessThan(13_000);
    press(root, "j");
    press(root, "z");
    expect(text().length > huge.length).toBe(true); // all of it (and whatever the renderer adds)
    expect(row(1).classList.contains("lw-step--folded")).toBe(false);
    expect(byTestId("fold-1").textContent).toBe("(z folds this step)");
    press(root, "z");
    expect(text().length).toBeLessThan(13_000);
    expect(row(1).classList.contains("lw-step--folded")).toBe(true);
  });

  test("folding an unfolded step brings its start back on screen; unfolding scrolls nothing", async () => {
    const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));
    const scrolled: [Element, unknown][] = [];
    HTMLElement.prototype.scrollIntoView = function (this: Element, arg?: unknown) {
      scrolled.push([this, arg]);
    };
    try {
      const { root, row } = mount({ steps: [huge] });
      await nextFrame();
      press(root, "z");
      await nextFrame();
      expect(scrolled).toEqual([]);
      row(0).getBoundingClientRect = () => ({ top: -90_000, bottom: -87_000, height: 3000 }) as DOMRect;
      press(root, "z");
      await nextFrame();
      expect(scrolled).toEqual([[row(0), { block: "start" }]]);
    } finally {
      delete (HTMLElement.prototype as Partial<HTMLElement>).scrollIntoView;
    }
  });

  test("a step of many lines is folded after 120 of them", () => {
    const long = Array.from({ length: 5000 }, (_, i) => `line ${i}`).join("\n");
    const { row, byTestId } = mount({ steps: [long] });
    expect(row(0).querySelector(".lw-step__text")?.textContent).toContain("line 119");
    expect(row(0).querySelector(".lw-step__text")?.textContent).not.toContain("line 120");
    expect(byTestId("fold-0").textContent).toBe("… 4,880 more lines (z shows all)");
  });

  test("a new item folds its long steps again", () => {
    const { model, root, row } = mount({ steps: [huge] });
    press(root, "z");
    expect(row(0).classList.contains("lw-step--folded")).toBe(false);
    model.kernelSet("item_id", "item-2");
    expect(row(0).classList.contains("lw-step--folded")).toBe(true);
  });
});
