"""The demo cycle "Safer Streets 2027" in the fictional city of Riverton."""
from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass, field

from sqlalchemy import select

from pbvote.audit.chain import canonical_json
from pbvote.infra.db import utcnow
from pbvote.infra.extensions import db
from pbvote.models import (
    AccessCode,
    ContentTranslation,
    Cycle,
    District,
    Participation,
    Phase,
    Project,
    RollEntry,
)
from pbvote.rules import eligibility
from pbvote.services import demo_content, demo_images, demo_map, log
from pbvote.services.roll import RollPerson, add_roll_entry, issue_access_codes
from pbvote.services.setup import store_manifest
from pbvote.services.voting import access_code_hash, roll_match_hashes

DEMO_SLUG = "safer-streets-2027"
#: a newcomer on no roll can try declaring online (off only where a test needs an older schema)
DEMO_SELF_DECLARATION = True

# (slug, name, budget, ballot settings, tally rule, tally params, postcode, projects)
DISTRICTS = [
    ("northbank", "Northbank", 400_000,
     {"ballot_kind": "knapsack", "min_spend_percent": 25},
     "equalshares/add1", {}, "55101", [
         ("NB-1", "LED street lighting on Harbor Avenue", "street_lighting", 120_000,
          "Replace 48 dim sodium lamps between 1st and 9th Street with LED lights.",
          "Harbor Avenue, 1st to 9th Street"),
         ("NB-2", "Friday and Saturday evening hours at Northbank Youth Centre", "youth_spaces",
          85_000, "Keep the youth centre open until 11 pm on weekends for a year, with two staff.",
          "Northbank Youth Centre, 12 Elm Row"),
         ("NB-3", "Raised crosswalks at Lincoln Elementary", "safe_routes", 95_000,
          "Three raised crosswalks and flashing beacons on the school's walking routes.",
          "Around Lincoln Elementary School"),
         ("NB-4", "Lighting and help points in Mill Pond Park", "parks", 140_000,
          "Path lighting and two emergency help points along the park loop.",
          "Mill Pond Park"),
         ("NB-5", "Violence-interruption outreach team", "community_programmes", 160_000,
          "Two trained outreach workers for one year who mediate conflicts before they "
          "escalate.", "Northbank, city-wide within the district"),
     ]),
    ("old-town", "Old Town", 300_000,
     {"ballot_kind": "approval", "max_choices": 3},
     "greedy", {}, "55102", [
         ("OT-1", "Traffic calming on Market Street", "traffic_calming", 110_000,
          "Speed cushions and curb extensions on the busiest shopping street.",
          "Market Street, Bridge Road to Church Lane"),
         ("OT-2", "Safe walking route to Jefferson Middle School", "safe_routes", 60_000,
          "New signage, a signalised crossing and a crossing guard for one school year.",
          "Jefferson Middle School area"),
         ("OT-3", "Lighting the riverside path", "street_lighting", 130_000,
          "Low-glare lighting along 1.2 km of the riverside footpath.",
          "Riverside path, Old Mill to Town Quay"),
         ("OT-4", "Block-party and neighbour-watch mini-grants", "community_programmes", 40_000,
          "Forty small grants for neighbours to organise events and watch schemes.",
          "All of Old Town"),
     ]),
    ("eastside", "Eastside", 350_000,
     {"ballot_kind": "ranked", "max_choices": 3},
     "greedy", {"scoring_fn": "borda"}, "55103", [
         ("ES-1", "Safe Passage outreach workers", "community_programmes", 180_000,
          "Trusted adults on the routes to and from school and the rec centre, afternoons "
          "and evenings, for one year.", "Eastside school routes"),
         ("ES-2", "Late-night basketball and mentoring", "youth_spaces", 70_000,
          "Friday-night league with mentors at the Eastside Rec Center.",
          "Eastside Rec Center"),
         ("ES-3", "Pedestrian signals on Route 9", "traffic_calming", 150_000,
          "Two new pedestrian signals and high-visibility crosswalks.",
          "Route 9 at Oak Street and at Pine Street"),
         ("ES-4", "Solar lighting for the Greenway underpass", "street_lighting", 90_000,
          "Bright, vandal-resistant solar lights in the underpass and its approaches.",
          "Greenway underpass below the rail line"),
         ("ES-5", "Clean and green four vacant lots", "parks", 75_000,
          "Clear, fence and plant four vacant lots; greening is linked to less gun violence.",
          "Lots on Cedar, Walnut and 14th Street"),
     ]),
]

