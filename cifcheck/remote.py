"""Browsers on Playwright's own browser server (`playwright run-server`), listed in `browser.endpoints`.

What the server allows, from Playwright's sources (packages/playwright-core/src/remote/playwrightServer.ts): the
client's launch options travel in the `x-playwright-launch-options` header, and since 1.60 a server keeps only
channel, headless, proxy, timeout and slowMo of them unless it was started with `--unsafe` (then also
executablePath and args). Client and server must run the same Playwright major.minor: the server answers any other
with HTTP 428. A server started with `--max-clients` queues the connections past its limit rather than refusing
them, so a connection is given a time limit. The server exits when its stdin closes."""

from __future__ import annotations

import json
import re
import threading
from importlib.metadata import version
from urllib.parse import parse_qsl, urlsplit

from playwright.sync_api import Browser, Playwright
from playwright.sync_api import Error as PlaywrightError

from cifcheck.browser import QUIET_FLAGS
from cifcheck.config import Config
from cifcheck.redact import register_secret

CONNECT_MS = 30_000  # a queued connection (--max-clients) waits this long before the endpoint counts as busy


def endpoint_label(url: str) -> str:
    """scheme://host:port of an endpoint: its path or query may hold a token, and never reaches a report."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}"


def playwright_version() -> str:
    return version("playwright")


def _launch_options(config: Config) -> dict:
    """What the server may launch with: headless and the channel always; the browser binary and flags only when
    browser.executable_path is set, which the server takes only when started with --unsafe."""
    options: dict = {"headless": config.browser.headless}
    if config.browser.channel:
        options["channel"] = config.browser.channel
    if config.browser.executable_path:
        options["executablePath"] = config.browser.executable_path
        options["args"] = [*QUIET_FLAGS, *config.browser.args]
    return options


def why_not_connected(url: str, error: PlaywrightError) -> str:
    """What a failed connection means, in plain words, without the endpoint's path or query."""
    said = str(error)
    if "428 Precondition Required" in said:
        mine = ".".join(playwright_version().split(".")[:2])
        server = re.search(r"server version: v?(\d+\.\d+)", said)
        theirs = f"Playwright {server[1]}" if server else "another Playwright version"
        return (
            f"{endpoint_label(url)} runs {theirs}, cifcheck runs Playwright {playwright_version()}: a browser server "
            f"must run the same major.minor as its client; start it with Playwright {mine} "
            f"(`pip install 'playwright=={mine}.*'`, then `playwright run-server`)"
        )
    first = next((line.strip() for line in said.splitlines() if line.strip()), "no message")
    # Playwright quotes the endpoint as it normalised it (host lower-cased, dot segments resolved, query dropped):
    # every WebSocket URL in its words is cut to scheme://host:port, whichever form it has.
    first = re.sub(r"wss?://[^\s'\"]+", lambda found: endpoint_label(found[0]), first, flags=re.IGNORECASE)
    for noise in ("BrowserType.connect: ", "browserType.connect: "):
        first = first.removeprefix(noise)
    return f"{endpoint_label(url)}: {first[:300]}"


def queued_too_long(error: PlaywrightError) -> bool:
    """A connection that timed out: the server accepted it into its queue (--max-clients) and kept it there."""
    return "Timeout" in str(error) and "exceeded" in str(error)


def connect(playwright: Playwright, url: str, config: Config) -> Browser:
    headers = {"x-playwright-launch-options": json.dumps(_launch_options(config))}
    options: dict = {"timeout": CONNECT_MS, "headers": headers}  # looked up at each call: tests shorten it
    if config.browser.expose_network:
        options["expose_network"] = config.browser.expose_network
    return playwright.chromium.connect(url, **options)  # the endpoint positionally: its keyword changed in 1.59


def register_endpoint_secrets(url: str) -> None:
    """What of an endpoint may be a credential (a password, query values, path segments: `?token=…`,
    `/playwright/<key>`) is scrubbed wherever it would reach a report, as the known secrets are."""
    parts = urlsplit(url)
    register_secret(parts.password)
    for _, value in parse_qsl(parts.query, keep_blank_values=False):
        register_secret(value, minimum=8)
    for segment in parts.path.split("/"):
        # A key, not a word: a word (`playwright`) scrubbed from every report would garble the fixes that name it.
        if len(segment) >= 16 and any(c.isdigit() for c in segment) and any(c.isalpha() for c in segment):
            register_secret(segment)


class Endpoints:
    """The browser servers of a run, shared by its workers: each worker starts at its own, and skips those that
    are down (refused a connection) for the rest of the run."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = list(urls)
        for url in self.urls:
            register_endpoint_secrets(url)
        self._down: dict[str, str] = {}
        self._lock = threading.Lock()

    def pick(self, worker: int) -> str | None:
        """The first server up, starting at the worker's own; None when every one is down."""
        with self._lock:
            start = worker % len(self.urls)
            for url in self.urls[start:] + self.urls[:start]:
                if url not in self._down:
                    return url
            return None

    def down(self, url: str, why: str) -> None:
        with self._lock:
            self._down[url] = why

    def any_up(self) -> bool:
        with self._lock:
            return len(self._down) < len(self.urls)

    def why_all_down(self) -> str:
        with self._lock:
            return "; ".join(self._down.values())
