/// <reference types="vite/client" />
import { afterEach, describe, expect, test } from "vitest";
import corpusText from "../../tests/data/model_steps.json?raw";
import { MAX_MARKDOWN_CHARS, renderMarkdown } from "../lib/markdown";
import { visibleText } from "./visible_text";

interface Step {
  kind: string;
  text: string;
  shown: string;
  math: number;
  invalid_tex: boolean;
}

const steps: Step[] = JSON.parse(corpusText).steps;

function mount(source: string): HTMLElement {
  const host = document.createElement("div");
  host.append(renderMarkdown(source));
  document.body.append(host);
  return host;
}

const nonSpace = (text: string) => text.replace(/\s+/g, "");
const formulas = (el: Element) => el.querySelectorAll(".lw-md__math, .lw-md__math-error").length;
const errors = (el: Element) => el.querySelectorAll(".lw-md__math-error, .katex-error").length;

afterEach(() => {
  document.body.replaceChildren();
});

describe("model steps corpus", () => {
  test("holds at least 300 steps of every kind the issue names", () => {
    expect(steps.length).toBeGreaterThanOrEqual(300);
    expect(new Set(steps.map((s) => s.kind))).toEqual(
      new Set([
        "stars and bars", "multiplication", "underscores", "list markers", "headings", "quotes",
        "comparisons", "align", "frac", "code", "tables", "currency", "unbalanced", "entities",
        "urls", "emphasis", "backslashes", "math", "invalid",
      ]),
    );
  });

  test.each(steps.map((s, i) => [`${i} ${s.kind}: ${JSON.stringify(s.text).slice(0, 60)}`, s] as const))(
    "%s",
    (_name, step) => {
      const el = mount(step.text);
      expect(visibleText(el)).toBe(step.shown);
      expect(formulas(el)).toBe(step.math);
      if (step.invalid_tex) expect(errors(el)).toBeGreaterThan(0);
      else expect(errors(el)).toBe(0);
    },
  );
});

