"""The user's configuration, `playwright.config.json`, as pydantic models.

Every selector and storage-key name the validator relies on lives here with a default and can be
overridden, because cif-facts.md marks today's DOM and storage shapes UNKNOWN and release waves rename things.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import ipaddress
import json
import os
import re
import shlex
import stat
import uuid
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import parse_qs, quote, unquote, urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from cifcheck.config_messages import capped, did_you_mean, problems

SANDBOX_SCHEME = "sandbox://"
DEFAULT_CONFIG = "playwright.config.json"

PanelMode = Literal["docked", "minimized", "hidden", "collapsed"]
TARGET_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
# The longest wait a setting may ask for: one day. Playwright hands timeouts to Node's setTimeout, which fires at once
# for anything above 2**31 - 1 ms (about 24.8 days), so a longer one would end a wait before it began.
MAX_WAIT_MS = 86_400_000
# The widest and tallest viewport: Chromium refuses above 10,000,000 px, and a screenshot of even a fraction of that
# cannot be taken; 10,000 px is wider than an 8K screen.
MAX_VIEWPORT = 10_000
MAX_WORKERS = 64
MAX_ENDPOINTS = 64


class ConfigError(Exception):
    """Bad input: one line per problem, each naming the file and the field, exit code 2."""

    def __init__(self, *lines: str) -> None:
        # Kept apart, not split again later: a line may quote a file name that holds a line break itself.
        self.lines = tuple(capped(list(dict.fromkeys(lines))))
        super().__init__("\n".join(self.lines))


_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
ORG_ROOT_EXAMPLE = "https://contoso.crm.dynamics.com"


def check_url(url: str, schemes: tuple[str, ...], *, org_root: bool) -> str:
    """`url` when a browser can open it: one of `schemes`, a host name or IP address (IPv6 in brackets), a port
    from 1 to 65535, no user name or password (not even percent-encoded); with `org_root`, no path, query or
    fragment either. Otherwise ValueError, one line: checked when the config is read, not after a browser started."""
    if not url or any(character.isspace() for character in url):
        raise ValueError("must be a URL without spaces")
    try:
        parts = urlsplit(url)
    except ValueError as error:  # an IPv6 address without its closing bracket
        raise ValueError(f"not a valid URL: {error}") from None
    if parts.scheme not in schemes or not url.lower().startswith(f"{parts.scheme}://"):
        *others, last = [f"{scheme}://" for scheme in schemes]
        raise ValueError(f"must start with {', '.join(others)} or {last}")
    if "@" in unquote(parts.netloc):
        why = "; cifcheck signs in through the browser" if org_root else ""
        raise ValueError(f"must not contain a user name or password{why}")
    try:
        port = parts.port
    except ValueError:  # not a number, or above 65535
        port = 0
    if port == 0:
        raise ValueError(f"port {parts.netloc.rpartition(':')[2]!r} is not a number from 1 to 65535")
    host = parts.hostname or ""
    if parts.netloc.startswith("["):
        try:
            address = ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{host!r} is not an IPv6 address") from None
        if address.scope_id:  # Chromium cannot open a URL with a zone id
            raise ValueError(f"{host!r}: an IPv6 address with a zone id cannot be opened in a browser")
    elif not all(_HOST_LABEL.fullmatch(label) for label in host.split(".")):
        raise ValueError(f"{host!r} is not a host name" if host else "has no host name")
    elif re.fullmatch(r"[0-9.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:  # 1.2.3.4.5: all digits, so neither a host name nor an address
            raise ValueError(f"{host!r} is not an IPv4 address") from None
    if org_root and (parts.query or parts.fragment or "?" in url or "#" in url):
        raise ValueError(f"must be an org root URL without a query or fragment, like {ORG_ROOT_EXAMPLE}")
    if org_root and parts.path not in ("", "/"):
        raise ValueError(f"must be an org root URL like {ORG_ROOT_EXAMPLE}, without a path ({parts.path})")
    return url


def _comment_property(schema: dict) -> None:
    schema.setdefault("properties", {})["$comment"] = {
        "description": "A note for people reading the file; cifcheck ignores it.",
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
    }


def _app_in_query(query: str) -> str | None:
    """The app an address-bar URL opens: its `appid` (a GUID) or else its `appname`."""
    parameters = parse_qs(query)
    for app_id in parameters.get("appid", []):
        with contextlib.suppress(ValueError):
            return str(uuid.UUID(app_id.strip("{}")))
    return next((name for name in parameters.get("appname", []) if name), None)


def org_root(url: str) -> tuple[str, str | None] | None:
    """For a URL copied from the address bar (`https://contoso.crm.dynamics.com/main.aspx?appid=…#…`): the org root
    and the app its query opens, if any. None when `url` is an org root already, or not a URL a browser can open
    (the url check then says why)."""
    try:
        check_url(url, ("http", "https"), org_root=False)
    except ValueError:
        return None
    parts = urlsplit(url)
    if parts.path in ("", "/") and not (parts.query or parts.fragment or "?" in url or "#" in url):
        return None
    return f"{parts.scheme}://{parts.netloc}", _app_in_query(parts.query)


def trimmed_note(where: str, root: str, app: str | None, app_field: str = "app") -> str:
    """The note telling that `where` was trimmed to `root` (and, when it named one, that its app is used)."""
    used = f"; the app {app} it opened is used (set {app_field} to choose another)" if app else ""
    return f"{where}: trimmed to the org root {root} (cifcheck opens the app itself){used}"


class _Strict(BaseModel):
    """Unknown fields are refused (a typo must not be ignored), except `$comment`: JSON has no comments, so notes
    for people go in `$comment` fields (the JSON Schema keyword for them), which keeps the file plain JSON that
    every tool reads, and editors check it against the schema."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra=_comment_property)

    @model_validator(mode="before")
    @classmethod
    def _drop_comments(cls, data: object) -> object:
        if isinstance(data, dict) and "$comment" in data:
            comment = data["$comment"]
            texts = comment if isinstance(comment, list) else [comment]
            if not all(isinstance(text, str) for text in texts):
                raise ValueError("$comment: must be text or a list of texts")
            return {key: value for key, value in data.items() if key != "$comment"}
        return data


