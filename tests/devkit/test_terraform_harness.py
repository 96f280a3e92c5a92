"""The harness itself: missing prerequisites fail clearly, staging rewrites sources, generated roots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omlineage_devkit.terraform import (
    REPO,
    HarnessError,
    iter_strings,
    provider_mirror,
    stage,
    write_cli_config,
    write_modules_root,
    write_provider_override,
)


def test_missing_mirror_fails_clearly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TF_PROVIDER_MIRROR", str(tmp_path / "nowhere"))
    with pytest.raises(HarnessError, match=r"provider mirror is missing: .*nowhere.*TF_PROVIDER_MIRROR"):
        provider_mirror()


def test_mirror_override_and_cli_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "registry.terraform.io/hashicorp/aws").mkdir(parents=True)
    monkeypatch.setenv("TF_PROVIDER_MIRROR", str(mirror))
    assert provider_mirror() == mirror
    text = write_cli_config(tmp_path / "cli").read_text()
    assert f'path    = "{mirror}"' in text and 'exclude = ["registry.terraform.io/*/*"]' in text


def test_stage_rewrites_relative_module_sources(tmp_path: Path) -> None:
    dest = stage(REPO / "examples" / "basic", tmp_path / "basic")
    main = (dest / "main.tf").read_text()
    assert f'source = "{REPO.as_posix()}"' in main and '"../.."' not in main
    assert (dest / ".terraform.lock.hcl").is_file()


def test_generated_roots(tmp_path: Path) -> None:
    variables = write_modules_root(
        tmp_path, {"a": {"name": "x", "openmetadata": {"jwt_token": "tok-value-9"}}}
    )
    assert variables == {"a__name": "x", "a__openmetadata": {"jwt_token": "tok-value-9"}}
    config = json.loads((tmp_path / "main.tf.json").read_text())
    assert config["variable"]["a__openmetadata"]["sensitive"] is True
    assert config["variable"]["a__name"]["sensitive"] is False
    assert config["module"]["a"]["openmetadata"] == "${var.a__openmetadata}"
    assert "tok-value-9" not in json.dumps(config)  # values only in the var file
    override = write_provider_override(tmp_path, "http://127.0.0.1:5000", mwaa_proxy="http://127.0.0.1:6000")
    hcl = override.read_text()
    assert (
        's3 = "http://127.0.0.1:5000"' in hcl
        and 'http_proxy                  = "http://127.0.0.1:6000"' in hcl
    )
    assert sorted(iter_strings({"k": ["a", {"b": "c"}]})) == ["a", "b", "c", "k"]
