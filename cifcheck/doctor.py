"""`cifcheck doctor`: is everything a run needs in place? The browser (or the browser to attach to over CDP), the
config (with the same validation `run` does), each target's saved session, and each real org's reachability (DNS,
TCP, TLS with the certificate verified), each finding with a one-line fix. Exit 0 when nothing must be fixed, 1
when something must.

Checks are short and independent: an org that does not resolve is said in seconds, and its saved session is then not
opened (that would only wait out the navigation timeout)."""

from __future__ import annotations

import concurrent.futures
import json
import os
import socket
import ssl
import stat
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import click

from cifcheck.browser import BrowserChoice, BrowserNotFound, discovery_report, find_browser, launch_fix, launch_options
from cifcheck.config import BrowserConfig, Config, ConfigError, Target
from cifcheck.text import safe_text

NETWORK_TIMEOUT_S = 5.0
LAUNCH_TIMEOUT_MS = 30_000
Level = Literal["ok", "note", "fix"]
MARKS = {"ok": "OK  ", "note": "NOTE", "fix": "FIX "}


@dataclass(frozen=True)
class Finding:
    level: Level
    subject: str
    text: str
    fix: str = ""


class Doctor:
    """Prints each finding as it is made, and remembers whether anything must be fixed."""

    def __init__(self) -> None:
        self.must_fix = False

    def say(self, level: Level, subject: str, text: str, fix: str = "") -> Finding:
        self.must_fix |= level == "fix"
        click.echo(f"{MARKS[level]} {subject}: {safe_text(text)}")  # paths and page text are anyone's text
        if fix:
            click.echo(f"     fix: {safe_text(fix)}")
        return Finding(level, subject, text, fix)


def diagnose(config_path: str | None, *, launch: bool, cdp: str | None = None) -> int:
    doctor = Doctor()
    config = _config(doctor, config_path)
    browser = config.browser if config else BrowserConfig()
    endpoint = cdp or browser.cdp_endpoint
    choice = _attached(doctor, endpoint) if endpoint else _browser(doctor, browser, launch)
    if config is not None and config.browser.endpoints:
        _servers(doctor, config, launch)
    if config is not None:
        for target in config.targets:
            reachable = target.is_sandbox or _org(doctor, target, config)
            _session(doctor, target, config, check_it=launch and reachable and choice is not None, cdp=bool(endpoint))
    return 1 if doctor.must_fix else 0


def _config(doctor: Doctor, path: str | None) -> Config | None:
    """The config a run would use (`--config`, else ./playwright.config.json, else the bundled sandbox config),
    checked as `run` checks it before any browser starts."""
    from cifcheck.config_sources import config_in_use, config_label
    from cifcheck.runner import check_targets

    try:
        config = config_in_use(path)
    except ConfigError as error:
        for line in error.lines:
            doctor.say("fix", "config", line, "correct it (`cifcheck schema config` shows the format)")
        return None
    label = config_label(config)
    try:
        check_targets(config)
    except ConfigError as error:
        for line in error.lines:
            doctor.say("fix", "config", line, f"correct it in {label}")
        return None
    names = ", ".join(target.name for target in config.targets)
    count = f"{len(config.targets)} target{'s' if len(config.targets) != 1 else ''}"
    doctor.say("ok", "config", f"{label} is valid: {count} ({names})")
    if not config.source_file:
        doctor.say(
            "note",
            "config",
            "no config file here, so the bundled sandbox org is what a run validates",
            "`cifcheck init --url https://<org>.crm.dynamics.com` writes a config for a real org",
        )
    return config


def _browser(doctor: Doctor, config: BrowserConfig, launch: bool) -> BrowserChoice | None:
    click.echo("Browser discovery, in order:")
    for place, found in discovery_report(config):
        click.echo(f"  {place:32} {safe_text(found or '-')}")
    try:
        choice = find_browser(config)
    except BrowserNotFound as error:
        doctor.say("fix", "browser", error.problem, error.fix)
        return None
    click.echo(f"Using: {safe_text(choice.describe())}")
    click.echo(f"Flags: {' '.join(choice.args)}")
    if config.channel and choice.channel != config.channel:
        from cifcheck.browser import channel_missing, install_command

        doctor.say(
            "note",
            "browser",
            f"{channel_missing(config.channel)}; using {choice.executable_path or choice.channel} instead",
            f"to use it, install it: `{install_command(config.channel)}`; or remove browser.channel",
        )
    if choice.executable_path and not os.access(choice.executable_path, os.X_OK):
        doctor.say("fix", "browser", f"{choice.executable_path} is not executable", launch_fix(choice))
        return None
    if not launch:
        return choice
    from playwright.sync_api import Error, sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(**launch_options(choice), timeout=LAUNCH_TIMEOUT_MS)
            doctor.say("ok", "browser", f"launched {browser.browser_type.name} {browser.version} — OK")
            browser.close()
    except Error as error:
        why = str(error).splitlines()[0].removeprefix("BrowserType.launch: ")
        doctor.say("fix", "browser", f"{choice.describe()} did not start as a browser ({why})", launch_fix(choice))
        return None
    return choice


