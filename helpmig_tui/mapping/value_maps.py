"""Value maps the proposer builds from the values the audit saw.

Status names become open/closed by their words, in the languages customers use
("Resolved", "Erledigt", "Cerrado" are closed; "Waiting on customer", "In Bearbeitung"
are open), priority names become Intercom's levels (none, low, medium, high, urgent) or,
for an attribute, lose their numbering and their spelling variants ("1-Critical" ->
"Critical"; "URGENT" and " urgent" -> "Urgent"), flags like "private" become internal
notes. Values are compared case-folded and trimmed. Values the rules cannot read (numeric
codes) are left out, so `apply_map` flags them instead of guessing.
"""

from __future__ import annotations

import re

from helpmig_tui.mapping.names import words
from helpmig_tui.mapping.transforms import ValueMap

CLOSED_WORDS = {
    "closed", "close", "resolved", "resolve", "completed", "complete", "done", "cancelled", "canceled",
    "rejected", "solved", "fixed", "finished", "archived", "declined", "withdrawn", "закрыт", "закрыто",
    "решен", "решено", "выполнено", "отменено",
    # German, French, Spanish, Italian, Portuguese, Dutch (accents folded)
    "geschlossen", "erledigt", "gelost", "geloest", "abgeschlossen", "storniert", "ferme", "resolu", "clos",
    "cloture", "termine", "annule", "cerrado", "resuelto", "finalizado", "cancelado", "chiuso", "risolto",
    "completato", "annullato", "fechado", "resolvido", "concluido", "encerrado", "gesloten", "opgelost",
    "afgehandeld", "voltooid", "geannuleerd",
}
OPEN_WORDS = {
    "open", "opened", "new", "registered", "progress", "inprogress", "pending", "waiting", "hold", "assigned",
    "active", "reopened", "escalated", "paused", "submitted", "accepted", "acknowledged", "working", "planned",
    "scheduled", "draft", "awaiting", "triage", "queued", "зарегистрировано", "открыт", "работе",
    "offen", "neu", "bearbeitung", "wartend", "zugewiesen", "ouvert", "nouveau", "cours", "attente", "assigne",
    "abierto", "nuevo", "progreso", "pendiente", "asignado", "aperto", "nuovo", "corso", "attesa", "assegnato",
    "aberto", "novo", "andamento", "pendente", "nieuw", "behandeling", "wachtend", "toegewezen",
}
TRUE_WORDS = {"true", "1", "yes", "y", "t", "on", "да", "ja", "j", "wahr", "oui", "vrai", "si", "sí", "sim",
              "verdadero", "vero", "verdadeiro", "waar", "checked"}
FALSE_WORDS = {"false", "0", "no", "n", "f", "off", "нет", "nein", "falsch", "non", "faux", "não", "nao", "falso",
               "nee", "onwaar", "unchecked"}
# Intercom's conversation priority levels, and the words that name each (accents folded).
PRIORITY_WORDS: dict[str, set[str]] = {
    "urgent": {"urgent", "critical", "crit", "emergency", "blocker", "highest", "immediate", "asap", "p1", "sev1",
               "kritisch", "dringend", "urgente", "critique", "critico", "critica", "kritiek", "spoed", "urgentissimo",
               "критический", "срочный", "критичный"},
    "high": {"high", "major", "important", "elevated", "p2", "sev2", "hoch", "haute", "haut", "alta", "alto", "hoog",
             "высокий"},
    "medium": {"medium", "normal", "moderate", "standard", "p3", "sev3", "mittel", "normale", "moyenne", "moyen",
               "media", "medio", "gemiddeld", "normaal", "средний", "обычный"},
    "low": {"low", "minor", "lowest", "trivial", "routine", "planning", "p4", "p5", "sev4", "niedrig", "gering",
            "basse", "bas", "faible", "baja", "bajo", "bassa", "basso", "baixa", "baixo", "laag", "низкий",
            "планирование"},
    "none": {"none", "keine", "aucune", "ninguna", "nessuna", "nenhuma", "geen"},
}
_NUMBERING = re.compile(r"^\s*(p|pri|sev)?\s*\d+\s*[-.:)_]\s*", re.IGNORECASE)


def _classify_state(value: str) -> str | None:
    tokens = set(words(value)) | set(value.strip().casefold().split())
    folded = value.strip().casefold()
    if folded in CLOSED_WORDS or tokens & CLOSED_WORDS:
        return "closed"
    if folded in OPEN_WORDS or tokens & OPEN_WORDS:
        return "open"
    return None


def state_map(values: list[str]) -> tuple[ValueMap | None, list[str]]:
    """open/closed for status values; the values no rule could read are returned too."""
    mapping: dict[str, str] = {}
    unknown = []
    for value in values:
        state = _classify_state(value)
        if state is None:
            unknown.append(value)
        else:
            mapping[value] = state
    return (ValueMap(mapping=mapping) if mapping else None), unknown


