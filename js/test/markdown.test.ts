/// <reference types="vite/client" />
import katex from "katex";
import { afterEach, describe, expect, test } from "vitest";
// Read as text: Vite's JSON loader rejects the lone-surrogate escapes the corpus needs.
import corpusText from "../../tests/data/hostile_payloads.json?raw";
import { MAX_MARKDOWN_CHARS, renderMarkdown, sanitizeHtml, warmMarkdown } from "../lib/markdown";

interface Payload {
  name: string;
  prefix?: string;
  text: string;
  repeat?: number;
  suffix?: string;
}

const payloads: [string, string][] = (JSON.parse(corpusText).payloads as Payload[]).map((p) => [
  p.name,
  (p.prefix ?? "") + p.text.repeat(p.repeat ?? 1) + (p.suffix ?? ""),
]);

/** Rendered output, attached to the document the way the widget attaches it. */
function mount(source: string): HTMLElement {
  const host = document.createElement("div");
  host.append(renderMarkdown(source));
  document.body.append(host);
  return host;
}

/**
 * Runs code in the page's own global scope, where inline handlers and `javascript:` URLs run;
 * vitest's `window` is a different object, so `window.__pwned` must be read from there.
 */
function inPage(code: string): void {
  const script = document.createElement("script");
  script.textContent = code;
  document.head.append(script);
  script.remove();
}

function pwned(): boolean {
  inPage("document.documentElement.dataset.pwned = String(window.__pwned !== undefined)");
  return document.documentElement.dataset.pwned === "true";
}

afterEach(() => {
  document.body.replaceChildren();
  inPage("delete window.__pwned");
});

const FORBIDDEN_TAGS = new Set([
  "script", "iframe", "frame", "object", "embed", "img", "image", "use", "feimage", "style",
  "form", "input", "button", "link", "meta", "base", "video", "audio", "source", "foreignobject",
]);

