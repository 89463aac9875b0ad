"""Find a Chromium-family browser and the flags to launch it with.

Order: the config's executable_path, the CIFCHECK_BROWSER variable, the config's channel, an installed
Chrome or Edge (Playwright channels), Playwright's own Chromium, then a system Chromium (Debian's
/usr/bin/chromium). A configured chrome or msedge channel that is not installed is passed over, and the choice
says so. Nothing here starts Playwright's driver unless a launch is asked for. Every "not found" and "does not
start" message carries its fix.
"""

from __future__ import annotations

import contextlib
import glob
import os
import platform
import shutil
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from cifcheck.config import BrowserConfig

ENV_VAR = "CIFCHECK_BROWSER"
# Without these, Chromium's background connections fail against a closed network and slow every start.
QUIET_FLAGS = ("--disable-background-networking", "--disable-component-update", "--disable-sync")

_CHANNEL_PATHS: dict[str, dict[str, list[str]]] = {
    "chrome": {
        "linux": ["/opt/google/chrome/chrome"],
        "darwin": ["/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"],
        "win32": [
            r"%PROGRAMFILES%\Google\Chrome\Application\chrome.exe",
            r"%LOCALAPPDATA%\Google\Chrome\Application\chrome.exe",
        ],
    },
    "msedge": {
        "linux": ["/opt/microsoft/msedge/msedge"],
        "darwin": ["/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge"],
        "win32": [
            r"%PROGRAMFILES(X86)%\Microsoft\Edge\Application\msedge.exe",
            r"%PROGRAMFILES%\Microsoft\Edge\Application\msedge.exe",
        ],
    },
}
_CHANNEL_NAMES = {"chrome": "Google Chrome", "msedge": "Microsoft Edge"}
_SYSTEM_CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@dataclass(frozen=True)
class BrowserChoice:
    """A browser to launch: by executable path or by Playwright channel; `source` says how it was found."""

    source: str
    executable_path: str | None = None
    channel: str | None = None
    args: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        what = self.executable_path or f"channel {self.channel}"
        return f"{what} (from {self.source})"


class BrowserNotFound(Exception):
    """No usable browser: what is wrong and the one-line fix (shown together as one line)."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}; {fix}")
        self.problem, self.fix = problem, fix


def _platform_key() -> str:
    return "win32" if sys.platform.startswith("win") else ("darwin" if sys.platform == "darwin" else "linux")


def _installed_channel(channel: str) -> str | None:
    for candidate in _CHANNEL_PATHS.get(channel, {}).get(_platform_key(), []):
        path = os.path.expandvars(candidate)
        if Path(path).is_file():
            return path
    return None


def _playwright_chromium() -> str | None:
    """Playwright's own Chromium download, when `playwright install chromium` was run on this machine."""
    default_root = {
        "linux": "~/.cache/ms-playwright",
        "darwin": "~/Library/Caches/ms-playwright",
        "win32": "%USERPROFILE%/AppData/Local/ms-playwright",
    }[_platform_key()]
    root = os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or os.path.expandvars(os.path.expanduser(default_root))
    patterns = {
        "linux": "chromium-*/chrome-linux*/chrome",
        "darwin": "chromium-*/chrome-mac*/Chromium.app/Contents/MacOS/Chromium",
        "win32": "chromium-*/chrome-win*/chrome.exe",
    }
    found = sorted(glob.glob(os.path.join(root, patterns[_platform_key()])))
    return found[-1] if found else None


def _system_chromium() -> str | None:
    for name in _SYSTEM_CHROMIUM:
        path = shutil.which(name)
        if path:
            return path
    return None


def launch_args(extra: list[str] | tuple[str, ...] = ()) -> tuple[str, ...]:
    args = list(QUIET_FLAGS)
    if platform.system() == "Linux" and hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox on
    return tuple(dict.fromkeys([*args, *extra]))


def find_browser(config: BrowserConfig | None = None) -> BrowserChoice:
    """The first usable browser in discovery order; BrowserNotFound says exactly how to get one."""
    config = config or BrowserConfig()
    args = launch_args(config.args)
    if config.executable_path:
        if not Path(config.executable_path).is_file():
            raise BrowserNotFound(
                f"browser.executable_path {config.executable_path} does not exist",
                f"correct browser.executable_path, or remove it so that cifcheck finds a browser{_would_find(args)}",
            )
        return BrowserChoice("config browser.executable_path", executable_path=config.executable_path, args=args)
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        if not Path(from_env).is_file():
            raise BrowserNotFound(
                f"{ENV_VAR}={from_env} does not exist",
                f"point {ENV_VAR} at a Chromium-family browser (Chrome, Edge, Chromium), or unset it so that "
                f"cifcheck finds one{_would_find(args)}",
            )
        return BrowserChoice(f"environment {ENV_VAR}", executable_path=from_env, args=args)
    if config.channel:
        if config.channel not in _CHANNEL_PATHS or _installed_channel(config.channel):
            return BrowserChoice("config browser.channel", channel=config.channel, args=args)
        missing = channel_missing(config.channel)
        fallback = _discovered(args)
        if fallback is None:
            raise BrowserNotFound(missing, f"install it: `{install_command(config.channel)}`")
        return replace(fallback, source=f"{fallback.source}, as {missing}")
    found = _discovered(args)
    if found is None:
        raise BrowserNotFound("no browser found", install_hint())
    return found


