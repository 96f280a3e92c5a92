"""The module's mapping table (lineage.tf) and the wheel's options table (options.py) agree: same providers,
same required keys, optional keys the provider reads, same secret keys, extras that exist in the wheel's
pyproject, the backend class the wheel defines (docs/architecture.md section 1)."""

from __future__ import annotations

import importlib.util
import re
import sys
from types import ModuleType

import tomllib

from omlineage_devkit.terraform import REPO

ROW = re.compile(
    r'^\s*"(?P<name>[a-z0-9-]+)"\s*=\s*\{\s*required\s*=\s*\[(?P<required>[^\]]*)\],\s*optional\s*=\s*\[(?P<optional>[^\]]*)\],'
    r"\s*extra\s*=\s*\[(?P<extra>[^\]]*)\]\s*\}",
    re.M,
)


def words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r'"([^"]+)"', text))


def module_table() -> dict[str, dict[str, tuple[str, ...]]]:
    text = (REPO / "lineage.tf").read_text()
    block = text[text.index("lineage_providers = {") :]
    block = block[: block.index("\n  }\n")]
    return {
        m["name"]: {
            "required": words(m["required"]),
            "optional": words(m["optional"]),
            "extra": words(m["extra"]),
        }
        for m in ROW.finditer(block)
    }


def wheel_options() -> ModuleType:
    """The wheel's options table, loaded from python/src without installing the wheel (under a private package
    name, so an installed copy of the wheel is never the one read)."""
    name = "_wheel_src_airflow_openmetadata_lineage"
    if name not in sys.modules:
        package = REPO / "python" / "src" / "airflow_openmetadata_lineage"
        spec = importlib.util.spec_from_file_location(
            name, package / "__init__.py", submodule_search_locations=[str(package)]
        )
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return importlib.import_module(f"{name}.options")


def test_same_providers_and_required_keys() -> None:
    table = module_table()
    assert len(table) == 7, f"could not parse the table in lineage.tf: {table}"
    options = wheel_options()
    assert set(table) == set(options.AUTH_PROVIDERS)
    for name, row in table.items():
        assert set(row["required"]) == set(options.required_keys(name)), name
        for key in row["optional"]:
            assert name in options.OPTIONS[key].providers, (name, key)


def test_same_secret_keys() -> None:
    text = (REPO / "lineage.tf").read_text()
    listed = re.search(r"lineage_secret_keys\s*=\s*\[([^\]]*)\]", text)
    assert listed
    assert set(words(listed.group(1))) == set(wheel_options().SECRET_KEYS)


def test_extras_exist_in_the_wheel() -> None:
    extras = tomllib.loads((REPO / "python" / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    for row in module_table().values():
        for extra in row["extra"]:
            assert extra in extras
    assert "aws" in extras  # added when secrets are resolved from Secrets Manager


def test_backend_class_exists() -> None:
    text = (REPO / "lineage.tf").read_text()
    dotted = re.search(r'lineage_backend_class\s*=\s*"([^"]+)"', text)
    assert dotted
    module, cls = dotted.group(1).rsplit(".", 1)
    # The guard sits at the root of plugins.zip (python/shim/), outside the wheel.
    source = REPO / "python" / "shim" / (module.replace(".", "/") + ".py")
    assert re.search(rf"^class {cls}\b", source.read_text(), flags=re.M), f"{dotted.group(1)} not in {source}"
