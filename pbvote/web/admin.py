"""Administrators manage staff accounts: invite, deactivate, reactivate, change role,
reset the authenticator app and unlock. Every action asks for a fresh login and is logged."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from pbvote.infra.extensions import db
from pbvote.services import accounts
from pbvote.services.accounts import AccountConflict, InvalidAccountInput
from pbvote.web.forms.auth import ROLE_CHOICES, InviteForm, RoleForm
from pbvote.web.forms.base import NotConfirmed, require_tick
from pbvote.web.forms.vote import CsrfOnlyForm
from pbvote.web.guards import require_fresh_login, require_roles, set_policy

bp = Blueprint("admin", __name__, url_prefix="/admin")
set_policy(bp.name, require_roles("admin"))



def _admin():
    return current_user._get_current_object()


@bp.get("/accounts")
def accounts_list(reasons=(), status: int = 200):
    """The accounts; `reasons`: an action refused, shown beside its row's tick box."""
    from pbvote.infra.db import utcnow

    return render_template("admin/accounts.html", accounts=accounts.list_accounts(),
                           me=_admin(), role_choices=ROLE_CHOICES, now=utcnow(),
                           reasons=list(reasons)), status


@bp.route("/accounts/invite", methods=["GET", "POST"])
def invite():
    require_fresh_login(return_to=url_for("admin.invite"))
    form = InviteForm()
    status = 200
    if form.validate_on_submit():
        try:
            invitation = accounts.invite(_admin(), form.email.data, form.role.data,
                                         form.display_name.data or "")
        except (InvalidAccountInput, AccountConflict) as refused:
            # the role is one of the form's choices already, so the refusal is about the email
            form.email.errors = list(refused.reasons or [refused.message])
            status = refused.status
        else:
            link = url_for("auth.accept_invitation", token=invitation.token, _external=True)
            return render_template("admin/invited.html", invitation=invitation, link=link)
    elif request.method == "POST":
        status = 422
    return render_template("admin/invite.html", form=form), status


def _account_action(account_id: int, action, done_message: str, *args,
                    tick: tuple[str, str] | None = None):
    """`tick`: (tick box id, refusal) for an action that needs "Yes, I am sure" ticked."""
    require_fresh_login(return_to=url_for("admin.accounts_list"))
    if not CsrfOnlyForm().validate_on_submit():
        abort(400)
    account = action(_admin(), account_id, *args)
    if tick is not None:
        # after the service's own refusals (no such account 404, yourself 409), so the tick
        # is asked for only where the action could go ahead; the rollback undoes it
        try:
            require_tick(*tick)
        except NotConfirmed as refused:
            db.session.rollback()
            return accounts_list(refused.reasons, refused.status)
    flash(done_message % {"email": account.email}, "success")
    return redirect(url_for("admin.accounts_list"))


@bp.post("/accounts/<int:account_id>/deactivate")
def deactivate(account_id: int):
    return _account_action(account_id, accounts.deactivate,
                           _("%(email)s is deactivated and signed out."),
                           tick=(f"confirm-deactivate-{account_id}",
                                 _("Tick “Yes, I am sure” to deactivate this account; nothing "
                                   "was changed.")))


@bp.post("/accounts/<int:account_id>/reactivate")
def reactivate(account_id: int):
    return _account_action(account_id, accounts.reactivate, _("%(email)s is active again."))


@bp.post("/accounts/<int:account_id>/reset-totp")
def reset_totp(account_id: int):
    return _account_action(
        account_id, accounts.reset_totp,
        _("%(email)s will set up a new authenticator app at the next sign-in."),
        tick=(f"confirm-reset-{account_id}",
              _("Tick “Yes, I am sure” to reset this account's authenticator app; nothing "
                "was changed.")))


@bp.post("/accounts/<int:account_id>/unlock")
def unlock(account_id: int):
    return _account_action(account_id, accounts.unlock, _("%(email)s is unlocked."))


@bp.post("/accounts/<int:account_id>/role")
def change_role(account_id: int):
    form = RoleForm()
    require_fresh_login(return_to=url_for("admin.accounts_list"))
    if not form.validate_on_submit():
        raise InvalidAccountInput(_("Choose the role staff, auditor or admin."))
    account = accounts.change_role(_admin(), account_id, form.role.data)
    flash(_("%(email)s now has the role %(role)s.", email=account.email, role=account.role),
          "success")
    return redirect(url_for("admin.accounts_list"))
