"""Journeys 2 and 3: a ranked ballot by keyboard alone, and a ballot with JavaScript off."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from pbvote.infra.db import write_intent
from pbvote.infra.extensions import db
from tests.factories import make_cycle


def _open_cycle(app):
    with app.app_context(), write_intent():
        made = make_cycle(codes_per_district=3)
        db.session.commit()
    return made


def _verify_with_code(session, made, district: str, code_index: int = 0) -> None:
    page = session.page
    page.goto(f"/cycles/{made.slug}/vote/")
    page.get_by_role("link", name=re.compile(district, re.I)).click()
    page.get_by_label("Access code").fill(made.codes[district][code_index])
    page.get_by_role("button", name="Use my code").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your ballot")


#: the selects' left edges, one per project (equal when they line up)
SELECT_LEFTS = ("[...document.querySelectorAll('select[name^=rank_]')]"
                ".map(s => Math.round(s.getBoundingClientRect().left))")


def test_ranked_ballot_by_keyboard_only(app, people):
    made = _open_cycle(app)
    with app.app_context(), write_intent():
        from sqlalchemy import update

        from pbvote.models import Project

        # titles of different lengths made the selects zig-zag down the page (issue #17)
        db.session.execute(update(Project).where(Project.code == "RA-B").values(
            title="Project B, with a much longer title that wraps at phone width"))
        db.session.commit()
    session = people()
    page = session.page
    _verify_with_code(session, made, "ranked")
    session.axe("ranked ballot")

    # Tab to the first rank, arrows to choose; rank 2 given twice by mistake.
    _tab_until(page, "#rank-RA-A", by="id")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # A: choice 2
    # each project's "more about" link sits between the selects
    _tab_until(page, "#rank-RA-B", by="id")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # B: choice 2 again
    _tab_until(page, "#rank-RA-C", by="id")
    page.keyboard.press("ArrowDown")  # C: choice 1
    # said at once, and both clashing choices marked; C is fine
    expect(page.locator("#rank-counter")).to_contain_text(
        "Choice 2 is given to more than one project: Project A, Project B")
    for code in "AB":
        expect(page.locator(f"#rank-RA-{code}")).to_have_attribute("aria-invalid", "true")
        expect(page.locator(f"#rank-RA-{code}-error")).to_have_text(
            "Choice 2 is also given to another project.")
    assert page.locator("#rank-RA-C").get_attribute("aria-invalid") is None
    for width in (1280, 375):  # the selects line up instead of zig-zagging
        page.set_viewport_size({"width": width, "height": 900})
        assert len(set(page.evaluate(SELECT_LEFTS))) == 1, (width, page.evaluate(SELECT_LEFTS))
    page.set_viewport_size({"width": 1280, "height": 900})
    _tab_until(page, "Review my ballot")
    page.keyboard.press("Enter")
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    session.axe("ranked ballot with errors")
    session.screenshots("ranked-ballot-errors")
    # The summary's first link leads to a rank control (Tab into the summary, Enter).
    page.keyboard.press("Tab")
    target = page.evaluate("document.activeElement.getAttribute('href')")
    assert target and target.startswith("#rank-"), target
    page.keyboard.press("Enter")
    expect(page.locator(target)).to_be_focused()

    # The form comes back as typed: move B back to "Not ranked", keyboard only.
    assert [page.locator(f"#rank-RA-{c}").input_value() for c in "ABCD"] == ["2", "2", "1", ""]
    key = "Tab" if target < "#rank-RA-B" else "Shift+Tab"
    if target != "#rank-RA-B":
        _tab_until(page, "#rank-RA-B", by="id", key=key)
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert [page.locator(f"#rank-RA-{c}").input_value() for c in "ABCD"] == ["2", "", "1", ""]
    _tab_until(page, "Review my ballot")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Review your ballot")
    rows = page.locator("table.review tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Project C")
    expect(rows.nth(1)).to_contain_text("Project A")
    session.axe("ranked review")
    _tab_until(page, "Cast my ballot")
    page.keyboard.press("Enter")
    expect(page.locator(".receipt-code")).to_have_text(re.compile(r"\w{5}-\w{5}"))


def _tab_until(page, wanted: str, by: str = "text", key: str = "Tab", limit: int = 60) -> None:
    """Press Tab until the focused element's text (or "#id") is `wanted`, checking that each
    focused control shows a visible focus indicator (outline or box shadow)."""
    for _ in range(limit):
        page.keyboard.press(key)
        focused = page.evaluate("""() => {
            const el = document.activeElement, s = getComputedStyle(el);
            return {text: (el.innerText || el.value || '').trim(), id: '#' + el.id,
                    ring: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
                          || s.boxShadow !== 'none'};
        }""")
        assert focused["ring"], f"no visible focus on {focused['text']!r}"
        if focused["id" if by == "id" else "text"] == wanted:
            return
    raise AssertionError(f"Tab never reached {wanted!r}")


def test_knapsack_ballot_without_javascript_validates_and_casts(app, people):
    made = _open_cycle(app)
    session = people(java_script_enabled=False)
    page = session.page
    _verify_with_code(session, made, "knapsack")
    session.axe("knapsack ballot, no JavaScript")
    # A + B + C costs 130 of a 100 budget: the server says so, on the field and in the summary.
    for code in ("KN-A", "KN-B", "KN-C"):
        page.locator(f"#choice-{code}").check()
    page.get_by_role("button", name="Review my ballot").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("budget")
    assert summary.get_attribute("role") == "alert"
    for link in summary.get_by_role("link").all():
        href = link.get_attribute("href")
        assert href and page.locator(href).count() == 1, href
    expect(summary).to_be_focused()  # autofocus: no script needed
    session.axe("knapsack ballot with errors, no JavaScript")
    session.screenshots("knapsack-no-js-errors")
    page.locator("#choice-KN-C").uncheck()
    page.get_by_role("button", name="Review my ballot").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review your ballot")
    session.axe("knapsack review, no JavaScript")
    page.get_by_role("button", name="Cast my ballot").click()
    expect(page.locator(".receipt-code")).to_have_text(re.compile(r"\w{5}-\w{5}"))
    session.axe("receipt, no JavaScript")


def test_every_ballot_kind_labels_its_fields_and_links_its_errors(app, people):
    """Each ballot kind: one fieldset with a legend, a label for every control, a visible
    focus on everything Tab reaches, a polite live counter where there is one, and an error
    summary that takes the focus and whose links land on a control of the ballot. (The
    ranked and knapsack pages are scanned by axe in their own journeys.)"""
    made = _open_cycle(app)
    session = people()
    page = session.page

    def choose_ranks(ranks):
        for code, rank in ranks.items():
            page.locator(f"#rank-RA-{code}").select_option(rank)

    for district, spoil, counter in (
            ("approval", lambda: [page.locator(f"#choice-AP-{c}").check() for c in "ABC"],
             "#choice-counter"),
            ("cumulative", lambda: [page.locator(f"#points-CU-{c}").fill("6") for c in "AB"],
             "#points-counter"),
            ("knapsack", lambda: [page.locator(f"#choice-KN-{c}").check() for c in "ABC"],
             "#budget-meter"),
            ("ranked", lambda: choose_ranks({"A": "1", "B": "1"}), None)):
        _verify_with_code(session, made, district)
        scanned_elsewhere = district in ("knapsack", "ranked")
        if not scanned_elsewhere:
            session.axe(f"{district} ballot")
        if counter:
            assert page.locator(counter).get_attribute("aria-live") == "polite"
        assert page.locator("form.ballot fieldset legend").count() == 1
        controls = page.locator("form.ballot fieldset input, form.ballot fieldset select").all()
        assert len(controls) == 4
        for control in controls:
            control_id = control.get_attribute("id")
            assert control_id and page.locator(f"label[for='{control_id}']").count() == 1
        page.locator("h1").click()  # Tab from the top of the ballot, checking each focus ring
        _tab_until(page, "Review my ballot")
        spoil()
        page.get_by_role("button", name="Review my ballot").click()
        summary = page.locator("#error-summary")
        expect(summary).to_be_focused()
        links = summary.get_by_role("link").all()
        assert links, f"{district}: the error summary links to no field"
        for link in links:
            target = link.get_attribute("href")
            assert page.locator(f"form.ballot {target}").count() == 1, target
        if not scanned_elsewhere:
            session.axe(f"{district} ballot with errors")
            session.screenshots(f"{district}-ballot-errors")
        page.get_by_role("button", name="Leave without voting").click()
        expect(page).to_have_url(re.compile(f"/cycles/{made.slug}$"))
    session.axe("cycle page")
