import katex, { type KatexOptions } from "katex";
import type { Env, MarkdownIt, StateInline, Token } from "markdown-it";
import { firstFrom, isSpace } from "./scan";

const KATEX_OPTIONS: KatexOptions = {
  // HTML only: half the DOM of "htmlAndMathml", and no MathML for the sanitizer to reason about.
  output: "html",
  // A formula KaTeX cannot typeset is shown whole, as its source, rather than partly in red.
  throwOnError: true,
  trust: false,
  strict: "ignore",
  maxExpand: 1000,
  // Caps \rule, \kern and friends so a formula cannot claim a page-sized box.
  maxSize: 20,
};

// `$$` before `$` so that the longer opener wins.
const DELIMITERS: [open: string, close: string][] = [
  ["$$", "$$"],
  ["$", "$"],
  ["\\(", "\\)"],
  ["\\[", "\\]"],
];

/** The environments models write without `$` around them; each is typeset as display math. */
const BARE_ENVIRONMENT =
  /\\begin\{((?:align|alignat|gather|equation|multline)\*?|aligned|alignedat|gathered|split|[dr]?cases|d?array|smallmatrix|[pbBvV]?matrix\*?)\}/y;

// KaTeX has no multline; gather typesets the same lines, only centred.
const MULTLINE = /\\(begin|end)\{multline(\*?)\}/g;

/** The `env` markdown-it must be given: the source of each formula typeset is added, in order. */
export interface MathEnv extends Env {
  tex: string[];
}

/**
 * Math as models write it: `$…$` (Pandoc's rule: no space inside the dollars, no digit after
 * the closing one, so that "$5 and $6" stays a price), `$$…$$`, `\(…\)`, `\[…\]`, and bare
 * `\begin{align*}…\end{align*}` and friends. A delimiter right after a backslash is text.
 */
function mathInline(state: StateInline, silent: boolean): boolean {
  const { src, pos } = state;
  if (src[pos - 1] === "\\") return false;
  BARE_ENVIRONMENT.lastIndex = pos;
  const environment = BARE_ENVIRONMENT.exec(src);
  let open = "";
  let close: string;
  let from: number;
  if (environment !== null) {
    close = `\\end{${environment[1]}}`;
    from = pos + environment[0].length;
  } else {
    const delimiter = DELIMITERS.find(([opener]) => src.startsWith(opener, pos));
    if (delimiter === undefined) return false;
    [open, close] = delimiter;
    from = pos + open.length;
    if (open === "$" && (from >= state.posMax || isSpace(src[from]))) return false;
  }
  const at = firstFrom(state, close, from, state.posMax, (i) => src.startsWith(close, i) && src[i - 1] !== "\\");
  if (at < 0) return false;
  // The first `$` decides: "$5 and $6" is no formula even if a `$` closes one later on.
  if (open === "$" && (isSpace(src[at - 1]) || /[0-9]/.test(src[at + 1] ?? ""))) return false;
  const end = at + close.length;
  if (!silent) {
    const token = state.push("lw_math", "", 0);
    token.content = environment === null ? src.slice(from, at) : src.slice(pos, end);
    token.markup = open;
    token.info = environment === null ? close : "";
    token.meta = { display: open !== "$" && open !== "\\(" };
  }
  state.pos = end;
  return true;
}

/**
 * Adds the math rule to `md`. A formula is typeset in a `span.lw-md__math` and its source
 * (delimiters included) is added to `env.tex`; one KaTeX cannot typeset stays its source, in
 * a `span.lw-md__math-error` whose title says why.
 */
export function addMath(md: MarkdownIt): void {
  const escape = md.utils.escapeHtml;
  md.inline.ruler.push("lw_math", mathInline);
  md.renderer.rules.lw_math = (tokens: Token[], idx: number, _options, env) => {
    const { content, markup: open, info: close, meta } = tokens[idx];
    try {
      const html = katex.renderToString(content.replace(MULTLINE, "\\$1{gather$2}"), {
        ...KATEX_OPTIONS,
        displayMode: meta?.display === true,
      });
      (env as MathEnv).tex.push(open + content + close);
      return `<span class="lw-md__math">${html}</span>`;
    } catch (error) {
      // A TeX error, or a formula nested deep enough to overflow the stack.
      const why = error instanceof katex.ParseError ? error.rawMessage : String(error);
      const title = escape(`Could not be typeset: ${why}`);
      return `${escape(open)}<span class="lw-md__math-error" title="${title}">${escape(content)}</span>${escape(close)}`;
    }
  };
}
