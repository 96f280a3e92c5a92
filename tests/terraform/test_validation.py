"""Bad inputs are rejected at plan time, naming the input and saying what to write.

- `terraform test` runs tests/terraform/validation.tftest.hcl (mock provider, offline, expect_failures per
  variable): every run must pass.
- One real plan over several broken module instances checks the messages themselves (the variable, the missing
  key, the provider) and that no secret value is quoted in the errors.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from omlineage_devkit.terraform import REPO, Terraform, write_modules_root

TFTEST = Path(__file__).with_name("validation.tftest.hcl")
SECRET = "supersecret-jwt-value-42"


@pytest.fixture(scope="module")
def repo_tf(tmp_path_factory: pytest.TempPathFactory, tf_cli_config: Path) -> Terraform:
    """The module itself as root (for `terraform test`), with its data dir outside the repository."""
    data_dir = tmp_path_factory.mktemp("tftest-data")
    tf = Terraform(REPO, cli_config=tf_cli_config, env={"TF_DATA_DIR": str(data_dir)})
    tf.run("init", "-input=false", "-no-color", "-backend=false", "-lockfile=readonly")
    return tf


def test_terraform_test_validation_matrix(repo_tf: Terraform) -> None:
    runs = len(re.findall(r'^run "', TFTEST.read_text(), flags=re.M))
    assert runs >= 15
    proc = repo_tf.test("-test-directory=tests/terraform")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert f"{runs} passed, 0 failed" in output


BASE = {
    "vpc_id": "vpc-0abc",
    "private_subnet_ids": ["subnet-0a", "subnet-0b"],
    "artifacts": {"build_at_apply": True},
}
OM = {"api_endpoint": "https://om.example.com/api"}

# instance -> (inputs, message fragments that must appear in that instance's error)
BROKEN = {
    "okta_missing": (
        {"openmetadata": {**OM, "auth_provider_type": "okta", "client_id": "c"}},
        ['openmetadata.org_url, openmetadata.email are required when auth_provider_type = "okta"'],
    ),
    # (a variable whose own validation fails skips the checks of others that refer to it: a separate instance)
    "okta_no_credentials": (
        {
            "openmetadata": {
                **OM,
                "auth_provider_type": "okta",
                "client_id": "c",
                "org_url": "https://o",
                "email": "e@x",
            }
        },
        ['openmetadata_credentials.private_key required when openmetadata.auth_provider_type = "okta".'],
    ),
    "auth0_missing_domain": (
        {
            "openmetadata": {**OM, "auth_provider_type": "auth0", "client_id": "c"},
            "openmetadata_credentials": {"secret_key": SECRET},
        },
        ['openmetadata.domain is required when auth_provider_type = "auth0"'],
    ),
    # issue 11 item 6: the default provider is OpenMetadata's JWT one; the message names the token
    "default_needs_token": (
        {"openmetadata": OM},
        [
            "openmetadata_credentials.jwt_token required when "
            'openmetadata.auth_provider_type = "openmetadata"',
            "(the default: OpenMetadata >= 1.0 always authenticates; give the ingestion bot's JWT token",
            'auth_provider_type = "no-auth" for a server run without authentication',
        ],
    ),
    "secret_in_plain_input": (
        {"openmetadata": {**OM, "jwt_token": SECRET}},
        [
            "openmetadata.jwt_token would be kept in the Terraform plan and state: pass it in "
            "openmetadata_credentials instead"
        ],
    ),
    "unknown_provider": (
        {"openmetadata": {**OM, "auth_provider_type": "kerberos"}},
        ["openmetadata.auth_provider_type must be one of", 'got "kerberos"'],
    ),
    "ftp_endpoint": (
        {
            "openmetadata": {"api_endpoint": "ftp://om/api", "auth_provider_type": "openmetadata"},
            "openmetadata_credentials": {"jwt_token": SECRET},
        },
        ["openmetadata.api_endpoint must be an http:// or https:// URL"],
    ),
    "newline_value": (
        {
            "openmetadata": {
                **OM,
                "auth_provider_type": "custom-oidc",
                "client_id": "a\nb",
                "token_endpoint": "https://idp/token",
            },
            "openmetadata_credentials": {"secret_key": SECRET},
        },
        ["openmetadata.client_id must be printable ASCII on one line"],
    ),
    "clash": (
        {
            "openmetadata": {**OM, "auth_provider_type": "openmetadata"},
            "openmetadata_credentials": {"jwt_token": SECRET},
            "airflow_configuration_options": {"lineage.jwt_token": "x", "core.default_timezone": "utc"},
        },
        [
            "airflow_configuration_options must not set lineage.jwt_token",
            "set the matching openmetadata attribute",
        ],
    ),
    "micro": (
        {
            "openmetadata": {**OM, "auth_provider_type": "no-auth"},
            "environment_class": "mw1.micro",
            "schedulers": 2,
        },
        ['schedulers must be 1 (or null) when environment_class = "mw1.micro"'],
    ),
}


def test_error_messages_name_the_input_and_hide_secrets(plan_root: Terraform) -> None:
    modules = {
        name: {"name": f"bad-{i}", **BASE, **inputs} for i, (name, (inputs, _)) in enumerate(BROKEN.items())
    }
    variables = write_modules_root(plan_root.workdir, modules)
    plan_root.get()
    output = plan_root.plan_error(variables, name="broken")
    blocks = [" ".join(block.split()) for block in output.split("Error: ")[1:]]
    for name, (_, fragments) in BROKEN.items():
        # an input left at its default is reported at the module's own variables.tf
        mine = [b for b in blocks if f"{name}__" in b or f"module.{name}" in b or f"modules/{name}/" in b]
        assert mine, f"no error reported for module instance {name}:\n{output[-3000:]}"
        for fragment in fragments:
            assert any(fragment in b for b in mine), f"{name}: {fragment!r} not in {mine}"
    assert SECRET not in output
