"""A small in-memory emulation of the Dataverse Web API's reads (OData 4.0 GETs), for the sandbox org.

It answers `/api/data/v9.2/<path>` GETs over a few tables the way Dataverse does, so that cifcheck's Web API client
(cifcheck/probes/webapi.py) meets the same answers, errors and paging in the sandbox as in a real org:
- paths: `<set>`, `<set>(<guid>)` and `<set>(<guid>)/<nav>` for an N:N navigation property;
- `$select` (the key and `@odata.etag` always come along), `$filter`, `$orderby`, `$top` and `$expand` of N:N
  navigation properties with their own `$select`, `$filter`, `$orderby` and `$top`;
- `$filter`: eq ne gt ge lt le, and or not, parentheses, contains/startswith/endswith, string, number, boolean, null
  and GUID literals, and the lambda operators any/all over N:N navigation properties. Strings compare
  case-insensitively (Dataverse's default collation); comparing values of incompatible types is an error;
- server-driven paging (`Prefer: odata.maxpagesize`) with next links whose `$skiptoken` is an opaque paging cookie
  in Dataverse's shape, signed so that a cookie the client changed or invented is refused;
- older Dataverse versions' deferred expands: a collection's expanded N:N properties as an empty list plus a next
  link to the related records, which clients must follow;
- Dataverse's error bodies and status codes for unknown segments, properties, records and syntax errors.

Null semantics follow Dataverse: `eq`/`ne` treat null as a value (`x ne 'a'` holds for a null x, `x eq null` finds
nulls), while an ordering comparison or a string function over a null is unknown, so neither it nor its `not` holds.

Left out: writes, `$count`, `$apply`, `$skip` (refused, as Dataverse refuses it), `$search`, FetchXML and saved
queries (refused), arithmetic and Dataverse's query functions (Microsoft.Dynamics.CRM.*), parameter aliases, alternate
keys, single-valued (lookup) navigation in paths, filters and expands, property paths (`<set>(<id>)/<column>`),
`$metadata`, annotations (formatted values, `odata.include-annotations`), date and time types, and LIKE wildcards in
contains/startswith/endswith. Records without an `$orderby` keep the table's order (Dataverse orders by the primary
key). The tables are a snapshot taken when the Store is made.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlencode

# --- the data ------------------------------------------------------------------------------------------------


@dataclass
class Table:
    entity_set: str  # "msdyn_channelproviders"
    entity: str  # logical name "msdyn_channelprovider" (used in @odata.context and error messages)
    key: str  # "msdyn_channelproviderid"; every row has it (a GUID string)
    rows: list[dict]  # column -> value (str, int, bool, None, float); every row of a table has the same columns
    # Lookup columns, stored as "_<name>_value" in rows; either form may be given here.
    lookups: tuple[str, ...] = ()
    # The table's columns when it has no rows (with rows, they are the rows' own).
    columns: tuple[str, ...] = ()


@dataclass
class Relation:
    """An N:N relationship: the same navigation property name on both sides (as in Dataverse for these tables)."""

    name: str  # "msdyn_appconfig_msdyn_channelprovider"
    left: str  # entity set, e.g. "msdyn_appconfigurations"
    right: str  # e.g. "msdyn_channelproviders"
    pairs: set[tuple[str, str]]  # (left key, right key)


@dataclass
class Answer:
    status: int
    body: dict
    headers: dict[str, str]


Value = str | int | float | bool | None
Row = dict[str, Value]
# The rows an expression sees, by range variable: "$it" is the record being filtered, a lambda's variable the
# related record it ranges over.
Scope = dict[str, Row]
Getter = Callable[[Scope], Value]

STRING, INT, DOUBLE, DECIMAL, BOOLEAN, GUID = (
    "Edm.String",
    "Edm.Int32",
    "Edm.Double",
    "Edm.Decimal",
    "Edm.Boolean",
    "Edm.Guid",
)
_NUMBERS = {INT, DOUBLE, DECIMAL}
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# OData-Version on every answer, as Dataverse sends it.
_HEADERS = {"OData-Version": "4.0"}


class ODataError(Exception):
    """A request Dataverse would refuse: its status and Dataverse's error code and message."""

    def __init__(self, status: int, message: str, code: str = "0x80060888") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def _no_property(name: str, entity: str) -> ODataError:
    return ODataError(400, f"Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.{entity}'.")


def _no_segment(segment: str) -> ODataError:
    return ODataError(404, f"Resource not found for the segment '{segment}'.")


