"""The Verbatim web chat: HTML rendering (:mod:`ui.render`) and the Gradio app (:mod:`ui.app`)."""

from __future__ import annotations
