"""Why a package has no wheel for the target, and what building it from source would take."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import parse_wheel_filename
from packaging.version import Version

from deploy.wheelgate.index import DistFile, SdistContents, Sources
from deploy.wheelgate.model import Mode, Package, State
from deploy.wheelgate.target import Target, arch_of_platform, glibc_of_platform

_COMPILED_SUFFIXES = {
    ".c": "C compiler",
    ".cc": "C++ compiler",
    ".cpp": "C++ compiler",
    ".cxx": "C++ compiler",
    ".pyx": "Cython + C compiler",
    ".rs": "Rust toolchain",
    ".f": "Fortran compiler",
    ".f90": "Fortran compiler",
}
# Libraries every toolchain or the Python build itself provides: not worth naming.
_TEST_OR_DOC = re.compile(r"/(tests?|testing|docs?|benchmarks?|examples?)/")
_NOT_SYSTEM = {"m", "c", "dl", "pthread", "rt", "python", "python3", "threads", "numpy", "pybind11"}
_LIBRARY_PATTERNS = (
    re.compile(r"libraries\s*=\s*(\[[^\]]*\])"),
    re.compile(r"pkg-config[ \t]+(?:--[\w-]+[ \t]+)*([\w.+-]+)"),
    re.compile(r"pkgconfig\.\w+\(\s*['\"]([\w.+-]+)"),
    re.compile(r"dependency\(\s*['\"]([\w.+-]+)"),
    re.compile(r"find_package\(\s*([\w.+-]+)"),
)


@dataclass(frozen=True)
class Diagnosis:
    package: Package
    requires: tuple[str, ...]


def wheel_verdict(name: str, version: str, filename: str, *, requested: bool) -> Package:
    """The verdict for a wheel pip picked: pure Python or a binary wheel for the target."""
    _, _, _, tags = parse_wheel_filename(filename)
    pure = all(tag.abi == "none" and tag.platform == "any" for tag in tags)
    return Package(
        name=name,
        version=version,
        state=State.PURE if pure else State.BINARY,
        file=filename,
        requested=requested,
    )


def diagnose(requirement: Requirement, sources: Sources, target: Target) -> Diagnosis:
    """Explain why pip found no installable wheel for ``requirement`` on ``target``."""
    files = [f for f in sources.files(requirement.name) if not f.yanked]
    versions = sorted(
        {f.version for f in files if requirement.specifier.contains(f.version, prereleases=False)},
        reverse=True,
    )
    if not versions:
        offered = ", ".join(sorted({str(f.version) for f in files})) or "none"
        return Diagnosis(
            Package(
                name=requirement.name,
                version=_pinned(requirement) or "?",
                state=State.BLOCKER,
                modes=(Mode.MISSING_WHEEL,),
                detail=f"no release matches {requirement.specifier or 'any'} (releases: {offered})",
            ),
            (),
        )
    version = versions[0]
    release = [f for f in files if f.version == version]
    wheels = [f for f in release if f.is_wheel]
    sdists = [f for f in release if not f.is_wheel]
    arch_wheels = [f for f in wheels if any(_tag_arch(t) == target.arch for t in f.tags)]
    python_ok = [f for f in release if _python_ok(f, target)]

    modes: list[Mode] = []
    reasons: list[str] = []
    if not python_ok:
        modes.append(Mode.ABI_MISMATCH)
        reasons.append(f"requires Python {release[0].requires_python}")
    elif arch_wheels:
        modes.append(Mode.ABI_MISMATCH)
        reasons.append(_why_not(arch_wheels, target))
    else:
        modes.append(Mode.MISSING_WHEEL)
        reasons.append(f"no {target.arch} wheel; {_offered(wheels)}")

    state = State.BLOCKER
    if sdists and python_ok:
        state = State.SOURCE
        contents = sources.sdist_contents(sdists[0])
        libraries = sorted(system_libraries(contents))
        toolchains = sorted(compilers(contents))
        if libraries:
            modes.append(Mode.SYSTEM_LIBRARY)
            reasons.append("links " + ", ".join(f"lib{lib}" for lib in libraries))
        if toolchains:
            modes.append(Mode.COMPILER)
            reasons.append("needs " + ", ".join(toolchains))
        if not toolchains:
            reasons.append("the sdist is pure Python but still builds at install time")
    elif not sdists:
        reasons.append("no sdist")

    metadata_source = (wheels or sdists)[0]
    requires = tuple(sources.metadata(metadata_source).get_all("Requires-Dist") or ())
    return Diagnosis(
        Package(
            name=requirement.name,
            version=str(version),
            state=state,
            file=(sdists[0].filename if state is State.SOURCE else ""),
            modes=tuple(modes),
            detail="; ".join(reasons),
        ),
        requires,
    )


def system_libraries(contents: SdistContents) -> set[str]:
    found: set[str] = set()
    for text in contents.build_files.values():
        for pattern in _LIBRARY_PATTERNS:
            for match in pattern.finditer(text):
                captured = match.group(1)
                quoted = re.findall(r"['\"]([\w.+-]+)['\"]", captured)
                for item in quoted if captured.startswith("[") else [captured]:
                    name = item.removeprefix("lib")
                    if name.lower() not in _NOT_SYSTEM:
                        found.add(name)
    return found


def compilers(contents: SdistContents) -> set[str]:
    found = set()
    for member in contents.members:
        if _TEST_OR_DOC.search(member):
            continue
        for suffix, toolchain in _COMPILED_SUFFIXES.items():
            if member.lower().endswith(suffix):
                found.add(toolchain)
        if member.endswith("/Cargo.toml"):
            found.add("Rust toolchain")
    return found


def _pinned(requirement: Requirement) -> str | None:
    return next((s.version for s in requirement.specifier if s.operator in ("==", "===")), None)


def _tag_arch(tag: Tag) -> str:
    return arch_of_platform(tag.platform)


def _python_ok(dist: DistFile, target: Target) -> bool:
    if not dist.requires_python:
        return True
    return SpecifierSet(dist.requires_python).contains(Version(target.python_version + ".0"))


def _why_not(arch_wheels: Iterable[DistFile], target: Target) -> str:
    python_tags = {(t.interpreter, t.abi) for t in target.supported_tags()}
    tags = {tag for dist in arch_wheels for tag in dist.tags}
    usable = [t for t in tags if (t.interpreter, t.abi) in python_tags]
    if not usable:
        built_for = ", ".join(sorted({t.interpreter for t in tags}))
        return f"{target.arch} wheels are built only for {built_for}, not {target.abi}"
    needed = [v for v in (glibc_of_platform(t.platform) for t in usable) if v is not None]
    if needed:
        needs, allows = ".".join(map(str, min(needed))), ".".join(map(str, target.glibc_ceiling))
        return f"{target.abi} {target.arch} wheels need glibc >= {needs}, target allows <= {allows}"
    platforms = ", ".join(sorted({t.platform for t in usable}))
    return f"the {target.abi} {target.arch} wheels are for {platforms} only"


def _offered(wheels: list[DistFile]) -> str:
    platforms = sorted({t.platform for w in wheels for t in w.tags})
    if not platforms:
        return "no wheels at all"
    shown = ", ".join(platforms[:4]) + (", ..." if len(platforms) > 4 else "")
    return f"wheels only for {shown}"
