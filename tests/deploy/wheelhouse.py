"""A local package index of tiny distributions covering every state the wheel gate knows."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from deploy.wheelgate.wheelfile import write_wheel

AARCH64 = "cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64"


def write_sdist(directory: Path, name: str, version: str, files: dict[str, str]) -> Path:
    root = f"{name}-{version}"
    pkg_info = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    contents = {"PKG-INFO": pkg_info, **files}
    path = directory / f"{root}.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for member, text in contents.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{root}/{member}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def build_wheelhouse(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    write_wheel(directory, name="purepkg", version="1.0")
    write_wheel(
        directory,
        name="armpkg",
        version="1.0",
        tag=AARCH64,
        requires=["purepkg>=1"],
        files={"armpkg/__init__.py": b"", "armpkg/tests/test_armpkg.py": b"#" * 4096},
    )
    write_wheel(directory, name="armpkg", version="1.0", tag="cp312-cp312-manylinux2014_x86_64")
    write_wheel(directory, name="x86pkg", version="1.0", tag="cp312-cp312-manylinux_2_17_x86_64")
    write_wheel(directory, name="x86pkg", version="1.0", tag="cp312-cp312-win_amd64")
    write_wheel(directory, name="abipkg", version="1.0", tag="cp311-cp311-manylinux2014_aarch64")
    # glibcpkg 2.0 only ships a glibc 2.28 wheel: a glibc 2.17 target silently gets 1.0.
    write_wheel(directory, name="glibcpkg", version="1.0", tag="cp312-cp312-manylinux2014_aarch64")
    write_wheel(directory, name="glibcpkg", version="2.0", tag="cp312-cp312-manylinux_2_28_aarch64")
    # srcdep is reachable only through srcpkg, which has no wheel at all.
    write_wheel(directory, name="srcdep", version="1.0")
    write_sdist(
        directory,
        "srcpkg",
        "1.0",
        {
            "PKG-INFO": (
                "Metadata-Version: 2.2\nName: srcpkg\nVersion: 1.0\nRequires-Dist: srcdep\n"
            ),
            "setup.py": (
                "from setuptools import Extension, setup\n"
                'setup(ext_modules=[Extension("srcpkg._speed", ["src/speed.c"])])\n'
            ),
            "src/speed.c": "int answer(void) { return 42; }\n",
        },
    )
    write_sdist(
        directory,
        "syslibpkg",
        "1.0",
        {
            "setup.py": (
                "from setuptools import Extension, setup\n"
                'setup(ext_modules=[Extension("syslibpkg._raw", ["raw.c"], libraries=["raw"])])\n'
            ),
            "raw.c": "#include <libraw/libraw.h>\n",
        },
    )
    write_sdist(
        directory, "puresdist", "1.0", {"setup.py": "from setuptools import setup\nsetup()\n"}
    )
    return directory
