"""`cifcheck doctor`: which browser would be used, every place looked at, and the exact fix when none works."""

from __future__ import annotations

import click

from cifcheck.browser import BrowserNotFound, discovery_report, find_browser, launch_options
from cifcheck.config import BrowserConfig
from cifcheck.text import safe_text


def diagnose(config: BrowserConfig | None, launch: bool) -> int:
    config = config or BrowserConfig()
    click.echo("Browser discovery, in order:")
    for place, found in discovery_report(config):
        click.echo(f"  {place:32} {safe_text(found or '-')}")  # file and folder names are anyone's text
    try:
        choice = find_browser(config)
    except BrowserNotFound as error:
        click.echo(f"MISSING: {safe_text(str(error))}")
        return 1
    click.echo(f"Using: {choice.describe()}")
    click.echo(f"Flags: {' '.join(choice.args)}")
    if not launch:
        return 0
    from playwright.sync_api import Error, sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(**launch_options(choice))
            click.echo(f"Launched: {browser.browser_type.name} {browser.version} — OK")
            browser.close()
    except Error as error:
        click.echo(f"BROKEN: the browser did not start: {safe_text(str(error).splitlines()[0])}")
        click.echo("Fix: reinstall it (Debian: `apt-get install --reinstall -y chromium`) or set CIFCHECK_BROWSER.")
        return 1
    return 0
