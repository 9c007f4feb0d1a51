"""Exports: every XMP sidecar reads back in exiftool with the curator's stars, reject and label,
under both naming conventions; the CSV lists the decisions; the picked originals stream out."""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import re
import shutil
import subprocess
import uuid
import zipfile
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.http import HttpResponseBase, StreamingHttpResponse
from django.test import AsyncClient, Client
from pytest_django import Settings

from culling import exports, selectors, services
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


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _stored_sha256(photo: Photo) -> str:
    with default_storage.open(str(photo.original.name), "rb") as original:
        return _sha256(original.read())


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
    # Named as their single downloads are: the fixture's "CR3" is a JPEG.
    # IMG_0001.CR3 holds JPEG bytes here: named by what it holds; IMG_0003.JPG as it was.
    assert archive.namelist() == ["IMG_0001.jpg", "IMG_0003.JPG"]
    assert [_sha256(archive.read(name)) for name in archive.namelist()] == [
        _stored_sha256(photo) for photo in picked
    ]


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
    assert names == ["IMG_0001.jpg", "IMG_0003.JPG"]


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


DAY = datetime.datetime(2026, 5, 1, 9, 0, tzinfo=datetime.UTC)


def _picked(
    owner: User, curator: User, filename: str, source: str, captured: datetime.datetime
) -> Photo:
    photo = make_photo(owner=owner, status=Status.SCORED, filename=filename, source=source)
    Photo.objects.filter(pk=photo.pk).update(captured_at=captured)
    services.photo_pick(photo_id=photo.pk, curator=curator)
    photo.refresh_from_db()
    return photo


def _zip(response: HttpResponseBase) -> zipfile.ZipFile:
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(_body(response)))


def test_originals_keep_the_cameras_clock_and_a_reset_clock_still_downloads(
    photographer: User, curator: User, curator_client: Client, settings: Settings
) -> None:
    """A camera whose clock reset dates its frames 1970, before anything a ZIP can hold: the
    archive dates them 1980-01-01 instead of breaking off half-way. The others keep the
    camera's reading, whatever the server's time zone."""
    settings.TIME_ZONE = "Europe/Berlin"
    sources = ["skimage:coffee", "skimage:chelsea", "skimage:rocket"]
    captured = [
        datetime.datetime(1970, 1, 1, 0, 0, 5, tzinfo=datetime.UTC),
        datetime.datetime(1979, 12, 31, 23, 59, 58, tzinfo=datetime.UTC),
        datetime.datetime(2026, 5, 1, 10, 20, 30, tzinfo=datetime.UTC),
    ]
    photos = [
        _picked(photographer, curator, f"IMG_000{n}.JPG", source, when)
        for n, (source, when) in enumerate(zip(sources, captured, strict=True), start=1)
    ]
    archive = _zip(curator_client.get("/admin/cull/export/originals.zip"))
    assert [(info.filename, info.date_time) for info in archive.infolist()] == [
        ("IMG_0001.JPG", (1980, 1, 1, 0, 0, 0)),
        ("IMG_0002.JPG", (1980, 1, 1, 0, 0, 0)),
        ("IMG_0003.JPG", (2026, 5, 1, 10, 20, 30)),
    ]
    assert [_sha256(archive.read(info)) for info in archive.infolist()] == [
        _stored_sha256(photo) for photo in photos
    ]


def test_every_picked_original_is_in_the_zip_when_names_clash(
    photographer: User, curator: User, curator_client: Client
) -> None:
    """Two bodies both wrote DSC_0001, and a third frame differs only in case (one file on
    Windows and macOS): each is kept under a name of its own, in capture order, and the
    README says which is which."""
    minute = datetime.timedelta(minutes=1)
    photos = [
        _picked(photographer, curator, "DSC_0001.JPG", "skimage:coffee", DAY),
        _picked(photographer, curator, "DSC_0001.JPG", "skimage:chelsea", DAY + minute),
        _picked(photographer, curator, "dsc_0001.jpg", "skimage:rocket", DAY + 2 * minute),
    ]
    archive = _zip(curator_client.get("/admin/cull/export/originals.zip"))
    names = ["DSC_0001.JPG", "DSC_0001 (2).JPG", "dsc_0001 (3).jpg"]
    assert archive.namelist() == [*names, "README.txt"]
    assert [_sha256(archive.read(name)) for name in names] == [_stored_sha256(p) for p in photos]
    readme = archive.read("README.txt").decode()
    assert "DSC_0001.JPG:" not in readme
    for name, photo in zip(names[1:], photos[1:], strict=True):
        line = next(line for line in readme.splitlines() if line.startswith(f"{name}:"))
        assert photo.original_filename in line and str(photo.uid) in line
        assert photo.captured_at is not None
        assert photo.captured_at.strftime("%Y-%m-%d %H:%M:%S") in line


