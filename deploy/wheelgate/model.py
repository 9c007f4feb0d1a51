"""What the gate reports: one verdict per package, per requirement set."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from deploy.wheelgate.target import Target


class State(StrEnum):
    PURE = "pure_python"
    BINARY = "binary_wheel"
    SOURCE = "source_build"
    BLOCKER = "blocker"


class Mode(StrEnum):
    MISSING_WHEEL = "missing wheel"
    SYSTEM_LIBRARY = "missing system library"
    COMPILER = "compiler"
    ABI_MISMATCH = "ABI mismatch"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    state: State
    file: str = ""
    modes: tuple[Mode, ...] = ()
    detail: str = ""
    requested: bool = False


@dataclass(frozen=True)
class HeldBack:
    """A package pip resolved to an older release because the newest needs a newer glibc."""

    name: str
    resolved: str
    newest: str
    newest_file: str
    detail: str


@dataclass(frozen=True)
class SetReport:
    requirements: str
    target: Target
    description: str = ""
    packages: tuple[Package, ...] = ()
    held_back: tuple[HeldBack, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def count(self, state: State) -> int:
        return sum(1 for package in self.packages if package.state is state)

    def gate_failures(self, *, allow_held_back: bool = False) -> list[str]:
        failures = [
            f"{self.requirements}: {p.name} {p.version} is {p.state.value} "
            f"({', '.join(m.value for m in p.modes)}): {p.detail}"
            for p in self.packages
            if p.state in (State.SOURCE, State.BLOCKER)
        ]
        if not allow_held_back:
            failures += [
                f"{self.requirements}: {h.name} held back at {h.resolved} "
                f"(newest {h.newest}): {h.detail}"
                for h in self.held_back
            ]
        return failures
