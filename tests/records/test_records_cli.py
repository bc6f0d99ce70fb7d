"""`pvdesk records ...` and `pvdesk sync` through argparse, as desktop/cli.py will wire them."""
from __future__ import annotations

import argparse
import json

import pytest
from records_helpers import sample

from desktop import cli_records


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
    assert run(["sync", "--data-dir", str(d), "--export-key", str(keyfile)], capsys)[0] == 0
    other = tmp_path / "other"
    run(["sync", "--data-dir", str(other), "--endpoint", moto_endpoint, "--bucket", bucket,
         "--import-key", str(keyfile)], capsys)
    code, out, _ = run(["sync", "--data-dir", str(other)], capsys)
    assert code == 0 and "1 downloaded" in out
