"""The `apache_airflow_provider` entry point: Airflow 2 lists the package, the schema accepts its
info, and every `[lineage]` option the wheel reads is documented, secret ones flagged sensitive."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema

from airflow_openmetadata_lineage import __version__, options
from airflow_openmetadata_lineage.provider_info import LINEAGE_OPTIONS, PACKAGE, get_provider_info

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def airflow_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(AIRFLOW_HOME=str(home), AIRFLOW__CORE__LOAD_EXAMPLES="False")
    return env


def _schema() -> dict:
    import airflow  # only to find the schema file next to it; no Airflow config is touched

    return json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())


def test_provider_info_matches_airflows_schema() -> None:
    schema = _schema()
    info = get_provider_info()
    jsonschema.validate(info, schema)
    assert (info["package-name"], info["versions"]) == (PACKAGE, [__version__])
    option_schema = {**schema["definitions"]["option"], "definitions": schema["definitions"]}
    for key, option in LINEAGE_OPTIONS.items():
        jsonschema.validate(option, option_schema)
        assert option["description"].strip(), key


def test_every_option_the_wheel_reads_is_documented() -> None:
    assert set(LINEAGE_OPTIONS) == {"backend", *options.GENERAL_KEYS, *options.PROVIDER_KEYS}
    assert {k for k, o in LINEAGE_OPTIONS.items() if o["sensitive"]} == set(options.SECRET_KEYS)
    # the contract table (docs/architecture.md §1) names no option that is not documented here
    section = (REPO / "docs" / "architecture.md").read_text().split("## 1.")[1].split("###")[0]
    first_cells = [row.split("|")[1] for row in section.splitlines() if row.startswith("| `")]
    contract_keys = {k for cell in first_cells for k in re.findall(r"`([a-z_]+)`", cell)}
    assert contract_keys and contract_keys <= set(LINEAGE_OPTIONS), contract_keys - set(LINEAGE_OPTIONS)
    # ... and documents every one of them
    assert set(options.OPTIONS) <= contract_keys, set(options.OPTIONS) - contract_keys


def test_airflow_providers_list_shows_the_package(tmp_path: Path) -> None:
    out = subprocess.run(
        [str(BIN / "airflow"), "providers", "list", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=180,
        env=airflow_env(tmp_path),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    listed = {p["package_name"]: p["version"] for p in json.loads(out.stdout[out.stdout.index("[") :])}
    assert listed.get(PACKAGE) == __version__, listed


def test_why_the_options_are_not_under_config(tmp_path: Path) -> None:
    """Airflow forbids a provider to add options to a core section: a "config" entry for [lineage] would
    make loading provider configuration raise (and with it every Airflow command). Ours loads cleanly."""
    code = (
        "import airflow_openmetadata_lineage.provider_info as pi\n"
        "from airflow.providers_manager import ProvidersManager\n"
        "ProvidersManager().initialize_providers_configuration()\n"  # ours, as shipped: fine
        "original = pi.get_provider_info\n"
        "pi.get_provider_info = lambda: {**original(), 'config': original()['lineage-config']}\n"
        "ProvidersManager._initialized = False\n"
        "pm = ProvidersManager(); pm._provider_dict.clear(); pm._provider_configs.clear()\n"
        "pm._initialized_cache.clear()\n"
        "try:\n"
        "    pm.initialize_providers_configuration()\n"
        "    print('loaded')\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=180, env=airflow_env(tmp_path)
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "AirflowConfigException"
    assert "config" not in get_provider_info()
