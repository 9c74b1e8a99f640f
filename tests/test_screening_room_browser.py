"""The screening room in Debian's Chromium (Playwright pointed at /usr/bin/chromium): a scripted
reviewer who answers from a labelled review's labels screens it through the page.

Set DLMIA_SCREENSHOTS to a folder to keep the screenshots of the screening view and the progress
panel that the quick profile's test takes (docs/images/ holds the README's).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import cohen_kappa_score

from screening_room_server import DONNERS, REPO, Server
from workflow.literature.active_learning import LabelledReview, features, recall_curve, simulate, wss
from workflow.literature.screen import SCREEN, Criteria, term_pattern
from workflow.screening_room.store import Review

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (`make browser` installs it)")
WORDS = {1: "relevant", 0: "irrelevant"}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def donners(data_root: Path) -> dict:
    """The labelled review, its record ids and the simulation's order for seed 0."""
    path = data_root / DONNERS
    review = LabelledReview.read(path, "Donners_2021")
    ids = pd.read_csv(path, dtype=str, keep_default_na=False)["openalex_id"].tolist()
    return {"path": path, "labels": review.labels, "ids": ids, "order": simulate(features(review.texts), review.labels, seed=0)}


@pytest.fixture
def server(tmp_path: Path, donners: dict):
    running = Server(tmp_path / "review.sqlite", "--records", str(donners["path"]), "--config", str(REPO / "config.yaml")).start()
    yield running
    running.stop()


def renders(page) -> int:
    return int(page.evaluate("document.body.dataset.renders || 0"))


def open_record(page, server: Server, record_id: str) -> None:
    page.goto(f"{server.url}/?reviewer=alice&record={quote(record_id, safe='')}")
    page.wait_for_function("document.body.dataset.renders >= 1")


def answer(page, label: int, key: bool) -> str:
    """Decide the record shown, by keyboard or by button, and wait for the next one; returns the record decided."""
    record, before = page.evaluate("document.body.dataset.record"), renders(page)
    if key:
        page.keyboard.press("r" if label else "i")
    else:
        page.click(f"#{WORDS[label]}")
    page.wait_for_function(f"Number(document.body.dataset.renders) > {before}")
    return record


def screen_priors(page, server: Server, donners: dict) -> list[tuple[str, str]]:
    clicks = []
    for position in donners["order"][:2]:
        open_record(page, server, donners["ids"][position])
        clicks.append((answer(page, donners["labels"][position], key=False), WORDS[donners["labels"][position]]))
    return clicks


def test_a_scripted_reviewer_sees_the_simulations_order_and_recall(browser, server: Server, donners: dict):
    labels, ids, order = donners["labels"], donners["ids"], donners["order"]
    index = {r: i for i, r in enumerate(ids)}
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    clicks = screen_priors(page, server, donners)
    shown = [index[r] for r, _ in clicks]
    while labels[shown].sum() < labels.sum():
        position = index[page.evaluate("document.body.dataset.record")]
        shown.append(position)
        clicks.append((answer(page, labels[position], key=len(shown) % 2 == 0), WORDS[labels[position]]))
    n = len(shown)
    assert shown == order[:n].tolist()  # the simulation's order, record for record
    state = page.evaluate("fetch('/api/state?reviewer=alice').then(r => r.json())")
    found = np.array(state["progress"]["found"])
    assert found.tolist() == np.cumsum(labels[order[:n]]).tolist()
    assert found / labels.sum() == pytest.approx(recall_curve(order, labels)[:n])
    assert state["progress"]["work_saved"] == pytest.approx(1 - n / len(labels))
    rest = [p for p in order[n:]]  # the records never screened, in any order: no metric depends on it
    assert wss(np.array(shown + rest), labels) == pytest.approx(wss(order, labels))
    assert page.inner_text("#screened") == str(n) and page.inner_text("#found") == str(labels.sum())
    stored = Review(server.review).decisions()
    assert [(d.record_id, d.label) for d in stored] == clicks  # one row per click, in click order
    assert {d.reviewer for d in stored} == {"alice"} and all(d.rank is not None for d in stored[2:])


