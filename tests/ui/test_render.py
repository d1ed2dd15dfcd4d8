"""HTML rendering of answers and the article: escaping, marker links, abstention, exact marks."""

from __future__ import annotations

import dataclasses
import html
from html.parser import HTMLParser

import pytest

from index.split import paragraphs
from rag.types import Answer, AnswerQuote, Citation, Document
from ui import render

SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'


class _Marks(HTMLParser):
    """Collects the text inside each ``<mark>`` by id, and the paragraph each one stands in."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.marks: dict[str, str] = {}
        self.mark_paragraph: dict[str, int] = {}
        self.classes: dict[str, str] = {}
        self.paragraphs = 0
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "p" and "vq-p" in (a.get("class") or ""):
            self.paragraphs += 1
        if tag == "mark" and a.get("id"):
            self._open = a["id"]
            self.marks[self._open] = ""
            self.mark_paragraph[self._open] = self.paragraphs
            self.classes[self._open] = a.get("class") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open:
            self.marks[self._open] += data


def parse(markup: str) -> _Marks:
    parser = _Marks()
    parser.feed(markup)
    return parser


def cite(text: str, quote: str, n: int, source: str = "article.txt", score: float = 0.5):
    start = text.index(quote)
    para = next(i for i, (a, b) in enumerate(paragraphs(text), 1) if a <= start < b)
    return Citation(n, quote, source, start, start + len(quote), para, score)


@pytest.fixture(scope="module")
def documents(article_text: str) -> dict[str, Document]:
    return {"article.txt": Document("article.txt", article_text, "sha")}


@pytest.fixture(scope="module")
def cited(article_text: str) -> Answer:
    quotes = [
        "Last year, U.S. overdose fatalities reached 105,000, with the vast majority involving "
        "opioids like fentanyl.",
        "“There is no easy switch [whereby] China starts cooperating, and deaths start going "
        "down,” says Vanda Felbab-Brown, a drug policy expert at the Brookings Institution.",
    ]
    citations = tuple(cite(article_text, q, n) for n, q in enumerate(quotes, 1))
    return Answer(
        question="How many overdose deaths were there in the U.S. last year?",
        answer="U.S. overdose fatalities reached 105,000. [1]",
        abstained=False,
        citations=citations,
        timings={"retrieve_s": 0.0312, "generate_s": 1.5, "total_s": 1.5312},
        model="SmolLM2-135M-Instruct.Q4_1",
        mode="generated",
    )


def test_question_is_escaped_and_shown_as_text():
    out = render.question_html(f"Why? {SCRIPT} {IMG}")
    assert "<script" not in out and "<img" not in out
    assert html.escape(SCRIPT) in out
    assert "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in out


def test_quotes_and_answer_text_from_a_document_are_escaped():
    text = f"Intro {SCRIPT} here. Then {IMG} there."
    c = cite(text, f"Intro {SCRIPT} here.", 1)
    answer = Answer("q", f"It says {IMG} [1]", False, citations=(c,), timings={"total_s": 1.0})
    out = render.answer_html(answer)
    assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;" in out and "&lt;img src=x" in out
    article = render.article_html({"article.txt": Document("article.txt", text, "x")}, [c])
    assert "<script" not in article and "<img" not in article
    assert parse(article).marks["vq-1"] == c.quote


def test_dollar_signs_are_entities_so_no_template_runs():
    assert render.esc("${alert(1)} $5") == "&#36;{alert(1)} &#36;5"


def test_markers_become_links_to_the_quotes(cited):
    out = render.answer_html(cited)
    assert '<a class="vq-ref" href="#vq-1">[1]</a>' in out
    assert render.link_markers("see [1] and [7]", [1]) == (
        'see <a class="vq-ref" href="#vq-1">[1]</a> and [7]'
    )


def test_sources_are_numbered_blockquotes_with_where_they_stand(cited):
    out = render.answer_html(cited)
    assert '<details class="va-sources" open><summary>Sources (2)</summary>' in out
    assert out.count('<blockquote class="vq-src">') == 2
    first = cited.citations[0]
    assert f"paragraph 2 · chars {first.start}–{first.end}" in out
    # The article's curly quotation marks are kept as they are.
    assert "“There is no easy switch [whereby] China" in out
    assert "going down,” says" in out
    assert "score" not in out.split("va-timings")[0]
    assert "paragraph 2 · chars 393–501 · score 0.50" in render.answer_html(cited, True)


def test_timings_line_under_a_final_answer_only(cited):
    out = render.answer_html(cited)
    assert "retrieve 0.03 s · generate 1.50 s · total 1.53 s · SmolLM2-135M-Instruct.Q4_1" in out
    partial = Answer("q", "", False, citations=cited.citations, mode="partial", complete=False)
    out = render.answer_html(partial)
    assert "va-timings" not in out and "va-partial" in out
    assert "Writing the answer" in out and "Sources (2)" in out


def test_a_draft_that_may_still_be_rejected_is_not_shown_as_the_answer(cited):
    draft = "The answer is: The Chinese government’s ability"
    partial = Answer("q", draft, False, citations=cited.citations, mode="partial", complete=False)
    out = render.answer_html(partial)
    assert draft not in out and "Writing the answer" in out and "Sources (2)" in out


def test_abstention_looks_different_and_offers_related_passages(cited):
    answer = Answer(
        "What is the name of the DEA administrator?",
        "The article doesn't say. (no sentence is close to the question.)",
        True,
        related=cited.citations,
        timings={"retrieve_s": 0.02, "generate_s": 0.0, "total_s": 0.02},
        mode="abstain",
    )
    out = render.answer_html(answer)
    assert 'class="va va-abstain"' in out
    assert "The article doesn&#x27;t say</h4>" in out
    assert "No sentence is close to the question." in out
    assert "<summary>Related passages</summary>" in out
    assert "Sources" not in out
    assert 'href="#vq-r1"' in out and 'href="#vq-1"' not in out


def test_messages_are_one_line_so_markdown_leaves_them_alone(cited):
    for out in (render.answer_html(cited, True), render.question_html("a\n\nb")):
        assert "\n" not in out
    assert render.question_html("a\n\nb") == '<div class="vq-question">a<br><br>b</div>'


def test_copy_text_has_the_answer_and_its_quotes(cited):
    text = render.plain_text(cited)
    assert text.startswith("U.S. overdose fatalities reached 105,000. [1]\n\nSources:\n[1] Last")
    assert "(paragraph 2 · chars 393–501)" in text
    assert f'data-copy="{render.esc(text).replace(chr(10), "&#10;")}"' in render.answer_html(cited)


def test_answer_round_trips_through_its_dict(cited):
    assert render.answer_from_dict(cited.to_dict()) == cited
    assert render.answer_html(cited.to_dict()) == render.answer_html(cited)


def test_error_message_is_visible_and_escaped():
    out = render.error_html(f"bad {SCRIPT}")
    assert out.startswith('<div class="va va-error" role="alert">⚠️ bad &lt;script&gt;')


def test_article_marks_wrap_exactly_the_quotes(documents, cited, article_text):
    out = render.article_html(documents, cited.citations)
    parsed = parse(out)
    assert parsed.paragraphs == len(paragraphs(article_text))
    assert set(parsed.marks) == {"vq-1", "vq-2"}
    for c in cited.citations:
        assert parsed.marks[f"vq-{c.n}"] == c.quote == article_text[c.start : c.end]
        assert parsed.mark_paragraph[f"vq-{c.n}"] == c.paragraph
        assert parsed.classes[f"vq-{c.n}"] == "vq"
    assert '<span class="vq-pn">2</span>' in out
    # Without citations the article is shown unmarked, every character kept.
    plain = render.article_html(documents)
    assert "<mark" not in plain
    assert html.unescape(plain).count("Felbab-Brown") == article_text.count("Felbab-Brown")


def test_related_passages_are_marked_apart_from_citations(documents, cited):
    out = render.article_html(documents, (), cited.citations)
    parsed = parse(out)
    assert set(parsed.marks) == {"vq-r1", "vq-r2"}
    assert all(cls == "vq-related" for cls in parsed.classes.values())


def test_bad_citations_are_skipped_not_fatal(documents, cited, article_text):
    first, second = cited.citations
    a, b = first.start + 5, first.end + 3
    overlapping = Citation(3, article_text[a:b], "article.txt", a, b, first.paragraph, 0.1)
    outside = Citation(4, "x", "article.txt", len(article_text) + 5, len(article_text) + 6, 1, 0)
    wrong = Citation(5, "not the text", "article.txt", 0, 12, 1, 0)
    other_doc = Citation(6, "x", "other.txt", 0, 1, 1, 0)
    out = render.article_html(documents, (first, second, overlapping, outside, wrong, other_doc))
    parsed = parse(out)
    assert set(parsed.marks) == {"vq-1", "vq-2"}
    assert parsed.marks["vq-1"] == first.quote


def _answer(citations, **kw) -> Answer:
    base = {"question": "q", "answer": "a [1]", "abstained": False, "citations": citations}
    return Answer(**{**base, "timings": {"total_s": 0.052}, **kw})


def test_footer_says_in_words_how_the_answer_was_made(cited):
    quotes = dict(citations=cited.citations, model="extractive")
    line = render.timings_html(_answer(mode="extractive", **quotes))
    assert ">answered from the quotes · 0.05 s</div>" in line
    assert "extractive · extractive" not in line.split(">", 1)[1]
    generated = _answer(cited.citations, mode="generated", model="SmolLM2-135M-Instruct.Q4_1")
    generated = dataclasses.replace(generated, timings={"total_s": 0.91})
    assert ">short answer by SmolLM2-135M · 0.9 s</div>" in render.timings_html(generated)
    declined = Answer(
        "q",
        "The article doesn't say.",
        True,
        timings={"generate_s": 0.0, "total_s": 0.03},
        model="SmolLM2-135M-Instruct.Q4_1",
        mode="abstain",
    )
    line = render.timings_html(declined)
    assert ">the article doesn&#x27;t say · 0.03 s</div>" in line and "SmolLM2" not in line
    computed = dataclasses.replace(
        _answer(mode="computed (2019 − 2017 = 2 years)", **quotes), timings={"total_s": 0.2}
    )
    line = render.timings_html(computed)
    assert ">computed from quotes [1] and [2]: 2019 − 2017 = 2 years · 0.2 s</div>" in line


def test_a_short_answer_is_bold_and_its_words_are_marked_in_its_quote(documents, cited):
    first = cited.citations[0]
    at = first.quote.index("105,000")
    span = AnswerQuote(1, first.source, first.start + at, first.start + at + 7, "105,000")
    short = dataclasses.replace(cited, answer="105,000 [1]", mode="short", answer_quote=span)
    out = render.answer_html(short, turn=3)
    assert '<strong class="va-short">105,000</strong> <a class="vq-ref" href="#vq-3-1"' in out
    assert 'reached <strong class="vq-aq">105,000</strong>, with' in out
    article = render.article_html(documents, short.citations, (), 3, span)
    assert 'id="vq-3-1"' in article and 'id="vq-1"' not in article
    assert '<strong class="vq-aq">105,000</strong>' in article


def test_each_answer_links_to_its_own_marks(documents, cited):
    out = render.answer_html(cited, turn=2)
    assert 'href="#vq-2-1" title="Show quote 1 of answer 2 in the article">[1]</a>' in out
    assert 'href="#vq-1"' not in out
    parsed = parse(render.article_html(documents, cited.citations, (), 2))
    assert set(parsed.marks) == {"vq-2-1", "vq-2-2"}
    assert render.article_label_html(2, "Who?").count("Quotes of answer 2") == 1


def test_byline_and_bio_lines_are_not_sources_of_an_answer_about_someone_else(
    documents, article_text, cited
):
    bio = [
        "Katrina Northrop is a former staff writer at The Wire China, and joined The "
        "Washington Post in August 2024.",
        "@NorthropKatrina",
    ]
    tail = tuple(cite(article_text, q, n) for n, q in enumerate(bio, 3))
    answer = dataclasses.replace(
        cited,
        question="Who is the drug policy expert at Brookings?",
        citations=(*cited.citations, *tail),
    )
    assert [c.n for c in render.supporting(answer, documents).citations] == [1, 2]
    # Kept when the answer is about the writer, when the answer cites it, or names her.
    about_her = dataclasses.replace(answer, citations=(tail[0], *cited.citations))
    assert render.supporting(about_her, documents) == about_her
    cites_it = dataclasses.replace(answer, answer="She wrote it. [3]")
    assert [c.n for c in render.supporting(cites_it, documents).citations] == [1, 2, 3]
    names_her = dataclasses.replace(answer, question="Did Katrina Northrop quote anyone?")
    assert [c.n for c in render.supporting(names_her, documents).citations] == [1, 2, 3]


def test_a_bio_line_sharing_only_a_country_with_the_answer_is_dropped(
    documents, article_text, cited
):
    bio = (
        "Katrina Northrop is a former staff writer at The Wire China, and joined The "
        "Washington Post in August 2024."
    )
    answer = dataclasses.replace(
        cited,
        question="What does the expert think China wants?",
        answer="China wants recognition. [1]",
        citations=(*cited.citations, cite(article_text, bio, 3)),
    )
    assert [c.n for c in render.supporting(answer, documents).citations] == [1, 2]
