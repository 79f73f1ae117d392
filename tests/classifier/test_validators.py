"""Validators on the worked examples of phi-detection.md section 2, true and look-alike."""

from __future__ import annotations

import pytest

from agent.classifier import validators as v

CASES = [
    ("ssn", "536-90-4399", True), ("ssn", "666-12-3456", False), ("ssn", "900-12-3456", False),
    ("ssn", "123-00-4567", False), ("ssn", "123-45-0000", False), ("ssn", "078-05-1120", False),
    ("ssn", "219-09-9999", False), ("ssn", "123-45 6789", False), ("ssn", "111-11-1111", False),
    ("npi", "1234567893", True), ("npi", "1558598797", True), ("npi", "1234567890", False),
    ("npi", "3234567893", False),
    ("dea", "AB1234563", True), ("dea", "AB1234560", False), ("dea", "F91234563", True),
    ("mbi", "1EG4TE5MK73", True), ("mbi", "1EG4-TE5-MK73", True), ("mbi", "1EG4TS5MK73", False),
    ("mbi", "0EG4TE5MK73", False), ("mbi", "1EG4TE5MK7", False),
    ("loinc", "2345-7", True), ("loinc", "4548-4", True), ("loinc", "718-7", True),
    ("loinc", "2345-8", False), ("loinc", "11491-6", True),
    ("icd10cm", "E11.9", True), ("icd10cm", "E119", True), ("icd10cm", "U07.1", True),
    ("icd10cm", "S72.001A", True), ("icd10cm", "C4A.0", True), ("icd10cm", "E11.0X", False),
    ("icd10cm", "K9S", False),
    ("ndc", "00093-1048-01", True), ("ndc", "1234-5678-90", True), ("ndc", "12345-678-90", True),
    ("ndc", "12345-6789-0", True), ("ndc", "123-45-6789", False), ("ndc", "00000-0000-00", False),
    ("vin", "1M8GDM9AXKP042788", True), ("vin", "1M8GDM9A1KP042788", False),
    ("gtin", "(01)00614141999996", True), ("gtin", "(01)00614141999997", False),
    ("phone_nanp", "(212) 483-0243", True), ("phone_nanp", "(123) 456-7890", False),
    ("phone_nanp", "(212) 555-0143", False), ("phone_nanp", "1-800-555-0199", False),
    ("phone_nanp", "212-911-1234", False), ("phone_nanp", "290-555-0143", False),
    ("ipv4_public", "73.21.4.9", True), ("ipv4_public", "10.1.2.3", False),
    ("ipv4_public", "127.0.0.1", False), ("ipv4_public", "192.0.2.7", False),
    ("ipv4_public", "8.8.8.8", False), ("ipv4_public", "300.1.1.1", False),
    ("email", "dawn.bailey12@gmail.com", True), ("email", "requests@2.31", False),
    ("date", "03/04/1970", True), ("date", "1970-03-04", True), ("date", "19700304", True),
    ("date", "Mar 03, 1970", True), ("date", "03 March 1970", True), ("date", "13/45/1970", False),
    ("date", "1970-13-01", False), ("us_state_zip", "IL 62704", True), ("us_state_zip", "ZZ 62704", False),
]


@pytest.mark.parametrize("name,value,ok", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_validator(name, value, ok):
    assert v.VALIDATORS[name](value) is ok


def test_luhn_equals_npi_prefix_constant():
    # CMS: Luhn over 80840 + 9 digits == Luhn over the 9 digits plus the constant 24.
    assert v.luhn_ok("80840" + "1234567893")
    assert not v.luhn_ok("80840" + "1234567894")