def test_a_killed_server_loses_and_duplicates_nothing(browser, server: Server, donners: dict):
    labels, ids, order = donners["labels"], donners["ids"], donners["order"]
    page = browser.new_page()
    clicks = screen_priors(page, server, donners)
    for _ in range(3):
        clicks.append((answer(page, labels[ids.index(page.evaluate("document.body.dataset.record"))], key=True), ""))
    server.kill()  # between two decisions
    record, before = page.evaluate("document.body.dataset.record"), renders(page)
    page.click("#irrelevant")  # sent to no server: the page keeps it and retries
    page.wait_for_function("document.getElementById('message').textContent.includes('does not answer')")
    server.start()
    page.wait_for_function(f"Number(document.body.dataset.renders) > {before}", timeout=30_000)
    clicks.append((record, "irrelevant"))
    for _ in range(3):
        clicks.append((answer(page, labels[ids.index(page.evaluate("document.body.dataset.record"))], key=True), ""))
    stored = Review(server.review).decisions()
    assert [d.record_id for d in stored] == [r for r, _ in clicks]  # each click once, none lost
    assert [d.record_id for d in stored[:5]] == [ids[p] for p in order[:5]]  # a restart goes on where it stopped
    assert stored[5].label == "irrelevant"


def test_two_tabs_deciding_one_record_store_one_decision(browser, server: Server, donners: dict):
    first, second = browser.new_page(), browser.new_page()
    screen_priors(first, server, donners)
    for page in (first, second):
        page.goto(f"{server.url}/?reviewer=alice")
        page.wait_for_function("document.body.dataset.renders >= 1")
    record = first.evaluate("document.body.dataset.record")
    assert second.evaluate("document.body.dataset.record") == record
    answer(first, 1, key=False)
    second.click("#irrelevant")
    second.wait_for_function("document.getElementById('message').textContent.includes('decided meanwhile')")
    on_record = [d for d in Review(server.review).decisions() if d.record_id == record]
    assert [(d.label, d.reviewer) for d in on_record] == [("relevant", "alice")]
    assert record in second.inner_text("#message")


def test_undo_and_change_write_new_rows(browser, server: Server, donners: dict):
    page = browser.new_page()
    screen_priors(page, server, donners)
    record = answer(page, 0, key=True)
    before = renders(page)
    page.keyboard.press("u")  # undo: the record comes back
    page.wait_for_function(f"Number(document.body.dataset.renders) > {before}")
    assert page.evaluate("document.body.dataset.record") == record
    page.fill("#note", "dose-finding only")
    answer(page, 1, key=False)
    page.click("#history li:nth-child(1) a")  # the latest decision, opened again to change it
    page.wait_for_function(f"document.body.dataset.record === {record!r}")
    page.fill("#reason", "wrong population")
    answer(page, 0, key=False)
    rows = [d for d in Review(server.review).decisions() if d.record_id == record]
    assert [(d.label, d.note, d.reason) for d in rows] == [("irrelevant", "", ""), ("undone", "", ""), ("relevant", "dose-finding only", ""), ("irrelevant", "dose-finding only", "wrong population")]


def test_the_quick_profiles_records_with_the_criteria_marked(browser, tmp_path: Path, quick_screened):
    """`make screen`'s records; a scripted reviewer answers relevant when the title says deep,
    neural or network (the rules found no sure method term in these records), 60 times, and the
    screening view and progress panel are photographed."""
    screening = yaml.safe_load((REPO / "config.yaml").read_text())["literature"]["screening"]
    method = term_pattern(("deep", "neural", "network"))
    records = tmp_path / "to_screen.csv"
    to_screen = quick_screened[quick_screened["decision"] == SCREEN]
    to_screen.to_csv(records, index=False)
    running = Server(tmp_path / "review.sqlite", "--records", str(records), "--config", str(REPO / "config.yaml")).start()
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 960})
        page.goto(f"{running.url}/?reviewer=ana")
        page.wait_for_function("document.body.dataset.renders >= 1")
        titles = dict(zip(to_screen["record_id"], to_screen["title"]))
        for _ in range(60):
            answer(page, int(bool(method.search(titles[page.evaluate("document.body.dataset.record")]))), key=True)
        shown = to_screen.set_index("record_id").loc[page.evaluate("document.body.dataset.record")]
        criteria = Criteria.from_config(screening)
        for css, groups in (("required", criteria.required_terms), ("uncertain", criteria.uncertain_terms)):
            terms = tuple(t for group in groups.values() for t in group)
            found = {m.group() for text in (shown["title"], shown["abstract"]) for m in term_pattern(terms).finditer(text)}
            assert set(page.locator(f"#record mark.{css}").all_inner_texts()) <= found
        assert page.locator("#record mark").count() > 0
        assert page.inner_text("#screened") == "60" and page.inner_text("#total") == str(len(to_screen))
        assert "hypergeometric rule says" in page.inner_text("#stop-advice")
        folder = Path(os.environ.get("DLMIA_SCREENSHOTS") or tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=folder / "screening_room.png")
        page.locator("#progress").screenshot(path=folder / "screening_room_progress.png")
    finally:
        running.stop()


