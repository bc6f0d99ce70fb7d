"""Property tests: record JSON and sealing round-trip, recovery codes, masking never leaks."""
from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.records import crypto, synckey
from desktop.records.masking import mask_customer
from desktop.records.model import Customer

text = st.text(min_size=0, max_size=40)
names = st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll")), min_size=6, max_size=20)


@settings(max_examples=60, deadline=None)
@given(name=names, notes=text, serials=st.lists(st.text(min_size=1, max_size=12), max_size=4),
       kwp=st.one_of(st.none(), st.floats(0, 1000, allow_nan=False)))
def test_record_round_trips_through_sealing(name, notes, serials, kwp):
    c = Customer.from_dict({"name": name, "notes": notes,
                            "sites": [{"name": "S", "installed_capacity_kwp": kwp, "device_serials": serials}]})
    key = crypto.new_key()
    blob = crypto.seal(key, json.dumps(c.to_dict()).encode(), b"record|" + c.id.encode())
    back = Customer.from_dict(json.loads(crypto.open_sealed(key, blob, b"record|" + c.id.encode())))
    assert back == c
    assert name.encode() not in blob
    assert name.casefold() in back.search_text()


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_recovery_code_round_trip(key):
    code = synckey.to_recovery_code(key)
    assert synckey.from_recovery_code(code) == key
    assert synckey.from_recovery_code(code.lower().replace("-", " ")) == key
    assert synckey.parse(synckey.to_key_file(key)) == key


@settings(max_examples=60, deadline=None)
@given(first=names, last=names, local=st.text(alphabet="abcdefghijklmnop", min_size=5, max_size=12))
def test_masking_hides_the_name_and_mailbox(first, last, local):
    m = mask_customer({"name": f"{first} {last}", "email": f"{local}@example.com"})
    assert first not in m["name"] and last not in m["name"]
    assert m["name"] == "***" and local not in m["email"]  # fixed length: no initial, no length
