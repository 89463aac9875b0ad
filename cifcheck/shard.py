"""CI fan-out: which of the selected targets shard `i/n` runs (`cifcheck run --shard`), and the order one unsharded
run would have given, rebuilt from all its shards (`cifcheck merge`).

Shard i of n takes the targets at positions i-1, i-1+n, i-1+2n, ... of the config order: no randomness and no
hashing, so every CI job computes the same split from the same config, the shards differ in size by one target at
most, and a fleet listed in a meaningful order (by region, by customer) is spread evenly over the shards.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

Item = TypeVar("Item")

# ASCII digits only: `str.isdigit` would take '²' or Arabic-Indic digits, which int() then refuses or reads oddly.
SHARD_TEXT = re.compile(r"([0-9]{1,9})/([0-9]{1,9})")
SHARD_PATTERN = r"^[1-9][0-9]{0,8}/[1-9][0-9]{0,8}$"  # as result.json records it (normalised: no leading zeros)


@dataclass(frozen=True, order=True)
class Shard:
    index: int  # 1 to count
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """`i/n` as given to `--shard` (or recorded in result.json); ValueError saying what is wrong otherwise."""
    match = SHARD_TEXT.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not i/n (two whole numbers, e.g. 1/4 for the first of four shards)")
    index, count = int(match[1]), int(match[2])
    if count < 1:
        raise ValueError(f"{text!r}: the number of shards n must be 1 or more")
    if not 1 <= index <= count:
        raise ValueError(f"{text!r}: the shard i must be 1 to {count}")
    return Shard(index, count)


def shard_of(items: Sequence[Item], shard: Shard) -> list[Item]:
    """The items shard `shard` takes: every n-th from position i-1."""
    return list(items[shard.index - 1 :: shard.count])


def interleaved(parts: Sequence[Sequence[Item]]) -> list[Item]:
    """The inverse of `shard_of` over all n shards given in shard order: one item of each in turn, which is the
    original order (shard k's j-th item was at position k-1 + j*n). With a shard missing, the others keep that
    rhythm, so the order is still the original one with the missing shard's items left out."""
    merged: list[Item] = []
    for position in range(max((len(part) for part in parts), default=0)):
        merged.extend(part[position] for part in parts if position < len(part))
    return merged