def _attached(doctor: Doctor, endpoint: str) -> BrowserChoice | None:
    """A browser to attach to over CDP: something listens there, and (for an http endpoint) it is a browser."""
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme in ("https", "wss") else 80)
    start = (
        f"start Chrome or Edge with --remote-debugging-port={port} (and its own --user-data-dir), or leave out --cdp "
        "and browser.cdp_endpoint to let cifcheck launch a browser"
    )
    try:
        socket.create_connection((host, port), timeout=NETWORK_TIMEOUT_S).close()
    except OSError as error:
        doctor.say("fix", "browser", f"nothing answers at {host}:{port} for --cdp {endpoint} ({_why(error)})", start)
        return None
    if parts.scheme in ("ws", "wss"):
        doctor.say("ok", "browser", f"something listens at {endpoint}; cifcheck will attach to it")
        return BrowserChoice(f"CDP {endpoint}")
    try:
        with urllib.request.urlopen(f"{endpoint.rstrip('/')}/json/version", timeout=NETWORK_TIMEOUT_S) as answer:
            version = json.loads(answer.read(100_000)).get("Browser", "")
    except (OSError, ValueError, AttributeError) as error:
        doctor.say("fix", "browser", f"{endpoint} answers, but not as a browser's DevTools endpoint ({error})", start)
        return None
    doctor.say("ok", "browser", f"{endpoint} is {version or 'a browser'}'s DevTools endpoint; cifcheck will attach")
    return BrowserChoice(f"CDP {endpoint}")


def _servers(doctor: Doctor, config: Config, launch: bool) -> None:
    """Each browser server of browser.endpoints: it listens, and (unless --no-launch) gives cifcheck a browser, which
    also tells a Playwright version it refuses (HTTP 428)."""
    from cifcheck.remote import (
        connect,
        endpoint_label,
        playwright_version,
        register_endpoint_secrets,
        why_not_connected,
    )

    mine = ".".join(playwright_version().split(".")[:2])
    start = f"start it: `playwright run-server --port N` with Playwright {mine} (the same major.minor as cifcheck's)"
    for url in config.browser.endpoints:
        register_endpoint_secrets(url)
        label = endpoint_label(url)
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "wss" else 80)
        try:
            socket.create_connection((parts.hostname or "", port), timeout=NETWORK_TIMEOUT_S).close()
        except OSError as error:
            doctor.say("fix", "browser server", f"nothing answers at {label} ({_why(error)})", start)
            continue
        if not launch:
            doctor.say("ok", "browser server", f"something listens at {label}; not asked for a browser (--no-launch)")
            continue
        from playwright.sync_api import Error, sync_playwright

        try:
            with sync_playwright() as playwright:
                browser = connect(playwright, url, config)
                doctor.say("ok", "browser server", f"{label} gave a browser ({browser.version}) — OK")
                browser.close()
        except Error as error:
            doctor.say("fix", "browser server", why_not_connected(url, error), start)


def _org(doctor: Doctor, target: Target, config: Config) -> bool:
    """DNS, TCP and TLS to the org, each with a short timeout: True when all answered."""
    parts = urlsplit(target.url)
    host, secure = parts.hostname or "", parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    subject = f"org {target.name}"
    where = f"targets[].url of {config.source_file or 'the config'}"
    try:
        address = _resolve(host, port)
    except (OSError, concurrent.futures.TimeoutError) as error:
        doctor.say(
            "fix",
            subject,
            f"{host} does not resolve ({_why(error)})",
            f"check the host name's spelling in {where}, then this machine's DNS (connect the VPN the org needs)",
        )
        return False
    try:
        connection = socket.create_connection((address, port), timeout=NETWORK_TIMEOUT_S)
    except OSError as error:
        doctor.say(
            "fix",
            subject,
            f"port {port} of {host}{'' if host == address else f' ({address})'} does not answer ({_why(error)})",
            f"check the port in {where}, and the firewall, proxy or VPN between this machine and the org",
        )
        return False
    with connection:
        if not secure:
            doctor.say("ok", subject, f"{_named(host, address)} and port {port} answers (http: no TLS to check)")
            return True
        return _tls(doctor, subject, connection, host, address, port, config.browser.ignore_https_errors)


