"""The sandbox org as an ASGI app: an org per scenario, a sign-in service and a channel provider's widget host.

Every role has its own host name on one port, as real orgs differ by host and cookies are kept per host:
  <scenario>.crm.localhost   the org (app shell, web resources, Web API)
  login.localhost            the sign-in service
  widget.localhost           the channel provider's widget pages
  landing.localhost          a landing host that redirects to the widget host (trusted-domain scenarios)
  localhost                  an index of the scenarios
Chromium resolves every *.localhost name to the loopback address itself, so no DNS set-up is needed.
"""

from __future__ import annotations

import asyncio
import html
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.types import Receive, Scope, Send

from cifcheck.sandbox.idp import IdentityProviders, sign_in_url
from cifcheck.sandbox.records import USER_ID, Records, stable_id
from cifcheck.sandbox.records import build as build_records
from cifcheck.sandbox.scenarios import (
    APPS,
    CIF_LIBRARY,
    DEFAULT_TIMING,
    SCENARIOS,
    TIMINGS,
    Provider,
    Scenario,
    Timing,
)
from cifcheck.sandbox.signin import SANDBOX_PASSWORD, SANDBOX_TOTP_SECRET, SANDBOX_USER, SignInService

HERE = Path(__file__).parent
STATIC = HERE / "static"
SESSION_COOKIE = "CrmOwinAuth"
CACHE_TOKEN = "637199221580014143"
ORG_ID = "d4b3c2a1-0f9e-4d8c-b7a6-958473625140"
_TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)


@dataclass(frozen=True)
class SandboxUrls:
    port: int
    # A port on which nothing listens: what an org that went away answers (connection refused).
    refused_port: int = 0

    def org(self, scenario: str, timing: str = DEFAULT_TIMING) -> str:
        """The org of `scenario`; a timing profile other than the scenario's own is a subdomain of its own."""
        label = scenario if timing == DEFAULT_TIMING else f"{scenario}.{timing}"
        return f"http://{label}.crm.localhost:{self.port}"

    @property
    def idp(self) -> str:
        return f"http://idp.localhost:{self.port}"

    @property
    def login(self) -> str:
        return f"http://login.localhost:{self.port}"

    @property
    def index(self) -> str:
        return f"http://localhost:{self.port}/"

    def app_url(self, scenario: Scenario, timing: str = DEFAULT_TIMING) -> str:
        return f"{self.org(scenario.name, timing)}/main.aspx?appname={scenario.app}"

    def channel_url(self, scenario: Scenario, provider: Provider, timing: str = DEFAULT_TIMING) -> str:
        org = self.org(scenario.name, timing)
        query = {"scenario": scenario.name, "ucilib": f"{org}/webresources/Widget/msdyn_ciLibrary.js"}
        if timing != DEFAULT_TIMING:
            query["timing"] = timing
        page = "start" if provider.relative_redirect else "index.html"
        return (
            f"http://{provider.channel_host}.localhost:{self.port}/providers/{provider.unique_name}/{page}?"
            f"{urlencode(query)}{provider.channel_fragment}"
        )


@dataclass
class SandboxState:
    """What the sandbox remembers between requests: sign-in codes, sessions, and any write attempt."""

    latency_ms: int = 0
    # When set, every scenario boots its app shell / answers the CIF library after these delays (benchmarks).
    app_ready_ms: int | None = None
    library_delay_ms: int | None = None
    codes: dict[str, str] = field(default_factory=dict)
    # session token -> (user, interactive): a signed-out scenario treats saved (non-interactive) sessions as expired.
    sessions: dict[str, tuple[str, bool]] = field(default_factory=dict)
    write_attempts: list[str] = field(default_factory=list)
    # (scenario, timing, table) -> reads answered 429 so far (throttled scenarios)
    throttled: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    # Requests to the orgs' Web API (/api/...), by method: a validator must only ever GET there.
    web_api_requests: Counter[str] = field(default_factory=Counter)
    # The same, for requests no page made: a browser marks each of its requests (Sec-Fetch-Mode), Playwright's request
    # API, which cifcheck reads with, does not. cifcheck may only ever GET.
    outside_page_requests: Counter[str] = field(default_factory=Counter)

    def issue_session(self, interactive: bool = False, user: str = SANDBOX_USER) -> str:
        token = secrets.token_urlsafe(24)
        self.sessions[token] = (user, interactive)
        return token


