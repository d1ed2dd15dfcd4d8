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


# --- numeric values checked when the config is built --------------------------------------


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "0", "-1"])
def test_generation_timeout_from_environment_must_be_finite_and_positive(raw):
    with pytest.raises(ValueError, match="VERBATIM_GENERATION_TIMEOUT_S"):
        Config.from_env({"VERBATIM_GENERATION_TIMEOUT_S": raw})


@pytest.mark.parametrize("raw", ["0", "-1"])
def test_max_new_tokens_from_environment_must_be_positive(raw):
    with pytest.raises(ValueError, match=rf"VERBATIM_MAX_NEW_TOKENS='{raw}'.*at least 1"):
        Config.from_env({"VERBATIM_MAX_NEW_TOKENS": raw})


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("port", "0"),
        ("port", "65536"),
        ("torch_threads", "0"),
        ("rrf_k", "0"),
        ("rrf_k", "-1"),
        ("evidence_k", "-1"),
        ("abstain_min_similarity", "nan"),
        ("abstain_min_similarity", "1.5"),
        ("abstain_min_similarity", "-inf"),
        ("max_question_chars", "0"),
    ],
)
def test_out_of_range_environment_value_names_the_variable(name, raw):
    with pytest.raises(ValueError, match=f"VERBATIM_{name.upper()}='{raw}': {name} must"):
        Config.from_env({f"VERBATIM_{name.upper()}": raw})


@pytest.mark.parametrize(
    "changes",
    [
        {"generation_timeout_s": float("nan")},
        {"generation_timeout_s": float("inf")},
        {"max_new_tokens": 0},
        {"port": -1},
        {"torch_threads": 0},
        {"abstain_min_similarity": float("nan")},
    ],
)
def test_out_of_range_value_in_code_names_the_field(changes):
    (name,) = changes
    with pytest.raises(ValueError, match=f"^{name} must"):
        Config(**changes)


def test_extreme_but_valid_values_are_kept():
    config = Config.from_env(
        {"VERBATIM_PORT": "65535", "VERBATIM_ABSTAIN_MIN_SIMILARITY": "-1"}, rrf_k=1
    )
    assert (config.port, config.abstain_min_similarity, config.rrf_k) == (65535, -1.0, 1)


def test_an_override_replaces_a_bad_environment_value():
    assert Config.from_env({"VERBATIM_TOP_K": "0"}, top_k=3).top_k == 3
