"""Issue #14: the chat page as a first-time reader meets it, on a laptop and on a phone.

Each test drives a real headless Chromium against a launched server with the real models.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

import pytest

from index.split import paragraphs
from rag.types import Citation

LAPTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = [pytest.param(LAPTOP, id="laptop"), pytest.param(PHONE, id="phone")]
ANSWER_TIMEOUT_MS = 90_000
DEATHS = "How many people in the U.S. died of overdoses last year?"
CHINA = "What step did China take against fentanyl in 2019?"
WHY = "Why is cooperation between the U.S. and China on fentanyl hard?"
NOT_SAID = "Did Justin Trudeau comment on the opioid crisis?"
SOMEONE_ELSE = "What is Vanda Felbab-Brown's job?"
# The article's closing byline and bio, about its writer (issue #14 item 8).
BIO_LINES = (
    "Katrina Northrop is a former staff writer at The Wire China, and joined The Washington "
    "Post in August 2024.",
    "@NorthropKatrina",
)
BIO_WORDS = ("Katrina Northrop", "@NorthropKatrina", "staff writer")
QUOTES = "#vq-chat blockquote.vq-src .vq-text, .vq-article mark.vq, .vq-article mark.vq-related"

# True when the element is inside the window and inside its scrolling box.
SEEN = """el => {
  const r = el.getBoundingClientRect();
  let box = el.parentElement;
  while (box && box !== document.body) {
    const o = getComputedStyle(box).overflowY;
    if ((o === 'auto' || o === 'scroll') && box.scrollHeight > box.clientHeight) break;
    box = box.parentElement;
  }
  const inBox = box && box !== document.body;
  const b = inBox ? box.getBoundingClientRect() : {top: 0, bottom: innerHeight};
  return r.height > 0 && r.top >= Math.max(0, b.top) - 1 && r.top < Math.min(innerHeight, b.bottom);
}"""


def open_page(browser: Any, url: str, viewport: dict[str, int]) -> Any:
    """A new chat session at ``viewport``, once the article is there."""
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    page = context.new_page()
    page.goto(url, wait_until="load")
    page.wait_for_selector("#vq-question textarea", timeout=30_000)
    page.wait_for_selector(".vq-article .vq-p", state="attached")
    page.wait_for_timeout(300)  # the page script installs its handlers on load
    return page


@pytest.fixture(params=VIEWPORTS)
def page(request, browser, app_url):
    page = open_page(browser, app_url, request.param)
    yield page
    page.context.close()


@pytest.fixture
def laptop(browser, app_url):
    page = open_page(browser, app_url, LAPTOP)
    yield page
    page.context.close()


def answers(page: Any) -> int:
    return page.locator("#vq-chat .va-timings, #vq-chat .va-error").count()


def ask(page: Any, question: str) -> None:
    """Type ``question``, press Enter and wait for one more finished answer."""
    before = answers(page)
    page.fill("#vq-question textarea", question)
    page.press("#vq-question textarea", "Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#vq-chat .va-timings, #vq-chat .va-error').length > n",
        arg=before,
        timeout=ANSWER_TIMEOUT_MS,
    )
    page.wait_for_selector("#vq-send", state="visible")


def wait_seen(page: Any, ident: str) -> None:
    """Wait until the element ``ident`` exists and is in view."""
    page.wait_for_function(
        f"id => {{ const el = document.getElementById(id); return !!el && ({SEEN})(el); }}",
        arg=ident,
        timeout=5_000,
    )


def is_phone(page: Any) -> bool:
    return page.viewport_size["width"] < 768


def test_each_answer_highlights_its_own_quotes(page):
    ask(page, DEATHS)
    ask(page, CHINA)
    first, second = page.locator("#vq-chat .va-answer").all()[:2]
    first_quote = first.locator("blockquote.vq-src .vq-text").first.inner_text()
    second_quote = second.locator("blockquote.vq-src .vq-text").first.inner_text()
    assert first_quote != second_quote
    label = page.locator("#vq-article-label")
    assert "Quotes of answer 2" in label.text_content()

    # [1] of the first answer: the article switches to answer 1's quotes and shows its [1].
    first.locator(".va-text a.vq-ref").first.click()
    page.wait_for_function(
        "() => document.querySelector('#vq-article-label').textContent.includes('answer 1')"
    )
    mark = page.locator(".vq-article #vq-1-1")
    assert mark.text_content() == first_quote
    # The short answer's exact words are marked inside the quote.
    assert first.locator(".va-short").inner_text() == "105,000"
    assert mark.locator("strong.vq-aq").text_content() == "105,000"
    wait_seen(page, "vq-1-1")
    assert page.locator(".vq-article #vq-2-1").count() == 0
    if is_phone(page):  # the article opened over the chat, and closes again
        page.click(".vq-close-article")
        page.wait_for_function("() => !document.querySelector('#vq-article-col.vq-open')")

    # A source of the second answer: back to answer 2's quotes.
    second.locator("blockquote.vq-src .vq-where").first.click()
    wait_seen(page, "vq-2-1")
    assert page.locator(".vq-article #vq-2-1").text_content() == second_quote
    assert "Quotes of answer 2" in label.text_content()


def test_the_title_then_each_new_question_and_its_answer_stay_in_view(page):
    title = page.locator("#vq-header h1")
    assert page.evaluate("scrollY") == 0 and title.evaluate(SEEN)
    for question in (WHY, CHINA, WHY):
        before = page.evaluate("scrollY")
        ask(page, question)
        page.wait_for_timeout(500)
        # The page did not jump (on a phone: not to the article), and the new question and
        # the first lines of its answer are in view in the chat.
        assert page.evaluate("scrollY") == before
        assert page.locator("#vq-chat .vq-question").last.evaluate(SEEN)
        assert page.locator("#vq-chat .va-text").last.evaluate(SEEN)
    assert page.locator("#vq-article-col.vq-open").count() == 0


def test_blank_and_too_long_questions_never_reach_the_chat(page):
    send = page.locator("#vq-send")
    for text in ("", "   \n  "):
        page.fill("#vq-question textarea", text)
        page.press("#vq-question textarea", "Enter")
        send.click(force=True)
    assert send.get_attribute("aria-disabled") == "true"
    counter = page.locator("#vq-count")
    page.fill("#vq-question textarea", "why " * 1_250)
    page.wait_for_function(
        "() => document.querySelector('#vq-count').textContent.includes('5,000 / 2,000')"
    )
    assert "vq-over" in counter.get_attribute("class")
    page.press("#vq-question textarea", "Enter")
    send.click(force=True)
    page.wait_for_timeout(1_000)
    assert page.locator("#vq-chat .vq-question, #vq-chat .va").count() == 0
    assert "shorten" in counter.inner_text()
    assert page.input_value("#vq-question textarea") == "why " * 1_250
    # A question within the limit is sent, and the count says so.
    ask(page, CHINA)
    assert page.locator("#vq-chat .vq-question").count() == 1
    assert page.locator("#vq-chat .va-error").count() == 0


class SlowBot:
    """The real pipeline, holding back each final answer until ``release`` is set (or 60 s)."""

    def __init__(self, bot: Any):
        self.bot = bot
        self.config = bot.config
        self.documents = bot.documents
        self.release = threading.Event()

    def ask_stream(self, question, history=None, k=None):
        for answer in self.bot.ask_stream(question, history, k):
            if answer.complete:
                self.release.wait(60)
            yield answer


@pytest.fixture(scope="module")
def slow(serve, bot):
    slow = SlowBot(bot)
    url = serve(slow)
    yield slow, url
    slow.release.set()


def test_send_becomes_stop_which_keeps_the_quotes_found(browser, slow):
    bot, url = slow
    page = open_page(browser, url, LAPTOP)
    page.fill("#vq-question textarea", CHINA)
    page.click("#vq-send")
    page.wait_for_selector("#vq-chat .va-partial blockquote.vq-src", timeout=ANSWER_TIMEOUT_MS)
    stop = page.locator("#vq-stop")
    assert stop.is_visible() and not page.locator("#vq-send").is_visible()
    # Typing on meanwhile: Enter says why nothing is sent, and the text stays.
    page.fill("#vq-question textarea", WHY)
    page.press("#vq-question textarea", "Enter")
    assert "press Stop" in page.locator("#vq-count .vq-hint").inner_text()
    assert page.locator("#vq-chat .vq-question").count() == 1
    stop.click()
    page.wait_for_selector("#vq-send", state="visible")
    stopped = page.locator("#vq-chat .va-stopped")
    stopped.wait_for()
    assert "Stopped" in stopped.inner_text() and stopped.locator("blockquote.vq-src").count()
    assert page.locator(".vq-article mark.vq").count() >= 1
    assert page.input_value("#vq-question textarea") == WHY
    bot.release.set()
    page.wait_for_timeout(1_500)  # a cancelled answer must not come back
    assert page.locator("#vq-chat .va-stopped").count() == 1
    assert page.locator("#vq-chat .va-timings").inner_text().startswith("stopped")
    page.context.close()


def test_the_line_under_an_answer_says_what_happened_in_words(laptop):
    ask(laptop, WHY)
    line = laptop.locator("#vq-chat .va-timings").last.inner_text()
    assert line.startswith("answered from the quotes · ") and line.endswith(" s")
    ask(laptop, NOT_SAID)
    footer = laptop.locator("#vq-chat .va-abstain .va-timings").last
    assert footer.inner_text().startswith("the article doesn't say · ")
    assert "SmolLM2" not in footer.inner_text() + footer.get_attribute("title")
    ask(laptop, DEATHS)
    assert (
        laptop.locator("#vq-chat .va-timings")
        .last.inner_text()
        .startswith("short answer cut from quote [1] · ")
    )


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_examples_and_settings_are_in_view_and_the_unanswered_one_says_so(
    browser, app_url, viewport
):
    page = open_page(browser, app_url, viewport)
    assert page.evaluate("scrollY") == 0
    examples = page.locator("#vq-examples button.vq-example").all()
    assert len(examples) >= 3
    shown = [page.locator("#vq-header h1"), *examples, page.locator("#vq-settings")]
    shown += [page.locator("#vq-question textarea"), page.locator("#vq-send")]
    for element in shown:
        box = element.bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
    labels = [e.inner_text() for e in examples]
    assert [t for t in labels if "not in the article" in t] == [
        "What did Justin Trudeau say about fentanyl? · not in the article"
    ]
    page.context.close()


def quotes_shown(page: Any) -> list[str]:
    """The text of every quote in the chat and every highlighted quote in the article."""
    return [el.text_content() for el in page.locator(QUOTES).all()]


def assert_no_bio(page: Any) -> None:
    """The last answer quotes something, and nothing shown as a quote is the writer's bio."""
    answer = page.locator("#vq-chat .va-answer").last
    assert answer.locator("blockquote.vq-src").count() >= 1
    shown = quotes_shown(page)
    assert shown and [q for q in shown if any(w in q for w in BIO_WORDS)] == []
    assert not any(w in answer.inner_text() for w in BIO_WORDS)


