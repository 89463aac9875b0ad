"""Whether a page is a sign-in page, and which step it shows: as the page itself reports it while cifcheck waits.

Host names decide "on a sign-in host"; a host that shows no step is one that single sign-on passes through.
Another identity provider (ADFS, Okta, Ping, B2C on a custom domain) is known by what it is instead: a page off the
org's hosts that shows a sign-in form, or whose URL is a sign-in request (`identity_provider_url`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

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
# Any identity provider's form, for pages the configured (Entra) selectors do not know: a visible password field is
# the password step; a visible user-name field is the account step, but only inside a form or next to a password
# field (a lone search box is not a sign-in). Names as ADFS (UserName), Okta (identifier, username), Ping
# (pf.username), B2C (signInName) and Entra (loginfmt) use them. Only visibility is read, never a value.
GENERIC_STEP_SHOWN = f"""() => {{
  const shown = {VISIBLE};
  const fields = [...document.querySelectorAll("input")];
  if (fields.some((field) => field.type === "password" && shown(field))) return "password";
  const named = /user|login|e-?mail|signin|identifier/i;
  const account = (field) => ["text", "email", "tel"].includes(field.type) && (field.type === "email"
    || /(^|\\s)(username|email)(\\s|$)/i.test(field.getAttribute("autocomplete") || "")
    || named.test(field.name) || named.test(field.id));
  const nearPassword = (field) => {{
    for (let box = field.parentElement, up = 0; box && up < 3; box = box.parentElement, up++) {{
      if (box.querySelector("input[type='password' i]")) return true;
    }}
    return false;
  }};
  return fields.some((field) => account(field) && (field.closest("form") || nearPassword(field)) && shown(field))
    ? "account" : null;
}}"""
# What the watch reports: the configured selectors first, so Entra's pages read as before, then any provider's form.
# Unattended sign-in (cifcheck.signin) keeps STEP_SHOWN alone: it can only answer fields it has selectors for.
WATCH_STEP_SHOWN = f"(s) => ({STEP_SHOWN})(s) ?? ({GENERIC_STEP_SHOWN})()"

_WATCH = (Path(__file__).parent / "sign_in_watch.js").read_text(encoding="utf-8")
_BINDING = "__cifcheckSignInLook"
# Only a memory bound: the evidence cuts a title to its own cap after redaction, so no secret is cut in half first.
TITLE_KEPT = 10_000


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
    collapsed = re.sub(r"\*+", "*", pattern.lower())  # `**` is `*`; runs of `.*` would backtrack for long
    return "^" + collapsed.replace(".", r"\.").replace("?", ".").replace("*", ".*") + "$"


def is_sign_in_host(url: str, hosts: Sequence[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(re.fullmatch(host_regex(pattern), host) for pattern in hosts)


def _document(url: str) -> str:
    return url.split("#", 1)[0]


# Sign-in requests by their URL, whoever serves them: (protocol, a regex searched in the lower-case path, a regex
# that one lower-case `name=value` query pair must match, or None). The first row that matches names the protocol.
_SIGN_IN_REQUESTS: tuple[tuple[str, str, str | None], ...] = (
    # SAML 2.0, HTTP-Redirect binding: any IdP (ADFS, Okta, Ping, Shibboleth, Entra's /saml2).
    ("SAML", "", r"samlrequest="),
    # WS-Federation passive sign-in: any IdP; ADFS and Entra's /wsfed among them.
    ("WS-Federation", "", r"wa=wsignin1\.0$"),
    # ADFS's passive endpoint, which also shows its own sign-in form (/adfs/ls/, /adfs/ls/IdpInitiatedSignOn.aspx).
    ("WS-Federation", r"^/adfs/ls(/|$)", None),
    # Okta's SAML app endpoint: /app/<app>/<id>/sso/saml.
    ("SAML", r"/sso/saml/?$", None),
    # PingFederate's SAML endpoint.
    ("SAML", r"/idp/sso\.saml2$", None),
    # Shibboleth IdP's SAML 2.0 profiles: /idp/profile/SAML2/Redirect/SSO.
    ("SAML", r"/idp/profile/saml2/", None),
    # OAuth 2.0 / OpenID Connect authorize: Entra (/common/oauth2/v2.0/authorize), ADFS (/adfs/oauth2/authorize),
    # Okta (/oauth2/<id>/v1/authorize), B2C (/<tenant>/<policy>/oauth2/v2.0/authorize), Auth0 (/authorize).
    ("OAuth 2.0 authorize", r"/authorize/?$", r"(client_id|response_type)="),
    # PingFederate's authorize endpoint: /as/authorization.oauth2.
    ("OAuth 2.0 authorize", r"authorization\.oauth2$", r"(client_id|response_type)="),
    # Keycloak: /realms/<realm>/protocol/openid-connect/auth.
    ("OAuth 2.0 authorize", r"/protocol/openid-connect/auth$", r"(client_id|response_type)="),
    # Google: /o/oauth2/v2/auth.
    ("OAuth 2.0 authorize", r"/o/oauth2/(v2/)?auth$", r"(client_id|response_type)="),
    # B2C's own pages after the authorize request name the user flow: .../api/CombinedSigninAndSignup/unified?p=...
    ("OAuth 2.0 authorize", "", r"p=b2c_1a?_"),
)


def identity_provider_url(url: str) -> str | None:
    """The protocol ("OAuth 2.0 authorize", "SAML", "WS-Federation") when `url` is a sign-in request, else None.
    Only the URL's shape is read; any string is accepted, a malformed one is simply not a sign-in request."""
    try:
        parts = urlsplit(url)
        path = unquote(parts.path).lower()
        pairs = [f"{name}={value}".lower() for name, value in parse_qsl(parts.query, keep_blank_values=True)]
    except (TypeError, ValueError, AttributeError):  # not a string, or a host like "[::1" that urlsplit refuses
        return None
    for protocol, path_pattern, pair_pattern in _SIGN_IN_REQUESTS:
        if re.search(path_pattern, path) and (
            pair_pattern is None or any(re.match(pair_pattern, pair) for pair in pairs)
        ):
            return protocol
    return None


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


