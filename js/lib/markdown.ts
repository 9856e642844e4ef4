import DOMPurify, { type Config } from "dompurify";
import MarkdownIt from "markdown-it";
import "katex/dist/katex.min.css";
import { addMarkup } from "./markup";
import { addMath, type MathEnv } from "./math";
import "./markdown.css";

/** Sources longer than this are shown as plain text instead of being parsed. */
export const MAX_MARKDOWN_CHARS = 200_000;

/** The only link targets kept. Everything else stays visible as text and is never a link. */
const SAFE_URL = /^(?:https?:|mailto:|#)/i;

// Model output is prose with math, not a Markdown document: markdown-it's "zero" preset keeps
// paragraphs and text only, and the few rules added to it (README, "How model output is
// shown") take away no character a model wrote except their own unambiguous markup. Line
// breaks are kept as written.
const md = new MarkdownIt("zero", { breaks: true, maxNesting: 20 });
md.enable(["newline", "backticks"]);
md.validateLink = (url) => SAFE_URL.test(url);
addMath(md);
addMarkup(md);

/**
 * Whether a style attribute is plain declarations. KaTeX writes lengths, keywords, hex colours
 * and `calc()`; quotes, backslashes, slashes and `@` are refused outright so that CSS escapes
 * and comments cannot hide `url(` or `@import`.
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
 * Renders model output (prose with TeX math) to sanitized DOM, keeping every character it holds.
 *
 * The rules are few (README, "How model output is shown"): `*emphasis*` and `**bold**` where
 * the stars hug a word, `` `code` `` and fenced code blocks, `[text](https://…)` links, and
 * math (`$…$`, `$$…$$`, `\(…\)`, `\[…\]`, bare `\begin{align*}` and friends) typeset by
 * KaTeX. Everything else (`#`, `1.`, `>`, `|`, `_`, HTML, entities, backslashes) is shown as
 * written. Each formula is a `span.lw-md__math` whose `data-tex` holds its source; one KaTeX
 * cannot typeset is shown as its source, marked. Links keep only http(s), mailto and `#`
 * targets and open in a new tab. Nothing in the result can run script or load a resource.
 * Sources over {@link MAX_MARKDOWN_CHARS} characters are shown as plain text with a note.
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
  const env: MathEnv = { tex: [] };
  root.append(sanitizeHtml(md.render(source, env)));
  // Set after sanitizing, so that the sanitizer keeps refusing every data attribute.
  root.querySelectorAll<HTMLElement>(".lw-md__math").forEach((el, i) => {
    el.dataset.tex = env.tex[i];
  });
  fragment.append(root);
  return fragment;
}

/** A step like a model's: bold, inline and display math, code. */
const WARM_SAMPLE =
  "**Step 1.** Since $x_{1} = \\frac{a}{b}$ and $$\\sum_{k=1}^{n} k = \\frac{n \\cdot (n+1)}{2},$$ " +
  "we get $\\sqrt{x} + 1$ from `x`.";
let warmed = false;

/**
 * Renders one sample step off screen, once per page, and takes it away in the next frame: the
 * first real step then finds markdown-it, KaTeX and DOMPurify warm and KaTeX's fonts decoded,
 * which its first call would otherwise pay for (~25 ms). For a page that is idle, e.g. right
 * after `import labwidget` (js/loader.ts).
 */
export function warmMarkdown(doc: Document = document): void {
  if (warmed) return;
  warmed = true;
  const holder = doc.createElement("div");
  holder.className = "lw-widget";
  holder.setAttribute("aria-hidden", "true");
  holder.style.cssText = "position:fixed;left:-10000px;top:0;width:600px;visibility:hidden;contain:strict";
  holder.append(renderMarkdown(WARM_SAMPLE));
  doc.body.append(holder);
  requestAnimationFrame(() => holder.remove());
}
