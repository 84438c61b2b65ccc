"""Which encoding an export file is in: decided from the whole file, shown, and checked.

A byte-order mark settles it (UTF-8, or UTF-16 as Excel writes "Unicode text"); so does a
file that is valid UTF-8 throughout. Otherwise each candidate code page decodes the whole
file and is weighed by how its text reads: words that mix scripts ("Mьller"), Latin words
made of accented letters ("Íîâûé" for "Новый"), case that flips inside a word, box-drawing
and control characters count as mis-decoded. charset-normalizer's verdict on the same bytes
(its chaos and language coherence) and the locale the file's delimiter and dates imply break
near-ties. The decision carries a sample of decoded text and the share of words that still
read as mis-decoded, so a wrong decision (or a wrong override) is seen and can block the load.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Code pages the exports of Windows help desks are written in, besides UTF-8/UTF-16.
CANDIDATES = ("cp1252", "cp1251", "cp1250", "koi8-r", "cp866")
CYRILLIC_PAGES = {"cp1251", "koi8-r", "cp866", "iso8859-5", "mac-cyrillic"}
SUSPECT_SHARE = 0.05  # more mis-decoded words than this blocks the load
SUSPECT_MIN_WORDS = 3
CHUNK = 1 << 20
MEMO_WORDS = 200_000  # distinct words held before they are judged
PREFIX_BYTES = 2 << 20  # every candidate reads this much; only those close to the best read the rest
PRUNE_MARGIN = 0.2
MOSTLY_UTF8 = 2  # valid UTF-8 words with non-ASCII letters per invalid byte: a UTF-8 file with stray bytes
DETECTOR_BYTES = 1 << 20  # charset-normalizer weighs up to this much, spread over the file (it is slow)
_WORD = re.compile(r"[^\W\d_]*[^\x00-\x7f\W\d_][^\W\d_]*")
_ODD_SYMBOL = re.compile(r"[\u0080-\u009f\u2500-\u259f\ue000-\uf8ff\ufffd]")
_DOTTED_DATE = re.compile(rb"\b\d{1,2}\.\d{1,2}\.\d{4}\b")
_SLASHED_MDY = re.compile(rb"\b(0?[1-9]|1[0-2])/(1[3-9]|2\d|3[01])/\d{4}\b")


@dataclass(frozen=True)
class Reading:
    """How one encoding reads a file: words with non-ASCII letters, and how many look mis-decoded."""

    encoding: str
    words: int
    odd: int
    sample: str
    digest: str = ""  # of the decoded text: two code pages that read a file identically are one reading

    @property
    def odd_share(self) -> float:
        return self.odd / self.words if self.words else 0.0


@dataclass(frozen=True)
class EncodingDecision:
    encoding: str  # a Python codec name
    how: str  # why this encoding, in words
    reading: Reading
    language: str | None = None
    others: tuple[Reading, ...] = ()  # the candidates weighed and not chosen
    replaced: int = 0  # bytes that are not valid in the encoding, read as U+FFFD (0: the file is read strictly)

    @property
    def suspect(self) -> bool:
        """The decoded text still looks mis-decoded beyond the threshold."""
        return self.reading.odd >= SUSPECT_MIN_WORDS and self.reading.odd_share > SUSPECT_SHARE

    @property
    def errors(self) -> str:
        """How the file is decoded: strictly, or with its few invalid bytes replaced."""
        return "replace" if self.replaced else "strict"

    def describe(self) -> str:
        what = f"{self.encoding}" + (f" ({self.language})" if self.language else "")
        sample = f": «{self.reading.sample}»" if self.reading.sample else ""
        return f"{what}, {self.how}{sample}"

    def weighing(self) -> str:
        """The figures behind the decision, for the finding's detail."""
        rows = [self.reading, *self.others]
        return "; ".join(f"{r.encoding}: {r.odd} of {r.words} words with non-ASCII letters read as mis-decoded"
                         for r in rows)


@lru_cache(maxsize=4096)
def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else "?"


def odd_word(word: str) -> bool:
    """A word that is unlikely in any language: mixed scripts, a Latin word made only of accented
    letters, or case that flips from lower to upper inside it."""
    scripts = {_script(c) for c in word}
    if len(scripts) > 1:
        return True
    if scripts == {"LATIN"} and len(word) >= 3 and all(ord(c) > 0x7F for c in word):
        return True
    return any(a.islower() and b.isupper() for a, b in zip(word, word[1:], strict=False))


