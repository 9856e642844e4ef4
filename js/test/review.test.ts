import { afterEach, describe, expect, test } from "vitest";
import { capNotice } from "../lib/progress";
import { mount, press, unmountAll } from "./steps_mount";

/** A review's machine verdicts, an adjudication's who said what (lib/review.ts), the weekly cap. */

afterEach(unmountAll);

describe("review", () => {
  const evidence = [
    null,
    {
      review: true,
      mc_rate: 0.25,
      mc_n: 8,
      mc_successes: 2,
      mc_value: 1 as const,
      mc_source: "auto:mc",
      judge_value: -1 as const,
      rationale: "17 + 34 is 51, not 41",
    },
    null,
  ];
  const suggestions = [null, { value: 1 as const, confidence: 0.25, source: "auto:mc" }, null];

  test("shows the rollouts' rate as a bar and the judge's verdict with its rationale", () => {
    const { byTestId, row } = mount({ evidence, suggestions, mode: "review", cursor: 1 });
    expect(byTestId("evidence-0").hidden).toBe(true);
    const shown = byTestId("evidence-1");
    expect(shown.hidden).toBe(false);
    expect(shown.dataset.review).toBe("true");
    const bar = shown.querySelector<HTMLElement>("[data-testid=mc-bar]");
    expect(bar?.getAttribute("aria-valuenow")).toBe("0.25");
    expect(bar?.title).toBe("2 of 8 rollouts reach the answer");
    expect((bar?.firstElementChild as HTMLElement).style.width).toBe("25%");
    const judge = shown.querySelector<HTMLElement>("[data-testid=judge-verdict]");
    expect(judge?.textContent).toContain("auto:judge ✗ wrong");
    expect(judge?.title).toBe("17 + 34 is 51, not 41");
    expect(judge?.getAttribute("aria-description")).toBe("17 + 34 is 51, not 41");
    expect(row(1).classList.contains("lw-step--review")).toBe(true);
  });

  test("shows a model's prediction beside the machines where there is one", () => {
    const model = { value: -1 as const, confidence: 0.7, source: "model:prm" };
    const withModel = evidence.map((shown) => (shown === null ? null : { ...shown, model }));
    const { byTestId } = mount({ evidence: withModel, suggestions, mode: "review", cursor: 1 });
    const shown = byTestId("evidence-1").querySelector("[data-testid=model-verdict]");
    expect(shown?.textContent).toBe("model:prm ✗ wrong 70%");
  });

  test("a accepts the machines' label as a human rating", () => {
    const { root, labelsSent } = mount({ evidence, suggestions, mode: "review", cursor: 1 });
    press(root, "a");
    expect(labelsSent()[0]).toMatchObject({ label: "rating", step: 1, value: 1, accepts_suggestion: true });
  });
});

describe("adjudication", () => {
  const evidence = [
    null,
    {
      labels: [
        { annotator: "x", source: "human", value: 1 as const },
        { annotator: "y", source: "human", value: -1 as const },
        { annotator: "auto:mc", source: "auto:mc", value: -1 as const },
      ],
    },
    null,
  ];

  test("shows who said what, and a rating key sends the adjudicator's verdict", () => {
    const { root, byTestId, row, labelsSent } = mount({ evidence, mode: "adjudicate", cursor: 1 });
    const said = byTestId("evidence-1").textContent;
    expect(said).toContain("x: ✓ correct (+1)");
    expect(said).toContain("y: ✗ wrong (-1)");
    expect(said).toContain("auto:mc (auto:mc): ✗ wrong (-1)");
    press(root, "3");
    expect(labelsSent()[0]).toMatchObject({ kind: "label", label: "adjudication", step: 1, value: 1 });
    expect(row(1).dataset.value).toBe("1");
    expect(row(1).dataset.status).toBe("pending");
    press(root, "k");
    press(root, "u");
    expect(labelsSent()[1]).toMatchObject({ kind: "undo", label: "adjudication", step: 1 });
  });
});

describe("weekly cap", () => {
  test("a crossed cap is a gentle notice, shown even without a queue", () => {
    const cap = { hours_this_week: 6.25, cap_h: 6, crossed: true };
    const { byTestId } = mount({ progress: { cap } });
    expect(byTestId("progress").hidden).toBe(false);
    expect(byTestId("cap-notice").textContent).toBe(capNotice(cap));
    expect(capNotice(cap)).toContain("6.3 h of labeling this week, past the team's 6 h cap");
  });

  test("under the cap, or without one, there is no notice", () => {
    expect(capNotice(undefined)).toBe("");
    expect(capNotice({ hours_this_week: 2, cap_h: 6, crossed: false })).toBe("");
    const { byTestId } = mount({ progress: { cap: { hours_this_week: 2, cap_h: 6, crossed: false } } });
    expect(byTestId("progress").hidden).toBe(true);
  });
});
