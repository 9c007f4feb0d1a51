"""Exports: every XMP sidecar reads back in exiftool with the curator's stars, reject and label,
under both naming conventions; the CSV lists the decisions; the picked originals stream out."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.http import HttpResponseBase, StreamingHttpResponse
from django.test import AsyncClient, Client

from culling import exports, services
from gallery.models import Photo, Shoot
from tests.gallery.factories import make_photo

pytestmark = pytest.mark.django_db
Status = Photo.Status


@pytest.fixture
def shoot(photographer: User, curator: User) -> tuple[Shoot, list[Photo]]:
    shoot = Shoot.objects.create(
        owner=photographer, name="Harbour, morning", capture_day=datetime.date(2026, 5, 1)
    )
    names = ["IMG_0001.CR3", "IMG_0002.JPG", "IMG_0003.JPG", "IMG_0004.JPG"]
    photos = [
        make_photo(owner=photographer, status=Status.SCORED, filename=name, source=source)
        for name, source in zip(
            names,
            ["skimage:coffee", "skimage:chelsea", "skimage:rocket", "cat_brown.jpg"],
            strict=True,
        )
    ]
    Photo.objects.filter(pk__in=[p.pk for p in photos]).update(shoot=shoot)
    first, second, third, _ = photos
    services.photo_pick(photo_id=first.pk, curator=curator)
    services.photo_set_rating(photo_id=first.pk, curator=curator, stars=4)
    services.photo_set_label(photo_id=first.pk, curator=curator, label="green")
    services.photo_reject(photo_id=second.pk, curator=curator, reason="out_of_focus")
    services.photo_set_label(photo_id=second.pk, curator=curator, label="red")
    services.photo_pick(photo_id=third.pk, curator=curator)
    return shoot, photos


def _exiftool() -> str:
    found = shutil.which("exiftool")
    if found is None:
        pytest.fail(
            "exiftool is missing: run scripts/ensure_exiftool.sh (make test does).",
            pytrace=False,
        )
    return found


def read_sidecars(folder: Path) -> dict[str, dict[str, object]]:
    """What exiftool reads from every sidecar in `folder`, by file name."""
    out = subprocess.run(
        [_exiftool(), "-j", "-XMP:Rating", "-XMP:Label", "-XMP-xmpDM:Pick", str(folder)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    return {Path(row["SourceFile"]).name: row for row in json.loads(out)}


def _body(response: HttpResponseBase) -> bytes:
    assert isinstance(response, StreamingHttpResponse)
    return response.getvalue()


def test_exiftool_reads_rating_and_label_from_every_sidecar(
    shoot: tuple[Shoot, list[Photo]], curator_client: Client, tmp_path: Path
) -> None:
    response = curator_client.get(f"/admin/cull/export/xmp.zip?shoot={shoot[0].pk}")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="parjanya-sidecars.zip"'
    zipfile.ZipFile(io.BytesIO(_body(response))).extractall(tmp_path)
    read = read_sidecars(tmp_path)
    assert sorted(read) == sorted(
        [f"IMG_000{n}.xmp" for n in range(1, 5)]
        + ["IMG_0001.CR3.xmp", "IMG_0002.JPG.xmp", "IMG_0003.JPG.xmp", "IMG_0004.JPG.xmp"]
    )
    for stem in ("IMG_0001.xmp", "IMG_0001.CR3.xmp"):
        assert (read[stem]["Rating"], read[stem]["Label"], read[stem]["Pick"]) == (4, "Green", 1)
    assert (read["IMG_0002.JPG.xmp"]["Rating"], read["IMG_0002.JPG.xmp"]["Label"]) == (-1, "Red")
    assert read["IMG_0002.xmp"]["Pick"] == -1
    assert (read["IMG_0003.xmp"]["Rating"], read["IMG_0003.xmp"]["Pick"]) == (0, 1)
    assert "Label" not in read["IMG_0004.xmp"]


def test_the_csv_lists_every_decision(
    shoot: tuple[Shoot, list[Photo]], curator_client: Client
) -> None:
    response = curator_client.get(f"/admin/cull/export/decisions.csv?shoot={shoot[0].pk}")
    rows = list(csv.DictReader(io.StringIO(_body(response).decode())))
    got = [(r["file"], r["decision"], r["reject_reason"], r["stars"], r["label"]) for r in rows]
    assert got == [
        ("IMG_0001.CR3", "picked", "", "4", "green"),
        ("IMG_0002.JPG", "rejected", "Out of focus", "", "red"),
        ("IMG_0003.JPG", "picked", "", "", ""),
        ("IMG_0004.JPG", "", "", "", ""),
    ]
    assert {r["shoot"] for r in rows} == {"Harbour, morning"}


def test_picked_originals_stream_out_a_chunk_at_a_time(
    shoot: tuple[Shoot, list[Photo]], curator_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small reads, so a few originals make many chunks: none may hold a whole file.
    monkeypatch.setattr(exports, "CHUNK", 4096)
    response = curator_client.get(f"/admin/cull/export/originals.zip?shoot={shoot[0].pk}")
    assert isinstance(response, StreamingHttpResponse)
    chunks = list(response.streaming_content)
    picked = [p for p in shoot[1] if p.original_filename in ("IMG_0001.CR3", "IMG_0003.JPG")]
    smallest = min(p.size_bytes for p in picked)
    assert max(len(c) for c in chunks) < smallest
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert sorted(archive.namelist()) == ["IMG_0001.CR3", "IMG_0003.JPG"]
    for photo in picked:
        with default_storage.open(str(photo.original.name), "rb") as original:
            expected = hashlib.sha256(original.read()).hexdigest()
        assert hashlib.sha256(archive.read(photo.original_filename)).hexdigest() == expected


def test_a_bad_scope_is_a_404_not_an_error(curator_client: Client) -> None:
    for query in ("shoot=²", "shoot=99999999999999999999", "stack=-1"):
        assert curator_client.get(f"/admin/cull/export/xmp.zip?{query}").status_code == 404
    assert curator_client.get("/admin/cull/export/photos.tar").status_code == 404


def test_under_asgi_the_originals_stream_chunk_by_chunk(
    shoot: tuple[Shoot, list[Photo]], curator: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Production serves Django over ASGI, whose handler would read a plain iterator whole
    into memory first: the export hands it an async iterator instead."""
    monkeypatch.setattr(exports, "CHUNK", 4096)

    async def fetch() -> tuple[bool, list[bytes]]:
        client = AsyncClient()
        await client.aforce_login(curator)
        response = await client.get(f"/admin/cull/export/originals.zip?shoot={shoot[0].pk}")
        assert isinstance(response, StreamingHttpResponse)
        return response.is_async, [chunk async for chunk in response.streaming_content]

    is_async, chunks = async_to_sync(fetch)()
    assert is_async
    assert len(chunks) > 10
    names = zipfile.ZipFile(io.BytesIO(b"".join(chunks))).namelist()
    assert sorted(names) == ["IMG_0001.CR3", "IMG_0003.JPG"]