def _chunks(path: Path, encoding: str, limit: int | None = None, errors: str = "strict") -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(encoding)(errors=errors)
    read = 0
    with path.open("rb") as handle:
        while (limit is None or read < limit) and (block := handle.read(CHUNK)):
            read += len(block)
            yield decoder.decode(block)
    if limit is None or read < limit:
        yield decoder.decode(b"", final=True)


def _sample(text: str) -> str:
    """The first data line with non-ASCII letters (the header line when there is none)."""
    header_end = text.find("\n") if "\n" in text else len(text)
    first = _WORD.search(text, header_end) or _WORD.search(text)
    if first is None:
        return ""
    start = text.rfind("\n", 0, first.start()) + 1
    end = text.find("\n", first.end())
    return _clip(text[start: end if end >= 0 else len(text)])


def _lenient(path: Path, encoding: str) -> tuple[Reading, int]:
    """How `encoding` reads the whole file with the bytes it cannot decode replaced, and how
    many were (U+FFFD the file itself holds is not counted)."""
    replaced = 0
    kept = 0
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            kept += block.count("\ufffd".encode(encoding.removesuffix("-sig")))
    for text in _chunks(path, encoding, errors="replace"):
        replaced += text.count("\ufffd")
    replaced = max(0, replaced - kept)
    reading = read_with(path, encoding, errors="replace") or Reading(encoding, 0, 0, "")
    # each replacement was weighed as an odd symbol: it is counted apart, not as mis-decoding
    return Reading(encoding, reading.words - replaced, max(0, reading.odd - replaced), reading.sample,
                   reading.digest), replaced


def read_with(path: Path, encoding: str, limit: int | None = None, errors: str = "strict") -> Reading | None:
    """How `encoding` reads the file (its first `limit` bytes, else all of it); None when it cannot decode it."""
    words = odd = 0
    sample = ""
    counts: Counter[str] = Counter()  # exports repeat their words: each distinct word is judged once

    def judge() -> int:
        found = sum(n for word, n in counts.items() if odd_word(word))
        counts.clear()
        return found

    digest = hashlib.blake2b(digest_size=16)
    try:
        for text in _chunks(path, encoding, limit, errors):
            digest.update(text.encode("utf-8", "surrogatepass"))
            if not sample:
                sample = _sample(text)
            found = _WORD.findall(text)
            words += len(found)
            counts.update(found)
            if len(counts) > MEMO_WORDS:
                odd += judge()
            symbols = len(_ODD_SYMBOL.findall(text))
            words += symbols
            odd += symbols
    except (UnicodeDecodeError, UnicodeError):
        return None
    odd += judge()
    return Reading(encoding, words, odd, sample, digest.hexdigest())