def test_an_answer_about_someone_else_quotes_no_byline_or_bio(page):
    ask(page, SOMEONE_ELSE)
    assert "Felbab-Brown" in page.locator("#vq-chat .va-answer .va-text").last.inner_text()
    assert_no_bio(page)


def cite(documents: dict[str, Any], quote: str, n: int) -> Citation:
    """Citation ``n`` of ``quote``, with its exact offsets and paragraph in the article."""
    source, doc = next((s, d) for s, d in documents.items() if quote in d.text)
    start = doc.text.index(quote)
    para = next(i for i, (a, b) in enumerate(paragraphs(doc.text), 1) if a <= start < b)
    return Citation(n, quote, source, start, start + len(quote), para, 0.5)


class BioBot:
    """The real pipeline, every answer's quotes followed by the article's byline and bio lines
    (as retrieval once returned them for "Who is Vanda Felbab-Brown?"); keeps what it sent."""

    def __init__(self, bot: Any):
        self.bot = bot
        self.config = bot.config
        self.documents = bot.documents
        self.sent: list[Any] = []

    def ask_stream(self, question, history=None, k=None):
        for answer in self.bot.ask_stream(question, history, k):
            if answer.citations:
                n = len(answer.citations)
                bio = [cite(self.documents, q, n + i) for i, q in enumerate(BIO_LINES, 1)]
                answer = dataclasses.replace(answer, citations=(*answer.citations, *bio))
            self.sent.append(answer)
            yield answer


