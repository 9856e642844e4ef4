import { describe, expect, test } from "vitest";
import { FOLD_CHARS, FOLD_LINES, foldOf } from "../lib/fold";

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