@dataclass
class _Navigation:
    """One side of an N:N relationship: from a record's key to its related records."""

    name: str
    target: _TableIndex
    related: dict[str, list[Row]]  # record key (lower case) -> related rows, in the target table's order


@dataclass
class _TableIndex:
    """A table as the queries use it: columns with their types, rows by key, navigation properties."""

    entity_set: str
    entity: str
    key: str
    rows: list[Row]
    columns: tuple[str, ...]
    types: dict[str, str | None]  # column -> Edm type; None for a column holding only nulls
    position: dict[str, int]  # key (lower case) -> index in rows
    navigations: dict[str, _Navigation]

    def row(self, key: str) -> Row | None:
        index = self.position.get(key.lower())
        return None if index is None else self.rows[index]

    def etag(self, row: Row) -> str:
        # A row version as Dataverse has one per record: stable for the snapshot.
        return f'W/"{100_000 + self.position[str(row[self.key]).lower()]}"'


def _type_of(value: Value) -> str | None:
    if isinstance(value, bool):  # before int: a bool is an int to Python
        return BOOLEAN
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return DOUBLE
    return None if value is None else STRING


def _index(table: Table) -> _TableIndex:
    columns = tuple(table.rows[0]) if table.rows else table.columns or (table.key,)
    lookups = {name if name.startswith("_") and name.endswith("_value") else f"_{name}_value" for name in table.lookups}
    if table.key not in columns or not lookups <= set(columns):
        raise ValueError(f"{table.entity_set}: the key and every lookup must be columns")
    position: dict[str, int] = {}
    for index, row in enumerate(table.rows):
        if set(row) != set(columns):
            raise ValueError(f"{table.entity_set}: row {index} does not have the table's columns")
        key = row[table.key]
        if not isinstance(key, str) or not _GUID.fullmatch(key) or key.lower() in position:
            raise ValueError(f"{table.entity_set}: row {index} has no key of its own (a GUID)")
        position[key.lower()] = index
    types: dict[str, str | None] = {}
    for column in columns:
        if column == table.key or column in lookups:
            types[column] = GUID
        else:
            types[column] = next((_type_of(row[column]) for row in table.rows if row[column] is not None), None)
    return _TableIndex(table.entity_set, table.entity, table.key, table.rows, columns, types, position, {})


