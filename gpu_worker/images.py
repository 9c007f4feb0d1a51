"""Decoding what the scorer looks at. Previews are JPEGs of about 1600 px; the processor resizes
far below that, so JPEG draft mode (DCT scaling) skips most of the decode work."""

from __future__ import annotations

import io

from PIL import Image

# Comfortably above any pixel budget's long edge, so draft mode never costs resolution.
DRAFT_LONG_EDGE = 1024


def decode_image(data: bytes) -> Image.Image:
    """RGB pixels, fully decoded: a truncated or corrupt file fails here, not mid-batch."""
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (DRAFT_LONG_EDGE, DRAFT_LONG_EDGE))
    return image.convert("RGB")