describe("what the rules keep", () => {
  test.each([
    ["multiplication", "3*2*1 = 6 and a*b*c and (a^3b+b^3c+c^3*a)"],
    ["stars and bars", "(**********) and **|***|****|**"],
    ["a step opening with 1.", "1. First we add."],
    ["list, heading and quote markers", "2) two\n# three\n- four\n> five\n* six"],
    ["underscores", "max_len and x_1 and _not emphasis_ and __init__"],
    ["HTML and entities", "<div>x</div> a < b > c &amp; &lt;"],
    ["pipes", "| a | b |\n|---|---|\n| 1 | 2 |"],
    ["backslashes outside math", "\\\\ and \\$5 and C:\\Users and \\*x\\*"],
    ["an unclosed fence", "```python\nx = 1"],
    ["links to other schemes and images", "[a](ftp://a.test) ![b](https://b.test) <https://c.test>"],
  ])("%s stay as written", (_name, source) => {
    const el = mount(source);
    expect(el.querySelector(".lw-md")?.textContent?.replace(/\s+/g, "")).toBe(nonSpace(source));
    expect(el.querySelector("em, strong, ol, ul, li, h1, blockquote, table, img, a")).toBeNull();
  });

  test("each line of a step stays a line", () => {
    const el = mount("1. a\n2. b\n3. c");
    expect(el.querySelectorAll("br")).toHaveLength(2);
  });

  test("stars that hug words are emphasis, and only their stars go", () => {
    const el = mount("**Step 1:** the *n*-th term, **$x = 2$**, *Note:* done");
    expect(el.querySelector("strong")?.textContent).toBe("Step 1:");
    expect(el.querySelector("strong + strong .lw-md__math, strong ~ strong .lw-md__math")).not.toBeNull();
    expect([...el.querySelectorAll("em")].map((s) => s.textContent)).toEqual(["n", "Note:"]);
    expect(visibleText(el)).toBe("Step1:then-thterm,$x=2$,Note:done");
  });

  test("a fenced block with its closing line is code; the fence lines go", () => {
    const el = mount("Run:\n```python\nprint(3*2*1)  # $x$ **y**\n```\ndone");
    expect(el.querySelector("pre code.language-python")?.textContent).toBe("print(3*2*1)  # $x$ **y**\n");
    expect(visibleText(el)).toBe("Run:print(3*2*1)#$x$**y**done");
  });

  test("a bare environment is display math, with every backslash kept in its source", () => {
    const tex = "\\begin{align*}\na &= b \\\\\n&= c\n\\end{align*}";
    const el = mount(`We have\n${tex}\nso done.`);
    const math = el.querySelector<HTMLElement>(".lw-md__math");
    expect(math?.dataset.tex).toBe(tex);
    expect(math?.querySelector(".katex-display")).not.toBeNull();
    expect(el.querySelector(".lw-md__math-error")).toBeNull();
  });

  test.each([
    ["$x^2$", false],
    ["$$x^2$$", true],
    ["\\(x^2\\)", false],
    ["\\[x^2\\]", true],
    ["\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", true],
    ["\\begin{multline*} a \\\\ b \\end{multline*}", true],
  ])("%s keeps its source, delimiters included, in data-tex", (source, display) => {
    const math = mount(`so ${source} here`).querySelector<HTMLElement>(".lw-md__math");
    expect(math?.dataset.tex).toBe(source);
    expect(math?.querySelector(".katex-display") !== null).toBe(display);
  });

  test("math KaTeX cannot typeset is its source between its delimiters, marked with why", () => {
    const el = mount("bad \\[\\frac{1\\] end");
    const error = el.querySelector(".lw-md__math-error");
    expect(error?.textContent).toBe("\\frac{1");
    expect(error?.getAttribute("title")).toMatch(/^Could not be typeset: /);
    expect(el.textContent).toContain("bad \\[\\frac{1\\] end");
  });

  test("a link keeps its text; its target is the link's", () => {
    const el = mount("[Vieta](https://en.wikipedia.org/wiki/Vieta) and **[b](#b)**");
    expect([...el.querySelectorAll("a")].map((a) => [a.textContent, a.getAttribute("href")])).toEqual([
      ["Vieta", "https://en.wikipedia.org/wiki/Vieta"],
      ["b", "#b"],
    ]);
  });
});

describe("nothing silently empty, nothing endless", () => {
  // Each is over a nesting limit that markdown-it or KaTeX has, or would make a scan for a
  // closer quadratic; each must show all of its characters (test timeouts catch the scans).
  test.each([
    ["50,000 nested quotes", "> ".repeat(50_000) + "x"],
    ["100,000 open brackets", "[".repeat(100_000)],
    ["100,000 open parentheses", "(".repeat(100_000)],
    ["100,000 open braces", "{".repeat(100_000)],
    ["50,000 links opened inside links", "[a](".repeat(45_000)],
    ["nested emphasis", "*_".repeat(50_000) + "x"],
    ["30,000 unclosed bold openers", "**a ".repeat(30_000)],
    ["bold openers with one closer at the end", "**| ".repeat(40_000) + "|**"],
    ["20,000 unclosed fences", "```a\n\n".repeat(20_000)],
    ["20,000 unclosed environments", "\\begin{align*} ".repeat(12_000)],
    ["20,000 unclosed \\[ openers", "\\[x ".repeat(20_000)],
  ])("%s show as text", (_name, source) => {
    expect(source.length).toBeLessThanOrEqual(MAX_MARKDOWN_CHARS);
    const el = mount(source);
    expect(visibleText(el)).toBe(nonSpace(source));
  }, 30_000);

  test.each([
    ["braces", `$${"{".repeat(20_000)}x${"}".repeat(20_000)}$`],
    ["fractions", `$$${"\\frac{1}{".repeat(5_000)}x${"}".repeat(5_000)}$$`],
    ["environments", `${"\\begin{aligned}".repeat(3_000)}x${"\\end{aligned}".repeat(3_000)}`],
  ])("math nested too deep to typeset shows its source, marked: %s", (_name, source) => {
    const el = mount(source);
    expect(el.querySelector(".lw-md__math-error")).not.toBeNull();
    expect(visibleText(el)).toBe(nonSpace(source));
  }, 30_000);
});