# --- $filter: tokens -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "string", "guid", "number", "name", one of "(),:/", or "end"
    text: str
    position: int


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<string>'(?:[^']|'')*')
    | (?P<guid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\w-]))
    | (?P<number>-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w.]))
    | (?P<name>\$?[a-z_]\w*)
    | (?P<punctuation>[(),:/])
    """,
    re.VERBOSE | re.IGNORECASE | re.ASCII,
)
_COMPARISONS = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
# The names of the comparison operators in Dataverse's (ODL's) error messages.
_OPERATOR_KINDS = {
    "eq": "Equal",
    "ne": "NotEqual",
    "gt": "GreaterThan",
    "ge": "GreaterThanOrEqual",
    "lt": "LessThan",
    "le": "LessThanOrEqual",
    "and": "And",
    "or": "Or",
}
_RESERVED = {"and", "or", "not", *_COMPARISONS}


def _syntax_error(text: str, position: int) -> ODataError:
    return ODataError(400, f"Syntax error at position {position} in '{text}'.")


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise _syntax_error(text, position)
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(_Token(match[0] if kind == "punctuation" else kind, match[0], position))
        position = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


# --- $filter: the syntax tree and its parser ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Literal:
    value: Value
    type: str | None  # None for null


@dataclass(frozen=True)
class _Member:
    path: tuple[str, ...]  # ("statecode",) or, in a lambda, ("x", "statecode")


@dataclass(frozen=True)
class _Comparison:
    operator: str
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _Logical:
    operator: str  # "and" or "or"
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _Not:
    operand: _Node


@dataclass(frozen=True)
class _Call:
    function: str
    arguments: tuple[_Node, ...]


@dataclass(frozen=True)
class _Lambda:
    path: tuple[str, ...]  # the navigation property, maybe after a range variable: ("nav",) or ("x", "nav")
    quantifier: str  # "any" or "all"
    variable: str | None  # None for any()
    body: _Node | None


_Node = _Literal | _Member | _Comparison | _Logical | _Not | _Call | _Lambda


class _Parser:
    """Recursive descent over OData's grammar, lowest precedence first: or, and, comparisons, not, primaries."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0

    def parse(self) -> _Node:
        node = self._or()
        self._expect("end")
        return node

    def _peek(self) -> _Token:
        return self.tokens[self.at]

    def _take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def _expect(self, kind: str) -> _Token:
        if self._peek().kind != kind:
            raise _syntax_error(self.text, self._peek().position)
        return self._take()

    def _keyword(self, *words: str) -> str | None:
        token = self._peek()
        if token.kind == "name" and token.text in words:
            self.at += 1
            return token.text
        return None

    def _or(self) -> _Node:
        node = self._and()
        while self._keyword("or"):
            node = _Logical("or", node, self._and())
        return node

    def _and(self) -> _Node:
        node = self._comparison()
        while self._keyword("and"):
            node = _Logical("and", node, self._comparison())
        return node

    def _comparison(self) -> _Node:
        node = self._unary()
        while word := self._keyword(*_COMPARISONS):
            node = _Comparison(word, node, self._unary())
        return node

    def _unary(self) -> _Node:
        # `not` binds tighter than a comparison, as in OData: `not a eq b` is `(not a) eq b`.
        if self._keyword("not"):
            return _Not(self._unary())
        return self._primary()

    def _primary(self) -> _Node:
        token = self._take()
        if token.kind == "(":
            node = self._or()
            self._expect(")")
            return node
        if token.kind == "string":
            return _Literal(token.text[1:-1].replace("''", "'"), STRING)
        if token.kind == "guid":
            return _Literal(token.text.lower(), GUID)
        if token.kind == "number":
            if any(mark in token.text for mark in ".eE"):
                return _Literal(float(token.text), DECIMAL)
            return _Literal(int(token.text), INT)
        if token.kind != "name" or token.text in _RESERVED:
            raise _syntax_error(self.text, token.position)
        if token.text in ("true", "false"):
            return _Literal(token.text == "true", BOOLEAN)
        if token.text == "null":
            return _Literal(None, None)
        if self._peek().kind == "(":
            return self._call(token.text)
        path = [token.text]
        while self._peek().kind == "/":
            self._take()
            segment = self._expect("name").text
            if segment in ("any", "all") and self._peek().kind == "(":
                return self._lambda(tuple(path), segment)
            path.append(segment)
        return _Member(tuple(path))

    def _call(self, function: str) -> _Call:
        self._expect("(")
        arguments = [self._or()]
        while self._peek().kind == ",":
            self._take()
            arguments.append(self._or())
        self._expect(")")
        return _Call(function, tuple(arguments))

    def _lambda(self, path: tuple[str, ...], quantifier: str) -> _Lambda:
        self._expect("(")
        if quantifier == "any" and self._peek().kind == ")":
            self._take()
            return _Lambda(path, quantifier, None, None)
        variable = self._expect("name").text
        self._expect(":")
        body = self._or()
        self._expect(")")
        return _Lambda(path, quantifier, variable, body)


# --- $filter: compiled to closures -------------------------------------------------------------------------------


def _normalizer(edm_type: str | None) -> Callable[[Value], Value]:
    """How values of a type compare: strings case-insensitively (Dataverse's default collation), GUIDs in any case."""
    if edm_type == STRING:
        return lambda value: value.casefold() if isinstance(value, str) else value
    if edm_type == GUID:
        return lambda value: value.lower() if isinstance(value, str) else value
    return lambda value: value


def _compatible(left: str | None, right: str | None) -> bool:
    return left is None or right is None or left == right or (left in _NUMBERS and right in _NUMBERS)