#: Spanish titles of the demo projects (staff enter these on a project's Translations page)
SPANISH_TITLES = {
    "NB-1": "Alumbrado LED en Harbor Avenue",
    "NB-2": "Horario de viernes y sábado por la noche en el Centro Juvenil de Northbank",
    "NB-3": "Pasos peatonales elevados en la Escuela Primaria Lincoln",
    "NB-4": "Alumbrado y puntos de ayuda en el parque Mill Pond",
    "NB-5": "Equipo de intervención comunitaria contra la violencia",
    "OT-1": "Reducción del tráfico en Market Street",
    "OT-2": "Ruta segura a pie a la Escuela Secundaria Jefferson",
    "OT-3": "Alumbrado del sendero junto al río",
    "OT-4": "Microsubvenciones para fiestas de cuadra y vigilancia vecinal",
    "ES-1": "Acompañantes de Camino Seguro",
    "ES-2": "Baloncesto nocturno y mentorías",
    "ES-3": "Semáforos peatonales en la Ruta 9",
    "ES-4": "Alumbrado solar para el paso inferior del Greenway",
    "ES-5": "Limpiar y reverdecer cuatro solares vacíos",
}

LAST_NAMES = ["Garcia", "Nguyen", "Okafor", "Smith", "Kowalski", "O'Brien", "Haddad", "Chen",
              "Johnson", "Rossi", "Müller", "Dubois", "Patel", "Kim", "Hernández", "Murphy",
              "Ivanova", "Mensah", "Silva", "Jean-Baptiste"]
ACCESS_CODES_PER_DISTRICT = 3


@dataclass
class DemoCredentials:
    roll_examples: list[dict] = field(default_factory=list)
    access_codes: dict[str, list[str]] = field(default_factory=dict)
    #: the first printed resident's mailed code, which votes as that roll entry
    roll_letter: dict = field(default_factory=dict)

    def as_text(self) -> str:
        lines = ["Demo voter-roll residents (last name; date of birth; postcode; roll number):"]
        for person in self.roll_examples:
            lines.append(f"  {person['district']:<9} {person['last_name']}; "
                         f"{person['birth_date']}; "
                         f"{person['postcode']}; {person['roll_number']}")
        if self.roll_letter:
            lines.append(f"Access code mailed to {self.roll_letter['roll_number']} "
                         f"({self.roll_letter['district']}): {self.roll_letter['code']} "
                         "(it votes as that resident: the code or the roll details, once)")
        lines.append("Unused access codes for people not on the roll (one vote each):")
        for district, codes in self.access_codes.items():
            lines.append(f"  {district:<9} " + "  ".join(codes))
        return "\n".join(lines)


def add_demo_translations(cycle: Cycle) -> None:
    """The cycle's description and its projects' texts in Spanish and Chinese."""
    rows = [ContentTranslation(object_type="cycle", object_id=cycle.id, locale=locale,
                               field="description", text=text)
            for locale, text in demo_content.CYCLE_DESCRIPTIONS.get(cycle.slug, {}).items()]
    for district in cycle.districts:
        for project in district.projects:
            texts = demo_content.project_texts(project.code, SPANISH_TITLES.get(project.code, ""))
            rows += [ContentTranslation(object_type="project", object_id=project.id,
                                        locale=locale, field=name, text=text)
                     for locale, fields in texts.items() for name, text in fields.items()
                     if text]
    db.session.add_all(rows)


def demo_exists() -> bool:
    return db.session.scalar(select(Cycle.id).where(Cycle.slug == DEMO_SLUG)) is not None


