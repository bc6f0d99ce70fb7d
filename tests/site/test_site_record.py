"""The site tree is saved with the customer record (sealed document) and restored from it: after the
records store is reopened, every saved unit is opened again on its own link and reads its own device."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from protocols.links.factory import LinkSpec
from protocols.sim.simulator import Simulator, demo_start_time

from desktop.device.connect import Target
from desktop.device.service import DeviceService
from desktop.device.site_record import (
    SITE_FILENAME,
    SiteDocumentError,
    load_site,
    parse_site_document,
    restore_site,
    save_site,
)
from desktop.device.site_service import SiteService
from tests.site.site_helpers import frozen, wait

pytestmark = pytest.mark.timeout(90)




def _by_key(site):
    return {d["key"]: d for d in site.snapshot()}


@pytest.fixture
def records_dir(tmp_path):
    return tmp_path / "records"


def _records(path):
    from desktop.records.service import RecordsService
    return RecordsService(path, "inst-1", passphrase="correct horse battery staple")   # no OS keyring here


def test_the_site_tree_is_saved_with_the_record_and_restored(records_dir):
    bus = frozen(Simulator(units=(1, 2), tcp=False, rtu=True, start_s=demo_start_time(), seed=3).start())
    lan = frozen(Simulator(units=(7,), start_s=demo_start_time(), seed=9).start())
    service = DeviceService(fast_period_s=0.3, slow_period_s=2.0)
    try:
        site = SiteService(service, fast_period_s=0.3, slow_period_s=2.0)
        site.add_units(Target(spec=LinkSpec(kind="serial", serial_port=bus.rtu_path, baud=9600)), [1, 2]).result(30)
        host, port = lan.tcp_address
        site.add(Target(spec=LinkSpec(kind="tcp", host=host, port=port), unit=7)).result(30)
        wait(lambda: all(d["state"] == "connected" and d["serial"] for d in site.snapshot()),
              what=site.snapshot)
        before = _by_key(site)

        records = _records(records_dir)
        rid = records.add_customer({"name": "Ada Lovelace"})
        site_id = records.add_site(rid, {"name": "Home"})
        assert load_site(records, rid, site_id) is None               # nothing saved yet
        save_site(records, rid, site_id, site)
        records.close()
        site.close().result(10)

        records = _records(records_dir)                               # reopened: read from disk
        doc = load_site(records, rid, site_id)
        records.close()
        assert [link["label"] for link in doc["links"]] == sorted({d["link"] for d in before.values()})
        units = {(link["label"], u["unit"]): u for link in doc["links"] for u in link["units"]}
        for d in before.values():
            saved = units[(d["link"], d["unit"])]
            assert (saved["model"], saved["serial"], saved["state"], saved["alarms"]) == \
                   (d["title"], d["serial"], "connected", d["alarms"])
        assert units[(f"TCP {host}:{port}", 7)]["serial"] == before[f"TCP {host}:{port} unit 7"]["serial"]

        again = SiteService(service, fast_period_s=0.3, slow_period_s=2.0)
        keys = [f.result(30) for f in restore_site(again, doc)]
        assert sorted(keys) == sorted(before)
        wait(lambda: all(d["values"].get("pv_power_w") is not None for d in again.snapshot()),
              what=again.snapshot)
        after = _by_key(again)
        assert {k: d["serial"] for k, d in after.items()} == {k: d["serial"] for k, d in before.items()}
        assert after[f"TCP {host}:{port} unit 7"]["values"]["pv_power_w"] == \
               pytest.approx(lan.device(7).value_of("pv_power_w"), abs=1)
        assert after[keys[0]]["values"]["pv_power_w"] == pytest.approx(
            bus.device(again.members[keys[0]].target.unit).value_of("pv_power_w"), abs=1)
        again.close().result(10)
    finally:
        service.shutdown()
        bus.stop()
        lan.stop()


def test_the_newest_save_wins_and_a_broken_document_gets_a_clear_error(records_dir):
    records = _records(records_dir)
    rid = records.add_customer({"name": "Ada Lovelace"})
    site_id = records.add_site(rid, {"name": "Home"})

    save_site(records, rid, site_id, SimpleNamespace(members={}))
    other = {"format": "pvdesk-site/1", "links": [{"label": "TCP 10.0.0.5:502", "units": [{"unit": 3}],
                                                   "spec": {"kind": "tcp", "host": "10.0.0.5", "port": 502}}]}
    records.attach_document(rid, site_id, "other", json.dumps(other).encode(), filename=SITE_FILENAME)
    records.attach_document(rid, site_id, "other", b"a photo", filename="roof.jpg")  # not a site tree
    assert load_site(records, rid, site_id)["links"][0]["units"] == [{"unit": 3}]
    records.close()
    with pytest.raises(SiteDocumentError, match="not valid JSON.*save the site again"):
        parse_site_document(b"{oops")
    with pytest.raises(SiteDocumentError, match="not a pvdesk-site/1 document"):
        parse_site_document(b'{"format": "other"}')