def _discovered(args: tuple[str, ...]) -> BrowserChoice | None:
    """What discovery finds when nothing is configured: Chrome or Edge, Playwright's Chromium, a system one."""
    for channel in ("chrome", "msedge"):
        if _installed_channel(channel):
            return BrowserChoice(f"installed {channel}", channel=channel, args=args)
    own = _playwright_chromium()
    if own:
        return BrowserChoice("Playwright's Chromium", executable_path=own, args=args)
    system = _system_chromium()
    if system:
        return BrowserChoice("system Chromium", executable_path=system, args=args)
    return None


def _would_find(args: tuple[str, ...]) -> str:
    found = _discovered(args)
    return f" (it would use {found.describe()})" if found else f" ({install_hint()})"


def channel_missing(channel: str) -> str:
    return f"channel {channel}: {_CHANNEL_NAMES[channel]} is not installed"


def install_command(channel: str, reinstall: bool = False) -> str:
    """Playwright's installer for a browser channel (Chrome and Edge need root on Linux: they come as packages)."""
    return f"python -m playwright install {'--force ' if reinstall else ''}{channel}"


def install_hint() -> str:
    if _platform_key() == "linux" and shutil.which("apt-get"):
        return "install one with `apt-get install -y chromium` (as root), or set CIFCHECK_BROWSER"
    return (
        "install Google Chrome or Microsoft Edge, or run `python -m playwright install chromium`, or set "
        "CIFCHECK_BROWSER to a Chromium-family browser"
    )


def launch_fix(choice: BrowserChoice) -> str:
    """The fix for a browser that was found but does not start (or starts and is no browser), by how it was found."""
    if choice.source.startswith("environment"):
        return (
            f"point {ENV_VAR} at a Chromium-family browser (Chrome, Edge, Chromium), or unset it so that cifcheck "
            f"finds one{_would_find(choice.args)}"
        )
    if choice.source.startswith("config browser.executable_path"):
        return (
            f"correct browser.executable_path, or remove it so that cifcheck finds a browser{_would_find(choice.args)}"
        )
    if choice.channel:
        name = _CHANNEL_NAMES.get(choice.channel, choice.channel)
        return f"reinstall {name}: `{install_command(choice.channel, reinstall=True)}`"
    if choice.source.startswith("Playwright's"):
        return "reinstall it: `python -m playwright install --force chromium`"
    if _platform_key() == "linux" and shutil.which("apt-get"):
        return f"reinstall it: `apt-get install --reinstall -y chromium` (as root), or set {ENV_VAR} to another browser"
    return f"reinstall {choice.executable_path}, or set {ENV_VAR} to another Chromium-family browser"


def discovery_report(config: BrowserConfig | None = None) -> list[tuple[str, str | None]]:
    """Every place discovery looks, with what it found there (for `cifcheck doctor`)."""
    config = config or BrowserConfig()
    return [
        ("config browser.executable_path", config.executable_path),
        (f"environment {ENV_VAR}", os.environ.get(ENV_VAR)),
        ("config browser.channel", config.channel),
        ("installed chrome", _installed_channel("chrome")),
        ("installed msedge", _installed_channel("msedge")),
        ("Playwright's Chromium", _playwright_chromium()),
        ("system Chromium", _system_chromium()),
    ]


def launch_options(choice: BrowserChoice, headless: bool = True) -> dict:
    """Keyword arguments for Playwright's launch() and launch_persistent_context().

    Ctrl-C in a terminal reaches the whole process group, Playwright's driver too. With `handle_sigint` (its
    default) the driver closes the browser and exits at once, so the run's own close finds no driver ("Future
    exception was never retrieved ... Connection closed while reading from the driver"). cifcheck handles the
    interrupt and closes the browser itself."""
    return {
        "executable_path": choice.executable_path,
        "channel": choice.channel,
        "headless": headless,
        "args": list(choice.args),
        "handle_sigint": False,
    }


def close_page(page: Page) -> None:
    """Close a page that may still be loading.

    Chromium 156 ignores a close that arrives before the document has loaded, and Playwright's `page.close()` then
    waits for ever (reproduced with no script or listener on the page). Leaving for about:blank first, which
    loads at once, makes the close land."""
    with contextlib.suppress(PlaywrightError):  # a page that will not leave (a crashed one) is closed as it is
        page.goto("about:blank", timeout=5_000)
    page.close()
