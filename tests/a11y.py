"""Accessibility helpers for Playwright tests of any page: axe-core, keyboard-only driving.

``axe_violations(page)`` injects axe-core (``npm ci`` installs it under ``node_modules/``, pinned
in package.json / package-lock.json), runs every rule axe enables by default (WCAG 2.0-2.2 A/AA
and best practices) on the whole document, and returns the *serious* and *critical* violations
that are not in :data:`EXCLUSIONS`. A test asserts ``axe_violations(page) == []`` and prints
:func:`describe` on failure::

    from tests.a11y import axe_violations, describe, wait_for_app
    page.goto(f"{server}/credits")
    wait_for_app(page)
    found = axe_violations(page)
    assert not found, describe(found)

Keyboard driving: :func:`tab_to` presses Tab (or Shift+Tab) until the element has focus, so a
test proves an element is reachable without a mouse; then it presses Enter or Space.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


@dataclass(frozen=True)
class Exclusion:
    """One axe rule ignored on one of Streamlit's own elements, and why.

    ``selector`` is matched with ``Element.closest``: the failing node or an ancestor must
    match it. Keep both as narrow as the problem: never a rule on the whole page.
    """

    rule: str
    selector: str
    reason: str


# Problems inside Streamlit's own widgets that the app cannot fix. Every entry names the rule
# and the narrowest selector, and says why; remove an entry when Streamlit fixes it.
# None is needed on Streamlit 1.67 for the create and My videos pages in any state the tests
# reach. (axe reports one *minor* issue there, below the bar: presentation-role-conflict on
# [data-testid="stFileUploaderDropzone"], a role="presentation" section with an aria-label.)
EXCLUSIONS: tuple[Exclusion, ...] = ()


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    nodes: tuple[dict[str, str], ...]  # target (CSS path), html (start of the element), why

    def __str__(self) -> str:
        lines = [f"{self.rule} ({self.impact}): {self.help}"]
        for node in self.nodes[:8]:
            lines.append(f"    {node['target']}\n      {node['html']}\n      {node['why']}")
        return "\n".join(lines)


_RUN = """
async ({include, exclusions, impacts}) => {
  const context = include ? {include: [include]} : document;
  const result = await axe.run(context, {resultTypes: ['violations']});
  const excluded = (rule, target) => {
    const last = target[target.length - 1];
    const el = typeof last === 'string' ? document.querySelector(last) : null;
    return el !== null && exclusions.some(([r, sel]) => r === rule && el.closest(sel));
  };
  const out = [];
  for (const v of result.violations) {
    if (!impacts.includes(v.impact)) continue;
    const nodes = v.nodes
      .filter(n => !excluded(v.id, n.target))
      .map(n => ({
        target: n.target.map(String).join(' >> '),
        html: n.html.slice(0, 240),
        why: (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 400),
      }));
    if (nodes.length) out.push({rule: v.id, impact: v.impact, help: v.help, nodes});
  }
  return out;
}
"""


def axe_available() -> bool:
    return AXE_JS.is_file()


def axe_violations(
    page: Any,
    *,
    include: str | None = None,
    exclusions: Iterable[Exclusion] = EXCLUSIONS,
    impacts: Iterable[str] = BLOCKING_IMPACTS,
) -> list[Violation]:
    """The serious/critical axe-core violations on ``page`` (or inside the ``include``
    selector), minus ``exclusions``. Without axe-core (``npm ci`` not run) the test is skipped
    with that reason, as browser tests are without Chromium; under CI (``CI`` set, as
    ``.ci/run`` runs) a missing axe-core fails instead, so the checks cannot vanish there."""
    if not axe_available():
        reason = f"axe-core is not installed: run `npm ci` in {ROOT} (package.json pins it)"
        if os.environ.get("CI"):
            raise FileNotFoundError(reason)
        pytest.skip(reason)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_JS))
    raw = page.evaluate(
        _RUN,
        {
            "include": include,
            "exclusions": [[e.rule, e.selector] for e in exclusions],
            "impacts": list(impacts),
        },
    )
    return [Violation(v["rule"], v["impact"], v["help"], tuple(v["nodes"])) for v in raw]


def describe(violations: Iterable[Violation]) -> str:
    return "\n".join(str(v) for v in violations) or "no violations"


# ------------------------------------------------------------------------ Streamlit pages


def wait_for_app(page: Any, timeout_ms: int = 30_000) -> None:
    """The page is connected, its script has run and finished, and nothing on it is a
    placeholder or stale (Streamlit fades stale elements during a rerun, which would make
    axe measure washed-out colours)."""
    from playwright.sync_api import expect

    expect(page.get_by_test_id("stAppViewContainer")).to_be_visible(timeout=timeout_ms)
    expect(
        page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']")
    ).to_be_attached(timeout=timeout_ms)
    expect(
        page.locator("[data-testid='stMain'] [data-testid='stElementContainer']").first
    ).to_be_attached(timeout=timeout_ms)
    expect(
        page.locator("[data-testid='stApp'][data-test-script-state='notRunning']")
    ).to_be_attached(timeout=timeout_ms)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout_ms)
    expect(page.locator("[data-stale='true']")).to_have_count(0, timeout=timeout_ms)


# ------------------------------------------------------------------------------- keyboard

_HAS_FOCUS = "el => el === document.activeElement || el.contains(document.activeElement)"
_FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return 'nothing (body)';
  const name = el.getAttribute('aria-label') || el.innerText || el.value || '';
  return `${el.tagName.toLowerCase()}[role=${el.getAttribute('role')}] "${name.slice(0, 60)}"`;
}"""


def focused(page: Any) -> str:
    """A short description of the element that has keyboard focus (for failure messages)."""
    return str(page.evaluate(_FOCUSED))


def tab_to(page: Any, target: Any, *, limit: int = 60, backwards: bool = False) -> None:
    """Press Tab (Shift+Tab when ``backwards``) until ``target`` (a Locator) has focus.

    Fails when ``limit`` presses do not reach it: the element is not in the tab order.
    """
    key = "Shift+Tab" if backwards else "Tab"
    seen: list[str] = []
    for _ in range(limit):
        if target.count() and target.first.evaluate(_HAS_FOCUS):
            return
        page.keyboard.press(key)
        seen.append(focused(page))
    raise AssertionError(
        f"{limit} x {key} never reached {target}; focus went through:\n  " + "\n  ".join(seen[-25:])
    )
