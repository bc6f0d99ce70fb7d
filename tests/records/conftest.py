"""Fixtures for the customer-records tests: a real keyring backend, a real S3 endpoint.

- Keyring: keyrings.alt's PlaintextKeyring (a real keyring backend class),
  selected with PYTHON_KEYRING_BACKEND and writing its file under a per-test
  XDG_DATA_HOME, so subprocesses (the kill test, the CLI) see the same keys.
  PVDesk refuses file keyrings outside the tests; PVDESK_TEST_FILE_KEYRING=1 lets
  the tests use this one as a stand-in for an OS keyring.
- S3: moto's ThreadedMotoServer on 127.0.0.1 with an OS-chosen port, one
  server for the session and a fresh bucket per test.
- Connections: every socket.connect() is recorded, to prove that nothing is
  sent without consent.
"""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import socket
import uuid

import pytest

PLAINTEXT_BACKEND = "keyrings.alt.file.PlaintextKeyring"


@pytest.fixture(autouse=True)
def keyring_dir(tmp_path, monkeypatch):
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    kr_home = tmp_path / "keyring-home"
    kr_home.mkdir()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", PLAINTEXT_BACKEND)
    monkeypatch.setenv("PVDESK_TEST_FILE_KEYRING", "1")  # the file backend stands in for an OS keyring
    monkeypatch.setenv("XDG_DATA_HOME", str(kr_home))
    monkeypatch.setenv("HOME", str(kr_home))
    previous = keyring.get_keyring()
    backend = PlaintextKeyring()
    keyring.set_keyring(backend)
    yield kr_home
    keyring.set_keyring(previous)


ATOMIC_BACKEND = "atomic_keyring.AtomicFileKeyring"


@pytest.fixture
def atomic_keyring(keyring_dir, monkeypatch):
    """Switch to the stand-in for an OS keyring whose writes are atomic (atomic_keyring.py)."""
    import keyring
    from atomic_keyring import AtomicFileKeyring

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", ATOMIC_BACKEND)
    here = os.path.dirname(__file__)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), here) if p))
    keyring.set_keyring(AtomicFileKeyring())
    return keyring_dir


@pytest.fixture
def make_service(tmp_path):
    from desktop.records.service import RecordsService

    opened = []

    def make(name: str = "laptop-a", installer: str = "inst-1", **kw) -> RecordsService:
        svc = RecordsService(tmp_path / name, installer, **kw)
        opened.append(svc)
        return svc

    yield make
    for svc in opened:
        try:
            svc.close()
        except Exception:
            pass


@pytest.fixture(scope="session")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    import logging
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # request lines: noise, not evidence
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(moto_endpoint, monkeypatch):
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    name = f"pvdesk-test-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3(moto_endpoint):
    import boto3

    return boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def connections(monkeypatch):
    """Destinations of every socket.connect() made while the test runs."""
    seen: list[tuple] = []
    real_connect = socket.socket.connect

    def recording_connect(self, address):
        seen.append(address if isinstance(address, tuple) else (address,))
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    return seen
