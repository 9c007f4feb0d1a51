"""What a package index offers for one project: every file of every release.

pip resolves; this module only explains a failure pip reported, by looking at the files pip
rejected. It reads a PEP 691 JSON simple index and local ``--find-links`` folders.
"""

from __future__ import annotations

import email.parser
import io
import json
import tarfile
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path, PurePosixPath

from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

PYPI_SIMPLE = "https://pypi.org/simple/"
_JSON_ACCEPT = "application/vnd.pypi.simple.v1+json"
_TIMEOUT_S = 60
# Build files that name the system libraries an extension links against.
BUILD_FILES = ("setup.py", "setup.cfg", "pyproject.toml", "meson.build", "CMakeLists.txt")


@dataclass(frozen=True)
class DistFile:
    filename: str
    url: str
    version: Version
    tags: frozenset[Tag] = frozenset()
    requires_python: str | None = None
    yanked: bool = False
    metadata_url: str | None = None

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")


@dataclass(frozen=True)
class SdistContents:
    members: tuple[str, ...]
    build_files: dict[str, str]


def _dist_file(
    filename: str,
    url: str,
    *,
    requires_python: str | None = None,
    yanked: bool = False,
    metadata_url: str | None = None,
) -> DistFile | None:
    try:
        if filename.endswith(".whl"):
            _, version, _, tags = parse_wheel_filename(filename)
        else:
            _, version = parse_sdist_filename(filename)
            tags = frozenset()
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return DistFile(filename, url, version, tags, requires_python, yanked, metadata_url)


def _fetch(url: str) -> bytes:
    if url.startswith("file:"):
        return Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path)).read_bytes()
    if not url.startswith("https://"):
        raise ValueError(f"refusing to fetch over a non-TLS URL: {url}")
    request = urllib.request.Request(url, headers={"Accept": _JSON_ACCEPT})  # noqa: S310
    with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:  # noqa: S310
        return bytes(response.read())


@dataclass(frozen=True)
class Sources:
    """Where packages come from: one index URL (or none) plus local find-links folders."""

    index_url: str | None = PYPI_SIMPLE
    find_links: tuple[Path, ...] = field(default=())

    def pip_args(self) -> list[str]:
        args = ["--index-url", self.index_url] if self.index_url else ["--no-index"]
        for folder in self.find_links:
            args += ["--find-links", str(folder)]
        return args

    def files(self, project: str) -> list[DistFile]:
        name = canonicalize_name(project)
        found: list[DistFile] = []
        for folder in self.find_links:
            found += _folder_files(folder, name)
        if self.index_url:
            found += _index_files(self.index_url, name)
        return found

    def metadata(self, dist: DistFile) -> Message:
        if dist.metadata_url:
            return _parse_metadata(_fetch(dist.metadata_url))
        data = _fetch(dist.url)
        if dist.is_wheel:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                member = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
                return _parse_metadata(archive.read(member))
        members = _sdist_members(data)
        pkg_info = min((m for m in members if m.endswith("PKG-INFO")), key=len, default=None)
        message = _parse_metadata(members[pkg_info] if pkg_info else b"")
        requires_txt = next((m for m in members if m.endswith(".egg-info/requires.txt")), None)
        if not message.get_all("Requires-Dist") and requires_txt:
            # setuptools sdists before metadata 2.2 keep dependencies only in egg-info.
            for line in members[requires_txt].decode(errors="replace").splitlines():
                if line.startswith("["):
                    break
                if line.strip():
                    message["Requires-Dist"] = line.strip()
        return message

    def sdist_contents(self, dist: DistFile) -> SdistContents:
        members = _sdist_members(_fetch(dist.url), keep_bytes_for=BUILD_FILES)
        build_files = {
            PurePosixPath(name).name: data.decode(errors="replace")
            for name, data in members.items()
            if data and len(PurePosixPath(name).parts) == 2
        }
        return SdistContents(members=tuple(members), build_files=build_files)


def _parse_metadata(data: bytes) -> Message:
    return email.parser.BytesParser().parsebytes(data, headersonly=True)


def _sdist_members(data: bytes, keep_bytes_for: tuple[str, ...] = ()) -> dict[str, bytes]:
    """Member names of an sdist, with the bytes of PKG-INFO, requires.txt and the named files."""
    wanted = ("PKG-INFO", "requires.txt", *keep_bytes_for)
    members: dict[str, bytes] = {}
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                keep = PurePosixPath(name).name in wanted
                members[name] = archive.read(name) if keep else b""
        return members
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        for info in archive.getmembers():
            if not info.isfile():
                continue
            keep = PurePosixPath(info.name).name in wanted
            extracted = archive.extractfile(info) if keep else None
            members[info.name] = extracted.read() if extracted else b""
    return members


def _folder_files(folder: Path, name: NormalizedName) -> list[DistFile]:
    found = []
    for path in sorted(folder.iterdir()):
        dist = _dist_file(path.name, path.resolve().as_uri())
        if dist is None:
            continue
        parsed_name = (
            parse_wheel_filename(path.name)[0]
            if dist.is_wheel
            else parse_sdist_filename(path.name)[0]
        )
        if parsed_name == name:
            found.append(dist)
    return found


def _index_files(index_url: str, name: NormalizedName) -> list[DistFile]:
    page = urllib.parse.urljoin(index_url.rstrip("/") + "/", f"{name}/")
    payload = json.loads(_fetch(page))
    found = []
    for entry in payload.get("files", []):
        url = urllib.parse.urljoin(page, entry["url"])
        has_metadata = entry.get("core-metadata") or entry.get("data-dist-info-metadata")
        dist = _dist_file(
            entry["filename"],
            url,
            requires_python=entry.get("requires-python"),
            yanked=bool(entry.get("yanked")),
            metadata_url=url + ".metadata" if has_metadata else None,
        )
        if dist is not None:
            found.append(dist)
    return found
