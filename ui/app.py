"""The Verbatim web chat: ``python -m ui.app [--host H] [--port P]``.

Left: the chat, with streamed answers and their numbered quotes. Right: the article, the last
answer's quotes highlighted; clicking a ``[n]`` marker or a quote scrolls the article to it.
Also serves ``/ask`` for programs: ``gradio_client.Client(url).predict(q, api_name="/ask")``.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import rag.config  # noqa: F401  (sets the offline environment before gradio is imported)

# isort: split
import gradio as gr
from starlette.middleware import Middleware

from index.corpus import read_corpus
from rag.config import Config
from rag.question import clean_question
from rag.types import final_answer
from ui import guard, render
from ui.export import KEEP_S, write_export
from ui.loader import LoadFailed, PipelineLoader

logger = logging.getLogger(__name__)

AUTH_ENV = "VERBATIM_AUTH"
# The chat takes no files: ui.guard refuses every upload, and behind it Gradio's always-on
# upload route gets a one-byte limit, so nobody can store files to have them served back.
UPLOAD_LIMIT_BYTES = 1
# Sessions whose state (the chat's turns, component values) Gradio keeps in memory; the oldest
# is dropped first. Every gradio_client connection is a session too.
SESSION_CAPACITY = 1000
EXAMPLES = (
    "How many overdose deaths were there in the U.S. last year?",
    "Who is Vanda Felbab-Brown?",
    "What did China do in 2019?",
    "What did Justin Trudeau say about fentanyl?",
)
# Examples the article does not answer: there to show what a refusal looks like.
UNANSWERED = frozenset({"What did Justin Trudeau say about fentanyl?"})
FAILURE = "Something went wrong while answering. Please try again; the details are in the log."
PLACEHOLDER = (
    "<div class='vq-placeholder'><strong>Ask anything about the article.</strong><br>"
    "Every answer is backed by numbered quotes cut word for word from it; "
    "click a [n] to see the quote in context.</div>"
)
HEADER = (
    "<div id='vq-header'><div class='vq-title-row'><h1>Verbatim</h1>"
    "<button type='button' class='vq-open-article' aria-controls='vq-article-col'>"
    "Show the article</button></div><p>Answers about the article, each backed by "
    "numbered quotes cut word for word from it.</p></div>"
)
# On a phone the article is a panel over the chat, opened and closed by these buttons.
ARTICLE_BAR = (
    "<div class='vq-article-bar'><button type='button' class='vq-close-article'>"
    "← Back to the chat</button></div>"
)
# The chat leaves room for the box, the buttons, the examples and the settings at 1440×900.
CHAT_HEIGHT = "clamp(260px, calc(100vh - 440px), 760px)"


def counter_html(limit: int) -> str:
    """The character count under the question box (the page's script keeps it current)."""
    return (
        f"<div id='vq-count' data-max='{limit}'><span class='vq-count-n'>0 / {limit:,}</span>"
        " characters<span class='vq-hint' role='status' aria-live='polite'></span></div>"
    )


CSS = """
.gradio-container { max-width: 1440px !important; margin: 0 auto !important; }
#vq-header { padding: 0 4px; }
#vq-header .vq-title-row { display: flex; align-items: center; gap: 12px;
  justify-content: space-between; }
#vq-header h1 { font-size: 1.45rem; margin: 0; font-weight: 700; letter-spacing: -0.01em; }
#vq-header p { margin: 2px 0 0; color: var(--body-text-color-subdued); font-size: .9rem; }
.vq-open-article, .vq-article-bar { display: none; }
.vq-open-article, .vq-close-article { font: inherit; font-size: .85rem; font-weight: 600;
  padding: 6px 10px; border-radius: 6px; border: 1px solid var(--border-color-primary);
  background: var(--button-secondary-background-fill); color: var(--body-text-color);
  cursor: pointer; white-space: nowrap; }
.vq-placeholder { text-align: center; color: var(--body-text-color-subdued); line-height: 1.6; }
#vq-chat .prose { font-size: .95rem !important; }
#vq-chat .md.chatbot { opacity: 1 !important; }  /* dimmed text fails WCAG AA contrast */
#vq-chat .top-panel { display: none; }  /* its trash icon covers messages; "New chat" clears */
#vq-chat .va, #vq-chat .vq-question { line-height: 1.55; }
#vq-chat .va-text { margin: 0 0 .35em; }
#vq-chat .va-short { font-size: 1.15em; }
#vq-chat strong.vq-aq { background: rgba(245, 158, 11, .25); border-radius: 2px; }
#vq-chat details { margin: .35em 0 0; }
#vq-chat details > summary { cursor: pointer; font-weight: 600; font-size: .82em;
  color: var(--body-text-color-subdued); text-transform: uppercase; letter-spacing: .04em; }
#vq-chat blockquote.vq-src { margin: .4em 0 !important; padding: .4em .7em !important;
  border-left: 3px solid #f59e0b !important; background: rgba(245, 158, 11, .09);
  border-radius: 0 6px 6px 0; font-size: .93em; cursor: pointer; font-style: normal; }
#vq-chat blockquote.vq-src:hover { background: rgba(245, 158, 11, .18); }
#vq-chat .va-related blockquote.vq-src { border-left-color: #94a3b8 !important;
  background: rgba(148, 163, 184, .12); }
#vq-chat a.vq-ref { font-weight: 700; text-decoration: none; color: #92400e; cursor: pointer; }
#vq-chat .va-related a.vq-ref { color: #475569; }
#vq-chat .vq-where { display: block; font-size: .78em; margin-top: .15em;
  color: var(--body-text-color-subdued); }
#vq-chat .va-timings { font-size: .75em; color: var(--body-text-color-subdued); margin-top: .5em;
  font-variant-numeric: tabular-nums; }
#vq-chat .va-writing { color: var(--body-text-color-subdued); font-style: italic; }
#vq-chat .va-abstain { border-left: 3px solid #94a3b8; padding-left: .7em; }
#vq-chat .va-heading { margin: 0 0 .15em !important; font-size: 1em !important; color: #475569; }
#vq-chat .va-reason { margin: 0 0 .3em !important; font-size: .9em;
  color: var(--body-text-color-subdued); }
#vq-chat .va-note { margin: .2em 0 !important; font-size: .8em;
  color: var(--body-text-color-subdued); }
#vq-chat .va-error { color: #b91c1c; font-weight: 600; }
#vq-status .vq-status { margin: 0; padding: 6px 10px; border-radius: 6px; font-size: .88rem;
  background: rgba(245, 158, 11, .12); color: var(--body-text-color); }
#vq-count { font-size: .78rem; color: var(--body-text-color-subdued); padding: 0 4px;
  margin-top: -6px; font-variant-numeric: tabular-nums; }
#vq-count.vq-over .vq-count-n { color: #b91c1c; font-weight: 700; }
#vq-count .vq-hint { margin-left: .6em; color: #92400e; font-weight: 600; }
#vq-send.vq-disabled, #vq-send:disabled { opacity: .55; cursor: not-allowed; }
#vq-buttons button, #vq-buttons a { min-width: 0; }
#vq-examples { align-items: center; gap: 6px; flex-wrap: wrap; }
#vq-examples .vq-try { font-size: .85rem; font-weight: 600; color: var(--body-text-color); }
#vq-examples button.vq-example { flex: 0 1 auto; min-width: 0; font-weight: 500; }
#vq-article-label { margin: 0 0 6px; font-size: .9rem; color: var(--body-text-color-subdued); }
#vq-article-label strong { color: var(--body-text-color); }
.vq-article { height: calc(100vh - 150px); min-height: 420px; max-height: 900px;
  overflow-y: auto; padding: 14px 20px 14px 12px; border-radius: var(--radius-lg);
  border: 1px solid var(--border-color-primary); background: var(--block-background-fill);
  font-size: .95rem; line-height: 1.62; }
.vq-doc-title { font-size: .78rem; text-transform: uppercase; letter-spacing: .05em;
  color: var(--body-text-color-subdued); margin: 0 0 10px 2.4em; }
.vq-p { position: relative; margin: 0 0 .85em !important; padding-left: 2.4em; }
.vq-pn { position: absolute; left: 0; top: .3em; width: 1.8em; text-align: right;
  font-size: .72em; color: var(--body-text-color-subdued); font-variant-numeric: tabular-nums;
  user-select: none; }
mark.vq { background: #fde68a; color: #1f2937; border-radius: 3px; padding: 1px 2px;
  scroll-margin: 60px; }
mark.vq::before { content: attr(data-n); font-size: .68em; font-weight: 700;
  vertical-align: super; color: #92400e; margin-right: 2px; }
mark.vq strong.vq-aq { background: #f59e0b; color: #111827; border-radius: 2px; }
mark.vq-legend { background: #fde68a; color: #1f2937; border-radius: 3px; padding: 0 3px; }
mark.vq-related { background: transparent; color: inherit;
  border-bottom: 2px dashed #94a3b8; scroll-margin: 60px; }
mark.vq-flash { animation: vq-flash 1.4s ease-out; }
.dark #vq-chat .va-heading { color: #cbd5e1; }
.dark #vq-chat a.vq-ref { color: #fbbf24; }
.dark #vq-chat .va-related a.vq-ref { color: #94a3b8; }
.dark #vq-chat .va-error { color: #fca5a5; }
@keyframes vq-flash { 0% { box-shadow: 0 0 0 4px #f59e0b; }
  100% { box-shadow: 0 0 0 0 transparent; } }
@media (max-width: 768px) {
  .vq-open-article { display: inline-block; }
  #vq-chat { height: max(300px, calc(100vh - 330px)) !important; }
  #vq-article-col { position: fixed !important; inset: 0; z-index: 1000; margin: 0 !important;
    padding: 10px !important; background: var(--body-background-fill); overflow: hidden;
    visibility: hidden; transform: translateX(100%); transition: transform .2s ease-out; }
  #vq-article-col.vq-open { visibility: visible; transform: none; }
  .vq-article-bar { display: block; margin-bottom: 6px; }
  .vq-article { height: calc(100vh - 120px); max-height: none; min-height: 0; }
  /* The title, the box, the examples and the settings all in view on first load at 390×844:
     a shorter chat, then under the box the examples (compact, wrapping), the buttons and the
     settings. */
  #vq-chat-col { gap: 10px !important; }
  #vq-header p { font-size: .82rem; line-height: 1.35; }
  #vq-chat { height: max(240px, calc(100vh - 490px)) !important;
    height: max(240px, calc(100dvh - 490px)) !important; }
  /* A placeholder wrapping onto a second line could make the box two lines tall. */
  #vq-question textarea::placeholder { white-space: nowrap; overflow: hidden;
    text-overflow: ellipsis; }
  #vq-examples { order: 1; gap: 5px; }
  #vq-buttons { order: 2; flex-wrap: nowrap; gap: 6px; }
  #vq-settings { order: 3; }
  #vq-examples > :has(.vq-try) { flex: 0 0 auto; width: auto !important; }
  #vq-examples .html-container:has(.vq-try) { padding: 0 2px !important; }
  #vq-examples .vq-try { font-size: .8rem; }
  #vq-examples button.vq-example { font-size: .78rem; line-height: 1.25; padding: 3px 8px;
    min-height: 26px; max-width: calc(100% - 40px); white-space: normal; text-align: left; }
  #vq-buttons button, #vq-buttons a { flex: 1 1 auto; white-space: nowrap; font-size: .78rem;
    padding: 4px 6px; }
}
"""

# Runs once when the page loads. Clicks are caught at the document level in the capture phase,
# before the chat's own link handling, so a [n] marker scrolls the article panel instead of
# navigating; a marker of an answer whose quotes are not shown asks the server for them first
# (through the hidden #vq-focus box). The copy button copies the message's data-copy text. The
# question box gets a character count; a blank or too long question, or one typed while an
# answer streams, is not sent. A new question is scrolled to the top of the chat.
JS = r"""
() => {
  if (window.__vqInstalled) return;
  window.__vqInstalled = true;
  const narrow = () => window.matchMedia("(max-width: 768px)").matches;
  const setArticleOpen = (open) => {
    const col = document.getElementById("vq-article-col");
    if (col) col.classList.toggle("vq-open", open);
  };
  const scrollBox = (mark, smooth) => {
    const box = mark.closest(".vq-article");
    if (!box) return;
    const delta = mark.getBoundingClientRect().top - box.getBoundingClientRect().top;
    const top = box.scrollTop + delta - box.clientHeight / 3;
    box.scrollTo({ top, behavior: smooth ? "smooth" : "auto" });
  };
  // Scroll the article panel to mark vq-<key> (never the page); a reader's click also flashes
  // it, opens the panel on a phone, and brings the panel into view on a short window.
  window.vqScrollTo = (key, byReader) => {
    const mark = document.getElementById("vq-" + key);
    if (!mark) return false;
    if (byReader && narrow()) setArticleOpen(true);
    scrollBox(mark, byReader);
    if (byReader) {
      const box = mark.closest(".vq-article");
      const r = box.getBoundingClientRect();
      if (!narrow() && (r.top < 0 || r.bottom > window.innerHeight))
        box.scrollIntoView({ block: "nearest" });
      mark.classList.remove("vq-flash");
      void mark.offsetWidth;
      mark.classList.add("vq-flash");
    }
    return true;
  };
  // After the server has put answer <key>'s quotes in the article: scroll once it is there.
  window.vqShow = (request) => {
    const key = String(request || "").split(" ")[0];
    let tries = 0;
    const attempt = () => {
      if (window.vqScrollTo(key, true) || ++tries > 40) return;
      setTimeout(attempt, 50);
    };
    attempt();
  };
  // After an answer: the article shows its first quote, without moving the page.
  window.vqFirstQuote = () => {
    const mark = document.querySelector(".vq-article mark.vq, .vq-article mark.vq-related");
    if (mark) scrollBox(mark, false);
  };
  const askFor = (key) => {
    const button = document.getElementById("vq-focus-btn");
    if (!button) return;
    window.__vqWanted = key;
    button.click();
  };
  document.addEventListener("click", (ev) => {
    const t = ev.target;
    if (!t || !t.closest) return;
    if (t.closest(".vq-open-article")) { setArticleOpen(true); return; }
    if (t.closest(".vq-close-article")) { setArticleOpen(false); return; }
    if (t.closest(".vq-article")) return;
    const el = t.closest('a[href^="#vq-"], blockquote.vq-src');
    if (!el) return;
    const isLink = el.tagName === "A";
    if (isLink) { ev.preventDefault(); ev.stopPropagation(); }
    const sel = window.getSelection && window.getSelection();
    if (!isLink && sel && !sel.isCollapsed) return;  // the reader is selecting text
    const link = isLink ? el : el.querySelector('a[href^="#vq-"]');
    if (!link) return;
    const key = link.getAttribute("href").slice(4);
    if (!window.vqScrollTo(key, true)) askFor(key);
  }, true);

  // The question box: a count, and nothing is sent that would be refused.
  const box = () => document.querySelector("#vq-question textarea");
  const busy = () => {
    const s = document.getElementById("vq-stop");
    return !!(s && s.offsetParent);
  };
  const count = (text) => [...text].length;
  const blocked = () => {
    const b = box();
    const max = Number((document.getElementById("vq-count") || {}).dataset?.max || 2000);
    if (!b) return null;
    if (busy()) return "An answer is being written: press Stop to ask now.";
    if (!b.value.trim()) return "";
    if (count(b.value) > max) return "Too long to send: shorten the question.";
    return null;
  };
  const refresh = () => {
    const b = box(), counter = document.getElementById("vq-count");
    if (!b || !counter) return;
    const max = Number(counter.dataset.max), n = count(b.value);
    counter.querySelector(".vq-count-n").textContent =
      n.toLocaleString("en-US") + " / " + max.toLocaleString("en-US");
    counter.classList.toggle("vq-over", n > max);
    const hint = counter.querySelector(".vq-hint");
    const why = n > max ? "Too long to send: shorten the question." : "";
    if (hint.textContent !== why && !hint.dataset.busy) hint.textContent = why;
    const send = document.getElementById("vq-send");
    if (send) {
      const off = !b.value.trim() || n > max;
      send.classList.toggle("vq-disabled", off);
      send.setAttribute("aria-disabled", off ? "true" : "false");
    }
  };
  const say = (text) => {
    const hint = document.querySelector("#vq-count .vq-hint");
    if (!hint || !text) return;
    hint.textContent = text;
    hint.dataset.busy = "1";
    setTimeout(() => { delete hint.dataset.busy; refresh(); }, 4000);
  };
  const guard = (ev) => {
    const why = blocked();
    if (why === null) return;
    ev.preventDefault();
    ev.stopImmediatePropagation();
    say(why);
  };
  for (const type of ["keydown", "keypress"]) {
    document.addEventListener(type, (ev) => {
      if (ev.key !== "Enter" || ev.shiftKey || ev.isComposing) return;
      if (ev.target && ev.target.closest && ev.target.closest("#vq-question")) guard(ev);
    }, true);
  }
  document.addEventListener("click", (ev) => {
    if (ev.target && ev.target.closest && ev.target.closest("#vq-send")) guard(ev);
  }, true);
  document.addEventListener("input", refresh, true);
  setInterval(refresh, 250);

  // Keep the newest question at the top of the chat while its answer streams below it.
  let questions = 0;
  const follow = () => {
    const all = document.querySelectorAll("#vq-chat .vq-question");
    if (all.length > questions) {
      const q = all[all.length - 1];
      let s = q.parentElement;
      while (s && s !== document.body) {
        const o = getComputedStyle(s).overflowY;
        if ((o === "auto" || o === "scroll") && s.scrollHeight > s.clientHeight) break;
        s = s.parentElement;
      }
      if (s && s !== document.body) {
        const row = q.closest(".message-row") || q;
        const delta = row.getBoundingClientRect().top - s.getBoundingClientRect().top;
        s.scrollTop += delta - 8;
      }
    }
    questions = all.length;
  };
  const watch = () => {
    const chat = document.getElementById("vq-chat");
    if (!chat) return setTimeout(watch, 200);
    new MutationObserver(follow).observe(chat, { childList: true, subtree: true });
  };
  watch();
  if (!narrow()) {
    const focus = () => {
      const b = box();
      if (b) b.focus({ preventScroll: true });
      else setTimeout(focus, 200);
    };
    focus();
  }

  const clip = navigator.clipboard;
  if (clip && clip.writeText) {
    const write = clip.writeText.bind(clip);
    clip.writeText = (text) => {
      if (typeof text === "string" && /^<div class="(va|vq-question)\b/.test(text)) {
        const doc = new DOMParser().parseFromString(text, "text/html");
        const root = doc.querySelector("[data-copy]");
        text = root ? root.getAttribute("data-copy") : doc.body.innerText || doc.body.textContent;
      }
      return write(text);
    };
  }
}
"""
# The key of the quote the reader clicked, handed to the server with the chat's state.
WANTED = "(key, turns) => [window.__vqWanted || key, turns]"
SCROLL_TO_FIRST = "() => { if (window.vqFirstQuote) window.vqFirstQuote(); }"


def theme() -> gr.themes.Base:
    """A calm theme with system fonts only (nothing is fetched from a font service)."""
    return gr.themes.Soft(
        primary_hue="amber",
        neutral_hue="slate",
        font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica", "Arial"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    ).set(
        # Secondary text at WCAG AA contrast (4.5:1) on the page and the chat bubbles.
        body_text_color_subdued="*neutral_600",
        body_text_color_subdued_dark="*neutral_300",
    )


def history_of(turns: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """Plain-text history of the last answered turns, as the pipeline takes it for follow-ups
    (at most :data:`ui.guard.HISTORY_TURNS`)."""
    history: list[dict[str, str]] = []
    for turn in turns:
        answer = turn.get("answer")
        if answer and answer.get("complete", True) and not turn.get("stopped"):
            history.append({"role": "user", "content": turn["question"]})
            history.append({"role": "assistant", "content": answer["answer"]})
    return guard.recent_history(history)


def chat_messages(turns: Sequence[dict[str, Any]], show_scores: bool) -> list[dict[str, str]]:
    """The chat as messages rendered from the turns; answer ``n`` links to its own quotes."""
    messages: list[dict[str, str]] = []
    for number, turn in enumerate(turns, 1):
        if turn["question"].strip():
            messages.append({"role": "user", "content": render.question_html(turn["question"])})
        if turn.get("answer"):
            stopped = bool(turn.get("stopped"))
            content = render.answer_html(turn["answer"], show_scores, number, stopped)
        elif turn.get("pending"):
            content = render.pending_html()
        else:
            content = render.error_html(turn.get("error") or FAILURE)
        messages.append({"role": "assistant", "content": content})
    return messages


def refusal(question: str, max_chars: int) -> str | None:
    """Why ``question`` cannot be asked (blank, too long), or None. A refused question is
    never echoed into the chat nor kept as a turn."""
    try:
        clean_question(question, max_chars)
    except ValueError as exc:
        return str(exc)
    return None


def turn_of(key: str) -> int | None:
    """The answer number in a mark key such as ``2-1`` or ``2-r3`` (anything after a space,
    such as the page's request counter, is ignored)."""
    head, sep, _ = (key or "").split(" ", 1)[0].partition("-")
    return int(head) if sep and head.isdigit() else None


def example_label(question: str) -> str:
    """An example's button text; a question the article does not answer says so."""
    return f"{question} · not in the article" if question in UNANSWERED else question


def build_app(bot: Any, export_dir: Path | None = None) -> gr.Blocks:
    """The chat app around a loaded :class:`rag.pipeline.Verbatim` (theme, CSS and JS go to
    :func:`launch`). Exported chats are written under ``export_dir`` (a new temporary folder
    by default)."""
    config: Config = bot.config
    documents = bot.documents
    limit = config.max_question_chars
    exports = export_dir or Path(tempfile.mkdtemp(prefix="verbatim-export-"))
    blank_article = render.article_label_html() + render.article_html(documents)

    def panel(number: int, turn: dict[str, Any]) -> str:
        """The article with the quotes of answer ``number`` highlighted, and a label saying so."""
        a = render.answer_from_dict(turn["answer"])
        label = render.article_label_html(number, turn["question"], a.abstained)
        return label + render.article_html(
            documents, a.citations, a.related, number, a.answer_quote
        )

    def article_for(turns: Sequence[dict[str, Any]]) -> str:
        for number in range(len(turns), 0, -1):
            if turns[number - 1].get("answer"):
                return panel(number, turns[number - 1])
        return blank_article

    def show_quotes(key: str | None, turns: list[dict[str, Any]] | None) -> Any:
        turns = turns or []
        number = turn_of(key or "")
        if number is None or not 0 < number <= len(turns) or not turns[number - 1].get("answer"):
            return gr.update()
        return panel(number, turns[number - 1])

    def respond(
        question: str | None,
        turns: list[dict[str, Any]] | None,
        k: float,
        show_scores: bool,
        from_box: bool = True,
    ) -> Iterator[tuple[Any, Any, Any, Any]]:
        turns = list(turns or [])
        question = question or ""
        number = len(turns) + 1
        shown = chat_messages(turns, show_scores)
        give_back = question if from_box else gr.update()
        why = refusal(question, limit)
        if why is not None:
            yield (
                [*shown, {"role": "assistant", "content": render.error_html(why)}],
                gr.update(),
                turns,
                give_back,
            )
            return
        turn: dict[str, Any] = {
            "question": question,
            "answer": None,
            "error": None,
            "pending": True,
        }
        asked = [*shown, {"role": "user", "content": render.question_html(question)}]
        waiting = "Searching the article…"
        if not getattr(bot, "ready", True):
            waiting = "The models are still loading; your question is answered once they are."
        pending = {"role": "assistant", "content": render.pending_html(waiting)}
        yield [*asked, pending], gr.update(), [*turns, turn], "" if from_box else gr.update()
        try:
            highlighted = False
            for answer in bot.ask_stream(question, history_of(turns), int(k) if k else None):
                answer = render.supporting(answer, documents)
                turn = {**turn, "answer": answer.to_dict()}
                if answer.complete:
                    break
                message = render.answer_html(answer, show_scores, number)
                article = gr.update()
                if not highlighted and answer.citations:
                    article = panel(number, turn)
                    highlighted = True
                yield (
                    [*asked, {"role": "assistant", "content": message}],
                    article,
                    [*turns, turn],
                    gr.update(),
                )
        except ValueError as exc:
            logger.info("question refused: %s", exc)
            notice = {"role": "assistant", "content": render.error_html(str(exc))}
            yield [*shown, notice], article_for(turns), turns, give_back
            return
        except Exception:
            logger.exception("answering %r failed", question[:200])
            turn = {**turn, "answer": None, "error": FAILURE}
        if not (turn["answer"] or {}).get("complete") and turn["error"] is None:
            logger.error("the pipeline ended without a final answer for %r", question[:200])
            turn = {**turn, "answer": None, "error": FAILURE}
        turn.pop("pending", None)
        turns = [*turns, turn]
        yield chat_messages(turns, show_scores), article_for(turns), turns, gr.update()

    def retry(
        turns: list[dict[str, Any]] | None, k: float, show_scores: bool
    ) -> Iterator[tuple[Any, Any, Any, Any]]:
        turns = [t for t in turns or [] if not t.get("pending")]
        if not turns:
            yield [], blank_article, [], gr.update()
            return
        yield from respond(turns[-1]["question"], turns[:-1], k, show_scores, from_box=False)

    def undo(turns: list[dict[str, Any]] | None, show_scores: bool) -> tuple[Any, Any, Any, Any]:
        turns = list(turns or [])
        if not turns:
            return [], blank_article, [], gr.update()
        last = turns.pop()
        return chat_messages(turns, show_scores), article_for(turns), turns, last["question"]

    def clear() -> tuple[Any, Any, Any, Any]:
        return [], blank_article, [], ""

    def rerender(turns: list[dict[str, Any]] | None, show_scores: bool) -> list[dict[str, str]]:
        return chat_messages(turns or [], show_scores)

    def exported(turns: list[dict[str, Any]] | None) -> Any:
        path = write_export(turns or [], exports)
        return gr.update(value=str(path) if path else None, interactive=path is not None)

    def busy() -> tuple[Any, Any]:
        return gr.update(visible=False), gr.update(visible=True)

    def idle(turns: list[dict[str, Any]] | None) -> tuple[Any, Any, Any]:
        return gr.update(visible=True), gr.update(visible=False), exported(turns)

    def stop_answer(
        turns: list[dict[str, Any]] | None, show_scores: bool
    ) -> tuple[Any, Any, Any, Any, Any, Any, Any]:
        """After Stop: the quotes already found stay as a stopped turn; a question stopped
        before any quote was found goes back to the box."""
        turns = list(turns or [])
        back = gr.update()
        if turns and turns[-1].get("pending"):
            last = {key: v for key, v in turns.pop().items() if key != "pending"}
            if last.get("answer"):
                turns.append({**last, "stopped": True})
            else:
                back = last["question"]
        messages = chat_messages(turns, show_scores)
        return messages, article_for(turns), turns, back, *idle(turns)

    def ask_api(
        question: str, history: list[dict] | None = None, k: int | None = None
    ) -> dict[str, Any]:
        """Answer one question about the article.

        Returns ``Answer.to_dict()``: the answer, ``abstained``, numbered ``citations`` with
        character offsets, ``related`` passages, timings; or ``{"error": message}``. Only the
        last ``ui.guard.HISTORY_TURNS`` turns of ``history`` are read.
        """
        try:
            final = final_answer(bot.ask_stream(question, guard.recent_history(history or []), k))
        except ValueError as exc:
            return {"error": str(exc)}
        except Exception:  # a failure, or a stream that ended without its final answer
            logger.exception("/ask failed for %r", str(question)[:200])
            return {"error": FAILURE}
        return final.to_dict()

    # Gradio keeps its own copy of every file it serves (the exports); drop them after a day.
    with gr.Blocks(
        title="Verbatim · answers quoted from the article", delete_cache=(3600, KEEP_S)
    ) as app:
        turns = gr.State([])
        with gr.Row(equal_height=False, elem_id="vq-main"):
            with gr.Column(scale=11, min_width=380, elem_id="vq-chat-col"):
                gr.HTML(HEADER, elem_id="vq-header-wrap")
                # While the models load behind the page, say so, and what is loading.
                loading = callable(getattr(bot, "status", None))
                status = gr.HTML(
                    render.status_html(bot.status()) if loading else "",
                    elem_id="vq-status",
                    visible=loading,
                )
                chatbot = gr.Chatbot(
                    value=[],
                    label="Chat",
                    elem_id="vq-chat",
                    height=CHAT_HEIGHT,
                    autoscroll=False,  # the page's script keeps the new question in view
                    buttons=["copy"],
                    show_label=False,
                    latex_delimiters=[],
                    feedback_options=None,
                    group_consecutive_messages=False,
                    placeholder=PLACEHOLDER,
                )
                with gr.Row(equal_height=True, elem_id="vq-ask-row"):
                    question = gr.Textbox(
                        label="Question",
                        show_label=False,
                        placeholder="Ask a question about the article…",
                        lines=1,
                        max_lines=4,
                        scale=6,
                        elem_id="vq-question",
                    )
                    send = gr.Button(
                        "Send", variant="primary", scale=1, min_width=90, elem_id="vq-send"
                    )
                    stop = gr.Button(
                        "■ Stop",
                        variant="stop",
                        scale=1,
                        min_width=90,
                        elem_id="vq-stop",
                        visible=False,
                    )
                gr.HTML(counter_html(limit), elem_id="vq-count-wrap", padding=False)
                with gr.Row(elem_id="vq-buttons"):
                    retry_btn = gr.Button("↻ Retry", size="sm", elem_id="vq-retry")
                    undo_btn = gr.Button("↶ Undo", size="sm", elem_id="vq-undo")
                    clear_btn = gr.Button("New chat", size="sm", elem_id="vq-clear")
                    export = gr.DownloadButton(
                        "⤓ Export (.md)", size="sm", elem_id="vq-export", interactive=False
                    )
                with gr.Row(elem_id="vq-examples"):
                    gr.HTML("<span class='vq-try'>Try:</span>", padding=False, min_width=0)
                    example_buttons = [
                        gr.Button(example_label(q), size="sm", elem_classes=["vq-example"])
                        for q in EXAMPLES
                    ]
                with gr.Accordion("Settings", open=False, elem_id="vq-settings"):
                    k = gr.Slider(
                        1,
                        max(10, config.top_k),
                        value=config.top_k,
                        step=1,
                        label="Passages to retrieve",
                    )
                    show_scores = gr.Checkbox(value=False, label="show retrieval scores")
            with gr.Column(scale=9, min_width=320, elem_id="vq-article-col"):
                gr.HTML(ARTICLE_BAR, elem_id="vq-article-bar", padding=False)
                article = gr.HTML(blank_article, label="Article", elem_id="vq-article-panel")
                # Which answer's quotes to show: set by the page's script when a marker of an
                # answer whose quotes are not highlighted is clicked.
                focus = gr.Textbox(visible="hidden", elem_id="vq-focus", label="Show quotes")
                focus_btn = gr.Button("Show quotes", visible="hidden", elem_id="vq-focus-btn")

        outputs = [chatbot, article, turns, question]
        run = {"concurrency_id": "verbatim", "concurrency_limit": 1, "show_progress": "minimal"}
        quick = {"api_name": False, "queue": False, "show_progress": "hidden"}
        answering: list[Any] = []

        def answer_on(trigger: Any, fn: Any, inputs: list[Any], api_name: str | bool) -> None:
            """Send becomes Stop, ``fn`` streams the answer, then Send is back and the export
            is brought up to date."""
            ev = trigger(busy, None, [send, stop], **quick).then(
                fn, inputs, outputs, api_name=api_name, **run
            )
            answering.append(ev)
            ev.then(idle, [turns], [send, stop, export], **quick).then(None, js=SCROLL_TO_FIRST)

        answer_on(question.submit, respond, [question, turns, k, show_scores], "chat")
        answer_on(send.click, respond, [question, turns, k, show_scores], False)
        answer_on(retry_btn.click, retry, [turns, k, show_scores], False)
        for text, button in zip(EXAMPLES, example_buttons, strict=True):

            def ask_example(
                turns: list[dict[str, Any]] | None, k: float, show_scores: bool, text: str = text
            ) -> Iterator[tuple[Any, Any, Any, Any]]:
                yield from respond(text, turns, k, show_scores, from_box=False)

            answer_on(button.click, ask_example, [turns, k, show_scores], False)
        stop.click(
            stop_answer,
            [turns, show_scores],
            [*outputs, send, stop, export],
            cancels=answering,
            **quick,
        ).then(None, js=SCROLL_TO_FIRST)
        undo_btn.click(undo, [turns, show_scores], outputs, api_name=False).then(
            exported, [turns], [export], **quick
        )
        clear_btn.click(clear, None, outputs, api_name=False).then(
            exported, [turns], [export], **quick
        )
        chatbot.clear(clear, None, outputs, api_name=False)
        show_scores.change(rerender, [turns, show_scores], [chatbot], api_name=False)
        focus_btn.click(show_quotes, [focus, turns], [article], js=WANTED, **quick).then(
            None, js="() => { window.vqShow && window.vqShow(window.__vqWanted); }"
        )
        gr.api(ask_api, api_name="ask", concurrency_id="verbatim", concurrency_limit=1)
        if loading:
            timer = gr.Timer(1.0)

            def show_status() -> tuple[Any, Any]:
                text = bot.status()
                # Once loading ends the timer stops; the line goes, or says why it failed.
                shown = gr.update(value=render.status_html(text), visible=bool(text))
                return shown, gr.Timer(active=bot.loading)

            quiet = {"api_name": False, "show_progress": "hidden", "queue": False}
            timer.tick(show_status, None, [status, timer], **quiet)
            app.load(show_status, None, [status, timer], **quiet)
    app.queue(default_concurrency_limit=1)
    # launch() puts the guard in front of every route with this limit.
    app.verbatim_max_body_bytes = guard.body_limit(config.max_question_chars)  # type: ignore[attr-defined]
    return app


def launch(app: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, **kwargs: Any) -> str:
    """Start the server in the background (never shared) and return its local URL.

    ``kwargs`` go to :meth:`gradio.Blocks.launch`, e.g. ``auth=(user, password)``. Every
    route is behind :class:`ui.guard.Guard`: bodies over the app's limit get 413, uploads 403,
    and a client's sixth failed login within a minute 429.
    """
    kwargs.setdefault("max_file_size", UPLOAD_LIMIT_BYTES)
    kwargs.setdefault("state_session_capacity", SESSION_CAPACITY)
    limit = getattr(app, "verbatim_max_body_bytes", None) or guard.body_limit(
        Config().max_question_chars
    )
    app_kwargs = dict(kwargs.pop("app_kwargs", None) or {})
    app_kwargs["middleware"] = [
        *app_kwargs.get("middleware", ()),
        Middleware(guard.Guard, max_body_bytes=limit),
    ]
    _, url, _ = app.launch(
        server_name=host,
        server_port=port,
        share=False,
        prevent_thread_lock=True,
        ssr_mode=False,
        theme=theme(),
        css=CSS,
        js=JS,
        app_kwargs=app_kwargs,
        **kwargs,
    )
    return url


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name or "": it may resolve to a public interface


def auth_for(host: str, env_value: str | None, waived: bool) -> tuple[str, str] | None:
    """The ``(user, password)`` the chat requires, or None when it may run without one.

    Credentials come from ``VERBATIM_AUTH="user:password"`` and are used whenever given.
    Without them the chat may only listen on loopback, unless ``waived`` (``--no-auth``).

    Raises:
        ValueError: ``env_value`` is malformed, or ``host`` is not loopback and there are no
            credentials and no waiver; the message says what to do.
    """
    if env_value is not None and env_value.strip():
        user, sep, password = env_value.strip().partition(":")
        if not sep or not user or not password:
            raise ValueError(f'{AUTH_ENV} must look like "user:password", both non-empty')
        return user, password
    if is_loopback(host) or waived:
        return None
    raise ValueError(
        f"refusing to serve on {host!r} without a password: anyone who can reach that "
        f'interface could use the chat. Set {AUTH_ENV}="user:password", or serve on '
        "127.0.0.1, or pass --no-auth to serve without one on purpose."
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the chat, loading the pipeline (building the index if missing) behind the page.

    Exits with status 2 before loading anything when the host and credentials do not fit
    (see :func:`auth_for`), and with status 1 and the reason when the corpus or a model cannot
    be loaded.
    """
    import rag

    defaults = Config.from_env()
    parser = argparse.ArgumentParser(
        prog="python -m ui.app", description="Serve the Verbatim web chat."
    )
    parser.add_argument("--host", default=None, help=f"interface (default {defaults.host})")
    parser.add_argument("--port", type=int, default=None, help=f"port (default {defaults.port})")
    parser.add_argument(
        "--no-auth",
        action="store_true",
        help=f"serve on a non-loopback interface without {AUTH_ENV} credentials (unsafe)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    config = defaults.replace(host=args.host, port=args.port)
    try:
        auth = auth_for(config.host, os.environ.get(AUTH_ENV), args.no_auth)
    except ValueError as exc:
        parser.error(str(exc))  # exits with status 2
    if auth is None and not is_loopback(config.host):
        logger.warning(
            "!!! --no-auth: serving on %s WITHOUT A PASSWORD; anyone who can reach this "
            "interface can use the chat. Set %s=user:password to require one. !!!",
            config.host,
            AUTH_ENV,
        )
    elif auth is not None:
        logger.info("the chat asks for the %s user name and password", AUTH_ENV)
    # The corpus is read up front: a file that cannot be read stops the start at once.
    try:
        documents = {d.source: d for d in read_corpus(config.corpus)}
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from exc
    # The page is served while the models load behind it (ui/loader.py).
    bot = PipelineLoader(config, documents, rag.load)
    app = build_app(bot)
    url = launch(app, config.host, config.port, quiet=True, auth=auth)
    print(f"Verbatim chat running at {url}  (Ctrl+C to stop); loading the models…", flush=True)
    try:
        bot.wait_all()
    except LoadFailed as exc:
        app.close()
        raise SystemExit(f"error: the chat could not start: {exc}") from exc
    if bot.generator_error is not None:
        print(f"The language model could not load; answers are quotes alone: {bot.generator_error}")
    print(f"Ready: the models and the index loaded in {bot.seconds:.1f} s.", flush=True)
    app.block_thread()


if __name__ == "__main__":
    main()