class _Compiler:
    """Turns a filter's syntax tree into one closure over a Scope, checking names and types once, up front."""

    def __init__(self, root: _TableIndex) -> None:
        self.root = root

    def predicate(self, node: _Node) -> Callable[[Scope], bool | None]:
        getter, edm_type = self._compile(node, {"$it": self.root})
        if edm_type not in (BOOLEAN, None) or (isinstance(node, _Literal) and node.value is None):
            raise ODataError(400, "The $filter expression must evaluate to a single boolean value.")
        return getter  # type: ignore[return-value]  # a boolean expression's values are bools or None

    def _compile(self, node: _Node, variables: dict[str, _TableIndex]) -> tuple[Getter, str | None]:
        if isinstance(node, _Literal):
            value = node.value
            return (lambda scope: value), node.type
        if isinstance(node, _Member):
            return self._member(node, variables)
        if isinstance(node, _Comparison):
            return self._comparison(node, variables), BOOLEAN
        if isinstance(node, _Logical):
            return self._logical(node, variables), BOOLEAN
        if isinstance(node, _Not):
            operand, edm_type = self._compile(node.operand, variables)
            if edm_type not in (BOOLEAN, None):
                message = f"A unary operator with an incompatible type was detected. Found operand type '{edm_type}'"
                raise ODataError(400, f"{message} for operator kind 'Not'.")
            return (lambda scope: None if (value := operand(scope)) is None else not value), BOOLEAN
        if isinstance(node, _Call):
            return self._call(node, variables), BOOLEAN
        return self._lambda(node, variables), BOOLEAN

    @staticmethod
    def _resolve(path: tuple[str, ...], variables: dict[str, _TableIndex]) -> tuple[str, _TableIndex, tuple[str, ...]]:
        """The range variable a path starts from (`$it` when it names none), its table and the rest of the path."""
        if len(path) > 1 and path[0] in variables:
            return path[0], variables[path[0]], path[1:]
        return "$it", variables["$it"], path

    def _member(self, node: _Member, variables: dict[str, _TableIndex]) -> tuple[Getter, str | None]:
        variable, table, names = self._resolve(node.path, variables)
        if names[0] not in table.types:
            raise _no_property(names[0], table.entity)
        if len(names) > 1:  # a column has no properties of its own (lookups are not navigated here)
            raise _no_property(names[1], table.entity)
        column = names[0]
        return (lambda scope: scope[variable][column]), table.types[column]

    def _operand(self, node: _Node, getter: Getter, edm_type: str | None) -> Getter:
        normalize = _normalizer(edm_type)
        if isinstance(node, _Literal):  # normalized once, not per row
            constant = normalize(node.value)
            return lambda scope: constant
        return lambda scope: normalize(getter(scope))

    def _comparison(self, node: _Comparison, variables: dict[str, _TableIndex]) -> Getter:
        left_getter, left_type = self._compile(node.left, variables)
        right_getter, right_type = self._compile(node.right, variables)
        if not _compatible(left_type, right_type):
            raise ODataError(
                400,
                "A binary operator with incompatible types was detected. Found operand types "
                f"'{left_type}' and '{right_type}' for operator kind '{_OPERATOR_KINDS[node.operator]}'.",
            )
        left = self._operand(node.left, left_getter, left_type or right_type)
        right = self._operand(node.right, right_getter, left_type or right_type)
        compare = _COMPARISONS[node.operator]
        if node.operator in ("eq", "ne"):  # null is a value here: `x eq null` finds nulls, `x ne 'a'` keeps them
            return lambda scope: compare(left(scope), right(scope))

        def ordered(scope: Scope) -> bool | None:
            a, b = left(scope), right(scope)
            return None if a is None or b is None else compare(a, b)

        return ordered

    def _logical(self, node: _Logical, variables: dict[str, _TableIndex]) -> Getter:
        left, left_type = self._compile(node.left, variables)
        right, right_type = self._compile(node.right, variables)
        for edm_type in (left_type, right_type):
            if edm_type not in (BOOLEAN, None):
                raise ODataError(
                    400,
                    "A binary operator with incompatible types was detected. Found operand types "
                    f"'{left_type}' and '{right_type}' for operator kind '{_OPERATOR_KINDS[node.operator]}'.",
                )
        # Three-valued, as SQL evaluates it: unknown (None) and false is false, unknown or true is true.
        if node.operator == "and":

            def both(scope: Scope) -> bool | None:
                a = left(scope)
                if a is False:
                    return False
                b = right(scope)
                if b is False:
                    return False
                return None if a is None or b is None else True

            return both

        def either(scope: Scope) -> bool | None:
            a = left(scope)
            if a is True:
                return True
            b = right(scope)
            if b is True:
                return True
            return None if a is None or b is None else False

        return either

    def _call(self, node: _Call, variables: dict[str, _TableIndex]) -> Getter:
        tests: dict[str, Callable[[str, str], bool]] = {
            "contains": lambda text, part: part in text,
            "startswith": str.startswith,
            "endswith": str.endswith,
        }
        if node.function not in tests:
            raise ODataError(400, f"An unknown function with name '{node.function}' was found.")
        compiled = [self._compile(argument, variables) for argument in node.arguments]
        if len(compiled) != 2 or any(edm_type not in (STRING, None) for _, edm_type in compiled):
            raise ODataError(
                400,
                f"No function signature for the function with name '{node.function}' matches the specified "
                f"arguments. The function signatures considered are: {node.function}(Edm.String, Edm.String).",
            )
        (text_getter, _), (part_getter, _) = compiled
        text = self._operand(node.arguments[0], text_getter, STRING)
        part = self._operand(node.arguments[1], part_getter, STRING)
        test = tests[node.function]

        def call(scope: Scope) -> bool | None:
            a, b = text(scope), part(scope)
            return None if a is None or b is None else test(a, b)  # type: ignore[arg-type]

        return call

    def _lambda(self, node: _Lambda, variables: dict[str, _TableIndex]) -> Getter:
        variable, table, names = self._resolve(node.path, variables)
        if len(names) != 1 or names[0] not in table.navigations:
            if names[-1] in table.types:
                raise ODataError(400, "Any/All may only be used following a collection.")
            raise _no_property(names[-1], table.entity)
        navigation = table.navigations[names[0]]
        related, key = navigation.related, table.key
        if node.body is None or node.variable is None:  # nav/any(): has any related record
            return lambda scope: bool(related.get(str(scope[variable][key]).lower()))
        if node.variable in variables:
            raise ODataError(400, f"The range variable '{node.variable}' has already been declared.")
        body, edm_type = self._compile(node.body, {**variables, node.variable: navigation.target})
        if edm_type not in (BOOLEAN, None):
            raise ODataError(400, f"The expression of {names[0]}/{node.quantifier} must be a boolean.")
        name = node.variable
        quantifier = any if node.quantifier == "any" else all
        return lambda scope: quantifier(
            body({**scope, name: row}) is True for row in related.get(str(scope[variable][key]).lower(), ())
        )


