import { afterEach, describe, expect, test } from "vitest";
import type { LabelEvent } from "../types";
import { type Mounted, mount, press, rowState, unmountAll } from "./steps_mount";

/** The labeling state (lib/labels.ts): pending, saved and not saved, over what Python has saved. */

afterEach(unmountAll);

describe("labels", () => {
  test("a key sends one label event and shows it as pending until acked", () => {
    const { model, root, row, labelsSent } = mount();
    press(root, "3");
    expect(labelsSent()).toHaveLength(1);
    const [event] = labelsSent();
    expect(event).toEqual({
      kind: "label",
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      item: "item-1",
      step: 0,
      alt: 0,
      label: "rating",
      value: 1,
      t_client: expect.any(Number),
      duration_ms: expect.any(Number),
    });
    expect(rowState(row(0))).toEqual({ status: "pending", value: "1" });
    expect(row(0).textContent).toContain("saving…");
    expect(model.get("cursor")).toBe(1);
    expect(model.viewSets).not.toContain("step_labels");
  });

  test.each([
    ["ack first", ["ack", "labels"]],
    ["step_labels first", ["labels", "ack"]],
  ])("a step is saved once acked (%s)", (_, order) => {
    const { model, root, row, labelsSent } = mount();
    press(root, "1");
    const { id } = labelsSent()[0];
    for (const what of order) {
      if (what === "ack") model.emit("msg:custom", { kind: "ack", id }, []);
      else model.kernelSet("step_labels", [-1, null, null]);
    }
    expect(rowState(row(0))).toEqual({ status: "saved", value: "-1" });
    expect(row(0).textContent).toContain("saved");
  });

  test("an ack with an unknown id changes nothing", () => {
    const { model, root, el, labelsSent } = mount();
    press(root, "3");
    const before = el.innerHTML;
    model.emit("msg:custom", { kind: "ack", id: "00000000-0000-4000-8000-000000000000" }, []);
    model.emit("msg:custom", { kind: "progress", id: labelsSent()[0].id }, []);
    expect(el.innerHTML).toBe(before);
  });

  test("a newer rating of the same step stays pending when the older one is acked", () => {
    const { model, root, row, labelsSent } = mount();
    press(root, "3");
    press(root, "k");
    press(root, "1");
    const [older, newer] = labelsSent();
    expect([older.step, newer.step]).toEqual([0, 0]);
    model.emit("msg:custom", { kind: "ack", id: older.id }, []);
    model.kernelSet("step_labels", [1, null, null]);
    expect(rowState(row(0))).toEqual({ status: "pending", value: "-1" });
    model.emit("msg:custom", { kind: "ack", id: newer.id }, []);
    expect(rowState(row(0))).toEqual({ status: "saved", value: "-1" });
  });

  test("an error shows its message on the step, which keeps its saved value", () => {
    const { model, root, row, byTestId, labelsSent } = mount({ step_labels: [0, null, null] });
    press(root, "1");
    expect(rowState(row(0))).toEqual({ status: "pending", value: "-1" });
    model.emit("msg:custom", { kind: "error", id: labelsSent()[0].id, message: "store is read-only" }, []);
    expect(rowState(row(0))).toEqual({ status: "error", value: "0" });
    const error = byTestId("step-error-0");
    expect(error.textContent).toBe("store is read-only");
    expect(error.hidden).toBe(false);
    expect(byTestId("step-error-1").hidden).toBe(true);
  });

  test("the buttons on a row rate that step", () => {
    const { model, byTestId, row, labelsSent } = mount();
    byTestId("rate-1--1").click();
    byTestId("rate-2-0").click();
    byTestId("rate-0-1").click();
    expect(labelsSent().map((e) => [e.step, e.value])).toEqual([
      [1, -1],
      [2, 0],
      [0, 1],
    ]);
    expect([0, 1, 2].map((i) => row(i).dataset.value)).toEqual(["1", "-1", "0"]);
    expect(model.get("cursor")).toBe(1);
  });

  test("rating the last step keeps the cursor there", () => {
    const { model, root, labelsSent } = mount({ cursor: 2 });
    press(root, "+");
    press(root, "=");
    expect(labelsSent().map((e) => e.step)).toEqual([2, 2]);
    expect(model.get("cursor")).toBe(2);
  });

  test("a new item drops what this view knew about the old one", () => {
    const { model, root, row, labelsSent } = mount();
    press(root, "3");
    model.kernelSet("item_id", "item-2");
    expect(rowState(row(0))).toEqual({ status: "none", value: "" });
    model.emit("msg:custom", { kind: "error", id: labelsSent()[0].id, message: "late" }, []);
    expect(rowState(row(0))).toEqual({ status: "none", value: "" });
  });
});

