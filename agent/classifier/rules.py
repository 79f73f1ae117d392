"""Loading and validation of detector rules (rules/phi/*.yaml, rules/health/*.yaml).

A rule that does not compile, names an unknown validator, repeats an id, has a score
outside 0..1 or no reference raises RuleError at load: a bad rule fails CI, never a scan.
Fixtures are checked by ``check_fixtures`` (run by the tests).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from agent.classifier import vocab
from agent.classifier.errors import RuleError
from agent.classifier.validators import VALIDATORS

THRESHOLD = 0.5  # a finding counts at or above this score
CATEGORIES = ("identifier", "health", "trigger")  # trigger: opens a names window, counts nothing
SUBJECTS = ("patient", "provider")

# libyaml's parser when PyYAML was built with it (the wheels are): the pure-Python one
# takes ~0.05 s for rules/ at every start. Same SafeConstructor, so the same data.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml(data: str | bytes):
    return yaml.load(data, Loader=_YAML_LOADER)


@dataclass
class Pattern:
    regex: re.Pattern[bytes]
    source: bytes  # the text handed to the prefilter engine
    score: float
    caseless: bool


@dataclass
class Context:
    words: tuple[str, ...] = ()
    before: int = 40
    after: int = 10
    boost: float = 0.0
    regex: re.Pattern[bytes] | None = None


@dataclass
class Detector:
    id: str
    kind: str
    category: str
    subject: str
    reference: str
    patterns: list[Pattern]
    validator: Callable[[str], bool] | None
    validator_name: str | None
    context: Context | None
    negative: Context | None
    window: tuple[int, int]
    terms: tuple[str, ...] = ()
    term_score: float = 0.0
    # A rare literal the prefilter looks for instead of the value pattern, for detectors
    # that only count with a label anyway (bare 9-digit SSNs, LOINC): the value regexes
    # then run only within ``window`` of the anchor (phi-detection.md 6.3, "anchor on rare
    # literals").
    anchor: bytes | None = None
    # What every match holds: groups of words (one of each, ASCII case ignored) or regexes.
    # A window (or block) without all of them cannot match: the patterns do not run there.
    requires: tuple[tuple[bytes, ...] | re.Pattern[bytes], ...] = ()
    # A health finding that is about a person only where free text names a patient (see
    # evidence.analyze_bytes): bare condition words are also the topic of papers, tickets
    # and models ("the sepsis model", "Pneumonia detection from chest x-rays").
    needs_cue: bool = False
    fixtures_match: list[str] = field(default_factory=list)
    fixtures_no_match: list[str] = field(default_factory=list)
    source_file: str = ""


@dataclass
class HeaderMap:
    """Column header dictionary from rules/phi/headers.yaml."""

    exact: dict[str, list[tuple[str, str, str]]]  # norm header -> [(category, subject, kind)]
    tokens: dict[str, list[tuple[str, str, str]]]
    negative_tokens: frozenset[str]
    # header -> header_kinds' answer: the same column names come back in file after file
    memo: dict[str, tuple[list[tuple[str, str, str]], bool]] = field(
        default_factory=dict, repr=False, compare=False)


@dataclass
class RuleSet:
    detectors: list[Detector]
    headers: HeaderMap
    digest: str  # hash of every rule file: keys the cache and the compiled engine

    def by_id(self, det_id: str) -> Detector:
        for d in self.detectors:
            if d.id == det_id:
                return d
        raise KeyError(det_id)


def _words_regex(words: tuple[str, ...]) -> re.Pattern[bytes] | None:
    if not words:
        return None
    alts = sorted({re.escape(w.lower()) for w in words}, key=len, reverse=True)
    # Whole-word matching: Presidio's substring mode matched "lic" in "public" (#989).
    return re.compile(rb"(?<![a-z0-9])(?:" + "|".join(alts).encode() + rb")(?![a-z0-9])")


def _context(spec: dict | None, where: str, key: str) -> Context | None:
    if not spec:
        return None
    words = tuple(str(w) for w in spec.get("words", ()))
    amount = float(spec.get("boost", spec.get("penalty", 0.0)))
    if not 0.0 <= amount <= 1.0:
        raise RuleError(f"{where}: {key} boost/penalty {amount} not in 0..1")
    return Context(words=words, before=int(spec.get("before", 40)), after=int(spec.get("after", 10)),
                   boost=amount, regex=_words_regex(words))


def _expand_lists(regex: str, lists: dict, base: Path, where: str) -> str:
    for placeholder, fname in (lists or {}).items():
        f = base / "data" / fname
        if not f.is_file():
            raise RuleError(f"{where}: list file {fname} missing")
        items = sorted(vocab.read_list(f), key=len, reverse=True)
        regex = regex.replace(placeholder, "|".join(re.escape(i) for i in items))
    return regex


# Anchor placeholders for one prefilter alternative per item: the anchor is repeated with
# each item in place (so it must have no other top-level "|"). Hyperscan looks for many
# alternatives that each hold a literal far faster than for one alternation of them, or
# for a bare shape of letters, digits and spaces (the whole corpus: ~2x).
_EACH = {"EACH_SUFFIX": "street_suffixes.txt", "EACH_STATE": None}  # None: vocab.US_STATES


def _expand_each(anchor: str, base: Path, where: str) -> str:
    for placeholder, fname in _EACH.items():
        if placeholder not in anchor:
            continue
        if fname is None:
            items = sorted(vocab.US_STATES)
        else:
            f = base / "data" / fname
            if not f.is_file():
                raise RuleError(f"{where}: list file {fname} missing")
            items = vocab.read_list(f)
        anchor = "|".join(anchor.replace(placeholder, re.escape(i)) for i in items)
    return anchor


def _detector(spec: dict, path: Path) -> Detector:
    where = f"{path.name}:{spec.get('id', '?')}"
    for key in ("id", "kind", "category", "reference"):
        if not spec.get(key):
            raise RuleError(f"{where}: missing {key}")
    if spec["category"] not in CATEGORIES:
        raise RuleError(f"{where}: category must be one of {CATEGORIES}")
    subject = spec.get("subject", "patient")
    if subject not in SUBJECTS:
        raise RuleError(f"{where}: subject must be one of {SUBJECTS}")
    vname = spec.get("validator")
    if vname is not None and vname not in VALIDATORS:
        raise RuleError(f"{where}: unknown validator {vname!r}")
    caseless = bool(spec.get("ignore_case", False))
    patterns = []
    for p in spec.get("patterns", ()):
        score = float(p.get("score", -1))
        if not 0.0 <= score <= 1.0:
            raise RuleError(f"{where}: score {score} not in 0..1")
        text = _expand_lists(str(p["regex"]), spec.get("lists", {}), path.parent, where)
        if "SUFFIXES" in text:
            text = _expand_lists(text, {"SUFFIXES": "street_suffixes.txt"}, path.parent, where)
        try:
            rx = re.compile(text.encode(), re.IGNORECASE if caseless else 0)
        except re.error as e:
            raise RuleError(f"{where}: regex does not compile: {e}") from e
        patterns.append(Pattern(rx, text.encode(), score, caseless))
    terms: tuple[str, ...] = ()
    term_score = 0.0
    if spec.get("terms") or spec.get("terms_file"):
        items = list(spec.get("terms", ()))
        if spec.get("terms_file"):
            f = path.parent / spec["terms_file"]
            if not f.is_file():
                raise RuleError(f"{where}: terms_file {spec['terms_file']} missing")
            items += vocab.read_list(f)
        terms = tuple(sorted({t.lower() for t in items}))
        term_score = float(spec.get("score", -1))
        if not 0.0 <= term_score <= 1.0:
            raise RuleError(f"{where}: score {term_score} not in 0..1")
    if not patterns and not terms:
        raise RuleError(f"{where}: needs patterns or terms")
    window = tuple(spec.get("window", (80, 8)))
    if len(window) != 2 or min(window) < 0:
        raise RuleError(f"{where}: window must be [back, forward]")
    anchor = None
    if spec.get("anchor"):
        text = _expand_lists(str(spec["anchor"]), spec.get("lists", {}), path.parent, where)
        text = _expand_each(text, path.parent, where)
        if "SUFFIXES" in text:
            text = _expand_lists(text, {"SUFFIXES": "street_suffixes.txt"}, path.parent, where)
        anchor = text.encode()
        try:
            re.compile(anchor)
        except re.error as e:
            raise RuleError(f"{where}: anchor does not compile: {e}") from e
    requires = _requires(spec.get("requires") or [], where)
    fx = spec.get("fixtures") or {}
    if not fx.get("match"):
        raise RuleError(f"{where}: fixtures.match needs at least one line")
    for line in fx["match"]:
        if not holds(requires, str(line).encode()):
            raise RuleError(f"{where}: fixture {line!r} does not hold what `requires` asks")
    return Detector(
        id=str(spec["id"]), kind=str(spec["kind"]), category=spec["category"], subject=subject,
        reference=str(spec["reference"]), patterns=patterns,
        validator=VALIDATORS[vname] if vname else None, validator_name=vname,
        context=_context(spec.get("context"), where, "context"),
        negative=_context(spec.get("negative"), where, "negative"),
        window=(int(window[0]), int(window[1])), terms=terms, term_score=term_score, anchor=anchor,
        requires=requires, needs_cue=bool(spec.get("needs_patient_cue", False)),
        fixtures_match=[str(s) for s in fx.get("match", ())],
        fixtures_no_match=[str(s) for s in fx.get("no_match", ())],
        source_file=f"{path.parent.name}/{path.name}",
    )


def _requires(spec: object, where: str) -> tuple[tuple[bytes, ...] | re.Pattern[bytes], ...]:
    """``requires:`` items: a list of words (one must be there, any case) or a regex."""
    if not isinstance(spec, list):
        raise RuleError(f"{where}: requires must be a list of word lists and regexes")
    out: list[tuple[bytes, ...] | re.Pattern[bytes]] = []
    for item in spec:
        if isinstance(item, list) and item and all(isinstance(w, str) and w for w in item):
            out.append(tuple(w.lower().encode() for w in item))
        elif isinstance(item, str) and item:
            try:
                out.append(re.compile(item.encode()))
            except re.error as e:
                raise RuleError(f"{where}: requires regex does not compile: {e}") from e
        else:
            raise RuleError(f"{where}: requires must be a list of word lists and regexes")
    return tuple(out)


def holds(requires: tuple[tuple[bytes, ...] | re.Pattern[bytes], ...], data: bytes, start: int = 0,
          end: int | None = None) -> bool:
    """Does ``data[start:end]`` (a window of a block) hold everything a detector's
    ``requires`` asks for? Regexes search the window in place: no copy of it."""
    low = None
    if end is None:
        end = len(data)
    for item in requires:
        if isinstance(item, tuple):
            if low is None:
                low = data[start:end].lower()
            if not any(map(low.__contains__, item)):
                return False
        elif item.search(data, start, end) is None:
            return False
    return True


# Between the words of a column name: punctuation and underscores, or a camelCase step
_HEADER_WORD_BREAK = re.compile(r"[_\W]+|(?<=[a-z])(?=[A-Z])")


def header_words(header: str) -> list[str]:
    """The words of a column name as written: "PatientFirstName" -> Patient, First, Name;
    "dx_code" -> dx, code."""
    return [w for w in _HEADER_WORD_BREAK.split(header) if w]


def _norm_header(h: str) -> str:
    # "Prénom" -> "prenom", "D.O.B." -> "dob", "MRN#" -> "mrn"
    plain = unicodedata.normalize("NFKD", h.lower())
    return re.sub(r"[^a-z0-9]", "", "".join(c for c in plain if not unicodedata.combining(c)))


def _headers(path: Path) -> HeaderMap:
    data = _yaml(path.read_text(encoding="utf-8")) or {}
    if not data.get("reference"):
        raise RuleError(f"{path.name}: missing reference")
    exact: dict[str, list[tuple[str, str, str]]] = {}
    tokens: dict[str, list[tuple[str, str, str]]] = {}
    for section, category, subject in (("identifier", "identifier", "patient"),
                                       ("provider", "identifier", "provider"),
                                       ("health", "health", "patient")):
        for kind, spec in (data.get(section) or {}).items():
            for h in spec.get("exact", ()) or ():
                exact.setdefault(_norm_header(str(h)), []).append((category, subject, kind))
            for t in spec.get("tokens", ()) or ():
                tokens.setdefault(_norm_header(str(t)), []).append((category, subject, kind))
    neg = frozenset(_norm_header(str(t)) for t in (data.get("negative") or {}).get("tokens", ()))
    return HeaderMap(exact, tokens, neg)


def load(root: Path | None = None) -> RuleSet:
    """Load and validate every detector under ``root`` (default: the shipped rules/)."""
    root = Path(root) if root else vocab.rules_root()
    files = sorted((root / "phi").glob("*.yaml")) + sorted((root / "health").glob("*.yaml"))
    h = hashlib.sha256()
    detectors: list[Detector] = []
    seen: set[str] = set()
    headers: HeaderMap | None = None
    for f in files:
        raw = f.read_bytes()
        h.update(f.name.encode() + b"\0" + raw)
        if f.name == "headers.yaml":
            headers = _headers(f)
            continue
        try:
            data = _yaml(raw) or {}
        except yaml.YAMLError as e:
            raise RuleError(f"{f.name}: not valid YAML: {e}") from e
        for spec in data.get("detectors", ()):
            d = _detector(spec, f)
            if d.id in seen:
                raise RuleError(f"{f.name}: duplicate detector id {d.id!r}")
            seen.add(d.id)
            detectors.append(d)
    if headers is None:
        raise RuleError("rules/phi/headers.yaml is missing")
    if not detectors:
        raise RuleError(f"no detectors under {root}")
    return RuleSet(detectors, headers, h.hexdigest()[:16])


@cache
def default_rules() -> RuleSet:
    return load()


def header_kinds(headers: HeaderMap, header: str) -> tuple[list[tuple[str, str, str]], bool]:
    """(category, subject, kind) entries a column header names, and whether the header
    says the column is not about a person (part numbers, counters, hashes)."""
    if len(header) > 128:  # not a column name anyone repeats: not kept
        return _header_kinds(headers, header)
    known = headers.memo.get(header)
    if known is None:
        if len(headers.memo) >= 4096:  # bounds memory on a scan of many odd tables
            headers.memo.clear()
        known = headers.memo[header] = _header_kinds(headers, header)
    return list(known[0]), known[1]


def _header_kinds(headers: HeaderMap, header: str) -> tuple[list[tuple[str, str, str]], bool]:
    norm = _norm_header(header)
    if not norm:
        return [], False
    toks = [_norm_header(t) for t in header_words(header)]
    negative = any(t in headers.negative_tokens for t in toks) or norm in headers.negative_tokens
    if norm in headers.exact:
        return list(headers.exact[norm]), negative
    out: list[tuple[str, str, str]] = []
    for t in toks:
        for entry in headers.tokens.get(t, ()):
            if entry not in out:
                out.append(entry)
    return out, negative