class SandboxApp:
    """Dispatches each request by host name to the org, sign-in, widget or index handlers."""

    def __init__(
        self,
        port: int,
        latency_ms: int = 0,
        app_ready_ms: int | None = None,
        library_delay_ms: int | None = None,
        refused_port: int = 0,
    ) -> None:
        self.urls = SandboxUrls(port, refused_port)
        self.state = SandboxState(latency_ms=latency_ms, app_ready_ms=app_ready_ms, library_delay_ms=library_delay_ms)
        self.signin = SignInService(_TEMPLATES, self.state.codes)
        self.idp = IdentityProviders()
        self._built: dict[tuple[str, str], Records] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        host = (request.url.hostname or "").lower()
        scenario, timing = _org_of(host) if host.endswith(".crm.localhost") else (None, None)
        if host in ("widget.localhost", "landing.localhost"):
            timing = TIMINGS.get(request.query_params.get("timing", DEFAULT_TIMING))
        latency_ms = self.state.latency_ms + (timing.latency_ms if timing else 0)
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)
        if request.url.path == "/favicon.ico":
            response: Response = Response(status_code=204)
        elif host.endswith(".crm.localhost"):
            if scenario is None or timing is None:
                response = _not_found("No such org")
            else:
                response = await self._org(request, scenario, timing)
        elif host == "login.localhost":
            response = await self.signin.handle(request)
        elif host == "idp.localhost":
            response = await self.idp.handle(request)
        elif host in ("widget.localhost", "landing.localhost"):
            response = self._widget(request, host, timing or TIMINGS[DEFAULT_TIMING])
            if response.status_code == NEVER_ANSWERS:
                await _until_disconnected(request)
                return
        else:
            response = self._index()
        await response(scope, receive, send)

    # --- the index -------------------------------------------------------------------------------
    def _index(self) -> Response:
        page = _TEMPLATES.get_template("index.html").render(
            scenarios=SCENARIOS.values(),
            urls=self.urls,
            user=SANDBOX_USER,
            password=SANDBOX_PASSWORD,
            totp_secret=SANDBOX_TOTP_SECRET,
        )
        return HTMLResponse(page)

    # --- the org ---------------------------------------------------------------------------------
    def _signed_in(self, request: Request, scenario: Scenario) -> bool:
        session = self.state.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        if session is None:
            return False
        _user, interactive = session
        return interactive or not scenario.signed_out

    async def _org(self, request: Request, scenario: Scenario, timing: Timing) -> Response:
        path = request.url.path
        if path.startswith("/api/"):
            self.state.web_api_requests[request.method] += 1
            if "sec-fetch-mode" not in request.headers:
                self.state.outside_page_requests[request.method] += 1
        if request.method not in ("GET", "HEAD"):
            self.state.write_attempts.append(f"{request.method} {request.url}")
            return PlainTextResponse("The sandbox org is read-only.", status_code=405)
        if path == "/signin-oidc":
            return self._finish_signin(request, scenario)
        if path in ("/", ""):
            return RedirectResponse(self.urls.app_url(scenario, timing.name), status_code=302)
        if path == "/uclient/scripts/app.js":
            return _static("app.js")
        webresource = _webresource_name(path)
        if webresource is not None:
            return await self._webresource(scenario, webresource, request, timing)
        if not self._signed_in(request, scenario):
            if path.startswith("/api/"):
                return JSONResponse({"error": {"code": "0x80072560", "message": "Not signed in"}}, status_code=401)
            return self._redirect_to_signin(request, scenario)
        if path.lower() == "/main.aspx":
            if scenario.shell_status != 200:
                return _not_found("Service Unavailable: the org is not available right now.", scenario.shell_status)
            user, _interactive = self.state.sessions[request.cookies[SESSION_COOKIE]]
            return self._shell(request, scenario, user, timing)
        if path.startswith("/api/data/v9.2/"):
            return self._web_api(request, scenario, path.removeprefix("/api/data/v9.2/"), timing)
        return _not_found("Not found")

    def _redirect_to_signin(self, request: Request, scenario: Scenario) -> Response:
        origin = f"{request.url.scheme}://{request.url.netloc}"
        if scenario.identity_provider != "entra":
            return RedirectResponse(
                sign_in_url(scenario.identity_provider, self.urls.idp, f"{origin}{request.url.path}"), status_code=302
            )
        query = urlencode(
            {
                "client_id": "00000007-0000-0000-c000-000000000000",
                "response_type": "code",
                "redirect_uri": f"{origin}/signin-oidc",
                "state": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            }
        )
        return RedirectResponse(f"{self.urls.login}/common/oauth2/authorize?{query}", status_code=302)

    def _finish_signin(self, request: Request, scenario: Scenario) -> Response:
        user = self.state.codes.pop(request.query_params.get("code", ""), None)
        if user is None:
            return PlainTextResponse("Sign-in code is invalid or was used already.", status_code=400)
        target = request.query_params.get("state", "/")
        if not target.startswith("/") or target.startswith("//"):
            target = "/"
        response = RedirectResponse(target, status_code=302)
        token = self.state.issue_session(interactive=True, user=user)
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", path="/")
        return response

    def _shell(self, request: Request, scenario: Scenario, user: str, timing: Timing) -> Response:
        app_name = request.query_params.get("appname")
        app_id = request.query_params.get("appid")
        if app_name and app_id:
            return _not_found("Use appname or appid, not both.", status=400)
        by_id = {app_id_: name for name, (app_id_, _) in APPS.items()}
        unique_name = app_name if app_name in APPS else by_id.get((app_id or "").strip("{}").lower())
        if unique_name is None:
            return _not_found("App not found: you do not have access to this app, or it does not exist.")
        app_id_, display_name = APPS[unique_name]
        records = self._records(scenario, timing)
        detached = scenario.records.detached_provider
        bootstrap = {
            # The profile the org gives this user for this app, worked out on the server as Unified Interface does.
            "profileId": records.profile_id if unique_name == scenario.app else None,
            # What the session still holds from before a provider was detached from the profile.
            "cachedProviders": [
                row for row in records.provider_rows if detached and row["msdyn_uniquename"] == detached.unique_name
            ],
            "app": {"id": app_id_, "uniqueName": unique_name, "displayName": display_name},
            "org": {"url": self.urls.org(scenario.name, timing.name), "uniqueName": scenario.name, "id": ORG_ID},
            "user": {"id": USER_ID, "name": user},
            "cacheToken": CACHE_TOKEN,
            "busy": scenario.busy,
            "panelMarkup": scenario.panel_markup,
            "appReadyMs": scenario.app_ready_ms if self.state.app_ready_ms is None else self.state.app_ready_ms,
            "storage": {
                "prefix": scenario.storage_key_prefix,
                "format": scenario.storage_format,
                "writeProviders": scenario.write_providers_key,
            },
            "legacyScripts": ["WebResources/CRMClients/msdyn_internal_ci_library.js"] if scenario.cif1_active else [],
            # Where web resources come from: the org, or, once it went away, an address that refuses connections.
            "resourceOrigin": _with_port(self.urls.org(scenario.name, timing.name), self.urls.refused_port)
            if scenario.org_down_after_shell
            else "",
            "lazyExtensionsMs": timing.lazy_extensions_ms,
            "profileStepsMs": timing.profile_steps_ms,
        }
        page = _TEMPLATES.get_template("shell.html").render(app={"display_name": display_name}, bootstrap=bootstrap)
        return HTMLResponse(page)

    async def _webresource(self, scenario: Scenario, name: str, request: Request, timing: Timing) -> Response:
        lowered = name.lower()
        if lowered == CIF_LIBRARY.lower():
            delay_ms = scenario.library_delay_ms if self.state.library_delay_ms is None else self.state.library_delay_ms
            if delay_ms:
                await asyncio.sleep(delay_ms / 1000)
            if scenario.library_status != 200:
                return PlainTextResponse("Web resource error", status_code=scenario.library_status)
            return _static(CIF_LIBRARY)
        files = {
            "widgets_container.html": "widgets_container.html",
            "widget/msdyn_cilibrary.js": "msdyn_ciLibrary.js",
            "crmclients/msdyn_internal_ci_library.js": "msdyn_internal_ci_library.js",
        }
        if lowered in files:
            return _static(files[lowered])
        extensions = self._records(scenario, timing).store.get("msdyn_applicationextensions", [], "", "").body
        if lowered.endswith(".js") and any(
            lowered == e["msdyn_webresource_url"].lower().removeprefix("webresources/") for e in extensions["value"]
        ):
            return _static("noop_extension.js")
        return _not_found(f"Web resource not found: {name}")

    # --- the Web API -----------------------------------------------------------------------------
    def _records(self, scenario: Scenario, timing: Timing) -> Records:
        """The scenario's records, built once per timing (a timing changes the channel URLs only)."""
        key = (scenario.name, timing.name)
        if key not in self._built:
            self._built[key] = build_records(scenario, lambda p: self.urls.channel_url(scenario, p, timing.name))
        return self._built[key]

    def _web_api(self, request: Request, scenario: Scenario, path: str, timing: Timing) -> Response:
        base = f"{self.urls.org(scenario.name, timing.name)}/api/data/v9.2/"
        entity_set = re.split(r"[(/]", path, maxsplit=1)[0]
        if entity_set in scenario.web_api_refused:
            # Dataverse's answer to a missing read privilege. The marker must never reach cifcheck's evidence.
            message = f"Principal user (Id={USER_ID}) is missing prvRead privilege on {entity_set}. {REFUSAL_MARKER}"
            return JSONResponse({"error": {"code": "0x80040220", "message": message}}, status_code=403)
        if entity_set in ("msdyn_ciproviders", "msdyn_channelproviders") and scenario.records.throttled_reads:
            seen = self.state.throttled[(scenario.name, timing.name, entity_set)]
            if seen < scenario.records.throttled_reads:
                self.state.throttled[(scenario.name, timing.name, entity_set)] += 1
                message = "Number of requests exceeded the limit of 6000 over time window of 300 seconds."
                return JSONResponse(
                    {"error": {"code": "0x80072322", "message": message}},
                    status_code=429,
                    headers={"Retry-After": "1"},
                )
        if path == "WhoAmI":
            return JSONResponse(
                {
                    "@odata.context": f"{base}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
                    "BusinessUnitId": stable_id("business-unit"),
                    "UserId": USER_ID,
                    "OrganizationId": ORG_ID,
                }
            )
        answer = self._records(scenario, timing).store.get(
            path, request.query_params.multi_items(), request.headers.get("prefer", ""), base
        )
        return JSONResponse(answer.body, status_code=answer.status, headers=answer.headers)

    # --- the channel provider's widget host -------------------------------------------------------
    def _widget(self, request: Request, host: str, timing: Timing) -> Response:
        match = re.fullmatch(r"/providers/([\w-]+)/(index\.html|start)", request.url.path)
        scenario = SCENARIOS.get(request.query_params.get("scenario", ""))
        served = (*scenario.providers, scenario.records.detached_provider) if scenario else ()
        provider = next((p for p in served if p is not None and match and p.unique_name == match.group(1)), None)
        if scenario is None or provider is None or match is None:
            return _not_found("No such provider page")
        if host == "landing.localhost":
            return RedirectResponse(str(request.url.replace(hostname="widget.localhost")), status_code=302)
        if match.group(2) == "start":
            # A relative Location, as many web servers write it: the browser resolves it against this URL.
            return Response(status_code=302, headers={"Location": f"index.html?{request.url.query}"})
        if provider.widget_never_answers:
            return Response(status_code=NEVER_ANSWERS)
        if provider.widget_status != 200:
            return _not_found("Provider page not found", status=provider.widget_status)
        org_url = self.urls.org(scenario.name, timing.name)
        page = _TEMPLATES.get_template("provider.html").render(
            provider=provider,
            org_url=org_url,
            library_url=f"{org_url}/webresources/Widget/msdyn_ciLibrary.js",
            modes=_modes(provider, timing),
        )
        headers = (
            {"X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'"}
            if (provider.refuses_framing)
            else {}
        )
        return HTMLResponse(page, headers=headers)