describe("PRM800K labeling", () => {
  const ack = (model: Mounted["model"], event: LabelEvent) =>
    model.emit("msg:custom", { kind: "ack", id: event.id }, []);

  test("u sends an undo for the current step; the row shows what Python restores", () => {
    const { model, root, row, labelsSent } = mount({ step_labels: [-1, null, null] });
    press(root, "u");
    const [undo] = labelsSent();
    expect(undo).toMatchObject({ kind: "undo", step: 0, alt: 0, label: "rating" });
    expect(rowState(row(0))).toEqual({ status: "pending", value: "-1" });
    model.kernelSet("step_labels", [1, null, null]);
    ack(model, undo);
    expect(rowState(row(0))).toEqual({ status: "saved", value: "1" });
  });
});

describe("saved marks of flags, choices, replacements and notes", () => {
  const ack = (model: Mounted["model"], event: LabelEvent) =>
    model.emit("msg:custom", { kind: "ack", id: event.id }, []);

  test("a flag says saving…, then saved, and stays saved once Python shows it", () => {
    const { model, root, byTestId, labelsSent } = mount();
    press(root, "f");
    const marks = byTestId("marks-0");
    expect(marks.textContent).toBe("⚑ can't tell · saving…");
    expect(marks.dataset.status).toBe("pending");
    ack(model, labelsSent()[0]);
    expect(marks.textContent).toBe("⚑ can't tell · saved");
    model.kernelSet("saved", { flags: [[true], [false], [false]] });
    expect(marks.textContent).toBe("⚑ can't tell · saved");
    expect(marks.dataset.status).toBe("saved");
  });

  test("a note and a replacement each carry their own status; an error says not saved", () => {
    const { model, root, byTestId, labelsSent } = mount();
    press(root, "n");
    (byTestId("editor-0") as HTMLTextAreaElement).value = "check the sign";
    press(byTestId("editor-0"), "Enter");
    expect(byTestId("note-0").textContent).toBe("note: check the sign · saving…");
    ack(model, labelsSent()[0]);
    model.kernelSet("saved", { notes: ["check the sign", null, null] });
    expect(byTestId("note-0").textContent).toBe("note: check the sign · saved");
    expect(byTestId("note-0").dataset.status).toBe("saved");

    press(root, "r");
    (byTestId("editor-0") as HTMLTextAreaElement).value = "2 * 3 = 6, so";
    press(byTestId("editor-0"), "Enter");
    model.emit("msg:custom", { kind: "error", id: labelsSent()[1].id, message: "not saved: disk full" }, []);
    expect(byTestId("replacement-0").dataset.status).toBe("none");
    expect(byTestId("step-error-0").textContent).toBe("not saved: disk full");
    expect(byTestId("note-0").textContent).toBe("note: check the sign · saved");
  });

  test("a choice says whether it is saved", () => {
    const { model, root, byTestId, labelsSent } = mount({ steps: ["a0"], alternatives: [["a0", "a1"]] });
    press(root, "l");
    press(root, "c");
    expect(byTestId("alternative-0").textContent).toContain("chosen saving…");
    ack(model, labelsSent()[0]);
    model.kernelSet("saved", { choices: [1] });
    expect(byTestId("alternative-0").textContent).toContain("chosen saved");
    expect(byTestId("alternative-0").dataset.status).toBe("saved");
  });
});
