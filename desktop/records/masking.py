"""Masking and scrubbing personal data for diagnostic bundles and previews.

`mask_customer` takes a customer as a dict (Customer.to_dict() or a subset)
and returns a copy a support engineer can still work with -- the device
serials, the installed capacity, the city and a location to about 1 km --
but with nothing that identifies the person. Masks have a fixed length, so
they leak neither initials nor the length of a name:

  name      "John Smith"                  -> "***"
  phone     "+49 30 1234567"              -> "+49 ***"   (the country only)
  e-mail    "john.smith@example.com"      -> "***@***"
  address   "Hauptstr. 5, 10115 Berlin"   -> "Berlin"    (the city only)
  location  52.520008, 13.404954          -> 52.52, 13.40  (about 1 km)
  notes, site names, consent history      -> removed / "Site 1"
  record id                               -> a new pseudonym per bundle (`pseudonym()`),
                                             so two bundles cannot be linked by it

`scrub_patterns(values)` builds the matchers that remove personal data from
free text (logs, events): phones by their digits in any spacing and with the
country code written +49, 0049 or as a national 0; e-mails in any case;
names by each part, with and without accents or umlaut spellings; street
words and postcodes; the clauses and longer words of the notes; precise
coordinates. `scrub(data, patterns)` applies them. Pure functions, any thread.
"""
from __future__ import annotations

import copy
import re
import secrets
import unicodedata

__all__ = ["mask_customer", "mask_name", "mask_phone", "mask_email", "city_only", "round_location",
           "pseudonym", "scrub_patterns", "scrub", "REDACTED", "MASK"]

MASK = "***"
REDACTED = "[redacted]"
_SEP = r"[\s\-./()]*"


def pseudonym() -> str:
    """A fresh random customer id for one bundle (never the record's id)."""
    return "cust-" + secrets.token_hex(6)


def mask_name(name: str) -> str:
    return MASK if str(name).strip() else ""


def _country(phone: str) -> str:
    phone = phone.strip()
    digits = re.sub(r"\D", "", phone)
    if phone.startswith("+"):
        first = phone.split()[0]
        return first if 2 <= len(first) <= 4 and first[1:].isdigit() else "+" + digits[:2]
    if phone.startswith("00"):
        return "+" + digits[2:4]
    return ""


def mask_phone(phone: str) -> str:
    phone = str(phone).strip()
    if not re.sub(r"\D", "", phone):
        return ""
    cc = _country(phone)
    return f"{cc} {MASK}" if cc else MASK


def mask_email(email: str) -> str:
    email = str(email).strip()
    if not email:
        return ""
    return f"{MASK}@{MASK}" if "@" in email else MASK


# Postcodes as written in the markets PVDesk serves: UK "SW1A 2AA", Canada "K1A 0B1", Netherlands
# "1012 AB", Poland and Portugal "00-950", and the plain digits of most of Europe and Australia.
_POSTCODE = re.compile(
    r"(?<![\w])(?:[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}"  # UK
    r"|[A-Z]\d[A-Z]\s*\d[A-Z]\d"  # Canada
    r"|\d{4}\s?[A-Z]{2}"  # Netherlands
    r"|\d{2,3}-\d{3,4}"  # Poland, Portugal
    r"|(?:[A-Z]{1,2}-)?\d{4,5})(?![\w])")
_STREET = re.compile(r"(?i)(str\.?|stra(ss|ß)e|street|st\.|road|rd\.?|avenue|ave\.?|lane|drive|way|weg|gasse|"
                     r"platz|allee|ring|rue|via|calle|laan|straat|gracht|ulica|ul\.)$")


def _address_split(address: str) -> tuple[str, str]:
    """(street text, city) of a postal address; the city is "" when it cannot be told safely."""
    parts = [p.strip() for p in re.split(r"[,\n;]", str(address)) if p.strip()]
    if not parts:
        return "", ""
    if len(parts) >= 2 and re.fullmatch(r"[^\W\d_][^\d]*", parts[-1]) and _POSTCODE.search(parts[-2]):
        parts = parts[:-1]  # "..., 10115 Berlin, Germany": the country goes
    if len(parts) >= 2:
        last = parts[-1]
        street = ", ".join(parts[:-1])
    else:
        last, street = parts[0], ""
        code = _POSTCODE.search(last)
        if code is None:
            return last, ""  # one line with no postcode: nothing tells the city from the street
        before, after = last[:code.start()].strip(), last[code.end():].strip()
        if after:  # "Hauptstr. 5 10115 Berlin"
            street, last = before, after
        else:  # "10 Downing Street London SW1A 2AA": the words after the last street word or number
            words = before.split()
            cut = max([i for i, w in enumerate(words) if _STREET.search(w) or re.search(r"\d", w)], default=-1)
            street, last = " ".join(words[:cut + 1]), " ".join(words[cut + 1:])
    if re.search(r"\d", _POSTCODE.sub(" ", last)) or any(_STREET.search(w) for w in last.split()):
        return address, ""  # what is left still looks like a street: say nothing
    city = " ".join(_POSTCODE.sub(" ", last).split())
    return street, city


