"""Public results: served only from the published snapshot, never recounted per request."""
from __future__ import annotations

import json
from fractions import Fraction

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import get_locale, gettext
from markupsafe import Markup

from pbvote.i18n_hook import format_number
from pbvote.models import ResultsSnapshot
from pbvote.rules import charts
from pbvote.rules.results_insight import percent_text, read_insight
from pbvote.rules.results_reading import DistrictResult, read_district, scored
from pbvote.services import publication, translations
from pbvote.services.cycles import get_cycle
from pbvote.services.errors import NotFound
from pbvote.web.filters import money, money_cents
from pbvote.web.guards import allow_anyone, set_policy

bp = Blueprint("results", __name__, url_prefix="/cycles/<slug>")
set_policy(bp.name, allow_anyone)

#: (results hash, locale) → prepared page data; snapshots never change, so entries never go stale
_PAGE_CACHE: dict[tuple[str, str], dict] = {}
_PAGE_CACHE_LIMIT = 32
#: (page data key, report?, script root) → the district sections rendered once (HTML)
_SECTIONS_CACHE: dict[tuple, Markup] = {}
#: (page data key, address root) → the report as PDF; a few, since each is drawn in seconds
_PDF_CACHE: dict[tuple, bytes] = {}
_PDF_CACHE_LIMIT = 8


@bp.app_template_global()
def money_text(amount, currency: str) -> str:
    """Whole amounts as the site's money filter shows them; shares of a unit to the cent."""
    if isinstance(amount, Fraction) and amount.denominator != 1:
        return money_cents(amount, currency)
    return money(int(amount), currency)


def prepare_results(results: dict, titles: dict[str, str] | None = None) -> dict:
    """Everything the results templates show, from a results document (snapshot or draft);
    `titles` (project code → title in the reader's language) replaces the stored titles,
    which are the originals the count recorded."""
    currency = results["cycle"]["currency"]
    if titles:
        results = {**results, "districts": [
            {**d, "projects": [{**p, "title": titles.get(p["id"], p["title"])}
                               for p in d["projects"]]}
            for d in results["districts"]]}

    def cash(amount) -> str:
        return money_text(amount, currency)

    districts: list[DistrictResult] = [read_district(d, cash) for d in results["districts"]]
    score_charts, spend_charts = {}, {}
    for district in districts:
        ranked = sorted(district.projects, key=lambda p: (-p.score, p.title))
        label = gettext(district.score_label)  # "votes" / "points", marked in rules.results_reading
        score_charts[district.slug] = charts.responsive_bar_chart(
            gettext("%(district)s: %(label)s per project", district=district.name, label=label),
            gettext("Horizontal bars, one per project, longest for the most %(label)s. "
                    "Funded projects are marked 'funded' and hatched.", label=label),
            [charts.Bar(p.title, p.score, scored(p.score_text, district.score_label, p.score),
                        highlighted=p.funded, tag=gettext("funded")) for p in ranked])
        spend_charts[district.slug] = charts.responsive_bar_chart(
            gettext("%(district)s: money spent and left of the budget", district=district.name),
            gettext("Budget %(budget)s; funded projects cost %(spent)s; %(left)s is left.",
                    budget=cash(district.budget), spent=cash(district.total_cost),
                    left=cash(district.leftover)),
            [charts.Bar(gettext("Budget"), district.budget, cash(district.budget)),
             charts.Bar(gettext("Spent on funded projects"), district.total_cost,
                        cash(district.total_cost), highlighted=True, tag=gettext("spent")),
             charts.Bar(gettext("Left over"), district.leftover, cash(district.leftover))],
            scale_max=district.budget)
    turnout_chart = charts.responsive_bar_chart(
        gettext("Turnout by district"),
        gettext("Horizontal bars, one per district: the share of eligible people who took part."),
        [charts.Bar(d.name, Fraction(d.turnout_fraction) if d.turnout_fraction else 0,
                    (gettext("%(percent)s %% (%(people)s of %(eligible)s)",
                             percent=d.turnout_percent, people=format_number(d.participations),
                             eligible=format_number(d.eligible))
                     if d.turnout_percent else gettext("no eligible people")))
         for d in districts],
        scale_max=1)
    insights, insight_charts = {}, {}
    for district, document in zip(districts, results["districts"]):
        titles = {p.id: p.title for p in district.projects}
        insight = read_insight(document, titles, cash)
        if insight is None:
            continue
        insights[district.slug] = insight
        for project in district.projects:
            project.why.extend(insight.sentences.get(project.id, []))
        insight_charts[district.slug] = _insight_charts(district, insight, cash)
    totals = results["totals"]
    return {"results": results, "districts": districts, "score_charts": score_charts,
            "spend_charts": spend_charts, "turnout_chart": turnout_chart, "totals": totals,
            "currency": currency, "insights": insights, "insight_charts": insight_charts}


