"""The Source interface every platform connector implements, and the types it yields.

This is the bottom layer: nothing here imports helpmig_tui or screens. The engine
(audit, mapping, pipeline) works only with these types, so a new platform is a new
subclass of `Source`, nothing more.

Conventions every connector keeps:
- Record keys are strings (the source's primary key, stringified), stable across runs.
- Datetimes are timezone-aware UTC. A connector that reads naive local times converts
  them with its configured source time zone; it never yields a naive datetime.
- Text is `str` (decoded); a connector never yields bytes for a text field.
- A connector never writes to the source system.
- Problems found while reading (a missing optional table, an undecodable row) are
  reported as `Finding`s through `Source.findings`, never by crashing or by silently
  dropping a record.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any, Callable, ClassVar


class ObjectRole(enum.StrEnum):
    """What a source object is, in terms the engine understands."""

    CONVERSATION = "conversation"  # ticket, incident, request, chat: becomes a conversation
    PART = "part"  # a message or note inside a conversation (child of a CONVERSATION)
    CONTACT = "contact"  # end user / requester
    AGENT = "agent"  # technician / agent: matched to an Intercom admin, never created
    COMPANY = "company"  # organization / vendor
    TEAM = "team"  # department / group: matched to an Intercom team
    KB_CATEGORY = "kb_category"  # becomes a help-center collection
    ARTICLE = "article"  # becomes a help-center article
    TAG = "tag"
    LOOKUP = "lookup"  # statuses, priorities, custom-field definitions: read to resolve values
    RECORD = "record"  # problem, change, release, asset, CI, call log: operator picks a target
    INVENTORY = "inventory"  # workflows, SLA rules, approval chains: rebuild inventory only


class FieldType(enum.StrEnum):
    STRING = "string"  # short text
    TEXT = "text"  # long text (bodies, descriptions)
    HTML = "html"  # HTML text
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    DATE = "date"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    OPTIONS = "options"  # one of a small set (status, priority)
    LIST = "list"  # several values (tags)
    JSON = "json"  # structured value


class Severity(enum.StrEnum):
    BLOCKER = "blocker"
    WARNING = "warning"
    INFO = "info"


class Capability(enum.Flag):
    """What a connector can do; the engine and the UI read these instead of guessing."""

    NONE = 0
    ATTACHMENTS = enum.auto()  # attachments() returns files
    DELTA_UPDATED_AT = enum.auto()  # iter_records(since=...) filters on an updated-at column
    PUSHDOWN_PROFILE = enum.auto()  # profile() runs aggregates in the source, not in Python
    EXACT_COUNTS = enum.auto()  # describe() counts are exact, not estimates
    CHILDREN_BY_PARENT = enum.auto()  # children() fetches a batch of parents in one round trip
    RESUME_AFTER_KEY = enum.auto()  # iter_records_after() seeks to a key (a resumed load skips what it finished)


@dataclass(frozen=True)
class FieldSpec:
    """One field of a source object, as the connector exposes it."""

    name: str
    type: FieldType = FieldType.STRING
    label: str = ""
    nullable: bool = True
    max_length: int | None = None  # the source's declared limit, when it has one
    options: tuple[str, ...] = ()  # allowed values for OPTIONS fields, when known
    references: str | None = None  # the object this field points at (a foreign key)
    custom: bool = False  # a custom field defined by the customer, not the platform
    description: str = ""
    # a wall-clock time stored without its zone, read in the source's time zone
    # (`Source.time_zone()`); a wrong zone shifts every value of it
    local_time: bool = False
    column: str = ""  # where the source keeps it (table.column), when it is one column


@dataclass(frozen=True)
class ObjectSpec:
    """One source object (table, class, file) with its fields."""

    name: str  # stable id used in maps and the journal, e.g. "tickets"
    role: ObjectRole
    fields: tuple[FieldSpec, ...]
    key: str = "id"  # the field holding the record key
    label: str = ""
    count: int | None = None  # records that will be read (after deleted/spam filters)
    parent: str | None = None  # for PART and other child objects: the parent object
    # (a conversation's main thread, e.g. messages, is listed before its other parts)
    parent_field: str | None = None  # the field holding the parent's key
    created_field: str | None = None  # when the record was created
    updated_field: str | None = None  # when it last changed (delta)
    optional: bool = False  # the platform does not always have it
    description: str = ""

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.fields)

    @property
    def number_field(self) -> str | None:
        return number_field_of(self.field_names)


# The fields that hold what people call a record (a ticket or work order number), which
# reports show beside the internal key; connectors expose it under one of these names.
NUMBER_FIELDS = ("number", "display_id", "ticket_number")


def number_field_of(field_names: Sequence[str]) -> str | None:
    return next((name for name in NUMBER_FIELDS if name in field_names), None)


@dataclass(frozen=True)
class SourceSchema:
    """What describe() returns: the platform and its objects."""

    platform: str
    objects: tuple[ObjectSpec, ...]
    version: str = ""  # the source's product version, when it can be read

    def object(self, name: str) -> ObjectSpec:
        for spec in self.objects:
            if spec.name == name:
                return spec
        raise KeyError(f"{self.platform} has no object {name!r}")

    def by_role(self, role: ObjectRole) -> tuple[ObjectSpec, ...]:
        return tuple(spec for spec in self.objects if spec.role is role)


REPLACEMENT = "\ufffd"  # what stands where a source's bytes could not be decoded
KEY_MISSING = "record.key_missing"
KEY_MALFORMED = "record.key_malformed"


@dataclass(frozen=True)
class KeyProblem:
    """Why a record's key cannot identify it (the source's key column is NULL, blank, or holds
    what its type cannot): such a record is read with a stand-in key, never loaded (it could
    not be loaded once and only once), and the audit and the load name it."""

    code: str  # KEY_MISSING | KEY_MALFORMED
    reason: str


@dataclass(frozen=True)
class ValueNote:
    """What a connector did to one value while reading it, by a documented rule (a local
    time in a daylight-saving gap): the audit counts the records, the load reports them."""

    field: str
    code: str  # e.g. "date.dst_gap"
    message: str


@dataclass(frozen=True)
class Record:
    """One source record. `data` holds every exposed field by FieldSpec.name."""

    object: str
    key: str
    data: dict[str, Any]
    parent_key: str | None = None
    updated_at: datetime | None = None
    notes: tuple[ValueNote, ...] = ()
    key_problem: KeyProblem | None = None


@dataclass(frozen=True)
class Skipped:
    """A record the default read leaves out: its key and the number people know it by."""

    key: str
    number: str | None = None


def shown_key(key: str, number: str | None) -> str:
    """A record as reports name it: the number people know, with the key ("#1042 (17)")."""
    return f"#{number} ({key})" if number and number != key else key


@dataclass(frozen=True)
class TimeZoneUse:
    """How a source reads the times it stores without a zone."""

    zone: str  # the zone they are read in (IANA name), or a description when it has none
    configured: bool  # set by the operator; False: this machine's zone, assumed
    columns: tuple[str, ...] = ()  # where such times are kept (table.column), when known


@dataclass(frozen=True)
class AttachmentRef:
    """A file that belongs to a record (and, for parts, to one message).

    `open()` returns a binary stream; the caller closes it. `exists` is False when the
    source names a file that cannot be found: the engine reports it, never drops it.
    `problem` says why a file cannot be read when that is known (access denied, a path
    too long for Windows); such a file's `open()` raises OSError with that reason.
    """

    name: str
    size: int | None
    content_type: str
    record_key: str  # the record the file belongs to (the part, or the conversation)
    opener: Callable[[], IO[bytes]] | None = field(default=None, repr=False, compare=False)
    location: str = ""  # where it was found (path or URL), for reports
    inline: bool = False  # an inline image referenced from the body (cid:)
    content_id: str | None = None  # the cid the body refers to
    problem: str = ""  # why it cannot be read, when known (attachment_files.ACCESS_DENIED, ...)

    @property
    def exists(self) -> bool:
        return self.opener is not None

    def open(self) -> IO[bytes]:
        if self.opener is None:
            raise FileNotFoundError(f"attachment {self.name!r} is missing at {self.location or 'an unknown place'}")
        return self.opener()


@dataclass(frozen=True)
class Finding:
    """A data-quality or access problem, as a connector or the audit reports it."""

    code: str  # stable, e.g. "contact.email_missing"
    severity: Severity
    message: str  # one line a human understands
    object: str | None = None
    keys: tuple[str, ...] = ()  # affected record keys (may be truncated; see count)
    count: int = 0  # how many records are affected in all
    detail: str = ""  # what to do about it
    numbers: tuple[str | None, ...] = ()  # the number people know each of `keys` by, when there is one

    def shown_keys(self) -> tuple[str, ...]:
        """The sampled keys as reports show them, with their numbers."""
        numbers = self.numbers + (None,) * (len(self.keys) - len(self.numbers))
        return tuple(shown_key(key, number) for key, number in zip(self.keys, numbers, strict=False))


@dataclass
class FieldProfile:
    """Per-field statistics the audit and the mapping proposer use."""

    name: str
    filled: int = 0  # non-null, non-empty values
    distinct: int | None = None  # exact when small, None when not computed
    max_length: int | None = None
    min_value: Any = None
    max_value: Any = None
    samples: list[Any] = field(default_factory=list)  # a few real values, for review
    top_values: list[tuple[Any, int]] = field(default_factory=list)  # small domains only


@dataclass
class ObjectProfile:
    object: str
    count: int
    first_created: datetime | None = None
    last_created: datetime | None = None
    fields: dict[str, FieldProfile] = field(default_factory=dict)


@dataclass(frozen=True)
class ConnectionCheck:
    """The result of a connection test, for the wizard's Test button and `helpmig connect`."""

    ok: bool
    summary: str  # one line: what was reached, or why not
    details: tuple[str, ...] = ()  # driver, server version, counts, hints


