"""``rag eval``: run a Q&A test set through the bot and report answer, quote and retrieval scores.

Modules: :mod:`~rag.eval.formats` reads test sets, :mod:`~rag.eval.metrics` scores them,
:mod:`~rag.eval.gates` checks ``--fail-under`` thresholds, :mod:`~rag.eval.report` writes the
output folder and :mod:`~rag.eval.run` ties them together. Metric definitions: ``docs/eval.md``.
"""