def seed_demo(voters: int = 50, now: dt.datetime | None = None,
              seed: int = 2027) -> DemoCredentials:
    """Create the demo cycle with voting open now, a roll of `voters` people and codes."""
    now = (now or utcnow()).replace(minute=0, second=0, microsecond=0)
    rng = random.Random(seed)
    chain = log.get_or_create_chain(log.chain_name_for_cycle(DEMO_SLUG))
    cycle = Cycle(
        slug=DEMO_SLUG, name="Safer Streets 2027", city_name="City of Riverton",
        description="Riverton sets aside $1,050,000 for community-safety projects chosen by "
                    "residents: lighting, youth spaces, safer crossings and violence prevention.",
        currency="USD", total_budget=sum(d[2] for d in DISTRICTS), timezone="America/Chicago",
        tie_break_seed="riverton-2027-public-draw", minimum_age=16, allowed_methods="roll,code",
        # a newcomer on no roll can try declaring online (the code is in /dev/outbox)
        online_self_declaration=DEMO_SELF_DECLARATION, chain_id=chain.id)
    day = dt.timedelta(days=1)
    windows = [("intake", -90, -60), ("review", -60, -14), ("voting", -14, 30),
               ("tally", 30, 37), ("published", 37, 400)]
    cycle.phases = [Phase(kind=k, starts_at=now + a * day, ends_at=now + b * day)
                    for k, a, b in windows]
    for position, (slug, name, budget, ballot, rule, params, _, projects) in enumerate(DISTRICTS):
        district = District(slug=slug, name=name, budget=budget, position=position,
                            tally_rule=rule, tally_params=canonical_json(params), **ballot)
        district.projects = [
            Project(cycle=cycle, code=code, title=title, category=category, cost=cost,
                    summary=summary,
                    description=summary, location=location, position=i,
                    image_name=demo_images.project_image(category))
            for i, (code, title, category, cost, summary, location) in enumerate(projects)
        ]
        cycle.districts.append(district)
    db.session.add(cycle)
    db.session.flush()
    add_demo_translations(cycle)
    demo_map.add_outlines(cycle)
    demo_map.place_projects(cycle)

    credentials = DemoCredentials()
    postcodes = {d[0]: d[6] for d in DISTRICTS}
    for number in range(1, voters + 1):
        district = cycle.districts[(number - 1) % len(cycle.districts)]
        person = RollPerson(
            last_name=rng.choice(LAST_NAMES),
            birth_date=dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 24000)),
            postcode=postcodes[district.slug], roll_number=f"R{number:06d}")
        entry = add_roll_entry(cycle, district, person)
        if number == 1:
            db.session.flush()
            credentials.roll_letter = {
                "district": district.slug, "roll_number": person.roll_number,
                "code": issue_access_codes(cycle, district, 1, roll_entry_id=entry.id)[0]}
        if number <= 6:
            credentials.roll_examples.append({
                "district": district.slug, "last_name": person.last_name,
                "birth_date": person.birth_date.isoformat(), "postcode": person.postcode,
                "roll_number": person.roll_number})
    db.session.flush()
    for district in cycle.districts:
        credentials.access_codes[district.slug] = issue_access_codes(
            cycle, district, ACCESS_CODES_PER_DISTRICT)
    log.record_action(chain.id, "cycle.created", "demo", {
        "cycle": cycle.slug, "roll_entries": voters,
        "access_codes": ACCESS_CODES_PER_DISTRICT * len(cycle.districts),
        "roll_letters": 1})
    # Voting is open by its dates: the demo was scheduled as a real cycle is, its manifest
    # frozen and logged.
    store_manifest(cycle)
    log.record_action(chain.id, "voting.opened", "demo", {
        "how": "by date", "cycle": cycle.slug, "manifest_hash": cycle.manifest_hash})
    db.session.flush()
    return credentials


_CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
_ROLL_LINE = re.compile(r"^  \S+ +(?P<last>[^;]+); (?P<born>\d{4}-\d\d-\d\d); [^;]+; "
                        r"(?P<roll>R\d+)$")


def credentials_with_status(text: str) -> str:
    """The saved credentials with every code used or voided and every resident who voted
    since the demo was seeded marked so: a repeat of `./run serve` must not offer them."""
    cycle = db.session.scalar(select(Cycle).where(Cycle.slug == DEMO_SLUG))
    if cycle is None:
        return text
    voted = select(Participation.identity_hash).where(Participation.cycle_id == cycle.id)

    def code_status(match: re.Match) -> str:
        status = db.session.scalar(select(AccessCode.status).where(
            AccessCode.cycle_id == cycle.id,
            AccessCode.code_hash == access_code_hash(
                eligibility.normalise_access_code(match.group(0)))))
        if status == "used":
            return f"{match.group(0)} (used)"
        if status == "voided":
            return f"{match.group(0)} (void)"
        return match.group(0)

    lines = []
    for line in text.splitlines():
        if found := _ROLL_LINE.match(line):
            _, by_number = roll_match_hashes(found["last"], dt.date.fromisoformat(found["born"]),
                                             found["roll"])
            if db.session.scalar(select(RollEntry.id).where(
                    RollEntry.cycle_id == cycle.id, RollEntry.roll_number_match_hash == by_number,
                    RollEntry.identity_hash.in_(voted))) is not None:
                line += " (voted)"
        lines.append(_CODE.sub(code_status, line))
    return "\n".join(lines)
