"""A hostile imitation of a Dynamics 365 org, served over HTTPS on one local port, that plants a secret in every
channel cifcheck records: URLs of the page, its redirects and every kind of request; frame src, URL and title; the
document title; console messages and page errors; session storage; cookies echoed by page script; CIF postMessage
traffic; Web API answers; Xrm's names; an error page; the errors of cifcheck's own reads; and a sign-in page that
echoes the typed password back in many encodings. Beside the secrets, values that must survive redaction.

Hosts (Chromium resolves every *.localhost name to this machine; the certificate is self-signed, so the browser
runs with --ignore-certificate-errors):
  hostile.crm.localhost   the org with the CIF setup; widget.hostile.localhost  its channel provider pages
  echo.crm.localhost      an org that sends the browser to login.echo.localhost, which echoes the password
  broken.crm.localhost    an org that shows its error page
  probe.crm.localhost     an org whose reads throw
  term.crm.localhost      an org whose page text is terminal markup and escape sequences (a separate run)
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from tests.attacks import pages
from tests.attacks.corpus import (
    PASSWORD,
    TOTP_SECRET,
    Corpus,
    Placement,
    base64_blob,
    encodings,
    signed_jwt,
    totp_forms,
    unsigned_jwt,
)

APP_UNIQUE_NAME = "msdyn_CustomerServiceWorkspace"
APP_ID = "9f1b6f4e-2c3d-4e5f-8a9b-0c1d2e3f4a5b"
USER_ID = "6b1a0c0e-7a3f-ee11-bdf4-000d3a5c1e01"
CACHE_TOKEN = "%7b637199221580014143%7d"
LIBRARY = "/WebResources/msdyn_channelintegrationframework.js?ver=123"
APP_SCRIPT = "/uclient/scripts/hostile.js?ver=1.0.0.123"
CI_LIBRARY = "/webresources/Widget/msdyn_ciLibrary.js"
CONTAINER = "/webresources/widgets_container.html"
API = "/api/data/v9.2/"


@dataclass(frozen=True)
class Provider:
    number: int
    id: str
    unique_name: str
    label: str


PROVIDERS = (
    Provider(1, "1d6c2f0a-5b4e-4c3d-9e8f-7a6b5c4d3e21", "contoso_softphone", "Contoso Softphone"),
    Provider(2, "2e7d3a1b-6c5f-4d4e-8f9a-8b7c6d5e4f32", "contoso_support_line", "Телефон поддержки"),
    Provider(3, "3f8e4b2c-7d6a-4e5f-9a0b-9c8d7e6f5a43", "contoso_service_desk", "客服电话"),
    Provider(4, "4a9f5c3d-8e7b-4f6a-8b1c-0d9e8f7a6b54", "contoso_help_line", "هاتف الدعم"),
)

# Values that must survive redaction, by what they are: each must still be in the hostile org's evidence.
SURVIVORS: dict[str, str] = {
    "app id (GUID)": APP_ID,
    "user id (GUID, WhoAmI)": USER_ID,
    **{f"provider id (GUID) {p.number}": p.id for p in PROVIDERS},
    **{f"provider unique name {p.number}": p.unique_name for p in PROVIDERS},
    "provider label (Latin)": PROVIDERS[0].label,
    "provider label (Cyrillic)": PROVIDERS[1].label,
    "provider label (CJK)": PROVIDERS[2].label,
    "provider label (Arabic)": PROVIDERS[3].label,
    "CIF library web resource URL": LIBRARY,
    "cache-token path segment": CACHE_TOKEN,
    "script cache token ?ver=1.0.0.123": "hostile.js?ver=1.0.0.123",
    "appname value": f"appname={APP_UNIQUE_NAME}",
    "appid value": f"appid={APP_ID}",
    "pagetype value": "pagetype=entitylist",
    "etn value": "etn=incident",
    "ucilib parameter": "ucilib=https",
    "loader's web resource in storage": "WebResources/msdyn_channelintegrationframework.js?ver=123",
}

TERMINAL_TEXT = (
    "[/] [/link] [link=file:///etc/passwd]x[/link] [bold red on white]markup[/] "
    "\x1b[2J\x1b[H \x1b]0;title\x07 \x1b]8;;file:///etc/passwd\x1b\\link\x1b]8;;\x1b\\ "
    "\x9b31mC1 \x85 \x90dcs\x9c \u202eRLO\u202c \u2066LRI\u2069 \x07\x08\r\x0b\x7f"
)


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: str = ""
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


def _js(body: str) -> Answer:
    return Answer(body=body, content_type="application/javascript")


def _redirect(location: str, status: int = 302) -> Answer:
    return Answer(status=status, headers=(("Location", location),))


class HostileWorld:
    """Every page of every hostile host, built once for `port`; `answer` serves them."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.corpus = Corpus()
        self.typed_passwords: list[str] = []
        self.org = self.origin("hostile.crm.localhost")
        self.widget = self.origin("widget.hostile.localhost")
        self._routes: dict[tuple[str, str], Answer] = {}
        self._resources = 0
        self._first_redirect = ""  # where the hostile org sends the app URL first
        self._build_hostile_org()
        self._build_sign_in_echo()
        self._build_broken_org()
        self._build_probe_org()
        self._build_terminal_org()

    def origin(self, host: str) -> str:
        return f"https://{host}:{self.port}"

    @property
    def targets(self) -> dict[str, str]:
        """Target name -> org URL."""
        names = ("hostile", "echo", "broken", "probe", "term")
        return {name: self.origin(f"{name}.crm.localhost") for name in names}

    # --- serving ---------------------------------------------------------------------------------
    def answer(self, method: str, host: str, path: str, query: str, form: dict[str, str]) -> Answer:
        """The answer to one request. The app URL redirects once (to a URL with a code), then serves the app."""
        if host == "login.echo.localhost":
            return self._sign_in(method, path, form)
        if path == "/main.aspx" and host == "hostile.crm.localhost" and "code=" not in query:
            return _redirect(self._first_redirect)
        if path.startswith("/r/"):
            return self._routes.get((host, path), _js("/* ok */"))
        return self._routes.get((host, path.lower()), Answer(status=404, body="<title>404</title>Not found"))

    def _route(self, host: str, path: str, answer: Answer) -> None:
        self._routes[(host, path.lower())] = answer

    def _resource(self, name: str) -> str:
        """A fresh path on the org for one request, so each placement has its own URL."""
        self._resources += 1
        return f"{self.org}/r/{self._resources}/{name}"

    # --- the org with the CIF setup ----------------------------------------------------------------
    def _build_hostile_org(self) -> None:
        put = self.corpus.put
        host = "hostile.crm.localhost"
        main = f"{self.org}/main.aspx?appname={APP_UNIQUE_NAME}&pagetype=entitylist&etn=incident"
        # The org's own redirect of the app URL (a sign-in callback that lands with its code), then the URL the app
        # rewrites itself to.
        self._first_redirect = (
            f"{main}&{put('top URL: redirect Location', 'code={S}')}"
            f"&{put('top URL: redirect Location', 'session_state={S}')}"
            f"#{put('top URL: redirect Location (fragment)', 'access_token={S}&token_type=Bearer')}"
        )
        top = "top URL: after history.replaceState"
        final_url = (
            f"{self.org}/main.aspx?appid={APP_ID}&pagetype=entitylist&etn=incident&"
            + "&".join(
                [
                    put(top, "sig={S}"),
                    put(top, "next=https://app.contoso.example/cb?client_secret={S}"),
                    put(top, "ReturnUrl=https%3A%2F%2Fapp.contoso.example%2Fcb%3Faccess_token%3D{S}"),
                    put(top, "state=x&password={S}"),
                    put(top, "id_token={S}", unsigned_jwt),
                ]
            )
            + "#"
            + put(top + " (JSON fragment)", '{"token":"{S}"}')
        )
        cookies = {
            "ASP.NET_SessionId": put("cookie (set by the org, echoed into the console)", "{S}"),
            "JSESSIONID": put("cookie (set by the org, echoed into the title)", "{S}"),
            "ARRAffinity": put("cookie (set by the org, echoed into session storage)", "{S}"),
            "orgsession": put("cookie value (set by the org, echoed alone into the console)", "{S}"),
        }
        session = put("HttpOnly cookie (never visible to the page)", "{S}")
        set_cookies = (
            *(("Set-Cookie", f"{name}={value}; Path=/; Secure; SameSite=None") for name, value in cookies.items()),
            ("Set-Cookie", f"CrmOwinAuth={session}; Path=/; Secure; SameSite=None; HttpOnly"),
        )
        storage = self._storage()  # before the frames: the host frames the channel URLs storage holds
        boot = {
            "appScript": APP_SCRIPT,
            "library": f"{self.org}/{CACHE_TOKEN}{LIBRARY}",
            "url": final_url,
            "title": " | ".join(
                [
                    "Dashboards",
                    put("document title", "password: {S}"),
                    put("document title", "x-api-key: {S}"),
                    "{cookie:JSESSIONID}",
                ]
            ),
            "app": self._xrm(),
            "storage": storage,
            **self._requests(),
            "console": self._console(),
            "errors": self._page_errors(),
            "panelUrl": f"{self.org}{CONTAINER}?"
            + put("panel frame URL (widgets_container.html)", "uclient_token={S}"),
            "providers": self._provider_frames(),
            "answers": self._answers(),
        }
        self._serve_app(host, boot, set_cookies)
        self._web_api(host)

    def _serve_app(self, host: str, boot: dict, headers: tuple[tuple[str, str], ...] = ()) -> None:
        """The app shell `boot` describes on `host`, with its scripts, the CIF libraries and the widget container."""
        self._route(host, "/main.aspx", Answer(body=pages.app_shell(boot), headers=headers))
        self._route(host, APP_SCRIPT.split("?")[0], _js(pages.APP_JS))
        self._route(host, f"/{CACHE_TOKEN}{LIBRARY.split('?')[0]}", _js(pages.LIBRARY_JS))
        self._route(host, CONTAINER, Answer(body=pages.CONTAINER_HTML))
        self._route(host, CI_LIBRARY, _js(pages.CI_LIBRARY_JS))

    def _xrm(self) -> dict:
        put = self.corpus.put
        return {
            "appId": APP_ID,
            "uniqueName": APP_UNIQUE_NAME,
            "displayName": put("Xrm: app display name", "Customer Service workspace [api_key={S}]"),
            "userName": put("Xrm: user name", "alex.wu@contoso.example password={S}"),
            "userId": USER_ID,
            "clientUrl": put("Xrm: client URL", "https://svc:{S}@hostile.crm.localhost") + f":{self.port}",
        }

    def _channel_url(self, provider: Provider, page: str, secret: str) -> str:
        ucilib = f"{self.org}{CI_LIBRARY}"
        return f"{self.widget}/providers/{provider.number}/{page}?ucilib={ucilib}&{secret}"

    def _storage(self) -> dict[str, str]:
        put = self.corpus.put
        where = "session storage channelProviders"
        p1, p2, p3, p4 = PROVIDERS
        providers = [
            {
                "id": p1.id,
                "uniqueName": p1.unique_name,
                "label": p1.label,
                "channelUrl": self._channel_url(p1, "index.html", put(where + ": channel URL", "access_token={S}")),
                "customParams": put(where + ": customParams (JSON text)", '{"token":"{S}","region":"eu"}'),
                "trustedDomain": self.widget,
                "sortOrder": "1",
            },
            {
                "id": p2.id,
                "uniqueName": p2.unique_name,
                "label": p2.label,
                "channelUrl": self._channel_url(
                    p2, "start", put(where + ": channel URL", "next=https%3A%2F%2Fidp.example%2F%3Fclient_secret%3D{S}")
                ),
                "customParams": put(where + ": customParams (query text)", "apikey={S}&region=eu"),
                "clientSecretValue": put(where + ": field clientSecretValue", "{S}"),
                "sortOrder": "2",
            },
            {
                "id": p3.id,
                "uniqueName": p3.unique_name,
                "label": p3.label,
                "channelUrl": self._channel_url(p3, "index.html", "lang=zh")
                + "#"
                + put(where + ": channel URL fragment", "id_token={S}"),
                "customParams": put(
                    where + ": customParams (JSON in JSON text)", '{"config": "{\\"password\\": \\"{S}\\"}"}'
                ),
                "x" * 85 + "Token": put(where + ": field named over 80 characters", "{S}"),
                "sortOrder": "3",
            },
            {
                "id": p4.id,
                "uniqueName": p4.unique_name,
                "label": p4.label,
                "channelUrl": self._channel_url(
                    p4, "index.html", put(where + ": channel URL", "sv=2022-11-02&sr=b&sig={S}")
                ),
                "trustedDomain": put(
                    where + ": trustedDomain with credentials", "https://svc:{S}@widget.hostile.localhost"
                ),
                "affinity": "{cookie-value:ARRAffinity}",
                "tokens": put(where + ": field tokens", "{S}"),
                "token_value": put(where + ": field token_value", "{S}"),
                "notes": put(where + ": free text", "callback with Authorization: Token {S}"),
                "sortOrder": "4",
            },
        ]
        extensions = [
            {
                "name": "Channel Integration Framework v2 loader",
                "uniqueName": "msdyn_CIFV2Loader",
                "webResourceUrl": "WebResources/msdyn_channelintegrationframework.js?ver=123",
                "type": "script",
            },
            {
                "name": "Telemetry",
                "uniqueName": "contoso_telemetry",
                "webResourceUrl": put(
                    "session storage applicationExtensions: URL", "WebResources/telemetry.js?sig={S}"
                ),
                "type": "script",
                "settings": put("session storage applicationExtensions: settings", "{'client_secret': '{S}'}"),
            },
        ]
        self._channel_urls = [provider["channelUrl"] for provider in providers]
        return {
            "channelProviders": _json(providers),
            "applicationExtensions": _json(extensions),
            "msal.idtoken": put("session storage: value of a non-CIF key (never read)", "{S}", signed_jwt),
            put("session storage: a non-CIF key's name", "oidc.user:{S}"): "1",
        }

    def _requests(self) -> dict[str, list[str]]:
        """Requests of every kind, each with one secret in its URL."""
        put = self.corpus.put
        script = "script URL"
        scripts = [
            self._resource("a.js?") + put(script, "access_token={S}"),
            self._resource("b.js?")
            + put(script, "next=https%253A%252F%252Fapp.example%252Fcb%253Faccess_token%253D{S}"),
            self._resource("c.js?") + put(script, "sas=sv%3D2022-11-02%26sr%3Db%26sig%3D{S}"),
            self._resource("d.js?v=1&") + put(script, "user%5Bpassword%5D={S}"),
            self._resource("e.js?") + put(script, "Authorization=Bearer%20{S}"),
            self._resource("f.js?")
            + put(script, "SAMLResponse={S}", base64_blob("<samlp:Response>{S}</samlp:Response>")),
            self._logging_script(put("script URL (console source of its message)", "token={S}")),
            self._redirected("g.js", put("script redirect Location", "client_secret={S}")),
        ]
        fetch = "fetch URL"
        fetches = [
            self._resource("api?") + put(fetch, "SAMLResponse={S}"),
            self._resource(
                "api?client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&"
            )
            + put(fetch, "client_assertion={S}", signed_jwt),
            self._resource("api?") + put(fetch, "otp={S}"),
            self._resource("api?") + put(fetch, "pin={S}"),
            self._resource("api?") + put(fetch, "tokens={S}"),
            self._resource("api?") + put(fetch, "token_value={S}"),
            self._resource("api?") + put(fetch, "x-api-key={S}"),
            self._resource("api?") + put(fetch, "redirect_uri=https%3A%2F%2Fsvc%3A{S}%40app.contoso.example%2F"),
            self._resource("api?") + put(fetch, "user[password]={S}"),
            self._redirected("api", put("fetch redirect Location", "refresh_token={S}")),
        ]
        xhr = "XHR URL"
        xhrs = [
            self._resource("xhr?") + put(xhr, "apiKey={S}"),
            self._resource("xhr?") + put(xhr, "ctx={S}", base64_blob("client_secret={S}")),
            self._resource("xhr?") + put(xhr, "jwt={S}", unsigned_jwt),
        ]
        frame = "iframe URL"
        frames = [
            self._resource("frame.html?") + put(frame, "id_token={S}") + "#state=x",
            self._resource("frame.html?") + put(frame, "private_key_pem={S}"),
        ]
        images = [self._resource("pixel.gif?") + put("image URL", "sessionid={S}")]
        return {"scripts": scripts, "fetches": fetches, "xhrs": xhrs, "frames": frames, "images": images}

    def _logging_script(self, query: str) -> str:
        """A script on the org that logs an error: the console names the script's URL, with `query`, as its source."""
        url = self._resource(f"log.js?{query}")
        self._routes[("hostile.crm.localhost", urlsplit(url).path)] = _js(pages.LOGGING_JS)
        return url

    def _redirected(self, name: str, query: str) -> str:
        """A URL on the org that redirects to another carrying `query`."""
        source = self._resource(name)
        target = self._resource(f"{name}?{query}")
        self._routes[("hostile.crm.localhost", urlsplit(source).path)] = _redirect(target)
        return source

    def _console(self) -> list[list[str]]:
        put = self.corpus.put
        where = "console"
        forms = [
            'token="{S}"',
            "{'client_secret': '{S}'}",
            '{"\\u0074oken": "{S}"}',
            '"' + "a" * 81 + '_token": "{S}"',
            "a" * 81 + "_secret={S}",
            "tokens={S}",
            "token_value={S}",
            '"private_key_pem": "-----BEGIN PRIVATE KEY-----\\n{S}\\n-----END PRIVATE KEY-----"',
            "private_key_pem=-----BEGIN PRIVATE KEY-----{S}",
            "user[password]={S}",
            "POST body user%5Bpassword%5D={S}",
            "Authorization=Bearer%20{S}",
            "Authorization: Token {S}",
            "sas={S}",
            "blob?sv=2022-11-02&sr=b&sig={S}",
            "otp: {S}",
            "pin={S}",
            "SAMLResponse={S}",
            "client_assertion={S}",
            'password="{S}"',
            "{token: '{S}'}",
            "client_secret%3D{S}",
            "access_token%253D{S}",
            "https://svc:{S}@api.contoso.example/",
            "Cookie: .AspNet.Cookies={S}",
            "x-api-key: {S}",
        ]
        lines = [["error", "CIF " + put(where, form)] for form in forms]
        lines += [
            ["error", "CIF unsigned token " + put(where + " (unsigned JWT)", "{S}", unsigned_jwt)],
            ["error", "CIF signed token " + put(where + " (signed JWT)", "{S}", signed_jwt)],
            [
                "error",
                "CIF state blob " + put(where + " (base64 of a secret)", "{S}", base64_blob('{"refresh_token":"{S}"}')),
            ],
            ["warn", "CIF " + put("console.warn", "refresh_token={S}")],
            ["trace", "CIF " + put("console.trace", "api_key={S}")],
            ["assert", "CIF " + put("console.assert", "secret={S}")],
            ["error", "CIF session cookie {cookie:ASP.NET_SessionId}"],
            ["error", "CIF affinity {cookie-value:orgsession}"],
        ]
        for encoding, written in totp_forms(TOTP_SECRET).items():
            echoed = self.corpus.known("console (the org echoes a known secret)", "TOTP secret", encoding, written)
            lines.append(["error", f"CIF authenticator set-up key: {echoed}"])
        return lines

    def _page_errors(self) -> list[str]:
        put = self.corpus.put
        forms = ["CIF client_secret={S}", 'CIF {"password": "{S}"}', "CIF Bearer {S}", "CIF otp={S}", "CIF sig: {S}"]
        return [put("page error", form) for form in forms]

    def _provider_frames(self) -> list[dict]:
        """The provider iframes the host draws: src, title, and what each provider page does."""
        put = self.corpus.put
        p1, p2, p3, p4 = PROVIDERS
        # The host frames each provider's channel URL as session storage has it.
        frames = [
            {"id": provider.id, "title": provider.label, "src": url}
            for provider, url in zip(PROVIDERS, self._channel_urls, strict=True)
        ]
        frames[2]["title"] = put("widget frame title", p3.label + " password: {S}")
        frames[3]["title"] = put("widget frame title", p4.label + " x-api-key: {S}")
        frames[0]["src"] += "#/callback?" + put("widget frame src (hash route added by the host)", "code={S}")
        frames[3]["src"] += "&" + put("widget frame src (added by the host)", "hostsession={S}")
        self._provider_page(
            p1,
            append="&"
            + put("widget frame URL (history.replaceState)", "session_token={S}")
            + "#"
            + put("widget frame URL fragment", "access_token={S}"),
            init_detail=["hostile.crm.localhost", put("CIFInitDone detail", "https://hostile.crm.localhost/?sig={S}")],
            messages=[{"messageType": "setmode", "messageData": {"value": 1}, "messageCorrelationId": "cif-1"}],
        )
        self._provider_page(
            p2,
            init_detail=[put("CIFInitDone detail", "otp={S}")],
            messages=[
                {
                    "messageType": "setmode",
                    "messageData": {"value": put("CIF message to the host: setmode value", "Bearer {S}")},
                    "messageCorrelationId": "cif-2",
                }
            ],
        )
        # The provider behind a redirect: its start page sends the browser on, with a secret, relatively.
        self._route(
            "widget.hostile.localhost",
            "/providers/2/start",
            _redirect("index.html?" + put("widget redirect Location (relative)", "code={S}")),
        )
        self._provider_page(
            p3,
            messages=[
                {
                    "messageType": "getenvironment",
                    "messageData": put("CIF message to the host: messageData text", "access_token={S}"),
                    "messageCorrelationId": "cif-3",
                }
            ],
            console=["CIF widget " + put("widget console", "Authorization: Bearer {S}")],
        )
        self._provider_page(
            p4,
            messages=[
                {
                    "messageType": put("CIF message to the host: messageType", "log token={S}"),
                    "messageData": None,
                    "messageCorrelationId": put("CIF message to the host: correlation id", "otp={S}"),
                }
            ],
            console=["CIF widget " + put("widget console", '{"refresh_token": "{S}"}')],
        )
        return frames

    def _answers(self) -> dict[str, dict]:
        """The host's answers to the widgets' messages, by correlation id: failure texts with secrets in them."""
        put = self.corpus.put
        return {
            "cif-2": {
                "outcome": "failure",
                "data": put(
                    "CIF answer to a widget: failure text",
                    "Sender domain is not a recognised or is invalid and hence the message cant be processed token={S}",
                ),
            },
            "cif-3": {
                "outcome": "failure",
                "data": put("CIF answer to a widget: failure text", "{'client_secret': '{S}'}"),
            },
            "cif-1": {"outcome": "success", "data": {"value": put("CIF answer to a widget: value", "pin={S}")}},
        }

    def _provider_page(
        self,
        provider: Provider,
        append: str = "",
        init_detail: list[str] | None = None,
        messages: list[dict] | None = None,
        console: list[str] | None = None,
    ) -> None:
        boot = {
            "append": append,
            "initDetail": init_detail or ["hostile.crm.localhost"],
            "messages": messages or [],
            "console": console or [],
        }
        page = pages.provider_page(boot, f"{self.org}{CI_LIBRARY}")
        self._route("widget.hostile.localhost", f"/providers/{provider.number}/index.html", Answer(body=page))

    def _web_api(self, host: str) -> None:
        put = self.corpus.put
        who = {"@odata.context": "x", "UserId": USER_ID, "BusinessUnitId": PROVIDERS[0].id}
        self._route(host, API + "WhoAmI", Answer(body=_json(who), content_type="application/json"))
        not_json = put("Web API: a body that is not JSON (its first characters)", "{S} is not a valid session")
        self._route(host, API + "msdyn_ciproviders", Answer(body=not_json, content_type="application/json"))
        records = [
            {
                "msdyn_name": p.label,
                "msdyn_uniquename": p.unique_name,
                "msdyn_label": p.label,
                "msdyn_channelurl": f"{self.widget}/providers/{p.number}/index.html",
                "msdyn_apiversion": 162450000,
                "msdyn_trusteddomain": "",
                "statecode": 0,
            }
            for p in PROVIDERS
        ]
        records[0]["msdyn_name"] = put("Web API: provider name", "Contoso Softphone token={S}")
        records[1]["msdyn_channelurl"] += "?" + put("Web API: channel URL", "client_secret={S}")
        records[2]["msdyn_trusteddomain"] = put("Web API: trusted domain", "https://svc:{S}@widget.hostile.localhost")
        records[3]["msdyn_customparams"] = put("Web API: a field cifcheck does not keep", '{"token":"{S}"}')
        body = _json({"@odata.context": "x", "value": records})
        self._route(host, API + "msdyn_channelproviders", Answer(body=body, content_type="application/json"))

    # --- the sign-in page that echoes the password --------------------------------------------------
    def _build_sign_in_echo(self) -> None:
        login = self.origin("login.echo.localhost")
        authorize = (
            f"{login}/common/oauth2/authorize?client_id=00000007-0000-0000-c000-000000000000&response_type=code"
            f"&redirect_uri={quote(self.targets['echo'], safe='')}%2Fsignin-oidc"
        )
        self._route("echo.crm.localhost", "/main.aspx", _redirect(authorize))
        where = "sign-in echo (error text, title, URL, console)"
        for encoding, written in encodings(PASSWORD).items():
            self.corpus.known(where, "password", encoding, written)
        # A redaction that stops at the first space, quote or ampersand leaves the rest of the password behind.
        fragments = ("Wq7Kx9", "Tp4Ln", "WQ7KX9", "TP4LN")
        self.corpus.placements.append(Placement("password (a fragment of it)", where, "Wq7Kx9, Tp4Ln", fragments))

    def _sign_in(self, method: str, path: str, form: dict[str, str]) -> Answer:
        if path == "/common/oauth2/authorize":
            return Answer(body=pages.sign_in_page("account"))
        if path == "/common/login" and method == "POST" and "passwd" in form:
            typed = form["passwd"]
            self.typed_passwords.append(typed)
            echoed = encodings(typed)
            # Each encoding where the browser keeps it as it is: ' stays in a path, and in a fragment.
            location = (
                f"/common/reprocess/{echoed['encodeURIComponent']}?hint={echoed['form-encoded']}"
                f"&ctx={echoed['base64url']}&b64={quote(echoed['base64'], safe='')}"
                f"&twice={echoed['percent-encoded twice']}#{echoed['encodeURI']}"
            )
            return _redirect(location, status=303)
        if path == "/common/login" and method == "POST":
            return Answer(body=pages.sign_in_page("password"))
        if path.startswith("/common/reprocess/") and self.typed_passwords:
            echoed = encodings(self.typed_passwords[-1])
            shown = " | ".join(echoed.values())
            title = " | ".join(
                echoed[name] for name in ("raw", "JSON-escaped", "HTML-escaped", "upper-cased", "spaced out")
            )
            page = pages.sign_in_page(
                "password",
                error=f"Your account or password is incorrect. You typed: {shown}",
                title=f"Enter password - {title}",
                console=(f"AADSTS50126: invalid password {shown}",),
            )
            return Answer(body=page)
        return Answer(status=404, body="<title>404</title>")

    # --- an org that shows its error page ----------------------------------------------------------
    def _build_broken_org(self) -> None:
        put = self.corpus.put
        error_url = (
            "/errorhandler.aspx?BackUri="
            + put("error page URL (nested, encoded)", "%2Fmain.aspx%3Faccess_token%3D{S}")
            + "&ErrorCode=0x80040220&"
            + put("error page URL", "code={S}")
        )
        self._route("broken.crm.localhost", "/main.aspx", _redirect(error_url))
        page = pages.error_page(
            title=put("error page title", "Error - Authorization: Bearer {S}"),
            console=put("error page console", "CIF failed: client_secret={S}"),
        )
        self._route("broken.crm.localhost", "/errorhandler.aspx", Answer(body=page))

    # --- an org whose reads throw, with secrets in the errors ----------------------------------------
    def _build_probe_org(self) -> None:
        put = self.corpus.put
        where = "error of cifcheck's read of the page"
        boot = {
            "panel": put(where + " (Xrm.Panel)", "Authorization: Token {S}"),
            "app": put(where + " (getClientUrl)", "client_secret={S}"),
            "storage": put(where + " (session storage)", "{'password': '{S}'}"),
            "dataverse": put(where + " (Web API)", "token={S}"),
        }
        self._route("probe.crm.localhost", "/main.aspx", Answer(body=pages.throwing_shell(boot)))

    # --- an org whose page text is terminal markup ---------------------------------------------------
    def _build_terminal_org(self) -> None:
        host = "term.crm.localhost"
        org = self.origin(host)
        provider = {
            "id": "5b0a6d4e-9f8c-4a7b-8c2d-1e0f9a8b7c65",
            "uniqueName": "term_provider",
            "label": f"Phone {TERMINAL_TEXT}",
            "channelUrl": f"{self.widget}/providers/term/index.html",
        }
        extensions = [
            {"uniqueName": "msdyn_CIFV2Loader", "webResourceUrl": "WebResources/msdyn_channelintegrationframework.js"}
        ]
        boot = {
            "appScript": APP_SCRIPT,
            "library": f"{org}/{CACHE_TOKEN}{LIBRARY}",
            "url": "",
            "title": f"Dashboards {TERMINAL_TEXT}",
            "app": {
                "appId": APP_ID,
                "uniqueName": APP_UNIQUE_NAME,
                "displayName": f"Workspace {TERMINAL_TEXT}",
                "userName": f"alex {TERMINAL_TEXT}",
                "userId": USER_ID,
                "clientUrl": org,
            },
            "storage": {"channelProviders": _json([provider]), "applicationExtensions": _json(extensions)},
            "scripts": [],
            "fetches": [],
            "xhrs": [],
            "frames": [],
            "images": [],
            "console": [["error", f"CIF {TERMINAL_TEXT}"], ["error", f"CIF second {TERMINAL_TEXT}"]],
            "errors": [f"CIF {TERMINAL_TEXT}"],
            "panelUrl": f"{org}{CONTAINER}",
            "providers": [{"id": provider["id"], "title": provider["label"], "src": provider["channelUrl"]}],
            "answers": {},
        }
        self._serve_app(host, boot)
        # A provider page that never loads msdyn_ciLibrary.js: widget.loaded fails, naming the frame's title.
        empty = {"append": "", "initDetail": [], "messages": [], "console": [f"CIF {TERMINAL_TEXT}"]}
        self._route(
            "widget.hostile.localhost", "/providers/term/index.html", Answer(body=pages.provider_page(empty, None))
        )


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


