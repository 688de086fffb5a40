"""Verifying eligibility and casting a final ballot."""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import asdict, dataclass

from flask import current_app
from sqlalchemy import bindparam, exists, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from pbvote.audit.chain import canonical_json, receipt_from_entry_hash
from pbvote.i18n_hook import _
from pbvote.infra import metrics
from pbvote.infra.db import WRITE_INTENT, for_update, utcnow
from pbvote.infra.extensions import db
from pbvote.models import AccessCode, Ballot, Cycle, District, Participation, RollEntry
from pbvote.rules import ballots, eligibility
from pbvote.services import log, revision_reads
from pbvote.services.errors import (
    AlreadyVoted,
    BallotRejected,
    NotEligible,
    NotFound,
    VotingClosed,
)
from pbvote.services.keys import check_identity_key, keyed_hash

#: channels where one act records both that a person voted and what they voted
CASTING_CHANNELS = ("online", "kiosk")


@dataclass(frozen=True)
class VerifiedVoter:
    """What a successful eligibility check hands to the ballot; safe to keep in a session."""

    cycle_id: int
    district_id: int
    identity_hash: str
    #: "roll", "code" or "declared" (online self-declaration)
    method: str
    #: the RollEntry, AccessCode or SelfDeclaration row locked when casting
    eligibility_id: int

    def to_session(self) -> dict:
        return asdict(self)

    @classmethod
    def from_session(cls, data: dict) -> VerifiedVoter:
        return cls(**data)


@dataclass(frozen=True)
class CastReceipt:
    receipt: str
    chain_position: int
    entry_hash: str


def cycle_for_voting(slug: str) -> Cycle:
    """The cycle with its phases, districts and projects, loaded in two queries.

    Every step of the resident's path needs all of them (is voting open, which district,
    which projects and costs); loaded lazily they took four round trips per request, which
    on a busy PostgreSQL server are much of a page's time. Phases come in a second query so
    that the join does not multiply every project row by the number of phases.
    """
    return _load_cycle(db.session, slug)


def _load_cycle(session, slug: str) -> Cycle:
    cycle = session.scalars(select(Cycle).where(Cycle.slug == slug).options(
        selectinload(Cycle.phases),
        joinedload(Cycle.districts).joinedload(District.projects))).unique().one_or_none()
    if cycle is None:
        raise NotFound(_("There is no budget cycle at this address."))
    return cycle


_CACHED_CYCLES_MAX = 64
# English: SQL, not a message
_CYCLE_REVISION_SQL = "SELECT id, config_revision FROM cycle WHERE slug = {}"


def voting_cycle(slug: str) -> Cycle:
    """The cycle as cycle_for_voting gives it, read-only, shared by this process's requests.

    Building the cycle's objects was a third of each voting page's CPU time. One small query
    per request compares the cycle's config_revision, which every change to the cycle, its
    phases, districts or projects raises in its own transaction (pbvote.models.revision), so
    a page never shows settings older than that query. The objects are detached: callers
    must not change them, and what they write refers to them by id.

    The revision is read as plain DBAPI SQL in autocommit, outside the ORM session: most
    voting pages need nothing else from the database, and the session's begin and commit
    around that one read cost ten times the read itself. On SQLite the read never waits for
    or holds the write lock that casting queues on; on PostgreSQL it is one round trip
    instead of four (pre-ping, BEGIN, the read, ROLLBACK), see revision_reads.
    """
    key = revision_reads.read(_CYCLE_REVISION_SQL, slug)
    if key is None:
        raise NotFound(_("There is no budget cycle at this address."))
    # per app, so two apps in one process (tests: one per engine) never share cycles
    cache: dict[str, tuple[tuple[int, int], Cycle]] = current_app.extensions.setdefault(
        "pbvote_voting_cycles", {})
    cached = cache.get(slug)
    if cached is not None and cached[0] == key:
        return cached[1]
    # A casting request begins with BEGIN IMMEDIATE on SQLite (pbvote.infra.db.WRITE_INTENT); the
    # loader's own session must not wait for that lock, which its own request may hold.
    token = WRITE_INTENT.set(False)
    try:
        with Session(db.engine, expire_on_commit=False) as session:
            cycle = _load_cycle(session, slug)
            for district in cycle.districts:
                # many-to-one by primary key: answered from the identity map, no query
                district.cycle  # noqa: B018 - loaded before detaching
                for project in district.projects:
                    project.district, project.cycle  # noqa: B018
            for phase in cycle.phases:
                phase.cycle  # noqa: B018
            # detached while loaded: a rollback would expire them; then they could not load
            session.expunge_all()
    finally:
        WRITE_INTENT.reset(token)
    if len(cache) >= _CACHED_CYCLES_MAX:
        cache.clear()
    # Keyed by what the loader saw, so a change between the two queries is seen next time.
    cache[slug] = ((cycle.id, cycle.config_revision), cycle)
    return cycle


