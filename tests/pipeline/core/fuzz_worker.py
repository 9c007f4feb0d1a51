"""Fuzz the validator with mutated real images, in a process of its own.

    python -m tests.pipeline.core.fuzz_worker --examples 10000 --seed 1

Each input is a real photo (JPEG, PNG, TIFF) or a generated DNG with a few byte-level mutations:
flips, overwrites, insertions, deletions, truncation. `validate` must return a result or raise
UnreadableImage; any other exception fails the run. The process runs under an address-space
limit (unbounded memory fails as MemoryError or a kill), and each input under a watchdog that
kills the process with a traceback when one input takes too long (a hang in C code included).
Exit status 0 means every input behaved.
"""

from __future__ import annotations

import argparse
import faulthandler
import io
import resource
import sys
from functools import cache

import numpy as np
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from PIL import Image

from pipeline.core.errors import UnreadableImage
from pipeline.core.validator import validate
from tests.support.paths import PHOTOS

from .frames import make_dng

MEMORY_LIMIT_BYTES = 3 << 30
PER_INPUT_SECONDS = 20


@cache
def seeds() -> tuple[tuple[str, bytes], ...]:
    photo = Image.open(PHOTOS / "cat_brown.jpg")
    photo.load()
    small = photo.resize((160, 120))
    exif = Image.Exif()
    exif[0x010F], exif[0x0112] = "Parjanya", 6  # Make, Orientation
    encoded = []
    for fmt, options in (
        ("PNG", {}),
        ("TIFF", {"compression": "tiff_lzw"}),
        ("TIFF", {"compression": "tiff_deflate"}),
    ):
        buffer = io.BytesIO()
        small.save(buffer, fmt, exif=exif.tobytes(), **options)
        encoded.append((f"x.{fmt.lower()}", buffer.getvalue()))
    rgb = np.asarray(photo.convert("RGB").resize((1280, 960)))
    return (
        ("cat_brown.jpg", (PHOTOS / "cat_brown.jpg").read_bytes()),
        ("IMG_4120.JPG", (PHOTOS / "IMG_4120.JPG").read_bytes()),
        *encoded,
        ("x.dng", make_dng(rgb[:, :, :3])),
        ("y.dng", make_dng(rgb[:240, :320, :3], preview=False)),
    )


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    name, original = draw(st.sampled_from(seeds()))
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        position = draw(st.integers(0, len(data) - 1))
        operation = draw(st.sampled_from(["flip", "overwrite", "insert", "delete", "truncate"]))
        if operation == "flip":
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif operation == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=16))
            data[position : position + len(chunk)] = chunk
        elif operation == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=64))
        elif operation == "delete":
            del data[position : position + draw(st.integers(1, 256))]
        else:
            del data[position:]
    return name, bytes(data)


def run(examples: int, seed_value: int) -> None:
    @seed(seed_value)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(mutated())
    def validate_returns_or_raises_unreadable(case: tuple[str, bytes]) -> None:
        name, data = case
        faulthandler.dump_traceback_later(PER_INPUT_SECONDS, exit=True)
        try:
            validate(data, filename=name, preview_edges=(400,))
        except UnreadableImage:
            pass
        finally:
            faulthandler.cancel_dump_traceback_later()

    validate_returns_or_raises_unreadable()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    seeds()  # build the inputs before the memory limit applies
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    run(args.examples, args.seed)
    print(f"fuzz: {args.examples} inputs, all gave a result or UnreadableImage")
    return 0


if __name__ == "__main__":
    sys.exit(main())
