import pytest
from tests.support.paths import PHOTOS
pytestmark = pytest.mark.django_db

def body(files):
    b = b"----x"
    out = b""
    for name, data in files:
        out += b"--" + b + b"\r\n" + f'Content-Disposition: form-data; name="files"; filename="{name}"\r\n'.encode() + b"Content-Type: image/jpeg\r\n\r\n" + data + b"\r\n"
    return out + b"--" + b + b"--\r\n"

def test_probe(api):
    good = (PHOTOS / "elephants.jpg").read_bytes()
    for names in (["ok.jpg", ".."], ["ok.jpg", "я" * 500 + ".jpg"], ["ok.jpg", "я" * 500], ["ok.jpg", "a/../.."], ["ok.jpg", ""], ["ok.jpg", "x."+"я"*300]):
        r = api.generic("POST", "/api/photos/", body([(n, good) for n in names]), content_type="multipart/form-data; boundary=----x")
        print(repr(names[1][:10]), r.status_code, r.content[:300])
