import { element } from "./ui";

export type EditorKind = "note" | "replacement";

const PLACEHOLDERS: Record<EditorKind, string> = {
  note: "A note on this step (Enter saves, Esc cancels)",
  replacement: "The step as it should be (Enter saves, Esc cancels)",
};

/**
 * The text box under a step for its replacement (`r`) or a note on it (`n`). Enter saves what
 * was typed, Escape drops it; either way focus goes back to the widget. Its keys are its own:
 * nothing typed in it reaches JupyterLab or the widget's key map.
 */
export class StepEditor {
  readonly #root: HTMLElement;
  readonly #save: (step: number, kind: EditorKind, text: string) => void;
  #open: { step: number; kind: EditorKind; box: HTMLTextAreaElement } | null = null;

  /** `save` gets the text typed (trimmed, never empty) when Enter is pressed. */
  constructor(root: HTMLElement, save: (step: number, kind: EditorKind, text: string) => void) {
    this.#root = root;
    this.#save = save;
  }

  /** Opens an editor of `kind` for `step` after `anchor` (in the step's row), holding `text`. */
  open(step: number, kind: EditorKind, text: string, anchor: Element | undefined): void {
    this.close();
    const box = element("textarea", "lw-step__editor", `editor-${step}`);
    box.placeholder = PLACEHOLDERS[kind];
    box.value = text;
    box.addEventListener("keydown", this.#onKeydown);
    anchor?.after(box);
    this.#open = { step, kind, box };
    box.focus();
  }

  close(): void {
    if (this.#open === null) return;
    this.#open.box.removeEventListener("keydown", this.#onKeydown);
    this.#open.box.remove();
    this.#open = null;
    this.#root.focus({ preventScroll: true });
  }

  #onKeydown = (ev: KeyboardEvent) => {
    ev.stopPropagation();
    if (this.#open === null) return;
    if (ev.key === "Escape") {
      ev.preventDefault();
      this.close();
    } else if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      const { step, kind, box } = this.#open;
      const text = box.value.trim();
      this.close();
      if (text !== "") this.#save(step, kind, text);
    }
  };
}
