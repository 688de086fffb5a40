"""Reading ideas: one by number, an author's, their supports and projects, the board."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from pbvote.i18n_hook import _
from pbvote.infra.db import for_update
from pbvote.infra.extensions import db
from pbvote.models import (
    Account,
    Cycle,
    District,
    Project,
    Proposal,
    ProposalProjectLink,
    ProposalSupport,
)
from pbvote.rules import proposals as rules
from pbvote.services.errors import NotFound

PAGE_SIZE = 20
SORTS = ("newest", "most_supported")


def get_proposal(proposal_id: int, lock: bool = False) -> Proposal:
    statement = select(Proposal).where(Proposal.id == proposal_id)
    proposal = db.session.scalar(for_update(statement) if lock else statement)
    if proposal is None:
        raise NotFound(_("There is no idea with this number."))
    return proposal


def publicly_visible(proposal: Proposal) -> bool:
    return not proposal.hidden


def support_count(proposal_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(ProposalSupport).where(
        ProposalSupport.proposal_id == proposal_id))


def has_supported(proposal_id: int, account_id: int) -> bool:
    return db.session.get(ProposalSupport, (proposal_id, account_id)) is not None


def ideas_of(author: Account) -> list[Proposal]:
    return list(db.session.scalars(select(Proposal).where(Proposal.author_id == author.id)
                                   .order_by(Proposal.id.desc())))


def count_by_author(cycle: Cycle, author: Account) -> int:
    return db.session.scalar(select(func.count()).select_from(Proposal).where(
        Proposal.cycle_id == cycle.id, Proposal.author_id == author.id))


def projects_of(proposal: Proposal) -> list[Project]:
    return list(db.session.scalars(select(Project).join(
        ProposalProjectLink, ProposalProjectLink.project_id == Project.id).where(
        ProposalProjectLink.proposal_id == proposal.id)))


def idea_links(cycle: Cycle) -> dict[int, list[int]]:
    """project id → the idea numbers it was made from, for "from ideas #12 and #17"."""
    rows = db.session.execute(select(ProposalProjectLink.project_id,
                                     ProposalProjectLink.proposal_id)
                              .join(Project, Project.id == ProposalProjectLink.project_id)
                              .where(Project.cycle_id == cycle.id)
                              .order_by(ProposalProjectLink.proposal_id))
    links: dict[int, list[int]] = {}
    for project_id, proposal_id in rows:
        links.setdefault(project_id, []).append(proposal_id)
    return links


@dataclass
class Listing:
    rows: list[tuple[Proposal, int]]  # (idea, supports)
    total: int
    page: int
    pages: int


def _supports_column():
    return (select(func.count()).where(ProposalSupport.proposal_id == Proposal.id)
            .correlate(Proposal).scalar_subquery())


def list_ideas(cycle: Cycle, q: str = "", category: str = "", district: str = "",
               status: str = "", sort: str = "newest", page: int = 1,
               include_hidden: bool = False, statuses: tuple[str, ...] | None = None) -> Listing:
    """The board (and, with include_hidden, the staff queue). Search text is a bound LIKE
    pattern with its wildcards escaped, over title, description and location."""
    supports = _supports_column().label("supports")
    statement = select(Proposal, supports).where(Proposal.cycle_id == cycle.id)
    if not include_hidden:
        statement = statement.where(Proposal.hidden.is_(False))
    if status in rules.STATUSES:
        statement = statement.where(Proposal.status == status)
    elif statuses:
        statement = statement.where(Proposal.status.in_(statuses))
    else:
        statement = statement.where(Proposal.status != "merged")
    q = rules.clean_line(q)[:rules.SEARCH_MAX]
    if q:
        pattern = rules.like_pattern(q)
        statement = statement.where(or_(Proposal.title.ilike(pattern, escape="\\"),
                                        Proposal.description.ilike(pattern, escape="\\"),
                                        Proposal.location.ilike(pattern, escape="\\")))
    if category:
        statement = statement.where(Proposal.category == category)
    if district:
        statement = statement.join(District, District.id == Proposal.district_id).where(
            District.slug == district)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    if sort == "most_supported":
        statement = statement.order_by(supports.desc(), Proposal.id.desc())
    else:
        statement = statement.order_by(Proposal.created_at.desc(), Proposal.id.desc())
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = db.session.execute(statement.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return Listing([(row[0], row[1]) for row in rows], total, page, pages)

