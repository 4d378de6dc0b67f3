"""What every page of the portal must pass in a real browser.

`Auditor.check(name)` audits the page as it is now: axe-core with the WCAG 2.0, 2.1 and 2.2
A and AA rules, then checks axe cannot make: the language and direction, a label for every
control, hint and error ids in `aria-describedby`, 44×44 CSS px targets, no sideways
scrolling at 320 CSS px (reflow), the keyboard path through the skip link, and on a page
with errors, the error summary holding focus with links that move focus to their field.
Problems are collected rather than raised, so one run lists every page's problems at once.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, ViewportSize
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from engine.web.i18n import translator

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
MIN_TARGET = 44  # CSS px, WCAG 2.5.5 (AAA); the AA minimum of 2.5.8 is 24
DESKTOP = ViewportSize(width=1024, height=768)
NARROW = ViewportSize(width=320, height=640)  # WCAG 1.4.10: 1280 px at 400 % zoom

AXE_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary})),
  }));
}"""

# Checks on the document that axe does not make (or makes more loosely).
STRUCTURE = """({lang, dir, minTarget}) => {
  const problems = [];
  const describe = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "")
    + (el.textContent.trim() ? ` “${el.textContent.trim().slice(0, 40)}”` : "");
  const root = document.documentElement;
  if (root.lang !== lang) problems.push(`<html lang> is “${root.lang}”, expected “${lang}”`);
  if (root.dir !== dir) problems.push(`<html dir> is “${root.dir}”, expected “${dir}”`);
  const laidOut = getComputedStyle(document.body).direction;
  if (laidOut !== dir) problems.push(`the body is laid out ${laidOut}`);
  if (!document.title.trim()) problems.push("the page has no title");
  const headings = document.querySelectorAll("h1").length;
  if (headings !== 1) problems.push(`${headings} <h1> on the page`);
  const untranslated = document.body.innerText.match(/\\[[a-z_]+\\.[a-z_.]+\\]/g);
  if (untranslated) problems.push(`untranslated message keys: ${untranslated.join(", ")}`);

  // Every control has a label with text (or an ARIA name).
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    const labelled = [...el.labels].some(l => l.textContent.trim())
      || (el.getAttribute("aria-label") || "").trim() || el.getAttribute("aria-labelledby");
    if (!labelled) problems.push(`${describe(el)} has no label`);
  }
  // Every aria-describedby id exists; every hint and error of a question is in one.
  const described = new Map();
  for (const el of document.querySelectorAll("[aria-describedby]")) {
    for (const id of el.getAttribute("aria-describedby").split(/\\s+/).filter(Boolean)) {
      if (!document.getElementById(id)) problems.push(`${describe(el)}: aria-describedby names a missing id “${id}”`);
      described.set(id, el);
    }
  }
  for (const note of document.querySelectorAll(".form-group .hint, .form-group .error-message")) {
    const group = note.closest(".form-group");
    const owner = note.id && described.get(note.id);
    if (!owner) problems.push(`${describe(note)} is not in any control's aria-describedby`);
    else if (!group.contains(owner)) problems.push(`${describe(note)} describes ${describe(owner)}, not its own`);
  }
  for (const group of document.querySelectorAll(".form-group.has-error")) {
    if (!group.querySelector(".error-message")) problems.push("a question marked with an error shows no error message");
  }
  // Targets: buttons, the site navigation, back and change links, radios and checkboxes.
  const targets = "button, input[type=submit], input[type=file], .button, .site-nav a, .site-name, .back-link,"
    + " .summary-action a, input[type=radio], input[type=checkbox]";
  for (const el of document.querySelectorAll(targets)) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.width < minTarget - 0.01 || box.height < minTarget - 0.01)
      problems.push(`target ${describe(el)} is ${box.width.toFixed(1)}×${box.height.toFixed(1)} CSS px`);
  }
  return problems;
}"""

ERROR_SUMMARY = """() => {
  const summary = document.querySelector(".error-summary");
  const active = document.activeElement;
  return {
    present: !!summary,
    focused: !!summary && active === summary,
    active: active ? active.tagName.toLowerCase() + (active.className ? "." + active.className : "") : "none",
    links: summary ? [...summary.querySelectorAll("a")].map(a => a.getAttribute("href")) : [],
  };
}"""


def with_axe(context: BrowserContext, axe: Path) -> BrowserContext:
    """`context`, with axe-core loaded into every page it opens before the page's own scripts.

    Sent once per context instead of once per audited page: adding the 650 kB script to each
    page (through Playwright's driver to the browser) took half a second a page."""
    context.add_init_script(path=str(axe))
    return context


