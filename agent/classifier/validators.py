"""Checksums and structural checks for identifiers and codes.

Only a checksum or a structural rule earns code; everything else is data in rules/.
Each validator takes the matched text (``str``) and returns True when it is plausible.
Rules name a validator by its key in ``VALIDATORS``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from agent.classifier import vocab

_DIGITS = re.compile(r"\d")


def _digits(s: str) -> str:
    return "".join(_DIGITS.findall(s))


def luhn_ok(digits: str) -> bool:
    """Luhn mod-10 over a digit string whose last digit is the check digit."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# Sample and advertising SSNs that were never (or are not uniquely) a person's:
# 078-05-1120 (Woolworth wallet card), 219-09-9999 (1940 SSB pamphlet), 457-55-5462
# (python-stdnum blacklist). Reference: shared phi-detection.md section 2.1.
_SSN_BLACKLIST = {"078051120", "219099999", "457555462"}


def ssn(s: str) -> bool:
    """SSA structural rules: area not 000/666/900-999, group not 00, serial not 0000
    (SSA "Social Security Number Randomization" FAQ). No checksum exists."""
    d = _digits(s)
    if len(d) != 9 or d in _SSN_BLACKLIST:
        return False
    # Mixed separators ("123-45 6789") are not how SSNs are written (Presidio rule).
    seps = {c for c in s if not c.isdigit()}
    if len(seps) > 1:
        return False
    area, group, serial = d[:3], d[3:5], d[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    if len(set(d)) == 1 or d in ("123456789", "987654321"):
        return False
    return True


def npi(s: str) -> bool:
    """NPI: 10 digits starting 1 or 2, Luhn over "80840" + the digits (CMS, "Requirements
    for NPI Check Digit")."""
    d = _digits(s)
    if len(d) != 10 or d[0] not in "12" or len(set(d[:9])) == 1:
        return False
    return luhn_ok("80840" + d)


def dea(s: str) -> bool:
    """DEA registration: 2 letters + 7 digits; (d1+d3+d5) + 2*(d2+d4+d6) ends in d7
    (DEA registrant record layout; worked example AB1234563)."""
    t = s.strip().upper()
    if len(t) < 9 or not t[0].isalpha() or not (t[1].isalpha() or t[1] == "9"):
        return False
    d = t[2:9]
    if not d.isdigit():
        return False
    n = [ord(c) - 48 for c in d]
    return (n[0] + n[2] + n[4] + 2 * (n[1] + n[3] + n[5])) % 10 == n[6]


_MBI_ALPHA = "ACDEFGHJKMNPQRTUVWXY"  # CMS excludes S, L, O, I, B, Z
_MBI_CLASSES = ("C", "A", "AN", "N", "A", "AN", "N", "A", "A", "N", "N")


def mbi(s: str) -> bool:
    """Medicare Beneficiary Identifier character classes by position (CMS, "Understanding
    the Medicare Beneficiary Identifier (MBI) Format"). There is no check digit."""
    t = s.replace("-", "").strip().upper()
    if len(t) != 11:
        return False
    for ch, cls in zip(t, _MBI_CLASSES, strict=True):
        if cls == "C" and ch not in "123456789":
            return False
        if cls == "N" and not ch.isdigit():
            return False
        if cls == "A" and ch not in _MBI_ALPHA:
            return False
        if cls == "AN" and not (ch.isdigit() or ch in _MBI_ALPHA):
            return False
    return True


# 14 deprecated LOINC codes carry wrong check digits; LOINC Users' Guide appendix C.
_LOINC_WRONG_CHECK = {
    "11491-6", "11501-6", "5895-7", "5896-5", "5897-3", "5928-1", "6028-3",
    "6415-5", "6580-7", "6645-7", "6646-5", "6647-3", "6648-1", "6649-9",
}


def loinc(s: str) -> bool:
    """LOINC mod-10 check digit (numerically the Luhn algorithm; LOINC Users' Guide C)."""
    t = s.strip()
    if t in _LOINC_WRONG_CHECK:
        return True
    body, _, check = t.partition("-")
    if not body.isdigit() or not check.isdigit() or len(check) != 1:
        return False
    return luhn_ok(body + check)


def icd10cm(s: str) -> bool:
    """ICD-10-CM: the code (dot optional) is in the CDC code list shipped by
    simple-icd-10-cm (April 2026 release). A shape regex alone matches B12, E11, K9S..."""
    return vocab.icd10_valid(s)


def ndc(s: str) -> bool:
    """NDC: FDA 10-digit layouts 4-4-2, 5-3-2, 5-4-1, or the HIPAA 11-digit 5-4-2 form.
    There is no checksum (FDA NDC Directory); reject all-zero segments."""
    parts = s.strip().split("-")
    if len(parts) != 3:
        return False
    shape = tuple(len(p) for p in parts)
    if shape not in ((4, 4, 2), (5, 3, 2), (5, 4, 1), (5, 4, 2)):
        return False
    return all(p.isdigit() and int(p) > 0 for p in parts[:2])


def email(s: str) -> bool:
    """Practical e-mail check: drop package specs (name@1.2.3), image digests, and
    placeholder domains used in docs and code."""
    local, _, domain = s.rpartition("@")
    if not local or "." not in domain:
        return False
    tld = domain.rsplit(".", 1)[-1]
    if not tld.isalpha() or len(tld) < 2:
        return False
    low = domain.lower()
    if low in ("example.com", "domain.com", "email.com", "test.com") and local.lower() in (
        "user", "name", "someone", "john.doe", "jane.doe", "your.name", "you", "email",
    ):
        return False
    return True


_NANP_N11 = {f"{d}11" for d in range(2, 10)}
_TOLL_FREE = {"800", "833", "844", "855", "866", "877", "888"}


def phone_nanp(s: str) -> bool:
    """NANP: NPA and NXX start 2-9; N11 codes are not area codes or exchanges; N9X area
    codes are reserved for expansion ("North American Numbering Plan" reference)."""
    d = _digits(s)
    if len(d) == 11 and d[0] == "1":
        d = d[1:]
    if len(d) != 10:
        return False
    npa, nxx = d[:3], d[3:6]
    if npa[0] in "01" or nxx[0] in "01":
        return False
    if npa in _NANP_N11 or nxx in _NANP_N11 or npa[1] == "9":
        return False
    if len(set(d)) == 1:
        return False
    # Toll-free numbers belong to businesses; exchange 555 is directory assistance (555-1212)
    # and the fictional numbers of films, docs and examples (555-0100..0199 reserved).
    if npa in _TOLL_FREE or nxx == "555":
        return False
    return True


def ipv4_public(s: str) -> bool:
    """A routable IPv4 address: loopback, RFC 1918, link-local, documentation ranges,
    multicast and well-known resolvers are infrastructure, not people (phi-detection.md
    section 7)."""
    try:
        ip = ipaddress.ip_address(s.strip())
    except ValueError:
        return False
    if not ip.is_global:
        return False
    return s.strip() not in ("8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "1.2.3.4")


_VIN_MAP = {**{str(i): i for i in range(10)},
            **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
            **dict(zip("JKLMN", range(1, 6), strict=True)), "P": 7, "R": 9,
            **dict(zip("STUVWXYZ", range(2, 10), strict=True))}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin(s: str) -> bool:
    """VIN check digit in position 9 (49 CFR 565.15): weighted sum mod 11, 10 -> X."""
    t = s.strip().upper()
    if len(t) != 17 or any(c in "IOQ" for c in t) or not any(c.isdigit() for c in t):
        return False
    try:
        total = sum(_VIN_MAP[c] * w for c, w in zip(t, _VIN_WEIGHTS, strict=True))
    except KeyError:
        return False
    check = total % 11
    return t[8] == ("X" if check == 10 else str(check))


def gtin(s: str) -> bool:
    """GS1 GTIN-14 inside a UDI "(01)" element: mod-10 with weights 3/1 (GS1 spec)."""
    d = _digits(s)
    if not d.startswith("01") or len(d) < 16:
        return False
    g = d[2:16]
    total = sum((3 if i % 2 == 0 else 1) * (ord(c) - 48) for i, c in enumerate(g[:-1]))
    return (10 - total % 10) % 10 == ord(g[-1]) - 48


_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}


# Dates that forms and test fixtures fill in for "unknown" (the first day systems accept)
_PLACEHOLDER_DATES = frozenset({(1900, 1, 1), (1901, 1, 1)})


def date(s: str) -> bool:
    """A calendar date in one of the usual layouts (ISO, US m/d/y, d Month y, Month d, y,
    compact YYYYMMDD), years 1900-2100, other than a placeholder such as 1900-01-01."""
    d = parse_date(s)
    return d is not None and d not in _PLACEHOLDER_DATES


def record_number(s: str) -> bool:
    """A record number, not a filler: its digits are not one digit repeated (00000000) or
    a run of the counting digits (12345678)."""
    digits = _digits(s)
    return len(set(digits)) > 1 and digits not in "01234567890123456789" \
        and digits not in "98765432109876543210"


def parse_date(s: str) -> tuple[int, int, int] | None:
    t = s.strip().rstrip(".,")
    t = re.sub(r"(?i)(\d)(?:st|nd|rd|th)\b", r"\1", t)
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", t) or re.fullmatch(r"(\d{4})(\d{2})(\d{2})", t)
    if m:
        y, mo, d = (int(x) for x in m.groups())
    else:
        m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})", t)
        if m:
            mo, d, y = (int(x) for x in m.groups())
            if mo > 12 and d <= 12:  # day-first layouts (UK/EU)
                mo, d = d, mo
            if y < 100:
                y += 1900 if y > 30 else 2000
        else:
            m = re.fullmatch(r"(?i)(\d{1,2})[\s-]+([a-z]{3})[a-z]*\.?,?[\s-]+(\d{2,4})", t)
            if m:
                d, mon, y = int(m.group(1)), m.group(2).lower(), int(m.group(3))
                if y < 100:
                    y += 1900 if y > 30 else 2000
            else:
                m = re.fullmatch(r"(?i)([a-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})", t)
                if not m:
                    return None
                mon, d, y = m.group(1).lower(), int(m.group(2)), int(m.group(3))
            if mon not in _MONTHS:
                return None
            mo = _MONTHS[mon]
    if not (1900 <= y <= 2100 and 1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return y, mo, d


def us_state_zip(s: str) -> bool:
    """"ST 12345" with a real USPS state abbreviation."""
    parts = s.split()
    return len(parts) >= 2 and parts[0].upper().strip(",") in vocab.US_STATES


VALIDATORS: dict[str, Callable[[str], bool]] = {
    "ssn": ssn,
    "npi": npi,
    "dea": dea,
    "mbi": mbi,
    "loinc": loinc,
    "icd10cm": icd10cm,
    "ndc": ndc,
    "email": email,
    "phone_nanp": phone_nanp,
    "ipv4_public": ipv4_public,
    "vin": vin,
    "gtin": gtin,
    "date": date,
    "record_number": record_number,
    "us_state_zip": us_state_zip,
    "luhn": lambda s: luhn_ok(_digits(s)),
}