@dataclass(frozen=True)
class PageLook:
    step: str | None  # None while a page only passes through, as single sign-on does
    title: str
    on_sign_in_host: bool = True  # False: a page off the org's hosts, perhaps another identity provider's
    identity_provider: str | None = None  # the protocol, when the page's URL is a sign-in request


class SignInWatch:
    """What the sign-in page in a tab's top frame shows now. Install it once on a fresh page, before navigating;
    it lives as long as the page (removing it costs two round trips to the browser, and pages are short-lived).

    It watches top documents on a sign-in host (`hosts`, patterns); given the org's own host names (`org_hosts`,
    exact), also every web page on any other host, where another identity provider may show its form."""

    def __init__(self, page: Page, settings: SignIn, hosts: Sequence[str], org_hosts: Sequence[str] = ()) -> None:
        self._hosts = tuple(hosts)
        self._org_hosts = tuple(host.lower() for host in org_hosts)
        self._newest_document = 0.0  # the time origin of the newest document that reported
        self.latest: PageLook | None = None
        page.on("framenavigated", self._on_navigated)
        page.expose_binding(_BINDING, self._on_look)
        patterns = [host_regex(host) for host in self._hosts]
        arguments = json.dumps([step_selectors(settings), patterns, list(self._org_hosts), _BINDING])
        page.add_init_script(f"({_WATCH})({WATCH_STEP_SHOWN}, ...{arguments});")

    def _off_org(self, url: str) -> bool:
        """A web page on none of the org's hosts (never one without org hosts: then only sign-in hosts count)."""
        return bool(self._org_hosts) and url.startswith(("http://", "https://")) and _host(url) not in self._org_hosts

    def _on_navigated(self, frame: Frame) -> None:
        if frame.parent_frame is None:
            self.latest = None  # what the last document showed says nothing about the next one

    def _on_look(self, source: dict[str, object], look: object) -> None:
        # Any script in any frame can call the binding: take only well-formed looks from the top frame, on a
        # watched host, about the document that frame holds now.
        frame = source.get("frame")
        if not isinstance(frame, Frame) or frame.parent_frame is not None or not isinstance(look, dict):
            return
        step, title, url, origin = look.get("step"), look.get("title"), look.get("url"), look.get("origin")
        if (step is not None and step not in STEPS) or not isinstance(title, str) or not isinstance(url, str):
            return
        # A report can arrive after the next document has replaced its sender, even at the same URL.
        if not isinstance(origin, int | float) or origin < self._newest_document:
            return
        if _document(url) != _document(frame.url):
            return
        on_sign_in_host = is_sign_in_host(frame.url, self._hosts)
        if on_sign_in_host or self._off_org(frame.url):
            self._newest_document = origin
            self.latest = PageLook(
                step=step,
                title=title[:TITLE_KEPT],
                on_sign_in_host=on_sign_in_host,
                identity_provider=identity_provider_url(frame.url),
            )
