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

from cifcheck.config import DEFAULT_CONFIG, ConfigError, config_schema, parse_config
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
    if os.path.lexists(path) and not force:
        raise ConfigError(f"{path}: already exists; pass --force to overwrite it, or --file to write another")
    schema = path.parent / SCHEMA_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        schema.write_text(json.dumps(config_schema(), indent=2) + "\n", encoding="utf-8")
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