class Expectations(_Strict):
    """What a target must show beyond the defaults; tightens the checks for this target."""

    providers: list[str] = Field(
        default_factory=list, description="Provider unique names or labels that must be configured."
    )
    channel_urls: list[str] = Field(
        default_factory=list, description="Channel URL prefixes the providers must use (case-insensitive)."
    )
    panel_mode: PanelMode = Field("docked", description="The panel mode the migration must end in.")
    min_panel_width: int = Field(300, ge=0, description="Smallest panel width (CSS px) that counts as docked.")
    min_panel_height: int = Field(200, ge=0, description="Smallest panel height (CSS px) that counts as docked.")


class Credentials(_Strict):
    """Where unattended sign-in finds its secrets: environment variables or a file, never this config file."""

    username_env: str = Field("CIFCHECK_USERNAME", description="Environment variable holding the account name.")
    password_env: str = Field("CIFCHECK_PASSWORD", description="Environment variable holding the password.")
    totp_secret_env: str = Field(
        "CIFCHECK_TOTP_SECRET", description="Environment variable holding the authenticator (TOTP) secret, if any."
    )
    file: str | None = Field(
        None, description="JSON file {username, password, totp_secret} readable by its owner only (mode 0600)."
    )


class Target(_Strict):
    """One org and app to validate."""

    name: Annotated[str, Field(pattern=TARGET_NAME, max_length=80)]
    url: str = Field(
        description="Org URL (https://contoso.crm.dynamics.com), or sandbox://<scenario> for the bundled sandbox org."
    )
    app: str = Field(
        "msdyn_CustomerServiceWorkspace", description="App unique name (appname) or app id (appid, a GUID)."
    )
    checks: list[str] | None = Field(None, min_length=1, description="Check ids to run; all when absent.")
    expect: Expectations = Field(default_factory=Expectations)
    storage_state: str | None = Field(None, description="Playwright storage state for this target's identity.")
    credentials: Credentials | None = Field(None, description="This target's identity for unattended sign-in.")

    @field_validator("url")
    @classmethod
    def _url_is_http_or_sandbox(cls, url: str) -> str:
        scheme, separator, rest = url.partition("://")
        if separator and scheme.lower() in ("http", "https"):  # HTTPS://… opens in a browser as https://…
            url = f"{scheme.lower()}://{rest}"
        if url.startswith(SANDBOX_SCHEME):
            if not re.fullmatch(r"sandbox://[a-z0-9-]+/?", url):
                raise ValueError("must be sandbox://<scenario>, a scenario name of lower-case letters, digits, hyphens")
        elif not url.startswith(("http://", "https://")):
            raise ValueError(f"must be an org root URL like {ORG_ROOT_EXAMPLE} or sandbox://<scenario>")
        else:
            check_url(url, ("http", "https"), org_root=True)
        return url.rstrip("/")

    @property
    def is_sandbox(self) -> bool:
        return self.url.startswith(SANDBOX_SCHEME)

    @property
    def sandbox_scenario(self) -> str:
        return self.url.removeprefix(SANDBOX_SCHEME)

    @property
    def app_query(self) -> str:
        """`appid=<guid>` when app is a GUID, else `appname=<unique name>` (never both)."""
        try:
            return f"appid={uuid.UUID(self.app.strip('{}'))}"
        except ValueError:
            return f"appname={quote(self.app, safe='')}"  # a `&` or `#` in it must not make a second parameter


