"""Delivery records: opening tracking for a published cycle, who may edit, and appending
changes to the cycle's delivery chain. Nothing is updated in place; the state is the fold
(pbvote.audit.delivery) of the chain's entries."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from zoneinfo import ZoneInfo

from sqlalchemy import select

from pbvote.audit import delivery as fold_rules
from pbvote.audit.chain import ChainEntry, verify_chain
from pbvote.i18n_hook import _
from pbvote.infra.db import for_update, utcnow
from pbvote.infra.extensions import db
from pbvote.models import Account, Chain, Cycle, DeliveryEditor, LogEntry
from pbvote.rules import delivery as rules
from pbvote.services import log
from pbvote.services.errors import DomainError, NotFound
from pbvote.services.publication import published_results

# English: the role as the chain records it, the same in every language (like the log)
ROLE_LABELS = {"admin": "administrator", "staff": "delivery editor"}


class DeliveryRefused(DomainError):
    def __init__(self, message: str, status: int = 422, reasons: list | None = None):
        super().__init__(message, status, reasons or [])


def delivery_chain_name(cycle: Cycle) -> str:
    return f"delivery:{cycle.slug}"


def delivery_chain(cycle: Cycle) -> Chain | None:
    return db.session.scalar(select(Chain).where(Chain.name == delivery_chain_name(cycle)))


def today(cycle: Cycle, now: dt.datetime | None = None) -> str:
    return (now or utcnow()).astimezone(ZoneInfo(cycle.timezone)).date().isoformat()


# ----- who may edit ---------------------------------------------------------------------------
def is_editor(cycle: Cycle, account) -> bool:
    if account is None or not getattr(account, "is_active", False):
        return False
    if account.has_role("admin"):
        return True
    if not account.has_role("staff"):
        return False
    return db.session.scalar(select(DeliveryEditor.id).where(
        DeliveryEditor.cycle_id == cycle.id, DeliveryEditor.account_id == account.id)) is not None


def require_editor(cycle: Cycle, account) -> str:
    """The role label written into the entry; 403 for anyone else."""
    if not is_editor(cycle, account):
        raise DomainError(_("Only a delivery editor of this cycle or an administrator may "
                            "record delivery."), 403)
    return ROLE_LABELS[account.role]


def list_editors(cycle: Cycle) -> list[tuple[DeliveryEditor, Account]]:
    return list(db.session.execute(select(DeliveryEditor, Account).join(
        Account, Account.id == DeliveryEditor.account_id).where(
        DeliveryEditor.cycle_id == cycle.id).order_by(Account.email)))


def grant_editor(cycle: Cycle, admin, email: str) -> DeliveryEditor:
    if admin is None or not admin.has_role("admin"):
        raise DomainError(_("Only an administrator may choose delivery editors."), 403)
    account = db.session.scalar(select(Account).where(Account.email == email.strip().lower()))
    if account is None or not account.is_active or account.role != "staff":
        raise DeliveryRefused(_("There is no active staff account with this email address."),
                              reasons=[("email", _("Enter the email address of an active "
                                                   "staff account."))])
    if is_editor(cycle, account):
        raise DeliveryRefused(_("This account is already a delivery editor of this cycle."), 409)
    grant = DeliveryEditor(cycle_id=cycle.id, account_id=account.id, granted_by=admin.label,
                           granted_at=utcnow())
    db.session.add(grant)
    db.session.flush()
    log.record_action(cycle.chain_id, "delivery.editor_granted", admin.label,
                      {"cycle": cycle.slug, "account": account.label})
    return grant


def revoke_editor(cycle: Cycle, admin, account_id: int) -> None:
    if admin is None or not admin.has_role("admin"):
        raise DomainError(_("Only an administrator may choose delivery editors."), 403)
    grant = db.session.scalar(select(DeliveryEditor).where(
        DeliveryEditor.cycle_id == cycle.id, DeliveryEditor.account_id == account_id))
    if grant is None:
        raise NotFound(_("This account is not a delivery editor of this cycle."))
    account = db.session.get(Account, account_id)
    db.session.delete(grant)
    db.session.flush()
    log.record_action(cycle.chain_id, "delivery.editor_revoked", admin.label,
                      {"cycle": cycle.slug, "account": account.label})


# ----- reading the chain ----------------------------------------------------------------------
def chain_entries(cycle: Cycle) -> list[tuple[int, str, dict]]:
    chain = delivery_chain(cycle)
    if chain is None:
        return []
    rows = db.session.execute(select(LogEntry.position, LogEntry.kind, LogEntry.entry_json)
                              .where(LogEntry.chain_id == chain.id)
                              .order_by(LogEntry.position))
    # the kind as hashed in the entry, as the verifier reads it (not the indexed column)
    return [(position, entry["kind"], entry["data"])
            for position, entry in ((p, json.loads(text)) for p, _kind, text in rows)]


class DeliveryTampered(DomainError):
    """The stored delivery chain does not verify: a row was changed outside pbvote (409)."""

    def __init__(self, message: str):
        super().__init__(message, 409)


def chain_problem(cycle: Cycle) -> str | None:
    """Why the stored delivery chain does not verify (English, as the verifier words it), or
    None when every entry links and hashes up to the recorded head, each kind column equals
    its hashed entry, and the chain opens on the published results. Only a change made
    outside pbvote (in the database) can break this."""
    chain = delivery_chain(cycle)
    if chain is None:
        return None
    rows = list(db.session.execute(
        select(LogEntry.position, LogEntry.kind, LogEntry.entry_json, LogEntry.previous_hash,
               LogEntry.entry_hash).where(LogEntry.chain_id == chain.id)
        .order_by(LogEntry.position)))
    report = verify_chain((ChainEntry(p, text, prev, digest) for p, _k, text, prev, digest in rows),
                          chain.head_hash)
    if not report.ok:
        return f"delivery-chain: {report.problem}"
    if report.verified_length != chain.length:
        return (f"delivery-chain: {report.verified_length} entries stored, the chain records "
                f"{chain.length}")
    for position, kind, text, _prev, _digest in rows:
        if json.loads(text)["kind"] != kind:
            return f"delivery-chain: entry {position}: kind column differs from the hashed entry"
    snapshot = published_results(cycle)
    if rows and snapshot is not None and \
            json.loads(rows[0][2])["data"].get("results_hash") != snapshot.results_hash:
        return "delivery-chain: delivery.opened names other results than the published ones"
    return None


def _refuse_tampered(problem: str) -> None:
    raise DeliveryTampered(_(
        "The delivery record of this cycle was changed outside pbvote and no longer matches "
        "its own hash chain (%(problem)s), so it is not shown and cannot be changed. Auditors "
        "can see the failing check under “Verify now”; restore the database from a backup.",
        problem=problem))


def current_state(cycle: Cycle, checked: bool = True) -> dict | None:
    """The folded delivery state, or None before tracking was opened.

    `checked` (the default for every page and change): the stored chain must verify first
    (409 otherwise). Unchecked is for the auditor's bundle, which must be built from the rows
    as they are so that the verifier can name what fails; a fold that fails then gives {}."""
    if checked:
        problem = chain_problem(cycle)
        if problem:
            _refuse_tampered(problem)
    entries = chain_entries(cycle)
    if not entries:
        return None
    try:
        return fold_rules.fold(entries)
    # only a change made outside pbvote gets here (an entry missing a field included)
    except (fold_rules.FoldError, KeyError, TypeError, ValueError) as error:
        position = getattr(error, "position", None)
        if not checked:  # the record as it stood before the entry that breaks its rules
            earlier = [entry for entry in entries if position and entry[0] < position]
            try:
                return fold_rules.fold(earlier) if earlier else {}
            except (fold_rules.FoldError, KeyError, TypeError, ValueError):
                return {}
        _refuse_tampered(f"delivery-values: {error}")


def require_state(cycle: Cycle) -> dict:
    state = current_state(cycle)
    if state is None:
        raise NotFound(_("Delivery of this cycle's funded projects is not being tracked yet."))
    return state


def funded_projects(results: dict) -> list[dict]:
    funded = []
    for district in results["districts"]:
        titles = {p["id"]: p for p in district["projects"]}
        for code in district["outcome"]["selected"]:
            funded.append({"project": code, "district": district["slug"],
                           "title": titles[code]["title"], "cost": int(titles[code]["cost"])})
    return funded


def open_delivery(cycle: Cycle, actor, now: dt.datetime | None = None) -> dict:
    """Start tracking: one record per funded project of the published results."""
    role = require_editor(cycle, actor)
    snapshot = published_results(cycle)
    if snapshot is None:
        raise DeliveryRefused(_("Delivery is tracked only once the results are published."), 409)
    chain = log.get_or_create_chain(delivery_chain_name(cycle))
    chain = db.session.scalar(for_update(select(Chain).where(Chain.id == chain.id)))
    if chain.length:
        raise DeliveryRefused(_("Delivery of this cycle is already being tracked."), 409)
    cycle_chain = db.session.get(Chain, cycle.chain_id)
    results = json.loads(snapshot.results_json)
    data = {"cycle": cycle.slug, "results_hash": snapshot.results_hash,
            "cycle_chain": {"length": cycle_chain.length, "head": cycle_chain.head_hash},
            "funded": funded_projects(results), "role": role, "day": today(cycle, now)}
    entry = log.append(chain.id, "delivery.opened", data)
    log.record_action(cycle.chain_id, "delivery.opened", actor.label, {
        "cycle": cycle.slug, "delivery_chain": chain.name, "first_entry": entry.entry_hash,
        "funded": len(data["funded"])})
    from pbvote.services.delivery import follow

    follow.offer_to_authors(cycle, data["funded"])
    return require_state(cycle)


def append_change(cycle: Cycle, role: str, kind: str, data: dict,
                  now: dt.datetime | None = None) -> LogEntry:
    """Append one checked change and make sure the chain still folds."""
    chain = delivery_chain(cycle)
    if chain is None or not chain.length:
        raise NotFound(_("Delivery of this cycle's funded projects is not being tracked yet."))
    body = {**data, "day": today(cycle, now)}
    if role:
        body["role"] = role
    entry = log.append(chain.id, kind, body)
    try:
        fold_rules.fold(chain_entries(cycle))
    except fold_rules.FoldError as error:  # a rule the checks above missed: never store it
        raise DeliveryRefused(_("This change breaks the delivery rules: %(problem)s",
                                problem=error.problem)) from error
    return entry


def _project(state: dict, code: str) -> dict:
    project = state["projects"].get(code)
    if project is None:
        raise NotFound(_("This project was not funded in this cycle."))
    return project


def _corrects(state: dict, project: dict, kind: str, corrects: str | None) -> int | None:
    if not corrects:
        return None
    try:
        position = int(corrects)
    except ValueError:
        position = -1
    if position not in _positions_of(project, kind):
        raise DeliveryRefused(_("The entry to correct is not one of this project's entries of "
                                "this kind."), reasons=[("corrects", _("Choose an entry of "
                                                                       "this project."))])
    return position


def _positions_of(project: dict, kind: str) -> set[int]:
    if kind == "delivery.update":
        return {u["entry"] for u in project["updates"] if u["corrected_by"] is None}
    field = kind.split(".", 1)[1]
    return {p for key, p in project["entries"].items() if key == field}


def _refuse(reasons: list) -> None:
    if reasons:
        raise DeliveryRefused(_("Please correct the highlighted fields."), reasons=reasons)


def set_status(cycle: Cycle, actor, code: str, status: str, reason: str = "",
               corrects: str | None = None, now: dt.datetime | None = None) -> LogEntry:
    role = require_editor(cycle, actor)
    state = require_state(cycle)
    project = _project(state, code)
    position = _corrects(state, project, "delivery.status", corrects)
    _refuse(rules.check_status(project["status"], status, reason, position is not None))
    return append_change(cycle, role, "delivery.status", {
        "project": code, "status": status, "reason": reason.strip(), "corrects": position}, now)


def set_progress(cycle: Cycle, actor, code: str, percent_text: str,
                 now: dt.datetime | None = None) -> LogEntry:
    role = require_editor(cycle, actor)
    _project(require_state(cycle), code)
    percent, reasons = rules.parse_percent(percent_text)
    _refuse(reasons)
    return append_change(cycle, role, "delivery.progress", {"project": code, "percent": percent},
                         now)


def set_money(cycle: Cycle, actor, code: str, committed_text: str, spent_text: str,
              reason: str = "", now: dt.datetime | None = None) -> LogEntry:
    role = require_editor(cycle, actor)
    project = _project(require_state(cycle), code)
    reasons: list = []
    committed = rules.parse_amount(committed_text, "committed", reasons)
    spent = rules.parse_amount(spent_text, "spent", reasons)
    _refuse(reasons)
    _refuse(rules.check_money(project["cost"], committed, spent, reason)
            + rules.check_text(reason, "reason", required=False))
    return append_change(cycle, role, "delivery.money", {
        "project": code, "committed": committed, "spent": spent, "reason": reason.strip()}, now)


def set_responsible(cycle: Cycle, actor, code: str, responsible: str,
                    now: dt.datetime | None = None) -> LogEntry:
    role = require_editor(cycle, actor)
    _project(require_state(cycle), code)
    _refuse(rules.check_text(responsible, "responsible", limit=200))
    return append_change(cycle, role, "delivery.responsible",
                         {"project": code, "responsible": responsible.strip()}, now)


def set_milestone(cycle: Cycle, actor, code: str, key: str | None, title: str, planned: str,
                  actual: str = "", now: dt.datetime | None = None) -> LogEntry:
    role = require_editor(cycle, actor)
    project = _project(require_state(cycle), code)
    reasons = rules.check_text(title, "title", limit=200)
    planned_day = rules.parse_day(planned, "planned", reasons)
    actual_day = rules.parse_day(actual, "actual", reasons, required=False)
    if key and key not in project["milestones"]:
        reasons.append(("milestone", _("This project has no such milestone.")))
    _refuse(reasons)
    key = key or f"m{len(project['milestones']) + 1}"
    return append_change(cycle, role, "delivery.milestone", {
        "project": code, "milestone": key, "title": title.strip(), "planned": planned_day,
        "actual": actual_day}, now)


def post_update(cycle: Cycle, actor, code: str, text: str, photo=None,
                corrects: str | None = None, now: dt.datetime | None = None) -> LogEntry:
    """A written update, optionally with a photo (checked and re-encoded without metadata)."""
    from pbvote.services import images
    from pbvote.services.delivery import follow

    role = require_editor(cycle, actor)
    state = require_state(cycle)
    project = _project(state, code)
    position = _corrects(state, project, "delivery.update", corrects)
    _refuse(rules.check_text(text, "text"))
    stored = None
    if photo is not None:
        name = images.store_image(photo)
        digest = hashlib.sha256((images.image_folder() / name).read_bytes()).hexdigest()
        stored = {"name": name, "sha256": digest}
    entry = append_change(cycle, role, "delivery.update", {
        "project": code, "text": text.strip(), "photo": stored, "corrects": position}, now)
    follow.notify_followers(cycle, project, text.strip())
    return entry


def photo_names(cycle: Cycle) -> set[str]:
    state = current_state(cycle)
    if state is None:
        return set()
    return {u["photo"]["name"] for p in state["projects"].values() for u in p["updates"]
            if u["photo"]}
