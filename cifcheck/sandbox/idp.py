"""The sandbox's other identity providers (idp.localhost): sign-in pages shaped like ADFS, Okta, PingFederate and
Azure AD B2C, for testing that cifcheck knows a sign-in page by what it is rather than by its host.

They only look right: the URLs, element ids and names follow each product's own page, but nobody is ever signed
in (a form posted answers 400). No query value is echoed into a page, and nothing is loaded from elsewhere.
One more page, /status/maintenance, is a page on a foreign host that is not a sign-in page at all.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode, urlsplit

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

SHAPES = ("adfs", "okta", "ping", "b2c")
MAINTENANCE_PATH = "/status/maintenance"
B2C_TENANT = "contoso.onmicrosoft.com"
B2C_POLICY = "B2C_1_signupsignin"

# Each page by its path, lower-case and without a trailing slash (ADFS and B2C match paths case-insensitively).
_PAGES = {
    "/adfs/ls": "idp-adfs.html",
    "/oauth2/default/v1/authorize": "idp-okta.html",
    "/as/authorization.oauth2": "idp-ping.html",
    f"/{B2C_TENANT}/{B2C_POLICY}/oauth2/v2.0/authorize".lower(): "idp-b2c.html",
    MAINTENANCE_PATH: "idp-maintenance.html",
}
# Sign-in pages refuse to be framed, as the real ones do (clickjacking), and are never cached.
_HEADERS = {"x-frame-options": "DENY", "cache-control": "no-store"}
_TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True)


def sign_in_url(shape: str, base: str, return_to: str) -> str:
    """Where an org sends a signed-out browser when it signs in with the identity provider `shape` (one of SHAPES),
    served at `base` (say "http://idp.localhost:8000"); `return_to` is the org URL the browser asked for."""
    parts = urlsplit(return_to)
    origin = f"{parts.scheme}://{parts.netloc}"
    # What the org asks for: its own callback, and where to go back afterwards (real orgs keep an opaque key to it
    # in `state` or `wctx`; the sandbox never comes back, so the URL itself will do).
    oidc = {"redirect_uri": f"{origin}/signin-oidc", "state": return_to}
    if shape == "adfs":
        wctx = urlencode({"rm": "0", "id": "passive", "ru": return_to})
        query = {"wa": "wsignin1.0", "wtrealm": f"{origin}/", "wctx": wctx}
        return f"{base}/adfs/ls/?{urlencode(query)}"
    if shape == "okta":
        query = {"client_id": "0oa1sandboxcifcheck5d7", "response_type": "code", "scope": "openid profile", **oidc}
        return f"{base}/oauth2/default/v1/authorize?{urlencode(query)}"
    if shape == "ping":
        query = {"client_id": "dynamics-sandbox", "response_type": "code", "scope": "openid", **oidc}
        return f"{base}/as/authorization.oauth2?{urlencode(query)}"
    if shape == "b2c":
        query = {
            "client_id": "5f3b1c9e-2d4a-4e8b-9c7d-0a1b2c3d4e5f",
            "response_type": "id_token",
            "response_mode": "form_post",
            "scope": "openid",
            "nonce": "sandbox",
            **oidc,
        }
        return f"{base}/{B2C_TENANT}/{B2C_POLICY}/oauth2/v2.0/authorize?{urlencode(query)}"
    raise ValueError(f"unknown identity provider shape {shape!r}; one of {', '.join(SHAPES)}")


class IdentityProviders:
    """Serves every shape's sign-in page, and the maintenance page, on one host."""

    async def handle(self, request: Request) -> Response:
        if request.method == "POST":  # whatever a form sends: these pages only need to look right
            return PlainTextResponse("Signing in is not implemented in the sandbox.", status_code=400)
        template = _PAGES.get(request.url.path.lower().rstrip("/"))
        if template is None:
            return HTMLResponse("<!DOCTYPE html><title>404</title><h1>Not found</h1>", status_code=404)
        return HTMLResponse(_TEMPLATES.get_template(template).render(), headers=_HEADERS)
