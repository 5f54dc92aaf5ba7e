"""The /playground page in a real headless Chromium (Debian ``chromium``), driven by Playwright.

Playwright's own browser downloads are never used: it launches the system Chromium. Set-up:
``apt-get install -y chromium`` (``make system-deps``) and ``pip install playwright``.
Screenshots land in ``artifacts/`` (gitignored) as test artefacts; the first-contact one in
``runs/playground.png`` (gitignored too).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from compressor import count_tokens
from tests.condenser.hotpotqa import hotpotqa_items
from tests.condenser.live_server import serve, service_app

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
RUNS = Path(__file__).resolve().parents[2] / "runs"
CHROMIUM = os.environ.get("CONDENSER_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
COLD_START_MS = 180_000  # the first default-method request loads the embedding model on 2 cores


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (no browser download)")
    if not CHROMIUM:
        pytest.skip("no Chromium binary: apt-get install -y chromium (make system-deps)")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def service():
    with serve(service_app()) as url:
        yield url


@pytest.fixture
def page(browser, service, request):
    # bypass_csp: the escaping test must pass on escaping alone, not thanks to the page's CSP
    context = browser.new_context(viewport={"width": 1280, "height": 1500},
                                  bypass_csp=getattr(request, "param", False))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{service}/playground/")
    page.wait_for_selector("#method option[value=truncate]", state="attached")
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def number(page, selector: str) -> int:
    return int(re.sub(r"[^\d]", "", page.text_content(selector).split("(")[0]))


def run_and_wait(page) -> None:
    page.focus("#context")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#results:not([hidden])", timeout=COLD_START_MS)
    page.wait_for_selector("#run:not([disabled])", timeout=COLD_START_MS)  # (no string eval: the CSP forbids it)


def test_hotpotqa_compression_highlights_evidence_and_counts(page, shared_data):
    item = hotpotqa_items(shared_data, 3)[2]  # Alfred Balk -> Nelson Rockefeller
    context = "\n\n".join(item["paragraphs"])
    page.fill("#context", context)
    page.fill("#query", item["question"])
    page.fill("#rate", "0.2")
    page.select_option("#model", "gpt-4o")
    assert page.input_value("#method") == "condenser"  # the default method is preselected
    run_and_wait(page)

    original, compressed = number(page, "#stat-original"), number(page, "#stat-compressed")
    assert original == count_tokens(context, "o200k_base")  # counted in gpt-4o's tokenizer
    assert 0 < compressed <= 0.2 * original + 1
    assert "estimate" in page.text_content("#stat-cost") and "$" in page.text_content("#stat-cost")
    assert "ms" in page.text_content("#stat-latency") and "miss" in page.text_content("#stat-cache")

    # the view is the whole original, split into kept (highlighted) and dropped (struck through) text
    assert page.eval_on_selector("#view", "el => el.textContent") == context
    kept = page.eval_on_selector_all("#view mark.kept", "els => els.map(e => e.textContent)")
    dropped = page.eval_on_selector_all("#view del.dropped", "els => els.map(e => e.textContent)")
    output = page.input_value("#output")
    assert kept and dropped and all(piece in output for piece in kept)
    assert any(item["answer"] in piece for piece in kept), "the gold answer is highlighted as kept"
    assert page.evaluate("document.activeElement.id") == "results-title"  # focus moves to the result

    ARTIFACTS.mkdir(exist_ok=True)
    page.evaluate("""answer => [...document.querySelectorAll('#view mark.kept')]
        .find(m => m.textContent.includes(answer)).scrollIntoView({block: 'center'})""", item["answer"])
    page.screenshot(path=str(ARTIFACTS / "playground.png"), full_page=True)

    run_and_wait(page)  # the same request again comes from the cache
    assert "hit" in page.text_content("#stat-cache")


@pytest.mark.parametrize("page", [True], indirect=True, ids=["csp-bypassed"])
def test_script_in_the_context_renders_as_text(page):
    hostile = ('<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> '
               "🙂 Paris is the capital of France. <b>bold?</b> ") + "The Seine flows through Paris. " * 40
    page.fill("#context", hostile)
    page.fill("#query", "<img src=y onerror=\"window.__pwned = 3\">")
    page.select_option("#method", "truncate")
    page.fill("#rate", "0.5")
    run_and_wait(page)

    assert page.evaluate("window.__pwned") is None
    assert page.locator("#view script, #view img, #view b, #status img").count() == 0
    assert page.eval_on_selector("#view", "el => el.textContent") == hostile
    first = page.text_content("#view mark.kept")
    assert first.startswith("<script>window.__pwned = 1</script><img src=x")
    # offsets are code points in Python and UTF-16 units in JS: the emoji must not shift the highlight
    assert all(piece in page.input_value("#output")
               for piece in page.eval_on_selector_all("#view mark.kept", "els => els.map(e => e.textContent)"))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "playground-escaping.png"), full_page=True)


def test_keyboard_only_use(page):
    order = []
    for _ in range(10):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id"))
    assert order == ["context", "file", "sample", "query", "method", "budget-rate", "rate", "model", "api-key", "run"]
    unlabelled = page.evaluate(
        "[...document.querySelectorAll('input, select, textarea')].filter(e => !e.labels.length).map(e => e.id)")
    assert unlabelled == []

    page.focus("#budget-rate")
    page.keyboard.press("ArrowDown")  # arrow keys switch the budget kind
    assert page.is_checked("#budget-tokens") and page.is_enabled("#target-tokens") and page.is_disabled("#rate")

    page.focus("#context")
    page.keyboard.insert_text("Alpha beta gamma delta. " * 30)
    page.focus("#method")
    page.keyboard.type("truncate")
    assert page.input_value("#method") == "truncate"
    page.focus("#target-tokens")
    page.keyboard.press("Control+A")
    page.keyboard.type("20")
    page.focus("#query")
    page.keyboard.type("gamma?")
    page.keyboard.press("Enter")  # Enter in a field submits
    page.wait_for_selector("#results:not([hidden])", timeout=COLD_START_MS)
    assert number(page, "#stat-compressed") <= 20


def test_bad_budget_is_reported_not_sent(page):
    page.fill("#context", "Some text to compress.")
    page.fill("#rate", "1.5")
    page.focus("#query")
    page.keyboard.press("Enter")
    assert "budget" in page.text_content("#status") and page.is_hidden("#results")


def test_file_upload_fills_the_context(page):
    text = "Uploaded <notes> about the Seine.\nSecond line."
    page.set_input_files("#file", files=[{"name": "notes.txt", "mimeType": "text/plain",
                                          "buffer": text.encode()}])
    page.wait_for_selector("#status:has-text('notes.txt')")
    assert page.input_value("#context") == text
    assert "notes.txt" in page.text_content("#status")


def test_service_error_message_is_shown(page):
    page.fill("#context", "Some text to compress. " * 20)
    page.evaluate("""() => { const o = document.createElement('option');
                             o.value = o.textContent = 'no-such-method';
                             document.querySelector('#method').append(o); }""")
    page.select_option("#method", "no-such-method")
    page.click("#run")
    page.wait_for_selector("#status.error")
    assert "method" in page.text_content("#status").lower() and page.is_hidden("#results")


def visible_box(page, selector: str, index: int) -> dict:
    return page.locator(selector).nth(index).bounding_box()


def test_sample_jump_to_kept_shading_and_separators(page, service):
    page.click("#sample")
    page.wait_for_selector("#status:has-text('sample')")
    assert page.input_value("#context").startswith("# Northwind Rail Operations Handbook")
    assert page.input_value("#query") == "How much notice does the bus contractor need at weekends?"
    page.fill("#rate", "0.2")
    run_and_wait(page)
    # the rate applies to the context; the handbook's Markdown headings of kept sections come on top
    assert number(page, "#stat-compressed") <= 0.25 * number(page, "#stat-original")

    kept = page.locator("#view mark.kept")
    count = kept.count()
    assert count >= 3
    assert page.text_content("#jump-position") == f"{count} kept pieces" and page.is_enabled("#jump-kept")

    # relevance shading: the pieces differ visibly (background alpha spans most of the scale)
    alphas = page.eval_on_selector_all("#view mark.kept[data-strength]", """els => els.map(e => {
        const m = getComputedStyle(e).backgroundColor.match(/rgba?\\(([^)]+)\\)/)[1].split(',');
        return m.length === 4 ? Number(m[3]) : 1; })""")
    assert len(alphas) >= 3 and max(alphas) - min(alphas) > 0.5, alphas

    # jump to kept: each click marks the next piece and scrolls the view to it; the last wraps to the first
    page.click("#jump-kept")
    assert page.locator("#view mark.kept.current").count() == 1
    assert page.eval_on_selector("#view mark.kept.current", "e => e === document.querySelector('#view mark.kept')")
    assert page.text_content("#jump-position").startswith(f"piece 1 of {count}")
    for _ in range(count - 1):
        page.click("#jump-kept")
    assert page.text_content("#jump-position").startswith(f"piece {count} of {count}")
    view, last = page.locator("#view").bounding_box(), visible_box(page, "#view mark.kept", count - 1)
    assert view["y"] <= last["y"] <= view["y"] + view["height"], "the last piece is scrolled into the view"
    assert page.eval_on_selector("#view", "e => e.scrollTop") > 0
    page.click("#jump-kept")
    assert page.text_content("#jump-position").startswith(f"piece 1 of {count}")

    # dropped text hidden: a labelled separator stands between kept pieces, the view's text is unchanged
    assert page.locator("#view .separator").first.is_hidden()
    page.uncheck("#show-dropped")
    assert page.locator("#view del.dropped").first.is_hidden()
    separators = page.locator("#view .separator")
    assert separators.count() >= count - 1 and separators.first.is_visible()
    label = page.eval_on_selector("#view .separator", "e => getComputedStyle(e, '::before').content")
    assert "dropped" in label and "word" in label
    assert page.eval_on_selector("#view", "el => el.textContent") == page.input_value("#context")

    page.click("#jump-kept")
    RUNS.mkdir(exist_ok=True)
    page.screenshot(path=str(RUNS / "playground.png"), full_page=True)
    page.check("#show-dropped")
    page.screenshot(path=str(RUNS / "playground-dropped-shown.png"), full_page=True)
    assert page.request.get(f"{service}/favicon.ico").status == 200
