"""The words helpdesks use for each standard Intercom field, and how well a name matches.

A source field name is split into words (DateOpenedUtc -> date, opened, utc), noise words
and platform prefixes are dropped (cf_, st_, ti_, utc, the __c suffix), and each synonym
phrase of each standard field is checked against what is left. Words match on a shared
stem of four letters or more, so "descript" finds "description" and "respons" finds
"responsible".
"""

from __future__ import annotations

from dataclasses import dataclass

from helpmig_tui.mapping.names import words
from helpmig_tui.mapping.standard import TargetKind

K = TargetKind

# Dropped before matching: platform and custom-field prefixes, suffixes, filler words.
NOISE = {
    "cf", "st", "ti", "itsm", "infraon", "smart", "custom", "udf", "fld", "field", "c", "utc", "the", "of",
    "is", "tbl", "x", "dt", "val", "value", "e",
}
# Words that say "this is a key into another object".
KEY_WORDS = {"id", "uuid", "key", "guid", "fk", "no", "ref"}

# standard field -> synonym phrases (space-separated words), strongest first
SYNONYMS: dict[TargetKind, dict[str, tuple[str, ...]]] = {
    K.CONVERSATION: {
        "title": ("subject", "title", "summary", "task", "short descr", "shortdescr", "topic", "heading",
                  "initial question", "headline"),
        "body": ("description", "descript", "body", "details", "content", "message", "problem description",
                 "question", "text", "issue"),
        "created_at": ("created", "creation", "opened", "open date", "reqdate", "request date", "date opened",
                       "date created", "received", "submitted", "registered", "logged", "reported", "start",
                       "started", "raised", "create time", "creation time", "opened on", "created on"),
        "contact": ("requester", "requestor", "customer", "client", "caller", "reporter", "end user", "contact",
                    "request", "user customer", "customer user", "raised by", "submitter", "from"),
        "assignee": ("assignee", "assigned", "responsible", "respons", "technician", "agent", "owner",
                     "handler", "tech", "analyst", "assigned to", "resolver"),
        "team": ("team", "group", "department", "dept", "queue", "responsible team", "support group",
                 "assignment group"),
        "company": ("company", "organization", "organisation", "org", "ou", "account", "client ou", "customer company"),
        "state": ("status", "state", "stage", "ticket status", "workflow state"),
        "tags": ("tags", "tag", "labels", "keywords"),
    },
    K.PART: {
        "body": ("text", "body", "content", "comment", "message", "note", "description", "full text", "body html",
                 "note text", "reply"),
        "created_at": ("created", "date", "entered", "received", "submitted", "sent", "posted", "timestamp",
                       "creation", "time", "written", "added"),
        "author": ("author", "user", "from", "sender", "created by", "writer", "by", "posted by", "entered by",
                   "user from", "creator"),
        "direction": ("direction", "private", "internal", "is private", "public", "visibility", "inbound",
                      "outbound", "incoming"),
    },
    K.CONTACT: {
        "email": ("email", "mail", "e mail", "email address", "mail address"),
        "name": ("name", "full name", "display name", "fullname", "title", "fio", "contact name", "user name full"),
        "phone": ("phone", "mobile", "telephone", "tel", "cell", "phone number", "mobile phone"),
        "signed_up_at": ("created", "registered", "signup", "signed up", "date created", "join", "joined",
                         "creation", "created on"),
        "last_seen_at": ("last login", "last seen", "last active", "last access", "last logon", "date last login",
                         "last visit"),
        "avatar": ("avatar", "photo", "picture", "image"),
        "role": ("lead or user",),
        "unsubscribed_from_emails": ("unsubscribed", "opt out", "no email", "email opt out", "do not email"),
        "company": ("company", "organization", "organisation", "org", "ou", "account", "employer"),
        "owner": ("owner", "account manager", "account owner"),
    },
    K.COMPANY: {
        "name": ("name", "title", "company name", "organization name", "org name", "vendor name", "account name"),
        "website": ("website", "web", "domain", "url", "site", "homepage", "web site", "www"),
        "industry": ("industry", "sector", "vertical"),
        "plan": ("plan", "tier", "subscription", "package"),
        "size": ("size", "employees", "headcount", "employee count", "staff count"),
        "monthly_spend": ("spend", "monthly spend", "revenue", "mrr"),
        "remote_created_at": ("created", "creation", "date created", "created on", "since"),
    },
    K.ARTICLE: {
        "title": ("title", "subject", "headline", "name", "question"),
        "body": ("body", "content", "text", "article", "html", "answer", "solution"),
        "description": ("summary", "description", "excerpt", "abstract", "teaser"),
        "state": ("status", "state", "draft", "published", "public", "is public", "is draft", "visibility"),
        "collection": ("category", "folder", "section", "collection", "topic"),
        "author": ("author", "user", "created by", "owner", "writer"),
    },
    K.COLLECTION: {
        "name": ("name", "title", "category name", "category"),
        "description": ("description", "summary"),
        "parent": ("parent", "parent category", "category parent", "parent id"),
    },
    K.CUSTOM_OBJECT: {
        "external_created_at": ("created", "creation", "date created", "created on", "opened", "start", "creation time"),
        "external_updated_at": ("updated", "modified", "last update", "changed", "last modified", "modidate"),
    },
    K.ADMIN: {
        "email": ("email", "mail", "email address"),
        "name": ("name", "full name", "display name", "fullname", "title"),
    },
    K.TEAM: {"name": ("name", "title", "group name", "team name", "department name", "display name")},
    K.TAG: {"name": ("name", "tag", "label", "title")},
}

