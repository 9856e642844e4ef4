import { afterEach, describe, expect, test } from "vitest";
import { mount, press, unmountAll } from "./steps_mount";

/** Suggested ratings beside the labeler's own (lib/suggestions.ts). */

afterEach(unmountAll);

describe("suggestions", () => {
  const suggestions = [
    { value: 1 as const, confidence: 0.92, source: "model:prm" },
    null,
    { value: -1 as const, confidence: null, source: "auto:math-shepherd" },
  ];

  test("show apart from labels, and a accepts the current step's as a human rating", () => {
    const { root, row, labelsSent, model } = mount({ suggestions });
    expect(row(0).dataset.suggested).toBe("1");
    expect(row(0).dataset.value).toBe("");
    expect(row(0).textContent).toContain("suggested ✓ correct 92% · model:prm");
    expect(row(1).dataset.suggested).toBe("");
    press(root, "a");
    expect(labelsSent()[0]).toMatchObject({ label: "rating", step: 0, value: 1, accepts_suggestion: true });
    expect(row(0).dataset.value).toBe("1");
    expect(row(0).dataset.suggested).toBe("");
    expect(model.get("cursor")).toBe(1);
    press(root, "a");
    expect(labelsSent()).toHaveLength(1);
  });

  test("A accepts every remaining suggestion, leaving human labels alone", () => {
    const { root, labelsSent } = mount({ suggestions, step_labels: [-1, null, null] });
    press(root, "A", { shiftKey: true });
    expect(labelsSent().map((e) => [e.step, e.value, e.accepts_suggestion])).toEqual([[2, -1, true]]);
  });
});
