"""Drives pip's resolver for a target and turns its report into per-package verdicts."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from deploy.wheelgate.diagnose import Diagnosis, diagnose, wheel_verdict
from deploy.wheelgate.index import Sources
from deploy.wheelgate.model import HeldBack, SetReport
from deploy.wheelgate.pip import isolated_pip_install
from deploy.wheelgate.target import Target, glibc_of_platform
from deploy.wheelgate.wheelfile import write_wheel

# A current distribution's glibc (Ubuntu 24.04 has 2.39): the ceiling used to find out whether a
# lower target ceiling made pip settle for older releases.
REFERENCE_GLIBC = (2, 39)
_MAX_ROUNDS = 200
_MISSING_RE = re.compile(r"No matching distribution found for (.+?)\s*$", re.MULTILINE)


class ResolutionError(RuntimeError):
    """pip failed for a reason other than a package without a usable wheel (e.g. a conflict)."""


@dataclass(frozen=True)
class Resolved:
    name: str
    version: str
    filename: str
    requested: bool


@dataclass(frozen=True)
class PipOutcome:
    resolved: tuple[Resolved, ...] | None
    missing: Requirement | None
    stderr: str


def run_pip(requirements: Path, target: Target, sources: Sources, extra_links: Path) -> PipOutcome:
    """One ``pip install --dry-run --report`` for the target, binary wheels only."""
    with tempfile.TemporaryDirectory(prefix="wheelgate-") as scratch:
        report_path = Path(scratch) / "report.json"
        command = isolated_pip_install(
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
            str(report_path),
            *target.pip_args(),
            *sources.pip_args(),
            "--find-links",
            str(extra_links),
            "-r",
            str(requirements),
        )
        completed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if completed.returncode == 0:
            report = json.loads(report_path.read_text())
            return PipOutcome(tuple(_resolved(item) for item in report["install"]), None, "")
    missing = _MISSING_RE.findall(completed.stderr)
    return PipOutcome(None, _parse_requirement(missing[-1]) if missing else None, completed.stderr)


def _resolved(item: dict[str, Any]) -> Resolved:
    url = item["download_info"]["url"]
    return Resolved(
        name=item["metadata"]["name"],
        version=item["metadata"]["version"],
        filename=url.rsplit("/", 1)[-1],
        requested=bool(item.get("requested")),
    )


def _parse_requirement(text: str) -> Requirement:
    try:
        return Requirement(text)
    except InvalidRequirement:
        return Requirement(text.split()[0])


def check_requirements(
    requirements: Path,
    target: Target,
    sources: Sources,
    *,
    description: str = "",
    reference_glibc: tuple[int, int] = REFERENCE_GLIBC,
) -> SetReport:
    """Resolve ``requirements`` for ``target`` and give every package its verdict.

    When pip finds no usable wheel for a package, the package is diagnosed from the index and
    replaced by a placeholder wheel carrying its real dependencies, so pip can go on resolving
    the rest of the tree and every blocker is found in one run, not just the first.
    """
    diagnoses: dict[str, Diagnosis] = {}
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="wheelgate-stubs-") as stub_dir:
        stubs = Path(stub_dir)
        outcome = run_pip(requirements, target, sources, stubs)
        for _ in range(_MAX_ROUNDS):
            if outcome.resolved is not None or outcome.missing is None:
                break
            key = canonicalize_name(outcome.missing.name)
            if key in diagnoses:
                break
            diagnosis = diagnose(outcome.missing, sources, target)
            diagnoses[key] = diagnosis
            _write_stub(stubs, diagnosis)
            outcome = run_pip(requirements, target, sources, stubs)
        if outcome.resolved is None:
            tail = "\n".join(outcome.stderr.strip().splitlines()[-15:])
            raise ResolutionError(
                f"pip could not resolve {requirements} for {target.describe()}:\n{tail}"
            )

        packages = []
        for item in outcome.resolved:
            key = canonicalize_name(item.name)
            if key in diagnoses:
                package = diagnoses[key].package
                packages.append(replace(package, name=item.name, requested=item.requested))
            else:
                packages.append(
                    wheel_verdict(item.name, item.version, item.filename, requested=item.requested)
                )

        held_back: list[HeldBack] = []
        if (0, 0) < target.glibc_ceiling < reference_glibc:
            reference = run_pip(requirements, target.with_glibc(reference_glibc), sources, stubs)
            if reference.resolved is None:
                notes.append(
                    f"could not resolve at glibc {reference_glibc[0]}.{reference_glibc[1]} to "
                    "check for releases held back by the glibc ceiling"
                )
            else:
                held_back = _held_back(outcome.resolved, reference.resolved, diagnoses, target)
    packages.sort(key=lambda p: (not p.requested, canonicalize_name(p.name)))
    return SetReport(
        requirements=str(requirements),
        target=target,
        description=description,
        packages=tuple(packages),
        held_back=tuple(held_back),
        notes=tuple(notes),
    )


def _write_stub(stubs: Path, diagnosis: Diagnosis) -> None:
    package = diagnosis.package
    version = package.version if package.version != "?" else "0"
    write_wheel(stubs, name=package.name, version=version, requires=diagnosis.requires)


def _held_back(
    resolved: tuple[Resolved, ...],
    reference: tuple[Resolved, ...],
    diagnoses: dict[str, Diagnosis],
    target: Target,
) -> list[HeldBack]:
    newest = {canonicalize_name(r.name): r for r in reference}
    ceiling = target.glibc_ceiling
    found = []
    for item in resolved:
        key = canonicalize_name(item.name)
        better = newest.get(key)
        if key in diagnoses or better is None or better.version == item.version:
            continue
        glibc = _wheel_glibc(better.filename)
        needs = f"glibc {glibc[0]}.{glibc[1]}" if glibc else "a newer platform"
        found.append(
            HeldBack(
                name=item.name,
                resolved=item.version,
                newest=better.version,
                newest_file=better.filename,
                detail=(
                    f"{better.version} needs {needs}, target allows <= {ceiling[0]}.{ceiling[1]}; "
                    f"pip silently picked {item.version}"
                ),
            )
        )
    return found


def _wheel_glibc(filename: str) -> tuple[int, int] | None:
    _, _, _, tags = parse_wheel_filename(filename)
    versions = [v for v in (glibc_of_platform(t.platform) for t in tags) if v is not None]
    return min(versions, default=None)