# Playwright's Chromium-family channels (its `launch(channel=...)` documentation).
CHANNELS = (
    "chrome",
    "chrome-beta",
    "chrome-dev",
    "chrome-canary",
    "msedge",
    "msedge-beta",
    "msedge-dev",
    "msedge-canary",
    "chromium",
    "chromium-headless-shell",
)


class BrowserConfig(_Strict):
    executable_path: str | None = Field(None, description="Browser binary; overrides discovery.")
    channel: str | None = Field(None, description="Playwright channel: chrome, msedge, chromium, ...")
    headless: bool = True
    args: list[str] = Field(default_factory=list, description="Extra command-line flags.")
    cdp_endpoint: str | None = Field(None, description="Attach to a running browser, e.g. http://127.0.0.1:9222.")
    viewport_width: int = Field(1366, ge=320, le=MAX_VIEWPORT)
    viewport_height: int = Field(768, ge=240, le=MAX_VIEWPORT)
    ignore_https_errors: bool = Field(
        False,
        description="Accept certificates the browser does not trust, for the pages and cifcheck's own Web API "
        "reads: only for a test org with a self-signed certificate, never for a real one.",
    )
    workers: int | None = Field(
        None,
        ge=1,
        le=MAX_WORKERS,
        description="Targets validated at once, each in its own browser (default: two per CPU as memory allows, "
        "four per browser server, at most 16; `--workers` overrides).",
    )
    endpoints: list[str] = Field(
        default_factory=list,
        max_length=MAX_ENDPOINTS,
        description="Playwright browser servers (`playwright run-server`) to run targets on, ws:// or wss:// URLs; "
        "targets are spread over them and moved to another when one goes down.",
    )
    expose_network: str | None = Field(
        None,
        max_length=1_000,
        description="With endpoints: hosts of this machine's network the remote browsers may reach through "
        "cifcheck, in Playwright's expose_network rules, e.g. <loopback> for an org served on this machine.",
    )

    @field_validator("endpoints")
    @classmethod
    def _endpoints_are_websocket_urls(cls, endpoints: list[str]) -> list[str]:
        for number, endpoint in enumerate(endpoints):
            try:
                check_url(endpoint, ("ws", "wss"), org_root=False)
            except ValueError as error:
                raise ValueError(f"[{number}]: {error}") from None
        if len(set(endpoints)) < len(endpoints):
            raise ValueError("lists the same browser server twice")
        return endpoints

    @model_validator(mode="after")
    def _one_kind_of_browser(self) -> BrowserConfig:
        if self.endpoints and self.cdp_endpoint:
            raise ValueError("give browser servers (endpoints) or a browser to attach to (cdp_endpoint), not both")
        return self

    @field_validator("cdp_endpoint")
    @classmethod
    def _cdp_endpoint_is_a_url(cls, endpoint: str | None) -> str | None:
        return None if endpoint is None else check_cdp_endpoint(endpoint)

    @field_validator("channel")
    @classmethod
    def _channel_is_playwrights(cls, channel: str | None) -> str | None:
        # A typo ("msedgee") would otherwise reach the browser launch, and its error reads as a broken install.
        if channel is None or channel in CHANNELS:
            return channel
        raise ValueError(f"unknown channel {channel!r}{did_you_mean(channel, CHANNELS)}; one of: {', '.join(CHANNELS)}")


def check_cdp_endpoint(endpoint: str) -> str:
    """A browser's remote-debugging address: an http(s) URL or its WebSocket URL, a path and query allowed."""
    return check_url(endpoint, ("http", "https", "ws", "wss"), org_root=False)


class AuthConfig(_Strict):
    storage_state: str = Field(
        ".cifcheck/auth/state.json", description="Playwright storage state saved by `cifcheck login`."
    )
    user_data_dir: str | None = Field(None, description="A persistent browser profile directory instead.")
    credentials: Credentials = Field(default_factory=Credentials)
    login_timeout_s: int = Field(300, ge=1, description="How long `cifcheck login` waits for the person.")


