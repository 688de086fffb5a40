"""Public files that belong to the set-up: project images and each cycle's frozen manifest
as the exact bytes that were hashed, so anyone can check the SHA-256 on the cycle page."""
from __future__ import annotations

from flask import Blueprint, Response, abort, send_from_directory
from sqlalchemy import select

from pbvote.infra.extensions import db
from pbvote.models import Project, Proposal
from pbvote.services import images
from pbvote.services.cycles import get_cycle
from pbvote.web.guards import allow_anyone, set_policy
from pbvote.web.ideas import send_photo

bp = Blueprint("media", __name__)
set_policy(bp.name, allow_anyone)


@bp.get("/media/projects/<name>")
def project_image(name: str):
    """A project's image. Ideas' photos share the folder, so a name that belongs to an idea
    gets the idea's own rule (hidden: author and staff only), and a file that belongs to
    neither (left behind by a deleted idea, say) is not served."""
    if not images.NAME_PATTERN.match(name):
        abort(404)
    if db.session.scalar(select(Project.id).where(Project.image_name == name)) is None:
        idea = db.session.scalars(select(Proposal).where(Proposal.photo_name == name)).first()
        if idea is None:
            abort(404)
        return send_photo(idea)
    response = send_from_directory(images.image_folder(), name, max_age=86400)
    # the name is random per upload, so the content behind it never changes
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/cycles/<slug>/manifest.json")
def manifest(slug: str):
    cycle = get_cycle(slug)
    if not cycle.manifest_json:
        abort(404)
    return Response(cycle.manifest_json, mimetype="application/json", headers={
        "Content-Disposition": f'inline; filename="{cycle.slug}-manifest.json"'})
