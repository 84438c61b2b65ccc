"""The words helpdesks use for each standard Intercom field, and how well a name matches.

A source field name is split into words (DateOpenedUtc -> date, opened, utc; tkt_subj ->
tkt, subj; requestorid -> requestor, id), words run together are split on the words this
module knows, abbreviations and words in German, French, Spanish, Italian, Portuguese and
Dutch are read as the English word they mean (subj -> subject, Betreff -> subject,
Teléfono -> phone), noise is dropped (cf_, st_, utc, the __c suffix), and each synonym
phrase of each standard field is checked against what is left. Words match on a shared
stem of four letters or more, so "descript" finds "description". A prefix is a word like
any other: "Customer Phone" is about a phone, not a verdict that the customer covers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from helpmig_tui.mapping.names import words
from helpmig_tui.mapping.standard import TargetKind

K = TargetKind

# Dropped before matching: platform and custom-field prefixes, suffixes, filler words.
NOISE = {
    "cf", "st", "ti", "itsm", "infraon", "smart", "custom", "udf", "fld", "field", "c", "utc", "the", "of",
    "is", "tbl", "x", "val", "value", "e", "de", "del", "la", "le", "du", "des", "di", "da", "do", "van", "het",
    "der", "die", "das", "am", "on", "at", "el", "il", "en", "ticket", "tickets", "workorder", "incident",
}
# Words that say "this is a key into another object".
KEY_WORDS = {"id", "uuid", "key", "guid", "fk", "no", "ref"}

# Abbreviations, and words in German, French, Spanish, Italian, Portuguese and Dutch, with
# the English words they stand for (keys without accents: names are folded to ASCII first).
ABBREVIATIONS = {
    "tkt": "ticket", "tix": "ticket", "desc": "description", "descr": "description", "cust": "customer",
    "tel": "phone", "ph": "phone", "phn": "phone", "mob": "mobile", "org": "organization", "orgs": "organization",
    "dept": "department", "subj": "subject", "loc": "location", "src": "source", "tgt": "target", "dt": "date",
    "est": "estimated", "hrs": "hours", "res": "resolution", "resp": "response", "addr": "address",
    "cat": "category", "prio": "priority", "pri": "priority", "stat": "status", "sts": "status",
    "assgn": "assigned", "asgn": "assigned", "tech": "technician", "req": "requester", "usr": "user",
    "msg": "message", "cmt": "comment", "cmnt": "comment", "crtd": "created", "upd": "updated", "mod": "updated", "modified": "updated", "changed": "updated", "modidate": "updated",
    "clsd": "closed", "opnd": "opened", "flg": "flag", "cd": "code", "nm": "name", "fname": "firstname",
    "lname": "lastname", "num": "number", "nbr": "number", "nr": "number", "grp": "group", "emp": "employee",
    "mgr": "manager", "acct": "account", "ts": "timestamp", "qty": "quantity", "amt": "amount", "wo": "workorder",
    "cnt": "count", "pct": "percent", "mins": "minutes", "min": "minutes", "sec": "seconds", "mail": "email",
}
FOREIGN = {
    # German
    "betreff": "subject", "titel": "title", "thema": "subject", "beschreibung": "description",
    "problembeschreibung": "description", "kurzbeschreibung": "summary", "zusammenfassung": "summary",
    "nachricht": "message", "inhalt": "content", "kommentar": "comment", "kommentare": "comment",
    "bemerkung": "remark", "bemerkungen": "remark", "anmerkung": "remark", "notiz": "note", "notizen": "note",
    "kunde": "customer", "kunden": "customer", "anforderer": "requester", "antragsteller": "requester",
    "melder": "reporter", "ansprechpartner": "contact", "bearbeiter": "assignee", "zustandig": "responsible",
    "zustaendig": "responsible", "verantwortlich": "responsible", "techniker": "technician", "verfasser": "author",
    "autor": "author", "ersteller": "creator", "benutzer": "user", "gruppe": "group", "abteilung": "department",
    "firma": "company", "unternehmen": "company", "organisation": "organization", "zustand": "state",
    "prioritat": "priority", "prioritaet": "priority", "dringlichkeit": "urgency", "kategorie": "category",
    "erstellt": "created", "angelegt": "created", "eroffnet": "opened", "eroeffnet": "opened", "geoffnet": "opened",
    "erfasst": "registered", "gemeldet": "reported", "geschlossen": "closed", "abgeschlossen": "closed",
    "geandert": "updated", "geaendert": "updated", "aktualisiert": "updated", "datum": "date", "zeit": "time",
    "fallig": "due", "faellig": "due", "falligkeit": "due", "faelligkeit": "due", "falligkeitsdatum": "due date",
    "faelligkeitsdatum": "due date", "telefon": "phone", "telefonnummer": "phone", "handy": "mobile",
    "mobil": "mobile", "rufnummer": "phone", "ruckruf": "callback", "rueckruf": "callback", "nummer": "number",
    "standort": "location", "ort": "location", "kanal": "channel", "quelle": "source", "kostenstelle": "costcenter",
    "seriennummer": "serial number", "privat": "private", "intern": "internal", "richtung": "direction",
    "antwort": "reply", "vorname": "firstname", "nachname": "lastname", "familienname": "lastname",
    "anhang": "attachment", "schlagworte": "tags", "stichworte": "keywords", "geburtsdatum": "birth date",
    "webseite": "website", "internetseite": "website", "bis": "until",
    # French
    "sujet": "subject", "objet": "subject", "titre": "title", "resume": "summary", "texte": "text",
    "contenu": "content", "commentaire": "comment", "remarque": "remark", "remarques": "remark",
    "client": "customer", "demandeur": "requester", "auteur": "author", "technicien": "technician",
    "responsable": "responsible", "attribue": "assigned", "assigne": "assigned", "utilisateur": "user",
    "groupe": "group", "equipe": "team", "departement": "department", "entreprise": "company", "societe": "company",
    "organisme": "organization", "statut": "status", "etat": "state", "priorite": "priority", "urgence": "urgency",
    "categorie": "category", "cree": "created", "creation": "created", "ouvert": "opened", "ouverture": "opened",
    "ferme": "closed", "fermeture": "closed", "cloture": "closed", "modifie": "updated", "echeance": "due",
    "delai": "due", "telephone": "phone", "portable": "mobile", "numero": "number", "emplacement": "location",
    "lieu": "location", "canal": "channel", "origine": "source", "prive": "private", "interne": "internal",
    "reponse": "reply", "nom": "name", "prenom": "firstname", "courriel": "email", "adresse": "address",
    "naissance": "birth", "commande": "order",
    # Spanish
    "asunto": "subject", "titulo": "title", "tema": "subject", "resumen": "summary", "descripcion": "description",
    "texto": "text", "contenido": "content", "mensaje": "message", "comentario": "comment", "comentarios": "comment",
    "observaciones": "remark", "observacion": "remark", "nota": "note", "notas": "note", "cliente": "customer",
    "solicitante": "requester", "tecnico": "technician", "asignado": "assigned", "usuario": "user", "grupo": "group",
    "equipo": "team", "departamento": "department", "empresa": "company", "compania": "company",
    "organizacion": "organization", "estado": "status", "prioridad": "priority", "urgencia": "urgency",
    "categoria": "category", "creado": "created", "creacion": "created", "apertura": "opened", "abierto": "opened",
    "cerrado": "closed", "cierre": "closed", "modificado": "updated", "modificacion": "updated",
    "actualizado": "updated", "fecha": "date", "hora": "time", "limite": "due", "vencimiento": "due",
    "telefono": "phone", "movil": "mobile", "celular": "mobile", "ubicacion": "location", "sede": "location",
    "origen": "source", "fuente": "source", "privado": "private", "interno": "internal", "respuesta": "reply",
    "nombre": "name", "apellido": "lastname", "apellidos": "lastname", "correo": "email", "direccion": "address",
    "sitio": "site", "serie": "serial", "nacimiento": "birth", "cargo": "position", "puesto": "position",
    "pedido": "order", "contacto": "contact",
    # Italian
    "oggetto": "subject", "titolo": "title", "riepilogo": "summary", "descrizione": "description", "testo": "text",
    "contenuto": "content", "messaggio": "message", "commento": "comment", "richiedente": "requester",
    "autore": "author", "assegnato": "assigned", "incaricato": "assigned", "utente": "user", "gruppo": "group",
    "squadra": "team", "reparto": "department", "azienda": "company", "societa": "company",
    "organizzazione": "organization", "stato": "status", "priorita": "priority", "urgenza": "urgency",
    "creato": "created", "creazione": "created", "aperto": "opened", "chiuso": "closed", "chiusura": "closed",
    "modificato": "updated", "scadenza": "due", "cellulare": "mobile", "ubicazione": "location",
    "canale": "channel", "privato": "private", "risposta": "reply", "nome": "name", "cognome": "lastname",
    "indirizzo": "address", "servizio": "service", "contatto": "contact",
    # Portuguese
    "assunto": "subject", "resumo": "summary", "descricao": "description", "mensagem": "message",
    "observacao": "remark", "observacoes": "remark", "atribuido": "assigned", "responsavel": "responsible",
    "utilizador": "user", "equipa": "team", "setor": "department", "organizacao": "organization",
    "situacao": "status", "prioridade": "priority", "criado": "created", "criacao": "created", "aberto": "opened",
    "abertura": "opened", "fechado": "closed", "fechamento": "closed", "encerrado": "closed",
    "encerramento": "closed", "atualizado": "updated", "prazo": "due", "telefone": "phone",
    "localizacao": "location", "origem": "source", "sobrenome": "lastname", "endereco": "address",
    "faturavel": "billable", "contato": "contact",
    # Dutch
    "onderwerp": "subject", "samenvatting": "summary", "omschrijving": "description", "beschrijving": "description",
    "tekst": "text", "inhoud": "content", "bericht": "message", "opmerking": "remark", "opmerkingen": "remark",
    "notitie": "note", "notities": "note", "klant": "customer", "aanvrager": "requester", "behandelaar": "assignee",
    "toegewezen": "assigned", "verantwoordelijke": "responsible", "gebruiker": "user", "groep": "group",
    "afdeling": "department", "bedrijf": "company", "organisatie": "organization", "prioriteit": "priority",
    "urgentie": "urgency", "aangemaakt": "created", "gemaakt": "created", "geopend": "opened", "gesloten": "closed",
    "afgesloten": "closed", "gewijzigd": "updated", "bijgewerkt": "updated", "vervaldatum": "due date",
    "telefoon": "phone", "telefoonnummer": "phone", "mobiel": "mobile", "locatie": "location",
    "vestiging": "location", "kanaal": "channel", "bron": "source", "antwoord": "reply", "naam": "name",
    "voornaam": "firstname", "achternaam": "lastname", "adres": "address", "kostenplaats": "costcenter",
    "geboortedatum": "birth date",
}
TRANSLATE = {**FOREIGN, **ABBREVIATIONS}

# standard field -> synonym phrases (space-separated English words), strongest first
SYNONYMS: dict[TargetKind, dict[str, tuple[str, ...]]] = {
    K.CONVERSATION: {
        "title": ("subject", "title", "summary", "task", "short description", "topic", "heading",
                  "initial question", "headline", "subject line"),
        "body": ("description", "descript", "body", "details", "content", "message", "problem description",
                 "question", "text", "issue"),
        "created_at": ("created", "creation", "opened", "open date", "reqdate", "request date", "date opened",
                       "date created", "received", "submitted", "registered", "logged", "reported", "start",
                       "started", "raised", "create time", "creation time", "opened on", "created on"),
        "contact": ("requester", "requestor", "customer", "client", "caller", "reporter", "end user", "contact",
                    "request", "user customer", "customer user", "raised by", "submitter", "from"),
        "assignee": ("assignee", "assigned", "responsible", "respons", "technician", "agent", "owner",
                     "handler", "analyst", "assigned to", "resolver"),
        "team": ("team", "group", "department", "queue", "responsible team", "support group",
                 "assignment group"),
        "company": ("company", "organization", "organisation", "ou", "account", "client ou", "customer company"),
        "state": ("status", "state", "stage", "ticket status", "workflow state"),
        "priority": ("priority",),
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
        "phone": ("phone", "mobile", "telephone", "cell", "phone number", "mobile phone", "mobile number"),
        "signed_up_at": ("created", "registered", "signup", "signed up", "date created", "join", "joined",
                         "creation", "created on"),
        "last_seen_at": ("last login", "last seen", "last active", "last access", "last logon", "date last login",
                         "last visit"),
        "avatar": ("avatar", "photo", "picture", "image"),
        "role": ("lead or user",),
        "unsubscribed_from_emails": ("unsubscribed", "opt out", "no email", "email opt out", "do not email"),
        "company": ("company", "organization", "organisation", "ou", "account", "employer"),
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



# Words a name may run together that are not in the synonyms: what segmentation may split on.
COMMON = {
    "date", "time", "number", "code", "phone", "mail", "last", "first", "sync", "row", "hash", "version", "flag",
    "import", "batch", "legacy", "old", "temp", "tmp", "unused", "filler", "check", "sum", "checksum", "etag",
    "by", "to", "at", "on", "in", "out", "new", "due", "close", "closed", "open", "user", "name", "email", "type",
    "level", "work", "order", "note", "text", "full", "short", "long", "line", "login", "count", "total",
    "amount", "hours", "minutes", "location", "site", "source", "channel", "serial", "asset", "tag", "cost",
    "center", "centre", "vendor", "case", "ticket", "request", "resolution", "response", "target", "billable",
    "callback", "impact", "urgency", "category", "sla", "vip", "mobile", "office", "room", "job", "position",
}


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    known = set(COMMON) | set(TRANSLATE) | set(KEY_WORDS) | set(NOISE)
    for phrases in SYNONYMS.values():
        for group in phrases.values():
            for phrase in group:
                known.update(phrase.split())
    for english in TRANSLATE.values():
        known.update(english.split())
    return frozenset(w for w in known if len(w) >= 2)


@lru_cache(maxsize=4096)
def segment(token: str) -> tuple[str, ...]:
    """A token of words run together split on known words (requestorid -> requestor, id);
    the token itself when it is known or cannot be covered by known words."""
    known = _known()
    if token in known or len(token) < 5 or not token.isalpha():
        return (token,)
    best: list[tuple[str, ...] | None] = [None] * (len(token) + 1)
    best[0] = ()
    for end in range(2, len(token) + 1):
        for start in range(max(0, end - 20), end - 1):
            piece = token[start:end]
            head = best[start]
            if head is not None and piece in known and (best[end] is None or len(head) + 1 < len(best[end])):
                best[end] = (*head, piece)
    return best[-1] if best[-1] else (token,)


def tokens(name: str) -> list[str]:
    """A name's English words: split, run-together words separated, abbreviations and
    foreign words translated (tkt_subj -> ticket, subject; Fälligkeitsdatum -> due, date)."""
    out: list[str] = []
    for word in words(name):
        for piece in segment(word):
            out.extend(TRANSLATE.get(piece, piece).split())
    return out


def _known_share(found: list[str]) -> int:
    known = _known()
    return sum(1 for w in found if w in known)


@dataclass(frozen=True)
class NameMatch:
    field: str  # the standard field
    score: float  # 0..1
    phrase: str  # the synonym that matched

    def why(self, source: str) -> str:
        return f"the name {source!r} reads as {self.phrase!r}"


def meaningful(name: str, label: str = "") -> list[str]:
    """A field's words without noise (prefixes, utc, the __c suffix). The label is read
    instead of the name when it says more (a header "Geändert am" behind ge_ndert_am)."""
    own = tokens(name)
    if label and label != name:
        other = tokens(label)
        if _known_share(other) > _known_share(own):
            own = other
    kept = [w for w in own if w not in NOISE]
    return kept or own or words(name)


def _same(a: str, b: str) -> bool:
    """One word is the other's abbreviation (descript, description), or both share a
    six-letter stem (registered, registration)."""
    if a == b:
        return True
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= 4 and long.startswith(short):
        return True
    return len(short) >= 6 and short[:6] == long[:6]


def phrase_score(found: list[str], phrase: str, related: frozenset[str] = frozenset()) -> float:
    """How well the field's words carry a synonym phrase: 0 when a phrase word is missing.
    Words of the field's other synonyms (`related`) do not count against it: assigned_tech
    is wholly about the assignee."""
    wanted = phrase.split()
    if not found or not all(any(_same(w, t) for t in found) for w in wanted):
        return 0.0
    covers = [*wanted, *related]
    used = sum(1 for t in found if any(_same(w, t) for w in covers))
    rest = [t for t in found if not any(_same(w, t) for w in covers) and t not in KEY_WORDS]
    cover = used / (used + len(rest))
    return 0.55 + 0.35 * cover


# Words that do not count against a match: the object's own name on its fields ("Customer
# Phone" on a contact is its phone), and the date words of a date field ("DataCriacao").
SELF_WORDS = {
    K.CONTACT: {"customer", "contact", "user", "client", "requester", "person", "employee", "end"},
    K.ADMIN: {"agent", "technician", "user", "staff", "employee"},
    K.COMPANY: {"company", "organization", "account", "customer"},
    K.TEAM: {"team", "group"},
    K.ARTICLE: {"article", "kb", "solution"},
}
DATE_WORDS = {"date", "time", "timestamp", "data", "datum", "fecha", "on", "at", "op", "utc"}
DATED = {"created_at", "signed_up_at", "last_seen_at", "remote_created_at", "external_created_at", "external_updated_at"}


@lru_cache(maxsize=64)
def _related(kind: TargetKind, std: str) -> frozenset[str]:
    words_of = {w for phrase in SYNONYMS.get(kind, {}).get(std, ()) for w in phrase.split()}
    return frozenset(words_of | SELF_WORDS.get(kind, set()) | (DATE_WORDS if std in DATED else set()))


def name_matches(kind: TargetKind, name: str, label: str = "", *, subject: bool = False) -> list[NameMatch]:
    """Standard fields of `kind` the name could mean, best first (one per field).

    With `subject`, words that say how a reference is written (id, email, name) do not
    count against the match: requester_email is wholly about the requester."""
    found = subject_words(name, label) if subject else meaningful(name, label)
    best: dict[str, NameMatch] = {}
    for std, phrases in SYNONYMS.get(kind, {}).items():
        for rank, phrase in enumerate(phrases):
            score = phrase_score(found, phrase, _related(kind, std)) - 0.004 * rank  # earlier synonyms are more typical
            if score > 0 and (std not in best or score > best[std].score):
                best[std] = NameMatch(std, round(score, 3), phrase)
    return sorted(best.values(), key=lambda m: (-m.score, m.field))


def is_key_name(name: str, label: str = "") -> bool:
    """True for names that end in a key word (UserIdCustomer, requester_id, requestorid)."""
    found = [p for w in words(label if label and label != name else name) for p in segment(w)]
    return bool(found) and (found[-1] in KEY_WORDS or (len(found) > 1 and "id" in found[1:]))


# Words that say how a reference is written (its key, an email, a name), not what about.
REFERENCE_FORMS = {"email", "mail", "name", "fullname", "display", "login", "username", "full", "address"}


def subject_words(name: str, label: str = "") -> list[str]:
    """Whom a field is about: requester_id -> [requester], client_ou_name -> [client, ou];
    Customer Phone -> [customer, phone] (a phone is not a way to name the customer)."""
    return [t for t in meaningful(name, label) if t not in KEY_WORDS and t not in REFERENCE_FORMS]


def same_subject(a: list[str], b: list[str]) -> bool:
    """Two subjects name the same thing (requestor and requester alike)."""
    return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
