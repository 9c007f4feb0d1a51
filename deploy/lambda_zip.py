"""Builds the validator Lambda's deployment zip for arm64 / python3.12.

Dependencies come from ``requirements/lambda.txt`` as binary wheels for the Lambda runtime's
platform (pip ``--target`` with ``--platform``), the project code from an explicit module list.
The build fails if Django (or anything that needs it) ends up inside, or if the unzipped
package exceeds Lambda's 250 MB limit.
"""

from __future__ import annotations

import argparse
import ast
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from deploy.wheelgate.index import PYPI_SIMPLE, Sources
from deploy.wheelgate.pip import isolated_pip_install
from deploy.wheelgate.target import Target

REPO_ROOT = Path(__file__).resolve().parents[1]
# Lambda's documented limit for an unzipped deployment package: 250 MB = 262,144,000 bytes.
LAMBDA_UNZIPPED_LIMIT = 262_144_000
# The python3.12 runtime runs on Amazon Linux 2023: glibc 2.34.
LAMBDA_TARGET = Target(python_version="3.12", arch="aarch64", glibc=(2, 34))
VALIDATOR_HANDLER = "pipeline/lambda_handler.py"
# The handler and the Django-free code it imports; pipeline/dedup's SQL store is left out.
VALIDATOR_MODULES = (
    "pipeline/__init__.py",
    "pipeline/core",
    "pipeline/dedup/__init__.py",
    "pipeline/dedup/search.py",
    "pipeline/dedup/dynamodb_store.py",
    "pipeline/dedup/identity.py",
    "pipeline/dedup/index.py",
    "pipeline/dedup/layout.py",
    "pipeline/dedup/rules.py",
    "pipeline/lambda_results.py",
)
FORBIDDEN_PACKAGES = ("django", "rest_framework", "celery")
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class LambdaPackageError(RuntimeError):
    pass


@dataclass(frozen=True)
class PackageSummary:
    zip_path: Path
    unzipped_bytes: int
    zipped_bytes: int
    files: int
    pruned_bytes: int = 0

    def line(self) -> str:
        return (
            f"lambda-zip: {self.zip_path} unzipped={self.unzipped_bytes / 1e6:.1f} MB "
            f"(limit {LAMBDA_UNZIPPED_LIMIT / 1e6:.0f} MB) zipped={self.zipped_bytes / 1e6:.1f} MB "
            f"files={self.files} pruned_test_suites={self.pruned_bytes / 1e6:.1f} MB"
        )


def build_package(
    *,
    requirements: Path,
    modules: Sequence[str],
    out_zip: Path,
    root: Path = REPO_ROOT,
    target: Target = LAMBDA_TARGET,
    sources: Sources | None = None,
    limit_bytes: int = LAMBDA_UNZIPPED_LIMIT,
) -> PackageSummary:
    missing = [m for m in modules if not (root / m).exists()]
    if missing:
        raise LambdaPackageError(
            f"cannot package the Lambda: {', '.join(missing)} does not exist under {root}"
        )
    # Before the download: a handler that needs Django fails in a second, not after 80 MB.
    _check_imports(root, modules)
    staging = out_zip.with_suffix("")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    _pip_install(requirements, staging, target, sources or Sources(index_url=PYPI_SIMPLE))
    pruned = _prune_test_suites(staging)
    for module in modules:
        source = root / module
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(source, staging / module, ignore=ignore, dirs_exist_ok=True)
        else:
            (staging / module).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, staging / module)

    _check_no_forbidden_distributions(staging)
    files = sorted(p for p in staging.rglob("*") if p.is_file())
    unzipped = sum(p.stat().st_size for p in files)
    if unzipped > limit_bytes:
        raise LambdaPackageError(
            f"unzipped package is {unzipped:,} bytes, over the {limit_bytes:,}-byte Lambda limit"
        )
    _write_zip(out_zip, staging, files)
    return PackageSummary(out_zip, unzipped, out_zip.stat().st_size, len(files), pruned)


def _prune_test_suites(staging: Path) -> int:
    """Delete the test suites wheels ship (scipy's and numpy's are ~30 MB); nothing imports them."""
    pruned = 0
    for tests in sorted(staging.glob("*/**/tests")):
        if tests.is_dir():
            pruned += sum(p.stat().st_size for p in tests.rglob("*") if p.is_file())
            shutil.rmtree(tests)
    return pruned


