import type { StateBlock, StateInline } from "markdown-it";

/** Per inline state and key, the last search: where it started and what it found. */
const lastSearch = new WeakMap<StateInline | StateBlock, Map<string, { from: number; at: number }>>();

/**
 * The first index in `[from, to)` where `test` holds, or -1: a character of an inline state's
 * source, or a line of a block state's.
 *
 * Rules search for closers from positions that only move forward, so the last answer for a
 * key still holds for any later start that is not past it: a line of a thousand unclosed
 * openers costs one scan, not a thousand. `test` must depend on the position alone (the
 * characters around it), never on where the search started, and `to` must not change
 * between calls with the same state and key.
 */
export function firstFrom(
  state: StateInline | StateBlock,
  key: string,
  from: number,
  to: number,
  test: (i: number) => boolean,
): number {
  let searches = lastSearch.get(state);
  if (searches === undefined) lastSearch.set(state, (searches = new Map()));
  const last = searches.get(key);
  if (last !== undefined && last.from <= from && (last.at < 0 || last.at >= from)) return last.at;
  let at = -1;
  for (let i = from; i < to; i++) {
    if (test(i)) {
      at = i;
      break;
    }
  }
  searches.set(key, { from, at });
  return at;
}

/** Whether a character is white space; `undefined` (before the start, past the end) is not. */
export const isSpace = (ch: string | undefined): boolean => ch !== undefined && /\s/.test(ch);

/** Whether a character is a letter or digit in any script. */
export const isWord = (ch: string | undefined): boolean => ch !== undefined && /[\p{L}\p{N}]/u.test(ch);