def city_only(address: str) -> str:
    """The city of a postal address, or *** when it cannot be told from the street safely."""
    if not str(address).strip():
        return ""
    return _address_split(address)[1] or MASK


def round_location(value):
    return None if value is None else round(float(value), 2)


def mask_customer(customer: dict, pseudonym_id: str | None = None) -> dict:
    out = copy.deepcopy(customer)
    if "id" in out or pseudonym_id:
        out["id"] = pseudonym_id or MASK
    for key, fn in (("name", mask_name), ("phone", mask_phone), ("email", mask_email),
                    ("postal_address", city_only)):
        if out.get(key):
            out[key] = fn(out[key])
    if "notes" in out:
        out["notes"] = ""
    out.pop("consents", None)
    for i, site in enumerate(out.get("sites", []), 1):
        site["name"] = f"Site {i}"
        site.pop("site_id", None)
        for key in ("latitude", "longitude"):
            if key in site:
                site[key] = round_location(site[key])
        for doc in site.get("documents", []):
            doc.pop("filename", None)
    return out


# -- scrubbing free text -----------------------------------------------------------------------
_TRANSLIT = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}


def _spellings(word: str) -> set[str]:
    plain = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    translit = "".join(_TRANSLIT.get(c, c) for c in word)
    back = word
    for k, v in _TRANSLIT.items():
        back = back.replace(v, k)
    return {word, plain, translit, back}


def _word_pattern(text: str) -> str:
    return r"(?<!\w)" + r"\s+".join(re.escape(p) for p in text.split()) + r"(?!\w)"


def _digits_pattern(digits: str) -> str:
    return r"(?<!\d)" + _SEP.join(digits) + r"(?!\d)"


def _phone_patterns(phone: str) -> list[str]:
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 6:
        return []
    variants = {digits}
    cc = _country(phone)
    if cc:
        national = digits[len(cc) - 1:] if phone.strip().startswith("+") else digits[len(cc) + 1:]
        variants |= {national, "0" + national, "00" + digits if phone.strip().startswith("+") else digits}
        variants.add(national[-7:])
    else:
        variants.add(digits.lstrip("0"))
        variants.add(digits[-7:])
    out = [(r"\+?" if v == digits else "") + _digits_pattern(v) for v in variants if len(v) >= 6]
    return out


def _coordinate_pattern(value) -> str | None:
    if value is None:
        return None
    text = f"{float(value):.6f}"
    head = text[: text.index(".") + 4]  # three decimals (about 100 m) and whatever follows
    return r"(?<!\d)" + re.escape(head) + r"\d*"


def scrub_patterns(values: dict) -> list[re.Pattern]:
    """Matchers for every personal value of a customer dict (see the module docstring)."""
    pats: list[str] = []

    def words(text: str, min_len: int) -> None:
        for w in re.findall(r"[^\W\d_][\w'\-]*", text):
            if len(w) >= min_len:
                pats.extend(_word_pattern(s) for s in _spellings(w))

    name = str(values.get("name") or "")
    if name.strip():
        pats.extend(_word_pattern(s) for s in _spellings(name))
        words(name, 2)  # "Li Wu": every part of a name, in any order
    pats += _phone_patterns(str(values.get("phone") or ""))
    email = str(values.get("email") or "").strip()
    if email:
        pats.append(re.escape(email))
        if "@" in email:
            local = email.rsplit("@", 1)[0]
            if len(local) >= 3:
                pats.append(r"(?<![\w.])" + re.escape(local) + r"(?![\w])")
    address = str(values.get("postal_address") or "")
    if address.strip():
        street, city = _address_split(address)
        for part in re.split(r"[,\n;]", street):
            if part.strip():
                pats.append(_word_pattern(part.strip()))
        city_words = {w.lower() for w in city.split()}
        for w in re.findall(r"[^\W\d_][\w'\-]*", address):
            if len(w) >= 4 and w.lower() not in city_words:
                pats.extend(_word_pattern(s) for s in _spellings(w))
        for code in _POSTCODE.findall(address.upper()):
            pats.append(r"(?<!\w)" + r"\s*".join(re.escape(c) for c in re.sub(r"\s", "", code)) + r"(?!\w)")
        for code in re.findall(r"\d{3,}", address):
            pats.append(_digits_pattern(code))
    notes = str(values.get("notes") or "")
    for clause in re.split(r"[.;,:!?\n()]+", notes):
        if len(clause.strip()) >= 6:
            pats.append(_word_pattern(clause.strip()))
    words(notes, 5)
    for site in values.get("sites", []) or []:
        if str(site.get("name") or "").strip():
            pats.append(_word_pattern(site["name"]))
            words(site["name"], 4)
        for key in ("latitude", "longitude"):
            p = _coordinate_pattern(site.get(key))
            if p:
                pats.append(p)
    unique = sorted(set(pats), key=len, reverse=True)
    return [re.compile(p, re.IGNORECASE) for p in unique]


def scrub(data: bytes, patterns: list[re.Pattern]) -> bytes:
    """``data`` with every match of every pattern replaced by [redacted]."""
    if not patterns:
        return data
    text = data.decode("utf-8", errors="replace")
    for p in patterns:
        text = p.sub(REDACTED, text)
    return text.encode("utf-8")
