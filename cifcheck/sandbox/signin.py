"""The sandbox's sign-in service (login.localhost): a small emulation of a Microsoft Entra ID sign-in.

Steps as people meet them: the account name, then the password, then, for accounts with MFA, a verification
code from an authenticator app (TOTP) or a push approval that never completes here. Element ids and
messages follow Entra's sign-in page, so cifcheck's unattended sign-in is tested against the same shape.
The secrets below are the sandbox's own test accounts, published on purpose.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote

import jinja2
import pyotp
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

SANDBOX_PASSWORD = "cifcheck-sandbox"
# A base32 TOTP secret for the MFA test account; authenticator apps and pyotp accept it.
SANDBOX_TOTP_SECRET = "JBSWY3DPEHPK3PXPCIFCHECKSANDBOX2"


@dataclass(frozen=True)
class Account:
    name: str
    password: str = SANDBOX_PASSWORD
    mfa: str | None = None  # None, "totp" or "push"


ACCOUNTS = {
    account.name: account
    for account in (
        Account("admin@contoso.sandbox"),
        Account("mfa@contoso.sandbox", mfa="totp"),
        Account("push@contoso.sandbox", mfa="push"),
    )
}
SANDBOX_USER = "admin@contoso.sandbox"
# Entra's names for its own session cookies.
SSO_COOKIE = "ESTSAUTH"
SSO_PERSISTENT_COOKIE = "ESTSAUTHPERSISTENT"

WRONG_PASSWORD = "Your account or password is incorrect. If you don't remember your password, reset it now."
UNKNOWN_ACCOUNT = "This username may be incorrect. Make sure you typed it correctly."
WRONG_CODE = "You didn't enter the expected verification code. Please try again."


@dataclass
class Flow:
    """One sign-in in progress: where it goes back to, and which steps are done."""

    redirect_uri: str
    state: str
    account: Account | None = None
    password_ok: bool = False
    mfa_ok: bool = False


@dataclass
class SignInService:
    templates: jinja2.Environment
    codes: dict[str, str]  # authorization code -> account name, shared with the org
    flows: dict[str, Flow] = field(default_factory=dict)
    # The identity provider's own session (single sign-on): cookie value -> account name.
    sso: dict[str, str] = field(default_factory=dict)

    async def handle(self, request: Request) -> Response:
        if request.url.path == "/common/oauth2/authorize":
            redirect_uri = request.query_params.get("redirect_uri", "")
            if not re.fullmatch(r"http://[a-z0-9-]+\.crm\.localhost:\d+/signin-oidc", redirect_uri):
                return PlainTextResponse("AADSTS50011: The redirect URI is not registered.", status_code=400)
            token = secrets.token_urlsafe(16)
            flow = Flow(redirect_uri, request.query_params.get("state", ""))
            self.flows[token] = flow
            signed_in = self.sso.get(request.cookies.get(SSO_COOKIE, "")) or self.sso.get(
                request.cookies.get(SSO_PERSISTENT_COOKIE, "")
            )
            if signed_in in ACCOUNTS:  # single sign-on: straight back to the org, no page shown
                flow.account = ACCOUNTS[signed_in]
                return self._finish(token, flow)
            return self._page("account", token)
        if request.url.path == "/common/login" and request.method == "POST":
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
            flow = self.flows.get(form.get("flowToken", ""))
            if flow is None:
                return PlainTextResponse("AADSTS90100: the sign-in session expired; start again.", status_code=400)
            return self._step(form, form["flowToken"], flow)
        return HTMLResponse("<!DOCTYPE html><title>404</title><h1>Not found</h1>", status_code=404)

    def _step(self, form: dict[str, str], token: str, flow: Flow) -> Response:
        if "loginfmt" in form:
            flow.account = ACCOUNTS.get(form["loginfmt"].strip().lower())
            if flow.account is None:
                return self._page("account", token, error=UNKNOWN_ACCOUNT, login=form["loginfmt"])
            return self._page("password", token, login=flow.account.name)
        if flow.account is None:
            return self._page("account", token)
        if "passwd" in form:
            if form["passwd"] != flow.account.password:
                return self._page("password", token, error=WRONG_PASSWORD, login=flow.account.name)
            flow.password_ok = True
            if flow.account.mfa == "totp":
                return self._page("otc", token, login=flow.account.name)
            if flow.account.mfa == "push":
                return self._page("push", token, login=flow.account.name, number=secrets.randbelow(90) + 10)
            return self._page("kmsi", token, login=flow.account.name)
        if "otc" in form and flow.password_ok and flow.account.mfa == "totp":
            if not pyotp.TOTP(SANDBOX_TOTP_SECRET).verify(form["otc"].strip(), valid_window=1):
                return self._page("otc", token, error=WRONG_CODE, login=flow.account.name)
            flow.mfa_ok = True
            return self._page("kmsi", token, login=flow.account.name)
        if "kmsi" in form and flow.password_ok and (flow.account.mfa is None or flow.mfa_ok):
            return self._remember(self._finish(token, flow), flow.account.name, persistent=form["kmsi"] == "yes")
        return self._page("account", token)

    def _remember(self, response: Response, account: str, persistent: bool) -> Response:
        """The "Stay signed in?" answer: a session-only SSO cookie, or one that outlives the browser."""
        value = secrets.token_urlsafe(24)
        self.sso[value] = account
        if persistent:
            response.set_cookie(SSO_PERSISTENT_COOKIE, value, max_age=90 * 24 * 3600, httponly=True, samesite="lax")
        else:
            response.set_cookie(SSO_COOKIE, value, httponly=True, samesite="lax")
        return response

    def _finish(self, token: str, flow: Flow) -> Response:
        del self.flows[token]
        code = secrets.token_urlsafe(16)
        assert flow.account is not None
        self.codes[code] = flow.account.name
        return RedirectResponse(f"{flow.redirect_uri}?code={code}&state={quote(flow.state, safe='')}", status_code=302)

    def _page(self, step: str, token: str, error: str = "", login: str = "", number: int = 0) -> Response:
        page = self.templates.get_template("signin.html").render(
            step=step, flow_token=token, error=error, login=login, number=number
        )
        return HTMLResponse(page)
