"""The emulator's file downloads and token service, through real HTTP (requests)."""
import base64
import gzip
import hashlib
import json
import shutil
import subprocess

import keyring
import pytest
import requests

from astroquery_eso_ancillary.emulator import file_chunks, file_content

MUSE_CUBE = "ADP.2024-03-19T05:58:04.407"
MUSE_LOG = "ADP.2024-03-19T05:58:04.409"
MUSE_PNG = "ADP.2024-03-19T05:58:04.410"


def _proprietary_id(emu):
    for row in emu.archive.files:
        if emu.archive.is_proprietary(row["archive_id"]):
            return row["archive_id"]
    pytest.fail("the generated archive has no proprietary file")


def _public_id(emu):
    for row in emu.archive.files:
        if not emu.archive.is_proprietary(row["archive_id"]):
            return row["archive_id"]
    pytest.fail("the generated archive has no public file")


def _token(emu, *, method="GET", username="alice", password="wonderland"):
    payload = {"response_type": "id_token token", "grant_type": "password",
               "client_id": "clientid", "username": username, "password": password}
    if method == "POST":
        return requests.post(emu.token_url, data=payload, timeout=10)
    return requests.get(emu.token_url, params=payload, timeout=10)


def test_file_content_is_deterministic_and_sliceable():
    whole = file_content("X.1", 200_000)
    assert len(whole) == 200_000
    assert whole == file_content("X.1", 200_000)
    assert whole != file_content("X.2", 200_000)
    # Blocks differ from each other, so a misplaced range is detected.
    assert whole[:65536] != whole[65536:131072]
    assert b"".join(file_chunks("X.1", 200_000, 70_001, end=150_000)) == whole[70_001:150_000]


