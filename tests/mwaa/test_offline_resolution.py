"""Every MWAA version x auth provider: the module's requirements.txt + plugins.zip install with no index
reachable, under that version's constraints, into that version's image (`.venvs/mwaa-<v>`).

pip runs with no config and a dead index (`pip install --dry-run --report`, resolving against the image's
installed packages); everything it would install must come from the unpacked plugins.zip. The cells run
concurrently; the table they print is docs/mwaa-support.md's.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from omlineage_devkit.mwaa_image import (
    VERSIONS,
    PipResult,
    constraints,
    image_python,
    local_requirements,
    offline_pip,
)
from omlineage_devkit.plan_rows import PROVIDERS

WHEEL = "airflow-openmetadata-lineage"
# What each provider needs beyond the image, on every version (the BOMs have none of these).
NEEDS_FROM_PLUGINS = {"azure": {"msal"}, "google": {"google-auth"}}


@pytest.fixture(scope="module")
def cells(
    plugins: dict[str, dict[str, Any]],
    module_outputs: dict[str, dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[tuple[str, str], PipResult]:
    root = tmp_path_factory.mktemp("offline-pip")

    def one(cell: tuple[str, str]) -> tuple[tuple[str, str], PipResult]:
        version, provider = cell
        work = root / f"{version}-{provider}"
        work.mkdir()
        req = local_requirements(
            module_outputs[provider]["requirements"], plugins[version]["dir"], work / "requirements.txt"
        )
        args = ["--dry-run", "-q", "-r", str(req), *constraints(version)]
        return cell, offline_pip(image_python(version), args, work / "report.json")

    # Providers whose requirements.txt is the same (same extras) share one pip run per version.
    same: dict[tuple[str, str], list[str]] = {}
    for v in VERSIONS:
        for p in PROVIDERS:
            same.setdefault((v, module_outputs[p]["requirements"]), []).append(p)
    firsts = [(v, providers[0]) for (v, _), providers in same.items()]
    with ThreadPoolExecutor(max_workers=4) as pool:
        ran = dict(pool.map(one, firsts))
    results = {(v, p): ran[(v, providers[0])] for (v, _), providers in same.items() for p in providers}
    print("\n| MWAA | " + " | ".join(PROVIDERS) + " |")
    print("|---|" + "---|" * len(PROVIDERS))
    for v in VERSIONS:
        row = [
            f"{'ok' if results[(v, p)].rc == 0 else 'FAIL'} {results[(v, p)].seconds:.1f}s" for p in PROVIDERS
        ]
        print(f"| {v} | " + " | ".join(row) + " |")
    return results


@pytest.mark.parametrize("provider", list(PROVIDERS))
@pytest.mark.parametrize("version", VERSIONS)
def test_installs_with_no_index(
    cells: dict[tuple[str, str], PipResult], plugins: dict[str, Any], version: str, provider: str
) -> None:
    result = cells[(version, provider)]
    assert result.rc == 0, f"MWAA {version} / {provider}: offline install failed:\n{result.output[-4000:]}"
    assert WHEEL in result.installed
    plugins_dir = Path(plugins[version]["dir"]).as_uri()
    foreign = {name: url for name, url in result.sources.items() if not url.startswith(plugins_dir)}
    assert not foreign, f"{version}/{provider}: not from plugins.zip: {foreign}"
    assert NEEDS_FROM_PLUGINS.get(provider, set()) <= set(result.installed), result.installed


def test_without_the_wheelhouse_azure_and_google_fail(
    plugins: dict[str, dict[str, Any]], module_outputs: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """The guard works: with only the wheel (and sqlglot, its core dependency) in the plugins folder, azure
    and google do not resolve offline (ResolutionImpossible on msal / google-auth), no-auth still does."""
    version = "2.10.3"
    only_wheel = tmp_path / "plugins"
    only_wheel.mkdir()
    # the wheel and its core dependency the image lacks (sqlglot): what no extra needs
    for pattern in ("airflow_openmetadata_lineage-*.whl", "sqlglot-*.whl"):
        wheel = next(Path(plugins[version]["dir"]).glob(pattern))
        (only_wheel / wheel.name).write_bytes(wheel.read_bytes())
    rcs = {}
    for provider in ("azure", "google", "no-auth"):
        req = local_requirements(
            module_outputs[provider]["requirements"], only_wheel, tmp_path / f"{provider}.txt"
        )
        result = offline_pip(
            image_python(version),
            ["--dry-run", "-q", "-r", str(req), *constraints(version)],
            tmp_path / f"{provider}.json",
        )
        rcs[provider] = result.rc
    assert rcs["no-auth"] == 0 and rcs["azure"] != 0 and rcs["google"] != 0, rcs
