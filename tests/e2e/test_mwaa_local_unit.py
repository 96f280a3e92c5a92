"""omlineage_devkit.mwaa_local's pure parts: how options and requirements are carried over, as MWAA does."""

from __future__ import annotations

from pathlib import Path

import pytest

from omlineage_devkit.mwaa_local import MwaaLocalError, option_env, rewrite_requirements, venv_name


def test_options_become_airflow_env_vars() -> None:
    env = option_env({"lineage.jwt_token": "aws-secretsmanager:s#jwt_token", "core.default_timezone": "utc"})
    assert env == {
        "AIRFLOW__LINEAGE__JWT_TOKEN": "aws-secretsmanager:s#jwt_token",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "utc",
    }


@pytest.mark.parametrize("key", ["nosection", "core."])
def test_option_without_section_is_named(key: str) -> None:
    with pytest.raises(MwaaLocalError, match=repr(key)):
        option_env({key: "x"})


def test_requirements_point_at_the_local_plugins_folder(tmp_path: Path) -> None:
    text = (
        "# generated\n"
        "/usr/local/airflow/plugins/pkg-0.1.0-py3-none-any.whl[aws]\n"
        "--find-links /usr/local/airflow/plugins\n"
    )
    out = rewrite_requirements(text, tmp_path / "plugins")
    assert out.splitlines() == [
        "# generated",
        f"{tmp_path}/plugins/pkg-0.1.0-py3-none-any.whl[aws]",
        f"--find-links {tmp_path}/plugins",
    ]


def test_one_venv_per_airflow_major() -> None:
    assert [venv_name(v) for v in ("2.7.2", "2.11.0", "3.0.6")] == [
        "mwaa-local-2",
        "mwaa-local-2",
        "mwaa-local-3",
    ]