def eligibility_rules(cycle: Cycle) -> eligibility.EligibilityRules:
    return eligibility.EligibilityRules(
        minimum_age=cycle.minimum_age,
        allowed_methods=frozenset(cycle.method_list),
        self_declared_residence=cycle.self_declared_allowed,
    )


def roll_match_hashes(last_name: str, birth_date: dt.date,
                      postcode_or_roll: str) -> tuple[str, str]:
    """The two lookup hashes a resident's answers could match: by postcode or by roll number."""
    # Roll numbers and postcodes share one normalisation: upper case, no spaces or dashes.
    typed = f"{eligibility.normalise_name(last_name)}|{birth_date.isoformat()}|" \
            f"{eligibility.normalise_postcode(postcode_or_roll)}"
    return keyed_hash("roll-postcode", typed), keyed_hash("roll-number", typed)


def _today(cycle: Cycle, now: dt.datetime) -> dt.date:
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(cycle.timezone)).date()


def _require_voting_open(cycle: Cycle, now: dt.datetime) -> None:
    if not cycle.voting_open(now):
        raise VotingClosed()


# The resident path's queries are built once, with bound parameters: building a statement
# and its cache key on every call cost more than running it.
_PARTICIPATED = select(exists().where(
    Participation.cycle_id == bindparam("cycle_id"),
    Participation.district_id == bindparam("district_id"),
    Participation.identity_hash == bindparam("identity_hash")))
# Look up by the two hash indexes only and keep this cycle's rows in Python: with the cycle
# in the WHERE clause SQLite walks the (cycle_id, identity_hash) index instead, which reads
# the cycle's whole roll on every check. Few rows share a hash, so the filter is cheap.
_ROLL_MATCHES = select(RollEntry).where(
    (RollEntry.postcode_match_hash == bindparam("by_postcode"))
    | (RollEntry.roll_number_match_hash == bindparam("by_number")))
_LOCK_ROLL_ENTRY = for_update(select(RollEntry).where(RollEntry.id == bindparam("id")))


def _already_participated(cycle_id: int, district_id: int, identity_hash: str) -> bool:
    return bool(db.session.scalar(_PARTICIPATED, {
        "cycle_id": cycle_id, "district_id": district_id, "identity_hash": identity_hash}))


def _count_refusals(verify):
    """Count each refused voter check by its reason code (metrics: no personal data)."""
    import functools

    @functools.wraps(verify)
    def counted(*args, **kwargs):
        try:
            return verify(*args, **kwargs)
        except (NotEligible, AlreadyVoted, VotingClosed) as refused:
            reasons = getattr(refused, "reasons", None) or []
            code = getattr(reasons[0], "code", "") if reasons else ""
            metrics.refusal(code or type(refused).__name__)
            raise
    return counted


