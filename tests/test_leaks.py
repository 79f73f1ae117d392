"""The leak tests' search (tests/leaks.py) finds a planted value where a program wrote
it, and not where random digits happen to spell it."""

from tests.leaks import found


def test_a_value_written_as_itself_is_found():
    values = {"2204259", "Rosalind Quexley", "MR7776317"}
    text = '{"mrn": "2204259", "note": "seen Rosalind Quexley", "id": "MR7776317"}'
    assert sorted(found(values, text)) == ["2204259", "MR7776317", "Rosalind Quexley"]
    assert found({"2204259"}, "MRN2204259 on file") == ["2204259"]


def test_digits_inside_a_longer_number_or_a_hash_are_chance():
    values = {"2204259"}
    assert found(values, "mtime_ns=1764383982204259117") == []
    assert found(values, "sha256=9f2204259ab01c") == []
    assert found(values, "Carrie") == []
