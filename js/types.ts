/** Mirrors the synced traits of `labwidget.widgets.steps.StepLabeler` and its custom messages. */

/** A step label: -1 wrong, 0 neutral, +1 correct. */
export type LabelValue = -1 | 0 | 1;

export interface StepLabelerTraits {
  prompt: string;
  steps: string[];
  item_id: string;
  /** The saved label per step, as the store holds it; only Python writes this. */
  step_labels: (LabelValue | null)[];
  /** The current step; JS writes it when the user moves. */
  cursor: number;
}

/** JS -> Python: one label, identified by an id made in JS so resends are idempotent. */
export interface LabelEvent {
  kind: "label";
  id: string;
  item: string;
  step: number;
  alt: number;
  value: LabelValue;
  t_client: number;
}

/** Python -> JS: the reply to a `LabelEvent`, matched by its id. */
export type Reply = { kind: "ack"; id: string } | { kind: "error"; id: string; message: string };