@_count_refusals
def verify_by_roll(cycle: Cycle, district: District, last_name: str, birth_date: dt.date,
                   postcode_or_roll: str, now: dt.datetime | None = None) -> VerifiedVoter:
    now = now or utcnow()
    _require_voting_open(cycle, now)
    check_identity_key(cycle)
    rules = eligibility_rules(cycle)
    by_postcode, by_number = roll_match_hashes(last_name, birth_date, postcode_or_roll)
    matches = db.session.scalars(_ROLL_MATCHES, {"by_postcode": by_postcode,
                                                 "by_number": by_number}).all()
    candidates = [entry for entry in matches if entry.cycle_id == cycle.id]
    if len(candidates) > 1:
        raise NotEligible(_("More than one roll record matches. Please enter your roll number "
                            "instead of your postcode."))
    entry = candidates[0] if candidates else None
    record = None
    if entry is not None:
        record = eligibility.RollRecord(
            # from the cycle in hand: entry.district would cost a query
            district=cycle.district_by_id(entry.district_id).slug,
            last_name_key=eligibility.normalise_name(last_name),
            birth_date=entry.birth_date,
            postcode_key=eligibility.normalise_postcode(postcode_or_roll), roll_number=None)
    reasons = eligibility.check_roll_match(rules, record, district.slug, last_name, birth_date,
                                           postcode_or_roll, _today(cycle, now))
    if reasons:
        raise NotEligible(reasons[0].message, reasons)
    if _already_participated(cycle.id, district.id, entry.identity_hash):
        raise AlreadyVoted()
    _refuse_if_voted_as_declared(cycle, entry)
    return VerifiedVoter(cycle.id, district.id, entry.identity_hash, "roll", entry.id)


def _refuse_if_voted_as_declared(cycle: Cycle, entry: RollEntry | None) -> None:
    """The person of a roll entry may have voted before by declaring online."""
    if entry is not None and cycle.online_self_declaration:
        from pbvote.services import self_declaration

        self_declaration.refuse_roll_entry_of_declared_voter(cycle, entry)


def code_identity_hash(cycle: Cycle, normalised_code: str) -> str:
    return keyed_hash("identity", eligibility.identity_key_for_code(cycle.slug, normalised_code))


ACCESS_CODE_PURPOSE = "access-code"


def access_code_hash(normalised_code: str) -> str:
    return keyed_hash(ACCESS_CODE_PURPOSE, normalised_code)


@_count_refusals
def verify_by_code(cycle: Cycle, district: District, code: str,
                   now: dt.datetime | None = None) -> VerifiedVoter:
    now = now or utcnow()
    _require_voting_open(cycle, now)
    check_identity_key(cycle)
    normalised = eligibility.normalise_access_code(code)
    row = db.session.scalar(select(AccessCode).where(
        AccessCode.cycle_id == cycle.id, AccessCode.code_hash == access_code_hash(normalised)))
    holder = _roll_entry_of(row)
    reasons = eligibility.check_access_code(
        eligibility_rules(cycle),
        code_district=row.district.slug if row else None,
        requested_district=district.slug,
        used=bool(row and row.status == "used"),
        voided=bool(row and (row.status == "voided" or _entry_moved_away(row, holder))),
        holder_birth_date=holder.birth_date if holder else None,
        today=_today(cycle, now))
    if reasons:
        if any(r.code == "code_used" for r in reasons):
            raise AlreadyVoted(_("This access code has already been used to vote."))
        raise NotEligible(reasons[0].message, reasons)
    identity = holder.identity_hash if holder else code_identity_hash(cycle, normalised)
    if _already_participated(cycle.id, district.id, identity):
        raise AlreadyVoted()
    _refuse_if_voted_as_declared(cycle, holder)
    return VerifiedVoter(cycle.id, district.id, identity, "code", row.id)


def _roll_entry_of(code: AccessCode | None) -> RollEntry | None:
    """The roll entry a code was issued for, whose identity the code votes under."""
    if code is None or code.roll_entry_id is None:
        return None
    return db.session.get(RollEntry, code.roll_entry_id)