class _Handler(BaseHTTPRequestHandler):
    server: _TlsServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._serve({})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        self._serve({name: values[0] for name, values in parse_qs(body, keep_blank_values=True).items()})

    def _serve(self, form: dict[str, str]) -> None:
        parts = urlsplit(self.path)
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
        if parts.path == "/favicon.ico":
            answer = Answer(status=204)
        else:
            answer = self.server.world.answer(self.command, host, parts.path, parts.query, form)
        body = answer.body.encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in answer.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _TlsServer(ThreadingHTTPServer):
    """HTTPS on 127.0.0.1; each connection's TLS handshake runs in its own thread, never in the accept loop."""

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.context = context
        self.world = HostileWorld(self.server_address[1])

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the browser left a page while it was being answered: nothing to report

    def finish_request(self, request: socket.socket, client_address: object) -> None:
        request.settimeout(10)
        try:
            secured = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        self.RequestHandlerClass(secured, client_address, self)


def tls_context(folder: Path) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate (made by openssl, in `folder`)."""
    key, certificate = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"),
            *("-subj", "/CN=localhost", "-days", "2", "-keyout", str(key), "-out", str(certificate)),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    return context


@contextlib.contextmanager
def serving(folder: Path) -> Iterator[HostileWorld]:
    """The hostile world served over HTTPS until the block ends."""
    server = _TlsServer(tls_context(folder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.world
    finally:
        server.shutdown()
        server.server_close()