def test_the_export_menu_covers_the_frames_just_decided(
    shoot: tuple[Shoot, list[Photo]], curator_client: Client
) -> None:
    """The curator culls "every undecided frame"; the sidecars exported from there carry the
    picks and rejects made in that session, not only the frames still undecided."""
    page = curator_client.get("/admin/cull/all/?filter=undecided")
    links = [link for _, link in page.context["exports"]]
    assert all("filter=" not in link for link in links)
    xmp_link = next(link for link in links if "xmp.zip" in link)
    names = zipfile.ZipFile(io.BytesIO(_body(curator_client.get(xmp_link)))).namelist()
    assert {"IMG_0001.xmp", "IMG_0002.JPG.xmp", "IMG_0003.JPG.xmp", "IMG_0004.JPG.xmp"} <= set(
        names
    )
    shoot_page = curator_client.get(f"/admin/cull/shoots/{shoot[0].pk}/?filter=undecided")
    csv_link = next(link for _, link in shoot_page.context["exports"] if "csv" in link)
    rows = list(csv.DictReader(io.StringIO(_body(curator_client.get(csv_link)).decode())))
    assert [r["decision"] for r in rows] == ["picked", "rejected", "picked", ""]


def test_an_empty_selection_is_refused_not_the_whole_library(
    shoot: tuple[Shoot, list[Photo]], curator_client: Client
) -> None:
    for query in ("ids=", "ids=,,", "ids=not-a-photo"):
        response = curator_client.get(f"/admin/cull/export/xmp.zip?{query}")
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/plain")
        assert response.content.decode() == (
            "No photos chosen: select frames (S) before exporting them."
        )


def test_no_picks_means_a_message_not_an_empty_zip(
    shoot: tuple[Shoot, list[Photo]], curator_client: Client, curator: User
) -> None:
    for photo in shoot[1][:3]:
        services.photo_unflag(photo_id=photo.pk, curator=curator)
    response = curator_client.get(f"/admin/cull/export/originals.zip?shoot={shoot[0].pk}")
    assert response.status_code == 404
    assert response.content.decode() == "No picked photos in this set: pick frames (P) first."