def _insight_charts(district: DistrictResult, insight, cash) -> dict[str, str]:
    """Small charts of a district's explanations: effective support (equal shares), voters
    with nothing funded (this rule against plain greedy) and each group's average share."""
    out = {}
    if insight.effective_support:
        bars = [charts.Bar(p.title, min(insight.effective_support[p.id], 2),
                           gettext("%(percent)s %%", percent=percent_text(
                               insight.effective_support[p.id])),
                           highlighted=p.funded, tag=gettext("funded"))
                for p in district.projects if p.id in insight.effective_support]
        out["support"] = charts.responsive_bar_chart(
            gettext("%(district)s: effective support per project", district=district.name),
            gettext("Horizontal bars, one per project: the share of its cost its supporters "
                    "could pay when it came closest to being funded; 100 percent is enough. "
                    "Bars stop at 200 percent. Funded projects are marked 'funded' and hatched."),
            bars, scale_max=2)
    rows = [charts.Bar(gettext("Under this rule"), insight.none_funded,
                       format_number(insight.none_funded), highlighted=True,
                       tag=gettext("used"))]
    if not district.rule.startswith("greedy"):
        rows.append(charts.Bar(gettext("Under plain greedy"), insight.none_funded_greedy,
                               format_number(insight.none_funded_greedy)))
    out["none_funded"] = charts.responsive_bar_chart(
        gettext("%(district)s: voters with none of their projects funded", district=district.name),
        gettext("%(none)s of %(voters)s voters under this rule.",
                none=format_number(insight.none_funded),
                voters=format_number(insight.voters_with_choices)),
        rows, scale_max=max(insight.voters_with_choices, 1))
    share_bars = [charts.Bar(p.title, insight.group_share[p.id], cash(insight.group_share[p.id]))
                  for p in district.projects if p.id in insight.group_share]
    share_bars.append(charts.Bar(gettext("Equal share"), insight.equal_share,
                                 cash(insight.equal_share), highlighted=True,
                                 tag=gettext("reference")))
    out["shares"] = charts.responsive_bar_chart(
        gettext("%(district)s: average share of the money, by the project supported",
                district=district.name),
        gettext("Horizontal bars, one per project: the average money spent on projects its "
                "supporters chose, per supporter; the last bar is an equal share of the budget."),
        share_bars)
    return out


def _page_key(snapshot: ResultsSnapshot) -> tuple[tuple, dict[str, str]]:
    # translations may be added after publication: they are part of the key
    titles = translations.project_titles(snapshot.cycle_id, str(get_locale()))
    return (snapshot.results_hash, str(get_locale()), tuple(sorted(titles.items()))), titles


def _remember(cache: dict, key, value):
    if len(cache) >= _PAGE_CACHE_LIMIT:
        cache.pop(next(iter(cache)))
    cache[key] = value
    return value


def snapshot_page_data(snapshot: ResultsSnapshot, key: tuple | None = None,
                       titles: dict[str, str] | None = None) -> dict:
    if key is None:
        key, titles = _page_key(snapshot)
    data = _PAGE_CACHE.get(key)
    if data is None:
        data = _remember(_PAGE_CACHE, key,
                         prepare_results(json.loads(snapshot.results_json), titles))
    return data


def _snapshot_page(template: str, cycle, snapshot: ResultsSnapshot, report: bool,
                   key: tuple | None = None, titles: dict[str, str] | None = None) -> str:
    """A results page from the published snapshot. Its district sections (charts, tables,
    every explanation) are the same for every reader of a language, so they are rendered
    once per snapshot, language, translated titles and page, and kept: a snapshot never
    changes. Only the surrounding page (navigation, the reader's session) renders per request."""
    if key is None:
        key, titles = _page_key(snapshot)
    data = snapshot_page_data(snapshot, key, titles)
    sections_key = (key, report, request.script_root)
    sections = _SECTIONS_CACHE.get(sections_key)
    if sections is None:
        # an autoescaped template's output: already safe HTML
        html = render_template("results/_districts.html", cycle=cycle, snapshot=snapshot,
                               private=False, report=report, **data)
        sections = _remember(_SECTIONS_CACHE, sections_key, Markup(html))  # nosec B704
    return render_template(template, cycle=cycle, snapshot=snapshot, private=False,
                           district_sections=sections, **data)


