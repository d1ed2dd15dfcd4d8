from __future__ import annotations

import pytest

from rag.config import Config


def test_defaults_bind_loopback():
    assert Config().host == "127.0.0.1"


def test_environment_overrides_fields():
    config = Config.from_env({"VERBATIM_TOP_K": "7", "VERBATIM_GENERATOR": "none"})
    assert config.top_k == 7
    assert config.generator == "none"


def test_explicit_overrides_beat_environment():
    assert Config.from_env({"VERBATIM_TOP_K": "7"}, top_k=2).top_k == 2


def test_bad_environment_value_names_the_variable():
    with pytest.raises(ValueError, match="VERBATIM_TOP_K"):
        Config.from_env({"VERBATIM_TOP_K": "many"})


def test_overlap_must_be_smaller_than_window():
    with pytest.raises(ValueError, match="chunk_overlap"):
        Config(chunk_sentences=2, chunk_overlap=2)


def test_unknown_quantize_value_is_refused():
    with pytest.raises(ValueError, match="quantize"):
        Config(quantize="int4")