class Timeouts(_Strict):
    """How long a run waits. cifcheck judges the state an org settles into (README, "How long a run waits")."""

    navigation_ms: int = Field(60_000, ge=1, le=MAX_WAIT_MS, description="Opening the org URL.")
    ready_ms: int = Field(60_000, ge=1, le=MAX_WAIT_MS, description="The app shell becoming ready after navigation.")
    observe_ms: int = Field(
        3_000,
        ge=0,
        le=MAX_WAIT_MS,
        description="How long the CIF state (storage, library, panel mode and size, provider frames) must stay "
        "unchanged before it is judged: long enough to see a provider's own follow-up setMode.",
    )
    absence_ms: int = Field(
        10_000,
        ge=0,
        le=MAX_WAIT_MS,
        description="How long after the app is idle a signal that has not come (the library, a storage key, the "
        "panel, CIFInitDone) is awaited before it counts as absent. Real orgs load extensions seconds after idle.",
    )
    settle_max_ms: int = Field(
        60_000,
        ge=0,
        le=MAX_WAIT_MS,
        description="Longest observation after the app is ready, however busy the page stays; what is still "
        "loading then makes its check an error.",
    )
    error_page_ms: int = Field(
        3_000,
        ge=0,
        le=MAX_WAIT_MS,
        description="How long an error answer from the org (HTTP 4xx/5xx) may stay before it is judged: an error "
        "page may retry by itself (a reload, a meta refresh).",
    )

    @model_validator(mode="before")
    @classmethod
    def _retired_fields(cls, data: object) -> object:
        if isinstance(data, dict):
            for name in ("settle_ms", "quiet_ms"):
                if name in data:
                    raise ValueError(
                        f"{name} is retired: cifcheck now waits observe_ms (the state unchanged) and absence_ms "
                        "(an absent signal, counted from when the app is idle); remove it"
                    )
        return data


class Selectors(_Strict):
    app_ready: str = Field(
        "typeof Xrm !== 'undefined' && !!Xrm.Utility && typeof Xrm.Utility.getGlobalContext === 'function'",
        description="JavaScript expression, true once the app shell is ready.",
    )
    app_idle: str = Field(
        "typeof UCWorkBlockTracker === 'undefined' || typeof UCWorkBlockTracker.isAppIdle !== 'function' "
        "|| !!UCWorkBlockTracker.isAppIdle()",
        description="JavaScript expression, true once the app is idle: Unified Interface's own signal, which "
        "EasyRepro and Power Apps Test Engine wait on, where the page has it.",
    )
    panel_frame: str = "#SidePanelIFrame, iframe[title='SidePanelIFrame']"
    widget_frame: str = "#widgetControlDiv iframe"
    collapse_button: str = "[aria-label='Collapse Communication Panel']"
    expand_button: str = "[aria-label='Expand Communication Panel']"
    session_tab: str = "li[id^='sessionContainer-session-id-'], [id^='tab-wrapper-tab-id-']"


def predicate(expression: str) -> str:
    """The function cifcheck evaluates in the page for a `selectors` expression: true or false, never a value."""
    return f"() => !!({expression})"


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValueError(f"not a valid regular expression: {error}") from None
    return pattern


class StorageKeys(_Strict):
    channel_providers: str = "channelProviders"
    application_extensions: str = "applicationExtensions"
    channel_providers_pattern: str = Field(
        r"(?i)(^|[^a-z0-9])channelProviders$", description="Regex for a prefixed channelProviders key."
    )
    application_extensions_pattern: str = Field(
        r"(?i)(^|[^a-z0-9])applicationExtensions$", description="Regex for a prefixed applicationExtensions key."
    )
    loader_name: str = "msdyn_CIFV2Loader"
    library_file: str = "msdyn_channelintegrationframework.js"

    @field_validator("channel_providers_pattern", "application_extensions_pattern")
    @classmethod
    def _pattern_compiles(cls, pattern: str) -> str:
        return _compiles(pattern)


# Microsoft Entra ID's own sign-in hosts: the global cloud (login.microsoftonline.com; login.microsoft.com and
# login.windows.net are its other names; login.live.com signs in personal Microsoft accounts), and the national
# clouds Dynamics 365 runs in: US Government (GCC High, DoD) and China (operated by 21Vianet). Microsoft alone
# serves pages on these names. No wildcard: anyone can create a tenant with its own page scripts on *.b2clogin.com.
ENTRA_SIGN_IN_HOSTS = (
    "login.microsoftonline.com",
    "login.microsoft.com",
    "login.windows.net",
    "login.live.com",
    "login.microsoftonline.us",
    "login.partner.microsoftonline.cn",
)