@dataclass(frozen=True)
class RequestUsage:
    """What reading a remote source has cost so far (the audit reports it, the screen shows it)."""

    service: str  # e.g. "ITSM 365"
    requests: int  # requests sent, retries included
    planned: int | None = None  # what the connector expects its reads to need in all, when it can say
    throttled: int = 0  # answers that asked to slow down (429) or were unavailable (503)
    waited: float = 0.0  # seconds waited because of them


class SourceError(Exception):
    """A source cannot be read at all (unreachable, rejected credentials, missing driver).

    `hint` says what the operator can do about it. Never carries a secret.
    """

    def __init__(self, message: str, *, hint: str = "", code: str = "source.error") -> None:
        super().__init__(message)
        self.hint = hint
        self.code = code


SMALL_DOMAIN = 50  # fields with at most this many distinct values get top_values
SAMPLE_VALUES = 5


class Source(ABC):
    """A helpdesk to migrate from. Read-only, streaming, constant memory."""

    platform: ClassVar[str]  # "smartertrack", "trackit", "itsm365", "infraon", "smart-export"
    capabilities: ClassVar[Capability] = Capability.NONE

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        # set by whoever shows progress: long waits and reads are told in one line each
        self.activity: Callable[[str], None] | None = None

    @classmethod
    @abstractmethod
    def from_options(cls, options: Mapping[str, Any], secret: Callable[[str], str | None]) -> Source:
        """Build the connector from a project's recorded options (never secrets) and a
        lookup that returns a secret by name (e.g. "sql_password") or None."""

    def report(self, finding: Finding) -> None:
        """Record a problem met while reading; the audit and the reports pick it up."""
        self.findings.append(finding)

    def tell(self, text: str) -> None:
        """Say what is happening (a wait for a rate limit, a long read) to whoever listens."""
        if self.activity is not None:
            self.activity(text)

    def request_usage(self) -> RequestUsage | None:
        """Requests made so far, for sources read over a network; None for the others."""
        return None

    @abstractmethod
    def check(self) -> ConnectionCheck:
        """Reach the source and say what was found, without reading records."""

    @abstractmethod
    def describe(self) -> SourceSchema:
        """The objects this source holds, with fields, types and counts."""

    @abstractmethod
    def iter_records(
        self, object: str, since: datetime | None = None, batch_size: int = 500
    ) -> Iterator[list[Record]]:
        """Stream an object's records in batches, oldest first, in constant memory.

        With `since`, only records created or changed at or after it (needs
        DELTA_UPDATED_AT; otherwise the engine compares content hashes).
        """

    def iter_records_after(
        self, object: str, after: str, since: datetime | None = None, batch_size: int = 500
    ) -> Iterator[list[Record]]:
        """`iter_records`, starting after the record keyed `after` in the same order,
        without reading what comes before (RESUME_AFTER_KEY; keyset reads seek)."""
        raise NotImplementedError(f"{type(self).__name__} cannot start a read after a key")

    def children(self, object: str, parent_keys: Sequence[str]) -> dict[str, list[Record]]:
        """Child records (parts) of a batch of parents, each list in time order."""
        wanted = set(parent_keys)
        grouped: dict[str, list[Record]] = {key: [] for key in parent_keys}
        for batch in self.iter_records(object):
            for record in batch:
                if record.parent_key in wanted:
                    grouped[record.parent_key].append(record)
        return grouped

    def get(self, object: str, keys: Sequence[str]) -> list[Record]:
        """Records by key (validation reads a sample back from the source)."""
        wanted = set(keys)
        found: list[Record] = []
        for batch in self.iter_records(object):
            found.extend(record for record in batch if record.key in wanted)
        return found

    def attachments(self, object: str, record: Record) -> list[AttachmentRef]:
        """Files that belong to a record; empty when the platform has none."""
        return []

    def skipped(self, object: str, batch_size: int = 500) -> Iterator[tuple[str, list[Skipped]]]:
        """(reason, batch) for the records the default read leaves out on purpose (deleted,
        spam, draft, private, the messages of a skipped ticket): the engine counts and lists
        them as skipped, so what the source holds adds up. None by default."""
        return iter(())

    def time_zone(self) -> TimeZoneUse | None:
        """The zone this source reads its zone-less times in, for sources that store such
        times and read them in a zone the operator may leave unset (then the machine's is
        assumed, and the audit says so as a blocker). None: no such times, or a zone that
        is a connector option with a declared default."""
        return None

    def skipped_attachments(self, object: str) -> Iterator[tuple[str, AttachmentRef]]:
        """(reason, file) for the files of an object's records the read leaves out on purpose
        (flagged deleted at the source), so the audit can name them. None by default."""
        return iter(())

    def profile(self, object: str) -> ObjectProfile:
        """Counts, date range and per-field statistics, streaming (constant memory).

        SQL connectors override this to push the aggregates down to the database.
        """
        spec = self.describe().object(object)
        return profile_records(spec, self.iter_records(object))

    # Audit primitives. The defaults stream; SQL connectors push them down as
    # GROUP BY / anti-join queries so a million-row source is checked in flat memory.

    def duplicate_values(
        self, object: str, field: str, *, casefold: bool = True, sample: int = 5
    ) -> list[tuple[str, int, tuple[str, ...]]]:
        """Values held by more than one record: (value, how many, a few keys)."""
        seen: dict[str, list[Any]] = {}
        for batch in self.iter_records(object):
            for record in batch:
                value = record.data.get(field)
                if value is None or value == "":
                    continue
                norm = str(value).strip()
                norm = norm.casefold() if casefold else norm
                entry = seen.setdefault(norm, [0, []])
                entry[0] += 1
                if len(entry[1]) < sample:
                    entry[1].append(record.key)
        return sorted(
            ((value, count, tuple(keys)) for value, (count, keys) in seen.items() if count > 1),
            key=lambda row: (-row[1], row[0]),
        )

    def orphan_keys(self, object: str, field: str, target: str, *, sample: int = 20) -> tuple[int, tuple[str, ...]]:
        """Records whose `field` names a `target` record that does not exist: (count, a few keys)."""
        existing: set[str] = set()
        for batch in self.iter_records(target):
            existing.update(record.key for record in batch)
        count, keys = 0, []
        for batch in self.iter_records(object):
            for record in batch:
                value = record.data.get(field) if field != "parent" else record.parent_key
                if (value is None or value == "") and field != "parent":
                    continue  # no reference is not a broken one; but a part with no parent has nowhere to go
                if value is None or str(value) not in existing:
                    count += 1
                    if len(keys) < sample:
                        keys.append(record.key)
        return count, tuple(keys)

    def child_counts(self, child: str, *, over: int = 0) -> dict[str, int]:
        """How many `child` records each parent has, for parents with more than `over`
        (parents with none are absent). SQL connectors answer with GROUP BY ... HAVING."""
        counts: dict[str, int] = {}
        for batch in self.iter_records(child):
            for record in batch:
                if record.parent_key is not None:
                    counts[record.parent_key] = counts.get(record.parent_key, 0) + 1
        return {key: n for key, n in counts.items() if n > over}

    def childless_keys(self, parent: str, child: str, *, sample: int = 20) -> tuple[int, tuple[str, ...]]:
        """Parents with no `child` record at all: (count, a few keys)."""
        with_children: set[str] = set()
        for batch in self.iter_records(child):
            with_children.update(record.parent_key for record in batch if record.parent_key is not None)
        count, keys = 0, []
        for batch in self.iter_records(parent):
            for record in batch:
                if record.key not in with_children:
                    count += 1
                    if len(keys) < sample:
                        keys.append(record.key)
        return count, tuple(keys)

    def iter_attachments(self, object: str) -> Iterator[AttachmentRef]:
        """Every attachment of an object's records, in one pass (the audit's view).

        The default asks per record; SQL connectors answer with one query.
        """
        for batch in self.iter_records(object):
            for record in batch:
                yield from self.attachments(object, record)

    def prepare(self) -> None:
        """Connect and learn the layout ahead of the first read, so that a run can do it
        while it waits on other work (its start-up requests); reading does it anyway when
        this was not called. Errors are the reads' own (SourceError)."""

    def close(self) -> None:
        """Release connections and files."""

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def domain_value(value: Any) -> Any:
    """A value as a key of a profile's top values: plain values as they are, dates and
    decimals as their text (what the samples show), anything else by its repr."""
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value) if isinstance(value, (datetime, date, Decimal)) else repr(value)


