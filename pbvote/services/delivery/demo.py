"""The earlier demo cycle "Safer Streets 2026": voted, counted and published a year ago, its
funded projects now in various delivery states, with milestones, spend, generated photos,
outcome indicators and closed survey rounds, so a newcomer sees the whole loop at once.

Everything goes through the same services as the web (casting, the two-admin publication,
every delivery change), dated in the past, so the demo's chains verify like real ones."""
from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass

from sqlalchemy import select

from pbvote.audit.chain import canonical_json
from pbvote.infra.db import utcnow
from pbvote.infra.extensions import db
from pbvote.models import Account, ContentTranslation, Cycle, District, Phase, Project
from pbvote.services import log, publication, voting
from pbvote.services.delivery import outcomes, records, survey
from pbvote.services.roll import issue_access_codes
from pbvote.services.setup import store_manifest

SLUG = "safer-streets-2026"
# (slug, name, budget, projects: (code, title, cost, ballots naming it))
DISTRICTS = [
    ("northbank", "Northbank", 300_000, [
        ("N26-1", "LED lights on Canal Street", 90_000, 14),
        ("N26-2", "Youth centre summer nights", 60_000, 11),
        ("N26-3", "Help points at the ferry landing", 80_000, 9),
        ("N26-4", "Murals and lighting in the Elm Row tunnel", 100_000, 4),
    ]),
    ("old-town", "Old Town", 250_000, [
        ("O26-1", "Speed humps on School Lane", 70_000, 13),
        ("O26-2", "Neighbourhood mediation service", 90_000, 10),
        ("O26-3", "Lighting the market car park", 85_000, 8),
        ("O26-4", "Bike racks with CCTV at the station", 60_000, 3),
    ]),
    ("eastside", "Eastside", 280_000, [
        ("E26-1", "Violence-interruption pilot", 120_000, 15),
        ("E26-2", "Green and fence three vacant lots", 70_000, 12),
        ("E26-3", "Crossing guard on Route 9", 50_000, 7),
        ("E26-4", "Skate park lights", 90_000, 2),
    ]),
]
VOTERS_PER_DISTRICT = 16
DESCRIPTION = ("Last year's round: residents chose lighting, youth and street-safety "
               "projects. See what was delivered and whether streets feel safer.")
#: the cycle's texts in Spanish and Chinese, so the demo reads complete in every language
TRANSLATED_DESCRIPTION = {
    "es": "La ronda del año pasado: los residentes eligieron proyectos de alumbrado, juventud y "
          "seguridad vial. Vea qué se entregó y si las calles se sienten más seguras.",
    "zh_Hans": "去年的一轮：居民选择了照明、青少年和街道安全项目。查看已经完成的工作，"
               "以及街道是否让人感觉更安全。",
}
#: project code → (Spanish title, Chinese title); the demo's summary and description are the title
TRANSLATED_TITLES = {
    "N26-1": ("Luces LED en Canal Street", "运河街 LED 路灯"),
    "N26-2": ("Noches de verano en el centro juvenil", "青少年中心夏季夜间开放"),
    "N26-3": ("Puntos de ayuda en el muelle del ferri", "渡轮码头求助点"),
    "N26-4": ("Murales y alumbrado en el túnel de Elm Row", "榆树街隧道壁画与照明"),
    "O26-1": ("Reductores de velocidad en School Lane", "学校巷减速带"),
    "O26-2": ("Servicio de mediación vecinal", "邻里调解服务"),
    "O26-3": ("Alumbrado del aparcamiento del mercado", "市场停车场照明"),
    "O26-4": ("Aparcabicis con cámaras en la estación", "车站带监控的自行车停放架"),
    "E26-1": ("Programa piloto de interrupción de la violencia", "暴力干预试点项目"),
    "E26-2": ("Ajardinar y vallar tres solares vacíos", "三块空地绿化并加围栏"),
    "E26-3": ("Guardia de cruce en la Ruta 9", "9 号公路过街护导员"),
    "E26-4": ("Luces para el parque de patinaje", "滑板公园照明"),
}


@dataclass
class DemoActor:
    """An administrator account that exists only for the demo's own steps."""

    id: int
    label: str
    role: str = "admin"
    is_active: bool = True

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