def _host_patterns(hosts: list[str]) -> list[str]:
    for host in hosts:
        if not re.fullmatch(r"[A-Za-z0-9.*?-]+", host):
            raise ValueError(f"{host!r} is not a host name (letters, digits, dots, hyphens; wildcards * and ?)")
        if len(re.findall(r"\*+", host)) > 2:
            raise ValueError(f"{host!r} has more than two wildcards; name the sign-in host more exactly")
        labels = host.lower().split(".")
        wild = [i for i, label in enumerate(labels) if "*" in label or "?" in label]
        if not wild:
            continue
        # `*` matches dots too, so a pattern pins down only what follows its last wildcard: that must be two labels
        # or more, and not a country's generic second level (co.uk, com.au), or it matches a whole public suffix.
        fixed = ".".join(labels[wild[-1] + 1 :])
        if "." not in fixed or re.fullmatch(r"(com|net|org|gov|edu|ac|co)\.[a-z]{2}", fixed):
            under = f"every host under .{fixed}" if fixed else "every host"
            raise ValueError(f"{host!r} would match {under}; name the sign-in host itself, like login.contoso.com")
    return hosts


class SignIn(_Strict):
    hosts: list[str] = Field(
        default_factory=lambda: [*ENTRA_SIGN_IN_HOSTS, "*.b2clogin.com"],
        description="Host names of sign-in pages, wildcards * and ? allowed; landing on one means the session is "
        "absent or expired. cifcheck types no credentials into a page for being on one of these: see "
        "`credential_hosts`.",
    )
    credential_hosts: list[str] = Field(
        default_factory=lambda: list(ENTRA_SIGN_IN_HOSTS),
        description="The only hosts whose pages unattended sign-in types the account, password and code into, and "
        "only over https (a page matched by a wildcard only on the standard port 443; plain http only for a sandbox "
        "org on this machine). They count as sign-in hosts too. Default: Microsoft Entra ID's own sign-in hosts. "
        "Wildcards * and ? are allowed, but a wildcard trusts everyone who can get a name under it.",
    )
    # Unattended sign-in finds the fields by these selectors (Microsoft Entra ID's sign-in page by default).
    username_field: str = "input[name='loginfmt']"
    password_field: str = "input[name='passwd']"
    code_field: str = "input[name='otc']"
    submit_button: str = "#idSIButton9, #idSubmit_SAOTCC_Continue, button[type='submit'], input[type='submit']"
    error_text: str = "#usernameError, #passwordError, #idSpan_SAOTCC_Error_OTC, [role='alert']"
    push_approval: str = "#idRichContext_DisplaySign, #idDiv_SAOTCAS_Title"
    stay_signed_in_no: str = "#idBtn_Back"
    stay_signed_in_yes: str = "#idSIButton9"
    stay_signed_in: bool = Field(
        True, description='Answer "Stay signed in?" with Yes, so a saved session or profile lasts (No otherwise).'
    )
    settle_ms: int = Field(
        1_000,
        ge=0,
        le=MAX_WAIT_MS,
        description="How long a sign-in page must stay, without a form, before it counts as shown "
        "(single sign-on passes through it).",
    )
    consent: str = "#consentHeader, form[action*='consent']"
    foreign_settle_ms: int = Field(
        5_000,
        ge=0,
        le=MAX_WAIT_MS,
        description="On a host that is neither the org's nor a sign-in host: how long a page whose URL is a sign-in "
        "request, or that shows only a user-name field, must stay before it counts as a sign-in page (single "
        "sign-on with Windows authentication can take a second or two; a page with a password field counts at once).",
    )

    @field_validator("hosts", "credential_hosts")
    @classmethod
    def _hosts_are_narrow_host_patterns(cls, hosts: list[str]) -> list[str]:
        return _host_patterns(hosts)

    @property
    def all_hosts(self) -> tuple[str, ...]:
        """Every host whose pages mean "a sign-in page": `hosts` and `credential_hosts`."""
        return tuple(dict.fromkeys([*self.hosts, *self.credential_hosts]))


class PanelFacts(_Strict):
    """How the host's panel state reads. cif-facts.md: 0 collapsed/minimized, 1 docked, 2 hidden in the 2023 host;
    3 (collapsed) only in the newest docs. Overridable if a release wave changes them."""

    modes: dict[str, PanelMode] = Field(
        default_factory=lambda: {"0": "minimized", "1": "docked", "2": "hidden", "3": "collapsed"},
        description="Xrm.Panel.state value -> mode.",
    )
    minimized_max_height: int = Field(60, ge=0, description="A visible panel at most this tall is minimized.")
    collapsed_max_width: int = Field(100, ge=0, description="A visible panel at most this wide is collapsed.")


# The out-of-box agent experience profiles (Customer Service docs, "Create and use agent experience profiles"): they
# cannot be modified, so no channel provider can be attached to them.
OUT_OF_BOX_PROFILES = (
    "Omnichannel for Customer Service - default profile",
    "Customer Service workspace - default profile",
    "Customer Service workspace + channels - default profile",
)


