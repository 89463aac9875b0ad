"""Secrets for unattended sign-in, read from environment variables or an owner-only file at the moment of use.

They are never stored in the config, the evidence or a report, and their repr hides them.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cifcheck.config import ConfigError, Credentials, not_utf8, parse_json_text, regular_file
from cifcheck.redact import register_secret
from cifcheck.totp import TotpSecretError, secret_bytes


@dataclass(frozen=True)
class SignInSecrets:
    username: str
    password: str = field(repr=False)
    totp_secret: str | None = field(default=None, repr=False)


def _from_file(path: Path) -> SignInSecrets:
    mode = regular_file(path, "credentials file").st_mode
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path}: credentials file is readable by others; run: chmod 600 {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: credentials file not found") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: {not_utf8(path)}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read credentials file: {error.strerror}") from None
    data = parse_json_text(text, str(path), ConfigError)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a JSON object with username and password")
    unknown = sorted(set(data) - {"username", "password", "totp_secret"})
    if unknown:
        raise ConfigError(f"{path}: {unknown[0]}: unknown field")
    for name in ("username", "password"):
        if not isinstance(data.get(name), str) or not data[name]:
            raise ConfigError(f"{path}: {name}: missing or not a string")
    secret = data.get("totp_secret")
    if secret is not None and not isinstance(secret, str):
        raise ConfigError(f"{path}: totp_secret: not a string")
    return SignInSecrets(data["username"], data["password"], secret or None)


def load_secrets(spec: Credentials) -> SignInSecrets | None:
    """The secrets `spec` points at, or None when none are configured (the run then relies on a saved session).

    Every secret loaded is registered for redaction, and a TOTP secret is checked before any browser starts."""
    secrets = _load(spec)
    if secrets is not None:
        register_secret(secrets.password)
        register_secret(secrets.totp_secret)
        if secrets.totp_secret:
            try:
                secret_bytes(secrets.totp_secret)
            except TotpSecretError as error:
                source = spec.file or spec.totp_secret_env
                raise ConfigError(f"{source}: {error}") from None
    return secrets


def _load(spec: Credentials) -> SignInSecrets | None:
    if spec.file:
        return _from_file(Path(spec.file))
    username = os.environ.get(spec.username_env)
    password = os.environ.get(spec.password_env)
    if not username and not password:
        if os.environ.get(spec.totp_secret_env):
            raise ConfigError(
                f"environment: {spec.totp_secret_env} is set but {spec.username_env} and {spec.password_env} are not"
            )
        return None
    if not username or not password:
        present, missing = (
            (spec.username_env, spec.password_env) if username else (spec.password_env, spec.username_env)
        )
        raise ConfigError(f"environment: {present} is set but {missing} is not")
    return SignInSecrets(username, password, os.environ.get(spec.totp_secret_env) or None)