# Russian names (ITSM 365 attribute titles, Russian exports of SMART Service Desk), kept apart
# so that each language reads as a block; merged into SYNONYMS below.
RUSSIAN: dict[TargetKind, dict[str, tuple[str, ...]]] = {
    K.CONVERSATION: {
        "title": ("тема", "заголовок", "краткое описание", "наименование"),
        "body": ("описание", "текст", "подробное описание", "содержание", "сообщение"),
        "created_at": ("дата создания", "создана", "создано", "дата регистрации", "зарегистрирована",
                       "дата открытия", "открыта", "дата подачи"),
        "contact": ("заявитель", "инициатор", "клиент", "автор заявки", "контрагент", "контактное лицо"),
        "assignee": ("исполнитель", "ответственный", "специалист", "назначена", "назначено"),
        "team": ("группа", "отдел", "группа исполнителей", "команда", "очередь"),
        "company": ("организация", "компания", "подразделение клиента", "контрагент организация"),
        "state": ("статус", "состояние", "стадия"),
        "tags": ("теги", "метки", "ключевые слова"),
    },
    K.PART: {
        "body": ("текст", "комментарий", "сообщение", "содержание", "описание"),
        "created_at": ("дата", "создан", "создано", "время", "дата создания", "добавлен"),
        "author": ("автор", "пользователь", "отправитель", "создал"),
        "direction": ("приватный", "приватность", "скрытый", "внутренний", "служебный", "видимость", "публичный"),
    },
    K.CONTACT: {
        "email": ("электронная почта", "почта", "адрес почты", "эл почта"),
        "name": ("фио", "имя", "полное имя", "название"),
        "phone": ("телефон", "мобильный", "номер телефона"),
        "company": ("организация", "компания"),
    },
    K.COMPANY: {
        "name": ("название", "наименование", "организация", "имя"),
        "website": ("сайт", "домен", "веб сайт"),
    },
    K.ARTICLE: {
        "title": ("заголовок", "название", "тема", "вопрос"),
        "body": ("текст", "содержание", "ответ", "решение"),
        "description": ("аннотация", "краткое описание"),
        "state": ("опубликовано", "опубликована", "публичный", "статус"),
        "collection": ("категория", "раздел", "папка"),
    },
}
for _kind, _fields in RUSSIAN.items():
    for _std, _phrases in _fields.items():
        SYNONYMS[_kind][_std] = SYNONYMS[_kind].get(_std, ()) + _phrases