def test_two_blinded_reviewers_their_kappa_and_a_resolved_conflict(browser, tmp_path: Path, donners: dict):
    alice = ["relevant", "relevant", "irrelevant", "irrelevant", "irrelevant", "maybe", "irrelevant", "relevant"]
    bob = ["relevant", "irrelevant", "irrelevant", "irrelevant", "relevant", "maybe", "irrelevant", "relevant"]
    running = Server(tmp_path / "double.sqlite", "--records", str(donners["path"]), "--double").start()
    try:
        pages = {name: browser.new_context().new_page() for name in ("alice", "bob")}
        for name, labels in (("alice", alice), ("bob", bob)):
            page = pages[name]
            for decided, (record, label) in enumerate(zip(donners["ids"], labels)):
                page.goto(f"{running.url}/?reviewer={name}&record={quote(record, safe='')}")
                page.wait_for_function("document.body.dataset.renders >= 1")
                if name == "bob":  # alice decided this record already: bob must not see it
                    assert page.inner_text("#current") == "" and page.locator("#history li").count() == decided  # bob's own
                    assert page.inner_text("#screened") == str(decided)
                page.click(f"#{label}")
                page.wait_for_function("Number(document.body.dataset.renders) >= 2")
        page = pages["alice"]
        page.goto(f"{running.url}/agreement")
        page.wait_for_function("document.body.dataset.conflicts === '2'")
        assert page.inner_text("#kappa") == f"{cohen_kappa_score(alice, bob):.3f}" and page.inner_text("#agreement") == "0.750"
        page.fill("#resolver", "carol")
        page.click(f"tr[data-record='{donners['ids'][1]}'] .resolve-irrelevant")
        page.wait_for_function("document.body.dataset.conflicts === '1'")
        assert page.inner_text("#final") == "4 irrelevant, 2 relevant, 1 maybe"
    finally:
        running.stop()
    resolutions = [d for d in Review(tmp_path / "double.sqlite").decisions() if d.role == "resolve"]
    assert [(d.record_id, d.reviewer, d.label) for d in resolutions] == [(donners["ids"][1], "carol", "irrelevant")]


def test_a_lost_answer_or_a_closed_tab_loses_and_duplicates_nothing(browser, server: Server, donners: dict):
    page = browser.new_page()
    screen_priors(page, server, donners)
    record, before = page.evaluate("document.body.dataset.record"), renders(page)

    def stored_but_unanswered(route) -> None:  # the server stores the decision, the page never hears back
        route.fetch()
        route.abort()
        page.unroute("**/api/decisions")

    page.route("**/api/decisions", stored_but_unanswered)
    page.click("#irrelevant")
    page.wait_for_function(f"Number(document.body.dataset.renders) > {before}", timeout=30_000)  # resent with its request id
    assert [d.record_id for d in Review(server.review).decisions()].count(record) == 1
    following = page.evaluate("document.body.dataset.record")
    page.route("**/api/decisions", lambda route: route.abort())  # the tab is closed before its decision leaves
    page.click("#relevant")
    page.close()
    again = browser.new_page()
    again.goto(f"{server.url}/?reviewer=alice")
    again.wait_for_function("document.body.dataset.renders >= 1")
    assert again.evaluate("document.body.dataset.record") == following  # shown again, to be decided
    assert [d.record_id for d in Review(server.review).decisions()] == [*(donners["ids"][p] for p in donners["order"][:2]), record]
