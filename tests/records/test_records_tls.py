"""HTTPS to the sync endpoint: certificates are verified; a private CA works only when given."""
from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading

import pytest
from records_helpers import sample

from desktop.records.errors import CertificateNotTrusted


def _self_signed(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pvdesk test s3")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture
def https_s3(tmp_path):
    from moto.moto_server.threaded_moto_server import MotoRequestHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    cert, key = _self_signed(tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server = make_server("127.0.0.1", 0, DomainDispatcherApplication(create_backend_app), True,
                         request_handler=MotoRequestHandler, ssl_context=ctx)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_port}", cert
    server.shutdown()


def test_untrusted_certificate_is_refused_and_a_given_ca_works(make_service, https_s3, monkeypatch):
    import boto3
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    url, cert = https_s3
    boto3.client("s3", endpoint_url=url, region_name="us-east-1", verify=str(cert)).create_bucket(Bucket="tls-bucket")
    svc = make_service()
    svc.configure_sync(url, "tls-bucket")
    svc.create_sync_key()
    rid = svc.add_customer(sample())
    svc.grant_consent(rid, "cloud_sync", "paper")
    with pytest.raises(CertificateNotTrusted) as err:
        svc.sync()
    assert "could not be verified" in str(err.value) and "--ca-bundle" in str(err.value)
    assert svc.sync_status(rid) == "pending"
    svc.configure_sync(url, "tls-bucket", ca_bundle=str(cert))
    assert svc.sync().uploaded == [rid]
    assert svc.sync_status(rid) == "synced"
