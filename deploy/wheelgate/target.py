"""The interpreter and platform a requirement set is resolved for."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from packaging.tags import Tag, compatible_tags, cpython_tags

# manylinux2014 is the glibc 2.17 baseline; glibc 2.17 is also the oldest manylinux_2_x tag
# that aarch64 wheels use.
_OLDEST_GLIBC_MINOR = 17
_LEGACY_MANYLINUX = {"manylinux2014": (2, 17), "manylinux2010": (2, 12), "manylinux1": (2, 5)}
_MANYLINUX_RE = re.compile(r"^manylinux_(\d+)_(\d+)_(.+)$")


def glibc_of_platform(platform: str) -> tuple[int, int] | None:
    """The glibc version a manylinux platform tag needs, or None for other platforms."""
    match = _MANYLINUX_RE.match(platform)
    if match:
        return int(match.group(1)), int(match.group(2))
    prefix = platform.split("_", 1)[0]
    return _LEGACY_MANYLINUX.get(prefix)


def arch_of_platform(platform: str) -> str:
    for arch in ("aarch64", "x86_64", "i686", "armv7l", "ppc64le", "s390x", "riscv64"):
        if platform.endswith(arch):
            return arch
    if platform.endswith(("amd64", "win32")):
        return "x86_64" if platform.endswith("amd64") else "i686"
    if platform.endswith("arm64"):
        return "aarch64"
    return platform


@dataclass(frozen=True)
class Target:
    """CPython on manylinux for one architecture, up to a glibc version.

    pip does not expand ``manylinux_2_X`` platform tags to older ones, so every tag from the glibc
    ceiling down to manylinux2014 is listed explicitly. ``platforms`` overrides that list.
    """

    python_version: str = "3.12"
    arch: str = "aarch64"
    glibc: tuple[int, int] = (2, 34)
    platforms: tuple[str, ...] = field(default=())

    @property
    def abi(self) -> str:
        return "cp" + self.python_version.replace(".", "")

    @property
    def glibc_ceiling(self) -> tuple[int, int]:
        if not self.platforms:
            return self.glibc
        versions = [v for v in map(glibc_of_platform, self.platforms) if v is not None]
        return max(versions, default=(0, 0))

    def platform_tags(self) -> list[str]:
        if self.platforms:
            return list(self.platforms)
        major, minor = self.glibc
        minors = range(minor, _OLDEST_GLIBC_MINOR - 1, -1)
        tags = [f"manylinux_{major}_{m}_{self.arch}" for m in minors]
        return [*tags, f"manylinux2014_{self.arch}"]

    def supported_tags(self) -> frozenset[Tag]:
        version = tuple(int(part) for part in self.python_version.split("."))
        platforms = self.platform_tags()
        return frozenset(
            [
                *cpython_tags(python_version=version, abis=[self.abi], platforms=platforms),
                *compatible_tags(python_version=version, interpreter=self.abi, platforms=platforms),
            ]
        )

    def with_glibc(self, glibc: tuple[int, int]) -> Target:
        return Target(python_version=self.python_version, arch=self.arch, glibc=glibc)

    def pip_args(self) -> list[str]:
        args = [
            "--only-binary=:all:",
            "--python-version",
            self.python_version,
            "--implementation",
            "cp",
            "--abi",
            self.abi,
        ]
        for platform in self.platform_tags():
            args += ["--platform", platform]
        return args

    def describe(self) -> str:
        major, minor = self.glibc_ceiling
        return (
            f"CPython {self.python_version} ({self.abi}), manylinux {self.arch}, "
            f"glibc <= {major}.{minor}"
        )