# --- query options -----------------------------------------------------------------------------------------------


@dataclass
class _Expand:
    navigation: _Navigation
    query: _Query
    options: list[tuple[str, str]]  # the expand's own options as the client wrote them: a deferred link's query


@dataclass
class _Query:
    """A request's query options, checked and compiled once for all its rows."""

    table: _TableIndex
    select: tuple[str, ...] | None  # as asked, for @odata.context; None: every column
    output: tuple[str, ...]  # the columns a record carries: the selected ones and the key, in the table's order
    where: Callable[[Scope], bool | None] | None
    order: list[tuple[str, bool]]  # (column, descending)
    top: int | None
    expands: list[_Expand]

    def context(self, base_url: str, entity_set: str) -> str:
        """@odata.context of a collection: the set with its selected columns and expands, as ODL writes it."""
        parts = [*(self.select or ())]
        parts += [f"{e.navigation.name}({','.join(e.query.select or ())})" for e in self.expands]
        return f"{base_url}$metadata#{entity_set}" + (f"({','.join(parts)})" if parts else "")

    def evaluate(self, rows: list[Row]) -> list[Row]:
        if self.where is not None:
            where = self.where
            rows = [row for row in rows if where({"$it": row}) is True]
        for column, descending in reversed(self.order):  # stable sorts, last key first
            rows = sorted(rows, key=_sort_key(column, self.table.types[column]), reverse=descending)
        return rows if self.top is None else rows[: self.top]


def _sort_key(column: str, edm_type: str | None) -> Callable[[Row], tuple]:
    normalize = _normalizer(edm_type)
    # Nulls first when ascending, last when descending, as SQL Server sorts them.
    return lambda row: (0, 0) if row[column] is None else (1, normalize(row[column]))


def _split_outside(text: str, separator: str) -> list[str]:
    """`text` cut at each `separator` outside quotes and parentheses: $expand's items, an expand's options."""
    parts: list[str] = []
    depth, quoted, start = 0, False, 0
    for at, char in enumerate(text):
        if char == "'":
            quoted = not quoted  # an escaped quote ('') toggles twice and stays inside
        elif quoted:
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise _syntax_error(text, at)
        elif char == separator and depth == 0:
            parts.append(text[start:at])
            start = at + 1
    if depth or quoted:
        raise _syntax_error(text, len(text))
    parts.append(text[start:])
    return parts


_TOP_LEVEL_OPTIONS = ("$select", "$filter", "$orderby", "$top", "$expand", "$skiptoken")
_EXPAND_OPTIONS = ("$select", "$filter", "$orderby", "$top")
# Dataverse's own ways to query: not emulated, so refused rather than ignored (which would answer every row).
_DATAVERSE_QUERIES = ("fetchXml", "savedQuery", "userQuery")
_EXPAND_ITEM = re.compile(r"\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*", re.DOTALL | re.ASCII)
_EXPAND_OPTION = re.compile(r"\s*(\$?\w+)\s*=(.*)", re.DOTALL | re.ASCII)