@dataclass
class Auditor:
    """Audits pages in one language and collects what it finds."""

    page: Page
    lang: str
    axe: Path
    shots: Path
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def direction(self) -> str:
        return "rtl" if self.lang == "fa" else "ltr"

    def problem(self, name: str, text: str) -> None:
        self.problems.append(f"[{self.lang}-{name}] {text}")

    def check(self, name: str, *, errors: bool = False) -> None:
        """Audit the current page; `errors` says it is a form sent back with errors."""
        self.checked.append(name)
        self.page.wait_for_load_state("load")
        self.page.evaluate("document.fonts.ready.then(() => true)")
        if errors:
            self._error_focus(name)
        self.page.screenshot(path=str(self.shots / f"{self.lang}-{name}.png"), full_page=True)
        self._axe(name)
        for text in self.page.evaluate(STRUCTURE, {"lang": self.lang, "dir": self.direction,
                                                   "minTarget": MIN_TARGET}):
            self.problem(name, text)
        self._reflow(name)
        # These two move focus and add a fragment to the address, so they come last.
        if errors:
            self._error_links(name)
        else:
            self._skip_link(name)

    def _axe(self, name: str) -> None:
        # Pages of a context from `with_axe` have axe-core already; any other page gets it here.
        if not self.page.evaluate("typeof axe !== 'undefined'"):
            self.page.add_script_tag(path=str(self.axe))
        violations: list[dict[str, Any]] = self.page.evaluate(AXE_RUN, WCAG_TAGS)
        for v in violations:
            nodes = "\n".join(f"      at {n['target']}: {n['summary']}".replace("\n", " / ") for n in v["nodes"][:8])
            self.problem(name, f"axe {v['id']} ({v['impact']}): {v['help']} <{v['url']}>\n{nodes}")

    def _reflow(self, name: str) -> None:
        self.page.set_viewport_size(NARROW)
        try:
            self.page.screenshot(path=str(self.shots / f"{self.lang}-{name}-320.png"))
            wide = self.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            if wide[0] > wide[1]:
                culprits = self.page.evaluate("""(width) => [...document.querySelectorAll("body *")]
                    .filter(el => { const b = el.getBoundingClientRect(); return b.right > width + 1 || b.left < -1; })
                    .filter(el => !el.closest(".visually-hidden, .skip-link"))
                    .slice(0, 5).map(el => el.tagName.toLowerCase() + (el.className ? "." + el.className : ""))""",
                                              wide[1])
                self.problem(name, f"at 320 CSS px the page scrolls sideways ({wide[0]} px wide): {culprits}")
        finally:
            self.page.set_viewport_size(DESKTOP)

    def _skip_link(self, name: str) -> None:
        page = self.page
        page.evaluate("window.scrollTo(0, 0)")
        page.keyboard.press("Tab")
        first = page.evaluate("""() => { const a = document.activeElement; const b = a.getBoundingClientRect();
            return {skip: a.classList.contains("skip-link"), href: a.getAttribute("href"),
                    visible: b.width > 0 && b.height > 0 && b.top >= 0 && b.left >= 0 && b.right <= innerWidth,
                    what: a.outerHTML.slice(0, 80)}; }""")
        if not first["skip"]:
            self.problem(name, f"the first Tab reaches {first['what']}, not the skip link")
            return
        if not first["visible"]:
            self.problem(name, "the skip link is not visible when it has focus")
        page.keyboard.press("Enter")
        landed = page.evaluate("document.activeElement.id")
        if landed != "main":
            self.problem(name, f"the skip link moves focus to “{landed}”, not to <main>")

    def _error_focus(self, name: str) -> None:
        # `autofocus` is applied at the next rendering step, which may come after the load event.
        with contextlib.suppress(PlaywrightTimeout):
            self.page.wait_for_function("document.activeElement?.matches('.error-summary')", timeout=3_000)
        state = self.page.evaluate(ERROR_SUMMARY)
        if not state["present"]:
            self.problem(name, "the page has no error summary")
        elif not state["focused"]:
            self.problem(name, f"the error summary does not have focus; {state['active']} has")
        prefix = translator(self.lang)("errors.title_prefix")
        if not self.page.title().startswith(prefix):
            self.problem(name, f"the title “{self.page.title()}” does not start with “{prefix}”")

    def _error_links(self, name: str) -> None:
        """Each link in the error summary moves focus to the control it names."""
        for href in self.page.evaluate(ERROR_SUMMARY)["links"]:
            self.page.click(f'.error-summary a[href="{href}"]')
            focused = self.page.evaluate("""() => { const a = document.activeElement;
                return {id: a.id, control: a.matches("input, select, textarea")}; }""")
            if not focused["control"] or focused["id"] != href.removeprefix("#"):
                self.problem(name, f"the error link {href} leaves focus on “{focused['id']}”, not on its field")

    def digits(self, name: str, selector: str) -> str:
        """The text of `selector`, checked for the page's digits (Persian on Persian pages)."""
        shown = self.page.locator(selector).first.inner_text().strip()
        digits = [c for c in shown if c.isdigit()]
        expected = set(PERSIAN_DIGITS) if self.lang == "fa" else set("0123456789")
        if not digits or any(c not in expected for c in digits):
            self.problem(name, f"{selector} shows “{shown}”: expected {'Persian' if self.lang == 'fa' else 'ASCII'} "
                               "digits")
        return shown.translate(str.maketrans(PERSIAN_DIGITS, "0123456789")).replace(" ", "")
