"""The audit: what the source holds and what in it will cause trouble in Intercom.

It works on any `Source`: counts and field statistics come from `profile()` and the
relational checks (duplicates, orphans, empty threads, part counts) from the audit
primitives, which SQL connectors push down to the database. Value checks (NULs,
mojibake, sizes, dates) stream each object once, keeping only counts and a few sample
keys, so memory stays flat however big the source is.

Every finding has a stable code, a severity, a one-line explanation, what to do, and the
affected keys (a sample, with the numbers people know them by) with their exact count;
every affected record the audit meets one by one is also listed in full
(`AuditResult.affected`, written to reports/affected-records.csv). Besides the checks on
values, it names what the default read leaves out (deleted, spam, drafts: every record),
the classes the operator reviews before the load (audit_review.py) and, as a blocker,
times it would read in a zone nobody set.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import PurePath

from connectors.attachment_files import ACCESS_DENIED, PATH_TOO_LONG, problem_hint
from connectors.base import (
    KEY_MISSING,
    REPLACEMENT,
    Capability,
    FieldSpec,
    FieldType,
    Finding,
    ObjectProfile,
    ObjectRole,
    ObjectSpec,
    Record,
    Severity,
    Source,
    SourceError,
    SourceSchema,
)
from connectors.local_time import DST_GAP, DST_OVERLAP, GAP_RULE, OVERLAP_RULE
from helpmig_tui import audit_review as review
from helpmig_tui.audit_records import AffectedRecords
from helpmig_tui.checklists import checklist_findings
from helpmig_tui.mapping.standard import TargetKind
from helpmig_tui.mapping.value_maps import visibility_readable
from helpmig_tui.mapping.vocabulary import name_matches

# Intercom's limits and our thresholds (reference/intercom-api.md; seeds)
MAX_PARTS = 500  # parts per conversation
MAX_ATTACHMENTS = 10  # files per message
ATTRIBUTE_TEXT_LIMIT = 255  # string custom attribute values
BODY_LIMIT = 65_536  # characters; larger bodies are split or truncated with a flag
SAMPLE_KEYS = 50  # affected keys kept per finding (the count is always exact)
TIME_ZONE_ASSUMED = "source.timezone_assumed"  # its keys are the columns, not records
NUMBER_CHUNK = 2_000  # records read back at a time for their numbers
LISTED_KEYS = 100_000  # keys asked of the relational primitives, for the full list (affected-records.csv)
RESTRICTED_EXTENSIONS = frozenset(
    ".exe .scr .wsf .shb .sys .bat .cmd .com .msi .vbs .vbe .jse .ps1 .pif .cpl .hta .jar .lnk .reg .scf".split()
)
# what Windows, macOS and Office leave beside real files: never attachments anyone sent
JUNK_FILE_NAMES = frozenset("thumbs.db ehthumbs.db ehthumbs_vista.db desktop.ini .ds_store .localized".split())
JUNK_FILE_PREFIXES = ("._", "~$", ".~lock.")


def is_junk_file(name: str) -> bool:
    """A system file by its name (Thumbs.db, desktop.ini, .DS_Store, an Office lock file)."""
    base = PurePath(name.replace("\\", "/")).name.strip().casefold()
    return base in JUNK_FILE_NAMES or base.startswith(JUNK_FILE_PREFIXES)


FREE_MAIL_DOMAINS = frozenset(
    "gmail.com googlemail.com outlook.com hotmail.com live.com msn.com yahoo.com ymail.com aol.com "
    "icloud.com me.com mail.ru yandex.ru gmx.de gmx.net web.de proton.me protonmail.com".split()
)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def _cp1252(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D pass through unchanged
        return chr(byte)


_CONTINUATION = "".join(_cp1252(b) for b in range(0x80, 0xC0))
CP1252_BYTE = {_cp1252(b): b for b in range(0x80, 0x100)}
# a UTF-8 lead byte and its continuation bytes, as they look after a cp1252 decode
MOJIBAKE = re.compile(
    "[" + re.escape("".join(_cp1252(b) for b in range(0xC2, 0xE0))) + "][" + re.escape(_CONTINUATION) + "]"
    "|[" + re.escape("".join(_cp1252(b) for b in range(0xE0, 0xF0))) + "][" + re.escape(_CONTINUATION) + "]{2}"
)
SENTINEL_YEAR = 1901  # 1900-01-01 and 0001-01-01 are "no date" written as a date
FUTURE_SLACK = timedelta(days=1)


class AuditCancelled(Exception):
    pass


@dataclass
class AuditProgress:
    step: str  # what is being checked, for the screen
    done: int  # steps finished
    total: int


@dataclass
class ObjectAudit:
    spec: ObjectSpec
    profile: ObjectProfile


@dataclass
class AuditResult:
    platform: str
    objects: list[ObjectAudit]
    findings: list[Finding]
    started_at: datetime
    finished_at: datetime
    affected: AffectedRecords | None = None  # every record the findings name, not only their samples

    def object(self, name: str) -> ObjectAudit:
        return next(item for item in self.objects if item.spec.name == name)

    def severity_counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Severity}
        for finding in self.findings:
            counts[finding.severity.value] += 1
        return counts


# attachment files that cannot be read, by reason (the rest: attachment.unreadable)
UNREADABLE_CODES = {ACCESS_DENIED: "attachment.access_denied", PATH_TOO_LONG: "attachment.path_too_long"}


class _Tally:
    """An exact count and a bounded sample of keys (with their numbers) for one finding;
    every key also goes to `sink`, when there is one."""

    def __init__(self, sink: Callable[[str, str | None], None] | None = None) -> None:
        self.count = 0
        self.keys: list[str] = []
        self.numbers: list[str | None] = []
        self.sink = sink

    def add(self, key: str, number: str | None = None) -> None:
        self.count += 1
        if len(self.keys) < SAMPLE_KEYS:
            self.keys.append(key)
            self.numbers.append(number)
        if self.sink is not None:
            self.sink(key, number)


@dataclass
class _ValueCheck:
    code: str
    severity: Severity
    message: str  # "{n} tickets ..." with {n} and {object}
    detail: str
    tally: _Tally = field(default_factory=_Tally)


def _number(spec: ObjectSpec, record: Record) -> str | None:
    """The number people know a record by (a ticket number), when the object has one."""
    name = spec.number_field
    value = record.data.get(name) if name else None
    text = str(value).strip()[:128] if value is not None else ""
    return text or None


def is_mojibake(text: str) -> bool:
    """UTF-8 text that was decoded as cp1252 somewhere ("Ã©" for "é"): some run of
    characters reads back as valid UTF-8 once turned into its cp1252 bytes."""
    for match in MOJIBAKE.finditer(text):
        try:
            bytes(CP1252_BYTE[ch] for ch in match.group()).decode("utf-8")
        except UnicodeDecodeError:
            continue
        return True
    return False


def _as_datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def _noun(spec: ObjectSpec) -> str:
    return spec.label or spec.name


class Auditor:
    """Runs every check on one source; `run()` returns the AuditResult."""

    def __init__(
        self,
        source: Source,
        *,
        progress: Callable[[AuditProgress], None] | None = None,
        cancel: threading.Event | None = None,
        now: datetime | None = None,
    ) -> None:
        self.source = source
        self.progress = progress or (lambda _p: None)
        self.cancel = cancel or threading.Event()
        self.now = now or datetime.now(UTC)
        self.findings: list[Finding] = []
        self.affected = AffectedRecords()
        self.people = review.People()
        self._company_keys: dict[str, dict[str, str | None]] = {}  # company object -> key -> number
        self._company_refs: dict[str, set[str]] = {}  # company object -> keys its contacts name
        self._bodiless: dict[str, dict[str, str | None]] = {}  # conversation -> keys with no text
        self._done = 0
        self._total = 1

    # -- plumbing -------------------------------------------------------------------

    def _step(self, label: str) -> None:
        if self.cancel.is_set():
            raise AuditCancelled("audit cancelled")
        self.progress(AuditProgress(self._with_requests(label), self._done, self._total))
        self._done += 1

    def _with_requests(self, label: str) -> str:
        """A step's label, with the requests a remote source has cost so far (and its plan)."""
        usage = self.source.request_usage()
        if usage is None:
            return label
        plan = f" of about {max(usage.planned, usage.requests)}" if usage.planned else ""
        return f"{label} ({usage.requests}{plan} requests to {usage.service})"

    def _tell(self, text: str) -> None:
        """A source's own news (a wait for its rate limit): shown as the current step."""
        self.progress(AuditProgress(self._with_requests(text), self._done, self._total))

    def _add(self, code: str, severity: Severity, spec: ObjectSpec | None, message: str, count: int,
             keys: Iterable[str] = (), detail: str = "", numbers: Iterable[str | None] = (),
             listed: bool = False) -> None:
        """One finding; its keys go to the full list too unless `listed` (a tally sent them)."""
        if count <= 0:
            return
        keys, numbers = tuple(keys), tuple(numbers)
        if not listed:
            padded = numbers + (None,) * (len(keys) - len(numbers))
            for key, number in zip(keys, padded, strict=True):
                self.affected.add(severity.value, code, spec.name if spec else None, key, number)
        self.findings.append(
            Finding(code=code, severity=severity, message=message, object=spec.name if spec else None,
                    keys=keys[:SAMPLE_KEYS], count=count, detail=detail, numbers=numbers[:SAMPLE_KEYS])
        )

    def _numbers(self, spec: ObjectSpec, keys: Sequence[str]) -> tuple[str | None, ...]:
        """The numbers people know records by, read back by key for the findings the source's
        pushed-down checks name by key alone (orphans, threads without parts)."""
        if not spec.number_field or not keys:
            return ()
        keys = tuple(keys)
        found: dict[str, str | None] = {}
        for start in range(0, len(keys), NUMBER_CHUNK):
            try:
                records = self.source.get(spec.name, keys[start:start + NUMBER_CHUNK])
            except SourceError:  # the keys still name the records; the numbers are a courtesy
                return ()
            found.update((record.key, _number(spec, record)) for record in records)
        return tuple(found.get(key) for key in keys)

    def _tally(self, code: str, severity: Severity, spec: ObjectSpec | None) -> _Tally:
        """A tally whose every key is listed in full under this finding."""
        name = spec.name if spec else None
        return _Tally(lambda key, number: self.affected.add(severity.value, code, name, key, number))

    def _add_tally(self, code: str, severity: Severity, spec: ObjectSpec | None, message: str, tally: _Tally,
                   detail: str = "") -> None:
        self._add(code, severity, spec, message, tally.count, tally.keys, detail, tally.numbers, listed=True)

    # -- the run --------------------------------------------------------------------

    def run(self) -> AuditResult:
        listener = self.source.activity
        self.source.activity = self._tell
        try:
            return self._run()
        finally:
            self.source.activity = listener

    def _run(self) -> AuditResult:
        started = datetime.now(UTC)
        schema = self.source.describe()
        migrating = [o for o in schema.objects if o.role not in (ObjectRole.LOOKUP, ObjectRole.INVENTORY)]
        self._total = len(schema.objects) + len(migrating) + 6
        objects = []
        for spec in schema.objects:
            self._step(f"counting {_noun(spec)}")
            objects.append(ObjectAudit(spec, self.source.profile(spec.name)))
        self._step("reading the desk's agents and queues")
        self._read_people(schema)
        for spec in migrating:
            self._step(f"checking values in {_noun(spec)}")
            self._value_checks(spec, schema)
        self._company_members(schema)
        self._step("checking duplicates and references")
        self._relational_checks(schema)
        self._step("checking conversation threads")
        self._thread_checks(schema)
        self._step("checking attachments")
        if Capability.ATTACHMENTS in self.source.capabilities:
            for spec in schema.objects:
                if spec.role in (ObjectRole.PART, ObjectRole.CONVERSATION, ObjectRole.ARTICLE, ObjectRole.RECORD):
                    self._attachment_checks(spec)
        self._step("listing what the read leaves out")
        listed = self._skipped_records(schema)
        self._step("platform checklist")
        self._time_zone_check(objects)
        self._request_finding()
        for finding in self.source.findings:  # the connector's own, with the keys it kept
            if (finding.code, finding.object) not in listed:
                self.findings.append(finding)
                numbers = finding.numbers + (None,) * (len(finding.keys) - len(finding.numbers))
                for key, number in zip(finding.keys, numbers, strict=True):
                    self.affected.add(finding.severity.value, finding.code, finding.object, key, number)
        self.findings.extend(checklist_findings(schema.platform))
        self._inventory(objects)
        self.progress(AuditProgress("done", self._total, self._total))
        order = {Severity.BLOCKER: 0, Severity.WARNING: 1, Severity.INFO: 2}
        self.findings.sort(key=lambda f: (order[f.severity], f.code, f.object or ""))
        return AuditResult(schema.platform, objects, self.findings, started, datetime.now(UTC), self.affected)

    # -- value checks: one streaming pass per object ----------------------------------

    def _value_checks(self, spec: ObjectSpec, schema: SourceSchema) -> None:
        noun = _noun(spec)
        checks: dict[str, _ValueCheck] = {}

        def check(code: str, severity: Severity, message: str, detail: str) -> _ValueCheck:
            if code not in checks:
                checks[code] = _ValueCheck(code, severity, message, detail, self._tally(code, severity, spec))
            return checks[code]

        text_fields = [f for f in spec.fields if f.type in (FieldType.STRING, FieldType.TEXT, FieldType.HTML, FieldType.EMAIL)]
        body_fields = [f for f in spec.fields if f.type in (FieldType.TEXT, FieldType.HTML)]
        custom_text = [f for f in spec.fields if f.custom and f.type in (FieldType.STRING, FieldType.TEXT)]
        date_fields = [f for f in spec.fields if f.type in (FieldType.DATETIME, FieldType.DATE)]
        email_field = _email_field(spec)
        domain_field = self._domain_field(spec) if spec.role is ObjectRole.COMPANY else None
        check_email = spec.role is ObjectRole.CONTACT and email_field is not None
        people = spec.role in (ObjectRole.CONTACT, ObjectRole.AGENT) and email_field is not None
        visibility = _visibility_fields(spec)
        options = review.option_fields(spec)
        retired: dict[str, dict[str, int]] = {}  # field -> value not among its options -> records
        due = review.due_field(spec)
        companies = {o.name for o in schema.by_role(ObjectRole.COMPANY)}
        company_refs = [f for f in spec.fields if f.references in companies] if spec.role is ObjectRole.CONTACT else []
        contacts = [o.name for o in schema.by_role(ObjectRole.CONTACT)]
        requester_refs = review.contact_reference_fields(spec, contacts) if spec.role is ObjectRole.CONVERSATION else []
        queue_keys = set().union(*self.people.queue_keys.values()) if self.people.queue_keys else set()
        bodiless = self._bodiless.setdefault(spec.name, {}) if spec.role is ObjectRole.CONVERSATION else None
        own_text = review.body_fields(spec)
        domains: dict[str, list[str]] = {}  # companies are few: their domains fit in memory

        for batch in self.source.iter_records(spec.name):
            if self.cancel.is_set():
                raise AuditCancelled("audit cancelled")
            for record in batch:
                data = record.data
                number = _number(spec, record)

                def hit(code: str, severity: Severity, message: str, detail: str) -> None:
                    check(code, severity, message, detail).tally.add(record.key, number)

                if record.key_problem is not None:
                    _key_check(check, record.key_problem.code).tally.add(record.key, number)
                texts = [v for f in text_fields if isinstance(v := data.get(f.name), str) and v]
                # once per record, however many of its fields hold the class
                if any(REPLACEMENT in value for value in texts):
                    hit("text.undecodable", Severity.WARNING,
                        "{n} {object} hold text the source could not decode (bytes replaced by '\ufffd')",
                        "Bytes that are not valid in the source's encoding (invalid UTF-8, another code page) "
                        "were replaced where they stand; the rest of the text loads, and each record is "
                        "counted in the report. Fix the text at the source to keep those characters.")
                if any("\x00" in value for value in texts):
                    hit("text.nul", Severity.WARNING, "{n} {object} hold NUL characters",
                        "NUL characters are removed on load; the rest of the text is kept.")
                if any(is_mojibake(value) for value in texts):
                    hit("text.mojibake", Severity.WARNING, "{n} {object} hold mis-decoded text (like 'Ã©' for 'é')",
                        "The text was stored with the wrong encoding at the source; it is repaired on load "
                        "where the repair is unambiguous and listed in the report.")
                for f in body_fields:
                    value = data.get(f.name)
                    if isinstance(value, str) and len(value) > BODY_LIMIT:
                        hit("body.too_large", Severity.WARNING, "{n} {object} have a body over 64K characters",
                            "Over-long bodies are split over several parts (or truncated with a flag, as the map says).")
                for f in custom_text:
                    value = data.get(f.name)
                    if isinstance(value, str) and len(value) > ATTRIBUTE_TEXT_LIMIT:
                        hit("attribute.too_long", Severity.WARNING,
                            "{n} {object} have custom-field values over Intercom's 255 characters",
                            "Choose in the map: truncate with a flag, or move the value to a note.")
                for f in date_fields:
                    self._date_check(check, spec, f, data.get(f.name), record.key, number)
                if record.notes:
                    for code in dict.fromkeys(note.code for note in record.notes):
                        self._note_check(hit, code)
                if check_email:
                    email = data.get(email_field.name)
                    if not email or not str(email).strip():
                        hit("contact.email_missing", Severity.WARNING, "{n} {object} have no email address",
                            "They are created in Intercom by external id only and cannot receive email replies; "
                            "add an email at the source or accept.")
                    elif not EMAIL_RE.match(str(email).strip()):
                        hit("contact.email_invalid", Severity.WARNING, "{n} {object} have an invalid email address",
                            "Intercom rejects invalid emails: fix them at the source, or they load by external id "
                            "with the email left out.")
                if people and (why := self.people.queue_account(data.get(email_field.name), spec.role)):
                    hit(f"{'agent' if spec.role is ObjectRole.AGENT else 'contact'}.queue_account", Severity.WARNING,
                        "{n} {object} are mailboxes or queues, not people (" + why + ", ...)",
                        "A shared mailbox, a queue or an automated sender posing as a person collects the "
                        "conversations of a mail loop or of everyone it forwarded: review them before the load "
                        "(skip them on the Plan step, or map them to the fallback contact).")
                if any(not visibility_readable(data.get(f.name)) for f in visibility):
                    hit("part.visibility_unreadable", Severity.WARNING,
                        "{n} {object} have a private/public flag that cannot be read",
                        "They load as internal notes, never as replies the customer sees. Fix the values (or the "
                        "export's encoding) at the source to load the public ones as replies.")
                missed = {f.name: value for f in options if (value := review.not_an_option(f, data.get(f.name)))}
                if missed:
                    hit("field.value_not_an_option", Severity.WARNING,
                        "{n} {object} hold values their field no longer offers (retired options)",
                        "Intercom's list attribute gets each such value as an extra option: map it to a current "
                        "one with a value map, or accept it.")
                    for name, value in missed.items():
                        counts = retired.setdefault(name, {})
                        counts[value] = counts.get(value, 0) + 1
                if due is not None and self._due_before_open(spec, due, data):
                    hit("date.due_before_open", Severity.WARNING, "{n} {object} are due before they were opened",
                        f"{due.name} is earlier than {spec.created_field}: the dates load as they are; fix them "
                        "at the source or leave the due date out in the map.")
                for f in company_refs:
                    if data.get(f.name) not in (None, ""):
                        self._company_refs.setdefault(str(f.references), set()).add(str(data[f.name]))
                if any(str(data.get(f.name)) in queue_keys for f in requester_refs if data.get(f.name) is not None):
                    hit("conversation.queue_requester", Severity.WARNING,
                        "{n} {object} name a queue (a shared inbox) as their requester",
                        "A queue is not a person: these have no requester among the contacts and go to the "
                        "fallback contact set on the Plan step, or are rejected with this reason.")
                if bodiless is not None and not any(_filled(data.get(f.name)) for f in own_text):
                    bodiless[record.key] = number
                if spec.role is ObjectRole.COMPANY:
                    self._company_keys.setdefault(spec.name, {})[record.key] = number
                if domain_field is not None:
                    domain = _domain(data.get(domain_field.name))
                    if not domain:
                        hit("company.no_domain", Severity.INFO, "{n} {object} have no domain or website",
                            "Contacts cannot be matched to them by email domain; links come from the source only.")
                    elif domain in FREE_MAIL_DOMAINS:
                        hit("company.shared_domain", Severity.WARNING,
                            "{n} {object} use a public mail domain (like gmail.com) as their domain",
                            "Matching by domain would put unrelated people in one company; those are linked "
                            "only by the source's explicit membership.")
                    else:
                        domains.setdefault(domain, []).append(record.key)
        for item in checks.values():
            message = item.message.format(n=item.tally.count, object=noun)
            if item.code == "field.value_not_an_option":
                message += ": " + review.values_line(retired)
            self._add_tally(item.code, item.severity, spec, message, item.tally, item.detail)
        shared = {domain: keys for domain, keys in domains.items() if len(keys) > 1}
        records = sum(len(keys) for keys in shared.values())
        self._add("company.duplicate_domain", Severity.INFO, spec, f"{records} {noun} share {len(shared)} domains",
                  records, [k for keys in shared.values() for k in keys],
                  "Companies are keyed by the source id, so they stay separate in Intercom.")

    @staticmethod
    def _note_check(hit: Callable[[str, Severity, str, str], None], code: str) -> None:
        """Values the connector settled by a documented rule while reading (local_time.py)."""
        if code == DST_GAP:
            hit(DST_GAP, Severity.WARNING,
                "{n} {object} have local times that do not exist (the hour skipped when clocks go forward)",
                f"A time in a daylight-saving gap is {GAP_RULE} (Europe/Berlin 2024-03-31 02:30 reads as 01:30 "
                "UTC); each is counted in the load's report. Fix them at the source if they mean something else.")
        elif code == DST_OVERLAP:
            hit(DST_OVERLAP, Severity.WARNING,
                "{n} {object} have local times that happened twice (the hour repeated when clocks go back)",
                f"A time in a daylight-saving overlap is {OVERLAP_RULE} (Europe/Berlin 2024-10-27 02:30 reads as "
                "00:30 UTC); each is counted in the load's report. Messages in that hour may be an hour off.")

    @staticmethod
    def _due_before_open(spec: ObjectSpec, due: FieldSpec, data: dict) -> bool:
        opened, due_at = _as_datetime(data.get(spec.created_field or "")), _as_datetime(data.get(due.name))
        return opened is not None and due_at is not None and due_at.year >= SENTINEL_YEAR and due_at < opened

    def _date_check(self, check, spec: ObjectSpec, f: FieldSpec, value: object, key: str,
                    number: str | None = None) -> None:
        if value is None:
            if f.name == spec.created_field:
                check("date.missing", Severity.WARNING, "{n} {object} have no creation date",
                      "Conversations take their first message's date and messages the date of the message "
                      "before them (flagged); one with no dated message at all is rejected with this reason."
                      ).tally.add(key, number)
            return
        when = _as_datetime(value)
        if when is None:
            return
        if when.year < SENTINEL_YEAR:
            check("date.sentinel", Severity.WARNING, "{n} {object} have a placeholder date (1900-01-01 or earlier)",
                  "Placeholder dates are treated as missing.").tally.add(key, number)
        elif when > self.now + FUTURE_SLACK:
            check("date.future", Severity.WARNING, "{n} {object} have a date in the future",
                  "Intercom rejects future created_at values; they are clamped to the load time and flagged."
                  ).tally.add(key, number)

    @staticmethod
    def _domain_field(spec: ObjectSpec) -> FieldSpec | None:
        """The field that best holds a company's domain: `domain`, then *domain*, then a URL."""
        ranked = sorted(
            (f for f in spec.fields if f.name.lower() == "domain" or "domain" in f.name.lower()
             or "website" in f.name.lower() or f.type is FieldType.URL),
            key=lambda f: (f.name.lower() != "domain", "domain" not in f.name.lower()),
        )
        return next((f for f in ranked if f.type is not FieldType.LIST), None)

    # -- who the desk is, and companies nobody belongs to ------------------------------

    def _read_people(self, schema: SourceSchema) -> None:
        """The agents' mail domains and the queues (small objects), so a requester that is
        the desk's own mailbox or queue can be told from a person."""
        for spec in schema.objects:
            queue = review.is_queue_object(spec)
            if spec.role is not ObjectRole.AGENT and not queue:
                continue
            email = _email_field(spec)
            for batch in self.source.iter_records(spec.name):
                for record in batch:
                    value = record.data.get(email.name) if email is not None else None
                    if queue:
                        self.people.add_queue(spec.name, record.key, value)
                    else:
                        self.people.add_agent(value)

    def _company_members(self, schema: SourceSchema) -> None:
        """Companies no contact belongs to (an organization with no domain filter, no member)."""
        for spec in schema.by_role(ObjectRole.COMPANY):
            if spec.name not in self._company_refs and not any(
                    f.references == spec.name for c in schema.by_role(ObjectRole.CONTACT) for f in c.fields):
                continue  # nothing says who belongs to it: membership cannot be judged
            named = self._company_refs.get(spec.name, set())
            tally = self._tally("company.no_members", Severity.WARNING, spec)
            for key, number in self._company_keys.get(spec.name, {}).items():
                if key not in named:
                    tally.add(key, number)
            self._add_tally("company.no_members", Severity.WARNING, spec,
                            f"{tally.count} {_noun(spec)} have no members: no contact belongs to them", tally,
                            "No domain filter or membership links anyone to them (check the organization's domain "
                            "filters at the source). They are still created as companies with no contacts.")
        self._company_keys.clear()
        self._company_refs.clear()

    def _skipped_records(self, schema: SourceSchema) -> set[tuple[str, str]]:
        """Every record the default read leaves out (deleted, spam, drafts, ...), named with its
        number; returns the (code, object) pairs listed, which replace the source's counts."""
        listed: set[tuple[str, str]] = set()
        reread = (" Set include_deleted to read deleted, spam and draft records as well."
                  if getattr(self.source, "include_deleted", None) is False else "")
        for spec in schema.objects:
            tallies: dict[str, _Tally] = {}
            for reason, batch in self.source.skipped(spec.name):
                if self.cancel.is_set():
                    raise AuditCancelled("audit cancelled")
                tally = tallies.get(reason) or tallies.setdefault(
                    reason, self._tally(f"source.skipped_{reason}", Severity.INFO, spec))
                for item in batch:
                    tally.add(item.key, item.number)
            for reason, tally in tallies.items():
                code = f"source.skipped_{reason}"
                why = reason.replace("_", " ")
                self._add_tally(code, Severity.INFO, spec,
                                f"{tally.count} {_noun(spec)} are left out by the default read ({why})", tally,
                                "They are not migrated; every one is in reports/affected-records.csv." + reread)
                listed.add((code, spec.name))
        return listed

    def _time_zone_check(self, objects: list[ObjectAudit]) -> None:
        """A blocker when the source keeps zone-less times and nobody set their zone."""
        use = self.source.time_zone()
        if use is None or use.configured:
            return
        columns: list[str] = []
        values = 0
        for item in objects:
            for f in item.spec.fields:
                filled = item.profile.fields[f.name].filled if f.name in item.profile.fields else 0
                if f.local_time and filled:
                    columns.append(f"{f.column or f.name} ({item.spec.name}.{f.name}, {filled:,} values)")
                    values += filled
        if not columns:
            return
        self._add(TIME_ZONE_ASSUMED, Severity.BLOCKER, None,
                  f"no source time zone is set: {len(columns)} columns hold local times without a zone, which "
                  f"would be read in {use.zone}", values, columns,
                  "A wrong zone shifts every one of these dates. Set the source's zone (its server's or tenant's) "
                  "(`helpmig audit P --timezone Europe/Berlin`, a Windows name like 'W. Europe Standard Time' "
                  "works too; the wizard's Connect step: its time zone field), or accept this machine's with "
                  "--timezone local (recorded by name, so every run reads the same). Daylight-saving gaps and "
                  f"overlaps: a time that does not exist is {GAP_RULE}; one that happened twice is {OVERLAP_RULE}.",
                  listed=True)

    # -- relational checks: pushed down by SQL connectors ------------------------------

    def _relational_checks(self, schema: SourceSchema) -> None:
        names = {o.name for o in schema.objects}
        for spec in schema.objects:
            email = _email_field(spec)
            if spec.role in (ObjectRole.CONTACT, ObjectRole.AGENT) and email is not None:
                dupes = self.source.duplicate_values(spec.name, email.name, casefold=True, sample=SAMPLE_KEYS)
                records = sum(count for _, count, _ in dupes)
                keys = [k for _, _, sample in dupes for k in sample]
                if spec.role is ObjectRole.CONTACT:
                    code, detail = "contact.email_duplicate", (
                        "Intercom keys contacts by external id, so each becomes its own contact with the same "
                        "email; merge them at the source if they are one person.")
                else:
                    code, detail = "agent.email_duplicate", (
                        "Agents are matched to Intercom admins by email: these match the same admin; check the "
                        "reconciliation queue on the Plan step.")
                self._add(code, Severity.WARNING, spec,
                          f"{records} {_noun(spec)} share {len(dupes)} email addresses (ignoring case)", records, keys,
                          detail)
            if spec.parent and spec.parent in names:
                count, keys = self.source.orphan_keys(spec.name, spec.parent_field or "parent", spec.parent,
                                                     sample=LISTED_KEYS)
                parent = schema.object(spec.parent)
                self._add(_orphan_code(spec, parent), Severity.WARNING, spec,
                          f"{count} {_noun(spec)} belong to {_noun(parent)} that do not exist", count, keys,
                          "They have nowhere to go and are rejected with this reason.", self._numbers(spec, keys))
            for f in spec.fields:
                if f.references and f.references in names and f.name != spec.parent_field:
                    target = schema.object(f.references)
                    count, keys = self.source.orphan_keys(spec.name, f.name, f.references, sample=LISTED_KEYS)
                    self._add(_orphan_code(spec, target), Severity.WARNING, spec,
                              f"{count} {_noun(spec)} point through {f.name} at {_noun(target)} that do not exist",
                              count, keys, _orphan_detail(spec, target), self._numbers(spec, keys))

    def _thread_checks(self, schema: SourceSchema) -> None:
        for conv in schema.by_role(ObjectRole.CONVERSATION):
            parts = [o for o in schema.objects if o.role is ObjectRole.PART and o.parent == conv.name]
            if not parts:
                continue
            count, keys = self.source.childless_keys(conv.name, parts[0].name, sample=LISTED_KEYS)
            self._add("conversation.no_messages", Severity.INFO, conv,
                      f"{count} {_noun(conv)} have no {_noun(parts[0])}", count, keys,
                      "They are created from their subject and description alone.", self._numbers(conv, keys))
            self._empty_conversations(conv, parts)
            # Pigeonhole: a thread over MAX_PARTS has, in one part object, more than
            # MAX_PARTS // len(parts); only those candidates are counted exactly.
            candidates: set[str] = set()
            for part in parts:
                candidates.update(self.source.child_counts(part.name, over=MAX_PARTS // len(parts)))
            totals = {key: 0 for key in candidates}
            for part in parts:
                for key, children in self.source.children(part.name, sorted(candidates)).items():
                    totals[key] += len(children)
            over = sorted(key for key, total in totals.items() if total > MAX_PARTS)
            self._add("conversation.over_500_parts", Severity.WARNING, conv,
                      f"{len(over)} {_noun(conv)} have more than {MAX_PARTS} messages and notes", len(over), over,
                      "Intercom keeps 500 parts per conversation: the map says whether to split them into "
                      "linked conversations or to summarise the oldest parts in one note.", self._numbers(conv, over))

    def _empty_conversations(self, conv: ObjectSpec, parts: list[ObjectSpec]) -> None:
        """Conversations with no text of their own and no part at all: nothing but a subject."""
        bodiless = self._bodiless.pop(conv.name, {})
        tally = self._tally("conversation.empty", Severity.WARNING, conv)
        keys = sorted(bodiless, key=lambda key: (len(key), key))
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            spoken: set[str] = set()
            for part in parts:
                spoken.update(key for key, children in self.source.children(part.name, chunk).items() if children)
            for key in chunk:
                if key not in spoken:
                    tally.add(key, bodiless[key])
        what = " nor ".join(["a description"] + [_noun(p) for p in parts])
        self._add_tally("conversation.empty", Severity.WARNING, conv,
                        f"{tally.count} {_noun(conv)} have neither {what}", tally,
                        "Nothing but a subject: each is created with its subject as its only message (or a "
                        "placeholder when it has none). Review them; skip them on the Plan step if they are noise.")

    # -- attachments -----------------------------------------------------------------

    def _attachment_checks(self, spec: ObjectSpec) -> None:
        per_record: dict[str, int] = {}
        restricted = self._tally("attachment.restricted_type", Severity.WARNING, spec)
        missing = self._tally("attachment.missing", Severity.WARNING, spec)
        empty = self._tally("attachment.empty", Severity.INFO, spec)
        junk = self._tally("attachment.junk", Severity.INFO, spec)
        unreadable: dict[str, _Tally] = {}  # problem -> files
        total = 0
        for ref in self.source.iter_attachments(spec.name):
            label = f"{ref.record_key}/{ref.name}"
            if is_junk_file(ref.name):
                junk.add(label)
                continue
            total += 1
            per_record[ref.record_key] = per_record.get(ref.record_key, 0) + 1
            if PurePath(ref.name.lower()).suffix in RESTRICTED_EXTENSIONS:
                restricted.add(label)
            if ref.problem:
                code = UNREADABLE_CODES.get(ref.problem, "attachment.unreadable")
                unreadable.setdefault(ref.problem, self._tally(code, Severity.WARNING, spec)).add(label)
            elif not ref.exists:
                missing.add(label)
            elif ref.size == 0:
                empty.add(label)
        noun = _noun(spec)
        over = sorted(key for key, n in per_record.items() if n > MAX_ATTACHMENTS)
        self._add("attachment.over_10", Severity.INFO, spec,
                  f"{len(over)} {noun} carry more than {MAX_ATTACHMENTS} attachments", len(over), over,
                  "Intercom takes 10 files per message: the rest go with the next part, never dropped.")
        self._add_tally("attachment.restricted_type", Severity.WARNING, spec,
                        f"{restricted.count} attachments of {noun} have a blocked file type (.exe, .scr, ...)",
                        restricted, "Intercom refuses these types: they are listed in the report and left out.")
        self._add_tally("attachment.junk", Severity.INFO, spec,
                        f"{junk.count} files among the attachments of {noun} are system files (Thumbs.db, "
                        f"desktop.ini, .DS_Store, Office lock files)", junk,
                        "Windows, macOS and Office leave these beside real files; they are skipped and listed.")
        self._add_tally("attachment.missing", Severity.WARNING, spec,
                        f"{missing.count} attachments of {noun} are missing on disk", missing,
                        "Check the attachments folder setting; missing files are listed, never silently skipped.")
        for problem, tally in sorted(unreadable.items(), key=lambda item: -item[1].count):
            self._add_tally(UNREADABLE_CODES.get(problem, "attachment.unreadable"), Severity.WARNING, spec,
                            f"{tally.count} attachments of {noun} cannot be read: {problem}", tally,
                            problem_hint(problem) + " Until then they are listed in the report and left out.")
        self._add_tally("attachment.empty", Severity.INFO, spec,
                        f"{empty.count} attachments of {noun} are empty (0 bytes)", empty,
                        "Empty files are skipped and listed.")
        deleted: dict[str, _Tally] = {}
        for reason, ref in self.source.skipped_attachments(spec.name):
            tally = deleted.get(reason) or deleted.setdefault(
                reason, self._tally(f"attachment.skipped_{reason}", Severity.INFO, spec))
            tally.add(f"{ref.record_key}/{ref.name}")
        for reason, tally in deleted.items():
            self._add_tally(f"attachment.skipped_{reason}", Severity.INFO, spec,
                            f"{tally.count} attachments of {noun} are {reason.replace('_', ' ')} at the source", tally,
                            "The source keeps the row but marks the file removed: it is not migrated (set "
                            "include_deleted to read it as well, when the file is still there).")
        if total:
            self._add("attachment.count", Severity.INFO, spec, f"{total} attachments of {noun} to upload", total,
                      detail="Each file is one upload inside its part's call; large sets lengthen the load.")

    def _request_finding(self) -> None:
        usage = self.source.request_usage()
        if usage is None or not usage.requests:
            return
        waits = (f"; {usage.throttled} answers asked to slow down and {usage.waited:.0f} s were waited"
                 if usage.throttled else "")
        self._add("source.requests", Severity.INFO, None, f"the audit made {usage.requests} requests to "
                  f"{usage.service}{waits}", usage.requests, (),
                  "Each object is read once and kept for the audit; the load reads the conversations again.")

    def _inventory(self, objects: list[ObjectAudit]) -> None:
        for item in objects:
            if item.spec.role is ObjectRole.INVENTORY:
                self._add("inventory.rebuild", Severity.INFO, item.spec,
                          f"{item.profile.count} {_noun(item.spec)} are rebuilt by hand in Intercom "
                          "(listed in the rebuild inventory)", item.profile.count, (), "These do not migrate as data.")


def _key_check(check: Callable[..., _ValueCheck], code: str) -> _ValueCheck:
    if code == KEY_MISSING:
        return check(code, Severity.WARNING, "{n} {object} have no key in the source (NULL or blank)",
                     "A record with no key cannot be loaded once and only once (a resume could not tell it "
                     "apart): it is rejected with this reason. Give it a key at the source to migrate it.")
    return check(code, Severity.WARNING, "{n} {object} have a key the key column's type cannot hold",
                 "Such a record cannot be read back by its key (its messages, a resume): it is rejected with "
                 "this reason. Fix the key at the source to migrate it.")


def _visibility_fields(spec: ObjectSpec) -> list[FieldSpec]:
    """A part's fields that say whether it is private (is_private, direction, visibility), by the
    mapping proposer's vocabulary."""
    if spec.role is not ObjectRole.PART:
        return []
    return [f for f in spec.fields
            if any(m.field == "direction" and m.score >= 0.7 for m in name_matches(TargetKind.PART, f.name, f.label))]


def _email_field(spec: ObjectSpec) -> FieldSpec | None:
    """A typed email field, or one named like an email (tables read as they are)."""
    typed = next((f for f in spec.fields if f.type is FieldType.EMAIL), None)
    if typed is not None:
        return typed
    return next((f for f in spec.fields if f.type is FieldType.STRING and f.name.lower().replace("_", "") in
                 ("email", "emailaddress", "mail")), None)


def _filled(value: object) -> bool:
    return value is not None and (not isinstance(value, str) or bool(value.strip()))


def _domain(value: object) -> str:
    text = str(value or "").strip().lower()
    if not text:
        return ""
    text = re.sub(r"^[a-z]+://", "", text).split("/")[0]
    text = text.split("@")[-1]
    return text.removeprefix("www.")


def _orphan_code(spec: ObjectSpec, target: ObjectSpec) -> str:
    if spec.role is ObjectRole.PART:
        return "part.conversation_missing"
    if spec.role is ObjectRole.CONVERSATION and target.role is ObjectRole.CONTACT:
        return "conversation.requester_missing"
    if spec.role is ObjectRole.ARTICLE and target.role is ObjectRole.KB_CATEGORY:
        return "article.category_missing"
    return "reference.missing"


def _orphan_detail(spec: ObjectSpec, target: ObjectSpec) -> str:
    if spec.role is ObjectRole.CONVERSATION and target.role is ObjectRole.CONTACT:
        return ("Intercom needs a contact for every conversation: these go to the fallback contact set on the Plan "
                "step, or are rejected with this reason when none is set.")
    if spec.role is ObjectRole.ARTICLE:
        return "These articles are placed in the top collection."
    return "The link is left empty on load."


def run_audit(source: Source, **kwargs) -> AuditResult:
    return Auditor(source, **kwargs).run()
