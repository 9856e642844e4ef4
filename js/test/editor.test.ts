import { afterEach, describe, expect, test } from "vitest";
import { mount, press, unmountAll } from "./steps_mount";

/** The replacement and note editors (lib/editor.ts). */

afterEach(unmountAll);

describe("PRM800K labeling", () => {
  test.each([
    ["n", "note"],
    ["r", "replacement"],
  ] as const)("%s opens an editor: Enter saves a %s, and its keys never reach the key map", (key, kind) => {
    const { el, root, byTestId, labelsSent } = mount();
    let leaked = 0;
    el.addEventListener("keydown", () => leaked++);
    press(root, key);
    const box = byTestId("editor-0") as HTMLTextAreaElement;
    expect(document.activeElement).toBe(box);
    box.value = "  check the sign  ";
    press(box, "3");
    press(box, "j");
    press(box, "Enter");
    expect(leaked).toBe(0);
    expect(labelsSent()).toHaveLength(1);
    expect(labelsSent()[0]).toMatchObject({ label: kind, step: 0, text: "check the sign" });
    expect(el.querySelector("textarea")).toBeNull();
    expect(document.activeElement).toBe(root);
  });

  test("Escape closes an editor without saving", () => {
    const { el, root, byTestId, labelsSent } = mount();
    press(root, "n");
    (byTestId("editor-0") as HTMLTextAreaElement).value = "draft";
    press(byTestId("editor-0"), "Escape");
    expect(el.querySelector("textarea")).toBeNull();
    expect(labelsSent()).toHaveLength(0);
  });

  test("cleanup with an editor open removes it and its listener", () => {
    const { el, root, cleanup, labelsSent } = mount();
    press(root, "n");
    const box = el.querySelector("textarea") as HTMLTextAreaElement;
    cleanup();
    expect(el.querySelector("textarea")).toBeNull();
    box.value = "late";
    press(box, "Enter");
    expect(labelsSent()).toHaveLength(0);
  });
});
