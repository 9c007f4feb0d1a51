"""XMP sidecars carrying a curator's marks, in the fields editors read on import:
`xmp:Rating` (stars; -1 for a reject, as Lightroom, Bridge and darktable write it), `xmp:Label`
(Lightroom's and Capture One's colour names), darktable's own colour labels, and `xmpDM:pick`
(Adobe's pick flag: 1 picked, -1 rejected). Pure: marks in, bytes out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from xml.sax.saxutils import quoteattr

# darktable numbers its colour labels; it has none for "purple" beyond magenta, its fifth.
_DARKTABLE_LABELS = {"red": 0, "yellow": 1, "green": 2, "blue": 3, "purple": 4}
REJECTED_RATING = -1


@dataclass(frozen=True)
class Marks:
    picked: bool
    rejected: bool
    stars: int | None
    label: str  # Photo.Label value, or ""


def rating(marks: Marks) -> int:
    if marks.rejected:
        return REJECTED_RATING
    return marks.stars or 0


def sidecar(marks: Marks) -> bytes:
    attributes = {
        "xmp:Rating": str(rating(marks)),
        "xmpDM:pick": "1" if marks.picked else "-1" if marks.rejected else "0",
        "xmp:CreatorTool": "Parjanya",
    }
    if marks.label:
        attributes["xmp:Label"] = marks.label.capitalize()
    written = "\n".join(f"    {name}={quoteattr(value)}" for name, value in attributes.items())
    darktable = ""
    if marks.label in _DARKTABLE_LABELS:
        darktable = (
            "\n   <darktable:colorlabels><rdf:Seq>"
            f"<rdf:li>{_DARKTABLE_LABELS[marks.label]}</rdf:li>"
            "</rdf:Seq></darktable:colorlabels>\n  "
        )
    text = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="Parjanya">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:xmpDM="http://ns.adobe.com/xmp/1.0/DynamicMedia/"
    xmlns:darktable="http://darktable.sf.net/"
{written}>{darktable}</rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>
"""
    return text.encode("utf-8")


def sidecar_names(filename: str) -> tuple[str, str]:
    """`IMG_0001.xmp` (Lightroom Classic, Capture One) and `IMG_0001.CR3.xmp` (darktable)."""
    path = PurePosixPath(filename)
    return f"{path.stem}.xmp", f"{path.name}.xmp"