class _Distinct:
    """Counts distinct values until the domain stops being small."""

    def __init__(self) -> None:
        self.counts: dict[Any, int] = {}
        self.overflow = False

    def add(self, value: Any) -> None:
        if self.overflow:
            return
        hashable = domain_value(value)
        self.counts[hashable] = self.counts.get(hashable, 0) + 1
        if len(self.counts) > SMALL_DOMAIN:
            self.overflow = True
            self.counts.clear()


def _length(value: Any) -> int | None:
    return len(value) if isinstance(value, str) else None


def profile_records(spec: ObjectSpec, batches: Iterator[list[Record]]) -> ObjectProfile:
    """Profile an object by streaming its records; memory is bounded by SMALL_DOMAIN."""
    result = ObjectProfile(object=spec.name, count=0)
    fields = {f.name: FieldProfile(name=f.name) for f in spec.fields}
    distinct = {name: _Distinct() for name in fields}
    for batch in batches:
        for record in batch:
            result.count += 1
            created = record.data.get(spec.created_field) if spec.created_field else None
            if isinstance(created, datetime):
                if result.first_created is None or created < result.first_created:
                    result.first_created = created
                if result.last_created is None or created > result.last_created:
                    result.last_created = created
            for name, prof in fields.items():
                value = record.data.get(name)
                if value is None or value == "" or value == []:
                    continue
                prof.filled += 1
                length = _length(value)
                if length is not None and (prof.max_length is None or length > prof.max_length):
                    prof.max_length = length
                if isinstance(value, (int, float, datetime)) and not isinstance(value, bool):
                    if prof.min_value is None or value < prof.min_value:
                        prof.min_value = value
                    if prof.max_value is None or value > prof.max_value:
                        prof.max_value = value
                if len(prof.samples) < SAMPLE_VALUES and value not in prof.samples:
                    prof.samples.append(value)
                distinct[name].add(value)
    for name, prof in fields.items():
        counter = distinct[name]
        if not counter.overflow:
            prof.distinct = len(counter.counts)
            prof.top_values = sorted(counter.counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:SMALL_DOMAIN]
    result.fields = fields
    return result