def test_sidecars_of_photos_sharing_a_name_are_numbered_not_dropped(
    photographer: User, curator: User, curator_client: Client, tmp_path: Path
) -> None:
    first = _picked(photographer, curator, "DSC_0001.NEF", "skimage:coffee", DAY)
    second = _picked(
        photographer, curator, "DSC_0001.NEF", "skimage:chelsea", DAY + datetime.timedelta(days=1)
    )
    services.photo_set_rating(photo_id=first.pk, curator=curator, stars=3)
    services.photo_set_rating(photo_id=second.pk, curator=curator, stars=5)
    archive = _zip(curator_client.get("/admin/cull/export/xmp.zip"))
    archive.extractall(tmp_path)
    read = read_sidecars(tmp_path)
    ratings = {name: row["Rating"] for name, row in read.items() if name.endswith(".xmp")}
    assert ratings == {
        "DSC_0001.NEF.xmp": 3,
        "DSC_0001.xmp": 3,
        "DSC_0001 (2).NEF.xmp": 5,
        "DSC_0001 (2).xmp": 5,
    }
    readme = archive.read("README.txt").decode()
    assert f"DSC_0001 (2).NEF.xmp, DSC_0001 (2).xmp: DSC_0001.NEF by {photographer}" in readme
    assert str(second.uid) in readme and str(first.uid) not in readme


def test_a_photo_left_without_its_stem_sidecar_is_named_in_the_readme(
    photographer: User, curator: User, curator_client: Client
) -> None:
    """Two frames with one stem: the stem-only sidecar can be only one's (the earlier, both
    being JPEGs); the other keeps darktable's, and the README says so rather than nothing."""
    _picked(photographer, curator, "IMG_0005.JPG", "skimage:coffee", DAY)
    later = _picked(
        photographer, curator, "IMG_0005.JPEG", "skimage:chelsea", DAY + datetime.timedelta(hours=1)
    )
    archive = _zip(curator_client.get("/admin/cull/export/xmp.zip"))
    assert sorted(archive.namelist()) == [
        "IMG_0005.JPEG.xmp",
        "IMG_0005.JPG.xmp",
        "IMG_0005.xmp",
        "README.txt",
    ]
    readme = archive.read("README.txt").decode().splitlines()
    assert readme[-1].startswith("IMG_0005.JPEG.xmp: IMG_0005.JPEG by ")
    assert str(later.uid) in readme[-1]
    assert readme[-1].endswith("; IMG_0005.xmp is the sidecar of IMG_0005.JPG")


def test_an_original_is_named_by_the_format_its_bytes_proved(
    photographer: User, curator: User, curator_client: Client
) -> None:
    _picked(photographer, curator, "poly.html", "cat_brown.jpg", DAY)
    archive = _zip(curator_client.get("/admin/cull/export/originals.zip"))
    assert archive.namelist() == ["poly.jpg"]


def test_a_large_selection_is_posted_with_the_pages_token_and_exported_whole(
    shoot: tuple[Shoot, list[Photo]], curator: User
) -> None:
    """Hundreds of ids do not fit a request line (the server answers 400 past 4 KB): the
    workspace posts the selection with its CSRF token."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(curator)
    page = client.get(f"/admin/cull/shoots/{shoot[0].pk}/").content.decode()
    form = re.search(
        r'<form method="post" action="([^"]+)" id="ws-export-selection">(.*?)</form>', page
    )
    assert form is not None
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(2))
    assert token is not None
    chosen = [str(p.uid) for p in shoot[1][1:3]] + [str(uuid.uuid4()) for _ in range(300)]
    assert len(",".join(chosen)) > 4094
    assert client.post(form.group(1), {"ids": ",".join(chosen)}).status_code == 403
    response = client.post(
        form.group(1), {"ids": ",".join(chosen), "csrfmiddlewaretoken": token.group(1)}
    )
    assert sorted(_zip(response).namelist()) == [
        "IMG_0002.JPG.xmp",
        "IMG_0002.xmp",
        "IMG_0003.JPG.xmp",
        "IMG_0003.xmp",
    ]


def test_a_selection_past_the_limit_is_refused_in_words(
    shoot: tuple[Shoot, list[Photo]], curator_client: Client
) -> None:
    ids = [str(p.uid) for p in shoot[1]] + [
        str(uuid.uuid4()) for _ in range(selectors.MAX_SELECTION)
    ]
    response = curator_client.post("/admin/cull/export/xmp.zip", {"ids": ",".join(ids)})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == (
        "5004 frames chosen: at most 5000 can be taken at once. "
        "Export the whole shoot (with a filter) instead, or choose fewer frames."
    )