def _options(query: list[tuple[str, str]]) -> dict[str, str]:
    options: dict[str, str] = {}
    for name, value in query:
        if name in _DATAVERSE_QUERIES:
            raise ODataError(400, f"The query parameter {name} is not supported by the sandbox org.")
        if not name.startswith("$"):
            continue  # a custom query option, which OData ignores
        if name not in _TOP_LEVEL_OPTIONS:
            raise ODataError(400, f"The query parameter {name} is not supported")
        if name in options:
            raise ODataError(
                400, f"Query option '{name}' was specified more than once, but it must be specified at most once."
            )
        options[name] = value
    return options


def _plan(table: _TableIndex, options: dict[str, str]) -> _Query:
    select: tuple[str, ...] | None = None
    if "$select" in options:
        names = [name.strip() for name in options["$select"].split(",")]
        for name in names:
            if not name:
                raise ODataError(400, f"Term '{options['$select']}' is not valid in a $select or $expand expression.")
            if name not in table.types:
                raise _no_property(name, table.entity)
        select = tuple(dict.fromkeys(names))
    output = table.columns if select is None else tuple(c for c in table.columns if c in select or c == table.key)
    where = _Compiler(table).predicate(_Parser(options["$filter"]).parse()) if "$filter" in options else None
    order: list[tuple[str, bool]] = []
    for item in options["$orderby"].split(",") if "$orderby" in options else ():
        words = item.split()
        if not 1 <= len(words) <= 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise _syntax_error(options["$orderby"], 0)
        if words[0] not in table.types:
            raise _no_property(words[0], table.entity)
        order.append((words[0], words[-1] == "desc"))
    top = None
    if "$top" in options:
        if not options["$top"].strip().isdigit():
            raise ODataError(
                400,
                f"Invalid value '{options['$top']}' for $top query option found. "
                "The $top query option requires a non-negative integer value.",
            )
        top = int(options["$top"])
    expands = _expands(table, options["$expand"]) if "$expand" in options else []
    return _Query(table, select, output, where, order, top, expands)


def _expands(table: _TableIndex, text: str) -> list[_Expand]:
    expands: list[_Expand] = []
    for item in _split_outside(text, ","):
        match = _EXPAND_ITEM.fullmatch(item)
        if match is None:
            raise ODataError(400, f"Term '{item}' is not valid in a $select or $expand expression.")
        name, inner = match[1], match[2]
        if name not in table.navigations:
            if name in table.types and name != table.key and table.types[name] != GUID:
                raise ODataError(
                    400,
                    f"Property '{name}' on type 'Microsoft.Dynamics.CRM.{table.entity}' is not a navigation "
                    "property or complex property. Only navigation properties can be expanded.",
                )
            raise _no_property(name, table.entity)
        if any(expand.navigation.name == name for expand in expands):
            raise ODataError(400, f"The navigation property '{name}' is expanded more than once.")
        pairs: list[tuple[str, str]] = []
        for option in _split_outside(inner, ";") if inner and inner.strip() else ():
            found = _EXPAND_OPTION.fullmatch(option)
            if found is None:
                raise _syntax_error(inner or "", 0)
            pairs.append((found[1], found[2].strip()))
        options: dict[str, str] = {}
        for option, value in pairs:
            if option == "$expand":
                raise ODataError(400, "Nested $expand is not supported for collection-valued navigation properties.")
            if option not in _EXPAND_OPTIONS:
                raise ODataError(400, f"The query option {option} is not supported inside $expand.")
            if option in options:
                raise ODataError(400, f"Query option '{option}' was specified more than once in $expand of {name}.")
            options[option] = value
        navigation = table.navigations[name]
        expands.append(_Expand(navigation, _plan(navigation.target, options), pairs))
    return expands


# --- paging --------------------------------------------------------------------------------------------------------

# A fixed key: the same query gets the same next links in every run. The checksum is there to catch a client that
# builds or edits a $skiptoken instead of following @odata.nextLink, not to keep secrets.
_COOKIE_KEY = b"cifcheck sandbox org paging cookie"
_SKIPTOKEN = re.compile(r'<cookie pagenumber="(\d{1,9})" pagingcookie="([^"]*)" istracking="False" />')
_PAGING_COOKIE = re.compile(r'<cookie page="(\d{1,9})" offset="(\d{1,9})" checksum="([0-9a-f]{32})" />')
_LINK_SAFE = "$,()'=:/*@"  # kept as they are in next links, as Dataverse writes them