# Helpdesk columns that are no standard Intercom field but that exports name in every
# language (the SMART export's layout fields are recognised by these and the above).
COLUMN_WORDS: dict[str, tuple[str, ...]] = {
    "id": ("id", "number", "no", "num", "key", "номер", "ид", "идентификатор", "код"),
    "ticket": ("ticket", "request", "incident", "case", "заявка", "заявки", "обращение", "инцидент", "запрос"),
    "comment": ("comment", "note", "комментарий", "комментария", "сообщение"),
    "user": ("user", "пользователь", "сотрудник"),
    "organization": ("organization", "organisation", "org", "company", "организация", "компания"),
    "article": ("article", "solution", "статья", "решение"),
    "priority": ("priority", "приоритет", "срочность"),
    "category": ("category", "категория", "рубрика", "классификация"),
    "type": ("type", "kind", "тип", "вид"),
    "updated": ("updated", "modified", "changed", "last update", "изменена", "изменено", "обновлена", "дата изменения",
                "дата обновления"),
    "closed": ("closed", "resolved", "закрыта", "закрыто", "дата закрытия", "решена", "дата решения"),
    "channel": ("channel", "source", "канал", "источник", "способ обращения"),
    "role": ("role", "роль", "тип пользователя"),
    "active": ("active", "enabled", "активен", "активный", "действующий"),
    "login": ("login", "username", "account", "логин", "учетная запись"),
    "department": ("department", "dept", "отдел", "подразделение"),
    "file": ("file", "path", "файл", "путь"),
    "file name": ("file name", "filename", "имя файла", "название файла"),
    "html": ("html", "is html", "формат html"),
    "email": ("email", "e mail", "mail", "почта", "электронная почта", "адрес почты"),
    "name": ("name", "full name", "имя", "фио", "название", "наименование"),
    "domain": ("domain", "website", "домен", "сайт"),
    "summary": ("summary", "аннотация", "краткое описание"),
    "public": ("public", "published", "опубликовано", "публичный"),
}


@dataclass(frozen=True)
class NameMatch:
    field: str  # the standard field
    score: float  # 0..1
    phrase: str  # the synonym that matched

    def why(self, source: str) -> str:
        return f"the name {source!r} reads as {self.phrase!r}"


def meaningful(name: str, label: str = "") -> list[str]:
    """A field's words without noise (prefixes, utc, the __c suffix)."""
    tokens = [w for w in words(name) if w not in NOISE]
    if not tokens and label:
        tokens = [w for w in words(label) if w not in NOISE]
    return tokens or words(name)


def _same(a: str, b: str) -> bool:
    """One word is the other's abbreviation (descript, description), or both share a
    six-letter stem (registered, registration)."""
    if a == b:
        return True
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= 4 and long.startswith(short):
        return True
    return len(short) >= 6 and short[:6] == long[:6]


def phrase_score(tokens: list[str], phrase: str) -> float:
    """How well the field's words carry a synonym phrase: 0 when a phrase word is missing."""
    wanted = phrase.split()
    if not tokens or not all(any(_same(w, t) for t in tokens) for w in wanted):
        return 0.0
    used = sum(1 for t in tokens if any(_same(w, t) for w in wanted))
    rest = [t for t in tokens if not any(_same(w, t) for w in wanted) and t not in KEY_WORDS]
    cover = used / (used + len(rest))
    return 0.55 + 0.35 * cover


def name_matches(kind: TargetKind, name: str, label: str = "", *, subject: bool = False) -> list[NameMatch]:
    """Standard fields of `kind` the name could mean, best first (one per field).

    With `subject`, words that say how a reference is written (id, email, name) do not
    count against the match: requester_email is wholly about the requester."""
    tokens = subject_words(name) if subject else meaningful(name, label)
    best: dict[str, NameMatch] = {}
    for std, phrases in SYNONYMS.get(kind, {}).items():
        for rank, phrase in enumerate(phrases):
            score = phrase_score(tokens, phrase) - 0.004 * rank  # earlier synonyms are more typical
            if score > 0 and (std not in best or score > best[std].score):
                best[std] = NameMatch(std, round(score, 3), phrase)
    return sorted(best.values(), key=lambda m: (-m.score, m.field))


def is_key_name(name: str) -> bool:
    """True for names that end in a key word (UserIdCustomer, requester_id, client_uuid)."""
    tokens = words(name)
    return bool(tokens) and (tokens[-1] in KEY_WORDS or (len(tokens) > 1 and "id" in tokens[1:]))


def subject_words(name: str) -> list[str]:
    """Whom a field is about: requester_id -> [requester], client_ou_name -> [client, ou]."""
    return [t for t in meaningful(name) if t not in KEY_WORDS and t not in {"email", "name", "phone", "mail"}]
