"""The "You took part" email a voter may ask for on the receipt page: that they took part and
their receipt code, never what they voted (nobody could tell, and nobody should be shown)."""
from __future__ import annotations

from pbvote.i18n_hook import _
from pbvote.models import Cycle
from pbvote.rules import sign_in
from pbvote.rules.ballots import Reason
from pbvote.services import mail
from pbvote.services.errors import DomainError


class ConfirmationRefused(DomainError):
    def __init__(self, message: str, status: int = 422):
        super().__init__(message, status, [Reason("email", "email_invalid", message)])


def send_confirmation(cycle: Cycle, district_name: str, receipt: str, email_text: str) -> str:
    """Email `receipt` to the address typed; returns the normalised address."""
    email = sign_in.normalise_email(email_text or "")
    problem = sign_in.email_problem(email)
    if problem:
        raise ConfirmationRefused(problem)
    mail.send(email, _("You took part in %(cycle)s", cycle=cycle.name), "\n\n".join([
        _("Thank you for voting in %(district)s, %(cycle)s.", district=district_name,
          cycle=cycle.name),
        _("Your receipt code: %(receipt)s", receipt=receipt),
        _("It appears on the public bulletin board, so you can check that your ballot was "
          "recorded and counted. This email does not say how you voted: the city does not "
          "know, and the receipt does not show it."),
        _("This address is not linked to your ballot or to the record that you took part."),
    ]))
    return email
