"""The demo's second cycle, "Safer Streets 2028", collecting ideas now: a newcomer can sign in
with an emailed code (read in the development outbox), send an idea, support and discuss one.

Seeded with a few residents' ideas and supports, sent through the same services as the web.
"""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from pbvote.audit.chain import canonical_json
from pbvote.infra.db import utcnow
from pbvote.infra.extensions import db
from pbvote.models import Account, ContentTranslation, Cycle, District, IntakeSettings, Phase
from pbvote.rules.proposals import DEFAULT_CATEGORIES
from pbvote.services import demo_content, demo_map, discussion, log
from pbvote.services.proposals import residents as ideas

IDEAS_SLUG = "safer-streets-2028"
SUPPORT_THRESHOLD = 5

#: demo residents who sent ideas (fictional; example.org never receives mail)
RESIDENTS = ["amara.okafor@example.org", "li.wei@example.org", "lucia.hernandez@example.org",
             "sam.murphy@example.org", "noor.haddad@example.org"]

#: (author index, district, category, title, description, location, cost, supporters)
IDEAS = [
    (0, "northbank", "Street lighting", "Brighter lights on the Canal Street steps",
     "The steps from Canal Street down to the towpath are dark after 6 pm in winter. People "
     "avoid them and walk the long way round along the main road.",
     "Canal Street steps to the towpath", "25000", [1, 2, 3]),
    (1, "old-town", "Youth spaces", "A covered skate corner at Church Lane park",
     "Young people already meet here every evening; a roof and benches would give them a "
     "place of their own that neighbours can see from the street.",
     "Church Lane park", "60000", [0, 4]),
    (2, "eastside", "Safe routes to school", "Walking bus to Eastside Primary",
     "Volunteer parents walk children to school along a fixed route each morning, with high-"
     "visibility vests and a short training.", "Eastside Primary and Oak Street", "8000",
     [0, 1, 3, 4]),
    (3, "northbank", "Traffic calming", "20 mph zone around the market square",
     "Cars cut through the square at speed on market days. Signs and a few planters would "
     "slow them down.", "Market square, Northbank", "", [2]),
    (4, "old-town", "Community programmes", "Neighbours' first-aid evenings",
     "Free first-aid courses in the library, four evenings a year, so that more people can "
     "help before an ambulance arrives.", "Old Town Library", "6000", []),
]


#: (idea index, author index, comment)
COMMENTS = [
    (0, 2, "Yes please: I walk my dog there every evening and use my phone as a torch."),
    (0, 4, "Could the lights be warm white? The towpath has bats in summer."),
    (2, 3, "I would volunteer on Tuesdays and Thursdays."),
    (1, 0, "A roof would help, but please keep it open so it does not become hidden."),
]


def ideas_demo_exists() -> bool:
    return db.session.scalar(select(Cycle.id).where(Cycle.slug == IDEAS_SLUG)) is not None


def seed_ideas_demo(districts: list[tuple], now: dt.datetime | None = None) -> Cycle:
    """The second demo cycle with intake open now; `districts` as in pbvote.services.demo."""
    now = (now or utcnow()).replace(minute=0, second=0, microsecond=0)
    chain = log.get_or_create_chain(log.chain_name_for_cycle(IDEAS_SLUG))
    cycle = Cycle(
        slug=IDEAS_SLUG, name="Safer Streets 2028", city_name="City of Riverton",
        description="Riverton's next community-safety budget: send your ideas, support and "
                    "discuss your neighbours' ideas; staff check them and the best go to the "
                    "vote.",
        currency="USD", total_budget=sum(d[2] for d in districts), timezone="America/Chicago",
        tie_break_seed="riverton-2028-public-draw", minimum_age=16, allowed_methods="roll,code",
        chain_id=chain.id)
    day = dt.timedelta(days=1)
    windows = [("intake", -10, 40), ("review", 40, 70), ("voting", 70, 100),
               ("tally", 100, 107), ("published", 107, 470)]
    cycle.phases = [Phase(kind=k, starts_at=now + a * day, ends_at=now + b * day)
                    for k, a, b in windows]
    for position, (slug, name, budget, ballot, rule, params, *_rest) in enumerate(districts):
        cycle.districts.append(District(slug=slug, name=name, budget=budget, position=position,
                                        tally_rule=rule, tally_params=canonical_json(params),
                                        **ballot))
    db.session.add(cycle)
    db.session.flush()
    db.session.add_all(
        ContentTranslation(object_type="cycle", object_id=cycle.id, locale=locale,
                           field="description", text=text)
        for locale, text in demo_content.CYCLE_DESCRIPTIONS[IDEAS_SLUG].items())
    log.record_action(chain.id, "cycle.created", "demo", {"cycle": cycle.slug})
    # five supports send an idea to staff review: the ideas show how far they are
    db.session.add(IntakeSettings(cycle_id=cycle.id, categories_json=json.dumps(
        list(DEFAULT_CATEGORIES)), max_per_person=None, support_threshold=SUPPORT_THRESHOLD))
    demo_map.add_outlines(cycle)
    accounts = [_resident(email) for email in RESIDENTS]
    sent = []
    for author, district, category, title, text, location, cost, supporters in IDEAS:
        idea = ideas.submit(cycle, accounts[author], {
            "title": title, "description": text, "category": category, "district": district,
            "location": location, "cost_estimate": cost,
            "point": demo_map.IDEA_POINTS.get(title, "")}, now=now)
        sent.append(idea)
        for supporter in supporters:
            ideas.support(idea, accounts[supporter])
    for idea_index, author, text in COMMENTS:
        discussion.post_comment(sent[idea_index], accounts[author], text, now=now)
    db.session.flush()
    return cycle


def _resident(email: str) -> Account:
    account = db.session.scalar(select(Account).where(Account.email == email))
    if account is None:
        account = Account(email=email, display_name="", role="resident", password_hash=None,
                          totp_last_timecode=0, failed_attempts=0, is_active=True)
        db.session.add(account)
        db.session.flush()
    return account
