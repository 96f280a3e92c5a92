"""config.py: parsing, normalisation, encodings; error messages name the key and say what to write."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Optional

import pytest

from airflow_openmetadata_lineage import auth, options
from airflow_openmetadata_lineage.config import (
    ConfigError,
    LineageConfig,
    airflow_getter,
    load_config,
    mapping_getter,
    parse_scopes,
)

BASE = {"airflow_service_name": "MWAA", "openmetadata_api_endpoint": "http://openmetadata:8585/api"}


def load(**options: str) -> LineageConfig:
    return load_config(mapping_getter({**BASE, **options}))


def error_for(options: dict[str, Optional[str]]) -> ConfigError:
    merged = {k: v for k, v in {**BASE, **options}.items() if v is not None}
    with pytest.raises(ConfigError) as info:
        load_config(mapping_getter(merged))
    return info.value


def test_minimal_config_defaults(tmp_path: Path) -> None:
    config = load()
    assert config.service_name == "MWAA"
    assert config.endpoint == "http://openmetadata:8585/api"
    assert config.auth_provider_type == "no-auth"
    assert (config.timeout, config.time_budget, config.verify) == (5.0, 5.0, True)
    assert config.airflow_base_url == "http://localhost:8080"
    assert os.path.basename(os.path.dirname(config.spool_dir)) == "airflow-openmetadata-lineage"
    # one folder per deployment: another server or service never shares the spool or the cache
    assert load(airflow_service_name="other").spool_dir != config.spool_dir
    assert load(openmetadata_api_endpoint="http://om2:8585/api").spool_dir != config.spool_dir
    assert load().spool_dir == config.spool_dir
    assert config.options == {}


@pytest.mark.parametrize(
    "given, expected",
    [
        ("http://om:8585/api", "http://om:8585/api"),
        ("http://om:8585/api/", "http://om:8585/api"),
        ("http://om:8585", "http://om:8585/api"),
        ("http://om:8585/", "http://om:8585/api"),
        ("https://om.example.com/openmetadata", "https://om.example.com/openmetadata/api"),
        ("  https://om.example.com/api  ", "https://om.example.com/api"),
    ],
)
def test_endpoint_normalised_with_or_without_api(given: str, expected: str) -> None:
    assert load(openmetadata_api_endpoint=given).endpoint == expected


@pytest.mark.parametrize(
    "options, key, says",
    [
        (
            {"openmetadata_api_endpoint": None},
            "openmetadata_api_endpoint",
            "e.g. http://openmetadata:8585/api",
        ),
        ({"openmetadata_api_endpoint": "   "}, "openmetadata_api_endpoint", "is missing"),
        ({"openmetadata_api_endpoint": "openmetadata:8585"}, "openmetadata_api_endpoint", "http(s) URL"),
        ({"openmetadata_api_endpoint": "ftp://om/api"}, "openmetadata_api_endpoint", "http(s) URL"),
        ({"openmetadata_api_endpoint": "http://om:port/api"}, "openmetadata_api_endpoint", "invalid port"),
        ({"openmetadata_api_endpoint": "http://om/api?x=1"}, "openmetadata_api_endpoint", "query"),
        ({"openmetadata_api_endpoint": "https://u:pw@om/api"}, "openmetadata_api_endpoint", "user:password@"),
        ({"airflow_service_name": None}, "airflow_service_name", "e.g. MWAA"),
        ({"airflow_service_name": "a::b"}, "airflow_service_name", "without '::'"),
        (
            {"auth_provider_type": "kerberos"},
            "auth_provider_type",
            "no-auth, openmetadata, google, auth0, okta",
        ),
        ({"auth_provider_type": "openmetadata"}, "jwt_token", "requires it"),
        ({"auth_provider_type": "jwt"}, "jwt_token", "auth_provider_type=openmetadata"),
        ({"timeout": "fast"}, "timeout", "positive number of seconds"),
        ({"timeout": "0"}, "timeout", "positive number"),
        ({"timeout": "-3"}, "timeout", "positive number"),
        ({"time_budget": "nan"}, "time_budget", "positive number"),
        ({"time_budget": "inf"}, "time_budget", "positive number"),
        ({"verify_ssl": "/no/such/ca.pem"}, "verify_ssl", "does not exist"),
        ({"ca_bundle": "/no/such/ca.pem"}, "ca_bundle", "does not exist"),
        ({"airflow_base_url": "localhost:8080"}, "airflow_base_url", "http(s) URL"),
        ({"auth_provider_type": "jwt", "jwt_token": "base64:%%%"}, "jwt_token", "not valid base64"),
    ],
)
def test_bad_input_names_the_key(options: dict[str, Optional[str]], key: str, says: str) -> None:
    err = error_for(options)
    assert err.key == key
    assert str(err).startswith(f"[lineage] {key}")
    assert says in str(err)


@pytest.mark.parametrize("provider", sorted(options.AUTH_PROVIDERS))
def test_each_providers_required_keys_are_checked(provider: str) -> None:
    required = options.required_keys(provider)
    full = {k: "x" for k in required}
    assert load(auth_provider_type=provider, **full).auth_provider_type == provider
    for missing in required:
        err = error_for({"auth_provider_type": provider, **{k: "x" for k in required if k != missing}})
        assert err.key == missing
        assert f"auth_provider_type={provider}" in str(err)


def test_secret_values_never_in_messages() -> None:
    secret = "s3cr3t-value-XYZ"
    err = error_for(
        {"auth_provider_type": "auth0", "client_id": "id", "secret_key": secret}
    )  # domain missing
    assert err.key == "domain"
    assert secret not in str(err)
    err = error_for(
        {
            "auth_provider_type": "azure",
            "client_id": "i",
            "client_secret": secret,
            "authority": "a",
            "scopes": "[]",
        }
    )
    assert err.key == "scopes" and secret not in str(err)


@pytest.mark.parametrize("value", ["JWT", "jwt", "OpenMetadata", " openmetadata "])
def test_provider_names_case_insensitive_and_alias(value: str) -> None:
    assert load(auth_provider_type=value, jwt_token="t").auth_provider_type == "openmetadata"


@pytest.mark.parametrize(
    "value, verify",
    [("true", True), ("True", True), ("false", False), ("FALSE", False), ("no", False), ("1", True)],
)
def test_verify_ssl_flags(value: str, verify: bool) -> None:
    assert load(verify_ssl=value).verify is verify


def test_verify_ssl_path_and_ca_bundle(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    assert load(verify_ssl=str(ca)).verify == str(ca)
    assert load(ca_bundle=str(ca)).verify == str(ca)
    assert load(ca_bundle=str(ca), verify_ssl="false").verify is False


def test_numbers_parsed() -> None:
    config = load(timeout="2.5", time_budget="7")
    assert (config.timeout, config.time_budget) == (2.5, 7.0)


def test_base_url_from_lineage_then_webserver_then_api() -> None:
    get = mapping_getter(
        BASE, webserver={"base_url": "http://web:8080/"}, api={"base_url": "http://api:8080"}
    )
    assert load_config(get).airflow_base_url == "http://web:8080"
    assert load_config(mapping_getter(BASE, api={"base_url": "http://api:8080"})).airflow_base_url == (
        "http://api:8080"
    )
    assert load(airflow_base_url="https://x.airflow.amazonaws.com/").airflow_base_url == (
        "https://x.airflow.amazonaws.com"
    )


# -- encodings -----------------------------------------------------------------------------------------------

PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nabc%def\n-----END PRIVATE KEY-----\n"


def test_percent_undoubled() -> None:
    config = load(auth_provider_type="openmetadata", jwt_token="ab%%cd%%%%ef", client_id="100%%")
    assert config.options["jwt_token"] == "ab%cd%%ef"
    assert config.options["client_id"] == "100%"


def test_base64_value_decoded() -> None:
    encoded = "base64:" + base64.b64encode(PEM.encode()).decode()
    assert (
        load(auth_provider_type="okta", client_id="c", org_url="o", email="e", private_key=encoded).options[
            "private_key"
        ]
        == PEM
    )


def test_pem_with_literal_backslash_n_decoded() -> None:
    one_line = PEM.replace("%", "%%").replace("\n", "\\n")
    assert "\n" not in one_line
    config = load(auth_provider_type="okta", client_id="c", org_url="o", email="e", private_key=one_line)
    assert config.options["private_key"] == PEM


def test_json_with_escaped_newlines_left_alone() -> None:
    sa = '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\nAAA\\n-----END"}'
    assert load(auth_provider_type="google", secret_key=sa).options["secret_key"] == sa


@pytest.mark.parametrize(
    "value, scopes",
    [
        ("[scope, scope2]", ["scope", "scope2"]),
        ('["a", "b"]', ["a", "b"]),
        ("a,b", ["a", "b"]),
        ("a, b", ["a", "b"]),
        ("api://x/.default", ["api://x/.default"]),
        ("['a','b']", ["a", "b"]),
        ("", []),
        ("[]", []),
    ],
)
def test_parse_scopes(value: str, scopes: list[str]) -> None:
    assert parse_scopes(value) == scopes


def test_scopes_helper_on_config() -> None:
    config = load(
        auth_provider_type="azure", client_id="c", client_secret="s", authority="a", scopes="[x, y]"
    )
    assert config.scopes() == ["x", "y"]


def test_config_repr_hides_options() -> None:
    config = load(auth_provider_type="openmetadata", jwt_token="very-secret-token")
    assert "very-secret-token" not in repr(config)


# -- reading through Airflow ---------------------------------------------------------------------------------


def test_airflow_getter_reads_env_verbatim(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__LINEAGE__AIRFLOW_SERVICE_NAME", "MWAA")
    monkeypatch.setenv("AIRFLOW__LINEAGE__OPENMETADATA_API_ENDPOINT", "http://om:8585")
    monkeypatch.setenv("AIRFLOW__LINEAGE__AUTH_PROVIDER_TYPE", "jwt")
    monkeypatch.setenv("AIRFLOW__LINEAGE__JWT_TOKEN", "a%%b$HOME")
    config = load_config(airflow_getter())
    assert config.endpoint == "http://om:8585/api"
    assert config.options["jwt_token"] == "a%b$HOME"  # no $VAR expansion, %% un-doubled


def test_airflow_cfg_read_raw(tmp_path: Path) -> None:
    """From airflow.cfg, `%%` is read raw (not interpolated by Airflow) and un-doubled once by the wheel."""
    (tmp_path / "airflow.cfg").write_text(
        textwrap.dedent(
            """\
            [lineage]
            airflow_service_name = FromCfg
            openmetadata_api_endpoint = http://om:8585/api
            auth_provider_type = openmetadata
            jwt_token = tok%%en
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    env["AIRFLOW_HOME"] = str(tmp_path)
    code = (
        "from airflow_openmetadata_lineage.config import load_config\n"
        "c = load_config()\nprint(c.service_name, c.options['jwt_token'])"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["FromCfg", "tok%en"]


def test_validation_imports_no_provider_library() -> None:
    """Required keys are read from the provider classes, whose modules import their libraries lazily: loading
    an okta/azure/google config imports none of PyJWT, msal, google-auth, requests."""
    code = (
        "import sys\n"
        "from airflow_openmetadata_lineage.config import load_config, mapping_getter\n"
        "base = {'airflow_service_name': 'M', 'openmetadata_api_endpoint': 'http://x'}\n"
        "for p, keys in [('okta', ['client_id','org_url','private_key','email']), ('google', ['secret_key']),"
        " ('azure', ['client_id','client_secret','authority','scopes'])]:\n"
        "    load_config(mapping_getter({**base, 'auth_provider_type': p, **{k: 'v' for k in keys}}))\n"
        "print(sorted(m for m in ('jwt', 'msal', 'google.auth', 'requests', 'boto3') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def test_registry_matches_provider_classes() -> None:
    """Every registry entry imports, and its class agrees with the options table and its name."""
    for name in options.AUTH_PROVIDERS:
        cls = auth.provider_class(name)
        assert cls.name == name
        assert tuple(cls.required_keys) == options.required_keys(name), name
        # every key the class requires is a provider key of the table that names this provider
        for key in cls.required_keys:
            assert name in options.OPTIONS[key].providers, (name, key)
    assert options.canonical_provider("JWT") == "openmetadata"
    assert options.canonical_provider("custom_oidc") == "custom-oidc"
    assert options.canonical_provider("nope") is None


def test_token_endpoint_auth_method_is_checked() -> None:
    oidc = {
        "auth_provider_type": "custom-oidc",
        "client_id": "c",
        "secret_key": "s",
        "token_endpoint": "https://i/t",
    }
    err = error_for({**oidc, "token_endpoint_auth_method": "private_key_jwt"})
    assert err.key == "token_endpoint_auth_method"
    assert "use client_secret_basic or client_secret_post" in str(err)
    assert load(**oidc, token_endpoint_auth_method="client_secret_post").options["token_endpoint_auth_method"]


def _wheel_imports(path: Path) -> set[str]:
    """The wheel modules `path` imports (relative imports, resolved against the package root)."""
    import ast

    package = Path(options.__file__).parent
    parts = list(path.relative_to(package).with_suffix("").parts)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = parts[: len(parts) - node.level]
            if node.module:
                found.add(".".join([*base, *node.module.split(".")]))
            else:
                found.update(".".join([*base, alias.name]) for alias in node.names)
    return found


def test_config_and_auth_do_not_import_each_other() -> None:
    """Both read the options table; neither imports the other (not even for type checking)."""
    package = Path(options.__file__).parent
    assert not {m for m in _wheel_imports(package / "config.py") if m.split(".")[0] == "auth"}
    for module in sorted((package / "auth").glob("*.py")):
        assert "config" not in _wheel_imports(module), module.name
    assert _wheel_imports(package / "options.py") == set()
