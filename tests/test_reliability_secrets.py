# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Reliability: the password and the token never leak.

With a login, DEBUG level on astroquery's log, the root logger and urllib3,
after anonymous and authenticated queries, DataLink look-ups, downloads and
failures of each: neither secret appears in any log record, exception text,
manifest, or file under the cache folder or the destination.
"""
import logging
import os
import uuid

import keyring
import pytest
from astroquery import log as astroquery_log

from astroquery_eso_ancillary import EsoQueryError, EsoServiceError, conf
from astroquery_eso_ancillary.emulator import Faults
from astroquery_eso_ancillary.exceptions import LoginError

USER = "carol"


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def record_text(record):
    parts = [record.getMessage(), str(record.args or "")]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append(repr(record.exc_info[1]))
    if record.exc_text:
        parts.append(record.exc_text)
    return " ".join(parts)


@pytest.fixture
def debug_logs(caplog):
    """Everything logged at DEBUG by astroquery, urllib3 and the root logger."""
    handler = Collect()
    loggers = [astroquery_log, logging.getLogger("urllib3"), logging.getLogger()]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="astroquery")
    try:
        yield handler, caplog
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)


def files_containing(root, secrets):
    hits = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as fh:
                data = fh.read()
            hits += [(path, s) for s in secrets if s.encode() in data or s in name]
    return hits


def test_no_secret_anywhere(eso_archive, tmp_path, monkeypatch, debug_logs):
    emu, eso = eso_archive, eso_archive.eso
    handler, caplog = debug_logs
    password = "pw-" + uuid.uuid4().hex
    emu.add_user(USER, password)
    monkeypatch.setattr(keyring, "get_password", lambda service, name: password)
    dest = tmp_path / "dest"
    texts = []  # exception texts and manifests

    with conf.set_temp("backoff", 0.01):
        # A wrong password first: its failure must not show the attempt either.
        monkeypatch.setattr(keyring, "get_password", lambda service, name: password + "x")
        eso.login(username=USER)
        assert not eso.authenticated()
        monkeypatch.setattr(keyring, "get_password", lambda service, name: password)
        eso.login(username=USER)
        assert eso.authenticated()
        token = eso._auth_info.token
        assert token and password not in token

        product = emu.archive.products[0]["dp_id"]
        secret_files = [row["archive_id"] for row in emu.archive.files
                        if emu.archive.is_proprietary(row["archive_id"])][:3]
        assert secret_files, "the emulator's archive has no proprietary file"
        for authenticated in (False, True):
            eso.get_product_files(product, authenticated=authenticated)
            eso.query_ancillary(product, authenticated=authenticated)
            eso.list_ancillary_categories(product_ids=product, authenticated=authenticated)
            eso.get_datalinks(product, authenticated=authenticated)
        # A query the service refuses, authenticated: its error text.
        emu.tap_override = {"body": b"<html>Internal error</html>", "status": 400,
                            "content_type": "text/html"}
        with pytest.raises((EsoQueryError, EsoServiceError)) as info:
            eso.query_ancillary(product, authenticated=True, categories="ANCILLARY.README")
        texts.append(str(info.value))
        emu.tap_override = None

        manifest = eso.download_ancillary([*secret_files, product], destination=dest,
                                          progress=False)
        assert set(manifest["status"]) <= {"downloaded", "resumed"}, list(manifest["message"])
        texts.append(str(list(manifest.iterrows())))
        texts.append(repr(manifest.meta))
        # Downloads that fail while logged in: dropped then refused.
        emu.faults = Faults(drop_after=1000, paths=("/dataPortal",))
        failed = eso.download_ancillary(secret_files, destination=dest / "b", max_retries=1,
                                        progress=False)
        assert set(failed["status"]) == {"error"}
        texts.append(str(list(failed.iterrows())))
        emu.faults = Faults(error_fraction=1.0, error_status=503, paths=("/dataPortal",))
        failed = eso.download_ancillary(secret_files, destination=dest / "c", max_retries=1,
                                        progress=False)
        texts.append(str(list(failed.iterrows())))
        emu.faults = Faults()
        # An expired login: the LoginError's text.
        emu.token_lifetime = 30
        eso.login(username=USER)
        expired_token = eso._auth_info.token
        with pytest.raises(LoginError) as info:
            eso.download_ancillary(secret_files, destination=dest / "d", progress=False)
        texts.append(str(info.value))
        with pytest.raises(LoginError) as info:
            eso.get_product_files(product, authenticated=True)
        texts.append(str(info.value))

    secrets = [password, token, expired_token]
    # The tokens really were used: the emulator saw authorized requests.
    assert any(r.authorized for r in emu.requests if r.path.startswith("/tap_obs"))
    assert any(r.authorized for r in emu.requests if r.path.startswith("/dataPortal"))
    logged = [record_text(r) for r in handler.records + caplog.records]
    assert len(logged) > 10  # DEBUG logging was really on
    for secret in secrets:
        assert not [t for t in logged if secret in t]
        assert not [t for t in texts if secret in t]
        assert secret not in caplog.text
    assert files_containing(eso.cache_location, secrets) == []
    assert files_containing(dest, secrets) == []
    # Nothing secret in the emulator's own log of what it was sent, either.
    assert not [r for r in emu.requests for s in secrets if s in r.query or s in r.path]
