import { describe, expect, test } from "vitest";
import { type Action, keyAction } from "../lib/keys";

const keydown = (key: string, init: KeyboardEventInit = {}) =>
  new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true, ...init });

/** keyAction as seen by a listener, so that `ev.target` is the element typed into. */
function actionOn(target: HTMLElement, ev: KeyboardEvent): Action | null {
  let action: Action | null | undefined;
  const listener = (e: Event) => (action = keyAction(e as KeyboardEvent));
  document.body.addEventListener("keydown", listener);
  document.body.append(target);
  target.dispatchEvent(ev);
  document.body.removeEventListener("keydown", listener);
  target.remove();
  if (action === undefined) throw new Error("the keydown never reached the listener");
  return action;
}

describe("keyAction", () => {
  test.each<[string, Action]>([
    ["j", { kind: "move", delta: 1 }],
    ["ArrowDown", { kind: "move", delta: 1 }],
    ["k", { kind: "move", delta: -1 }],
    ["ArrowUp", { kind: "move", delta: -1 }],
    ["1", { kind: "rate", value: -1 }],
    ["2", { kind: "rate", value: 0 }],
    ["3", { kind: "rate", value: 1 }],
    ["-", { kind: "rate", value: -1 }],
    ["0", { kind: "rate", value: 0 }],
    ["+", { kind: "rate", value: 1 }],
    ["=", { kind: "rate", value: 1 }],
    ["f", { kind: "flag" }],
    ["a", { kind: "accept", all: false }],
    ["A", { kind: "accept", all: true }],
    ["l", { kind: "alternative", delta: 1 }],
    ["ArrowRight", { kind: "alternative", delta: 1 }],
    ["h", { kind: "alternative", delta: -1 }],
    ["ArrowLeft", { kind: "alternative", delta: -1 }],
    ["c", { kind: "choose" }],
    ["g", { kind: "generate" }],
    ["r", { kind: "edit", label: "replacement" }],
    ["n", { kind: "edit", label: "note" }],
    ["u", { kind: "undo" }],
    ["S", { kind: "finish", reason: "solution" }],
    ["E", { kind: "finish", reason: "found_error" }],
    ["B", { kind: "finish", reason: "bad_problem" }],
    ["G", { kind: "finish", reason: "give_up" }],
    ["t", { kind: "heatmap" }],
    ["v", { kind: "source" }],
    ["z", { kind: "fold" }],
    ["N", { kind: "queue", delta: 1 }],
    ["P", { kind: "queue", delta: -1 }],
    ["?", { kind: "help" }],
  ])("%s -> %o", (key, action) => {
    expect(keyAction(keydown(key))).toEqual(action);
  });

  test("shift is allowed because + needs it", () => {
    expect(keyAction(keydown("+", { shiftKey: true }))).toEqual({ kind: "rate", value: 1 });
  });

  test.each(["ctrlKey", "metaKey", "altKey"] as const)("keys held with %s are left alone", (modifier) => {
    for (const key of ["j", "k", "1", "3", "0", "-", "+", "ArrowDown"]) {
      expect(keyAction(keydown(key, { [modifier]: true }))).toBeNull();
    }
  });

  test.each(["J", "K", "4", "9", "x", "s", "e", "Enter", " ", "Escape", "Tab", "_"])(
    "unknown key %j -> null",
    (key) => {
      expect(keyAction(keydown(key))).toBeNull();
    },
  );

  test("keys typed into text fields are left alone", () => {
    const editable = document.createElement("div");
    editable.setAttribute("contenteditable", "true");
    for (const field of [document.createElement("input"), document.createElement("textarea"), editable]) {
      expect(actionOn(field, keydown("3"))).toBeNull();
    }
    expect(actionOn(document.createElement("div"), keydown("3"))).toEqual({ kind: "rate", value: 1 });
  });
});
