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
from collections.abc import Iterator, Sequence
from typing import Any

import rag.config  # noqa: F401  (sets the offline environment before gradio is imported)

# isort: split
import gradio as gr
from starlette.middleware import Middleware

from index.corpus import read_corpus
from rag.config import Config
from ui import guard, render
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
FAILURE = "Something went wrong while answering. Please try again; the details are in the log."
PLACEHOLDER = (
    "<div class='vq-placeholder'><strong>Ask anything about the article.</strong><br>"
    "Every answer is backed by numbered quotes cut word for word from it; "
    "click a [n] to see the quote in context.</div>"
)

CSS = """
.gradio-container { max-width: 1440px !important; margin: 0 auto !important; }
#vq-header { padding: 0 4px; }
#vq-header h1 { font-size: 1.45rem; margin: 0; font-weight: 700; letter-spacing: -0.01em; }
#vq-header p { margin: 2px 0 0; color: var(--body-text-color-subdued); font-size: .9rem; }
.vq-placeholder { text-align: center; color: var(--body-text-color-subdued); line-height: 1.6; }
#vq-chat .prose { font-size: .95rem !important; }
#vq-chat .top-panel { display: none; }  /* its trash icon covers messages; "New chat" clears */
#vq-chat .va, #vq-chat .vq-question { line-height: 1.55; }
#vq-chat .va-text { margin: 0 0 .35em; }
#vq-chat details { margin: .35em 0 0; }
#vq-chat details > summary { cursor: pointer; font-weight: 600; font-size: .82em;
  color: var(--body-text-color-subdued); text-transform: uppercase; letter-spacing: .04em; }
#vq-chat blockquote.vq-src { margin: .4em 0 !important; padding: .4em .7em !important;
  border-left: 3px solid #f59e0b !important; background: rgba(245, 158, 11, .09);
  border-radius: 0 6px 6px 0; font-size: .93em; cursor: pointer; font-style: normal; }
#vq-chat blockquote.vq-src:hover { background: rgba(245, 158, 11, .18); }
#vq-chat .va-related blockquote.vq-src { border-left-color: #94a3b8 !important;
  background: rgba(148, 163, 184, .12); }
#vq-chat a.vq-ref { font-weight: 700; text-decoration: none; color: #b45309; cursor: pointer; }
#vq-chat .va-related a.vq-ref { color: #64748b; }
#vq-chat .vq-where { display: block; font-size: .78em; margin-top: .15em;
  color: var(--body-text-color-subdued); }
#vq-chat .va-timings { font-size: .72em; color: var(--body-text-color-subdued); margin-top: .5em;
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
#vq-buttons button { min-width: 0; }
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
mark.vq::before { content: attr(data-vq); font-size: .68em; font-weight: 700;
  vertical-align: super; color: #b45309; margin-right: 2px; }
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
"""