class RecordsFacts(_Strict):
    """What the records checks cannot read from the org's schema, and what an org may call otherwise."""

    profile: str = Field(
        "",
        description="The agent experience profile to judge (its unique name, name or id); by default the profile "
        "the signed-in user gets.",
    )
    default_profile: str = Field(
        "",
        description="The custom default profile (its unique name, name or id), if one is set: which column marks it "
        "is not in the published schema, so cifcheck is told.",
    )
    out_of_box_profiles: list[str] = Field(
        default_factory=lambda: list(OUT_OF_BOX_PROFILES),
        description="Names of the out-of-box default profiles (localized orgs may name them otherwise).",
    )
    upgraded_profile: str = Field(
        "Omnichannel upgraded app profile", description="Name of the profile an Omnichannel upgrade creates."
    )
    view_name: str = Field(
        "Active Channel Providers", description="Name of the provider view Omnichannel needs (localized orgs differ)."
    )


class SandboxOptions(_Strict):
    latency_ms: int = Field(0, ge=0, le=MAX_WAIT_MS, description="Added to every sandbox response.")
    timing: str = Field(
        "instant",
        pattern=r"^[a-z0-9-]+$",
        description="The timeline sandbox targets run under: instant, slow-network, lazy-extensions, "
        "profile-in-steps, mode-flip (`cifcheck sandbox list` shows them).",
    )


class HistoryOptions(_Strict):
    keep_runs: int = Field(
        100,
        ge=0,
        description="How many run folders the reports folder keeps: after each run the oldest beyond this are "
        "removed (0 keeps every run). 100 is about four days of hourly runs or three months of daily ones.",
    )


TraceMode = Literal["off", "on", "retain-on-failure"]


def default_trace_dir() -> str:
    """Where raw traces go unless `trace.dir` says: the user's own state folder, never the reports folder (reports
    are shared and uploaded; a raw trace holds the session's cookies)."""
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    else:
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(base, "cifcheck", "traces"))


class TraceOptions(_Strict):
    mode: TraceMode = Field(
        "off",
        description="Record a Playwright trace of each target's page load: on, retain-on-failure (kept only for a "
        "target with a fail or an error), or off.",
    )
    dir: str = Field(
        default_factory=default_trace_dir,
        description="Where raw traces are written, one 0700 folder per run, each trace 0600. Never inside the "
        "reports folder: a raw trace holds cookies, headers and bodies. Default: the user's state folder "
        "(~/.local/state/cifcheck/traces; %LOCALAPPDATA%\\cifcheck\\traces on Windows).",
    )


