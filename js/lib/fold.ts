/**
 * Folding of steps taller than a few screens. A 1 MiB line would otherwise be a row of some
 * 250,000 pixels, its rating at the far end; folded, it shows its start and says how much more
 * there is. The decision is made from the text alone, so no row is laid out to measure it.
 */

/** The most lines a step shows until it is unfolded: about three screens. */
export const FOLD_LINES = 120;
/** The most characters it shows: 120 lines of 100 characters, for steps of few, long lines. */
export const FOLD_CHARS = 12_000;

export interface Fold {
  /** The start of the step that is shown while it is folded. */
  shown: string;
  /** What is left out, e.g. "… 4,880 more lines" or, for one huge line, "… 1,036,576 more characters". */
  more: string;
}

const count = (n: number, what: string) => `${n.toLocaleString("en-US")} more ${what}${n === 1 ? "" : "s"}`;

/** Where the `limit`-th line ends (after its newline), or -1 when `text` has no more lines. */
function endOfLine(text: string, limit: number): number {
  let at = -1;
  for (let line = 0; line < limit; line++) {
    at = text.indexOf("\n", at + 1);
    if (at === -1) return -1;
  }
  return at + 1;
}

/** Code points, not UTF-16 units: an emoji is one character. */
function countCharacters(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xdc00 && code <= 0xdfff) n--;
  }
  return n;
}

function countLines(text: string): number {
  let lines = 1;
  for (let at = text.indexOf("\n"); at !== -1 && at < text.length - 1; at = text.indexOf("\n", at + 1)) lines++;
  return lines;
}

/**
 * How `text` is shown folded, or null when it is short enough to show whole. It is cut after
 * {@link FOLD_LINES} lines or {@link FOLD_CHARS} characters, whichever comes first (never inside
 * a surrogate pair), and the rest is counted in lines, or in characters when it is one line.
 *
 * >>> foldOf("a\n".repeat(200))?.more
 * "… 80 more lines"
 */
export function foldOf(text: string): Fold | null {
  if (text.length <= FOLD_CHARS && endOfLine(text, FOLD_LINES) === -1) return null;
  const lineEnd = endOfLine(text, FOLD_LINES);
  let cut = lineEnd === -1 ? FOLD_CHARS : Math.min(lineEnd, FOLD_CHARS);
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  const rest = text.slice(cut);
  if (rest.trim() === "") return null;
  const lines = countLines(rest);
  return { shown: text.slice(0, cut), more: `… ${lines > 1 ? count(lines, "line") : count(countCharacters(rest), "character")}` };
}