def delivery_demo_exists() -> bool:
    return db.session.scalar(select(Cycle.id).where(Cycle.slug == SLUG)) is not None


def _photo(seed: int, hue: tuple[int, int, int]) -> io.BytesIO:
    """A generated picture (sky, street, lamps): no external file."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", (640, 400), (30, 40, 70))
    draw = ImageDraw.Draw(image)
    for y in range(240):
        shade = 30 + y // 4
        draw.line([(0, y), (640, y)], fill=(shade // 2, shade // 2 + 10, shade + 30))
    draw.rectangle([0, 260, 640, 400], fill=(70, 70, 75))
    draw.rectangle([0, 320, 640, 330], fill=(230, 230, 230))
    for x in range(60, 640, 140):
        draw.rectangle([x, 120, x + 6, 300], fill=(40, 40, 40))
        glow = rng.randint(180, 255)
        draw.ellipse([x - 18, 100, x + 24, 140], fill=(glow, glow, hue[2]))
        draw.polygon([(x - 40, 300), (x + 46, 300), (x + 3, 140)], fill=hue)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    out.seek(0)
    return out


def _cast(cycle: Cycle, moment: dt.datetime, rng: random.Random) -> None:
    for district in cycle.districts:
        plan = next(d for d in DISTRICTS if d[0] == district.slug)[3]
        codes = issue_access_codes(cycle, district, VOTERS_PER_DISTRICT)
        for number, code in enumerate(codes):
            chosen = [c for c, _t, _cost, votes in plan if number < votes][:3] or [plan[-1][0]]
            voter = voting.verify_by_code(cycle, district, code, now=moment)
            voting.cast_ballot(voter, tuple(chosen), now=moment)
            moment += dt.timedelta(minutes=rng.randint(1, 30))


def _residents(count: int) -> list[Account]:
    found = []
    for number in range(1, count + 1):
        email = f"resident{number:02d}@riverton.example"
        account = db.session.scalar(select(Account).where(Account.email == email))
        if account is None:
            account = Account(email=email, display_name=f"Demo resident {number}",
                              role="resident", is_active=True, failed_attempts=0,
                              totp_last_timecode=0)
            db.session.add(account)
            db.session.flush()
        found.append(account)
    return found


def seed_delivery_demo(now: dt.datetime | None = None) -> Cycle:
    now = (now or utcnow()).replace(minute=0, second=0, microsecond=0)
    rng = random.Random(2026)
    day = dt.timedelta(days=1)
    chain = log.get_or_create_chain(log.chain_name_for_cycle(SLUG))
    cycle = Cycle(
        slug=SLUG, name="Safer Streets 2026", city_name="City of Riverton",
        description=DESCRIPTION,
        currency="USD", total_budget=sum(d[2] for d in DISTRICTS), timezone="America/Chicago",
        tie_break_seed="riverton-2026-public-draw", minimum_age=16, allowed_methods="code",
        chain_id=chain.id)
    windows = [("intake", -470, -440), ("review", -440, -400), ("voting", -400, -386),
               ("tally", -386, -380), ("published", -380, 3000)]
    cycle.phases = [Phase(kind=k, starts_at=now + a * day, ends_at=now + b * day)
                    for k, a, b in windows]
    for position, (slug, name, budget, projects) in enumerate(DISTRICTS):
        district = District(slug=slug, name=name, budget=budget, position=position,
                            ballot_kind="approval", max_choices=3, tally_rule="greedy",
                            tally_params=canonical_json({}))
        district.projects = [Project(cycle=cycle, code=code, title=title, cost=cost, position=i,
                                     summary=title, description=title, location=name)
                             for i, (code, title, cost, _votes) in enumerate(projects)]
        cycle.districts.append(district)
    db.session.add(cycle)
    db.session.flush()
    _add_translations(cycle)
    log.record_action(chain.id, "cycle.created", "demo", {"cycle": cycle.slug})
    opened = now - 400 * day + dt.timedelta(hours=1)
    # scheduled as a real cycle is: the manifest frozen and logged when voting opened
    store_manifest(cycle)
    log.record_action(chain.id, "voting.opened", "demo", {
        "how": "by date", "cycle": cycle.slug, "manifest_hash": cycle.manifest_hash})
    _cast(cycle, opened, rng)
    first, second = DemoActor(-1, "demo admin A"), DemoActor(-2, "demo admin B")
    counted = now - 385 * day
    run = publication.run_tally(cycle, first, now=counted)
    publication.request_publication(cycle, run, first, now=counted)
    publication.confirm_publication(cycle, run, second, now=counted)
    records.open_delivery(cycle, first, now=now - 380 * day)
    plan = Plan(now, day)
    _deliver(plan, cycle, first)
    _outcomes(plan, cycle, first)
    _surveys(plan, cycle, first)
    plan.run()
    db.session.flush()
    return cycle


def _add_translations(cycle: Cycle) -> None:
    rows = [ContentTranslation(object_type="cycle", object_id=cycle.id, locale=locale,
                               field="description", text=text)
            for locale, text in TRANSLATED_DESCRIPTION.items()]
    for district in cycle.districts:
        for project in district.projects:
            for locale, title in zip(("es", "zh_Hans"), TRANSLATED_TITLES[project.code]):
                rows += [ContentTranslation(object_type="project", object_id=project.id,
                                            locale=locale, field=field, text=title)
                         for field in ("title", "summary", "description")]
    db.session.add_all(rows)


class Plan:
    """The demo's changes, each on its day (so many days ago), appended in date order: a
    chain whose days go forward, as a real one would."""

    def __init__(self, now: dt.datetime, day: dt.timedelta):
        self.now, self.day, self.steps = now, day, []

    def add(self, days_ago: int, step, *args, **kwargs) -> None:
        self.steps.append((days_ago, len(self.steps), step, args, kwargs))

    def run(self) -> None:
        for days_ago, _order, step, args, kwargs in sorted(self.steps,
                                                             key=lambda s: (-s[0], s[1])):
            step(*args, now=self.now - days_ago * self.day, **kwargs)

    def date(self, days_ago: int) -> str:
        return (self.now - days_ago * self.day).date().isoformat()


STORIES = {  # code → (status path, progress, spent share %, responsible)
    "N26-1": (["in_progress", "delivered"], 100, 97, "Public Works, Street Lighting"),
    "N26-2": (["in_progress"], 60, 55, "Parks and Recreation"),
    "O26-1": (["in_progress", "delivered"], 100, 112, "Bright Roads Ltd (contractor)"),
    "O26-2": (["delayed"], 15, 10, "Community Safety Office"),
    "E26-1": (["in_progress"], 45, 40, "Riverton Peace Partners"),
    "E26-2": (["in_progress", "delivered"], 100, 92, "Parks and Recreation"),
    "E26-3": (["cancelled"], 0, 0, "Transport Department"),
}
REASONS = {"delayed": "The mediators' contract had to be tendered again; the new start is "
                      "next spring.",
           "cancelled": "The state now pays for a crossing guard on Route 9, so the money "
                        "returns to next year's budget."}


def _deliver(plan: Plan, cycle: Cycle, actor) -> None:
    state = records.require_state(cycle)
    for number, code in enumerate(sorted(state["projects"])):
        project = state["projects"][code]
        path, progress, share, responsible = STORIES.get(
            code, (["in_progress"], 30, 25, "Public Works"))
        when = 370 - number
        done = path[-1] == "delivered"
        plan.add(when, records.set_responsible, cycle, actor, code, responsible)
        plan.add(when, records.set_milestone, cycle, actor, code, None, "Design agreed",
                 plan.date(when - 30), "")
        plan.add(when, records.set_milestone, cycle, actor, code, None, "Work on site",
                 plan.date(when - 120), "")
        plan.add(when, records.set_milestone, cycle, actor, code, None, "Open to residents",
                 plan.date(when - 300), "")
        for step, status in enumerate(path):
            plan.add(when - 40 - 100 * step, records.set_status, cycle, actor, code, status,
                     REASONS.get(status, ""))
        if 0 < progress < 100:
            plan.add(60, records.set_progress, cycle, actor, code, str(progress))
        spent = project["cost"] * share // 100
        plan.add(50, records.set_money, cycle, actor, code, str(spent), str(spent),
                 "Extra drainage work found under the road surface."
                 if spent > project["cost"] else "")
        plan.add(when - 35, records.set_milestone, cycle, actor, code, "m1", "Design agreed",
                 plan.date(when - 30), plan.date(when - 35))
        if done:
            plan.add(when - 130, records.set_milestone, cycle, actor, code, "m2", "Work on site",
                     plan.date(when - 120), plan.date(when - 130))
            plan.add(when - 290, records.set_milestone, cycle, actor, code, "m3",
                     "Open to residents", plan.date(when - 300), plan.date(when - 290))
        if path[-1] != "cancelled":
            plan.add(200, records.post_update, cycle, actor, code,
                     f"Work has started on {project['title']}. Thank you for your patience "
                     "while crews are on site.", photo=_photo(number, (200, 180, 80)))
        if done:
            plan.add(40, records.post_update, cycle, actor, code,
                     f"{project['title']} is finished and open to everyone.",
                     photo=_photo(number + 50, (240, 220, 120)))


INDICATORS = [
    ("N26-1", "Reported incidents after dark", "incidents per quarter", "Canal Street, 1st to "
     "6th", "Police open data", "2026-Q1", "23", {"2026-Q4": "17", "2027-Q2": "12"}),
    ("N26-1", "Street-light outage reports", "reports per quarter", "Canal Street",
     "311 service requests", "2026-Q1", "41", {"2026-Q4": "6", "2027-Q2": "4"}),
    ("N26-2", "Youth-centre evening attendance", "visits per week", "Northbank Youth Centre",
     "Centre sign-in sheets", "2026-Q1", "35", {"2026-Q4": "58.5", "2027-Q2": "64"}),
    ("E26-2", "Reported incidents near the lots", "incidents per quarter",
     "Cedar, Walnut and 14th Street", "Police open data", "2026-Q1", "18",
     {"2026-Q4": "15", "2027-Q2": "11"}),
]


def _outcomes(plan: Plan, cycle: Cycle, actor) -> None:
    funded = records.require_state(cycle)["projects"]
    for code, name, unit, area, source, period, value, followups in INDICATORS:
        if code not in funded:
            continue
        plan.add(360, outcomes.define_indicator, cycle, actor, code, {
            "name": name, "unit": unit, "area": area, "source": source,
            "baseline_period": period, "baseline_value": value,
            "followup_periods": ", ".join(followups)})
        key = outcomes.KEY.sub("-", f"{code}-{name}".lower()).strip("-")[:36]
        for number, (followup, figure) in enumerate(followups.items()):
            plan.add(150 - 100 * number, outcomes.add_value, cycle, actor, key, followup, figure,
                     source)


SURVEY_ROUNDS = [("northbank", "Baseline, spring 2026", 360, 14, (1, 2, 2, 3, 3)),
                 ("northbank", "Follow-up, spring 2027", 30, 12, (2, 3, 4, 4, 5)),
                 ("eastside", "Baseline, spring 2026", 358, 6, (1, 2, 3, 3, 4))]
COMMENTS = ["The new lights make the walk home from the bus much better.",
            "Still too dark near the ferry landing."]


def _surveys(plan: Plan, cycle: Cycle, actor) -> None:
    residents = _residents(14)
    rng = random.Random(7)

    def round_id(key: str) -> int:
        return next(r.id for r in survey.list_rounds(cycle) if r.key == key)

    def answer(key, resident, value, comment, now):
        survey.answer(cycle, round_id(key), resident, value, comment, now=now)

    def moderate_all(now):
        for response, _round in survey.pending_comments(cycle):
            survey.moderate(cycle, actor, response.id, True, now=now)

    def close(key, now):
        survey.close_round(cycle, actor, round_id(key), now=now)

    for district, label, days_ago, count, spread in SURVEY_ROUNDS:
        key = survey.KEY.sub("-", f"{district}-{label}".lower()).strip("-")[:36]
        plan.add(days_ago, survey.open_round, cycle, actor, district, label)
        for number, resident in enumerate(residents[:count]):
            comment = COMMENTS[number] if "Follow-up" in label and number < 2 else ""
            plan.add(days_ago - 1 - number % 5, answer, key, resident,
                     str(rng.choice(spread)), comment)
        plan.add(days_ago - 8, moderate_all)
        plan.add(days_ago - 10, close, key)