class Config(_Strict):
    schema_: str | None = Field(None, alias="$schema")
    targets: list[Target] = Field(min_length=1)
    browser: BrowserConfig = Field(default_factory=BrowserConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    timeouts: Timeouts = Field(default_factory=Timeouts)
    selectors: Selectors = Field(default_factory=Selectors)
    storage_keys: StorageKeys = Field(default_factory=StorageKeys)
    sign_in: SignIn = Field(default_factory=SignIn)
    panel: PanelFacts = Field(default_factory=PanelFacts)
    records: RecordsFacts = Field(default_factory=RecordsFacts)
    sandbox: SandboxOptions = Field(default_factory=SandboxOptions)
    history: HistoryOptions = Field(default_factory=HistoryOptions)
    trace: TraceOptions = Field(default_factory=TraceOptions)
    output_dir: str = Field("reports", description="Where run folders are written.")
    # The file this config was read from ("" when built in code or bundled): fixes name it.
    _source_file: str = PrivateAttr("")
    # What cifcheck changed while reading it (an address-bar URL trimmed to the org root): told on stderr.
    _notes: list[str] = PrivateAttr(default_factory=list)

    @property
    def source_file(self) -> str:
        return self._source_file

    @property
    def notes(self) -> list[str]:
        return self._notes

    @model_validator(mode="before")
    @classmethod
    def _address_bar_urls_to_org_roots(cls, data: object, info: ValidationInfo) -> object:
        """A target URL pasted from the address bar is trimmed to its org root (with a note) instead of refused;
        the app it opened is used when the target names none."""
        if not isinstance(data, dict) or not isinstance(data.get("targets"), list):
            return data
        targets = []
        for index, target in enumerate(data["targets"]):
            url = target.get("url") if isinstance(target, dict) else None
            trimmed = org_root(url) if isinstance(url, str) else None
            if trimmed:
                root, app = trimmed
                app = app if "app" not in target else None
                target = {**target, "url": root, **({"app": app} if app else {})}
                if info.context is not None:
                    info.context.setdefault("notes", []).append(trimmed_note(f"targets[{index}].url", root, app))
            targets.append(target)
        return {**data, "targets": targets}

    @model_validator(mode="after")
    def _profile_or_browser_servers(self) -> Config:
        if self.browser.endpoints and self.auth.user_data_dir:
            raise ValueError(
                "browser.endpoints and auth.user_data_dir: a browser profile lives on this machine; give one of them"
            )
        return self

    @model_validator(mode="after")
    def _paths_from_the_config_folder(self, info: ValidationInfo) -> Config:
        """Relative paths in a config file mean relative to that file's folder (given in the validation context),
        as in tsconfig.json or a Makefile, so a run from another folder finds the same saved session."""
        folder = (info.context or {}).get("folder")
        if folder is None:
            return self

        def beside(path: str) -> str:
            # `~/` means the home folder, as in a shell: never a folder named `~` beside the config.
            path = os.path.expanduser(path)
            return path if Path(path).is_absolute() else str(Path(folder, path))

        self.output_dir = beside(self.output_dir)
        if "dir" in self.trace.model_fields_set:
            self.trace.dir = beside(self.trace.dir)
        self.auth.storage_state = beside(self.auth.storage_state)
        if self.auth.user_data_dir:
            self.auth.user_data_dir = beside(self.auth.user_data_dir)
        executable = self.browser.executable_path
        if executable and "/" in executable:  # a bare name ("chromium") is looked up on PATH, as a shell would
            self.browser.executable_path = beside(executable)
        for credentials in [self.auth.credentials, *(t.credentials for t in self.targets if t.credentials)]:
            if credentials.file:
                credentials.file = beside(credentials.file)
        for target in self.targets:
            if target.storage_state:
                target.storage_state = beside(target.storage_state)
        return self

    def saved_sessions(self) -> list[tuple[str, str]]:
        """(field, path) of every saved session the config names."""
        states = [("auth.storage_state", self.auth.storage_state)]
        return states + [
            (f"targets[{i}].storage_state", t.storage_state) for i, t in enumerate(self.targets) if t.storage_state
        ]

    @field_validator("targets")
    @classmethod
    def _target_names_unique(cls, targets: list[Target]) -> list[Target]:
        names = [t.name for t in targets]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"target names must be unique; repeated: {', '.join(duplicates)}")
        # Each names a file (evidence/<name>.json): on macOS and Windows, Contoso and contoso would be one file.
        folded = [name.casefold() for name in names]
        alike = sorted({n for n, f in zip(names, folded, strict=True) if folded.count(f) > 1})
        if alike:
            raise ValueError(f"target names must be unique; repeated, ignoring case: {', '.join(alike)}")
        return targets


def parse_config(data: object, source: str, folder: Path | None = None) -> Config:
    """The config in `data`, read from `source` (named in every problem). Relative paths resolve from `folder`
    (the config file's), or from the current folder when None."""
    context: dict = {"folder": folder, "notes": []}
    try:
        config = Config.model_validate(data, context=context)
    except ValidationError as error:
        raise ConfigError(*(f"{source}: {problem}" for problem in problems(error, Config))) from None
    config._notes = [f"{source}: {note}" for note in context["notes"]]
    return config


def resolved(path: str | Path) -> Path:
    """The absolute path with symbolic links followed as far as they go. Unlike Path.resolve() on Python 3.11 and
    3.12, a symbolic link loop gives a path (that then fails to open with a clear error), not a RuntimeError."""
    return Path(os.path.realpath(path))


_SPECIAL_FILES = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


def not_a_file(mode: int) -> str | None:
    """What a path with this `st_mode` is ("a folder") when it is not a regular file; None when it is one."""
    if stat.S_ISREG(mode):
        return None
    return next((kind for is_kind, kind in _SPECIAL_FILES if is_kind(mode)), "a special file")


def path_problem(error: OSError, what: str) -> str:
    """Why `stat` or `open` failed on a path, in words: a symbolic link loop says so."""
    return f"{what} is a symbolic link loop" if error.errno == errno.ELOOP else f"cannot read {what}: {error.strerror}"


def regular_file(path: Path, what: str, error_type: type[Exception] = ConfigError) -> os.stat_result:
    """`path`'s status when it is a regular file (symbolic links followed); otherwise one line saying what it is.

    Only `stat` looks: a named pipe is never opened, because opening one for reading waits for a writer for ever."""
    try:
        status = path.stat()
    except FileNotFoundError:
        raise error_type(f"{path}: {what} not found") from None
    except OSError as error:  # a symbolic link loop, a folder that may not be entered
        raise error_type(f"{path}: {path_problem(error, what)}") from None
    kind = not_a_file(status.st_mode)
    if kind:
        raise error_type(f"{path}: {what} is {kind}, not a file")
    return status