def _entry_moved_away(code: AccessCode, entry: RollEntry | None) -> bool:
    """A code issued for an entry that is gone or now in another district no longer applies
    (the roll import voids it; this covers a re-import racing a resident's check)."""
    return code.roll_entry_id is not None and (entry is None
                                               or entry.district_id != code.district_id)


def cast_ballot(voter: VerifiedVoter, selections, *, channel: str = "online", site: str = "",
                now: dt.datetime | None = None, cycle: Cycle | None = None) -> CastReceipt:
    """Write the participation and the ballot together, or nothing.

    The ballot is checked before any lock is taken. Then: lock the eligibility row, check
    it has not voted, lock the chain's head and stage the entry, and flush the
    participation, entry and ballot together. Everything from the first lock to the commit
    holds up every other cast (SQLite's one writer, the chain head on PostgreSQL), so that
    span does only the queries it must and a single flush. The unique constraint on
    participation is the backstop against a double vote that slipped past the lock.

    `cycle` may be the one voting_cycle gave this request, whose revision was checked in
    this request; otherwise the cycle is loaded here.
    """
    if channel not in CASTING_CHANNELS:
        raise ValueError(f"unknown casting channel {channel!r}")
    now = now or utcnow()
    if cycle is None or cycle.id != voter.cycle_id:
        cycle = db.session.get(Cycle, voter.cycle_id)
    district = cycle.district_by_id(voter.district_id) if cycle is not None else None
    if cycle is None or district is None or district.cycle_id != cycle.id:
        raise NotEligible(_("This ballot does not belong to this cycle."))
    _require_voting_open(cycle, now)
    design = district.ballot_design()
    reasons = ballots.validate_ballot(design, district.project_costs(), selections,
                                      currency=cycle.currency)
    if reasons:
        raise BallotRejected(reasons)
    stored_selections = ballots.selections_to_json(design, selections)

    _lock_eligibility(voter, cycle)
    if _already_participated(cycle.id, district.id, voter.identity_hash):
        raise AlreadyVoted()
    participation = {
        "id": secrets.token_hex(16), "cycle_id": cycle.id, "district_id": district.id,
        "identity_hash": voter.identity_hash, "channel": channel, "site": site,
        "voted_on": _today(cycle, now)}
    try:
        return _append_ballot(cycle, district, stored_selections, channel,
                              participation=participation)
    except IntegrityError as error:
        if "participation" in str(error.orig):
            raise AlreadyVoted() from error
        raise


#: in-person channels whose participation was written earlier, at the check-in desk
IN_PERSON_BALLOT_CHANNELS = ("paper", "kiosk")


def record_in_person_ballot(cycle: Cycle, district: District, selections, *, channel: str,
                            site: str) -> CastReceipt:
    """Write a ballot and its chain entry without a participation.

    For ballots whose voter was checked in at a desk (which wrote the participation then):
    a kiosk ballot, or a paper ballot entered later from its serial. The caller has checked
    the window and locked whatever makes the ballot single-use (the kiosk pass, the serial).
    """
    if channel not in IN_PERSON_BALLOT_CHANNELS:
        raise ValueError(f"unknown in-person channel {channel!r}")
    if district.cycle_id != cycle.id:
        raise NotEligible(_("This ballot does not belong to this cycle."))
    design = district.ballot_design()
    reasons = ballots.validate_ballot(design, district.project_costs(), selections,
                                      currency=cycle.currency)
    if reasons:
        raise BallotRejected(reasons)
    return _append_ballot(cycle, district, ballots.selections_to_json(design, selections),
                          channel, {"site": site})