# Runs once when the page loads. Clicks are caught at the document level in the capture phase,
# before the chat's own link handling, so a [n] marker scrolls the article panel instead of
# navigating. The copy button copies the plain-text version kept in the message's data-copy.
JS = r"""
() => {
  if (window.__vqInstalled) return;
  window.__vqInstalled = true;
  window.vqScrollTo = (key, flash) => {
    const mark = document.getElementById("vq-" + key);
    if (!mark) return false;
    const box = mark.closest(".vq-article");
    if (box) {
      const delta = mark.getBoundingClientRect().top - box.getBoundingClientRect().top;
      box.scrollTo({ top: box.scrollTop + delta - box.clientHeight / 3, behavior: "smooth" });
      const r = box.getBoundingClientRect();
      if (r.top < 0 || r.bottom > window.innerHeight) box.scrollIntoView({ block: "nearest" });
    } else {
      mark.scrollIntoView({ block: "center", behavior: "smooth" });
    }
    if (flash !== false) {
      mark.classList.remove("vq-flash");
      void mark.offsetWidth;
      mark.classList.add("vq-flash");
    }
    return true;
  };
  const keyOf = (el) => {
    const link = el.matches('a[href^="#vq-"]') ? el : el.querySelector('a[href^="#vq-"]');
    if (link) return link.getAttribute("href").slice(4);
    if (el.dataset && el.dataset.vq) return el.dataset.vq;
    const m = /\[(\d+)\]/.exec(el.textContent || "");
    return m ? m[1] : null;
  };
  document.addEventListener("click", (ev) => {
    const t = ev.target;
    if (!t || !t.closest || t.closest(".vq-article")) return;
    const el = t.closest('a[href^="#vq-"], a.vq-ref, blockquote.vq-src, [data-vq]');
    if (!el) return;
    const isLink = el.tagName === "A";
    if (isLink) { ev.preventDefault(); ev.stopPropagation(); }
    const sel = window.getSelection && window.getSelection();
    if (!isLink && sel && !sel.isCollapsed) return;  // the reader is selecting text
    const key = keyOf(el);
    if (key) window.vqScrollTo(key);
  }, true);
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
SCROLL_TO_FIRST = "() => { if (window.vqScrollTo) window.vqScrollTo('1', false); }"


def theme() -> gr.themes.Base:
    """A calm theme with system fonts only (nothing is fetched from a font service)."""
    return gr.themes.Soft(
        primary_hue="amber",
        neutral_hue="slate",
        font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica", "Arial"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
    )


def history_of(turns: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """Plain-text history of the last answered turns, as the pipeline takes it for follow-ups
    (at most :data:`ui.guard.HISTORY_TURNS`)."""
    history: list[dict[str, str]] = []
    for turn in turns:
        if turn.get("answer"):
            history.append({"role": "user", "content": turn["question"]})
            history.append({"role": "assistant", "content": turn["answer"]["answer"]})
    return guard.recent_history(history)


def chat_messages(turns: Sequence[dict[str, Any]], show_scores: bool) -> list[dict[str, str]]:
    """The chat as messages rendered from the turns."""
    messages: list[dict[str, str]] = []
    for turn in turns:
        if turn["question"].strip():
            messages.append({"role": "user", "content": render.question_html(turn["question"])})
        if turn.get("answer"):
            content = render.answer_html(turn["answer"], show_scores)
        else:
            content = render.error_html(turn.get("error") or FAILURE)
        messages.append({"role": "assistant", "content": content})
    return messages


def build_app(bot: Any) -> gr.Blocks:
    """The chat app around a loaded :class:`rag.pipeline.Verbatim` (theme, CSS and JS go to
    :func:`launch`)."""
    config: Config = bot.config
    documents = bot.documents
    blank_article = render.article_html(documents)

    def article_for(turns: Sequence[dict[str, Any]]) -> str:
        for turn in reversed(turns):
            if turn.get("answer"):
                a = render.answer_from_dict(turn["answer"])
                return render.article_html(documents, a.citations, a.related)
        return blank_article

    def respond(
        question: str | None, turns: list[dict[str, Any]] | None, k: float, show_scores: bool
    ) -> Iterator[tuple[Any, Any, Any, Any]]:
        turns = list(turns or [])
        question = question or ""
        shown = chat_messages(turns, show_scores)
        if question.strip():
            shown.append({"role": "user", "content": render.question_html(question)})
            waiting = "Searching the article…"
            if not getattr(bot, "ready", True):
                waiting = "The models are still loading; your question is answered once they are."
            pending = {"role": "assistant", "content": render.pending_html(waiting)}
            yield [*shown, pending], gr.update(), turns, ""
        turn: dict[str, Any] = {"question": question, "answer": None, "error": None}
        keep = gr.update()  # the textbox: left alone, or the question back if it was refused
        try:
            highlighted = False
            for answer in bot.ask_stream(question, history_of(turns), int(k) if k else None):
                message = {"role": "assistant", "content": render.answer_html(answer, show_scores)}
                if answer.complete:
                    turn["answer"] = answer.to_dict()
                    break
                article = gr.update()
                if not highlighted and answer.citations:
                    article = render.article_html(documents, answer.citations)
                    highlighted = True
                yield [*shown, message], article, turns, gr.update()
        except ValueError as exc:
            logger.info("question refused: %s", exc)
            turn["error"] = str(exc)
            keep = question
        except Exception:
            logger.exception("answering %r failed", question[:200])
            turn["error"] = FAILURE
        if turn["answer"] is None and turn["error"] is None:
            logger.error("the pipeline ended without a final answer for %r", question[:200])
            turn["error"] = FAILURE
        turns = [*turns, turn]
        yield chat_messages(turns, show_scores), article_for(turns), turns, keep

    def retry(
        turns: list[dict[str, Any]] | None, k: float, show_scores: bool
    ) -> Iterator[tuple[Any, Any, Any, Any]]:
        turns = list(turns or [])
        if not turns:
            yield [], blank_article, [], gr.update()
            return
        yield from respond(turns[-1]["question"], turns[:-1], k, show_scores)

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

    def pick_example(index: int | None) -> str:
        return EXAMPLES[index] if index is not None and 0 <= index < len(EXAMPLES) else ""

    def ask_api(
        question: str, history: list[dict] | None = None, k: int | None = None
    ) -> dict[str, Any]:
        """Answer one question about the article.

        Returns ``Answer.to_dict()``: the answer, ``abstained``, numbered ``citations`` with
        character offsets, ``related`` passages, timings; or ``{"error": message}``. Only the
        last ``ui.guard.HISTORY_TURNS`` turns of ``history`` are read.
        """
        final = None
        try:
            for answer in bot.ask_stream(question, guard.recent_history(history or []), k):
                final = answer
        except ValueError as exc:
            return {"error": str(exc)}
        except Exception:
            logger.exception("/ask failed for %r", str(question)[:200])
            return {"error": FAILURE}
        if final is None or not final.complete:
            logger.error("the pipeline ended without a final answer for %r", str(question)[:200])
            return {"error": FAILURE}
        return final.to_dict()

    with gr.Blocks(title="Verbatim · answers quoted from the article") as app:
        turns = gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=11, min_width=380):
                gr.HTML(
                    "<div id='vq-header'><h1>Verbatim</h1><p>Answers about the article, "
                    "each backed by numbered quotes cut word for word from it.</p></div>"
                )
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
                    height=560,
                    buttons=["copy"],
                    show_label=False,
                    latex_delimiters=[],
                    feedback_options=None,
                    group_consecutive_messages=False,
                    placeholder=PLACEHOLDER,
                )
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        label="Question",
                        show_label=False,
                        placeholder="Ask a question about the article…",
                        lines=1,
                        max_lines=4,
                        autofocus=True,
                        scale=6,
                        elem_id="vq-question",
                    )
                    send = gr.Button(
                        "Send", variant="primary", scale=1, min_width=90, elem_id="vq-send"
                    )
                with gr.Row(elem_id="vq-buttons"):
                    retry_btn = gr.Button("↻ Retry", size="sm", elem_id="vq-retry")
                    undo_btn = gr.Button("↶ Undo", size="sm", elem_id="vq-undo")
                    clear_btn = gr.Button("New chat", size="sm", elem_id="vq-clear")
                examples = gr.Dataset(
                    components=[question],
                    samples=[[q] for q in EXAMPLES],
                    type="index",
                    label="Try",
                    elem_id="vq-examples",
                )
                with gr.Accordion("Settings", open=False, elem_id="vq-settings"):
                    k = gr.Slider(
                        1,
                        max(10, config.top_k),
                        value=config.top_k,
                        step=1,
                        label="Passages to retrieve",
                    )
                    show_scores = gr.Checkbox(value=False, label="show retrieval scores")
            with gr.Column(scale=9, min_width=320):
                gr.HTML(
                    "<div id='vq-article-label'><strong>The article</strong> · the last "
                    "answer's quotes are <mark class='vq-legend'>highlighted</mark></div>"
                )
                article = gr.HTML(blank_article, label="Article", elem_id="vq-article-panel")

        outputs = [chatbot, article, turns, question]
        run = {"concurrency_id": "verbatim", "concurrency_limit": 1, "show_progress": "minimal"}
        for trigger, api_name in ((question.submit, "chat"), (send.click, False)):
            trigger(
                respond, [question, turns, k, show_scores], outputs, api_name=api_name, **run
            ).then(None, js=SCROLL_TO_FIRST)
        retry_btn.click(retry, [turns, k, show_scores], outputs, api_name=False, **run).then(
            None, js=SCROLL_TO_FIRST
        )
        undo_btn.click(undo, [turns, show_scores], outputs, api_name=False)
        clear_btn.click(clear, None, outputs, api_name=False)
        chatbot.clear(clear, None, outputs, api_name=False)
        show_scores.change(rerender, [turns, show_scores], [chatbot], api_name=False)
        examples.click(pick_example, [examples], [question], api_name=False).then(
            respond, [question, turns, k, show_scores], outputs, api_name=False, **run
        ).then(None, js=SCROLL_TO_FIRST)
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
