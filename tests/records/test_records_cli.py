"""`pvdesk records ...` and `pvdesk sync` through argparse, as desktop/cli/main.py will wire them."""
from __future__ import annotations

import argparse
import json

import pytest
from records_helpers import sample

from desktop.cli import records as cli_records


def run(argv, capsys):
    parser = argparse.ArgumentParser(prog="pvdesk")
    sub = parser.add_subparsers(dest="command")
    cli_records.register(sub)
    args = parser.parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def store(make_service, tmp_path):
    svc = make_service("cli")
    ids = [svc.add_customer(sample()), svc.add_customer(sample(9))]
    svc.close()
    return tmp_path / "cli", ids


def test_list_show_export(store, capsys, tmp_path):
    d, (a, b) = store
    code, out, _ = run(["records", "list", "--data-dir", str(d), "--json"], capsys)
    assert code == 0 and {r["id"] for r in json.loads(out)} == {a, b}
    code, out, _ = run(["records", "list", "--data-dir", str(d), "--search", "zebrafink"], capsys)
    assert code == 0 and b in out and a not in out
    code, out, _ = run(["records", "show", a, "--data-dir", str(d)], capsys)
    assert json.loads(out)["email"] == "m.quellenbach@example.org"
    target = tmp_path / "export.json"
    code, _, err = run(["records", "export", a, "--data-dir", str(d), "-o", str(target)], capsys)
    assert code == 0 and json.loads(target.read_text())["customer"]["name"] == "Margarethe Quellenbach"


def test_delete_needs_confirmation(store, capsys):
    d, (a, b) = store
    code, _, err = run(["records", "delete", a, "--data-dir", str(d)], capsys)
    assert code != 0 and "--yes" in err
    code, _, _ = run(["records", "delete", a, "--data-dir", str(d), "--yes"], capsys)
    assert code == 0
    code, out, _ = run(["records", "list", "--data-dir", str(d), "--json"], capsys)
    assert [r["id"] for r in json.loads(out)] == [b]


