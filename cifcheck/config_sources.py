"""Which config a command uses: the file given with `--config`; else `./playwright.config.json` when there is one;
else the default bundled in the package, which validates the bundled sandbox org (so `cifcheck run` works from any
folder after `pip install`). `--url` then replaces its targets with one org."""

from __future__ import annotations

import ipaddress
import os
import re
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError

from cifcheck.config import (
    DEFAULT_CONFIG,
    Config,
    ConfigError,
    Target,
    check_url,
    load_config,
    org_root,
    parse_config,
    parse_json_text,
    trimmed_note,
)
from cifcheck.config_messages import problems

BUNDLED_CONFIG = "default.config.json"


def bundled_config() -> Config:
    """The package's own config: the sandbox org, its paths relative to the current folder (reports in ./reports)."""
    text = files("cifcheck").joinpath(BUNDLED_CONFIG).read_text(encoding="utf-8")
    return parse_config(parse_json_text(text, BUNDLED_CONFIG, ConfigError), BUNDLED_CONFIG)


def config_in_use(path: str | None) -> Config:
    """The config named by `--config` (an error when it does not exist), else ./playwright.config.json, else the
    bundled default. A file in the current folder that exists but cannot be read is an error too, never skipped."""
    if path is not None:
        return load_config(path)
    if os.path.lexists(DEFAULT_CONFIG):
        return load_config(DEFAULT_CONFIG)
    return bundled_config()


def target_name(url: str) -> str:
    """A target name for an org URL: the host's first label (`contoso` for contoso.crm.dynamics.com), an IP address
    whole, with the port when there is one (`localhost-8400`)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        host = host.split(".")[0]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", host).strip("-._") or "org"
    return f"{name}-{parts.port}" if parts.port else name


def url_target(url: str, app: str | None) -> tuple[Target, list[str]]:
    """The one target `--url URL [--app NAME]` names, and the notes to tell (an address-bar URL trimmed)."""
    notes = []
    trimmed = org_root(url)
    if trimmed:
        url, app_in_url = trimmed
        app_in_url = None if app else app_in_url
        app = app or app_in_url
        notes.append(trimmed_note("--url", url, app_in_url, "--app"))
    try:
        check_url(url, ("http", "https"), org_root=True)
    except ValueError as error:
        raise ConfigError(f"--url: {error}") from None
    fields = {"name": target_name(url), "url": url, **({"app": app} if app else {})}
    try:
        return Target.model_validate(fields), notes  # `app` left out when not given: shown as the default
    except ValidationError as error:  # never a traceback: one line, naming the option
        raise ConfigError(*(f"--url: {problem}" for problem in problems(error, Target))) from None


def with_url_target(config: Config, url: str, app: str | None) -> Config:
    """`config` with its targets replaced by the org `--url` names (its other settings kept)."""
    target, notes = url_target(url, app)
    config.targets = [target]
    config.notes.extend(notes)
    return config


def config_label(config: Config) -> str:
    """How messages name the config: its file, or the bundled default's name."""
    return config.source_file or f"the bundled default config ({Path(BUNDLED_CONFIG).name})"
