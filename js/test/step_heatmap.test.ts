import { afterEach, describe, expect, test } from "vitest";
import { mount, press, unmountAll } from "./steps_mount";

/** The step labeler's token heatmap (lib/step_heatmap.ts). */

afterEach(unmountAll);

describe("token heatmap", () => {
  const packed = (values: number[]) => {
    const view = new DataView(new ArrayBuffer(values.length * 4));
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    return { view, dtype: "float32", shape: [values.length] };
  };
  /** Texts as Python's pack_strings sends them: UTF-8, NUL between them. */
  const packedStrings = (texts: string[]) => {
    const bytes = new TextEncoder().encode(texts.join("\0"));
    return { view: new DataView(bytes.buffer), dtype: "utf8-nul", shape: [texts.length] };
  };
  const traits = {
    steps: ["2 * 3 = 6", "so 8"],
    tokens: packedStrings(["2", " *", " 3", " =", " 6", "so", " 8"]),
    token_scores: packed([-0.1, -0.2, -0.1, -3, -0.05, -0.3, -4]),
    step_token_counts: [5, 2],
  };

  test("colours each step's tokens in place of its text, with the score on hover; t toggles", () => {
    const { root, row, cleanup } = mount(traits);
    const tokens = row(1).querySelectorAll<HTMLElement>(".lw-tok");
    expect([...tokens].map((t) => t.textContent)).toEqual(["so", " 8"]);
    expect(tokens[1].title).toContain("−4.00");
    expect(tokens[1].style.backgroundColor).not.toBe("");
    expect(root.classList.contains("lw-steps--heatmap")).toBe(true);
    press(root, "t");
    expect(root.classList.contains("lw-steps--heatmap")).toBe(false);
    expect(row(1).querySelector<HTMLElement>(".lw-heatmap__step")?.hidden).toBe(true);
    press(root, "t");
    expect(root.classList.contains("lw-steps--heatmap")).toBe(true);
    cleanup();
    expect(row(1).querySelector(".lw-tok")).toBeNull();
  });

  test("without tokens there is no heatmap and t does nothing", () => {
    const { root, el } = mount();
    press(root, "t");
    expect(el.querySelector(".lw-tok")).toBeNull();
    expect(root.classList.contains("lw-steps--heatmap")).toBe(false);
  });

  test("tokens that are not packed texts show an error instead of colours", () => {
    const { el, byTestId } = mount({ ...traits, tokens: { ...packedStrings(["2", " *"]), shape: [7] } });
    expect(el.querySelector(".lw-tok")).toBeNull();
    expect(byTestId("finish-bar").textContent).toContain("cannot show the token heatmap: 2 texts in a value of shape [7]");
  });

  test("scores that do not fit the tokens show an error instead of colours", () => {
    const { el, byTestId } = mount({ ...traits, token_scores: packed([1, 2]) });
    expect(el.querySelector(".lw-tok")).toBeNull();
    expect(byTestId("finish-bar").textContent).toContain("cannot show the token heatmap");
  });
});
