import type { MarkdownIt, StateBlock, StateInline, Token } from "markdown-it";
import { firstFrom, isSpace, isWord } from "./scan";

/**
 * Parses `text` on its own and appends its tokens to `state`: the content of a span is
 * parsed apart from what surrounds it, so no rule inside it can reach past its end.
 */
function parseNested(state: StateInline, text: string): void {
  const tokens: Token[] = [];
  state.md.inline.parse(text, state.md, state.env, tokens);
  for (const token of tokens) {
    state.tokens.push(token);
    state.tokens_meta.push(undefined);
  }
}

/** Whether a run of exactly `size` stars starting at `i` can close emphasis. */
function closesEmphasis(src: string, i: number, size: number): boolean {
  const before = src[i - 1];
  const after = src[i + size];
  if (before === "*" || after === "*" || before === "\\" || isSpace(before) || isWord(after)) return false;
  return size === 1 ? src[i] === "*" : src[i] === "*" && src[i + 1] === "*";
}

/**
 * `*text*` and `**text**`, only where the stars hug the text: a run of exactly one or two
 * stars, not after a letter, digit or backslash, with no space inside it, closed on the same
 * line by a run of the same size that no letter or digit follows, around text that holds a
 * letter or digit. So `3*2*1`, `a*b*c`, `(**********)` and `**|***|**` stay as written.
 */
function emphasis(state: StateInline, silent: boolean): boolean {
  const { src, pos } = state;
  const before = src[pos - 1];
  if (src[pos] !== "*" || before === "*" || before === "\\" || isWord(before)) return false;
  const size = src[pos + 1] === "*" ? 2 : 1;
  const from = pos + size;
  if (from >= state.posMax || src[from] === "*" || isSpace(src[from])) return false;
  const at = firstFrom(state, `*${size}`, from, state.posMax, (i) => src[i] === "\n" || closesEmphasis(src, i, size));
  if (at < 0 || src[at] === "\n") return false;
  const word = firstFrom(state, "word", from, state.posMax, (i) => isWord(src[i]));
  if (word < 0 || word >= at) return false;
  if (!silent) {
    const tag = size === 2 ? "strong" : "em";
    state.push(`${tag}_open`, tag, 1).markup = src.slice(pos, from);
    parseNested(state, src.slice(from, at));
    state.push(`${tag}_close`, tag, -1).markup = src.slice(pos, from);
  }
  state.pos = at + size;
  return true;
}

/** The characters a link target may hold: no space, bracket, parenthesis, quote or angle bracket. */
const URL_CHAR = /[^\s()[\]<>"'`]/;

/** The first index from `from` on whose character fails `test`, or `to`. */
function skip(src: string, from: number, to: number, test: (ch: string) => boolean): number {
  let i = from;
  while (i < to && test(src[i])) i++;
  return i;
}

/**
 * `[text](url)` on one line, with a target that {@link MarkdownIt.validateLink} accepts and
 * no brackets in the text; an image (`![alt](url)`) and anything else stay text.
 */
function link(state: StateInline, silent: boolean): boolean {
  const { src, pos, posMax } = state;
  if (src[pos] !== "[" || src[pos - 1] === "!" || src[pos - 1] === "\\") return false;
  const textEnd = skip(src, pos + 1, posMax, (ch) => ch !== "[" && ch !== "]" && ch !== "\n");
  if (textEnd === pos + 1 || src[textEnd] !== "]" || src[textEnd + 1] !== "(") return false;
  const urlEnd = skip(src, textEnd + 2, posMax, (ch) => URL_CHAR.test(ch));
  if (src[urlEnd] !== ")") return false;
  const href = state.md.normalizeLink(src.slice(textEnd + 2, urlEnd));
  if (!state.md.validateLink(href)) return false;
  if (!silent) {
    state.push("link_open", "a", 1).attrs = [["href", href]];
    parseNested(state, src.slice(pos + 1, textEnd));
    state.push("link_close", "a", -1);
  }
  state.pos = urlEnd + 1;
  return true;
}

const FENCE_OPEN = /^```[^`]*$/;
const FENCE_CLOSE = /^```\s*$/;

/**
 * A line of three backticks (and a language name) up to the next line of three backticks is
 * a code block. Without that closing line it is text, so a block split between two steps
 * hides nothing.
 */
function fence(state: StateBlock, startLine: number, endLine: number, silent: boolean): boolean {
  const line = (n: number) => state.src.slice(state.bMarks[n] + state.tShift[n], state.eMarks[n]);
  const fenceLine = (n: number) => state.sCount[n] - state.blkIndent < 4;
  if (!fenceLine(startLine) || !FENCE_OPEN.test(line(startLine))) return false;
  const close = firstFrom(state, "fence", startLine + 1, endLine, (n) => fenceLine(n) && FENCE_CLOSE.test(line(n)));
  if (close < 0) return false;
  if (silent) return true;
  const token = state.push("fence", "code", 0);
  token.info = line(startLine).slice(3).trim();
  token.markup = "```";
  token.content = state.src.slice(state.bMarks[startLine + 1], state.bMarks[close]);
  token.map = [startLine, close + 1];
  state.line = close + 1;
  return true;
}

/** Adds the narrow Markdown rules model output keeps: emphasis, links and fenced code. */
export function addMarkup(md: MarkdownIt): void {
  md.inline.ruler.push("lw_emphasis", emphasis);
  md.inline.ruler.push("lw_link", link);
  md.block.ruler.before("paragraph", "lw_fence", fence, { alt: ["paragraph"] });
}
