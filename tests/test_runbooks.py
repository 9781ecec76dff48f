"""The plan's runbook document, docs/INCIDENT_RESPONSE_RUNBOOKS.md: every relative runbook
link that the plan's alerts carry names a heading of a file that exists, and the document
links to the generated alert catalog.

Checked on the plan's fixture (tests/cases/plan: its slo/, out/ and a copy of docs/), not
on the repository's own slo/, so that the suite passes whatever a team keeps there.
"""

from __future__ import annotations

import re

from slogen import api
from slogen import conventions as c
from slogen.builders.rules import build_rule_files

from .conftest import PLAN as ROOT  # holds slo/, out/ and docs/, as the repository does
from .test_catalog import _github_anchors, _links

RUNBOOKS = ROOT / "docs" / "INCIDENT_RESPONSE_RUNBOOKS.md"


def _relative_runbooks() -> set[str]:
    model = api.load_model(api.Options(spec_dir=ROOT / "slo", templates=None))
    urls = {
        rule["annotations"]["runbook_url"]
        for item in build_rule_files(model).values()
        for group in item["groups"]
        for rule in group["rules"]
        if "alert" in rule and "runbook_url" in rule["annotations"]
    }
    return {url for url in urls if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:|/", url)}


def test_every_relative_runbook_link_of_the_alerts_is_a_heading_of_an_existing_file() -> None:
    links = _relative_runbooks()
    for link in sorted(links):
        rel, _, anchor = link.partition("#")
        path = ROOT / rel
        assert path.is_file(), f"{link}: no file {rel} beside slo/"
        assert not anchor or anchor in _github_anchors(path.read_text()), f"{link}: no heading with that anchor"


def test_the_runbook_document_links_to_the_alert_catalog_and_its_own_headings() -> None:
    text = RUNBOOKS.read_text()
    catalog = f"../out/{c.ALERT_CATALOG}"
    assert catalog in _links(text)
    assert (RUNBOOKS.parent / catalog).resolve() == (ROOT / "out" / c.ALERT_CATALOG).resolve()
    assert (ROOT / "out" / c.ALERT_CATALOG).is_file()
    for target in _links(text):
        if target.startswith("#"):
            assert target[1:] in _github_anchors(text), target
