/**
 * The figures of `Store.summary()` as the page gets them, and what the dashboard and the report
 * derive from them: each label's origin, rates per hour, and times on the store's clock.
 */

/** One bucket of labels: by whom, from which source (`human`, `model:…`, `auto:…`). */
export interface TimelineRow {
  /** The bucket's first instant. */
  start: Date;
  annotator: string;
  source: string;
  labels: number;
}

export interface AnnotatorRow {
  annotator: string;
  source: string;
  labels: number;
  ms: number;
  hours: number;
}

export interface DistributionRow {
  dataset: string;
  source: string;
  ratings: { "-1": number; "0": number; "1": number };
  flags: number;
  finish: Record<string, number>;
  preferences: Record<string, number>;
}

export interface WeekRow {
  annotator: string;
  ms: number;
  hours: number;
  crossed: boolean;
}

/** `Store.summary()` less its timeline, which travels apart (as binary in the widget). */
export interface Summary {
  options: {
    since: string | null;
    until: string | null;
    dataset: string | null;
    timezone: string;
    week_start: string;
    weekly_cap_h: number | null;
    idle_cap_s: number;
    bucket: "hour" | "day";
  };
  generated_at: string;
  totals: { labels: number; human: number; automatic: number; hours: number; annotators: number };
  sources: Record<string, number>;
  annotators: AnnotatorRow[];
  distribution: DistributionRow[];
  week: {
    start: string;
    end: string;
    timezone: string;
    week_start: string;
    cap_h: number | null;
    idle_cap_s: number;
    annotators: WeekRow[];
  };
  queue: { items: number; done: number; claimed: number; open: number };
  /** The team's figures (labwidget/_team.py); absent until counted. */
  agreement?: Agreement;
  /** Items the consensus router sends to people; null where no rollouts were stored. */
  review?: { items: number } | null;
}

/** Cohen's κ of one pair of people, over the steps both rated. */
export interface KappaRow {
  a: string;
  b: string;
  kappa: number | null;
  items: number;
  steps: number;
}

/** Agreement between people: α over all, κ per pair; or why it could not be counted. */
export type Agreement =
  | { alpha: number | null; items: number; steps: number; kappa: KappaRow[] }
  | { error: string };

export type Origin = "human" | "model" | "auto";

/** Where a label came from, as the store's sources name it. */
export function origin(source: string): Origin {
  if (source.startsWith("model:")) return "model";
  if (source.startsWith("auto:")) return "auto";
  return "human";
}

export const ORIGIN_TEXT: Record<Origin, string> = {
  human: "people",
  model: "models (model:…)",
  auto: "automatic methods (auto:…)",
};

/** How many hours one bucket of the timeline lasts. */
export function bucketHours(bucket: "hour" | "day"): number {
  return bucket === "hour" ? 1 : 24;
}

const WALL_CACHE = new Map<string, Map<number, Date>>();

/**
 * The wall-clock time of `instant` in `timeZone`, as a Date whose UTC fields hold it. Charts
 * draw these on a UTC scale, so their axes read in the store's time zone, not the viewer's.
 */
export function wallClock(instant: Date, timeZone: string): Date {
  let cache = WALL_CACHE.get(timeZone);
  if (cache === undefined) WALL_CACHE.set(timeZone, (cache = new Map()));
  const known = cache.get(instant.getTime());
  if (known !== undefined) return known;
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(instant);
  const field = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? 0);
  const wall = new Date(
    Date.UTC(field("year"), field("month") - 1, field("day"), field("hour"), field("minute"), field("second")),
  );
  cache.set(instant.getTime(), wall);
  return wall;
}

/** "Mon 2 Nov 2026, 09:00" in `timeZone` (the date alone with `dateOnly`). */
export function formatTime(iso: string | Date, timeZone: string, dateOnly = false): string {
  const at = typeof iso === "string" ? new Date(iso) : iso;
  return new Intl.DateTimeFormat("en-GB", {
    timeZone,
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    ...(dateOnly ? {} : { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }),
  }).format(at);
}

/** Hours as people read them: "0 h", "1.5 h", "12 h". */
export function formatHours(hours: number): string {
  const rounded = hours >= 10 ? Math.round(hours) : Math.round(hours * 10) / 10;
  return `${rounded.toLocaleString("en-US")} h`;
}

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** Timeline rows from the JSON `Store.summary()` writes (the report embeds it so). */
export function timelineFromJson(rows: { start: string; annotator: string; source: string; labels: number }[]): TimelineRow[] {
  return rows.map((row) => ({ ...row, start: new Date(row.start) }));
}
