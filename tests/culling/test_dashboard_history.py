"""The dashboard counts what the pipeline stopped from the event history: curators settling a
duplicate group or approving a rejected frame later do not lower "stopped before the GPU"; in
local mode it shows no cloud prices."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pytest_django import Settings

from culling import services
from gallery import curation_services
from gallery.models import Photo, Shoot
from pipeline.selectors import cost_report_get
from tests.gallery.factories import make_photo

pytestmark = pytest.mark.django_db
Status = Photo.Status
Reason = Photo.RejectReason


def _dashboard(client: Client) -> Any:
    response = client.get("/admin/gallery/photo/dashboard/")
    assert response.status_code == 200
    return response


def test_curator_work_does_not_rewrite_what_the_pipeline_stopped(
    photographer: User, curator: User, curator_client: Client, settings: Settings
) -> None:
    settings.COST_REPORT_PRICES = {}
    root = make_photo(owner=photographer, status=Status.SCORED, filename="keeper.jpg")
    copies = [
        make_photo(
            owner=photographer,
            status=Status.REJECTED,
            reason=Reason.DUPLICATE,
            duplicate_of=root,
            filename=f"copy-{n}.jpg",
        )
        for n in range(2)
    ]
    blurry = make_photo(owner=photographer, status=Status.REJECTED, reason=Reason.BLURRY)
    before = _dashboard(curator_client).context["gpu"]
    assert before.rejected_before_gpu == {"blurry": 1, "duplicate": 2}
    assert cost_report_get().gpu.rejected_before_gpu == before.rejected_before_gpu

    # Keep the second copy: the root and the first copy become curator rejects.
    curation_services.duplicate_group_keep(
        keeper_id=copies[1].pk, member_ids=[root.pk, *(c.pk for c in copies)], curator=curator
    )
    services.photo_pick(photo_id=blurry.pk, curator=curator)
    after = _dashboard(curator_client).context["gpu"]
    assert after.rejected_before_gpu == {"blurry": 1, "duplicate": 2}
    assert after.rejected_before_gpu_total == before.rejected_before_gpu_total == 3
    # `manage.py cost_report` counts the same way, and agrees.
    assert cost_report_get().gpu.rejected_before_gpu == {"blurry": 1, "duplicate": 2}


def test_local_mode_shows_no_cloud_prices(
    photographer: User, curator_client: Client, settings: Settings
) -> None:
    settings.COST_REPORT_PRICES = {}
    make_photo(owner=photographer, status=Status.REJECTED, reason=Reason.BLURRY)
    make_photo(owner=photographer, status=Status.SCORED)
    settings.AWS_STORAGE_BUCKET_NAME = ""
    settings.GPU_FLEET_ASG_NAME = ""
    page = _dashboard(curator_client).content.decode()
    assert "GPU hours saved (estimate)" in page
    assert "$" not in page
    assert "no cloud prices apply" in page
    settings.GPU_FLEET_ASG_NAME = "parjanya-gpu"
    assert "at cloud GPU prices" in _dashboard(curator_client).content.decode()


def test_the_dashboard_for_one_shoot(
    photographer: User, curator_client: Client, settings: Settings
) -> None:
    settings.COST_REPORT_PRICES = {}
    harbour = Shoot.objects.create(
        owner=photographer, name="Harbour", capture_day=datetime.date(2026, 5, 1)
    )
    inside = [
        make_photo(owner=photographer, status=Status.REJECTED, reason=Reason.BLURRY),
        make_photo(owner=photographer, status=Status.SCORED),
    ]
    Photo.objects.filter(pk__in=[p.pk for p in inside]).update(shoot=harbour)
    make_photo(owner=photographer, status=Status.REJECTED, reason=Reason.OVEREXPOSED)

    everything = _dashboard(curator_client).context["gpu"]
    assert everything.rejected_before_gpu == {"blurry": 1, "overexposed": 1}
    response = curator_client.get(f"/admin/gallery/photo/dashboard/?shoot={harbour.pk}")
    gpu = response.context["gpu"]
    assert (gpu.rejected_before_gpu, gpu.frames_ingested) == ({"blurry": 1}, 2)
    assert "Pipeline dashboard: Harbour" in response.content.decode()
    too_big = curator_client.get("/admin/gallery/photo/dashboard/?shoot=99999999999999999999")
    assert too_big.status_code == 404
    assert curator_client.get("/admin/gallery/photo/dashboard/?shoot=x").status_code == 404


def test_with_scoring_off_the_dashboard_says_so_instead_of_an_empty_chart(
    curator_client: Client, settings: Any
) -> None:
    settings.SCORING_ENABLED = False
    page = _dashboard(curator_client).content.decode()
    assert "VLM score distribution" not in page
    assert "Scoring is off, so there is no model score distribution to show." in page
