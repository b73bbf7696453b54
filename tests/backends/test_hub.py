"""One offline check (bench.backends.hub.offline) for models and Hub datasets, by the rules of the libraries
that download: the variables huggingface_hub, transformers and datasets read, and how they combine."""

from __future__ import annotations

import pytest

from bench.backends.hub import availability, offline
from bench.config import TransformersModel
from bench.prepare import skips

VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")


@pytest.mark.parametrize("env, models, datasets", [
    ({}, None, None),
    ({"HF_HUB_OFFLINE": "1"}, "HF_HUB_OFFLINE", "HF_HUB_OFFLINE"),
    ({"HF_HUB_OFFLINE": "ON"}, "HF_HUB_OFFLINE", "HF_HUB_OFFLINE"),  # huggingface_hub's words, any case
    ({"HF_HUB_OFFLINE": "0"}, None, None),
    ({"TRANSFORMERS_OFFLINE": "1"}, "TRANSFORMERS_OFFLINE", "TRANSFORMERS_OFFLINE"),
    ({"HF_HUB_OFFLINE": "", "TRANSFORMERS_OFFLINE": "yes"}, "TRANSFORMERS_OFFLINE", "TRANSFORMERS_OFFLINE"),
    ({"HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "1"}, None, None),  # HF_HUB_OFFLINE, when set, decides
    ({"HF_DATASETS_OFFLINE": "1"}, None, "HF_DATASETS_OFFLINE"),  # datasets only: models still download
    ({"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}, "HF_HUB_OFFLINE", "HF_HUB_OFFLINE"),
    ({"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "0"}, "HF_HUB_OFFLINE", None),  # datasets' own switch wins
])
def test_offline_follows_the_libraries_rules(monkeypatch, env, models, datasets):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert offline() == models
    assert offline(datasets=True) == datasets


def test_an_uncached_model_names_the_variable_that_made_it_offline(monkeypatch, tmp_path):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")  # transformers' own switch: huggingface_hub obeys it too
    spec = TransformersModel(backend="transformers", model="nobody-here/not-a-cached-model")
    found = availability(spec, tmp_path)
    assert not found.ok and found.reason == "not cached, and offline (TRANSFORMERS_OFFLINE is set)"


def test_hub_tasks_are_not_called_offline_when_datasets_may_download(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "0")  # datasets downloads: a skip is the Hub's doing, not offline
    line = skips.grouped({}, {}, {"gsm8k": "cannot be fetched now"})
    assert line == ["skipping 1 Hub task, data cannot be fetched from the Hub now: gsm8k"]
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    line = skips.grouped({}, {}, {"gsm8k": "cannot be fetched now"})
    assert line == ["skipping 1 Hub task, data not cached, and offline (HF_HUB_OFFLINE is set): gsm8k"]