def _tls(
    doctor: Doctor, subject: str, connection: socket.socket, host: str, address: str, port: int, unchecked: bool
) -> bool:
    context = ssl.create_default_context()
    if unchecked:  # browser.ignore_https_errors: the run will not check it either
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        connection.settimeout(NETWORK_TIMEOUT_S)
        with context.wrap_socket(connection, server_hostname=host) as secured:
            certificate = secured.getpeercert() or {}
    except ssl.SSLCertVerificationError as error:
        doctor.say(
            "fix",
            subject,
            f"{host} answers, but its certificate is not trusted ({error.verify_message})",
            "use the org's own host name; check this machine's clock; behind a proxy that inspects TLS, trust its "
            "root certificate (browser.ignore_https_errors is only for a test org)",
        )
        return False
    except (ssl.SSLError, OSError) as error:
        doctor.say(
            "fix",
            subject,
            f"{host} answers on port {port}, but the TLS handshake failed ({_why(error)})",
            "check that the port serves https, and the proxy or firewall on the way",
        )
        return False
    expires = certificate.get("notAfter", "")
    checked = "certificate not checked (browser.ignore_https_errors)" if unchecked else f"certificate valid ({expires})"
    doctor.say("ok", subject, f"{_named(host, address)}, port {port} answers, TLS handshake done, {checked}")
    return True


def _named(host: str, address: str) -> str:
    return host if host == address else f"{host} resolves ({address})"


def _resolve(host: str, port: int) -> str:
    """The first address of `host`, within the timeout (getaddrinfo has none of its own). A .localhost name is
    this machine, as Chromium resolves it by itself (RFC 6761), whatever the system resolver says."""
    if host.endswith(".localhost"):
        return "127.0.0.1"
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        found = pool.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        return found.result(timeout=NETWORK_TIMEOUT_S)[0][4][0]
    finally:
        pool.shutdown(wait=False)


def _session(doctor: Doctor, target: Target, config: Config, *, check_it: bool, cdp: bool) -> None:
    from cifcheck.login import check_saved_session, login_command, nothing_to_sign_in
    from cifcheck.runner import secrets_for, storage_state_path

    subject = f"session {target.name}"
    if target.is_sandbox and nothing_to_sign_in(target, config):
        doctor.say("ok", subject, "not needed: the sandbox issues its own session")
        return
    if cdp:
        doctor.say("ok", subject, "not used: over CDP the attached browser's own session is")
        return
    if secrets_for(target, config) is not None:
        doctor.say("ok", subject, "not needed: runs sign in unattended with the configured credentials")
        return
    if target.is_sandbox:
        doctor.say("note", subject, check_saved_session(config, target)[1])
        return
    login = login_command(target, config)
    if config.auth.user_data_dir:
        if not Path(config.auth.user_data_dir).is_dir():
            doctor.say("fix", subject, f"no browser profile at {config.auth.user_data_dir}", f"run `{login}`")
            return
        if not check_it:  # no browser, --no-launch, or an org that would only wait out the navigation timeout
            doctor.say("ok", subject, f"the browser profile {config.auth.user_data_dir} exists; not opened")
            return
    else:
        path = storage_state_path(target, config)
        if not path.is_file():
            doctor.say("fix", subject, f"no saved session at {path}", f"run `{login}`")
            return
        status = path.stat()
        if status.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            doctor.say("fix", subject, f"{path} is readable by others (it holds live cookies)", f"chmod 600 {path}")
        age = _age(time.time() - status.st_mtime)
        if not check_it:
            doctor.say("ok", subject, f"{path} exists (saved {age} ago); not opened")
            return
    valid, message = check_saved_session(config, target)
    if valid:
        doctor.say("ok", subject, message + ("" if config.auth.user_data_dir else f" (saved {age} ago)"))
    else:
        doctor.say("fix", subject, message, f"run `{login}`")


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def _why(error: BaseException) -> str:
    if isinstance(error, concurrent.futures.TimeoutError):
        return f"no answer within {NETWORK_TIMEOUT_S:g} s"
    if isinstance(error, socket.timeout | TimeoutError):
        return f"no answer within {NETWORK_TIMEOUT_S:g} s"
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
