"""The name triggers are matched backwards (names._ending): each must decide exactly as
the forward regex it replaced, ``(?:words)then$`` searched in the text before a name."""

from __future__ import annotations

import random
import re

from agent.classifier import names

# The forward regexes, as they were written before they were turned around.
FORWARD = {
    "_PATIENT_TRIGGER": re.compile(
        r"(?i)(?:patient|pt|name|client|caller|member|subscriber|insured|guarantor|beneficiary|resident|"
        r"re|dear|mr|mrs|ms|miss|mx|this is|my name is|transmission for|opened by|attendees?|"
        r"next of kin|nok|guardian|mother|father|spouse|wife|husband|son|daughter|emergency contact|"
        r"decedent|deceased|employee|from|to|cc|"
        r"paciente|nombre|apellidos?|sr|sra|srta|don|doña|nom|prénom|prenom|mme|mlle|"
        r"patientin|herr|frau|vorname|nachname|paziente|cognome|sig|utente|naam|dhr|mevr)"
        r"\s?[:.=,#\"'\-\s]{0,14}$"),
    "_PROVIDER_TRIGGER": re.compile(
        r"(?i)(?:dr|doctor|provider|physician|prescriber|attending|referring|rendering|surgeon|"
        r"signed by|electronically signed by|seen by|np|rn|pa|clinician)\s?[:.=,#-]{0,3}\s{0,3}$"),
    "_AUTHOR_TRIGGER": re.compile(
        r"(?i)(?:copyright|\(c\)|©|authors?|written by|contributed by|maintainers?|maintained by|"
        r"thanks to|created by|developed by|credits?|signed-off-by|co-authored-by|reviewed-by)"
        r"[^\n]{0,40}$"),
    "_LABELLED": re.compile(
        r"(?:[:=#]|\.{3,}|\b(?:is|for|by|dear|mr|mrs|ms|miss|mx|sr|sra|mme|herr|frau))"
        r"\s?[\"'.,\-\s]{0,14}$", re.IGNORECASE),
}

PIECES = ["Patient", "patient", "PT", "name", "Name", "inpatient", "this is", "my name is", "Dr", "dr.",
          "MD", "Provider", "signed by", "Electronically signed by", "Copyright (c) 2024", "©",
          "authors", "Maintainer", "co-authored-by", "is", "for", "by", "dear", "Mrs", "Sra", "doña",
          "Prénom", "to", "into", "cc", "x", "_", "1", "é", ":", "=", "#", ",", ".", "...", "....",
          "-", "'", '"', " ", "  ", "\t", "\n", "\u00a0", "\u2003"]


def _samples(n: int) -> list[str]:
    rng = random.Random(2026)
    out = ["", " ", "Patient: ", "name=\"", "Name ........ ", "Dear ", "Attending: Dr. ",
           "Seen by ", "Copyright 2020 ", "# Author: ", "this is ", "from: " + " " * 13,
           "patient" + " " * 15, "patient" + " " * 16, "Dr" + " " * 7, "Dr:: " + " " * 3]
    for _ in range(n):
        s = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 8)))
        out.append(s[-rng.choice((8, 32, 60, 200)):])
    return out


def test_backward_triggers_decide_as_the_forward_regexes():
    samples = _samples(40_000)
    for attr, forward in FORWARD.items():
        backward = getattr(names, attr)
        for s in samples:
            assert (forward.search(s) is not None) == names._ends(backward, s), (attr, s)


def test_triggers_still_read_names():
    hits = names.find_names(b"Patient: Dawn Bailey was seen by Dr. Kevin Wright, MD today")
    assert [(h.subject, h.score >= 0.5) for h in hits] == [("patient", True), ("provider", True)]


NAME_PIECES = ["Dawn", "Bailey", "DAWN", "BAILEY", "Garcia", "Wei", "Chen", "O'Brien", "Smith-Jones",
               "Will", "Hunt", "Hope", "Street", "John", "Doe", "Patient", "Name", "Mr.", "Mr", "Dr.",
               "Mrs", "Herr", "Frau", "Miss", "Copyright", "M.", "M", "J", "a", "Zz", "McDonald", "x-Ray",
               "Ab-Cd-Ef", "Q'", "re", "MD", "RN", ", MD", "is", "the", "Street", "Report",
               " ", "  ", "   ", "\t", "\n", "\r\n", ",", ", ", "^", ".", ". ", ":", "=", "'", "-", "1",
               "_", "(", "\x1c", "\x0b"]


def test_ascii_walk_finds_what_the_token_walk_finds():
    """ASCII windows are walked only from where a name can start (_walk_candidates); the
    names, offsets, scores and subjects must be those of walking every token."""
    rng = random.Random(11)
    vocabs = (names.vocab.first_names(), names.vocab.surnames(), names.vocab.name_words())
    found = 0
    for _ in range(30_000):
        text = "".join(rng.choice(NAME_PIECES) for _ in range(rng.randint(1, 14)))
        fast: list = []
        names._walk_candidates(text, 5, vocabs, fast)
        every: list = []
        names._walk_tokens(text, 5, names._ascii_offset, vocabs, every)
        assert fast == every, repr(text)
        found += bool(every)
    assert found > 500  # the pieces make names often enough to compare something
