"""The public bulletin board: every receipt, sorted, per district, with the chain head;
"Is my ballot on the board?"; and the published bundle's zip once results are published."""
from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for

from pbvote.infra.db import reads_only
from pbvote.services import audit
from pbvote.services.cycles import get_cycle
from pbvote.web.guards import allow_anyone, set_policy

bp = Blueprint("board", __name__, url_prefix="/cycles/<slug>")
set_policy(bp.name, allow_anyone)
reads_only("board.check")

RECEIPTS_PER_PAGE = 1000


@bp.get("/board")
def index(slug: str):
    cycle = get_cycle(slug)
    return render_template("board/index.html", cycle=cycle, board=audit.bulletin_board(cycle),
                           voting_started=audit.voting_started(cycle),
                           published=audit.is_published(cycle))


@bp.get("/board/districts/<district_slug>")
def district(slug: str, district_slug: str):
    cycle = get_cycle(slug)
    board = audit.bulletin_board(cycle)
    listed = board.district(district_slug)
    if listed is None:
        abort(404)
    page = request.args.get("page", 1, type=int) or 1
    pages = max(1, -(-listed.count // RECEIPTS_PER_PAGE))
    if page < 1 or page > pages:
        abort(404)
    start = (page - 1) * RECEIPTS_PER_PAGE
    return render_template("board/district.html", cycle=cycle, board=board, district=listed,
                           receipts=listed.receipts[start:start + RECEIPTS_PER_PAGE],
                           page=page, pages=pages)


@bp.get("/board/receipts.txt")
def receipts_text(slug: str):
    cycle = get_cycle(slug)
    board = audit.bulletin_board(cycle)
    # English: a plain-text file format that scripts read, the same in every language
    lines = [f"# Bulletin board of {cycle.slug}: one '<district> <receipt>' per line, sorted.",
             f"# Chain: {board.chain_length} entries, head {board.chain_head}"]
    for listed in board.districts:
        lines.extend(f"{listed.slug} {receipt}" for receipt in listed.receipts)
    return Response("\n".join(lines) + "\n", mimetype="text/plain")


@bp.route("/board/check", methods=["GET", "POST"])
def check(slug: str):
    """GET shows the form; the receipt is POSTed, so it stays out of addresses, access logs,
    browser history and Referer headers."""
    cycle = get_cycle(slug)
    if request.method == "GET":
        if "receipt" in request.args:  # an old link or bookmark: drop the code from the address
            return redirect(url_for("board.check", slug=slug), code=303)
        result, typed, status = None, "", 200
    else:
        typed = request.form.get("receipt", "")
        result = audit.check_receipt(cycle, typed)
        status = 200 if result.well_formed else 422
    return render_template("board/check.html", cycle=cycle, result=result, typed=typed,
                           board=audit.bulletin_board(cycle)), status


@bp.get("/results/bundle.zip")
def bundle(slug: str):
    cycle = get_cycle(slug)
    content = audit.bundle_zip(cycle)
    response = Response(content, mimetype="application/zip")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{audit.bundle_folder_name(cycle)}.zip"')
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.app_template_global()
def results_bundle_url(cycle) -> str | None:
    """The bundle's address once the cycle's results are published, else None."""
    return url_for("board.bundle", slug=cycle.slug) if audit.is_published(cycle) else None