@pytest.fixture(scope="module")
def bio_chat(serve, bot):
    bio_bot = BioBot(bot)
    return bio_bot, serve(bio_bot)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_byline_and_bio_lines_sent_with_an_answer_about_someone_else_are_not_shown(
    browser, bio_chat, viewport
):
    bot, url = bio_chat
    page = open_page(browser, url, viewport)
    bot.sent.clear()
    page.click("#vq-examples button.vq-example:has-text('Felbab-Brown')")
    page.wait_for_selector("#vq-chat .va-timings, #vq-chat .va-error", timeout=ANSWER_TIMEOUT_MS)
    # The server did send the bio lines as sources [n+1] and [n+2] of the answer...
    final = bot.sent[-1]
    assert final.complete and not final.abstained
    assert [c.quote for c in final.citations[-2:]] == list(BIO_LINES)
    # ...and the page shows the answer's own quotes without them, in the chat and the article.
    kept = len(final.citations) - len(BIO_LINES)
    answer = page.locator("#vq-chat .va-answer").last
    assert answer.locator("blockquote.vq-src").count() == kept
    assert answer.locator("summary").text_content() == f"Sources ({kept})"
    assert page.locator(".vq-article mark.vq[id]").count() == kept
    assert_no_bio(page)
    page.context.close()