/** Every way the rendered DOM could run script or fetch something, as readable strings. */
function violations(root: Element): string[] {
  const found: string[] = [];
  for (const el of [root, ...root.querySelectorAll("*")]) {
    const tag = el.localName.toLowerCase();
    if (FORBIDDEN_TAGS.has(tag)) found.push(`<${tag}>`);
    for (const { name, value } of el.attributes) {
      const attr = name.toLowerCase();
      if (attr.startsWith("on")) found.push(`${tag}[${attr}]`);
      if (["src", "srcset", "xlink:href", "action", "formaction", "background", "poster"].includes(attr)) {
        found.push(`${tag}[${attr}]`);
      }
      if (attr === "href" && (tag !== "a" || !/^(?:https?:|mailto:|#)/i.test(value))) {
        found.push(`${tag}[href=${value}]`);
      }
      if (attr === "style" && /url\(|expression|@import|\\/i.test(value)) {
        found.push(`${tag}[style=${value}]`);
      }
    }
  }
  return found;
}

/** Fires the events that inline handlers and javascript: links would need, on every element. */
function poke(root: Element): void {
  const events = ["click", "load", "error", "focus", "mouseover", "pointerdown", "toggle", "animationstart"];
  for (const el of root.querySelectorAll("*")) {
    for (const type of events) el.dispatchEvent(new Event(type, { bubbles: true }));
    if (el instanceof HTMLElement) el.click();
  }
}

const katexCount = (el: Element) => el.querySelectorAll(".katex").length;

describe("renderMarkdown formatting", () => {
  test("keeps heading, list and quote markers as text; emphasis and inline code render", () => {
    const el = mount("# Plan\n\n1. *first*\n2. **second** with `x < y`\n\n- a\n> b");
    expect(el.querySelector("h1, ol, ul, li, blockquote")).toBeNull();
    expect(el.textContent).toContain("# Plan");
    expect(el.textContent).toContain("1. first");
    expect(el.textContent).toContain("- a");
    expect(el.textContent).toContain("> b");
    expect(el.querySelector("em")?.textContent).toBe("first");
    expect(el.querySelector("strong")?.textContent).toBe("second");
    expect(el.querySelector("code")?.textContent).toBe("x < y");
  });

  test("code blocks and code spans keep their text, math and HTML included", () => {
    const el = mount("```python\nif a < b and $x$:\n    print('<b>')\n```\n\nand `$y$ <i>`");
    expect(el.querySelector("pre code")?.textContent).toBe("if a < b and $x$:\n    print('<b>')\n");
    expect(el.querySelector("p code")?.textContent).toBe("$y$ <i>");
    expect(katexCount(el)).toBe(0);
  });

  test("raw HTML is shown as text", () => {
    const el = mount("a <b>bold</b> tag");
    expect(el.querySelector("b")).toBeNull();
    expect(el.textContent).toContain("a <b>bold</b> tag");
  });

  test("http, https, mailto and # links open in a new tab without referrer", () => {
    const el = mount("[a](https://a.test) [b](http://b.test) [c](mailto:c@c.test) [d](#d) <https://e.test>");
    const links = [...el.querySelectorAll("a")];
    expect(links.map((a) => a.getAttribute("href"))).toEqual([
      "https://a.test",
      "http://b.test",
      "mailto:c@c.test",
      "#d",
    ]);
    expect(el.textContent).toContain("<https://e.test>");
    for (const a of links) {
      expect(a.getAttribute("rel")).toBe("noopener noreferrer nofollow");
      expect(a.getAttribute("target")).toBe("_blank");
    }
  });

  test("other links stay visible as their source text", () => {
    const el = mount("[rel](notes/a.md) [js](javascript:alert(1)) [ftp](ftp://f.test)");
    expect(el.querySelector("a")).toBeNull();
    expect(el.textContent).toContain("[rel](notes/a.md) [js](javascript:alert(1)) [ftp](ftp://f.test)");
  });

  test("images stay their source text and are never loaded", () => {
    const el = mount("see ![a plot](https://evil.test/a.png)");
    expect(el.querySelector("img, a")).toBeNull();
    expect(el.textContent).toContain("see ![a plot](https://evil.test/a.png)");
  });

  test("tables stay their lines of pipes", () => {
    const el = mount("| a | b |\n|---|--:|\n| 1 | 2 |");
    expect(el.querySelector("table")).toBeNull();
    expect(el.querySelectorAll("br")).toHaveLength(2);
    expect(el.textContent).toContain("|---|--:|");
  });

  test("a source over the limit is plain text with a note, not parsed", () => {
    const source = `**bold** $x$ <b>`.repeat(MAX_MARKDOWN_CHARS / 10);
    const el = mount(source);
    expect(el.querySelector(".lw-md__note")?.textContent).toContain("plain text");
    expect(el.querySelector(".lw-md__plain")?.textContent).toBe(source);
    expect(el.querySelector("strong")).toBeNull();
  });
});

describe("renderMarkdown math", () => {
  test.each([
    ["$…$", "area $\\pi r^2$ here", false],
    ["$$…$$ inline", "so $$\\sum_i x_i$$ holds", true],
    ["$$…$$ block", "$$\n\\int_0^1 x\\,dx\n$$", true],
    ["\\(…\\)", "area \\(\\pi r^2\\) here", false],
    ["\\[…\\] inline", "so \\[\\sum_i x_i\\] holds", true],
    ["\\[…\\] block", "\\[\n\\int_0^1 x\\,dx\n\\]", true],
  ])("%s renders with KaTeX", (_name, source, display) => {
    const el = mount(source);
    expect(katexCount(el)).toBe(1);
    expect(el.querySelectorAll(".katex-display")).toHaveLength(display ? 1 : 0);
    expect(el.querySelector(".katex-error")).toBeNull();
  });

  test("display math keeps lines that look like Markdown", () => {
    const el = mount("Thus\n$$\n\\begin{aligned}\na &= b \\\\\n- c &= d\n\\end{aligned}\n$$\ndone");
    expect(el.querySelector("ul")).toBeNull();
    expect(el.querySelectorAll(".katex-display")).toHaveLength(1);
    expect(el.querySelector(".katex-error")).toBeNull();
  });

  test.each([
    ["prices", "It costs $5 and $6 later."],
    ["space after the opener", "between $ 5 and 6$"],
    ["digit after the closer", "from $5 to$6"],
    ["escaped dollars", "\\$x\\$"],
  ])("%s stay text", (_name, source) => {
    const el = mount(source);
    expect(katexCount(el)).toBe(0);
  });

  test("TeX errors show the source in place", () => {
    const el = mount("bad $\\frac{1$ end");
    expect(el.querySelector(".lw-md__math-error")?.textContent).toBe("\\frac{1");
    expect(el.textContent).toContain("bad $\\frac{1$ end");
  });

  test("formulas that crash KaTeX show their source", () => {
    const tex = "{".repeat(20_000);
    const el = mount(`$${tex}$`);
    expect(el.querySelector(".lw-md__math-error")?.textContent).toBe(tex);
  });

  test("macros defined in one step do not leak into the next", () => {
    mount("$\\gdef\\frac#1#2{LEAK}$");
    const el = mount("$\\frac12$");
    expect(el.textContent).not.toContain("LEAK");
    expect(el.querySelector(".mfrac")).not.toBeNull();
  });

  test("sanitizing keeps every inline style KaTeX writes", () => {
    const tex = "\\sqrt[3]{\\frac{a}{b}} \\overrightarrow{AB} \\colorbox{#eee}{x} \\color{red}{y} \\hat{z}";
    const expected = (katex.renderToString(tex, { output: "html" }).match(/style="/g) ?? []).length;
    const el = mount(`$${tex}$`);
    expect(el.querySelectorAll("[style]")).toHaveLength(expected);
  });
});

describe("warmMarkdown", () => {
  test("typesets a sample off screen once per page and takes it away in the next frame", async () => {
    const before = document.body.childElementCount;
    warmMarkdown();
    warmMarkdown();
    expect(document.body.childElementCount).toBe(before + 1);
    const holder = document.body.lastElementChild as HTMLElement;
    expect(holder.getAttribute("aria-hidden")).toBe("true");
    expect(holder.querySelectorAll(".lw-md__math .katex")).toHaveLength(3);
    await new Promise((resolve) => requestAnimationFrame(resolve));
    expect(document.body.childElementCount).toBe(before);
  });
});

describe("hostile corpus", () => {
  test("has at least 60 payloads with distinct names", () => {
    expect(payloads.length).toBeGreaterThanOrEqual(60);
    expect(new Set(payloads.map(([name]) => name)).size).toBe(payloads.length);
  });

  test("the detector sees script that does run", () => {
    const host = document.createElement("div");
    host.innerHTML = '<a onclick="window.__pwned = 1">x</a>';
    document.body.append(host);
    poke(host);
    expect(pwned()).toBe(true);
  });

  test.each(payloads)("%s: nothing runs or loads", (_name, source) => {
    const el = mount(source);
    expect(violations(el)).toEqual([]);
    poke(el);
    expect(pwned()).toBe(false);
  }, 30_000);

  // The same payloads as raw HTML, as if markdown-it let HTML through: the sanitizer alone
  // must hold. The huge payloads test the parser, not HTML tricks, and are left out.
  test.each(payloads.filter(([, source]) => source.length <= 10_000))(
    "%s: the sanitizer alone holds",
    (_name, source) => {
      const host = document.createElement("div");
      host.append(sanitizeHtml(source));
      document.body.append(host);
      expect(violations(host)).toEqual([]);
      poke(host);
      expect(pwned()).toBe(false);
    },
  );

  // Runs after the payload tests above, in the same module state they left behind.
  test("the renderer still works after the whole corpus", () => {
    const el = mount("**ok** $x^2$ [a](https://a.test)");
    expect(el.querySelector("strong")?.textContent).toBe("ok");
    expect(katexCount(el)).toBe(1);
    expect(el.querySelector("a")?.getAttribute("target")).toBe("_blank");
    expect(pwned()).toBe(false);
  });
});
