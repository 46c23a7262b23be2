"""Reading a board file (edgexf/targets/boards.py): address regions, and one TOML table at a time with
every error naming the file and the field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgexf.errors import BoardError

ADDRESS_SPACE = 1 << 32
_KIND_NAMES = {int: "an integer", str: "a string", bool: "true or false"}


@dataclass(frozen=True)
class Region:
    origin: int
    size: int

    @property
    def end(self) -> int:
        return self.origin + self.size

    def holds(self, other: Region) -> bool:
        return self.origin <= other.origin and other.end <= self.end

    def describe(self) -> str:
        """'16 MB at 0x60000000' (whole MB), else the bytes."""
        size = f"{self.size >> 20} MB" if self.size % (1 << 20) == 0 else f"{self.size:,} B"
        return f"{size} at {self.origin:#x}"


class Table:
    """Reads one TOML table, naming the file and field in every error, and rejects unknown keys."""

    def __init__(self, path: Path, data: Any, prefix: str = ""):
        if not isinstance(data, dict):
            raise BoardError(f"{path}: '{prefix.rstrip('.')}' must be a table")
        self.path, self.data, self.prefix = path, dict(data), prefix

    def fail(self, key: str, problem: str) -> BoardError:
        return BoardError(f"{self.path}: field '{self.prefix}{key}' {problem}")

    def take(self, key: str, kind: type, default: Any = None) -> Any:
        if key not in self.data:
            if default is None:
                raise self.fail(key, f"is missing ({_KIND_NAMES[kind]} is required)")
            return default
        value = self.data.pop(key)
        if type(value) is not kind:  # not isinstance: bool is an int
            raise self.fail(key, f"= {value!r} must be {_KIND_NAMES[kind]}")
        return value

    def choice(self, key: str, allowed: tuple[str, ...] | list[str], why: str = "") -> str:
        value = self.take(key, str)
        if value not in allowed:
            raise self.fail(key, f"= {value!r} is not allowed{why}; allowed: {', '.join(allowed)}")
        return value

    def positive(self, key: str, default: int | None = None) -> int:
        value = self.take(key, int, default)
        if value <= 0:
            raise self.fail(key, f"= {value} must be positive")
        return value

    def address(self, key: str) -> int:
        value = self.take(key, int)
        if not 0 <= value < ADDRESS_SPACE:
            raise self.fail(key, f"= {value:#x} is not a 32-bit address")
        return value

    def sub(self, key: str) -> Table:
        if key not in self.data:
            raise self.fail(key, "is missing (a table with origin and size is required)")
        return Table(self.path, self.data.pop(key), f"{self.prefix}{key}.")

    def region(self, key: str) -> Region:
        """The sub-table `key` = {origin, size}, within the 32-bit address space."""
        sub = self.sub(key)
        region = Region(sub.address("origin"), sub.positive("size"))
        sub.done("origin, size")
        if region.end > ADDRESS_SPACE:
            raise self.fail(key, f"ends at {region.end:#x}, beyond the 32-bit address space")
        return region

    def done(self, allowed: str) -> None:
        if self.data:
            unknown = ", ".join(f"'{self.prefix}{k}'" for k in self.data)
            raise BoardError(f"{self.path}: unknown field(s) {unknown}; allowed: {allowed}")


def no_overlap(path: Path, regions: dict[str, Region], where: str = "") -> None:
    """BoardError naming the first two of `regions` (name -> region) that share an address."""
    named = sorted(regions.items(), key=lambda item: item[1].origin)
    for (a, ra), (b, rb) in zip(named, named[1:]):
        if rb.origin < ra.end:
            raise BoardError(
                f"{path}: regions {a} and {b} overlap{where}: {a} is {ra.describe()}, {b} is {rb.describe()}"
            )
