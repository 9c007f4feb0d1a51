"""The Lambda zip builder, offline against a local wheelhouse."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from deploy.lambda_zip import (
    REPO_ROOT,
    VALIDATOR_HANDLER,
    VALIDATOR_MODULES,
    LambdaPackageError,
    build_package,
    main,
)
from deploy.wheelgate.index import Sources
from deploy.wheelgate.wheelfile import write_wheel
from tests.deploy.wheelhouse import build_wheelhouse


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheelhouse(tmp_path_factory.mktemp("wheelhouse"))


def _requirements(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    return path


def test_packages_validator_code_and_wheels_without_django(
    tmp_path: Path, wheelhouse: Path
) -> None:
    # The handler (issue 5) is packaged when it exists; until then the Django-free core alone.
    modules = [m for m in (*VALIDATOR_MODULES, VALIDATOR_HANDLER) if (REPO_ROOT / m).exists()]
    summary = build_package(
        requirements=_requirements(tmp_path, "armpkg==1.0\n"),
        modules=modules,
        out_zip=tmp_path / "validator.zip",
        sources=Sources(index_url=None, find_links=(wheelhouse,)),
    )

    names = zipfile.ZipFile(summary.zip_path).namelist()
    assert "pipeline/core/__init__.py" in names
    assert any(n.startswith("armpkg-1.0.dist-info/") for n in names)
    assert any(n.startswith("purepkg-1.0.dist-info/") for n in names), "transitive dependency"
    assert not any(n.split("/")[0].lower().startswith("django") for n in names)
    assert not any("__pycache__" in n for n in names)
    assert "armpkg/__init__.py" in names and "armpkg/tests/test_armpkg.py" not in names
    assert summary.pruned_bytes >= 4096
    assert summary.files == len(names)
    assert summary.unzipped_bytes > summary.zipped_bytes > 0
    assert "limit 262 MB" in summary.line()


def test_rebuilding_gives_the_same_zip(tmp_path: Path, wheelhouse: Path) -> None:
    kwargs = {
        "requirements": _requirements(tmp_path, "purepkg==1.0\n"),
        "modules": ["pipeline/core"],
        "sources": Sources(index_url=None, find_links=(wheelhouse,)),
    }
    first = build_package(out_zip=tmp_path / "a.zip", **kwargs).zip_path.read_bytes()  # type: ignore[arg-type]
    second = build_package(out_zip=tmp_path / "b.zip", **kwargs).zip_path.read_bytes()  # type: ignore[arg-type]
    assert first == second


def test_django_inside_fails_the_build(tmp_path: Path, wheelhouse: Path) -> None:
    house = tmp_path / "house"
    write_wheel(house, name="Django", version="5.2", files={"django/__init__.py": b""})
    with pytest.raises(LambdaPackageError, match="Django-side packages"):
        build_package(
            requirements=_requirements(tmp_path, "Django==5.2\n"),
            modules=["pipeline/core"],
            out_zip=tmp_path / "out.zip",
            sources=Sources(index_url=None, find_links=(house, wheelhouse)),
        )


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "project"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        ("from django.conf import settings\n", "imports django.conf"),
        ("from pipeline.dedup import sql_store\n", "dedup.sql_store, which is not packaged"),
        ("from .dedup.sql_store import Store\n", "dedup.sql_store, which is not packaged"),
    ],
)
def test_handler_code_that_needs_more_than_is_packaged_fails(
    tmp_path: Path, wheelhouse: Path, handler: str, message: str
) -> None:
    root = _project(
        tmp_path,
        {
            "pipeline/__init__.py": "",
            "pipeline/lambda_handler.py": handler,
            "pipeline/dedup/__init__.py": "",
            "pipeline/dedup/sql_store.py": "",
        },
    )
    with pytest.raises(LambdaPackageError, match=message):
        build_package(
            requirements=_requirements(tmp_path, "purepkg==1.0\n"),
            modules=["pipeline/__init__.py", "pipeline/lambda_handler.py"],
            out_zip=tmp_path / "out.zip",
            root=root,
            sources=Sources(index_url=None, find_links=(wheelhouse,)),
        )


def test_over_the_size_limit_fails(tmp_path: Path, wheelhouse: Path) -> None:
    with pytest.raises(LambdaPackageError, match="over the 1,000-byte Lambda limit"):
        build_package(
            requirements=_requirements(tmp_path, "armpkg==1.0\n"),
            modules=["pipeline/core"],
            out_zip=tmp_path / "out.zip",
            sources=Sources(index_url=None, find_links=(wheelhouse,)),
            limit_bytes=1_000,
        )


def test_cli_names_a_missing_handler(
    tmp_path: Path, wheelhouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        [
            "--requirements",
            str(_requirements(tmp_path, "purepkg==1.0\n")),
            "--module",
            "pipeline/core",
            "--handler",
            "pipeline/no_such_handler.py",
            "--out",
            str(tmp_path / "out.zip"),
            "--no-index",
            "--find-links",
            str(wheelhouse),
        ]
    )
    assert status == 1
    assert "pipeline/no_such_handler.py does not exist" in capsys.readouterr().err