def _snapshot_or_404(slug: str):
    cycle = get_cycle(slug)
    snapshot = publication.published_results(cycle)
    if snapshot is None:
        raise NotFound(gettext("The results of this cycle have not been published yet. Nothing "
                               "is counted or shown before voting closes and two administrators "
                               "publish the count."))
    return cycle, snapshot


@bp.get("/results")
def page(slug: str):
    cycle = get_cycle(slug)
    snapshot = publication.published_results(cycle)
    if snapshot is None:
        # still a 404 (there are no results here yet), with the "email me" form
        return render_template("results/not_yet.html", cycle=cycle, message=gettext(
            "The results of this cycle have not been published yet. Nothing is counted or "
            "shown before voting closes and two administrators publish the count.")), 404
    return _snapshot_page("results/cycle.html", cycle, snapshot, report=False)


@bp.get("/results.xlsx")
def workbook(slug: str):
    """The published results as a spreadsheet: a sheet per district and its count round by
    round (pbvote.services.exports)."""
    from pbvote.services import exports

    _, snapshot = _snapshot_or_404(slug)
    response = Response(exports.results_workbook(json.loads(snapshot.results_json),
                                                     snapshot.results_hash),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}-results.xlsx"'
    return response


@bp.get("/results/report")
def report(slug: str):
    """A printable report for council and press: the results page's content with the
    turnout, charts and the verification fingerprints, laid out for paper (print CSS)."""
    cycle, snapshot = _snapshot_or_404(slug)
    return _snapshot_page("results/report.html", cycle, snapshot, report=True)


@bp.get("/results/report.pdf")
def report_pdf(slug: str):
    """The printable report as PDF (WeasyPrint, pbvote.web.report_pdf), in the reader's
    language, drawn once per snapshot and language and kept; it fetches only this site's
    static files, never the network."""
    from pbvote.web import report_pdf as pdf

    cycle, snapshot = _snapshot_or_404(slug)
    key, titles = _page_key(snapshot)
    pdf_key = (key, request.url_root)
    body = _PDF_CACHE.get(pdf_key)
    if body is None:
        html = _snapshot_page("results/report_pdf.html", cycle, snapshot, report=True,
                              key=key, titles=titles)
        try:
            body, _refused = pdf.html_to_pdf(html, request.url_root,
                                             current_app.static_url_path or "/static",
                                             current_app.static_folder)
        except pdf.PdfUnavailable:
            return render_template("errors/message.html", status=503, reasons=[], title=gettext(
                "This server cannot draw PDF files. Open the printable report and save it as "
                "PDF from your browser's print dialogue.")), 503
        if len(_PDF_CACHE) >= _PDF_CACHE_LIMIT:
            _PDF_CACHE.pop(next(iter(_PDF_CACHE)))
        _PDF_CACHE[pdf_key] = body
    response = Response(body, mimetype="application/pdf")
    language = str(get_locale()).split("_")[0]
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{slug}-results-report-{language}.pdf"')
    return response


@bp.get("/results.json")
def document(slug: str):
    """The snapshot's results document, for auditors' tools (also /api/v1/…/results)."""
    _, snapshot = _snapshot_or_404(slug)
    return document_response(snapshot)


def document_response(snapshot: ResultsSnapshot) -> Response:
    """The published results document, byte for byte as hashed (X-Results-SHA256)."""
    response = Response(snapshot.results_json, mimetype="application/json")
    response.headers["X-Results-SHA256"] = snapshot.results_hash
    return response


@bp.app_context_processor
def _published_results_link():
    def published_results_url(cycle) -> str | None:
        """The results page's address once the cycle's results are published, else None."""
        if publication.published_results(cycle) is None:
            return None
        return url_for("results.page", slug=cycle.slug)

    return {"published_results_url": published_results_url}