def test_export_downloads_the_chat_as_markdown(laptop):
    assert laptop.locator("#vq-export").is_disabled()
    ask(laptop, DEATHS)
    ask(laptop, NOT_SAID)
    laptop.wait_for_function("() => !document.querySelector('#vq-export').disabled")
    with laptop.expect_download() as download:
        laptop.click("#vq-export")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    quote = laptop.locator("#vq-chat .va-answer blockquote.vq-src .vq-text").first.inner_text()
    where = laptop.locator("#vq-chat .va-answer .vq-where").first.inner_text()
    chars = where.split("chars ")[1]
    assert text.startswith("# Verbatim chat\n")
    assert f"## 1. {DEATHS}" in text and "105,000 [1]" in text
    assert f"> [1] {quote}" in text and f"article.txt, paragraph 2, characters {chars}" in text
    assert f"## 2. {NOT_SAID}" in text and "The article doesn't say" in text
    assert "**Related passages**" in text


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_no_serious_or_critical_accessibility_violations(browser, app_url, viewport):
    from axe_playwright_python import sync_playwright as axe_playwright

    page = open_page(browser, app_url, viewport)
    ask(page, DEATHS)
    ask(page, NOT_SAID)
    page.wait_for_timeout(500)
    results = axe_playwright.Axe().run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == []
    # Markers and copy buttons have names a screen reader can say.
    marker = page.locator("#vq-chat a.vq-ref").first
    assert marker.get_attribute("title") == "Show quote 1 of answer 1 in the article"
    copy = page.locator("#vq-chat button[aria-label='Copy message']")
    assert copy.count() >= 2
    page.context.close()
