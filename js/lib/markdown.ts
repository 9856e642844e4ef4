import DOMPurify, { type Config } from "dompurify";
import katex, { type KatexOptions } from "katex";
import MarkdownIt, { type StateBlock, type StateInline } from "markdown-it";
import "katex/dist/katex.min.css";
import "./markdown.css";

/** Sources longer than this are shown as plain text instead of being parsed. */
export const MAX_MARKDOWN_CHARS = 200_000;

/** Display math longer than this many lines is left to the paragraph rule (bounds the scan). */
const MAX_MATH_BLOCK_LINES = 200;

/** The only link targets kept. Everything else stays visible as text and is never a link. */
const SAFE_URL = /^(?:https?:|mailto:|#)/i;

const KATEX_OPTIONS: KatexOptions = {
  // HTML only: half the DOM of "htmlAndMathml", and no MathML for the sanitizer to reason about.
  output: "html",
  throwOnError: false,
  trust: false,
  strict: "ignore",
  maxExpand: 1000,
  // Caps \rule, \kern and friends so a formula cannot claim a page-sized box.
  maxSize: 20,
};

interface Delimiter {
  open: string;
  close: string;
  display: boolean;
}

// `$$` before `$` so that the longer opener wins.
const INLINE_DELIMITERS: Delimiter[] = [
  { open: "$$", close: "$$", display: true },
  { open: "$", close: "$", display: false },
  { open: "\\(", close: "\\)", display: false },
  { open: "\\[", close: "\\]", display: true },
];

const BLOCK_DELIMITERS = INLINE_DELIMITERS.filter((d) => d.display);

function renderTex(tex: string, displayMode: boolean): string {
  try {
    return katex.renderToString(tex, { ...KATEX_OPTIONS, displayMode });
  } catch {
    // throwOnError:false only covers TeX syntax errors; deep nesting still overflows the stack.
    return `<code class="lw-md__math-error">${md.utils.escapeHtml(tex)}</code>`;
  }
}

/**
 * Positions from which a closing delimiter was searched for and not found, per inline state.
 * A later opener of the same kind cannot find one either, so a line of unclosed `$` costs
 * linear time instead of quadratic.
 */
const unclosedFrom = new WeakMap<StateInline, Map<string, number>>();

const isSpace = (ch: string | undefined) => ch !== undefined && /\s/.test(ch);

/** Where `delimiter.close` ends the math that starts at `start`, or -1 when nothing does. */
function findClose(state: StateInline, delimiter: Delimiter, start: number): number {
  const { src, posMax } = state;
  let seen = unclosedFrom.get(state);
  if (seen === undefined) unclosedFrom.set(state, (seen = new Map()));
  const key = `${delimiter.open}@${posMax}`;
  if (start >= (seen.get(key) ?? Infinity)) return -1;
  for (let i = start; i < posMax; i++) {
    if (i > start && src.startsWith(delimiter.close, i)) {
      // Pandoc's rule, so that "$5 and $6" stays a price: no space before a closing `$`
      // and no digit after it.
      const plainDollar = delimiter.close === "$";
      if (!plainDollar || (!isSpace(src[i - 1]) && !/[0-9]/.test(src[i + 1] ?? ""))) return i;
    }
    if (src[i] === "\\") i++;
  }
  seen.set(key, start);
  return -1;
}

function mathInline(state: StateInline, silent: boolean): boolean {
  const { src, pos } = state;
  const delimiter = INLINE_DELIMITERS.find((d) => src.startsWith(d.open, pos));
  if (delimiter === undefined) return false;
  const start = pos + delimiter.open.length;
  if (delimiter.open === "$" && (start >= state.posMax || isSpace(src[start]))) return false;
  const end = findClose(state, delimiter, start);
  if (end < 0) return false;
  if (!silent) {
    const token = state.push(delimiter.display ? "math_display" : "math_inline", "math", 0);
    token.content = src.slice(start, end);
    token.markup = delimiter.open;
  }
  state.pos = end + delimiter.close.length;
  return true;
}

/** Per block state and closer, the last search for it; block state shares one `src`. */
const lastCloseSearch = new WeakMap<StateBlock, Map<string, { from: number; at: number }>>();

/**
 * Where `close` next occurs in the source at or after `from`, or -1. Reuses the last search
 * when it still answers, so searching from every line of a long document stays linear.
 */
function nextClose(state: StateBlock, close: string, from: number): number {
  let searches = lastCloseSearch.get(state);
  if (searches === undefined) lastCloseSearch.set(state, (searches = new Map()));
  const last = searches.get(close);
  if (last !== undefined && last.from <= from && (last.at < 0 || last.at >= from)) return last.at;
  const at = state.src.indexOf(close, from);
  searches.set(close, { from, at });
  return at;
}

/**
 * `$$` or `\[` at the start of a line, closed at the end of the same or a later line. Without
 * it, lines of a formula that look like Markdown (`- x`, `# y`) would break it apart.
 */
function mathBlock(state: StateBlock, startLine: number, endLine: number, silent: boolean): boolean {
  // Four spaces of indent make a code block.
  if (state.sCount[startLine] - state.blkIndent >= 4) return false;
  const begin = state.bMarks[startLine] + state.tShift[startLine];
  const delimiter = BLOCK_DELIMITERS.find((d) => state.src.startsWith(d.open, begin));
  if (delimiter === undefined) return false;
  const lastLine = Math.min(endLine, startLine + MAX_MATH_BLOCK_LINES);
  const close = nextClose(state, delimiter.close, begin + delimiter.open.length);
  if (close < 0 || close > state.eMarks[lastLine - 1]) return false;
  const lines: string[] = [];
  for (let line = startLine; line < lastLine; line++) {
    const from = line === startLine ? begin + delimiter.open.length : state.bMarks[line] + state.tShift[line];
    const text = state.src.slice(from, state.eMarks[line]).trimEnd();
    // A non-blank line indented less than the container (list item, blockquote) leaves it.
    if (line > startLine && text !== "" && state.sCount[line] < state.blkIndent) return false;
    const at = text.indexOf(delimiter.close);
    if (at < 0) {
      lines.push(text);
      continue;
    }
    // A closer mid-line (`$$a$$ and $$b$$`) is inline math; the paragraph rule gets it.
    if (at !== text.length - delimiter.close.length) return false;
    lines.push(text.slice(0, at));
    const content = lines.join("\n");
    if (content.trim() === "") return false;
    if (silent) return true;
    const token = state.push("math_block", "math", 0);
    token.block = true;
    token.content = content;
    token.markup = delimiter.open;
    token.map = [startLine, line + 1];
    state.line = line + 1;
    return true;
  }
  return false;
}

const md = new MarkdownIt({ html: false, linkify: false, typographer: false, maxNesting: 20 });
// Links to anything else (javascript:, data:, relative paths) stay visible as their source text.
md.validateLink = (url) => SAFE_URL.test(url);
// Images are never fetched: a model could point them at any server. The alt text stands in.
md.renderer.rules.image = (tokens, idx, options, env, self) => {
  const alt = self.renderInlineAsText(tokens[idx].children ?? [], options, env);
  return `<span class="lw-md__image" title="image not loaded">${md.utils.escapeHtml(alt)}</span>`;
};
// Before `escape`, which would otherwise turn `\(` into a literal parenthesis.
md.inline.ruler.before("escape", "math_inline", mathInline);
md.block.ruler.after("fence", "math_block", mathBlock, {
  alt: ["paragraph", "reference", "blockquote", "list"],
});
md.renderer.rules.math_inline = (tokens, idx) => renderTex(tokens[idx].content, false);
md.renderer.rules.math_display = (tokens, idx) => renderTex(tokens[idx].content, true);
md.renderer.rules.math_block = (tokens, idx) => `${renderTex(tokens[idx].content, true)}\n`;

/**
 * Whether a style attribute is plain declarations. KaTeX writes lengths, keywords, hex colours
 * and `calc()`, and markdown-it writes `text-align`; quotes, backslashes, slashes and `@` are
 * refused outright so that CSS escapes and comments cannot hide `url(` or `@import`.
 */
function isPlainStyle(style: string): boolean {
  if (!/^[\w\s#%.,:;()+*-]*$/.test(style)) return false;
  return Array.from(style.matchAll(/([\w-]*)\s*\(/g)).every((m) => m[1].toLowerCase() === "calc");
}

/**
 * DOMPurify's default URI rule with fewer schemes. DOMPurify applies it to every attribute
 * value that might be a URL (SVG `d`, `width`, ...), so values without a scheme must pass.
 */
const ALLOWED_URI = /^(?:(?:https?|mailto):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i;

const HTML_NS = "http://www.w3.org/1999/xhtml";

// A private instance: hooks on the shared default one would apply to every other caller.
const purify = DOMPurify(window);
purify.addHook("uponSanitizeAttribute", (_node, data) => {
  if (data.attrName === "style" && !isPlainStyle(data.attrValue)) data.keepAttr = false;
});
purify.addHook("afterSanitizeAttributes", (node) => {
  const href = node.getAttribute("href");
  if (href === null) return;
  // Only an HTML <a> may link anywhere; an SVG href could load a resource.
  if (node.namespaceURI !== HTML_NS || node.localName !== "a" || !SAFE_URL.test(href)) {
    node.removeAttribute("href");
    return;
  }
  node.setAttribute("rel", "noopener noreferrer nofollow");
  node.setAttribute("target", "_blank");
});

// markdown-it (html: false) and KaTeX (trust: false) never emit these; they are refused here
// too so that a bug upstream cannot run script, fetch a resource or restyle the page.
const PURIFY_CONFIG: Config & { RETURN_DOM_FRAGMENT: true } = {
  RETURN_DOM_FRAGMENT: true,
  // KaTeX draws radicals, arrows and braces with inline SVG; no MathML (see KATEX_OPTIONS).
  USE_PROFILES: { html: true, svg: true },
  FORBID_TAGS: [
    "style", "script", "iframe", "frame", "object", "embed", "form", "input", "button", "textarea",
    "select", "link", "meta", "base", "img", "picture", "image", "video", "audio", "source",
    "track", "use",
  ],
  FORBID_ATTR: ["src", "srcset", "xlink:href", "action", "formaction", "background", "poster", "ping"],
  ALLOWED_URI_REGEXP: ALLOWED_URI,
  ALLOW_DATA_ATTR: false,
};

/**
 * The sanitizer {@link renderMarkdown} applies to the HTML that markdown-it and KaTeX produce.
 * Exported so that this last line of defence can be tested on raw hostile HTML.
 */
export function sanitizeHtml(html: string): DocumentFragment {
  return purify.sanitize(html, PURIFY_CONFIG);
}

function plainText(source: string): HTMLElement {
  const root = document.createElement("div");
  root.className = "lw-md lw-md--plain";
  const note = document.createElement("p");
  note.className = "lw-md__note";
  note.textContent =
    `Shown as plain text: ${source.length.toLocaleString("en")} characters ` +
    `is over the ${MAX_MARKDOWN_CHARS.toLocaleString("en")} that are formatted.`;
  const text = document.createElement("div");
  text.className = "lw-md__plain";
  text.textContent = source;
  root.append(note, text);
  return root;
}

/**
 * Renders model output (Markdown with TeX math) to sanitized DOM.
 *
 * Raw HTML in the source is shown as text; `$…$`, `$$…$$`, `\(…\)` and `\[…\]` become KaTeX
 * (TeX errors show the source in red); links keep only http(s), mailto and `#` targets and
 * open in a new tab; images show their alt text and are never fetched. Nothing in the result
 * can run script or load a resource. Sources over {@link MAX_MARKDOWN_CHARS} characters are
 * shown as plain text with a note.
 *
 * @returns A fragment holding one `div.lw-md`, ready for `el.replaceChildren(...)`.
 */
export function renderMarkdown(source: string): DocumentFragment {
  const fragment = document.createDocumentFragment();
  if (source.length > MAX_MARKDOWN_CHARS) {
    fragment.append(plainText(source));
    return fragment;
  }
  const root = document.createElement("div");
  root.className = "lw-md";
  root.append(sanitizeHtml(md.render(source)));
  fragment.append(root);
  return fragment;
}
