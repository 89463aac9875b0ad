"""Whether a page is a sign-in page, and which step it shows.

Host names decide "on a sign-in host"; a host that shows no step is one that single sign-on passes through.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from cifcheck.config import SignIn

# Which step a page shows, by the configured selectors; the first that matches wins.
# Only what a person could see counts: Entra keeps fields for other steps in the page, hidden or off screen.
VISIBLE = """(element) => {
  if (!element || element.closest("[aria-hidden='true']")) return false;
  const box = element.getBoundingClientRect();
  return box.width > 0 && box.height > 0 && box.right > 0 && box.bottom > 0
    && getComputedStyle(element).visibility !== "hidden";
}"""
STEP_SHOWN = f"""(s) => {{
  const shown = (selector) => ({VISIBLE})(document.querySelector(selector));
  return shown(s.push) ? "push" : shown(s.consent) ? "consent" : shown(s.code) ? "code"
    : shown(s.password) ? "password" : shown(s.username) ? "account" : shown(s.stay) ? "stay-signed-in" : null;
}}"""
TITLE_MAX = 500


def step_selectors(settings: SignIn) -> dict[str, str]:
    return {
        "push": settings.push_approval,
        "consent": settings.consent,
        "code": settings.code_field,
        "password": settings.password_field,
        "username": settings.username_field,
        "stay": settings.stay_signed_in_no,
    }


def is_sign_in_host(url: str, hosts: Sequence[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in hosts)


@dataclass(frozen=True)
class PageLook:
    step: str | None  # None while a page only passes through, as single sign-on does
    title: str


# The step and title, answered once the document is parsed and its style sheets apply (they decide what is
# visible, and DOMContentLoaded does not wait for them; the next frame does): one round trip, even right after
# navigation. A tab in the background draws no frames, hence the timer.
_LOOK_WHEN_PARSED = f"""(s) => new Promise((done) => {{
  const look = () => done({{ step: ({STEP_SHOWN})(s), title: document.title }});
  const drawn = () => {{
    const sheets = [...document.querySelectorAll("link[rel~='stylesheet' i]")];
    if (sheets.every((link) => link.sheet)) return look();
    requestAnimationFrame(look);
    setTimeout(look, 1000);
  }};
  if (document.readyState !== "loading") drawn();
  else document.addEventListener("DOMContentLoaded", drawn, {{ once: true }});
}})"""


def look_once_parsed(page: Page, settings: SignIn) -> PageLook | None:
    """Which sign-in step the page shows, and its title; None when the page moved on meanwhile.

    A page-side report through an exposed binding arrives 20-50 ms sooner, but with Playwright 1.65's sync API,
    closing a page whose binding was called around a navigation hung (seen in CI), so cifcheck asks instead."""
    try:
        state = page.evaluate(_LOOK_WHEN_PARSED, step_selectors(settings))
    except PlaywrightError:
        return None
    return PageLook(step=state["step"], title=str(state["title"])[:TITLE_MAX])
