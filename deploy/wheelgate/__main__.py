"""``python -m deploy.wheelgate``: the wheel-readiness matrix, and ``--gate`` for CI."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from deploy.wheelgate.index import PYPI_SIMPLE, Sources
from deploy.wheelgate.render import markdown, to_json
from deploy.wheelgate.resolve import REFERENCE_GLIBC, ResolutionError, check_requirements
from deploy.wheelgate.sets import DEPLOYED_SETS, RequirementSet
from deploy.wheelgate.target import Target, arch_of_platform


def _glibc(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.wheelgate",
        description=(
            "Resolve requirement files for a target platform with pip and report, per package, "
            "whether it installs from a wheel. Without files, checks the deployed sets: "
            + ", ".join(s.path for s in DEPLOYED_SETS)
            + "."
        ),
    )
    parser.add_argument("requirements", nargs="*", type=Path, help="requirements files")
    parser.add_argument("--python-version", default="3.12")
    parser.add_argument("--arch", default="aarch64", help="machine architecture (default aarch64)")
    parser.add_argument("--glibc", type=_glibc, default=(2, 34), help="glibc ceiling, e.g. 2.28")
    parser.add_argument(
        "--platform",
        action="append",
        default=[],
        help="exact pip platform tag; repeat; replaces the tags derived from --arch/--glibc",
    )
    parser.add_argument(
        "--reference-glibc",
        type=_glibc,
        default=REFERENCE_GLIBC,
        help="glibc used to detect releases held back by a lower ceiling (default %(default)s)",
    )
    parser.add_argument(
        "--only-arch",
        help="with no files given, check only the deployed sets for this architecture",
    )
    parser.add_argument("--index-url", default=PYPI_SIMPLE)
    parser.add_argument("--no-index", action="store_true")
    parser.add_argument("--find-links", action="append", type=Path, default=[])
    parser.add_argument("--markdown", type=Path, default=Path("artifacts/wheelgate/report.md"))
    parser.add_argument("--json", type=Path, default=Path("artifacts/wheelgate/report.json"))
    parser.add_argument(
        "--gate",
        action="store_true",
        help="exit non-zero if a package needs a source build, is blocked, or is held back",
    )
    parser.add_argument(
        "--allow-held-back",
        action="store_true",
        help="with --gate, do not fail on releases held back by the glibc ceiling",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sources = Sources(
        index_url=None if args.no_index else args.index_url, find_links=tuple(args.find_links)
    )
    if args.requirements:
        arch = arch_of_platform(args.platform[0]) if args.platform else args.arch
        target = Target(args.python_version, arch, args.glibc, tuple(args.platform))
        sets = [RequirementSet(str(path), target, "") for path in args.requirements]
    else:
        sets = [s for s in DEPLOYED_SETS if args.only_arch in (None, s.target.arch)]

    reports = []
    for requirement_set in sets:
        path = Path(requirement_set.path)
        if not path.is_file():
            print(f"wheelgate: {path} does not exist", file=sys.stderr)
            if requirement_set.required:
                return 2
            continue
        try:
            reports.append(
                check_requirements(
                    path,
                    requirement_set.target,
                    sources,
                    description=requirement_set.description,
                    reference_glibc=args.reference_glibc,
                )
            )
        except ResolutionError as error:
            print(f"wheelgate: {error}", file=sys.stderr)
            return 2

    text = markdown(reports)
    for output, content in ((args.markdown, text), (args.json, to_json(reports))):
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(content)
    print(text)
    print(f"wheelgate: wrote {args.markdown} and {args.json}")
    if not args.gate:
        return 0
    failures = [f for r in reports for f in r.gate_failures(allow_held_back=args.allow_held_back)]
    for failure in failures:
        print(f"wheelgate: GATE FAIL {failure}", file=sys.stderr)
    if failures:
        return 1
    print("wheelgate: gate passed: every package installs from a wheel for its target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
