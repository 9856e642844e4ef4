"""Writes model_steps.json: steps in the style real models write, each with what it must show.

The steps are written for this project (hand-written ones below, and variations drawn from
fixed templates with a fixed seed). For each step, ``shown`` is the sequence of non-space
characters the page must show, worked out here from the rules in README.md ("How model
output is shown") independently of the renderer in js/lib/: the source minus the markup those
rules remove, each formula counted by its source. ``math`` is how many formulas it holds, and
``invalid_tex`` marks the steps whose TeX KaTeX cannot typeset (shown as source, marked).

Run ``python tests/data/make_model_steps.py`` after editing; vitest and the browser test read
the JSON it writes, and the doctest of :func:`is_current` fails when the two disagree.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("model_steps.json")

DELIMITERS = [("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")]
BARE_ENVIRONMENT = re.compile(
    r"\\begin\{((?:align|alignat|gather|equation|multline)\*?|aligned|alignedat|gathered"
    r"|split|[dr]?cases|d?array|smallmatrix|[pbBvV]?matrix\*?)\}"
)
SAFE_URL = re.compile(r"(?:https?:|mailto:|#)", re.IGNORECASE)
FENCE_OPEN = re.compile(r" {0,3}```[^`]*")
FENCE_CLOSE = re.compile(r" {0,3}```\s*")


def _word(ch: str) -> bool:
    return ch != "" and ch.isalnum()


def _math_end(s: str, i: int) -> int | None:
    """Where the formula starting at ``i`` ends, or None."""
    if i > 0 and s[i - 1] == "\\":
        return None
    environment = BARE_ENVIRONMENT.match(s, i)
    opener = ""
    if environment:
        closer, start = f"\\end{{{environment[1]}}}", environment.end()
    else:
        found = [(o, c) for o, c in DELIMITERS if s.startswith(o, i)]
        if not found:
            return None
        opener, closer = found[0]
        start = i + len(opener)
        if opener == "$" and (start >= len(s) or s[start].isspace()):
            return None
    at = start
    while at < len(s) and not (s.startswith(closer, at) and s[at - 1] != "\\"):
        at += 1
    if at >= len(s):
        return None
    if opener == "$" and (s[at - 1].isspace() or re.match(r"[0-9]", s[at + 1 : at + 2])):
        return None
    return at + len(closer)


def _code_span(s: str, i: int) -> tuple[str | None, int]:
    """A backtick run at ``i``: (the code, its end), or (None, the run's end) if unclosed."""
    run = len(s[i:]) - len(s[i:].lstrip("`"))
    j = i + run
    while (k := s.find("`", j)) >= 0:
        end = k + len(s[k:]) - len(s[k:].lstrip("`"))
        if end - k == run:
            return s[i + run : k], end
        j = end
    return None, i + run


def _closes(s: str, i: int, size: int) -> bool:
    before, after = s[i - 1], s[i + size : i + size + 1]
    if before in "*\\" or before.isspace() or after == "*" or _word(after):
        return False
    return s[i : i + size] == "*" * size


def _emphasis(s: str, i: int) -> tuple[str, int] | None:
    """`*text*` or `**text**` at ``i``: (the text, its end), or None."""
    before = s[i - 1] if i > 0 else ""
    if s[i] != "*" or before in ("*", "\\") or _word(before):
        return None
    size = 2 if s[i + 1 : i + 2] == "*" else 1
    start = i + size
    if start >= len(s) or s[start] == "*" or s[start].isspace():
        return None
    for at in range(start, len(s)):
        if s[at] == "\n":
            return None
        if _closes(s, at, size):
            text = s[start:at]
            return (text, at + size) if any(_word(c) for c in text) else None
    return None


def _link(s: str, i: int) -> tuple[str, int] | None:
    """`[text](url)` at ``i``: (the text, its end), or None."""
    if s[i] != "[" or (i > 0 and s[i - 1] in "!\\"):
        return None
    j = i + 1
    while j < len(s) and s[j] not in "[]\n":
        j += 1
    if j == i + 1 or s[j : j + 2] != "](":
        return None
    k = j + 2
    while k < len(s) and not s[k].isspace() and s[k] not in "()[]<>\"'`":
        k += 1
    if s[k : k + 1] != ")" or not SAFE_URL.match(s[j + 2 : k]):
        return None
    return s[i + 1 : j], k + 1


def _inline(s: str) -> tuple[str, int]:
    """The text a paragraph shows, and how many formulas it holds."""
    out: list[str] = []
    formulas = 0
    i = 0
    while i < len(s):
        end = _math_end(s, i)
        if end is not None:
            out.append(s[i:end])
            formulas += 1
            i = end
            continue
        if s[i] == "`":
            code, end = _code_span(s, i)
            out.append(s[i:end] if code is None else code)
            i = end
            continue
        span = _emphasis(s, i) or _link(s, i)
        if span is not None:
            text, count = _inline(span[0])
            out.append(text)
            formulas += count
            i = span[1]
            continue
        out.append(s[i])
        i += 1
    return "".join(out), formulas


def shown(text: str) -> tuple[str, int]:
    """The non-space characters ``text`` must show, and how many formulas it holds.

    >>> shown("**Step 1:** so 3*2*1 = 6, and (**********) and **|***|**")
    ('Step1:so3*2*1=6,and(**********)and**|***|**', 0)
    >>> shown("It costs $5 and $6, and $x^2$ and \\\\begin{align*}a\\\\\\\\b\\\\end{align*}")
    ('Itcosts$5and$6,and$x^2$and\\\\begin{align*}a\\\\\\\\b\\\\end{align*}', 2)
    >>> shown("```python\\nx = 1\\n```\\n[a](https://a.test) ![b](https://b.test)")
    ('x=1a![b](https://b.test)', 0)
    """
    lines = text.split("\n")
    parts: list[str] = []
    formulas = 0
    paragraph: list[str] = []

    def end_paragraph() -> None:
        nonlocal formulas
        if paragraph:
            seen, count = _inline("\n".join(paragraph).strip(" \t\n\r"))
            parts.append(seen)
            formulas += count
            paragraph.clear()

    i = 0
    while i < len(lines):
        if FENCE_OPEN.fullmatch(lines[i]):
            close = next(
                (j for j in range(i + 1, len(lines)) if FENCE_CLOSE.fullmatch(lines[j])), None
            )
            if close is not None:
                end_paragraph()
                parts.extend(lines[i + 1 : close])
                i = close + 1
                continue
        if lines[i].strip(" \t"):
            paragraph.append(lines[i])
        else:
            end_paragraph()
        i += 1
    end_paragraph()
    return "".join(ch for ch in "".join(parts) if not ch.isspace()), formulas


# (kind, text): written the way GPT-3.5/GPT-4-style solvers write steps. Kinds ending in
# "invalid" hold TeX that KaTeX cannot typeset.
HAND: list[tuple[str, str]] = [
    ("stars and bars", "We can model this with stars and bars: 10 balls are (**********)."),
    ("stars and bars", "For example, **|***|****|** means 2, 3, 4 and 2 balls in the four boxes."),
    ("stars and bars", "So the arrangement *|**|***|**** gives $(1, 2, 3, 4)$."),
    (
        "stars and bars",
        "Placing 3 bars among 7 stars, like ***|*|**|*, gives $\\binom{10}{3}$ ways.",
    ),
    ("stars and bars", "The string ||********** puts every ball in the third box."),
    ("stars and bars", "* | * * | * * *\n\nThat is one ball, then two, then three."),
    ("stars and bars", "We need **exactly** 4 bars: ****|**|*||***"),
    ("multiplication", "Then 3*2*1 = 6, so there are 6 orderings."),
    ("multiplication", "Expanding gives (a^3b+b^3c+c^3*a) - (ab^3+bc^3+ca^3)."),
    ("multiplication", "The product a*b*c is 24, and a*b = 6, so c = 4."),
    ("multiplication", "5! = 5*4*3*2*1 = 120."),
    ("multiplication", "Area = (1/2)*b*h = (1/2)*6*4 = 12."),
    ("multiplication", "So 10*(1/2)*(1/3) = 10/6 = 5/3."),
    ("multiplication", "Using the formula: 2*(l*w + w*h + h*l) = 2*(12 + 20 + 15) = 94."),
    ("multiplication", "In Python, 2**10 == 1024 and x**2 + y**2 == 25."),
    ("multiplication", "The total is 5 * 4 * 3 = 60."),
    ("multiplication", "(2*3)*(4*5) = 6*20 = 120"),
    ("multiplication", "f(*args, **kwargs) forwards everything."),
    ("multiplication", "Multiply: we want 12*x*3 = 36x, not 12*x + 3."),
    ("underscores", "Let max_len be the length of the longest run; then max_len <= n."),
    ("underscores", "Here x_1 and x_2 are the roots, so x_1 + x_2 = 5 and x_1*x_2 = 6."),
    ("underscores", "The method __init__ sets self._count = 0 and self.total_sum = 0."),
    ("underscores", "_This is not emphasis_ and neither is __this__."),
    ("underscores", "We sum a_i*b_i over i, i.e. a_1*b_1 + a_2*b_2 + ... + a_n*b_n."),
    ("list markers", "1. First, we find a common denominator."),
    ("list markers", "2) Next, subtract the two fractions."),
    ("list markers", "1. $x = 2$\n2. $y = 3$\n3. $z = 5$"),
    ("list markers", "- The discriminant is positive, so there are two real roots."),
    ("list markers", "* First case: $n$ is even.\n* Second case: $n$ is odd."),
    ("list markers", "+ Adding the equations gives 2x = 10."),
    ("list markers", "(a) The first part asks for the mean.\n(b) The second asks for the median."),
    ("list markers", "10. Finally, we divide by 10."),
    ("headings", "# Answer\n\n14"),
    ("headings", "#### 72"),
    ("headings", "## Step 3: Simplify\nWe cancel the common factor."),
    ("headings", "Step 4\n------\nNow we check."),
    ("headings", "The answer is #1 in the list, and #2 is close."),
    ("quotes", "> Note: we assumed that $x \\neq 0$."),
    ("quotes", "> > nested quote markers > stay"),
    ("quotes", ">>> print(2 + 2)\n4"),
    ("comparisons", "Since a < b > c does not tell us how a and c compare, we need more."),
    ("comparisons", "We could write this in HTML as <div>x</div>, but let's just count."),
    ("comparisons", "a<b and b>c, so nothing follows about a and c."),
    ("comparisons", "If x <= 3 and x >= 1, then 1 <= x <= 3."),
    ("comparisons", "So f(x) -> 0 as x -> infinity, and => the limit is 0."),
    ("comparisons", "<script>alert(1)</script> is just text in a step."),
    ("comparisons", "The tag <b>bold</b> and the comment <!-- x --> show as written."),
    ("comparisons", "<https://example.com> in angle brackets stays as written."),
    ("align", "\\begin{align*}\n(x+1)^2 &= x^2 + 2x + 1 \\\\\n&= 9\n\\end{align*}"),
    (
        "align",
        "We have \\begin{align*} a + b &= 5 \\\\ a - b &= 1 \\end{align*} so $a = 3$ and $b = 2$.",
    ),
    ("align", "\\begin{align}\nx &= 1 \\\\\ny &= 2\n\\end{align}"),
    ("align", "\\begin{aligned} 2x + 3y &= 12 \\\\ x - y &= 1 \\end{aligned}"),
    ("align", "\\begin{equation*}\nE = mc^2\n\\end{equation*}"),
    ("align", "\\begin{gather*}\na = 1 \\\\\nb = 2\n\\end{gather*}"),
    ("align", "\\begin{multline*}\na + b + c \\\\\n+ d + e = f\n\\end{multline*}"),
    (
        "align",
        "\\begin{equation}\n\\begin{split}\na &= b + c \\\\\n&= d\n\\end{split}\n\\end{equation}",
    ),
    (
        "align",
        "The system\n\\begin{cases} x + y = 3 \\\\ x - y = 1 \\end{cases}\nhas one solution.",
    ),
    ("align", "f(x) = \\begin{cases} x^2 & x \\ge 0 \\\\ -x & x < 0 \\end{cases}"),
    ("align", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix} times itself"),
    ("align", "\\begin{bmatrix} a & b \\\\ c & d \\end{bmatrix}^{-1}"),
    ("align", "The determinant \\begin{vmatrix} 1 & 2 \\\\ 3 & 4 \\end{vmatrix} is $-2$."),
    (
        "align",
        "\\begin{Vmatrix} x \\end{Vmatrix} and "
        "\\begin{smallmatrix} 1 & 0 \\\\ 0 & 1 \\end{smallmatrix}",
    ),
    ("align", "\\begin{array}{c|c} x & y \\\\ \\hline 1 & 2 \\end{array}"),
    ("align", "\\begin{matrix} 1 & 2 \\\\ 3 & 4 \\end{matrix}"),
    ("align", "$$\n\\begin{aligned}\na &= b \\\\\n- c &= d\n\\end{aligned}\n$$"),
    ("align", "\\[\n\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}\n\\]"),
    ("align", "\\begin{itemize} is not math, so it stays \\item as written \\end{itemize}"),
    ("align", "A line break \\\\ outside math stays, as does \\\\[4pt]."),
    ("frac", "So $\\frac{1}{1+\\frac{1}{1+\\frac{1}{x}}} = \\frac{2x+1}{3x+2}$."),
    ("frac", "$$\\frac{\\frac{a}{b}}{\\frac{c}{d}} = \\frac{ad}{bc}$$"),
    ("frac", "\\(\\dfrac{\\sqrt{\\frac{x}{2}}}{3}\\) is positive."),
    ("frac", "\\frac{a}{b} written bare stays as typed."),
    ("code", "In Python, `sum(range(1, 101))` gives 5050."),
    ("code", "```python\nfrom math import comb\nprint(comb(13, 3))  # 286\n```"),
    ("code", "Run this:\n```\nfor i in range(3):\n    print(i * 2)\n```\nIt prints 0, 2, 4."),
    ("code", "The regex `^\\d+$` matches digits, and `a**b` is a power."),
    ("code", "``code with ` inside`` and `$x$ <i>` stay code."),
    ("code", "```python\nx = 1  # the block continues in the next step"),
    ("code", "    return total  # indented, and the fence closes here\n```"),
    ("code", "Use ```inline triple``` sparingly."),
    ("tables", "| n | n^2 |\n|---|-----|\n| 1 | 1 |\n| 2 | 4 |"),
    ("tables", "x | y\n--|--\n1 | 2"),
    ("tables", "The absolute value |x - 3| < 2 means 1 < x < 5."),
    ("tables", "||a|| is the norm and a || b means parallel."),
    ("currency", "It costs $5 and $6 for the two tickets, so $11 in total."),
    ("currency", "She pays $2.50 per apple, and 4 apples cost $10."),
    ("currency", "The price rose from $5 to$6."),
    ("currency", "He had \\$20 and spent \\$7, leaving \\$13."),
    ("currency", "A $ 5 bill and a 10$ coin."),
    ("currency", "If $x$ dollars is $20\\%$ of $50, then x = 10."),
    ("unbalanced", "The value is $x"),
    ("unbalanced", "Using \\( a^2 + b^2 = c^2 with the legs 3 and 4."),
    ("unbalanced", "**bold claim without an end"),
    ("unbalanced", "An unclosed `code span and a [bracket"),
    ("unbalanced", "\\[ x = 1 and no closer"),
    ("unbalanced", "$$ \\sum x and nothing closes it"),
    ("unbalanced", "\\begin{align*} a &= b but no end"),
    ("unbalanced", "Brackets [[1, 2], [3, 4]] and {1, {2, 3}} and ((a))."),
    ("unbalanced", "The interval [0, 1) and (0, 1] are half-open."),
    ("unbalanced", "*italic that never closes and ** stray stars"),
    ("entities", "AT&amp;T and &lt;tag&gt; and &#36;5 and &nbsp; stay as written."),
    ("entities", "Use &copy; or &#169; for the symbol."),
    ("urls", "See https://en.wikipedia.org/wiki/Stars_and_bars_(combinatorics) for details."),
    ("urls", "[Vieta's formulas](https://en.wikipedia.org/wiki/Vieta%27s_formulas) relate roots."),
    ("urls", "Write to [the author](mailto:author@example.com) or see [below](#answer)."),
    ("urls", "A [relative link](notes/a.md) and [a script](javascript:alert(1)) stay text."),
    ("urls", "The plot ![graph](https://example.com/a.png) is not loaded."),
    ("urls", "[1] Smith, J. (2020). Combinatorics. [2] ibid."),
    ("emphasis", "**Step 1:** Let $n$ be the number of students."),
    ("emphasis", "*Note:* the answer must be an integer."),
    ("emphasis", "**Final Answer:** $\\boxed{286}$"),
    ("emphasis", "**Answer: 20**"),
    ("emphasis", "**(a)** The first part."),
    ("emphasis", "The *n*-th term is the *exact* value we want."),
    ("emphasis", "This is **very *important*** to check."),
    ("emphasis", "**$x = 2$** is the solution."),
    ("emphasis", "We get ** 5 ** with spaces, which is not bold."),
    ("backslashes", "The path C:\\Users\\me\\notes.txt has backslashes."),
    ("backslashes", "In a string, \\n is a newline and \\\\ is one backslash."),
    ("backslashes", "\\boxed{42} written bare, and \\alpha too."),
    ("backslashes", "Escaped \\*stars\\* and \\_underscores\\_ and \\# stay."),
    ("backslashes", "\\{x \\mid x > 0\\} is the set of positive reals."),
    ("math", "Let $f(x) = x^2$. Then $f(3) = 9$, and $f(-3) = 9$ too."),
    ("math", "$$\n\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}\n$$"),
    ("math", "So $$\\int_0^1 x\\,dx = \\frac{1}{2}$$ as expected."),
    ("math", "\\[\\lim_{x \\to 0} \\frac{\\sin x}{x} = 1\\]"),
    ("math", "Both \\(a\\) and \\(b\\) are positive."),
    ("math", "$x$$y$ and $$x$$ and $$y$$"),
    ("math", "The probability is $\\frac{3}{8}$, i.e. 37.5%."),
    ("math", "$a < b$ and $c > d$ and $<x>$"),
    ("math", "We need $\\text{if } x > 0 \\text{ then } y = 1$."),
    ("math", "$\\$5$ is five dollars in math."),
    ("math", "Unicode: ∑, ≤, ≥, π ≈ 3.14159, √2, x² + y² = z²."),
    ("math", "Natalia sold 48/2 = <<48/2=24>>24 clips in May."),
    ("math", "f'(x) = 2x and f''(x) = 2, with \"quotes\" and 'single' ones."),
    ("math", "~~not struck~~ and a ~ b and x ^ y"),
    ("math", "Case 1: a = 0.\nCase 2: a != 0.\n\nIn both cases the sum is 3."),
    ("math", "***\n\n---\n\n___"),
    ("invalid", "bad $\\frac{1$ end"),
    ("invalid", "$$\\left( x$$"),
    ("invalid", "\\begin{align*} a &= \\frac{1}{ \\end{align*}"),
    ("invalid", "Then $\\undefinedmacro{x} + 1$ holds."),
    ("invalid", "\\(x^{2\\) is broken."),
    ("invalid", "$x^^2$ has a double superscript."),
    ("invalid", "So $\\frac{1}{2}}$ has one brace too many."),
    ("invalid", "$$\\begin{align*} x \\end{aligned}$$"),
]

NAMES = ["x", "y", "n", "k", "a", "b", "total", "count"]
SNAKE = ["max_len", "min_val", "num_ways", "total_sum", "x_1", "x_2", "a_n", "n_k", "dp_table"]
OPENERS = ["1.", "2.", "3)", "4)", "#", "##", "-", "*", "+", ">", "Step 5.", "(i)", "1.1"]
SENTENCES = [
    "we multiply both sides by 2",
    "the sum of the roots is $-b/a$",
    "there are 3*4 = 12 pairs",
    "so the answer is **12**",
    "we check that x_1 < x_2",
    "the remainder is 3 (mod 7)",
    "this gives \\(n = 5\\)",
    "the ratio is 2:3",
]
ENVIRONMENTS = [
    ("align*", "{a} &= {b} \\\\ &= {c}"),
    ("align", "{a} &= {b} \\\\ {c} &= {b}"),
    ("aligned", "{a} &= {b} \\\\ &= {c}"),
    ("gather*", "{a} = {b} \\\\ {c} = {b}"),
    ("gather", "{a} \\\\ {b}"),
    ("equation", "{a} = {b}"),
    ("equation*", "{a} = {c}"),
    ("cases", "{a} & x > 0 \\\\ {b} & x \\le 0"),
    ("array}{cc", "{a} & {b} \\\\ {c} & 1"),
    ("pmatrix", "{a} & {b} \\\\ {c} & 1"),
    ("bmatrix", "{a} & 0 \\\\ 0 & {b}"),
    ("vmatrix", "{a} & {b} \\\\ 1 & {c}"),
    ("Vmatrix", "{a} \\\\ {b}"),
    ("matrix", "{a} & {b}"),
    ("smallmatrix", "{a} & {b} \\\\ {c} & 0"),
    ("split", "{a} &= {b} \\\\ &= {c}"),
    ("multline", "{a} + {b} \\\\ = {c}"),
]
TERMS = ["x^2", "2x + 1", "\\frac{1}{2}", "\\sqrt{3}", "(a+b)^2", "\\binom{5}{2}", "\\pi r^2", "n!"]


def _stars_and_bars(rng: random.Random) -> str:
    groups = [rng.randint(0, 5) for _ in range(rng.randint(2, 5))]
    pattern = "|".join("*" * g for g in groups)
    template = rng.choice(
        [
            "The arrangement {p} stands for {t}.",
            "{p}",
            "For instance ({p}) is one way to split them.",
            "Each string like {p} uses {s} stars and {b} bars.",
            "Here **{p}** would mean {t}, but we write it without bold.",
        ]
    )
    return template.format(p=pattern, t=tuple(groups), s=sum(groups), b=len(groups) - 1)


def _multiplication(rng: random.Random) -> str:
    factors = [rng.randint(1, 12) for _ in range(rng.randint(2, 5))]
    product = 1
    for f in factors:
        product *= f
    chain = "*".join(map(str, factors))
    a, b, c = rng.sample(NAMES[:6], 3)
    return rng.choice(
        [
            f"Then {chain} = {product}.",
            f"So the count is {chain}, which is {product}.",
            f"The volume is {a}*{b}*{c}, and with {a} = 2 it is 2*{b}*{c}.",
            f"We expand ({a}^2{b}+{b}^2{c}+{c}^2*{a}) term by term.",
            f"Since {a}*{b} = {product}, we get {c} = {product}/({a}*{b}) * {c}.",
            f"Compute {chain} step by step: first {factors[0]}*{factors[1]}.",
        ]
    )


def _underscores(rng: random.Random) -> str:
    a, b = rng.sample(SNAKE, 2)
    return rng.choice(
        [
            f"Set {a} = 0 and {b} = 1, then update {a} in the loop.",
            f"We store it in {a}; {b} holds the previous value.",
            f"Because {a} > {b}, we swap {a} and {b}.",
            f"Let {a}_next = {a} + {b}.",
        ]
    )


def _opener(rng: random.Random) -> str:
    first, second = rng.sample(SENTENCES, 2)
    opener = rng.choice(OPENERS)
    return rng.choice(
        [
            f"{opener} First, {first}.",
            f"{opener} {first.capitalize()}, and {second}.",
            f"{opener} {first.capitalize()}.\n{rng.choice(OPENERS)} Then {second}.",
        ]
    )


def _comparison(rng: random.Random) -> str:
    a, b, c = rng.sample(NAMES, 3)
    tag = rng.choice(["div", "span", "b", "i", "p", "br", "sup"])
    return rng.choice(
        [
            f"Since {a} < {b} and {b} > {c}, we cannot order {a} and {c}.",
            f"We know {a}<{b}<{c}, so {a}<{c}.",
            f"The markup <{tag}>{a}</{tag}> would be HTML, but here it is text.",
            f"If {a} >= 0 then {b} <= {c}, else {b} => {c}.",
            f"The arrow {a} -> {b} means {a} maps to {b}; <{tag}> is not a tag here.",
        ]
    )


def _environment(rng: random.Random) -> str:
    name, body = rng.choice(ENVIRONMENTS)
    a, b, c = rng.sample(TERMS, 3)
    end = name.split("}")[0]
    math = f"\\begin{{{name}}}\n{body.format(a=a, b=b, c=c)}\n\\end{{{end}}}"
    if name in ("aligned", "split", "cases", "array}{cc") or "matrix" in name:
        # Needs display math around it in LaTeX; models write it bare all the same.
        math = rng.choice([math, f"$${math}$$", f"\\[{math}\\]"])
    return rng.choice(
        [math, f"We get\n{math}\nwhich is what we wanted.", f"Then {math} as required."]
    )


def _nested_frac(rng: random.Random) -> str:
    tex = rng.choice(TERMS)
    for _ in range(rng.randint(2, 6)):
        tex = f"\\frac{{{tex}}}{{{rng.choice(TERMS)}}}"
    open_, close = rng.choice(DELIMITERS)
    return f"Simplifying {open_}{tex}{close} takes a few steps."


def _code(rng: random.Random) -> str:
    a, b = rng.sample(SNAKE, 2)
    return rng.choice(
        [
            f"The call `f({a}, *{b})` unpacks {b}.",
            f"```python\n{a} = 2**10\n{b} = {a} * 3  # not emphasis\n```",
            "Run:\n\n```\n$ python -c 'print(3*2*1)'\n6\n```\n\nSo `3*2*1` is 6.",
            f"In code, `{a}_max` and `$x$` are literal.",
        ]
    )


def _table(rng: random.Random) -> str:
    rows = "\n".join(f"| {n} | {n * n} | {n**3} |" for n in range(1, rng.randint(3, 6)))
    return rng.choice(
        [
            f"| n | n^2 | n^3 |\n|---|---|---|\n{rows}",
            f"We tabulate:\n\n{rows}",
            f"x | f(x)\n:-:|--:\n1 | {rng.randint(1, 9)}",
        ]
    )


def _currency(rng: random.Random) -> str:
    p, q = rng.randint(2, 50), rng.randint(2, 50)
    return rng.choice(
        [
            f"A pen costs ${p} and a book costs ${q}, so together ${p + q}.",
            f"She saved ${p}.50 in May and ${q} in June.",
            f"With \\${p} and \\${q} we have \\${p + q}.",
            f"Spending ${p} leaves $x - {p}$ dollars.",
        ]
    )


def _unbalanced(rng: random.Random) -> str:
    a = rng.choice(TERMS)
    return rng.choice(
        [
            f"The value ${a} is never closed",
            f"Then \\({a} and we continue",
            f"**Important: {a} matters",
            f"A stray ` and a stray [ and a stray $ in one line with {a}.",
            f"Opening \\[{a} without a closer.",
        ]
    )


def _entity_or_url(rng: random.Random) -> str:
    word = rng.choice(["combinatorics", "Vieta", "AM-GM", "Fermat"])
    return rng.choice(
        [
            f"See https://example.com/{word}?q=1&n=2 for {word}.",
            f"[{word}](https://example.com/{word}) explains it.",
            f"&amp; {word} &lt;&gt; &quot;{word}&quot;",
            f"A link to [{word}](ftp://example.com/{word}) stays text.",
        ]
    )


FAMILIES = [
    ("stars and bars", _stars_and_bars, 30),
    ("multiplication", _multiplication, 30),
    ("underscores", _underscores, 15),
    ("list markers", _opener, 30),
    ("comparisons", _comparison, 20),
    ("align", _environment, 45),
    ("frac", _nested_frac, 20),
    ("code", _code, 15),
    ("tables", _table, 10),
    ("currency", _currency, 15),
    ("unbalanced", _unbalanced, 15),
    ("urls", _entity_or_url, 15),
]


def build() -> dict[str, Any]:
    """The corpus: the hand-written steps, then the variations."""
    rng = random.Random(11)
    steps = [(kind, text) for kind, text in HAND]
    for kind, make, count in FAMILIES:
        steps += [(kind, make(rng)) for _ in range(count)]
    rows = []
    for kind, text in steps:
        seen, math = shown(text)
        rows.append(
            {
                "kind": kind,
                "text": text,
                "shown": seen,
                "math": math,
                "invalid_tex": kind == "invalid",
            }
        )
    return {"description": __doc__.split("\n\n")[0], "steps": rows}


def _text(corpus: dict[str, Any]) -> str:
    return json.dumps(corpus, indent=1, ensure_ascii=False) + "\n"


def is_current() -> bool:
    """Whether the committed JSON is what this script writes now.

    >>> is_current()
    True
    """
    return OUT.read_text(encoding="utf-8") == _text(build())


if __name__ == "__main__":
    OUT.write_text(_text(build()), encoding="utf-8")
    print(f"wrote {len(build()['steps'])} steps to {OUT}")
