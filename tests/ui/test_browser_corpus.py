"""Markup inside a corpus document, in a real headless Chromium: shown as text, never run."""

from __future__ import annotations

import pytest

PASSAGE = (
    "The ferry to Lindholm sails at noon. "
    '<img src=x onerror="window.__pwned=1"> The ferry carries forty cars. '
    "<script>window.__pwned=1</script> The ferry was built in Bergen.\n"
)
QUESTION = "How many cars does the ferry carry?"


@pytest.fixture(scope="module")
def url(tmp_path_factory, serve, config, embedder):
    from rag.pipeline import Verbatim

    folder = tmp_path_factory.mktemp("markup")
    notes = folder / "ferry.txt"
    notes.write_text(PASSAGE, encoding="utf-8")
    bot = Verbatim(
        config.replace(generator="none", corpus=(str(notes),), index_dir=str(folder / "idx")),
        embedder=embedder,
    )
    return serve(bot)


@pytest.fixture(scope="module")
def page(url, browser):
    page = browser.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(url, wait_until="load")
    page.wait_for_selector("#vq-question textarea", timeout=30_000)
    page.fill("#vq-question textarea", QUESTION)
    page.click("#vq-send")
    page.wait_for_selector("#vq-chat .va-timings, #vq-chat .va-error", timeout=90_000)
    yield page
    page.close()


def test_passage_markup_is_shown_as_text_in_the_article(page):
    article = page.locator(".vq-article").inner_text()
    assert '<img src=x onerror="window.__pwned=1">' in article
    assert "<script>window.__pwned=1</script>" in article


def test_passage_markup_is_shown_as_text_in_the_chat(page):
    assert '<img src=x onerror="window.__pwned=1">' in page.locator("#vq-chat").inner_text()
    assert page.locator("img[src='x'], .vq-article script, #vq-chat script").count() == 0


def test_passage_markup_never_runs(page):
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.dialogs == []
