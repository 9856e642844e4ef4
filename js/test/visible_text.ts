/**
 * The non-space characters a rendered step shows, in order, each formula counted by its TeX
 * source (`data-tex`) and the plain-text note left out. The character property of the
 * renderer: for any source, this equals the source's own non-space characters minus the
 * markup the rules in README.md remove (tests/data/make_model_steps.py works that out).
 * tests/browser/test_rendering.py reads the real page the same way.
 */
export function visibleText(root: Element): string {
  const copy = root.cloneNode(true) as Element;
  copy.querySelectorAll(".lw-md__note").forEach((note) => note.remove());
  copy.querySelectorAll<HTMLElement>("[data-tex]").forEach((math) => math.replaceWith(math.dataset.tex ?? ""));
  return (copy.textContent ?? "").replace(/\s+/g, "");
}
