"""Plausible help-desk text and people from a seeded generator: same seed, same desk."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

FIRST = (
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Elena",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Karin",
    "Luis",
    "Maya",
    "Nils",
    "Olga",
    "Pavel",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wim",
    "Xenia",
    "Yusuf",
    "Zoe",
    "Amir",
    "Bianca",
    "Chen",
    "Dana",
    "Emil",
    "Fatima",
    "Georg",
    "Hana",
    "Ivan",
    "Julia",
)
LAST = (
    "Berg",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Larsen",
    "Meier",
    "Novak",
    "Olsen",
    "Petrov",
    "Quist",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Urban",
    "Varga",
    "Weber",
    "Xu",
    "Young",
    "Zeller",
    "Andersson",
    "Brown",
    "Clarke",
    "Diaz",
    "Evans",
)
COMPANY_A = (
    "North",
    "Blue",
    "Bright",
    "Silver",
    "Alpine",
    "Harbor",
    "Red",
    "Granite",
    "Summit",
    "Cedar",
    "Vertex",
    "Nova",
    "Atlas",
    "Pioneer",
    "Lumen",
    "Orbit",
)
COMPANY_B = (
    "Logistics",
    "Dental",
    "Systems",
    "Foods",
    "Builders",
    "Media",
    "Labs",
    "Partners",
    "Energy",
    "Clinic",
    "Freight",
    "Studios",
    "Retail",
    "Bank",
    "Analytics",
    "Hotels",
)
PROBLEMS = (
    "Printer does not print",
    "Cannot log in to the portal",
    "Invoice shows the wrong amount",
    "VPN disconnects every hour",
    "Password reset link expired",
    "Order not delivered",
    "Email bounces back",
    "Laptop is very slow",
    "License key rejected",
    "Refund request",
    "Need a new user account",
    "Report export fails",
    "Phone system drops calls",
    "Website shows error 500",
    "Cannot attach files",
    "Upgrade question",
)
SENTENCES = (
    "Thanks for getting back to me.",
    "I tried restarting but nothing changed.",
    "Could you please have a look today?",
    "We have restarted the service on our side.",
    "Please try again and let us know.",
    "The issue started after the last update.",
    "I attached a screenshot of the error.",
    "This affects the whole team.",
    "We are escalating this to the second line.",
    "The problem is solved now, thank you.",
    "Can you confirm the account number?",
    "I will close this ticket if we do not hear back.",
)
WORDS = (
    "account",
    "billing",
    "network",
    "printer",
    "update",
    "license",
    "server",
    "mailbox",
    "invoice",
    "backup",
    "security",
    "mobile",
    "setup",
    "upgrade",
    "refund",
    "delivery",
)


class Fake:
    """Deterministic names, addresses, sentences and dates."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def pick(self, items: tuple | list) -> object:
        return items[self.rng.randrange(len(items))]

    def person(self) -> tuple[str, str]:
        return str(self.pick(FIRST)), str(self.pick(LAST))

    def company(self, index: int) -> tuple[str, str]:
        """(name, domain); the index keeps names unique."""
        a, b = COMPANY_A[index % len(COMPANY_A)], COMPANY_B[(index // len(COMPANY_A)) % len(COMPANY_B)]
        suffix = "" if index < len(COMPANY_A) * len(COMPANY_B) else str(index)
        return f"{a} {b}{suffix}", f"{a.lower()}{b.lower()}{suffix}.example"

    def email(self, first: str, last: str, domain: str, number: int) -> str:
        return f"{first.lower()}.{last.lower()}{number}@{domain}"

    def subject(self) -> str:
        return str(self.pick(PROBLEMS))

    def paragraph(self, sentences: int = 3) -> str:
        return " ".join(str(self.pick(SENTENCES)) for _ in range(sentences))

    def html(self, text: str) -> str:
        return f"<html><body><p>{text}</p></body></html>"

    def when(self, start: datetime, end: datetime) -> datetime:
        span = int((end - start).total_seconds())
        return start + timedelta(seconds=self.rng.randrange(max(span, 1)))

    def later(self, moment: datetime, max_hours: int = 72) -> datetime:
        return moment + timedelta(minutes=self.rng.randrange(5, max_hours * 60))

    def hexname(self, length: int = 32) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(length))


def sql_time(value: datetime | None) -> str | None:
    """How the sample databases store a datetime (SQL Server's text form, no fraction)."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else None
