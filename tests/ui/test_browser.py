"""The chat in a real headless Chromium: streaming, quotes, highlights, scrolling, no XSS."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ANSWER_TIMEOUT_MS = 90_000
XSS = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1"> fentanyl?'

# True when element `el` is visible both in the article panel and in the window.
IN_VIEW = """el => {
  const r = el.getBoundingClientRect();
  const box = el.closest('.vq-article').getBoundingClientRect();
  return r.bottom > box.top && r.top < box.bottom && r.top >= 0 && r.bottom <= innerHeight;
}"""


@pytest.fixture
def page(browser, app_url):
    """A fresh page (a new chat session); requests leaving the machine are refused and listed."""
    context = browser.new_context(viewport={"width": 1440, "height": 960})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url.rstrip("/"))
    page = context.new_page()
    page.outside = []
    local = urlsplit(app_url).netloc

    def route(r):
        url = urlsplit(r.request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.netloc != local:
            page.outside.append(r.request.url)
            return r.abort()
        return r.continue_()

    page.route("**/*", route)
    page.goto(app_url, wait_until="load")
    page.wait_for_selector("#vq-question textarea", timeout=30_000)
    page.wait_for_selector(".vq-article .vq-p")
    yield page
    context.close()


def ask(page, question: str) -> None:
    """Submit ``question`` and wait until one more finished answer (or error) is shown."""
    before = page.locator("#vq-chat .va-timings, #vq-chat .va-error").count()
    page.fill("#vq-question textarea", question)
    page.click("#vq-send")
    page.wait_for_function(
        "n => document.querySelectorAll('#vq-chat .va-timings, #vq-chat .va-error').length > n",
        arg=before,
        timeout=ANSWER_TIMEOUT_MS,
    )


def scroll_away(page, key: str) -> None:
    """Scroll the article panel so that the mark ``vq-<key>`` is out of view."""
    for top in ("0", "el.scrollHeight"):
        page.eval_on_selector(".vq-article", f"el => {{ el.scrollTop = {top}; }}")
        if not page.locator(f"#vq-{key}").evaluate(IN_VIEW):
            return
    raise AssertionError(f"mark vq-{key} cannot be scrolled out of view")


def wait_in_view(page, key: str) -> None:
    page.wait_for_function(f"() => ({IN_VIEW})(document.getElementById('vq-{key}'))", timeout=5_000)


def watch_chat(page) -> None:
    """Record which kinds of answer message appear while the chat streams."""
    page.evaluate(
        """() => {
          window.__vqSeen = [];
          new MutationObserver(() => {
            for (const c of ['va-pending', 'va-partial'])
              if (document.querySelector('#vq-chat .' + c) && !window.__vqSeen.includes(c))
                window.__vqSeen.push(c);
          }).observe(document.querySelector('#vq-chat'), {subtree: true, childList: true});
        }"""
    )


def test_answer_streams_with_quotes_highlighted_and_links_scroll(page):
    watch_chat(page)
    ask(page, "How many overdose deaths were there in the U.S. last year?")
    assert page.evaluate("window.__vqSeen")  # the placeholder or the quotes came before the end
    answer = page.locator("#vq-chat .va-answer").last
    quotes = answer.locator("blockquote.vq-src .vq-text").all_inner_texts()
    assert quotes and any("105,000" in q for q in quotes)
    assert "paragraph 2 · chars" in answer.locator(".vq-where").first.inner_text()
    # Each quote is highlighted in the article, with exactly the quoted text.
    for n, quote in enumerate(quotes, 1):
        mark = page.locator(f".vq-article mark.vq#vq-1-{n}")
        assert mark.text_content() == quote
    assert page.locator("#vq-chat .va-timings").last.inner_text().startswith("short answer")

    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(800)  # let the article finish scrolling to the first quote
    page.screenshot(path=str(ARTIFACTS / "chat.png"))

    # Clicking the [1] marker scrolls the article panel to the quote, without navigating.
    url = page.url
    scroll_away(page, "1-1")
    answer.locator('.va-text a[href="#vq-1-1"]').click()
    wait_in_view(page, "1-1")
    assert page.url == url
    # So does clicking a quote in the Sources.
    last = len(quotes)
    scroll_away(page, f"1-{last}")
    answer.locator("blockquote.vq-src").nth(last - 1).locator(".vq-where").click()
    wait_in_view(page, f"1-{last}")

    # The copy button copies the answer and its quotes as plain text.
    page.locator("#vq-chat button[aria-label='Copy message']").last.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "Sources:\n[1] " in copied and quotes[0] in copied and "<" not in copied
    assert page.outside == []


def test_markup_in_a_question_is_shown_as_text_and_never_runs(page):
    ask(page, XSS)
    user = page.locator("#vq-chat .vq-question").last
    assert user.inner_text() == XSS
    assert page.locator("#vq-chat img[src='x'], #vq-chat script").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_abstention_empty_question_undo_retry_and_clear(page):
    ask(page, "What did Justin Trudeau say about fentanyl?")
    abstain = page.locator("#vq-chat .va-abstain").last
    assert abstain.locator("h4.va-heading").inner_text() == "The article doesn't say"
    assert abstain.locator("details summary").text_content() == "Related passages"
    assert page.locator(".vq-article mark.vq").count() == 0
    assert page.locator(".vq-article mark.vq-related").count() >= 1
    scroll_away(page, "1-r1")
    abstain.locator('a[href="#vq-1-r1"]').click()
    wait_in_view(page, "1-r1")

    # An empty question is not sent: no message, no turn for Undo or Retry to take.
    page.fill("#vq-question textarea", "")
    page.click("#vq-send", force=True)
    page.wait_for_timeout(500)
    assert page.locator("#vq-chat .va-error").count() == 0
    # The answer before Retry is marked, so the wait below sees the new answer, not the old.
    page.evaluate("document.querySelector('#vq-chat .va-abstain').dataset.old = '1'")
    page.click("#vq-retry")  # asks the same question again
    page.wait_for_function(
        "() => document.querySelectorAll('#vq-chat .va-abstain').length === 1"
        " && !document.querySelector('#vq-chat .va-abstain').dataset.old"
        " && document.querySelectorAll('#vq-chat .vq-question').length === 1",
        timeout=ANSWER_TIMEOUT_MS,
    )
    page.click("#vq-undo")  # removes the answer and gives the question back
    page.wait_for_function("() => !document.querySelector('#vq-chat .va')")
    assert (
        page.input_value("#vq-question textarea") == "What did Justin Trudeau say about fentanyl?"
    )

    ask(page, "What did China do in 2019?")
    assert page.locator(".vq-article mark.vq").count() >= 1
    page.click("#vq-clear")
    page.wait_for_function("() => !document.querySelector('#vq-chat .va')")
    assert page.locator(".vq-article mark").count() == 0
    assert page.input_value("#vq-question textarea") == ""


def test_example_question_and_scores_setting(page):
    watch_chat(page)
    page.locator("#vq-examples button", has_text="What did China do in 2019?").click()
    page.wait_for_selector("#vq-chat .va-timings", timeout=ANSWER_TIMEOUT_MS)
    assert "score" not in page.inner_text("#vq-chat .vq-where")
    page.locator("#vq-settings").get_by_text("Settings").click()
    page.get_by_label("show retrieval scores").check()
    page.wait_for_function(
        "() => document.querySelector('#vq-chat .vq-where').textContent.includes('score')"
    )


def test_page_says_it_is_loading_and_answers_once_loaded(browser, gated_chat):
    context = browser.new_context(viewport={"width": 1440, "height": 960})
    page = context.new_page()
    page.goto(gated_chat.url, wait_until="load")
    page.wait_for_selector(".vq-article .vq-p", timeout=30_000)
    status = page.locator("#vq-status .vq-status")
    status.wait_for(timeout=10_000)
    assert "Getting ready: loading the embedding model" in status.inner_text()
    page.fill("#vq-question textarea", "What did China do in 2019?")
    page.click("#vq-send")
    page.wait_for_function(
        "() => (document.querySelector('#vq-chat .va-pending') || {}).textContent"
        "?.includes('still loading')"
    )
    gated_chat.release.set()
    page.wait_for_selector("#vq-chat .va-timings", timeout=ANSWER_TIMEOUT_MS)
    assert "2019" in page.inner_text("#vq-chat .va-answer")
    # The timer ticks each second; within a few the loading line is gone.
    status.wait_for(state="hidden", timeout=10_000)
    context.close()