def _checksum(page: int, offset: int, path: str, query: list[tuple[str, str]]) -> str:
    message = json.dumps([page, offset, path, query], separators=(",", ":"))
    return hmac.new(_COOKIE_KEY, message.encode(), hashlib.sha256).hexdigest()[:32]


def _skiptoken(page: int, offset: int, path: str, query: list[tuple[str, str]]) -> str:
    """Page `page`'s $skiptoken, starting at row `offset` of the query's rows, in Dataverse's shape: an outer cookie
    whose pagingcookie attribute is a percent-encoded inner cookie."""
    inner = f'<cookie page="{page - 1}" offset="{offset}" checksum="{_checksum(page, offset, path, query)}" />'
    return f'<cookie pagenumber="{page}" pagingcookie="{quote(inner, safe="")}" istracking="False" />'


def _offset(token: str, path: str, query: list[tuple[str, str]]) -> tuple[int, int]:
    """(page number, first row) of a $skiptoken this Store issued for this path and query; 400 for any other."""
    outer = _SKIPTOKEN.fullmatch(token)
    inner = _PAGING_COOKIE.fullmatch(unquote(outer[2])) if outer else None
    if outer and inner:
        page, offset = int(outer[1]), int(inner[2])
        if int(inner[1]) == page - 1 and hmac.compare_digest(inner[3], _checksum(page, offset, path, query)):
            return page, offset
    raise ODataError(400, "The $skiptoken is not a paging cookie this org issued for this query.")


def _page_size_asked(prefer: str) -> int | None:
    """The odata.maxpagesize preference of a Prefer header (several preferences may share one), if any."""
    for preference in re.split(r',(?=(?:[^"]*"[^"]*")*[^"]*$)', prefer):  # commas outside double quotes
        name, _, value = preference.partition("=")
        value = value.split(";", 1)[0].strip().strip('"')
        if name.strip().lower() in ("odata.maxpagesize", "maxpagesize") and value.isdigit() and int(value) > 0:
            return int(value)
    return None


# --- the store -----------------------------------------------------------------------------------------------------

_PATH_SEGMENT = re.compile(r"([A-Za-z_][\w.]*)(?:\((.*)\))?", re.DOTALL | re.ASCII)


