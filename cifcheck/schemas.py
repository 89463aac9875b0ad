"""The published JSON Schemas: the config users write, and the result and evidence cifcheck writes."""

from __future__ import annotations

from collections.abc import Callable

from cifcheck.config import config_schema
from cifcheck.evidence import Evidence
from cifcheck.results import RunResult

SCHEMAS: dict[str, Callable[[], dict]] = {
    "config": config_schema,
    "result": lambda: RunResult.model_json_schema(mode="serialization"),
    "evidence": lambda: Evidence.model_json_schema(mode="serialization"),
}
