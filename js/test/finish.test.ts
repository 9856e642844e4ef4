import { afterEach, describe, expect, test } from "vitest";
import type { LabelEvent } from "../types";
import { type Mounted, mount, press, unmountAll } from "./steps_mount";

/** Finishing an item (lib/finish.ts): the finish keys, the finish bar and its rules. */

afterEach(unmountAll);

describe("PRM800K labeling", () => {
  const ack = (model: Mounted["model"], event: LabelEvent) =>
    model.emit("msg:custom", { kind: "ack", id: event.id }, []);

  test("after the first wrong step the rest dim, and E finishes with found_error", () => {
    const { model, root, row, byTestId, labelsSent } = mount();
    press(root, "3");
    press(root, "1");
    expect(row(2).classList.contains("lw-step--after-error")).toBe(true);
    expect(row(1).classList.contains("lw-step--after-error")).toBe(false);
    expect(byTestId("finish-bar").textContent).toContain("First error at step 2");
    press(root, "E");
    const finish = labelsSent().at(-1) as LabelEvent;
    expect(finish).toMatchObject({ label: "finish", step: null, text: "found_error" });
    expect(byTestId("finish-bar").dataset.status).toBe("pending");
    model.kernelSet("saved", { finish: "found_error" });
    ack(model, finish);
    expect(byTestId("finish-bar").dataset.status).toBe("saved");
    expect(byTestId("finish-bar").dataset.reason).toBe("found_error");
  });

  test.each([
    ["S", "solution"],
    ["B", "bad_problem"],
    ["G", "give_up"],
  ])("%s finishes the item as %s", (key, reason) => {
    const { root, labelsSent } = mount();
    press(root, key, { shiftKey: true });
    expect(labelsSent()[0]).toMatchObject({ label: "finish", text: reason });
  });

  test("a refused finish shows its error in the finish bar", () => {
    const { model, root, byTestId, labelsSent } = mount();
    press(root, "S", { shiftKey: true });
    model.emit("msg:custom", { kind: "error", id: labelsSent()[0].id, message: "not saved: nope" }, []);
    expect(byTestId("finish-bar").textContent).toBe("not saved: nope");
    expect(byTestId("finish-bar").dataset.status).toBe("error");
  });
});

describe("finishing as a solution with a step rated wrong", () => {
  const finishes = (sent: LabelEvent[]) => sent.filter((event) => event.label === "finish").map((event) => event.text);

  test("the first S asks in the finish bar; a second S at once finishes anyway", () => {
    const { root, byTestId, labelsSent } = mount({ step_labels: [1, -1, null] });
    press(root, "S", { shiftKey: true });
    expect(finishes(labelsSent())).toEqual([]);
    expect(byTestId("finish-bar").textContent).toBe(
      "step 2 is rated wrong: press S again to finish as a solution anyway, or E to finish at the first error",
    );
    expect(byTestId("finish-bar").dataset.asking).toBe("true");
    press(root, "Shift"); // the Shift of the second S is no other key
    press(root, "S", { shiftKey: true });
    expect(finishes(labelsSent())).toEqual(["solution"]);
    expect(byTestId("finish-bar").dataset.asking).toBe("false");
  });

  test("after E, S does not silently replace found_error: any other key in between lets it be", () => {
    const { model, root, byTestId, labelsSent } = mount({ step_labels: [-1, null, null] });
    press(root, "E", { shiftKey: true });
    model.kernelSet("saved", { finish: "found_error" });
    model.emit("msg:custom", { kind: "ack", id: labelsSent()[0].id }, []);
    press(root, "S", { shiftKey: true });
    press(root, "j");
    expect(byTestId("finish-bar").textContent).toBe("finished: found the first error");
    press(root, "S", { shiftKey: true });
    expect(finishes(labelsSent())).toEqual(["found_error"]);
    press(root, "E", { shiftKey: true }); // the answer the question offers
    expect(finishes(labelsSent())).toEqual(["found_error", "found_error"]);
  });

  test("with no step rated wrong, S finishes at once", () => {
    const { root, labelsSent } = mount({ step_labels: [1, 1, 0] });
    press(root, "S", { shiftKey: true });
    expect(finishes(labelsSent())).toEqual(["solution"]);
  });

  test("a wrong rating still pending counts: S right after 1 asks", () => {
    const { root, labelsSent } = mount();
    press(root, "1");
    press(root, "S", { shiftKey: true });
    expect(finishes(labelsSent())).toEqual([]);
  });
});
