"""The wheel gate against a local wheelhouse: offline, with pip's real resolver."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploy.wheelgate.__main__ import main
from deploy.wheelgate.index import Sources
from deploy.wheelgate.model import Mode, SetReport, State
from deploy.wheelgate.resolve import check_requirements
from deploy.wheelgate.target import Target
from tests.deploy.wheelhouse import build_wheelhouse

ALL_KINDS = """\
armpkg==1.0
srcpkg==1.0
x86pkg==1.0
abipkg==1.0
syslibpkg==1.0
puresdist==1.0
glibcpkg>=1.0
"""


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheelhouse(tmp_path_factory.mktemp("wheelhouse"))


@pytest.fixture(scope="module")
def offline(wheelhouse: Path) -> Sources:
    return Sources(index_url=None, find_links=(wheelhouse,))


def _requirements(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def all_kinds(tmp_path_factory: pytest.TempPathFactory, offline: Sources) -> SetReport:
    path = _requirements(tmp_path_factory.mktemp("reqs"), ALL_KINDS)
    return check_requirements(path, Target(arch="aarch64", glibc=(2, 34)), offline)


def _by_name(report: SetReport) -> dict[str, tuple[str, State, tuple[Mode, ...]]]:
    return {p.name: (p.version, p.state, p.modes) for p in report.packages}


def test_every_package_gets_one_of_four_states(all_kinds: SetReport) -> None:
    assert _by_name(all_kinds) == {
        "armpkg": ("1.0", State.BINARY, ()),
        "purepkg": ("1.0", State.PURE, ()),
        "glibcpkg": ("2.0", State.BINARY, ()),
        "srcpkg": ("1.0", State.SOURCE, (Mode.MISSING_WHEEL, Mode.COMPILER)),
        "srcdep": ("1.0", State.PURE, ()),
        "syslibpkg": (
            "1.0",
            State.SOURCE,
            (Mode.MISSING_WHEEL, Mode.SYSTEM_LIBRARY, Mode.COMPILER),
        ),
        "puresdist": ("1.0", State.SOURCE, (Mode.MISSING_WHEEL,)),
        "x86pkg": ("1.0", State.BLOCKER, (Mode.MISSING_WHEEL,)),
        "abipkg": ("1.0", State.BLOCKER, (Mode.ABI_MISMATCH,)),
    }


def test_failures_explain_themselves(all_kinds: SetReport) -> None:
    details = {p.name: p.detail for p in all_kinds.packages}
    assert "libraw" in details["syslibpkg"]
    assert "C compiler" in details["srcpkg"]
    assert "manylinux_2_17_x86_64" in details["x86pkg"]
    assert "cp311" in details["abipkg"]
    wheel = {p.name: p.file for p in all_kinds.packages}["armpkg"]
    assert wheel.endswith("aarch64.whl")


def test_dependencies_are_marked_transitive(all_kinds: SetReport) -> None:
    requested = {p.name: p.requested for p in all_kinds.packages}
    assert requested["armpkg"] and not requested["purepkg"] and not requested["srcdep"]


def test_low_glibc_ceiling_reports_the_silently_older_release(
    tmp_path: Path, offline: Sources
) -> None:
    path = _requirements(tmp_path, "glibcpkg>=1.0\n")
    report = check_requirements(path, Target(arch="aarch64", glibc=(2, 17)), offline)

    assert _by_name(report)["glibcpkg"] == ("1.0", State.BINARY, ())
    [held] = report.held_back
    assert (held.name, held.resolved, held.newest) == ("glibcpkg", "1.0", "2.0")
    assert "glibc 2.28" in held.detail
    assert report.gate_failures() and not report.gate_failures(allow_held_back=True)


def test_pin_that_needs_newer_glibc_is_an_abi_mismatch(tmp_path: Path, offline: Sources) -> None:
    path = _requirements(tmp_path, "glibcpkg==2.0\n")
    report = check_requirements(path, Target(arch="aarch64", glibc=(2, 17)), offline)

    [package] = report.packages
    assert (package.state, package.modes) == (State.BLOCKER, (Mode.ABI_MISMATCH,))
    assert "need glibc >= 2.28, target allows <= 2.17" in package.detail


def test_gate_cli_passes_on_wheels_and_writes_matrix(tmp_path: Path, wheelhouse: Path) -> None:
    path = _requirements(tmp_path, "armpkg==1.0\nglibcpkg\n")
    md, js = tmp_path / "report.md", tmp_path / "report.json"
    argv = ["--no-index", "--find-links", str(wheelhouse), "--markdown", str(md), "--json", str(js)]

    assert main([str(path), *argv, "--gate"]) == 0
    assert "| armpkg | 1.0 | ARM64 wheel |" in md.read_text()
    [data] = json.loads(js.read_text())
    assert data["summary"] == {"pure_python": 1, "binary_wheel": 2, "source_build": 0, "blocker": 0}


def test_gate_cli_fails_on_source_builds_and_blockers(
    tmp_path: Path, wheelhouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _requirements(tmp_path, "armpkg==1.0\nsrcpkg==1.0\nx86pkg==1.0\n")
    argv = [str(path), "--no-index", "--find-links", str(wheelhouse)]
    argv += ["--markdown", str(tmp_path / "r.md"), "--json", str(tmp_path / "r.json")]

    assert main(argv) == 0
    assert main([*argv, "--gate"]) == 1
    err = capsys.readouterr().err
    assert "GATE FAIL" in err and "srcpkg" in err and "x86pkg" in err and "armpkg" not in err


def test_gate_treats_gpu_set_as_x86(tmp_path: Path, offline: Sources) -> None:
    path = _requirements(tmp_path, "x86pkg==1.0\n")
    report = check_requirements(path, Target(arch="x86_64", glibc=(2, 36)), offline)

    assert _by_name(report)["x86pkg"] == ("1.0", State.BINARY, ())
    assert not report.gate_failures()
