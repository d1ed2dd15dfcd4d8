"""The object that the CLI, the web chat and the evaluation share: question in, Answer out."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.build import ensure_index
from index.embed import load_embedder
from rag import compose
from rag.abstain import Verdict, decide
from rag.arithmetic import Difference, years_between
from rag.condense import condense
from rag.config import Config
from rag.generate import Generator, needs_conversion, resolve
from rag.likelihood import QueryLikelihood
from rag.nlp import PERSON, asked_kind, asked_noun, asks_reason
from rag.question import clean_question, focus
from rag.reader import DENSE_DEPTH, continuation, first_score, read
from rag.remote import RemoteGenerator, is_remote, parse_spec
from rag.retrieve import Retriever
from rag.span import full_name, named_instance, points_back, reason_answer, short_answer
from rag.speaker import attribution_for, speaker_sentences
from rag.text import terms, years
from rag.types import Answer, Evidence, Passage, Sentence, paragraph_of
from rag.vocabulary import Vocabulary

logger = logging.getLogger(__name__)

# Cite only evidence within this score of the best sentence (half of a full coverage bonus).
CITATION_MARGIN = 0.15
# Who says a quote is a person: the label a speaker's name must carry.
SPEAKER = frozenset({"PERSON"})


def check_generator(generator: str) -> None:
    """Refuse a ``generator`` setting that names nothing usable, before any model loads.

    Raises:
        ValueError: a malformed ``openai:`` setting.
        GeneratorUnavailable: no such model file or folder; the message says what may be given.
    """
    if generator == "none":
        return
    if is_remote(generator):
        parse_spec(generator)
        return
    resolve(generator)


def load_generator(config: Config, progress: Callable[[str], None] | None = None) -> Any:
    """The generator ``config`` names, or None for ``none``; ``progress`` is told whether it
    is converted first (tens of seconds, once) or loaded from the cache.

    Raises:
        GeneratorUnavailable: the model cannot be found or read; the message says why.
    """
    if config.generator == "none":
        return None
    if is_remote(config.generator):
        return RemoteGenerator(config.generator, config.generator_api_key or None)
    if progress is not None:
        first = needs_conversion(config.generator, config.model_cache_dir)
        progress(
            "converting the language model for its first use (about 20 s, once)"
            if first
            else "loading the language model"
        )
    return Generator(
        config.generator, config.model_cache_dir, config.torch_threads, config.quantize
    )


@dataclass(frozen=True)
class SearchResult:
    """Retrieval for one question: the query used, passages, evidence and the abstain verdict."""

    question: str
    query: str
    passages: tuple[Passage, ...]
    evidence: tuple[Evidence, ...]
    verdict: Verdict
    seconds: float
    lead: tuple[Sentence, ...] = ()
    kind: frozenset[str] | None = None
    difference: Difference | None = None
    year_before: Sentence | None = None


class Verbatim:
    """Loads the index and models once, then answers questions about the corpus."""

    def __init__(
        self,
        config: Config,
        embedder: Any = None,
        generator: Any = None,
        progress: Callable[[str], None] | None = None,
    ):
        """Load the models and the index, building the index if it is missing or stale.

        Args:
            config: Settings.
            embedder: A loaded MiniLM to share (tests, benchmarks); loaded when None.
            generator: A loaded generator to share; built from ``config`` when None.
            progress: Called with a short phrase ("loading the embedding model") as each
                loading step starts, so a waiting reader can be told what is happening.
        """
        self.config = config
        report = progress or (lambda step: None)
        started = time.perf_counter()
        report("loading the embedding model")
        self.embedder = embedder if embedder is not None else load_embedder()
        self.index, self.rebuilt = ensure_index(config, lambda: self.embedder, report)
        self.retriever = Retriever(self.index, self.embedder, config.rrf_k)
        # Word terms and IDF are computed once so a question only looks them up.
        report("preparing the word lists")
        self.vocabulary = Vocabulary(self.index.sentences)
        self.generator = None
        self.likelihood: QueryLikelihood | None = None
        self.attach_generator(
            generator if generator is not None else load_generator(config, report)
        )
        self.load_s = time.perf_counter() - started
        # A first query warms caches so the reader's first question is not the slow one.
        report("warming up")
        self.search("warm up")

    @property
    def documents(self) -> dict[str, Any]:
        return self.index.documents

    @property
    def model_name(self) -> str:
        """The generator's name, or ``extractive`` when answers are the quotes alone."""
        return self.generator.name if self.generator is not None else "extractive"

    def attach_generator(self, generator: Any) -> None:
        """Let ``generator`` rank the evidence by its likelihoods (and write the short answers,
        with ``writer="model"``) from the next question on. The chat loads it after the rest,
        answering from the quotes meanwhile."""
        # A model on a server gives no log-probabilities: the evidence is then read without.
        local = getattr(generator, "model", None) is not None
        self.likelihood = QueryLikelihood.of(generator) if local else None
        self.generator = generator

    def warm_likelihood(self) -> None:
        """Compute every corpus sentence's prompt for the likelihood scorer ahead of the
        questions (the chat does this behind the page; about 0.15 s a sentence)."""
        if self.likelihood is not None:
            self.likelihood.warm([s.text for s in self.index.sentences if s.duplicate_of < 0])

    def search(
        self, question: str, history: Sequence[dict[str, Any]] | None = None, k: int | None = None
    ) -> SearchResult:
        """Retrieve passages and evidence sentences and decide whether to abstain."""
        started = time.perf_counter()
        text = clean_question(question, self.config.max_question_chars)
        asked = focus(text)
        # Acronyms are spelled out as the corpus spells them, which MiniLM would not connect.
        query = self.vocabulary.spell_out(condense(asked, history))
        vector = self.retriever.embed_texts([query])[0]
        passages = self.retriever.search(query, k or self.config.top_k, vector)
        kind = asked_kind(asked)
        vocab = self.vocabulary
        evidence = read(
            self.index,
            passages,
            query,
            vector,
            vocab.sentence_terms,
            # The question's own words: a referent put in for "she" would outweigh the rest.
            terms(asked),
            vocab.idf,
            vocab.unseen_idf,
            self.config.evidence_k,
            self.likelihood.score if self.likelihood is not None else None,
        )
        lead = self._lead(evidence, query, asks_reason(asked))
        earlier = self._year_before(lead, query, kind)
        if earlier is not None:
            # "That same year, …": the year is in the sentence before; it is cited second.
            lead = [lead[0], earlier]
        unknown = vocab.unknown_names(asked)
        verdict = decide(
            asked,
            evidence,
            [s.text for s in lead],
            unknown,
            kind,
            self.config.abstain_min_similarity,
            self._paragraphs(lead),
            vocab.is_person,
        )
        difference = (
            None
            if unknown
            else years_between(
                query, self.index.sentences, self._phrase_scores, self.config.abstain_min_similarity
            )
        )
        if difference is not None:
            # Two dated quotes answer it, whatever the closest single sentence lacks.
            lead = [difference.earlier, difference.later]
            verdict = Verdict(False, verdict.similarity, "computed from two dated quotes")
        seconds = time.perf_counter() - started
        return SearchResult(
            text,
            query,
            tuple(passages),
            tuple(evidence),
            verdict,
            seconds,
            tuple(lead),
            kind,
            difference,
            earlier,
        )

    def _paragraphs(self, sentences: Sequence[Sentence]) -> str:
        """The whole paragraphs ``sentences`` come from, in order."""
        found = {s.id: s for x in sentences for s in paragraph_of(x, self.index.sentences)}
        return " ".join(found[i].text for i in sorted(found))

    def _phrase_scores(self, phrases: list[str], ids: list[int]) -> np.ndarray:
        """The reader's first score (:func:`rag.reader.first_score`) of each phrase against
        sentences ``ids``, for the ``5 * DENSE_DEPTH`` closest by cosine; the rest keep their
        cosine, so a large corpus costs one matrix product and a few term lookups."""
        vocab = self.vocabulary
        scores = self.retriever.embed_texts(phrases) @ self.index.sentence_vectors[ids].T
        for row, phrase in zip(scores, phrases, strict=True):
            words = terms(phrase)
            for j in np.argsort(-row)[: 5 * DENSE_DEPTH]:
                found = vocab.sentence_terms[ids[j]]
                row[j] = first_score(float(row[j]), words, found, vocab.idf, vocab.unseen_idf)
        return scores

    def ask(
        self,
        question: str,
        history: Sequence[dict[str, Any]] | None = None,
        k: int | None = None,
    ) -> Answer:
        """Answer ``question``; the final item of :meth:`ask_stream`."""
        *_, final = self.ask_stream(question, history, k)
        return final

    def ask_stream(
        self,
        question: str,
        history: Sequence[dict[str, Any]] | None = None,
        k: int | None = None,
    ) -> Iterator[Answer]:
        """Yield partial Answers while the model writes, then the final, checked Answer.

        Args:
            question: What the reader asks.
            history: Earlier ``{"role", "content"}`` messages, for follow-ups.
            k: Passages to retrieve (default ``config.top_k``).

        Raises:
            ValueError: the question is empty or too long.
        """
        started = time.perf_counter()
        # One generator for the whole answer, even if another is attached meanwhile.
        generator = self.generator
        result = self.search(question, history, k)
        timings = {"retrieve_s": round(result.seconds, 4)}
        model = generator.name if generator is not None else "extractive"
        base = Answer(question=result.question, answer="", abstained=False, model=model)
        if result.verdict.abstain:
            related = compose.as_citations(list(result.evidence), self.documents)
            timings.update(generate_s=0.0, total_s=round(time.perf_counter() - started, 4))
            yield dataclasses.replace(
                base,
                answer=compose.abstain_text(result.verdict.reason),
                abstained=True,
                related=related,
                timings=timings,
                mode="abstain",
            )
            return
        citations, lead = self._citations(result)
        # The quotes are known before the model writes: show them at once.
        yield dataclasses.replace(base, citations=citations, mode="partial", complete=False)
        gen_started = time.perf_counter()
        answer_text, mode, span = yield from self._compose(generator, result, citations, lead, base)
        timings.update(
            generate_s=round(time.perf_counter() - gen_started, 4),
            total_s=round(time.perf_counter() - started, 4),
        )
        yield dataclasses.replace(
            base,
            answer=answer_text,
            citations=citations,
            timings=timings,
            mode=mode,
            answer_quote=span,
        )

    def _year_before(
        self, lead: Sequence[Sentence], query: str, kind: frozenset[str] | None
    ) -> Sentence | None:
        """The sentence before the best one, in its paragraph, when the best one dates the
        answer only as "that same year" and the one before names a year."""
        if not lead or not points_back(query, kind, lead[0].text):
            return None
        best = lead[0]
        before = self.index.sentences[best.id - 1] if best.id > 0 else None
        if before is None or (before.source, before.paragraph) != (best.source, best.paragraph):
            return None
        return before if years(before.text) else None

    def _lead(self, evidence: Sequence[Evidence], query: str, reason: bool) -> list[Sentence]:
        """What the answer is built from: the best sentence, the next one when a why or how
        question is likelier with it, and the sentences naming the speaker."""
        if not evidence:
            return []
        best = evidence[0].sentence
        lead = [best]
        if reason and self.likelihood is not None:
            after = continuation(self.index, best, query, self.likelihood.score)
            lead += [after] if after is not None else []
        for s in speaker_sentences(best, self.index.sentences):
            if s not in lead:
                lead.append(s)
        return lead

    def _citations(self, result: SearchResult) -> tuple[tuple, int]:
        """The lead sentences, then other evidence close to the best one, each followed by the
        sentence naming its speaker when it only says "she adds". Returns the citations and
        how many of them (the lead) make the extractive answer."""
        evidence = result.evidence
        best = evidence[0].score
        picked = [(s, best) for s in result.lead]
        seen = {s.id for s in result.lead}
        sentences = self.index.sentences
        for e in evidence[1:]:
            if e.score < best - CITATION_MARGIN:
                continue
            for s in (e.sentence, attribution_for(e.sentence, sentences)):
                if s is not None and s.id not in seen:
                    seen.add(s.id)
                    picked.append((s, e.score))
        return compose.make_citations(picked, self.documents), len(result.lead)

    def _compose(
        self, generator: Any, result: SearchResult, citations: tuple, lead: int, base: Answer
    ) -> Iterator[Answer]:
        if result.difference is not None:
            # Years between two events: the sum is done here, not by the model.
            # The answer is the figure; the sum goes with how it was made, for the reader to check.
            difference = result.difference
            return f"{difference.text()} [1][2]", f"computed ({difference.working()})", None
        # A model on a server is there to write; the packaged one only scores, unless asked.
        writes = self.config.writer == "model" or isinstance(generator, RemoteGenerator)
        if generator is None or not writes:
            scorer = self.likelihood.answers if self.likelihood is not None else None
            rarity = self.vocabulary.rarity
            if result.year_before is not None:
                span = short_answer(result.query, result.kind, citations[1], scorer, rarity)
                if span is not None:
                    return f"{span.text} [1][2]", "short", span
            one = lead == 1
            span = (
                short_answer(result.query, result.kind, citations[0], scorer, rarity)
                if one
                else None
            )
            if span is not None:
                # A question asking for a number, date, place or name gets just that, when the
                # quote names one, or the picker is sure of one of several; the quote stays
                # below as its source. An answer that needed more sentences (the speaker's full
                # name and role, a reason) stays whole.
                return compose.with_marker(span.text, citations[0]), "short", span
            if result.kind is None and asks_reason(result.query):
                # A why or how question gets the clause that gives the reason, when a quote has
                # one ("because…", "due to…"); the quotes stay below.
                span = reason_answer(result.query, citations[:lead])
                if span is not None:
                    return f"{span.text} [{span.n}]", "short", span
            noun = asked_noun(result.query) if result.kind is None else None
            if noun is not None and one:
                # "Which ministry…": the one name in the quote that says it is a ministry.
                span = named_instance(result.query, noun, citations[0])
                if span is not None:
                    return compose.with_marker(span.text, citations[0]), "short", span
            if result.kind is not None and result.kind <= PERSON:
                # "Who said …?" of a quote whose speaker is named in the sentences after it: that
                # person, under the full name when a later one introduces them.
                for i, citation in enumerate(citations[1:lead], start=1):
                    span = short_answer(result.query, SPEAKER, citation, scorer, rarity)
                    if span is not None:
                        span = full_name(span, citations[i:lead])
                        return f"{span.text} [{span.n}]", "short", span
            return compose.extractive_answer(citations[:lead]), "extractive", None
        # The model's answer must stand in the quote it answers from, so that is all it sees.
        quotes = citations[:lead]
        messages = compose.build_messages(result.query, quotes)
        written = ""
        outcome: dict[str, Any] = {}
        # A reply that already holds a word no quote has will be rejected: stop it there.
        for piece in generator.stream(
            messages,
            self.config.max_new_tokens,
            self.config.generation_timeout_s,
            give_up=lambda reply: (
                compose.beyond_quotes(reply, quotes) or compose.copies_quote(reply, quotes)
            ),
            outcome=outcome,
        ):
            written += piece
            yield dataclasses.replace(
                base, answer=written, citations=citations, mode="partial", complete=False
            )
        text = compose.clean_model_text(written)
        ok, why = compose.check_answer(text, result.query, quotes)
        if ok and compose.copies_quote(text, quotes):
            ok, why = False, "copies the quote"
        if ok and outcome.get("cut_off"):
            ok, why = False, "cut off by the token budget or the deadline"
        if outcome.get("error"):
            ok, why = False, f"generator unavailable: {outcome['error']}"
        logger.info("model answer %r: %s", text, why)
        if not ok:
            return compose.extractive_answer(citations[:lead]), f"extractive ({why})", None
        return compose.with_marker(text, compose.best_citation(text, quotes)), "generated", None
