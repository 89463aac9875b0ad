"""Whether a page is a sign-in page, and which step it shows: as the page itself reports it while cifcheck waits.

Host names decide "on a sign-in host"; a host that shows no step is one that single sign-on passes through.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Frame, Page

from cifcheck.config import SignIn

# Which step a page shows, by the configured selectors; the first that matches wins. STEPS names them all.
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
STEPS = ("push", "consent", "code", "password", "account", "stay-signed-in")

_WATCH = (Path(__file__).parent / "sign_in_watch.js").read_text(encoding="utf-8")
_BINDING = "__cifcheckSignInLook"
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


def host_regex(pattern: str) -> str:
    """A host name pattern as a regex that Python and JavaScript read alike. Config allows only letters, digits,
    dots, hyphens and the wildcards `*` and `?` in it, so escaping the dots is enough."""
    return "^" + pattern.lower().replace(".", r"\.").replace("?", ".").replace("*", ".*") + "$"


def is_sign_in_host(url: str, hosts: Sequence[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(re.fullmatch(host_regex(pattern), host) for pattern in hosts)


def _document(url: str) -> str:
    return url.split("#", 1)[0]


@dataclass(frozen=True)
class PageLook:
    step: str | None  # None while a page only passes through, as single sign-on does
    title: str


class SignInWatch:
    """What the sign-in page in a tab's top frame shows now. Install it once on a fresh page, before navigating;
    it lives as long as the page (removing it costs two round trips to the browser, and pages are short-lived)."""

    def __init__(self, page: Page, settings: SignIn, hosts: Sequence[str]) -> None:
        self._hosts = tuple(hosts)
        self._newest_document = 0.0  # the time origin of the newest document that reported
        self.latest: PageLook | None = None
        page.on("framenavigated", self._on_navigated)
        page.expose_binding(_BINDING, self._on_look)
        arguments = json.dumps([step_selectors(settings), [host_regex(host) for host in self._hosts], _BINDING])
        page.add_init_script(f"({_WATCH})({STEP_SHOWN}, ...{arguments});")

    def _on_navigated(self, frame: Frame) -> None:
        if frame.parent_frame is None:
            self.latest = None  # what the last document showed says nothing about the next one

    def _on_look(self, source: dict[str, object], look: object) -> None:
        # Any script in any frame can call the binding: take only well-formed looks from the top frame, on a
        # sign-in host, about the document that frame holds now.
        frame = source.get("frame")
        if not isinstance(frame, Frame) or frame.parent_frame is not None or not isinstance(look, dict):
            return
        step, title, url, origin = look.get("step"), look.get("title"), look.get("url"), look.get("origin")
        if (step is not None and step not in STEPS) or not isinstance(title, str) or not isinstance(url, str):
            return
        # A report can arrive after the next document has replaced its sender, even at the same URL.
        if not isinstance(origin, int | float) or origin < self._newest_document:
            return
        if is_sign_in_host(frame.url, self._hosts) and _document(url) == _document(frame.url):
            self._newest_document = origin
            self.latest = PageLook(step=step, title=title[:TITLE_MAX])
