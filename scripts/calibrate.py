"""Calibrate the validator on real camera photos, on derivations of them, and on synthetic frames.

    make calibrate            # or: .venv/bin/python scripts/calibrate.py [--all-blur-kinds]

Three sets, reported apart:

- real: the 77 labelled camera originals in ../shared/testdata/real-photos (keep / soft /
  featureless);
- derived: every `keep` original blurred at its native resolution (0.15, 0.3 and 0.6 % of the
  long edge; one blur kind per original, disk, Gaussian and motion in turn, unless
  --all-blur-kinds), shifted +/-2.5 EV in linear light, and (JPEG originals) with damaged scan
  data, made by scripts/calibration_sets.py;
- synthetic: the older 12 MP mosaics of scikit-image photos (scripts/testimages.py).

Derived files and every measurement are cached under var/calibration/, keyed by the validator's
source, so a rerun after no change takes seconds. It prints per-label tables, the candidate
sharpness measures side by side, threshold sweeps, writes the same report to docs/calibration.md,
and ends with:

    calibration: keep_false_reject= keep_borderline= derived_blur_recall= derived_blur_reject=
    exposure_false_reject= corrupt_recall= synthetic_blur_recall=
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from calibration_sets import Sample, build_derived, real_samples  # noqa: E402
from sharpness_candidates import CANDIDATES  # noqa: E402
from testimages import Defect, apply_defect, encode_jpeg, make_scene  # noqa: E402

from pipeline.core.decode import DecodeLimits, decode  # noqa: E402
from pipeline.core.errors import UnreadableImage  # noqa: E402
from pipeline.core.exposure import ExposureMetrics  # noqa: E402
from pipeline.core.sharpness import SharpnessMetrics  # noqa: E402
from pipeline.core.validator import (  # noqa: E402
    DEFAULT_THRESHOLDS,
    REASON_BLURRY,
    REASON_OVEREXPOSED,
    REASON_UNDEREXPOSED,
    Judgement,
    Thresholds,
    judge,
    validate,
)

CACHE = ROOT / "var" / "calibration"
REPORT = ROOT / "docs" / "calibration.md"
SYNTHETIC_SIZE = (4000, 3000)
# Blur at or above this share of the long edge is what a photographer calls blurry full screen.
BLURRY_FROM = 0.003
FORMATS = {"real": "label", "derived": "derivation", "synthetic": "defect"}


@dataclasses.dataclass(frozen=True)
class Record:
    set: str
    group: str
    name: str
    camera: str
    unreadable: str  # the reason code, "" when it decoded
    detail: str
    sharpness: dict[str, Any]
    exposure: dict[str, Any]
    notes: list[str]
    candidates: dict[str, float]

    def judged(self, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Judgement:
        return judge(
            SharpnessMetrics(**self.sharpness),
            ExposureMetrics(**self.exposure, luminance_histogram=()),
            thresholds,
        )

    def verdict(self, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> str:
        return "unreadable" if self.unreadable else self.judged(thresholds).verdict.value


def _code_digest() -> str:
    """Measurements are cached per version of the code that makes them. The verdict is replayed
    from them (validator.judge), so validator.py is left out: changing how validate() measures
    needs --remeasure."""
    digest = hashlib.sha256()
    sources = sorted(
        p for p in (ROOT / "pipeline" / "core").glob("*.py") if p.name != "validator.py"
    )
    sources += [ROOT / "scripts" / "sharpness_candidates.py"]
    for source in sources:
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def _measure(job: tuple[str, Sample, bool]) -> Record:
    set_name, sample, with_candidates = job
    data = sample.path.read_bytes()
    base = {"set": set_name, "group": sample.group, "name": sample.path.name}
    try:
        result = validate(data, filename=sample.path.name)
    except UnreadableImage as error:
        return Record(
            **base,
            camera=sample.camera,
            unreadable=error.reason.value,
            detail=error.detail,
            sharpness={},
            exposure={},
            notes=[],
            candidates={},
        )
    exposure = dataclasses.asdict(result.exposure)
    del exposure["luminance_histogram"]
    exposure = {k: tuple(v) if isinstance(v, list) else v for k, v in exposure.items()}
    candidates: dict[str, float] = {}
    if with_candidates:
        limits = DecodeLimits(max_pixels=10**9, min_preview_long_edge=0, min_long_edge=10**6)
        luma = decode(data, filename=sample.path.name, limits=limits).image.convert("L")
        candidates = {name: measure(luma) for name, measure in CANDIDATES.items()}
    return Record(
        **base,
        camera=sample.camera,
        unreadable="",
        detail="",
        sharpness=dataclasses.asdict(result.sharpness),
        exposure=exposure,
        notes=list(result.notes),
        candidates=candidates,
    )


def _measure_all(
    jobs: list[tuple[str, Sample, bool]], workers: int, remeasure: bool
) -> list[Record]:
    digest = _code_digest()
    path = CACHE / f"measures-{digest}.json"
    fresh = remeasure or not path.exists()
    cached: dict[str, dict[str, Any]] = {} if fresh else json.loads(path.read_text())

    def key(job: tuple[str, Sample, bool]) -> str:
        stat = job[1].path.stat()
        return f"{job[0]}|{job[1].group}|{job[1].path}|{stat.st_size}|{stat.st_mtime_ns}"

    missing = [job for job in jobs if key(job) not in cached]
    if missing:
        print(f"measuring {len(missing)} files ({len(jobs) - len(missing)} cached)")
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for done, (job, record) in enumerate(
                zip(missing, pool.map(_measure, missing, chunksize=4), strict=True), 1
            ):
                cached[key(job)] = dataclasses.asdict(record)
                print(f"  measured {done}/{len(missing)}", end="\r", flush=True)
        print()
        for old in CACHE.glob("measures-*.json"):
            old.unlink()
        path.write_text(json.dumps(cached))
    return [Record(**cached[key(job)]) for job in jobs]


def _synthetic_samples(scenes: int, workers: int) -> list[Sample]:
    directory = CACHE / "synthetic"
    directory.mkdir(parents=True, exist_ok=True)
    samples = [
        Sample(path=_synthetic_path(seed, d), group=d.value, source="", camera="")
        for seed in range(scenes)
        for d in Defect
    ]
    missing = sorted(
        {seed for seed in range(scenes) for d in Defect if not _synthetic_path(seed, d).exists()}
    )
    if missing:
        print(f"making {len(missing)} synthetic scenes")
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_synthetic_scene, missing))
    return samples


def _synthetic_path(seed: int, defect: Defect) -> Path:
    return CACHE / "synthetic" / f"{seed:03d}_{defect.value}.jpg"


def _synthetic_scene(seed: int) -> None:
    scene = make_scene(seed, *SYNTHETIC_SIZE)
    for defect in Defect:
        path = _synthetic_path(seed, defect)
        if not path.exists():
            path.with_suffix(".tmp").write_bytes(encode_jpeg(apply_defect(scene, defect, seed)))
            path.with_suffix(".tmp").rename(path)


# --- report ----------------------------------------------------------------------------------


def _share(hits: int, total: int) -> str:
    return f"{hits}/{total} ({hits / total:.0%})" if total else "0/0"


def _rate(hits: int, total: int) -> float:
    return hits / total if total else 0.0


def _spread(values: Sequence[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[0]:.3f} / {statistics.median(ordered):.3f} / {ordered[-1]:.3f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def _verdict_table(records: list[Record], title: str) -> list[str]:
    groups = sorted({r.group for r in records})
    rows = []
    for group in groups:
        members = [r for r in records if r.group == group]
        verdicts = [r.verdict() for r in members]
        judged = [r.judged() for r in members if not r.unreadable]
        reasons = [reason for j in judged for reason in j.reasons]
        flags = [flag for j in judged for flag in j.flags]
        rows.append(
            (
                group,
                len(members),
                verdicts.count("pass"),
                verdicts.count("borderline"),
                verdicts.count("reject"),
                verdicts.count("unreadable"),
                ", ".join(f"{reasons.count(r)} {r}" for r in sorted(set(reasons))) or "-",
                ", ".join(f"{flags.count(f)} {f}" for f in sorted(set(flags))) or "-",
                _spread([r.sharpness["score"] for r in members if not r.unreadable]),
            )
        )
    header = (title, "n", "pass", "borderline", "reject", "unreadable", "rejected as", "flags",
              "sharpness min / median / max")  # fmt: skip
    return _table(header, rows)


def _per_file_table(records: list[Record]) -> list[str]:
    rows = []
    for r in sorted(records, key=lambda r: (r.group, r.camera)):
        if r.unreadable:
            rows.append((r.group, r.camera, r.name, "unreadable", "-", "-", "-", "-", "-"))
            continue
        j, e = r.judged(), r.exposure
        rows.append(
            (
                r.group,
                r.camera,
                r.name,
                j.verdict.value
                + (f" ({', '.join(j.reasons + j.flags)})" if j.flags or j.reasons else ""),
                f"{r.sharpness['score']:.3f}",
                f"{e['bright_level']:.2f}",
                f"{e['median_luminance']:.2f}",
                f"{e['dark_level']:.2f}",
                f"{e['highlight_clipped']:.3f}",
            )
        )
    header = ("label", "camera", "file", "verdict", "sharpness", "bright 99.9 %", "median",
              "dark 1 %", "clipped white")  # fmt: skip
    return _table(header, rows)


def _blur_fraction(group: str) -> float | None:
    return float(group.rsplit(":", 1)[1]) if group.startswith("blur:") else None


def _candidates_table(real: list[Record], derived: list[Record]) -> list[str]:
    keep = [r for r in real if r.group == "keep"]
    blurred = [r for r in derived if (_blur_fraction(r.group) or 0) >= BLURRY_FROM]
    light = [r for r in derived if _blur_fraction(r.group) == 0.0015]
    rows = []
    for name in CANDIDATES:
        keep_scores = [r.candidates[name] for r in keep]
        blur_scores = [r.candidates[name] for r in blurred]
        floor = min(keep_scores)
        pairs = sum(k > b for k in keep_scores for b in blur_scores)
        ties = sum(k == b for k in keep_scores for b in blur_scores)
        rows.append(
            (
                name,
                _spread(keep_scores),
                _spread([r.candidates[name] for r in light]),
                _spread(blur_scores),
                f"{_rate(sum(b < floor for b in blur_scores), len(blur_scores)):.0%}",
                f"{(pairs + ties / 2) / (len(keep_scores) * len(blur_scores)):.3f}",
            )
        )
    header = ("measure", "keep min / median / max", "blur 0.15 %", "blur >= 0.3 %",
              "blur >= 0.3 % below every keep", "AUC keep vs blur >= 0.3 %")  # fmt: skip
    return _table(header, rows)


def _sweep(
    records_by_set: dict[str, list[Record]], name: str, values: Sequence[float]
) -> list[str]:
    keep = [r for r in records_by_set["real"] if r.group == "keep"]
    blurred = [
        r for r in records_by_set["derived"] if (_blur_fraction(r.group) or 0) >= BLURRY_FROM
    ]
    ev = [r for r in records_by_set["derived"] if r.group.startswith("ev:")]
    rows = []
    for value in values:
        override: dict[str, Any] = {name: value}
        t = dataclasses.replace(DEFAULT_THRESHOLDS, **override)
        keep_v = [r.verdict(t) for r in keep]
        rows.append(
            (
                f"{value:.3f}",
                keep_v.count("reject"),
                keep_v.count("borderline"),
                f"{_rate(sum(r.verdict(t) == 'reject' for r in blurred), len(blurred)):.0%}",
                f"{_rate(sum(r.verdict(t) != 'pass' for r in blurred), len(blurred)):.0%}",
                f"{_rate(sum(r.verdict(t) != 'pass' for r in ev), len(ev)):.0%}",
            )
        )
    header = (name, "keep rejected", "keep borderline", "blur >= 0.3 % rejected",
              "blur >= 0.3 % flagged or rejected", "+/-2.5 EV flagged or rejected")  # fmt: skip
    return _table(header, rows)


def _hits(records: list[Record], reason: str, hard: bool) -> int:
    count = 0
    for r in records:
        if r.unreadable:
            continue
        j = r.judged()
        flag = {REASON_BLURRY: "possibly_soft", REASON_OVEREXPOSED: "possibly_overexposed",
                REASON_UNDEREXPOSED: "possibly_underexposed"}[reason]  # fmt: skip
        count += reason in j.reasons or (not hard and flag in j.flags)
    return count


def _summary(by_set: dict[str, list[Record]]) -> tuple[str, list[str]]:
    keep = [r for r in by_set["real"] if r.group == "keep"]
    derived = by_set["derived"]
    blurred = [r for r in derived if (_blur_fraction(r.group) or 0) >= BLURRY_FROM]
    under = [r for r in derived if r.group == "ev:-2.5"]
    over = [r for r in derived if r.group == "ev:+2.5"]
    corrupt = [r for r in derived if r.group.startswith("corrupt:")]
    synthetic_blur = [
        r for r in by_set["synthetic"] if r.group in ("blur_sigma2", "blur_sigma4", "motion_blur")
    ]
    keep_verdicts = [r.verdict() for r in keep]
    exposure_rejects = sum(
        bool({REASON_OVEREXPOSED, REASON_UNDEREXPOSED} & set(r.judged().reasons)) for r in keep
    )
    ev_hits = _hits(under, REASON_UNDEREXPOSED, False) + _hits(over, REASON_OVEREXPOSED, False)
    corrupt_hits = sum(r.unreadable == "corrupt" for r in corrupt)
    line = (
        f"calibration: keep_false_reject={_rate(keep_verdicts.count('reject'), len(keep)):.3f} "
        f"keep_borderline={_rate(keep_verdicts.count('borderline'), len(keep)):.3f} "
        f"derived_blur_recall={_rate(_hits(blurred, REASON_BLURRY, False), len(blurred)):.3f} "
        f"derived_blur_reject={_rate(_hits(blurred, REASON_BLURRY, True), len(blurred)):.3f} "
        f"exposure_false_reject={_rate(exposure_rejects, len(keep)):.3f} "
        f"corrupt_recall={_rate(corrupt_hits, len(corrupt)):.3f} "
        f"synthetic_blur_recall="
        f"{_rate(_hits(synthetic_blur, REASON_BLURRY, False), len(synthetic_blur)):.3f}"
    )
    extra = [
        f"- keep photos: {_share(keep_verdicts.count('reject'), len(keep))} rejected, "
        f"{_share(keep_verdicts.count('borderline'), len(keep))} borderline "
        "(targets: 0 rejected, at most 10 % borderline).",
        f"- derived blur >= 0.3 % of the long edge: "
        f"{_share(_hits(blurred, REASON_BLURRY, False), len(blurred))} rejected or flagged soft, "
        f"{_share(_hits(blurred, REASON_BLURRY, True), len(blurred))} rejected "
        "(targets: 95 %, 70 %).",
        f"- derived +/-2.5 EV: {_share(ev_hits, len(under) + len(over))} rejected or flagged "
        f"with the right exposure reason; -2.5 EV rejected: "
        f"{_share(_hits(under, REASON_UNDEREXPOSED, True), len(under))}, +2.5 EV rejected: "
        f"{_share(_hits(over, REASON_OVEREXPOSED, True), len(over))} (target: 95 % flagged "
        "or rejected).",
        f"- corrupt JPEGs recorded unreadable (corrupt): "
        f"{_share(sum(r.unreadable == 'corrupt' for r in corrupt), len(corrupt))} (target: all).",
        f"- synthetic blur (sigma 2 and 4 px, motion) rejected or flagged: "
        f"{_share(_hits(synthetic_blur, REASON_BLURRY, False), len(synthetic_blur))}.",
    ]
    return line, extra


def _report(by_set: dict[str, list[Record]], seconds: float, note: str) -> tuple[str, str]:
    t = DEFAULT_THRESHOLDS
    fields = ", ".join(f"{f.name}={getattr(t, f.name)}" for f in dataclasses.fields(t))
    line, extra = _summary(by_set)
    lines = [
        "# Validator calibration",
        "",
        f"Generated by `make calibrate` in {seconds:.0f} s. {note}",
        "",
        f"Thresholds: {fields}.",
        "",
        "How the sets are made (scripts/calibration_sets.py):",
        "",
        "- real: the labelled camera originals, unmodified. `keep`: a photographer would keep "
        "it, so a reject is a false reject; `soft` and `featureless`: any verdict is acceptable.",
        "- derived, from every `keep` original at its native resolution, re-encoded as JPEG q92 "
        "with its Exif: blur with a radius of 0.15, 0.3 and 0.6 % of the long edge (disk; "
        "Gaussian with sigma = radius / 2; motion along a line of 2 x radius, horizontal, "
        "vertical or diagonal). To keep `make calibrate` quick on two cores each original gets "
        "one blur kind, the three in turn (23 originals per kind and strength); "
        "`--all-blur-kinds` applies all three. Exposure: +/-2.5 EV in linear light. Corrupt "
        "(JPEG originals): 8 bit flips, two restart intervals (or a stretch of scan data) "
        "removed, or the scan cut and padded out with zero bytes, all in the middle third of "
        "the scan.",
        "- synthetic: the older 12 MP mosaics of scikit-image photos (scripts/testimages.py). "
        "Their blur (sigma 1, 2, 4 px on 4000 px) is 0.05-0.2 % of the long edge, mostly below "
        "what the validator now calls blurry.",
        "",
        "Bit flips are found by libjpeg's own corrupt-data warnings (JPEGs are decoded with "
        "simplejpeg, which raises them; Pillow drops them). A flip after which the Huffman code "
        "falls back into step, block for block, draws no warning: the decoder cannot tell it "
        "from good data, and it shows as a colour shift over a few blocks, or over the rest of "
        "the frame when it hits a DC difference (docs/adr/0005-corrupt-jpeg-detection.md).",
        "",
        "## Summary",
        "",
        *extra,
        "",
    ]
    for set_name, title in (("real", "Real photos"), ("derived", "Derived from the real keep "
                            "photos"), ("synthetic", "Synthetic mosaics")):  # fmt: skip
        lines += [f"## {title}: verdicts per {FORMATS[set_name]}", ""]
        lines += [*_verdict_table(by_set[set_name], FORMATS[set_name]), ""]
    unread = [r for r in by_set["derived"] if r.group.startswith("corrupt:") and not r.unreadable]
    if unread:
        lines += ["Damaged files that were not detected: " + ", ".join(r.name for r in unread), ""]
    lines += ["## Sharpness measures compared (real keep photos against derived blur)", ""]
    lines += [*_candidates_table(by_set["real"], by_set["derived"]), ""]
    sweeps = (
        ("min_sharpness", [0.18, 0.20, 0.22, 0.24, 0.26, 0.28, 0.30, 0.32, 0.34]),
        ("min_direction_balance", [0.0, 0.05, 0.08, 0.107, 0.13, 0.16]),
        ("min_bright_level", [0.30, 0.35, 0.40, 0.45, 0.50, 0.55]),
        ("max_highlight_clipped", [0.24, 0.26, 0.28, 0.30, 0.32, 0.35, 0.40]),
        ("max_median_luminance", [0.60, 0.70, 0.75, 0.80, 0.85, 0.90]),
    )
    lines += ["## Threshold sweeps (other thresholds at their defaults)", ""]
    for name, values in sweeps:
        lines += [*_sweep(by_set, name, values), ""]
    lines += ["## Real photos, per file", ""]
    lines += [*_per_file_table(by_set["real"]), ""]
    lines += ["```", line, "```", ""]
    return "\n".join(lines), line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=10, help="synthetic scenes (9 frames each)")
    parser.add_argument("--all-blur-kinds", action="store_true", help="every kind on every photo")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--remeasure", action="store_true", help="ignore cached measurements")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    real = real_samples()
    derived = build_derived(CACHE / "derived", real, args.all_blur_kinds, args.workers)
    synthetic = _synthetic_samples(args.scenes, args.workers)
    jobs = (
        [("real", s, True) for s in real]
        + [("derived", s, s.group.startswith("blur:")) for s in derived]
        + [("synthetic", s, False) for s in synthetic]
    )
    records = _measure_all(jobs, args.workers, args.remeasure)
    by_set = {name: [r for r in records if r.set == name] for name in FORMATS}
    kinds = "every blur kind" if args.all_blur_kinds else "one blur kind, in turn,"
    note = (
        f"{len(by_set['real'])} real photos, {len(by_set['derived'])} derived files "
        f"({kinds} on every keep photo), "
        f"{len(by_set['synthetic'])} synthetic frames ({args.scenes} scenes)."
    )
    text, line = _report(by_set, time.perf_counter() - started, note)
    REPORT.write_text(text)
    print(text.rsplit("```", 2)[0].rstrip())
    print(f"report written to {REPORT.relative_to(ROOT)}")
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