def _pip_install(requirements: Path, staging: Path, target: Target, sources: Sources) -> None:
    command = isolated_pip_install(
        "--quiet",
        # Byte code compiled here would be for this interpreter, not the runtime's 3.12.
        "--no-compile",
        "--target",
        str(staging),
        *target.pip_args(),
        *sources.pip_args(),
        "-r",
        str(requirements),
    )
    completed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if completed.returncode != 0:
        raise LambdaPackageError(
            f"pip could not install {requirements} for {target.describe()} from wheels:\n"
            + completed.stderr.strip()
        )


def _check_no_forbidden_distributions(staging: Path) -> None:
    found = [
        entry.name
        for entry in staging.iterdir()
        if entry.name.lower() in FORBIDDEN_PACKAGES
        or entry.name.lower().split("-", 1)[0] in FORBIDDEN_PACKAGES
    ]
    if found:
        raise LambdaPackageError(f"Django-side packages inside the Lambda package: {found}")


def _imports(path: Path, package: str) -> Iterable[str]:
    """Dotted names a module imports; for ``from X import Y`` both X and X.Y (Y may be a module)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                prefix = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{prefix}.{node.module}" if node.module else prefix
            else:
                module = node.module or ""
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


def _python_files(path: Path) -> list[Path]:
    return [path] if path.is_file() else sorted(path.rglob("*.py"))


def _check_imports(root: Path, modules: Sequence[str]) -> None:
    """Every project module the packaged code imports must be inside, and none may be Django's."""
    packaged = {p.relative_to(root) for m in modules for p in _python_files(root / m)}
    problems = []
    for relative in sorted(packaged):
        package = ".".join(relative.with_suffix("").parts[:-1])
        for name in _imports(root / relative, package):
            parts = name.split(".")
            as_module, as_package = Path(*parts).with_suffix(".py"), Path(*parts, "__init__.py")
            if parts[0] in FORBIDDEN_PACKAGES:
                problems.append(f"{relative} imports {name}")
            elif _exists_in(root, as_module, as_package) and not packaged & {as_module, as_package}:
                problems.append(f"{relative} imports {name}, which is not packaged")
    if problems:
        raise LambdaPackageError("the Lambda code is not self-contained: " + "; ".join(problems))


def _exists_in(root: Path, *candidates: Path) -> bool:
    return any((root / candidate).is_file() for candidate in candidates)


def _write_zip(out_zip: Path, staging: Path, files: Sequence[Path]) -> None:
    # Fixed timestamps and order: the same inputs give the same zip, so deploys are no-ops.
    with zipfile.ZipFile(out_zip, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(str(path.relative_to(staging)), date_time=_ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.lambda_zip", description=__doc__)
    parser.add_argument("--requirements", type=Path, default=Path("requirements/lambda.txt"))
    parser.add_argument(
        "--module",
        action="append",
        help=f"file or package to include, repeatable (default: {', '.join(VALIDATOR_MODULES)})",
    )
    parser.add_argument("--handler", default=VALIDATOR_HANDLER, help="handler module file")
    parser.add_argument("--out", type=Path, default=Path("build/lambda/validator.zip"))
    parser.add_argument("--index-url", default=PYPI_SIMPLE)
    parser.add_argument("--no-index", action="store_true")
    parser.add_argument("--find-links", action="append", type=Path, default=[])
    parser.add_argument("--limit-bytes", type=int, default=LAMBDA_UNZIPPED_LIMIT)
    args = parser.parse_args(argv)
    sources = Sources(None if args.no_index else args.index_url, tuple(args.find_links))
    modules = [*(args.module or VALIDATOR_MODULES), args.handler]
    try:
        summary = build_package(
            requirements=args.requirements,
            modules=modules,
            out_zip=args.out.resolve(),
            sources=sources,
            limit_bytes=args.limit_bytes,
        )
    except LambdaPackageError as error:
        print(f"lambda-zip: FAILED: {error}", file=sys.stderr)
        return 1
    print(summary.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
