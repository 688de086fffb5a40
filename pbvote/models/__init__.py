"""Persistence only: columns, constraints and small derived properties."""
from pbvote.models import revision  # noqa: F401 - registers the flush hook
from pbvote.models.account import ROLES, STAFF_ROLES, Account, RecoveryCode, StaffSignInFailure
from pbvote.models.cycle import PHASE_KINDS, Cycle, District, DistrictOutline, Phase, Project
from pbvote.models.delivery import (
    DeliveryEditor,
    FollowSubscription,
    SurveyAnswered,
    SurveyResponse,
    SurveyRound,
)
from pbvote.models.discussion import Comment, CommentReport
from pbvote.models.in_person import (
    DeskRollAddition,
    KioskPass,
    PaperAudit,
    PaperAuditFinding,
    PaperEntry,
    PaperSerial,
)
from pbvote.models.job import Job
from pbvote.models.log import Chain, LogEntry
from pbvote.models.proposal import (
    IntakeSettings,
    Proposal,
    ProposalEvent,
    ProposalProjectLink,
    ProposalSupport,
)
from pbvote.models.resident_auth import EmailSignInCode, OutboxMessage
from pbvote.models.results import ResultsSnapshot, ResultsSubscription, TallyRun
from pbvote.models.roll import AccessCode, RollEntry
from pbvote.models.self_declaration import SelfDeclaration
from pbvote.models.translation import ContentTranslation
from pbvote.models.voting import Ballot, Participation, PendingBallot

__all__ = [
    "Comment", "CommentReport",
    "ROLES", "STAFF_ROLES", "Account", "RecoveryCode", "StaffSignInFailure",
    "PHASE_KINDS", "Cycle", "District", "DistrictOutline", "Phase", "Project", "Chain",
    "LogEntry",
    "AccessCode", "RollEntry", "Ballot", "Participation", "PendingBallot", "ResultsSnapshot",
    "ResultsSubscription", "TallyRun",
    "IntakeSettings", "Proposal", "ProposalEvent", "ProposalProjectLink", "ProposalSupport",
    "EmailSignInCode", "OutboxMessage",
    "DeskRollAddition", "KioskPass", "PaperAudit", "PaperAuditFinding", "PaperEntry",
    "PaperSerial", "ContentTranslation", "Job",
    "DeliveryEditor", "FollowSubscription", "SurveyAnswered", "SurveyResponse", "SurveyRound",
    "SelfDeclaration",
]