REFUSAL_MARKER = "sandbox-refusal-detail-5d2e"


NEVER_ANSWERS = 599  # a marker, never sent: the request is held open instead


async def _until_disconnected(request: Request, limit_s: float = 120) -> None:
    """Holds a request open without answering, until the browser gives up on it (bounded, so a sandbox that stops
    never waits on it long)."""
    for _ in range(int(limit_s / 0.25)):
        if await request.is_disconnected():
            return
        await asyncio.sleep(0.25)


def _modes(provider: Provider, timing: Timing) -> list[tuple[int, int]]:
    """The setMode calls the provider makes after CIFInitDone, as (milliseconds after init, mode)."""
    if provider.mode_on_init is None:
        return []
    modes = [(0, provider.mode_on_init), *provider.later_modes]
    if timing.mode_flip_ms:
        final = modes[-1][1]
        # First the other mode, then, later, the one the provider settles on: the final state is unchanged.
        modes = [(0, 0 if final == 1 else 1), (timing.mode_flip_ms, final)]
    return modes


def _org_of(host: str) -> tuple[Scenario | None, Timing | None]:
    """`<scenario>.crm.localhost` runs the scenario's own timeline; `<scenario>.<timing>.crm.localhost` another."""
    labels = host.removesuffix(".crm.localhost").split(".")
    timing = TIMINGS.get(labels[1]) if len(labels) == 2 else TIMINGS[DEFAULT_TIMING] if len(labels) == 1 else None
    return SCENARIOS.get(labels[0]), timing


def _with_port(url: str, port: int) -> str:
    return re.sub(r":\d+$", f":{port}", url)


def _webresource_name(path: str) -> str | None:
    """The web resource a path names, with or without the cache-token prefix, matched case-insensitively."""
    match = re.fullmatch(r"(?:/%7b\d+%7d|/\{\d+\})?/webresources/(.+)", path, flags=re.IGNORECASE)
    return match.group(1) if match else None


def _static(name: str) -> Response:
    media_type = "text/html" if name.endswith(".html") else "application/javascript"
    return Response((STATIC / name).read_bytes(), media_type=media_type, headers={"Cache-Control": "no-store"})


def _not_found(message: str, status: int = 404) -> Response:
    return HTMLResponse(f"<!DOCTYPE html><title>{status}</title><h1>{html.escape(message)}</h1>", status_code=status)