def saved_session_problems(config: Config) -> list[str]:
    """Every saved session that exists is a regular file (a browser profile, a folder): a run skips anything else
    silently and then looks signed out, and a symbolic link loop made path checks raise. One that does not exist yet
    is fine (not signed in yet)."""
    found = []
    for name, state in config.saved_sessions():
        try:
            kind = not_a_file(Path(state).stat().st_mode)
        except FileNotFoundError:
            continue
        except OSError as error:
            found.append(f"{name}: {state}: {path_problem(error, 'saved session')}")
            continue
        if kind:
            found.append(f"{name}: {state} is {kind}, not a saved session file")
    profile = config.auth.user_data_dir
    try:
        mode = Path(profile).stat().st_mode if profile else stat.S_IFDIR
    except FileNotFoundError:  # `cifcheck login` creates it
        mode = stat.S_IFDIR
    except OSError as error:
        found.append(f"auth.user_data_dir: {profile}: {path_problem(error, 'browser profile')}")
        mode = stat.S_IFDIR
    if not stat.S_ISDIR(mode):  # the browser would start without it, signed out
        found.append(f"auth.user_data_dir: {profile} is {not_a_file(mode) or 'a file'}, not a browser profile folder")
    return found


def check_saved_sessions(config: Config) -> None:
    found = saved_session_problems(config)
    if found:
        raise ConfigError(*found)


def reports_folder_problem(folder: str, what: str = "reports") -> str | None:
    """Why `folder` cannot hold reports (or `what` else), without creating it: a file or a loop in its place, or no
    way to write where it would be created. None when it looks usable (creating it may still fail, and is reported
    then)."""
    path = Path(folder)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        existing = next((parent for parent in path.absolute().parents if parent.exists()), None)
        if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
            return f"cannot write {what} to {folder}: {existing} is not writable"
        return None
    except OSError as error:
        return f"{folder}: {path_problem(error, f'{what} folder')}"
    if not stat.S_ISDIR(mode):
        return f"{folder} is {not_a_file(mode) or 'a file'}, not a folder"
    if not os.access(path, os.W_OK | os.X_OK):
        return f"cannot write {what} to {folder}: permission denied"
    return None


def load_config(path: str | Path) -> Config:
    """The config in the file at `path`; its relative paths resolve from its folder."""
    path = Path(path)
    if not os.path.lexists(path):
        hint = f"`cifcheck init --file {shlex.quote(str(path))}` writes a starter one"
        raise ConfigError(f"{path}: config file not found; {hint}")
    regular_file(path, "config file")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read config file: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: {not_utf8(path)}") from None
    config = parse_config(parse_json_text(text, str(path), ConfigError), str(path), config_folder(path))
    config._source_file = str(path)
    return config


def config_folder(path: Path) -> Path:
    """The folder paths in the config file at `path` resolve from: its own, written as short as it can be
    (`.` when it is the current folder, so messages name `reports`, not `/home/me/project/reports`)."""
    folder = path.parent
    return Path() if resolved(folder) == resolved(".") else folder


class _GivenTwice(ValueError):
    """A field written twice in one JSON object: json.loads keeps the last silently, so a typo-free config could
    still lose the part a person meant."""


def _once_each(pairs: list[tuple[str, object]]) -> dict:
    data: dict = {}
    for key, value in pairs:
        if key in data:
            raise _GivenTwice(key)
        data[key] = value
    return data


UTF16_TEXT = "UTF-16 text (as Windows PowerShell 5 writes a file by default); save it as UTF-8"


def not_utf8(path: Path) -> str:
    """What a file that is not UTF-8 is, in words: UTF-16 says so, with what to do."""
    with contextlib.suppress(OSError), path.open("rb") as file:
        if file.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return UTF16_TEXT
    return "not UTF-8 text"


def parse_json_text(text: str, source: str, error_type: type[Exception]) -> object:
    """JSON from a file, or one line naming the file and what is wrong with it."""
    if "\x00" in text[:4]:  # JSON starts with ASCII: UTF-16 without a byte order mark
        raise error_type(f"{source}: {UTF16_TEXT}")
    try:
        # A byte order mark, as Windows editors write one, is skipped.
        return json.loads(text.removeprefix("\ufeff"), object_pairs_hook=_once_each)
    except _GivenTwice as error:
        raise error_type(f"{source}: {str(error.args[0])[:100]}: given twice in one object; keep one") from None
    except json.JSONDecodeError as error:
        raise error_type(f"{source}: not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    except (ValueError, RecursionError) as error:  # numbers too long, nesting too deep
        raise error_type(f"{source}: not usable JSON: {str(error)[:100] or 'nested too deeply'}") from None


def config_schema() -> dict:
    return Config.model_json_schema(by_alias=True)