def _clip(line: str, limit: int = 80) -> str:
    line = " ".join(line.replace("\ufeff", "").split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _bom(path: Path) -> str | None:
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    """Text in UTF-16 without a BOM: one byte of each pair is mostly NUL."""
    pairs = len(head) // 2
    if pairs < 8:
        return None
    even = sum(1 for i in range(0, pairs * 2, 2) if head[i] == 0)
    odd = sum(1 for i in range(1, pairs * 2, 2) if head[i] == 0)
    if odd > 0.6 * pairs and even < 0.1 * pairs:
        return "utf-16-le"
    if even > 0.6 * pairs and odd < 0.1 * pairs:
        return "utf-16-be"
    return None


def _detector(path: Path, candidates: tuple[str, ...]) -> dict[str, tuple[float, float, str | None]]:
    """charset-normalizer's view of the candidates: {codec: (chaos, coherence, language)}."""
    try:
        from charset_normalizer import from_bytes  # noqa: PLC0415 - only for files that are not UTF
    except ModuleNotFoundError:
        return {}
    size = path.stat().st_size
    steps = 8
    with path.open("rb") as handle:
        if size <= DETECTOR_BYTES:
            data = handle.read()
        else:  # slices from the whole file, each from a line start (single-byte code pages only reach here)
            slices = []
            for n in range(steps):
                handle.seek(n * size // steps)
                if n:
                    handle.readline()
                slices.append(handle.read(DETECTOR_BYTES // steps))
            data = b"\n".join(slices)
    found = from_bytes(data, steps=steps, chunk_size=max(512, len(data) // steps), cp_isolation=list(candidates))
    out = {}
    for match in found:
        name = codecs.lookup(match.encoding).name
        languages = [lang for lang in match.languages if lang != "Unknown"][:2]
        language = "/".join(languages) or None
        out[name] = (match.chaos, match.coherence, language)
    return out


def _locale_prior(path: Path, encoding: str) -> float:
    """A small preference from the export's locale: `;` and dd.mm.yyyy are written where
    Cyrillic and Central European code pages are used as well as Western ones; `,` with
    mm/dd/yyyy is the US locale, whose Windows code page is cp1252."""
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    first = head.split(b"\n", 1)[0]
    european = first.count(b";") > first.count(b",") or bool(_DOTTED_DATE.search(head))
    american = first.count(b",") > first.count(b";") and bool(_SLASHED_MDY.search(head))
    if american and not european:
        return -0.01 if encoding == "cp1252" else 0.01
    if european and encoding in CYRILLIC_PAGES | {"cp1250", "cp1252"}:
        return -0.005
    return 0.0


def _language(reading: Reading, detected: tuple[float, float, str | None] | None) -> str | None:
    if detected and detected[2]:
        return detected[2]
    scripts = {_script(c) for c in reading.sample if ord(c) > 0x7F and c.isalpha()}
    return f"{scripts.pop().title()} text" if len(scripts) == 1 else None


def _weigh(path: Path, candidates: tuple[str, ...]) -> list[Reading]:
    """Each candidate's reading of the whole file; a candidate that reads the first megabytes far
    worse than the best one keeps that partial reading and is not read further."""
    first = []
    for candidate in candidates:
        reading = read_with(path, candidate, PREFIX_BYTES)
        if reading is not None and all(reading.digest != r.digest for r in first):
            first.append(reading)
    if path.stat().st_size <= PREFIX_BYTES or not first:
        return first
    best = min(r.odd_share for r in first)
    out = []
    for reading in first:
        if reading.odd_share <= best + PRUNE_MARGIN:
            reading = read_with(path, reading.encoding)
        if reading is not None:
            out.append(reading)
    return out


def decide_encoding(path: Path, *, forced: str | None = None, candidates: tuple[str, ...] = CANDIDATES
                    ) -> EncodingDecision:
    """The encoding of a CSV export, with why, a sample and how well the text reads.

    `forced` is the operator's choice (checked the same way, never second-guessed);
    a UnicodeDecodeError from it is left to the reader, which says which file and row."""
    if forced:
        reading = read_with(path, forced) or Reading(forced, 0, 0, "")
        return EncodingDecision(codecs.lookup(forced).name if forced != "utf-8-sig" else forced,
                                "set for this job", reading, _language(reading, None))
    bom = _bom(path)
    if bom:
        reading = read_with(path, bom)
        if reading is None:  # a byte-order mark settles it: the bytes it cannot read are replaced
            reading, replaced = _lenient(path, bom)
            return EncodingDecision(bom, f"byte-order mark; {replaced} bytes that are not {bom} replaced", reading,
                                    _language(reading, None), replaced=replaced)
        return EncodingDecision(bom, "byte-order mark", reading, _language(reading, None))
    with path.open("rb") as handle:
        head = handle.read(4096)
    wide = _utf16_without_bom(head)
    if wide:
        reading = read_with(path, wide)
        if reading is not None:
            return EncodingDecision(wide, "UTF-16 without a byte-order mark", reading, _language(reading, None))
    utf8 = read_with(path, "utf-8")
    if utf8 is not None:
        how = "valid UTF-8 throughout" if utf8.words else "plain ASCII"
        return EncodingDecision("utf-8", how, utf8, _language(utf8, None))
    utf8, replaced = _lenient(path, "utf-8")
    if utf8.words >= MOSTLY_UTF8 * replaced:  # UTF-8 text with a few stray bytes, not another code page
        return EncodingDecision("utf-8", f"UTF-8 but for {replaced} bytes, replaced", utf8, _language(utf8, None),
                                replaced=replaced)
    readings = _weigh(path, candidates)
    if not readings:
        raise UnicodeError(f"no candidate encoding ({', '.join(candidates)}) decodes {path.name}")
    detected = _detector(path, tuple(r.encoding for r in readings))

    def weight(reading: Reading) -> float:
        chaos, coherence, _lang = detected.get(codecs.lookup(reading.encoding).name, (1.0, 0.0, None))
        return reading.odd_share + 0.1 * chaos - 0.05 * coherence + _locale_prior(path, reading.encoding)

    ranked = sorted(readings, key=weight)
    best = ranked[0]
    how = f"weighed against {', '.join(r.encoding for r in ranked[1:])}" if len(ranked) > 1 else "the only candidate"
    return EncodingDecision(best.encoding, how, best, _language(best, detected.get(codecs.lookup(best.encoding).name)),
                            tuple(ranked[1:]))
