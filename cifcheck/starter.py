"""`cifcheck init`: a starter config for a real org, with notes on what to fill in and its JSON Schema beside it.

JSON has no comments. The notes are `$comment` fields, the JSON Schema keyword for notes to people, which the
config accepts on every object: the file stays plain JSON that any tool reads (jq, Python, CI scripts), where
JSON-with-comments would need cifcheck's own parser and make editors flag a `.json` file as broken.

The schema is written beside the config (`cifcheck.config.schema.json`, named by `"$schema": "./…"`): editors
resolve `$schema` relative to the file, so completion works wherever the folder is cloned, with no network and no
path into a virtual environment. It is generated, so init rewrites it to the installed version's every time.
"""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from cifcheck.config import DEFAULT_CONFIG, ConfigError, config_schema, not_a_file, parse_config
from cifcheck.config_sources import url_target

SCHEMA_FILE = "cifcheck.config.schema.json"
EXAMPLE_URL = "https://contoso.crm.dynamics.com"


@dataclass
class Written:
    config: Path
    schema: Path
    notes: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)


def starter_config(url: str, app: str) -> dict:
    target, _ = url_target(url, app)
    return {
        "$schema": f"./{SCHEMA_FILE}",
        "$comment": [
            "A cifcheck config for one org. Each $comment says what to fill in; cifcheck ignores them.",
            "Relative paths are relative to this file's folder. Every field: `cifcheck schema config` or the README.",
        ],
        "targets": [
            {
                "$comment": [
                    "url: the org's root URL, nothing after the host (an address-bar URL is trimmed to it).",
                    "app: the app to check: msdyn_CustomerServiceWorkspace (Customer Service workspace), "
                    "OmniChannelEngagementHub (Omnichannel for Customer Service), another app's unique name, "
                    "or its app id (a GUID).",
                    "expect.providers: unique names or labels of the channel providers that must be configured "
                    "(empty: any).",
                    "expect.panel_mode: the mode the communication panel must end in: docked, minimized, hidden or "
                    "collapsed.",
                ],
                "name": target.name,
                "url": target.url,
                "app": target.app,
                "expect": {"providers": [], "panel_mode": "docked"},
            }
        ],
        "auth": {
            "$comment": "storage_state: where `cifcheck login` saves the signed-in session (owner-only; keep it out "
            "of version control). Unattended runs: set CIFCHECK_USERNAME and CIFCHECK_PASSWORD instead.",
            "storage_state": ".cifcheck/auth/state.json",
        },
        "browser": {
            "$comment": 'Add "channel": "chrome" or "msedge" to use an installed Chrome or Edge; without it cifcheck '
            "finds a browser itself (`cifcheck doctor` shows which).",
            "headless": True,
        },
        "output_dir": "reports",
    }


def write_starter(path: Path, url: str | None, app: str | None, *, force: bool) -> Written:
    """Write the starter config at `path` (never over an existing file unless `force`) and the schema beside it."""
    target, notes = url_target(url or EXAMPLE_URL, app)
    data = starter_config(target.url, target.app)
    parse_config(data, str(path))  # what init writes, config check accepts
    if path.name == SCHEMA_FILE:  # the schema written next would replace the config
        raise ConfigError(f"{path}: init writes its schema under that name; choose another --file")
    exists = f"{path}: already exists; pass --force to overwrite it, or --file to write another"
    if os.path.lexists(path) and not force:
        raise ConfigError(exists)
    schema = path.parent / SCHEMA_FILE
    _writable_file(path)
    _writable_file(schema)
    if not force and not _ours(schema):
        raise ConfigError(f"{schema}: already exists and is not a schema cifcheck wrote; pass --force to overwrite it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created exclusively without --force: an init running at the same time has not written it since the look.
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
        with open(os.open(path, flags, 0o666), "w", encoding="utf-8") as file:
            file.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        schema.write_text(json.dumps(config_schema(), indent=2) + "\n", encoding="utf-8")
    except FileExistsError:
        raise ConfigError(exists) from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot write the config: {error.strerror or error}") from None
    option = "" if path == Path(DEFAULT_CONFIG) else f" --config {shlex.quote(str(path))}"
    steps = [] if url else [f"Replace the example org URL {EXAMPLE_URL} with yours (targets[0].url)."]
    steps += [
        f"cifcheck config check{option}    # what a run would refuse, without a browser",
        f"cifcheck login{option}           # sign in once; the session is saved for headless runs",
        f"cifcheck run{option}",
    ]
    return Written(path, schema, notes, steps)


def _writable_file(path: Path) -> None:
    """Nothing but a regular file is written over: opening a named pipe to write waits for a reader for ever."""
    try:
        kind = not_a_file(path.stat().st_mode)
    except OSError:  # absent (or unreadable: writing it then says why)
        return
    if kind:
        raise ConfigError(f"{path} is {kind}, not a file; init writes files only")


def _ours(schema: Path) -> bool:
    """Whether `schema` is absent or a config schema an init wrote (of any version), which init keeps up to date."""
    try:
        written = json.loads(schema.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return True
    except (OSError, ValueError):
        return False
    definitions = written.get("$defs") if isinstance(written, dict) else None
    return written.get("title") == "Config" and isinstance(definitions, dict) and "Target" in definitions
