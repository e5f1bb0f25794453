"""`mentorbot demo`: a small, believable organisation to try the bot with.

The people join and fill in their profiles through the engine itself, exactly
as if they had typed the commands in the local chat, so the demo exercises the
real paths and is safe to run twice (joining again changes nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from conversations.engine import Engine
from conversations.events import Actor, Command, InboundEvent


@dataclass(frozen=True)
class DemoPerson:
    user: str
    name: str
    role: str
    department: str
    level: int
    timezone: str
    languages: str
    offers: str = ""
    wants: str = ""
    goals: str = ""
    manager: str = ""
    capacity: int | None = None


PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson(
        "hana",
        "Hana Kobayashi",
        "mentor",
        "People",
        8,
        "Europe/London",
        "en,ja",
        "coaching, career planning, difficult conversations",
        capacity=2,
    ),
    DemoPerson(
        "marcus",
        "Marcus Okafor",
        "mentor",
        "Engineering",
        9,
        "Europe/Berlin",
        "en,de",
        "system design, technical leadership, hiring",
        capacity=3,
    ),
    DemoPerson(
        "ines",
        "Inês Carvalho",
        "mentor",
        "Engineering",
        7,
        "Europe/Lisbon",
        "pt,en",
        "python, code review, public speaking",
        manager="marcus",
        capacity=2,
    ),
    DemoPerson(
        "david",
        "David Levi",
        "both",
        "Product",
        7,
        "Asia/Jerusalem",
        "he,en",
        "product discovery, roadmaps",
        "executive presence, negotiation",
        "Move from senior PM to group PM within 18 months",
        capacity=1,
    ),
    DemoPerson(
        "priya",
        "Priya Raman",
        "mentor",
        "Data",
        8,
        "Asia/Kolkata",
        "en,hi,ta",
        "machine learning, statistics, stakeholder management",
        capacity=2,
    ),
    DemoPerson(
        "sofia",
        "Sofia Álvarez",
        "mentee",
        "Marketing",
        3,
        "Europe/Madrid",
        "es,en",
        wants="public speaking, storytelling, analytics",
        goals="Present our campaign results to the leadership team with confidence",
        manager="lena",
    ),
    DemoPerson(
        "lena",
        "Lena Fischer",
        "mentor",
        "Marketing",
        7,
        "Europe/Berlin",
        "de,en",
        "brand strategy, people management",
        capacity=2,
    ),
    DemoPerson(
        "tom",
        "Tom Becker",
        "mentee",
        "Engineering",
        2,
        "Europe/Berlin",
        "de,en",
        wants="system design, code review",
        goals="Own the design of a service end to end",
        manager="ines",
    ),
    DemoPerson(
        "aisha",
        "Aisha Bello",
        "mentee",
        "Finance",
        3,
        "Africa/Lagos",
        "en,yo",
        wants="financial modelling, negotiation, career planning",
        goals="Become a finance business partner for a product line",
    ),
    DemoPerson(
        "kenji",
        "Kenji Watanabe",
        "both",
        "Engineering",
        6,
        "Asia/Tokyo",
        "ja,en",
        "kubernetes, incident response",
        "technical leadership, public speaking",
        "Give my first conference talk",
        manager="marcus",
        capacity=1,
    ),
    DemoPerson(
        "olivia",
        "Olivia Brown",
        "mentee",
        "Sales",
        2,
        "America/New_York",
        "en",
        wants="negotiation, difficult conversations",
        goals="Close my first enterprise deal without my manager in the room",
        manager="carlos",
    ),
    DemoPerson(
        "carlos",
        "Carlos Mendes",
        "mentor",
        "Sales",
        8,
        "America/Sao_Paulo",
        "pt,es,en",
        "negotiation, enterprise sales, storytelling",
        capacity=3,
    ),
    DemoPerson(
        "mei",
        "Mei Chen",
        "mentee",
        "Design",
        3,
        "Asia/Singapore",
        "zh,en",
        wants="design leadership, product discovery",
        goals="Lead the design of our onboarding redesign",
    ),
    DemoPerson(
        "jonas",
        "Jonas Nilsson",
        "mentor",
        "Design",
        8,
        "Europe/Stockholm",
        "sv,en",
        "design leadership, user research, portfolio reviews",
        capacity=2,
    ),
    DemoPerson(
        "fatima",
        "Fatima Zahra",
        "mentee",
        "Data",
        2,
        "Africa/Casablanca",
        "ar,fr,en",
        wants="machine learning, python, statistics",
        goals="Ship a model to production this year",
        manager="priya",
    ),
    DemoPerson(
        "liam",
        "Liam O'Connor",
        "mentee",
        "Engineering",
        3,
        "Europe/Dublin",
        "en,ga",
        wants="technical leadership, hiring, system design",
        goals="Become a tech lead within a year",
        manager="marcus",
    ),
    DemoPerson(
        "noor",
        "Noor Haddad",
        "both",
        "People",
        5,
        "Asia/Dubai",
        "ar,en",
        "onboarding, employee relations",
        "coaching, data storytelling",
        "Build a coaching practice inside HR",
        manager="hana",
        capacity=1,
    ),
    DemoPerson(
        "emma",
        "Emma Dubois",
        "mentee",
        "Legal",
        3,
        "Europe/Paris",
        "fr,en",
        wants="negotiation, executive presence",
        goals="Lead contract negotiations alone",
    ),
    DemoPerson(
        "raj",
        "Raj Patel",
        "mentor",
        "Finance",
        9,
        "Europe/London",
        "en,gu",
        "financial modelling, executive presence, budgeting",
        capacity=2,
    ),
    DemoPerson(
        "ana",
        "Ana Kowalska",
        "mentee",
        "Customer Success",
        2,
        "Europe/Warsaw",
        "pl,en",
        wants="difficult conversations, career planning, analytics",
        goals="Move into account management",
    ),
    DemoPerson(
        "samuel",
        "Samuel Mensah",
        "both",
        "Engineering",
        5,
        "Africa/Accra",
        "en",
        "python, testing",
        "system design, kubernetes",
        "Grow into a senior engineer",
        manager="ines",
        capacity=1,
    ),
    DemoPerson(
        "yuki",
        "Yuki Sato",
        "mentee",
        "Product",
        2,
        "Asia/Tokyo",
        "ja,en",
        wants="product discovery, roadmaps, stakeholder management",
        goals="Own a product area end to end",
        manager="david",
    ),
    DemoPerson(
        "grace",
        "Grace Kim",
        "mentor",
        "Product",
        8,
        "America/Los_Angeles",
        "en,ko",
        "product strategy, stakeholder management, public speaking",
        capacity=2,
    ),
    DemoPerson(
        "mateo",
        "Mateo Rossi",
        "mentee",
        "Operations",
        3,
        "Europe/Rome",
        "it,en",
        wants="process improvement, people management",
        goals="Prepare to manage a team of five",
    ),
    DemoPerson(
        "zara",
        "Zara Ahmed",
        "mentee",
        "Engineering",
        1,
        "Asia/Karachi",
        "ur,en",
        wants="python, code review, career planning",
        goals="Find my feet as a new engineer",
        manager="ines",
    ),
    DemoPerson(
        "oliver",
        "Oliver Smith",
        "mentor",
        "Operations",
        7,
        "Australia/Sydney",
        "en",
        "process improvement, supply chain, people management",
        capacity=2,
    ),
    DemoPerson(
        "chloe",
        "Chloé Martin",
        "mentee",
        "People",
        2,
        "Europe/Paris",
        "fr,en",
        wants="coaching, employee relations",
        goals="Run performance conversations well",
        manager="hana",
    ),
    DemoPerson(
        "diego",
        "Diego Torres",
        "mentee",
        "Sales",
        4,
        "America/Mexico_City",
        "es,en",
        wants="enterprise sales, storytelling",
        goals="Double my pipeline this year",
        manager="carlos",
    ),
    DemoPerson(
        "elif",
        "Elif Yılmaz",
        "both",
        "Data",
        6,
        "Europe/Istanbul",
        "tr,en,de",
        "analytics, sql, data storytelling",
        "people management, executive presence",
        "Lead the analytics team",
        manager="priya",
        capacity=1,
    ),
    DemoPerson(
        "nathan",
        "Nathan Cohen",
        "mentee",
        "Finance",
        2,
        "America/Toronto",
        "en,fr",
        wants="budgeting, financial modelling",
        goals="Own the quarterly forecast",
        manager="raj",
    ),
)


def commands_for(person: DemoPerson) -> list[str]:
    """The command lines this person types to join and describe themselves."""
    settings = [
        f'department="{person.department}"',
        f"level={person.level}",
        f"timezone={person.timezone}",
        f"languages={person.languages}",
    ]
    if person.offers:
        settings.append(f'offers="{person.offers}"')
    if person.wants:
        settings.append(f'wants="{person.wants}"')
    if person.goals:
        settings.append(f'goals="{person.goals}"')
    if person.manager:
        settings.append(f"manager=@{person.manager}")
    if person.capacity is not None:
        settings.append(f"capacity={person.capacity}")
    return [f"/mentor join {person.role}", "/mentor profile set " + " ".join(settings)]


async def seed(engine: Engine, clock: Callable[[], datetime]) -> int:
    """Seed every demo person through the engine; returns how many people."""
    for person in PEOPLE:
        actor = Actor("local", person.user, person.name, timezone=person.timezone)
        for line in commands_for(person):
            await engine.handle(InboundEvent(actor, Command(line), {"user": person.user}), clock())
    return len(PEOPLE)
