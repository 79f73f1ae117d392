"""Person names without NLP: dictionaries, name shapes, and triggers (phi-detection.md 3).

A name is a pair of capitalised tokens in one of the usual forms (``Given [M.] Family``,
``Family, Given``, ``FAMILY^GIVEN`` as in HL7 XPN and DICOM PN) scored by:

- the shipped dictionaries (US Census 1990 surnames and first names, plus Faker's locale
  lists; rules/phi/data/build_names.py records the provenance);
- a trigger just before it ("Patient:", "Name:", "Dear", "Mr.", "this is") or a provider
  trigger ("Dr.", "Provider:", ", MD" after) that marks whose name it is;
- the trap list: pairs made only of names that are also English words ("Will Hunt",
  "Hope Street") need a trigger.

Names are only looked for near other evidence (the caller passes windows), because a
free-floating capitalised pair on its own says little and costs time on every line of code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import compress
from operator import itemgetter, not_

from agent.classifier import vocab

# A word: letters, inner apostrophes ("O'Brien"), one hyphenated part ("Smith-Jones").
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*(?:-[^\W\d_]+)?")
_TOKEN_ASCII = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*(?:-[A-Za-z]+)?")  # the same on ASCII, 2x faster
_HAS_UPPER = re.compile(r"[A-Z]")


def _reversed(words: str) -> str:
    """An alternation of '|'-separated literal words, each spelled backwards."""
    return "|".join(re.escape(w[::-1]) for w in words.split("|"))


def _ending(words: str, then: str) -> re.Pattern[str]:
    """``(?i)(?:words)then$`` for ``.search(text)``, built to be matched at the start of
    the reversed text instead (``_ends``): a search tries the alternation at every
    position of the text before a name, and the trigger tests were a fifth of the names
    pass. ``then`` is the regex of what may follow the words, written reversed (the
    order of its parts flipped). The leading ``\n?`` is ``$``'s: it also matches before
    a final line break."""
    return re.compile(f"\\n?{then}(?:{_reversed(words)})", re.IGNORECASE)


def _ends(pattern: re.Pattern[str], text: str) -> bool:
    return pattern.match(text[::-1]) is not None


# "Patient: ", "name=\"", "Name ........ " (dotted leaders of printed forms) before a name;
# the words carry no leading \b ("inpatient:" counts), as the forward regex had none.
# Words that name a patient, or a patient's relative, before a name...
_PATIENT_WORDS = (
    "patient|pt|client|caller|member|subscriber|insured|guarantor|beneficiary|resident|"
    "re|dear|mr|mrs|ms|miss|mx|this is|my name is|"
    "next of kin|nok|guardian|mother|father|spouse|wife|husband|son|daughter|emergency contact|"
    "decedent|deceased|"
    # other languages seen in exports and notes: es, fr, de, it, pt, nl
    "paciente|sr|sra|srta|don|doña|mme|mlle|patientin|herr|frau|paziente|sig|utente|dhr|mevr"
)
# ...and words that announce anyone's name (form fields, mail headers, attendee lists).
_ANY_PERSON_WORDS = (
    "name|transmission for|opened by|attendee|attendees|employee|from|to|cc|"
    "nombre|apellido|apellidos|nom|prénom|prenom|vorname|nachname|cognome|naam"
)
_LABEL_GAP = r"[:.=,#\"'\-\s]{0,14}\s?"  # forward: \s?[:.=,#"'\-\s]{0,14}$
_PATIENT_TRIGGER = _ending(f"{_PATIENT_WORDS}|{_ANY_PERSON_WORDS}", _LABEL_GAP)
_PATIENT_CUE = _ending(_PATIENT_WORDS, _LABEL_GAP)
_PROVIDER_TRIGGER = _ending(
    "dr|doctor|provider|physician|prescriber|attending|referring|rendering|surgeon|"
    "signed by|electronically signed by|seen by|np|rn|pa|clinician",
    r"\s{0,3}[:.=,#-]{0,3}\s?",  # forward: \s?[:.=,#-]{0,3}\s{0,3}$
)
# Credits in code and documents, and the people a ticket is assigned to: names there are
# authors and staff, not patients.
_AUTHOR_TRIGGER = _ending(
    "copyright|(c)|©|author|authors|written by|contributed by|maintainer|maintainers|maintained by|"
    "thanks to|created by|developed by|credit|credits|signed-off-by|co-authored-by|reviewed-by|"
    "assignee|assigned to|reporter|owner|approved by",
    r"[^\n]{0,40}",  # forward: [^\n]{0,40}$
)
# Bare nouns ("Patient", "Client") name whose name follows only as a label ("Patient:",
# "client="); a following capitalised word is usually a term ("Patient Position").
# Forward: (?:[:=#]|\.{3,}|\b(?:is|for|...))\s?["'.,\-\s]{0,14}$
_LABELLED = re.compile(
    r"\n?[\"'.,\-\s]{0,14}\s?(?:[:=#]|\.{3,}|(?:"
    + _reversed("is|for|by|dear|mr|mrs|ms|miss|mx|sr|sra|mme|herr|frau") + r")\b)",
    re.IGNORECASE,
)
_PROVIDER_SUFFIX = re.compile(r"^,?\s?(?:MD|M\.D\.|DO|D\.O\.|RN|NP|PA-C|PA|DNP|PhD|DDS|FNP)\b")
# Honorifics before a single known surname ("Mr. Garcia"); _AFTER_HONORIFIC (the ASCII
# walk's starts) is built from the same list, so the two cannot drift apart.
_HONORIFICS = "Mr|Mrs|Ms|Miss|Mx|Dr|Sr|Sra|Mme|Herr|Frau"
_HONORIFIC = re.compile(rf"(?:\b(?:{_HONORIFICS})\.?\s{{1,2}})$")
_DOCTOR = re.compile(r"\bDr\.?\s{1,2}$")
# Names used as examples in docs, forms and code, not people.
_PLACEHOLDER_NAMES = frozenset({("john", "doe"), ("jane", "doe"), ("richard", "roe"), ("joe", "bloggs"),
                                ("max", "mustermann"), ("erika", "mustermann"), ("john", "public"),
                                ("jan", "jansen"), ("mario", "rossi"), ("juan", "perez")})
_STOP = frozenset(
    "unknown none not yes no male female test sample patient name first last full given family "
    "the and or of for to in on at by with from date dob mrn ssn id number phone address type "
    "street city state zip total new old january february march april may june july august "
    "september october november december monday tuesday wednesday thursday friday saturday sunday "
    "north south east west clinic hospital center medical health care department street avenue "
    "road drive lane suite apt unit room floor building form intake blank summary report note "
    "notes letter record records history visit encounter portal message discharge progress "
    "admission consent release privacy policy training guide notice".split()
)


_GROUP = re.Match.group


@dataclass(slots=True)
class NameHit:
    start: int  # byte offsets in the buffer given to find_names (window-relative + base)
    end: int
    score: float
    subject: str  # "patient", "provider" or "author" (credits in code and documents)
    # a patient label before it ("Patient:", "Mr.", "Dear"): the text is about a patient
    # (evidence.analyze_bytes). Not a FAMILY^GIVEN field alone: docs quote them as examples.
    cue: bool = False


def _shape(w: str) -> str:
    if len(w) < 2:
        return ""
    if w.isupper():
        return "upper"
    if w[0].isupper() and not w[1:].isupper():
        return "title"
    return ""


def find_names(data: bytes, base: int = 0) -> list[NameHit]:
    """Names in ``data`` (a window of a block); offsets are bytes relative to the block
    (``base`` is the window's start). No text is kept."""
    text = data.decode("utf-8", "replace")
    ascii_text = text.isascii()
    if ascii_text and not _HAS_UPPER.search(text):
        return []  # every name starts with a capital (see _shape): a column of values, code
    vocabs = (vocab.first_names(), vocab.surnames(), vocab.name_words())
    out: list[NameHit] = []
    if ascii_text:
        _walk_candidates(text, base, vocabs, out)
        return out
    _walk_tokens(text, base, _Utf8Offsets(text), vocabs, out)
    return out


def _walk_tokens(text: str, base: int, to_bytes, vocabs: tuple, out: list[NameHit]) -> None:
    """Every token of ``text`` that may start a name, in order (any script)."""
    toks = list(_TOKEN.finditer(text))
    n = len(toks)
    # A name starts with a token whose first letter is not lower case (a lower-case first
    # letter has no _shape): pick those out in C, and walk only them.
    starts = compress(range(n - 1), map(not_, map(str.islower, map(itemgetter(0), map(_GROUP, toks)))))
    used_until = -1  # after a name, the walk resumes past its last token
    for i in starts:
        if toks[i].start() >= used_until:
            used_until = _name_at(text, toks[i], toks[i + 1], toks[i + 2] if i + 2 < n else None,
                                  base, to_bytes, vocabs, out, used_until)


# ASCII text: where a name can start (a superset): a capitalised token, then a pair's gap
# (up to 3 spaces, a comma or a caret; or spaces, a middle initial and a dot) and another
# capitalised token; or a token after an honorific ("Mr. Garcia"). A token never starts
# after a letter. Only these places are tokenized, not the whole window (tokenizing was
# three fifths of this pass on source code).
_PAIR_START = re.compile(r"[A-Z](?<![A-Za-z][A-Z])[A-Za-z'\-]+(?:[\s,^]{1,3}|\s+[A-Za-z]\s*\.?\s*)[A-Z][A-Za-z'\-]")
_AFTER_HONORIFIC = re.compile(rf"(?:{_HONORIFICS})\.?\s{{1,3}}(?=[A-Z][A-Za-z'\-])")


def _walk_candidates(text: str, base: int, vocabs: tuple, out: list[NameHit]) -> None:
    """What ``_walk_tokens`` finds in ASCII ``text``, walking only from where a name can
    start (tests/classifier/test_name_triggers.py compares the two)."""
    starts = set(m.end() for m in _AFTER_HONORIFIC.finditer(text))
    search = _PAIR_START.search
    m = search(text)
    while m is not None:  # overlapping: a pair may start inside the last one
        starts.add(m.start())
        m = search(text, m.start() + 1)
    if not starts:
        return
    # Tokens are read from a line start (no token spans a line break, so tokenizing from
    # there gives the window's own tokens) up to each start and two tokens past it.
    toks: list[re.Match[str]] = []  # read and not yet passed, in order
    it: Iterator[re.Match[str]] | None = None
    reached = -1  # where the iterator's last token ended
    used_until = -1
    for c in sorted(starts):
        if c < used_until:
            continue
        line = text.rfind("\n", 0, c) + 1
        if it is None or reached < line:
            it, toks, reached = _TOKEN_ASCII.finditer(text, line), [], line
        while toks and toks[0].start() < c:
            del toks[0]
        while len(toks) < 3:
            t = next(it, None)
            if t is None:
                break
            reached = t.end()
            if t.start() >= c:
                toks.append(t)
        if len(toks) < 2 or toks[0].start() != c:
            continue  # not a token's start ("O'Brien"), or the window's last token
        used_until = _name_at(text, toks[0], toks[1], toks[2] if len(toks) > 2 else None,
                              base, _ascii_offset, vocabs, out, used_until)


def _name_at(text: str, m1: re.Match[str], m2: re.Match[str], m3: re.Match[str] | None,
             base: int, to_bytes, vocabs: tuple, out: list[NameHit], used_until: int) -> int:
    """Score the name that may start at token ``m1`` (``m2``, ``m3``: the tokens after it)
    into ``out``; returns where the walk may look for the next name."""
    first, last, words = vocabs
    s1, e1, w1 = m1.start(), m1.end(), m1.group()
    sh1 = _shape(w1)
    if not sh1 or w1.lower() in _STOP:
        return used_until
    gap = text[e1:m2.start()]
    # skip a middle initial: "Dawn M. Bailey"
    if gap.strip() == "" and len(m2.group()) == 1 and m3 is not None:
        gap2 = text[m2.end():m3.start()]
        if gap2.strip() in (".", ""):
            m2 = m3
            gap = " "
    e2, w2 = m2.end(), m2.group()
    sh2 = _shape(w2)
    g = gap.strip()
    if not sh2 or w2.lower() in _STOP or len(gap) > 3 or g not in ("", ",", "^") or "\n" in gap:
        # "Mr. Garcia is a 67-year-old...": an honorific and one known surname
        if sh1 == "title" and w1.lower() in last and _HONORIFIC.search(text[max(0, s1 - 8):s1]):
            bs = base + to_bytes(s1)
            doctor = _DOCTOR.search(text[max(0, s1 - 8):s1]) is not None
            out.append(NameHit(bs, base + to_bytes(e1), 0.7, "provider" if doctor else "patient",
                               cue=not doctor))
            return e1
        return used_until
    a, b = w1.lower(), w2.lower()
    if g in (",", "^"):
        given, family = b, a  # "Family, Given" / FAMILY^GIVEN
    else:
        given, family = a, b
    fn, ln = _known(given, first), _known(family, last)
    if (given, family) in _PLACEHOLDER_NAMES:
        return used_until
    # The trigger regexes are the dearest step: look them up only where the score
    # depends on them, and whose name it is only for a name.
    before = text[max(0, s1 - 32):s1]
    score = 0.0
    if g == "^":
        score = 0.85 if (fn or ln) else 0.0
    elif fn and ln:
        if _triggered(before, text[e2:e2 + 8]):
            score = 0.9
        elif not (a in words and b in words) and (sh1 == sh2):
            score = 0.6 if g == "" else 0.55
    elif sh1 == sh2 == "title" and (fn or ln or not (a in words or b in words)) and \
            _triggered(before, text[e2:e2 + 8]):
        score = 0.75 if (fn or ln) else 0.5
    if score < 0.5:
        return used_until
    if _provider(before, text[e2:e2 + 8]):
        subject = "provider"
    elif credited(text[max(0, s1 - CREDIT_REACH):s1]):
        subject = "author"
    else:
        subject = "patient"
    cue = subject == "patient" and _labelled_by(_PATIENT_CUE, before)
    out.append(NameHit(base + to_bytes(s1), base + to_bytes(e2), score, subject, cue))
    return e2


def _ascii_offset(i: int) -> int:
    return i  # one byte a character


class _Utf8Offsets:
    """Character offset -> UTF-8 byte offset in ``text``, for increasing offsets: each
    step encodes only the text since the last one (encoding the whole prefix for every
    name made a long text dense with names quadratic)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.chars = 0
        self.bytes = 0

    def __call__(self, i: int) -> int:
        if i < self.chars:  # not expected: start again from the beginning
            self.chars = self.bytes = 0
        self.bytes += len(self.text[self.chars:i].encode("utf-8"))
        self.chars = i
        return self.bytes


def _known(word: str, names: frozenset[str]) -> bool:
    """In a name list as written, or as the lists spell it: one part of a hyphenated name
    ("García-López", "Jean-Luc"), without the apostrophe ("O'Brien": obrien) or without
    accents ("Seán": sean). Only looked up when the word itself is not listed."""
    if word in names:
        return True
    if "-" in word:
        return any(_known(part, names) for part in word.split("-") if len(part) > 1)
    if "'" in word or "’" in word:
        return word.replace("'", "").replace("’", "") in names
    if not word.isascii():
        plain = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
        return plain != word and plain in names
    return False


CREDIT_REACH = 60  # characters before a finding that a credit may take up


def credited(before: str) -> bool:
    """Text before a finding (its last CREDIT_REACH characters) that credits someone
    ("Author: Jane Roe <", "Copyright 2024 ", "Maintainer: "): a name or contact there
    belongs to an author, not a patient."""
    return _ends(_AUTHOR_TRIGGER, before)


def _provider(before: str, after: str) -> bool:
    """A provider's name: "Dr." / "Attending:" before it, ", MD" after it."""
    return _ends(_PROVIDER_TRIGGER, before) or bool(_PROVIDER_SUFFIX.match(after))


def _triggered(before: str, after: str) -> bool:
    """A name announced by a patient label ("Patient:", "Dear") or a provider trigger."""
    return _labelled_by(_PATIENT_TRIGGER, before) or _provider(before, after)


def _labelled_by(words: re.Pattern[str], before: str) -> bool:
    """``before`` ends with one of ``words`` used as a label ("Patient: ", "Mr. ")."""
    return _ends(words, before) and _ends(_LABELLED, before)


def looks_like_name(cell: str) -> bool:
    """A table cell that holds a person's name ("Dawn Bailey", "BAILEY, DAWN", "Bailey")."""
    toks = _TOKEN.findall(cell)
    if not toks or len(toks) > 5 or any(ch.isdigit() for ch in cell):
        return False
    low = [t.lower() for t in toks if len(t) > 1]
    if not low:
        return False
    first, last = vocab.first_names(), vocab.surnames()
    return any(t in first or t in last for t in low)