def test_errors_are_one_line_without_traceback(store, capsys):
    d, _ = store
    code, out, err = run(["records", "show", "cust_doesnotexist", "--data-dir", str(d)], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "cust_doesnotexist" in err
    code, _, err = run(["sync", "--data-dir", str(d), "--endpoint", "http://example.com", "--bucket", "b-b-b"],
                       capsys)
    assert code == 2 and "plain HTTP" in err and err.count("\n") == 1


def test_purge_expired_lists_then_purges(store, capsys, make_service, tmp_path):
    d, (a, b) = store
    code, out, err = run(["records", "purge-expired", "--data-dir", str(d)], capsys)
    assert code == 0 and out == "" and "no record" in err
    import time
    svc = make_service("cli", clock=lambda: time.time() - 40 * 86400)
    svc.record_visit(a)  # the last service visit, 40 days ago
    svc.close()
    code, out, err = run(["records", "purge-expired", "--data-dir", str(d), "--retention-days", "30"], capsys)
    assert code == 0 and out.split() == [a] and "--yes" in err
    code, out, err = run(["records", "purge-expired", "--data-dir", str(d), "--yes"], capsys)
    assert "purged 1" in err
    code, out, _ = run(["records", "list", "--data-dir", str(d), "--json"], capsys)
    assert [r["id"] for r in json.loads(out)] == [b]


def test_sync_command(store, capsys, moto_endpoint, bucket, tmp_path, make_service):
    d, (a, _) = store
    code, out, _ = run(["sync", "--data-dir", str(d), "--endpoint", moto_endpoint, "--bucket", bucket,
                        "--create-key"], capsys)
    assert code == 0 and "Recovery code" in out
    svc = make_service("cli")
    svc.grant_consent(a, "cloud_sync", "paper")
    svc.close()
    code, out, _ = run(["sync", "--data-dir", str(d)], capsys)
    assert code == 0 and out.startswith("1 uploaded")
    keyfile = tmp_path / "org.key"
    keyfile.write_text("old", encoding="utf-8")
    keyfile.chmod(0o644)           # an old, world-readable file of that name: the key must not inherit it
    assert run(["sync", "--data-dir", str(d), "--export-key", str(keyfile)], capsys)[0] == 0
    assert keyfile.stat().st_mode & 0o777 == 0o600 and keyfile.read_text(encoding="utf-8") != "old"
    decoy = tmp_path / "decoy.txt"
    decoy.write_text("untouched", encoding="utf-8")
    link = tmp_path / "link.key"
    link.symlink_to(decoy)         # a symlink planted where the key goes: refused, its target unchanged
    code, _, err = run(["sync", "--data-dir", str(d), "--export-key", str(link)], capsys)
    assert code == 2 and "symbolic link" in err and decoy.read_text(encoding="utf-8") == "untouched"
    other = tmp_path / "other"
    run(["sync", "--data-dir", str(other), "--endpoint", moto_endpoint, "--bucket", bucket,
         "--import-key", str(keyfile)], capsys)
    code, out, _ = run(["sync", "--data-dir", str(other)], capsys)
    assert code == 0 and "1 downloaded" in out


def test_records_lifecycle_from_the_command_line(capsys, tmp_path, keyring_dir):
    d = str(tmp_path / "life")
    code, _, err = run(["records", "login", "inst-007", "--data-dir", d], capsys)
    assert code == 0 and "inst-007" in err
    code, out, _ = run(["records", "add", "--data-dir", d, "--name", "Erika Mustermann", "--phone", "+49 30 555",
                        "--site", "Home", "--location", "52.1, 13.2", "--serial", "SN-1"], capsys)
    rid = out.strip()
    assert code == 0 and rid.startswith("cust_")
    assert run(["records", "correct", rid, "--data-dir", d, "--email", "erika@example.org"], capsys)[0] == 0
    assert run(["records", "consent", rid, "support_sharing", "--method", "paper", "--data-dir", d], capsys)[0] == 0
    assert run(["records", "restrict", rid, "--data-dir", d], capsys)[0] == 0
    code, _, err = run(["records", "correct", rid, "--data-dir", d, "--notes", "x"], capsys)
    assert code == 2 and "restricted" in err
    assert run(["records", "unrestrict", rid, "--data-dir", d], capsys)[0] == 0
    code, out, _ = run(["records", "requests", "open", "--kind", "deletion", "--record", rid,
                        "--identity-check", "ID card seen", "--data-dir", d], capsys)
    req = out.strip()
    code, out, _ = run(["records", "requests", "--data-dir", d], capsys)
    assert req in out and "deletion" in out and "30 day(s) left" in out
    code, _, err = run(["records", "withdraw", rid, "support_sharing", "--data-dir", d], capsys)
    assert code == 0 and "withdrawn" in err
    code, out, _ = run(["records", "show", rid, "--data-dir", d], capsys)
    doc = json.loads(out)
    assert doc["email"] == "erika@example.org" and doc["sites"][0]["device_serials"] == ["SN-1"]
    assert {c["installer"] for c in doc["consents"]} == {"inst-007"}
    receipt = tmp_path / "receipt.json"
    assert run(["records", "delete", rid, "--yes", "--receipt", str(receipt), "--data-dir", d], capsys)[0] == 0
    assert json.loads(receipt.read_text())["by"] == "inst-007" and receipt.stat().st_mode & 0o777 == 0o600
    assert run(["records", "requests", "close", "--request", req, "--data-dir", d], capsys)[0] == 0
    code, out, _ = run(["records", "requests", "export", "--data-dir", d], capsys)
    assert json.loads(out)["requests"][0]["status"] == "closed"
    # an installer id cannot be claimed per command
    code, _, err = run(["records", "list", "--data-dir", d, "--installer", "somebody-else"], capsys)
    assert code == 2 and "logged-in profile" in err


def test_export_refuses_a_device_or_symlink_target(store, capsys, tmp_path):
    d, (a, _) = store
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "elsewhere.json")
    for target in ("/dev/null", str(link)):
        code, _, err = run(["records", "export", a, "--data-dir", str(d), "-o", target], capsys)
        assert code == 2 and "Refusing to write" in err
    assert not (tmp_path / "elsewhere.json").exists()
    out = tmp_path / "ok.json"
    assert run(["records", "export", a, "--data-dir", str(d), "-o", str(out)], capsys)[0] == 0
    assert out.stat().st_mode & 0o777 == 0o600
