"""Config problems in plain words: every problem on its own line naming the field (`targets[0].url`), the validator's
jargon ("Input should be a valid integer", "String should match pattern '^[A-Za-z0-9]…'") replaced by what to write,
and "did you mean" for a near miss."""

from __future__ import annotations

import difflib
import inspect
import types
import typing
from collections.abc import Iterable

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

# More than this many problems are summed up as "and N more": the first ones are enough to start fixing.
MAX_PROBLEMS = 10

_TYPE_WORDS = {
    "missing": "missing",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": 'must be text in double quotes ("...")',
    "list_type": "must be a list ([...])",
    "dict_type": "must be an object ({...})",
    "model_type": "must be an object ({...})",
    "model_attributes_type": "must be an object ({...})",
}

# A pattern says what it allows in words, not as a regular expression.
PATTERN_WORDS = {
    r"^[A-Za-z0-9][A-Za-z0-9_.-]*$": "may hold only letters, digits, '.', '_' and '-', starting with a letter or digit",
    r"^[a-z0-9-]+$": "may hold only lower-case letters, digits and '-'",
}


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest choice, or "" when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def field_path(location: tuple[str | int, ...]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _model_in(annotation: object) -> type[BaseModel] | None:
    """The model an annotation holds (`list[Target]` -> Target, `Credentials | None` -> Credentials)."""
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.GenericAlias | types.UnionType) or typing.get_origin(annotation):
        return next((m for m in map(_model_in, typing.get_args(annotation)) if m), None)
    return None


def _field_names_at(root: type[BaseModel], location: tuple[str | int, ...]) -> list[str]:
    """The field names (as written in the file) of the object at `location`, or [] when it is not a model."""
    model: type[BaseModel] | None = root
    for part in location:
        if isinstance(part, int) or model is None:
            continue  # a list index: the item model was taken with the list's field
        fields = {info.alias or name: info for name, info in model.model_fields.items()}
        model = _model_in(fields[part].annotation) if part in fields else None
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _plain_words(error: ErrorDetails, root: type[BaseModel]) -> str:
    kind, context = error["type"], error.get("ctx", {})
    if kind == "extra_forbidden":
        unknown = str(error["loc"][-1])
        return "unknown field" + did_you_mean(unknown, _field_names_at(root, error["loc"][:-1]))
    if kind in _TYPE_WORDS:
        return _TYPE_WORDS[kind]
    if kind == "string_pattern_mismatch":
        return PATTERN_WORDS.get(context.get("pattern", ""), f"does not match {context.get('pattern')}")
    if kind == "literal_error":
        given = error["input"] if isinstance(error["input"], str) else ""
        choices = [choice.strip("'") for choice in str(context.get("expected", "")).replace(" or ", ", ").split(", ")]
        return f"must be {context.get('expected')}" + did_you_mean(given, choices)
    if kind == "greater_than_equal":
        return f"must be {context.get('ge')} or more"
    if kind == "less_than_equal":
        return f"must be {context.get('le')} or less"
    if kind == "too_short":
        wanted = context.get("min_length", 1)
        return "must not be empty" if wanted == 1 else f"must hold at least {wanted} items"
    if kind == "string_too_long":
        return f"may be at most {context.get('max_length')} characters long"
    message = error["msg"].removeprefix("Value error, ")
    return message.replace("Input should be", "must be").replace("String should", "must")


def problems(error: ValidationError, root: type[BaseModel]) -> list[str]:
    """One line per problem, `field.path: what is wrong`."""
    lines = []
    for detail in error.errors():
        where = field_path(detail["loc"])
        lines.append(f"{where + ': ' if where else ''}{_plain_words(detail, root)}")
    return list(dict.fromkeys(lines))


def capped(lines: list[str]) -> list[str]:
    """At most MAX_PROBLEMS lines, then "and N more"."""
    if len(lines) <= MAX_PROBLEMS:
        return lines
    return [*lines[:MAX_PROBLEMS], f"and {len(lines) - MAX_PROBLEMS} more"]
