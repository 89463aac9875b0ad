"""The README is the manual: self-contained, and naming every config field and command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from cifcheck.config import Config, Target

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _config_row(section: str) -> str:
    row = re.search(rf"^\| `{re.escape(section)}` \|(.*)$", README, re.MULTILINE)
    assert row, f"README's config table has no row for {section}"
    return row.group(1)


def test_every_link_in_the_readme_stays_in_the_repository():
    for target in re.findall(r"\]\(([^)#]+)", README):
        if target.startswith("https://"):
            continue
        assert not target.startswith(("..", "/")), target
        assert (ROOT / target).exists(), target


def test_the_readme_names_no_path_outside_the_repository():
    assert "../" not in README


SECTIONS = [
    (name, field.annotation)
    for name, field in Config.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
]


@pytest.mark.parametrize(("section", "model"), SECTIONS, ids=[name for name, _ in SECTIONS])
def test_every_field_of_each_config_section_is_in_the_readme(section: str, model: type[BaseModel]):
    row = _config_row(section)
    missing = [name for name in model.model_fields if f"`{name}`" not in row]
    assert not missing, f"{section}: {missing}"


def test_every_target_field_is_in_the_readme():
    row = _config_row("targets[]")
    missing = [name for name in Target.model_fields if f"`{name}`" not in row]
    assert not missing, missing


def test_the_default_app_is_in_the_readme():
    assert "msdyn_CustomerServiceWorkspace" in _config_row("targets[]")
    assert "OmniChannelEngagementHub" in _config_row("targets[]")