def canonical_spellings(values: list[str]) -> dict[str, str]:
    """Each value to one spelling of it: case, spaces and numbering aside ("1-Critical",
    "CRITICAL" and " critical" all read "Critical": a capitalised spelling, else the first
    seen; the values come most used first)."""
    groups: dict[str, list[str]] = {}
    for value in values:
        cleaned = _NUMBERING.sub("", value).strip()
        groups.setdefault(cleaned.casefold(), []).append(cleaned or value.strip())
    out = {}
    for value in values:
        cleaned = _NUMBERING.sub("", value).strip()
        spellings = groups[cleaned.casefold()]
        out[value] = min(spellings, key=lambda s: (not (s[:1].isupper() and not s.isupper()), spellings.index(s)))
    return out


def priority_map(values: list[str]) -> ValueMap | None:
    """Priority names without their numbering and spelling variants (for an attribute);
    None when nothing needs renaming."""
    mapping = canonical_spellings(values)
    if all(target == value for value, target in mapping.items()):
        return None
    return ValueMap(mapping=mapping)


def priority_level(value: str) -> str | None:
    """Intercom's level (none, low, medium, high, urgent) a priority name means, or None."""
    cleaned = _NUMBERING.sub("", value).strip().casefold()
    found = set(words(cleaned)) | set(cleaned.split()) | {cleaned, value.strip().casefold()}
    hits = [level for level, vocab in PRIORITY_WORDS.items() if found & vocab]
    return hits[0] if len(hits) == 1 else None


def priority_level_map(values: list[str]) -> tuple[ValueMap | None, list[str]]:
    """Priority names to Intercom's levels; the values no rule could read are returned too."""
    mapping: dict[str, str] = {}
    unknown = []
    for value in values:
        level = priority_level(value)
        if level is None:
            unknown.append(value)
        else:
            mapping[value] = level
    return (ValueMap(mapping=mapping) if mapping else None), unknown


def flag_map(values: list[str], when_true: str | None, when_false: str | None) -> ValueMap | None:
    """Yes/no values to two targets; None unless every value reads as yes or no."""
    mapping: dict[str, str] = {}
    for value in values:
        folded = value.strip().casefold()
        if folded in TRUE_WORDS:
            mapping[value] = when_true or ""
        elif folded in FALSE_WORDS:
            mapping[value] = when_false or ""
        else:
            return None
    return ValueMap(mapping=mapping) if mapping else None


DIRECTION_WORDS = {
    "customer": {"customer", "client", "inbound", "incoming", "in", "requester", "requestor", "user", "contact", "received",
                 "kunde", "cliente", "klant", "eingehend", "entrant", "entrante", "recebido"},
    "agent": {"agent", "technician", "outbound", "outgoing", "out", "staff", "reply", "sent", "operator", "admin",
              "techniker", "technicien", "tecnico", "ausgehend", "sortant", "saliente", "antwort", "reponse", "respuesta"},
    "note": {"note", "private", "internal", "comment", "worknote", "notiz", "intern", "interne", "nota", "interno",
             "notitie", "privat", "prive", "privado"},
}


def visibility_readable(value: object) -> bool:
    """Whether a part's visibility value says something for certain: a boolean, a yes/no word
    or a direction word. Anything else loads the part as an internal note (apply.py)."""
    if isinstance(value, bool):
        return True
    if value is None or isinstance(value, (list, dict)):
        return False
    text = str(value).strip().casefold()
    if not text:
        return False
    if text in TRUE_WORDS or text in FALSE_WORDS:
        return True
    tokens = set(words(text))
    return sum(1 for vocab in DIRECTION_WORDS.values() if tokens & vocab) == 1


def direction_map(values: list[str]) -> ValueMap | None:
    """customer / agent / note from words such as Inbound, Outbound, Private note."""
    mapping: dict[str, str] = {}
    for value in values:
        tokens = set(words(value))
        hits = [d for d, vocab in DIRECTION_WORDS.items() if tokens & vocab]
        if len(hits) != 1:
            return None
        mapping[value] = hits[0]
    return ValueMap(mapping=mapping) if mapping else None


def article_state_map(field_words: list[str], values: list[str]) -> ValueMap | None:
    """published / draft from IsDraft / IsPublic flags or Published / Draft names."""
    if "draft" in field_words:
        return flag_map(values, "draft", "published")
    if {"public", "published", "visible", "active"} & set(field_words):
        by_flag = flag_map(values, "published", "draft")
        if by_flag:
            return by_flag
    mapping: dict[str, str] = {}
    for value in values:
        tokens = set(words(value))
        if tokens & {"published", "public", "live", "approved", "active"}:
            mapping[value] = "published"
        elif tokens & {"draft", "review", "archived", "private", "hidden", "inactive", "pending"}:
            mapping[value] = "draft"
        else:
            return None
    return ValueMap(mapping=mapping) if mapping else None
