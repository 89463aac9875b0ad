"""What fixes share: the config file the run used, the command that signs a target in again, and what an org that
could not be reached means, failure mode by failure mode.

A fix names what the person must touch: the config file in use (not always playwright.config.json), the target's
own `cifcheck login` line, the host name whose spelling to check. A sandbox target never gets a sign-in command: the
sandbox issues its own session, so the fix says what the scenario demonstrates instead.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cifcheck.evidence import Evidence

DEFAULT_CONFIG = "playwright.config.json"
SANDBOX_SCHEME = "sandbox://"
# Named, its password not: the password may be the one a run is using, and what cifcheck prints holds no secret in
# use. The README's sandbox section and `cifcheck sandbox serve` give it.
SANDBOX_ACCOUNT = "admin@contoso.sandbox, with the password `cifcheck sandbox serve` prints"


def config_in_use(evidence: Evidence) -> str:
    """The config file this run read, as the person gave it, for a fix to name."""
    file = evidence.settings.config_file
    return file if file else "a config file (this run used none; `cifcheck init` writes one)"


def is_sandbox(evidence: Evidence) -> bool:
    return evidence.target.url.startswith(SANDBOX_SCHEME)


def login_command(target: str, config_file: str) -> str:
    """The exact command that signs `target` in again: `--config` only when the config is not the default one."""
    # Quoted as a shell needs it: the command is pasted as it is, and a path may hold a space.
    option = (
        f" --config {shlex.quote(config_file)}" if config_file and Path(config_file) != Path(DEFAULT_CONFIG) else ""
    )
    return f"cifcheck login --target {target}{option}"


def sign_in_again(evidence: Evidence) -> str:
    """How to get a session again, as the end of a sentence (never for a sandbox target: see sandbox_sign_in)."""
    if evidence.browser.source.startswith("CDP"):
        return "sign in again in the browser cifcheck attached to, then re-run"
    if not evidence.settings.config_file:
        return (
            f"write a config for this org (`cifcheck init --url {shlex.quote(evidence.target.url)}`), then sign in "
            "with `cifcheck login` and re-run"
        )
    return f"run `{login_command(evidence.target.name, evidence.settings.config_file)}` to sign in again, then re-run"


def sandbox_sign_in(evidence: Evidence) -> str:
    """Why a sandbox target met a sign-in page, and what to do: there is nothing to sign in to."""
    from cifcheck.sandbox.scenarios import SCENARIOS  # plain data: the catalogue, not the server

    name = evidence.target.url.removeprefix(SANDBOX_SCHEME).strip("/")
    scenario = SCENARIOS.get(name)
    if scenario is not None and scenario.signed_out:
        return (
            f"Nothing to fix: the sandbox scenario {name} demonstrates an expired session ({scenario.description}) "
            "This is how cifcheck reports a real org whose saved session has expired; there, the fix names the "
            "command that signs the target in again."
        )
    return (
        "Sandbox sessions last only as long as the sandbox process, so a sandbox target that names its own "
        "storage_state finds it expired in every new run (that is how expiry is tested). Remove storage_state to "
        "use the session the sandbox issues, or give the target credentials for the sandbox's test account "
        f"({SANDBOX_ACCOUNT}) to sign in unattended."
    )


@dataclass(frozen=True)
class OrgFailure:
    """One way of not reaching the org: a title for the card and the fix for that mode."""

    title: str
    fix: str


_NET_ERROR = re.compile(r"net::(ERR_[A-Z_]+)")
_HTTP_STATUS = re.compile(r"\bHTTP (\d{3})\b")
_DNS = {"ERR_NAME_NOT_RESOLVED", "ERR_NAME_RESOLUTION_FAILED", "ERR_DNS_TIMED_OUT"}
_REFUSED = {"ERR_CONNECTION_REFUSED", "ERR_ADDRESS_INVALID"}
_RESET = {"ERR_CONNECTION_RESET", "ERR_CONNECTION_CLOSED", "ERR_CONNECTION_ABORTED", "ERR_EMPTY_RESPONSE"}
_PROXY = {"ERR_PROXY_CONNECTION_FAILED", "ERR_TUNNEL_CONNECTION_FAILED", "ERR_PROXY_CERTIFICATE_INVALID"}
_TIMEOUT = {
    "ERR_CONNECTION_TIMED_OUT",
    "ERR_TIMED_OUT",
    "ERR_ADDRESS_UNREACHABLE",
    "ERR_INTERNET_DISCONNECTED",
    "ERR_NETWORK_CHANGED",
    "ERR_NETWORK_ACCESS_DENIED",
}


def _host(url: str) -> tuple[str, str]:
    """The host name and the port (or the scheme's default) of an org URL."""
    try:
        parts = urlsplit(url)
        return parts.hostname or url, str(parts.port or (443 if parts.scheme == "https" else 80))
    except ValueError:
        return url, "443"


def org_failure(error: str, org_url: str, config: str) -> OrgFailure | None:
    """What a navigation or request error says about the org, or None when it is not a failure to reach it."""
    host, port = _host(org_url)
    code = next(iter(_NET_ERROR.findall(error)), "")
    status = _HTTP_STATUS.search(error)
    if code in _DNS:
        return OrgFailure(
            "Org unreachable: its host name does not resolve",
            f"The host name {host} did not resolve ({code}). Check its spelling in targets[].url of {config} (an "
            "org URL looks like https://contoso.crm.dynamics.com; the Power Platform admin center shows yours), then "
            "that this machine resolves it: connect the VPN the org needs, or check the DNS or proxy settings.",
        )
    if code in _REFUSED:
        return OrgFailure(
            "Org unreachable: the connection was refused",
            f"Nothing accepted a connection at {host} port {port} ({code}). Check the port in targets[].url of "
            f"{config} (an online org has none), and that no firewall or proxy on the way refuses it; connect the "
            "VPN the org needs.",
        )
    if code.startswith(("ERR_CERT_", "ERR_SSL_", "ERR_BAD_SSL")):
        return OrgFailure(
            "Org unreachable: its certificate was not accepted",
            f"The TLS handshake with {host} failed ({code}): the browser did not trust the certificate or it does "
            "not name this host. Use the org's own host name (not an alias); check this machine's clock; behind a "
            "proxy that inspects TLS, install its root certificate for the browser. browser.ignore_https_errors is "
            "only for a test org with a self-signed certificate.",
        )
    if code in _PROXY:
        return OrgFailure(
            "Org unreachable: the proxy failed",
            f"The proxy between this machine and {host} failed ({code}). Check the proxy settings the browser uses "
            "(the system proxy, or HTTPS_PROXY) and that the proxy allows the org.",
        )
    if code in _RESET:
        return OrgFailure(
            "Org unreachable: the connection was cut",
            f"The connection to {host} was closed before an answer ({code}): usually a firewall, proxy or VPN on the "
            "way. Check the network path to the org, then re-run.",
        )
    if code in _TIMEOUT or (not code and "Timeout" in error and "exceeded" in error):
        return OrgFailure(
            "Org unreachable: no answer in time",
            f"{host} did not answer in time ({code or error}). Check the network, VPN or proxy to the org; on a slow "
            f"link raise timeouts.navigation_ms in {config}.",
        )
    if status and int(status.group(1)) >= 500:
        return OrgFailure(
            "Org unavailable: it answered with a server error",
            f"Retry later: the org answered HTTP {status.group(1)}, so it is down or in maintenance, not "
            "misconfigured. The Power Platform admin center shows the environment's state.",
        )
    if code:
        return OrgFailure(
            "Org unreachable",
            f"The browser could not reach {host} ({code}). Check the org URL in {config}, and the network, VPN or "
            "proxy to it.",
        )
    return None