def test_download_headers_and_bytes(eso_archive):
    emu = eso_archive
    response = requests.get(emu.download_url + MUSE_PNG, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="{MUSE_PNG}.png"'
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Accept-Ranges"] == "bytes"
    row = emu.archive.file(MUSE_PNG)
    expected_size = min(row[emu.size_column] * 1024, emu.max_file_bytes)
    assert int(response.headers["Content-Length"]) == expected_size == len(response.content)
    assert response.content == emu.file_bytes(MUSE_PNG)
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    # The access_url published in product_files is the emulator's own download URL.
    assert row["access_url"] == emu.download_url + MUSE_PNG
    assert emu.requests[-1].bytes_sent == expected_size


def test_extension_names_file(eso_archive):
    response = requests.get(eso_archive.download_url + MUSE_LOG, timeout=10)
    assert response.headers["Content-Disposition"].endswith(f'filename="{MUSE_LOG}.log"')
    assert response.headers["Content-Type"].startswith("text/plain")


def test_head_sends_headers_only(eso_archive):
    emu = eso_archive
    response = requests.head(emu.download_url + MUSE_CUBE, timeout=10)
    assert response.status_code == 200
    assert int(response.headers["Content-Length"]) == len(emu.file_bytes(MUSE_CUBE))
    assert response.content == b""
    assert emu.requests[-1].method == "HEAD"
    assert emu.requests[-1].bytes_sent == 0


def test_range_gives_206_and_the_slice(eso_archive):
    emu = eso_archive
    data = emu.file_bytes(MUSE_CUBE)
    response = requests.get(emu.download_url + MUSE_CUBE, headers={"Range": "bytes=1000-69999"},
                            timeout=10)
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 1000-69999/{len(data)}"
    assert response.content == data[1000:70000]
    assert emu.requests[-1].range == "bytes=1000-69999"
    # Open-ended and suffix ranges.
    tail = requests.get(emu.download_url + MUSE_CUBE, headers={"Range": "bytes=200000-"},
                        timeout=10)
    assert tail.status_code == 206 and tail.content == data[200000:]
    suffix = requests.get(emu.download_url + MUSE_CUBE, headers={"Range": "bytes=-100"},
                          timeout=10)
    assert suffix.status_code == 206 and suffix.content == data[-100:]


def test_unsatisfiable_range_gives_416(eso_archive):
    emu = eso_archive
    size = len(emu.file_bytes(MUSE_CUBE))
    response = requests.get(emu.download_url + MUSE_CUBE,
                            headers={"Range": f"bytes={size}-"}, timeout=10)
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{size}"


def test_server_without_range_support_sends_everything(eso_archive_factory):
    emu = eso_archive_factory(products=20, range_support=False)
    response = requests.get(emu.download_url + MUSE_CUBE, headers={"Range": "bytes=10-19"},
                            timeout=10)
    assert response.status_code == 200
    assert "Accept-Ranges" not in response.headers
    assert response.content == emu.file_bytes(MUSE_CUBE)


def test_file_sizes_override_and_large_streaming(eso_archive):
    emu = eso_archive
    size = 5 * 1024 * 1024 + 17
    emu.file_sizes[MUSE_LOG] = size
    digest = hashlib.sha256()
    with requests.get(emu.download_url + MUSE_LOG, stream=True, timeout=10) as response:
        assert int(response.headers["Content-Length"]) == size
        for chunk in response.iter_content(1 << 20):
            digest.update(chunk)
    expected = hashlib.sha256()
    for chunk in emu.file_stream(MUSE_LOG):
        expected.update(chunk)
    assert digest.hexdigest() == expected.hexdigest()


def test_gzip_served_files(eso_archive):
    emu = eso_archive
    emu.gzip_ids.add(MUSE_CUBE)
    response = requests.get(emu.download_url + MUSE_CUBE, timeout=10)
    assert response.headers["Content-Disposition"].endswith(f'{MUSE_CUBE}.fits.gz"')
    # requests does not undo the compression: no Content-Encoding, the file is a .gz.
    assert "Content-Encoding" not in response.headers
    plain = gzip.decompress(response.content)
    assert plain == emu.plain_bytes(MUSE_CUBE) and plain.startswith(b"SIMPLE  =")
    assert response.content == emu.file_bytes(MUSE_CUBE)


def test_unknown_file_is_404(eso_archive):
    response = requests.get(eso_archive.download_url + "ADP.1999-01-01T00:00:00.000",
                            timeout=10)
    assert response.status_code == 404
    assert "ADP.1999-01-01T00:00:00.000" in response.text


def test_proprietary_file_needs_a_valid_token(eso_archive):
    emu = eso_archive
    file_id = _proprietary_id(emu)
    url = emu.download_url + file_id
    anonymous = requests.get(url, timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.text.strip()
    bogus = requests.get(url, headers={"Authorization": "Bearer abc.def.ghi"}, timeout=10)
    assert bogus.status_code == 401
    expired = emu.issue_token("alice", lifetime=-5)
    stale = requests.get(url, headers={"Authorization": f"Bearer {expired}"}, timeout=10)
    assert stale.status_code == 401
    token = _token(emu).json()["id_token"]
    granted = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert granted.status_code == 200
    assert granted.content == emu.file_bytes(file_id)
    # HTTP Basic with an account's password works too (as at ESO); a wrong one does not.
    basic = requests.get(url, auth=("alice", "wonderland"), timeout=10)
    assert basic.status_code == 200 and basic.content == emu.file_bytes(file_id)
    assert requests.get(url, auth=("alice", "wrong"), timeout=10).status_code == 401
    assert [r.authorized for r in emu.requests if r.path.endswith(file_id)] == \
        [False, False, False, True, True, False]
    # Public files need nothing.
    assert requests.get(emu.download_url + _public_id(emu), timeout=10).status_code == 200


def test_token_from_another_emulator_is_refused(eso_archive, eso_archive_factory):
    other = eso_archive_factory(products=5)
    foreign = other.issue_token("alice")
    url = eso_archive.download_url + _proprietary_id(eso_archive)
    response = requests.get(url, headers={"Authorization": f"Bearer {foreign}"}, timeout=10)
    assert response.status_code == 401


def test_token_endpoint_answers_like_eso(eso_archive):
    emu = eso_archive
    for method in ("GET",):
        response = _token(emu, method=method)
        assert response.status_code == 200
        document = response.json()
        assert document["token_type"] == "bearer" and document["scope"] == ""
        assert document["expires_in"] == emu.token_lifetime == 28800
        assert document["access_token"] == document["id_token"]
        token = document["id_token"]
        parts = token.split(".")
        assert len(parts) == 3
        payload = parts[1]
        # astroquery's own decoding rule: standard alphabet, "==" appended.
        claims = json.loads(base64.b64decode(payload + "=="))
        assert claims["sub"] == "alice"
        assert claims["exp"] - claims["iat"] == emu.token_lifetime
        assert "-" not in payload and "_" not in payload
    # The password never reaches the request log.
    assert all("wonderland" not in r.query for r in emu.requests)
    assert any(r.query and "username=alice" in r.query for r in emu.requests)


def test_token_endpoint_refuses_bad_credentials(eso_archive):
    response = _token(eso_archive, password="wrong")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_grant"
    unknown = _token(eso_archive, username="mallory")
    assert unknown.status_code == 401
    wrong_grant = requests.get(eso_archive.token_url,
                               params={"grant_type": "client_credentials"}, timeout=10)
    assert wrong_grant.status_code == 400
    wrong_client = requests.get(eso_archive.token_url, timeout=10, params={
        "grant_type": "password", "client_id": "other", "username": "alice",
        "password": "wonderland"})
    assert wrong_client.status_code == 401 and wrong_client.json()["error"] == "invalid_client"


def test_users_and_lifetime_are_configurable(eso_archive):
    emu = eso_archive
    assert _token(emu, username="bob", password="builder").status_code == 401
    emu.add_user("bob", "builder")
    emu.token_lifetime = 120
    document = _token(emu, username="bob", password="builder").json()
    claims = json.loads(base64.b64decode(document["id_token"].split(".")[1] + "=="))
    assert claims["exp"] - claims["iat"] == 120
    emu.reset()
    assert _token(emu, username="bob", password="builder").status_code == 401


def test_raw_progenitors_are_served_lzw_compressed(eso_archive, tmp_path):
    gzip_tool = shutil.which("gzip")
    if gzip_tool is None:
        pytest.skip("needs gzip -d to check the .Z stream independently")
    emu = eso_archive
    links = requests.get(emu.datalink_url, params={"ID": f"ivo://eso.org/ID?{MUSE_CUBE}"},
                         timeout=10).text
    raw_id = "MUSE.2024-03-07T08:09:46.977"  # from the cube's original file names
    assert emu.download_url + raw_id in links
    response = requests.get(emu.download_url + raw_id, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith(f'filename="{raw_id}.fits.Z"')
    assert response.content[:2] == b"\x1f\x9d"
    path = tmp_path / f"{raw_id}.fits.Z"
    path.write_bytes(response.content)
    plain = subprocess.run([gzip_tool, "-dc", str(path)], capture_output=True, check=True)
    assert plain.stdout == emu.plain_bytes(raw_id)
    assert plain.stdout.startswith(b"SIMPLE  =") and len(plain.stdout) == 22 * 2880


def test_token_endpoint_takes_post_only_when_asked(eso_archive, eso_archive_factory):
    refused = _token(eso_archive, method="POST")
    assert refused.status_code == 405 and refused.headers["Allow"] == "GET"
    emu = eso_archive_factory(products=5, token_methods=("GET", "POST"))
    for method in ("GET", "POST"):
        assert _token(emu, method=method).json()["token_type"] == "bearer"
    with pytest.raises(ValueError, match="token_methods"):
        eso_archive_factory(products=5, token_methods=("PUT",))


def test_client_login_works_against_a_get_only_token_service(eso_archive, monkeypatch):
    # The client uses ESO's documented transport, GET, and nothing else.
    emu = eso_archive
    monkeypatch.setattr(keyring, "get_password", lambda service, name: "wonderland")
    emu.eso.login(username="alice")
    assert emu.eso.authenticated()
    assert [(r.method, r.status) for r in emu.requests if r.path == "/sso/oidc/token"] == [
        ("GET", 200)]