def _append_ballot(cycle: Cycle, district: District, stored_selections, channel: str,
                   extra: dict | None = None, participation: dict | None = None
                   ) -> CastReceipt:
    """Write the participation, if any, then take the chain's next position and write the
    ballot and its entry there, drawing a new ballot id if the receipt collides.

    The participation goes first, before the chain's head is locked: it is guarded by the
    eligibility lock already held, and a double vote that slipped past that lock fails on
    its unique constraint before holding up anyone else's ballot.
    """
    connection = db.session.connection()
    if participation is not None:
        connection.execute(_INSERT_PARTICIPATION, participation)
    claimed = log.claim_position(cycle.chain_id)
    data = {"cycle": cycle.slug, "district": district.slug, "channel": channel,
            "selections": stored_selections, **(extra or {})}
    stored_json = canonical_json(stored_selections)
    insert_ballot = _insert_ballot_unless_receipt_taken(connection.dialect.name)
    while True:
        ballot_id = secrets.token_hex(16)
        text, digest = claimed.entry("ballot", {"ballot_id": ballot_id, **data})
        receipt = receipt_from_entry_hash(digest, cycle.receipt_key or "")
        written = connection.execute(insert_ballot, {
            "id": ballot_id, "cycle_id": cycle.id, "district_id": district.id,
            "channel": channel, "selections": stored_json, "receipt": receipt,
            "chain_position": claimed.position}).scalar()
        if written is not None:
            break
        # A 50-bit receipt collided with a stored one: draw a new ballot id.
    log.write_claimed(claimed, "ballot", text, digest)
    metrics.ballot_cast(db.session(), channel)
    return CastReceipt(receipt, claimed.position, digest)


_INSERT_PARTICIPATION = insert(Participation.__table__)
_INSERTS_UNLESS_RECEIPT_TAKEN: dict[str, object] = {}


def _insert_ballot_unless_receipt_taken(dialect_name: str):
    """INSERT … ON CONFLICT (cycle_id, receipt) DO NOTHING RETURNING id: a collision
    inserts and returns no row, leaves the transaction usable, and costs no separate
    look-up under the chain's lock. (RETURNING, because DBAPI row counts of an INSERT are
    not passed on by SQLAlchemy.)"""
    statement = _INSERTS_UNLESS_RECEIPT_TAKEN.get(dialect_name)
    if statement is None:
        if dialect_name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        elif dialect_name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:
            raise RuntimeError(f"pbvote runs on SQLite or PostgreSQL, not {dialect_name}")
        table = Ballot.__table__
        statement = dialect_insert(table).on_conflict_do_nothing(
            index_elements=["cycle_id", "receipt"]).returning(table.c.id)
        _INSERTS_UNLESS_RECEIPT_TAKEN[dialect_name] = statement
    return statement


def _lock_eligibility(voter: VerifiedVoter, cycle: Cycle) -> None:
    if voter.method == "roll":
        row = db.session.scalar(_LOCK_ROLL_ENTRY, {"id": voter.eligibility_id})
        if row is None or row.identity_hash != voter.identity_hash:
            raise NotEligible(_("Your voter-roll record is no longer available."))
        _refuse_if_voted_as_declared(cycle, row)
    elif voter.method == "code":
        row = db.session.scalar(for_update(select(AccessCode).where(
            AccessCode.id == voter.eligibility_id)))
        if row is None or row.district_id != voter.district_id:
            raise NotEligible(_("This access code is not valid for this ballot."))
        if row.status == "voided":
            raise NotEligible(_("This access code has been voided by the city."))
        if row.status == "used":
            raise AlreadyVoted(_("This access code has already been used to vote."))
        if row.roll_entry_id is not None:
            # Lock the entry too (code first, then entry; nothing locks them the other way
            # round), so this ballot queues behind a desk check-in or roll-matched ballot.
            entry = db.session.scalar(for_update(select(RollEntry).where(
                RollEntry.id == row.roll_entry_id)))
            if entry is None or entry.identity_hash != voter.identity_hash \
                    or entry.district_id != row.district_id:
                raise NotEligible(_("Your voter-roll record is no longer available."))
            _refuse_if_voted_as_declared(cycle, entry)
        row.status = "used"
    elif voter.method == "declared":
        from pbvote.services import self_declaration

        self_declaration.lock_for_casting(voter)
    else:
        raise NotEligible(_("Unknown verification method."))