class Store:
    """Tables and their N:N relationships, read as Dataverse's Web API reads them."""

    def __init__(
        self,
        tables: list[Table],
        relations: list[Relation],
        *,
        deferred_expands: bool = False,
        max_page_size: int = 5000,
    ) -> None:
        self.deferred_expands = deferred_expands
        self.max_page_size = max_page_size
        self._tables = {table.entity_set: _index(table) for table in tables}
        for relation in relations:
            self._relate(relation)

    def _relate(self, relation: Relation) -> None:
        if relation.left not in self._tables or relation.right not in self._tables or relation.left == relation.right:
            raise ValueError(f"{relation.name}: relates two tables of the store")
        left, right = self._tables[relation.left], self._tables[relation.right]
        for side in (left, right):
            if relation.name in side.types or relation.name in side.navigations:
                raise ValueError(f"{relation.name}: already a property of {side.entity_set}")
        related: dict[str, dict[str, list[Row]]] = {relation.left: {}, relation.right: {}}
        for left_key, right_key in sorted(relation.pairs):
            left_row, right_row = left.row(left_key), right.row(right_key)
            if left_row is None or right_row is None:
                raise ValueError(f"{relation.name}: ({left_key}, {right_key}) is not a pair of records")
            related[relation.left].setdefault(left_key.lower(), []).append(right_row)
            related[relation.right].setdefault(right_key.lower(), []).append(left_row)
        for side, other in ((left, right), (right, left)):
            by_key = related[side.entity_set]
            for rows in by_key.values():  # in the other table's order, as its rows were given
                rows.sort(key=lambda row, table=other: table.position[str(row[table.key]).lower()])
            side.navigations[relation.name] = _Navigation(relation.name, other, by_key)

    def get(self, path: str, query: list[tuple[str, str]], prefer: str, base_url: str) -> Answer:
        """The answer to `GET <base_url><path>?<query>`: path relative to the Web API root and percent-decoded,
        query as decoded (name, value) pairs in order, `prefer` the Prefer header ("" when absent)."""
        try:
            return self._get(path, query, prefer, base_url)
        except ODataError as error:
            return Answer(error.status, {"error": {"code": error.code, "message": error.message}}, dict(_HEADERS))

    def _get(self, path: str, query: list[tuple[str, str]], prefer: str, base_url: str) -> Answer:
        options = _options(query)
        table, row, navigation = self._resolve(path)
        if row is not None and navigation is None:  # one record
            for name in options:
                if name not in ("$select", "$expand"):
                    raise ODataError(400, f"The query option {name} cannot be applied to a single record.")
            plan = _plan(table, options)
            context = plan.context(base_url, table.entity_set) + "/$entity"
            return Answer(200, {"@odata.context": context, **self._record(plan, row, base_url, False)}, dict(_HEADERS))
        if row is None:
            rows, target = table.rows, table
        else:
            assert navigation is not None
            rows, target = navigation.related.get(str(row[table.key]).lower(), []), navigation.target
        plan = _plan(target, options)
        return self._page(plan, rows, path, query, prefer, base_url)

    def _resolve(self, path: str) -> tuple[_TableIndex, Row | None, _Navigation | None]:
        """The table a path names, the record when it names one, and the navigation property when it names one."""
        segments = path.split("/")
        match = _PATH_SEGMENT.fullmatch(segments[0])
        if match is None or match[1] not in self._tables:
            raise _no_segment(match[1] if match else segments[0])
        table = self._tables[match[1]]
        if match[2] is None:
            if len(segments) > 1:
                raise _no_segment(segments[1])
            return table, None, None
        key = match[2]
        if not _GUID.fullmatch(key):
            raise ODataError(400, f"Bad Request - Error in query syntax: '{key}' is not a key of {table.entity_set}.")
        row = table.row(key)
        if row is None:
            raise ODataError(404, f"{table.entity} With Id = {key} Does Not Exist", code="0x80040217")
        if len(segments) == 1:
            return table, row, None
        if segments[1] not in table.navigations:
            raise _no_segment(segments[1])
        if len(segments) > 2:
            raise _no_segment(segments[2])
        return table, row, table.navigations[segments[1]]

    def _page(
        self,
        plan: _Query,
        rows: list[Row],
        path: str,
        query: list[tuple[str, str]],
        prefer: str,
        base_url: str,
    ) -> Answer:
        """One page of a collection: $top first, then as many rows as the page size, from the $skiptoken's row."""
        asked = _page_size_asked(prefer)
        size = min(asked or self.max_page_size, self.max_page_size)
        # The query the paging cookie is signed for: the client's, without the cookie itself.
        same_query = [(name, value) for name, value in query if name != "$skiptoken"]
        token = next((value for name, value in query if name == "$skiptoken"), None)
        page, offset = (1, 0) if token is None else _offset(token, path, same_query)
        selected = plan.evaluate(rows)
        records = [self._record(plan, row, base_url, self.deferred_expands) for row in selected[offset : offset + size]]
        body: dict = {"@odata.context": plan.context(base_url, plan.table.entity_set), "value": records}
        if offset + size < len(selected):
            link_query = [*same_query, ("$skiptoken", _skiptoken(page + 1, offset + size, path, same_query))]
            body["@odata.nextLink"] = f"{base_url}{path}?{urlencode(link_query, quote_via=quote, safe=_LINK_SAFE)}"
        headers = dict(_HEADERS)
        if asked is not None:
            headers["Preference-Applied"] = f"odata.maxpagesize={size}"
        return Answer(200, body, headers)

    def _record(self, plan: _Query, row: Row, base_url: str, deferred: bool) -> dict:
        """A record as Dataverse answers it: etag, the selected columns and key, then each expand."""
        table = plan.table
        record: dict = {"@odata.etag": table.etag(row), **{column: row[column] for column in plan.output}}
        key = str(row[table.key])
        for expand in plan.expands:
            name = expand.navigation.name
            related = expand.navigation.related.get(key.lower(), [])
            if deferred:
                # Older Dataverse versions: no related records inline, only where to read them.
                link = f"{base_url}{table.entity_set}({key})/{name}"
                if expand.options:
                    link += "?" + urlencode(expand.options, quote_via=quote, safe=_LINK_SAFE)
                record[name] = []
                record[f"{name}@odata.nextLink"] = link
            else:
                record[name] = [self._record(expand.query, r, base_url, False) for r in expand.query.evaluate(related)]
        return record
