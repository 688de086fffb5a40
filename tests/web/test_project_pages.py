"""Issue #17: every ballot project has its own page, linked from the cycle page, the ballot
and the results; after publication it says how the project fared and why."""
from __future__ import annotations

from tests.web.test_resident_path import _verify_by_roll
from tests.web.test_results_page import published  # noqa: F401 (a fixture)


def test_a_project_page_shows_the_project_and_is_linked_from_cycle_and_ballot(client, made):
    page = client.get(f"/cycles/{made.slug}/projects/AP-A")
    assert page.status_code == 200
    assert "Project A" in page.text and "$60" in page.text
    assert client.get(f"/cycles/{made.slug}/projects/NO-SUCH").status_code == 404
    link = f'href="/cycles/{made.slug}/projects/AP-A"'
    assert link in client.get(f"/cycles/{made.slug}").text
    _verify_by_roll(client, made, "approval")
    ballot = client.get(f"/cycles/{made.slug}/vote/ballot").text
    assert link in ballot and "opens in a new tab" in ballot


def test_after_publication_the_project_page_says_why(client, published):  # noqa: F811
    results = client.get(f"/cycles/{published['slug']}/results").text
    assert f'href="/cycles/{published["slug"]}/projects/AP-B"' in results
    page = client.get(f"/cycles/{published['slug']}/projects/AP-B").text
    assert "Funded" in page and "It came 1st with 3 votes." in page
