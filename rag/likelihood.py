"""Query likelihood: how likely the language model finds the question after reading a sentence.

This ranks sentences by whether they answer the question (UPR: Sachan et al., 2022, "Improving
Passage Retrieval with Zero-Shot Question Generation"). Each sentence's prompt is run through
the model once and its keys and values are kept, so a question only runs its own tokens.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

PROMPT = "Passage: {text}\nA question this passage answers:"
# Asks for the answer in the quote's own words, for :meth:`QueryLikelihood.answers`.
ANSWER_PROMPT = "{quote}\n\nQuestion: {question}\nAnswer with a few words from the text."


class QueryLikelihood:
    """Mean log-probability of a question's tokens given each sentence, from a causal LM.

    Args:
        model: A transformers causal language model (the generator's).
        tokenizer: Its tokenizer.
        lock: Held while the model runs, shared with the generator so the two take turns.
        cache_size: Sentence prompts whose keys and values are kept (about 3 MB each for
            SmolLM2-135M).
    """

    def __init__(self, model: Any, tokenizer: Any, lock: threading.Lock, cache_size: int = 256):
        self.model = model
        self.tokenizer = tokenizer
        self.lock = lock
        self.cache_size = cache_size
        self._prefixes: OrderedDict[str, tuple[Any, Any]] = OrderedDict()

    @classmethod
    def of(cls, generator: Any) -> QueryLikelihood:
        """A scorer sharing ``generator``'s model, tokenizer and lock."""
        return cls(generator.model, generator.tokenizer, generator.lock)

    def _prefix(self, text: str) -> tuple[list[tuple[Any, Any]], Any]:
        """Per-layer keys and values of ``text``'s prompt, and the log-probabilities of the
        token after it."""
        import torch

        found = self._prefixes.get(text)
        if found is not None:
            self._prefixes.move_to_end(text)
            return found
        ids = self.tokenizer(PROMPT.format(text=text), return_tensors="pt")["input_ids"]
        # Only the last position's logits are read; projecting every position onto the
        # vocabulary took about a third of this pass (docs/performance.md).
        out = self.model(input_ids=ids, use_cache=True, logits_to_keep=1)
        layers = [(layer.keys, layer.values) for layer in out.cache.layers]
        found = (layers, torch.log_softmax(out.logits[0, -1].float(), -1))
        self._prefixes[text] = found
        if len(self._prefixes) > self.cache_size:
            self._prefixes.popitem(last=False)
        return found

    def warm(self, texts: list[str]) -> None:
        """Compute the prompts of ``texts`` ahead of the questions (at most ``cache_size``).
        The lock is taken for one text at a time, so a question never waits for the rest."""
        import torch

        for text in texts[: self.cache_size]:
            with self.lock, torch.inference_mode():
                self._prefix(text)

    def score(self, question: str, texts: list[str]) -> list[float]:
        """Mean log-probability per token of ``question`` after each of ``texts``.

        All texts run as one batch: their stored prompts are padded on the left to one length
        and the padding is masked, so each question token sees only its own prompt.

        Returns:
            One value per text, higher when the text makes the question more likely (0 is the
            most likely; typical values lie between -6 and -1).
        """
        import torch
        from transformers import DynamicCache

        ids = self.tokenizer(" " + question.strip(), return_tensors="pt")["input_ids"][0]
        if len(ids) == 0 or not texts:
            return [0.0 for _ in texts]
        with self.lock, torch.inference_mode():
            prefixes = [self._prefix(text) for text in texts]
            lengths = [layers[0][0].shape[2] for layers, _ in prefixes]
            longest = max(lengths)
            batch = []
            for i in range(len(prefixes[0][0])):
                keys, values = [], []
                for (layers, _), n in zip(prefixes, lengths, strict=True):
                    pad = (0, 0, longest - n, 0)
                    keys.append(torch.nn.functional.pad(layers[i][0], pad))
                    values.append(torch.nn.functional.pad(layers[i][1], pad))
                batch.append((torch.cat(keys), torch.cat(values)))
            size, q = len(texts), len(ids)
            mask = torch.zeros(size, longest + q, dtype=torch.long)
            for row, n in enumerate(lengths):
                mask[row, longest - n :] = 1
            positions = torch.tensor(lengths)[:, None] + torch.arange(q)[None, :]
            logits = self.model(
                input_ids=ids.expand(size, q),
                attention_mask=mask,
                position_ids=positions,
                cache=DynamicCache(batch),
                use_cache=True,
            ).logits
            logp = torch.log_softmax(logits[:, :-1].float(), -1)
            inner = logp.gather(2, ids[1:].expand(size, q - 1)[:, :, None])[:, :, 0].sum(1)
            first = torch.stack([after[ids[0]] for _, after in prefixes])
            return ((first + inner) / q).tolist()

    def answers(self, question: str, quote: str, answers: list[str]) -> list[float]:
        """Mean log-probability per token of each of ``answers``, then the end of the turn, as
        the model's reply to ``question`` asked of ``quote`` (SmolLM2's chat format).

        The prompt runs once; the answers run as one batch on its keys and values, padded on
        the right, and only their own tokens count.
        """
        import torch
        from transformers import DynamicCache

        if not answers:
            return []
        tokenizer = self.tokenizer
        prompt = tokenizer.apply_chat_template(
            [{"role": "user", "content": ANSWER_PROMPT.format(quote=quote, question=question)}],
            add_generation_prompt=True,
            tokenize=False,
        )
        end = tokenizer.eos_token or ""
        prompt_ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
        rows = [tokenizer(a + end, add_special_tokens=False)["input_ids"] for a in answers]
        size, longest, n = len(rows), max(len(r) for r in rows), prompt_ids.shape[1]
        ids = torch.full((size, longest), tokenizer.pad_token_id or 0, dtype=torch.long)
        mask = torch.zeros(size, n + longest, dtype=torch.long)
        mask[:, :n] = 1
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, n : n + len(row)] = 1
        with self.lock, torch.inference_mode():
            out = self.model(input_ids=prompt_ids, use_cache=True, logits_to_keep=1)
            first = torch.log_softmax(out.logits[0, -1].float(), -1)
            layers = [
                (layer.keys.expand(size, -1, -1, -1), layer.values.expand(size, -1, -1, -1))
                for layer in out.cache.layers
            ]
            logits = self.model(
                input_ids=ids,
                attention_mask=mask,
                position_ids=n + torch.arange(longest)[None, :].expand(size, longest),
                cache=DynamicCache(layers),
                use_cache=True,
            ).logits
            logp = torch.log_softmax(logits[:, :-1].float(), -1)
            scores = []
            for i, row in enumerate(rows):
                inner = logp[i, : len(row) - 1].gather(1, ids[i, 1 : len(row), None]).sum()
                scores.append(float((first[row[0]] + inner) / len(row)))
            return scores
