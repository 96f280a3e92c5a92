"""Features that depend on the hashicorp/aws version, checked against the provider the tests run (the mirror).

`worker_replacement_strategy` (GRACEFUL | FORCED on environment updates) arrived in hashicorp/aws 6.11; the
module supports >= 5.88, < 7 and is tested with 5.100.0, where the argument does not exist: an unknown
argument would break every plan on 5.x, and Terraform cannot set an argument conditionally on the provider
version. So the module does not expose it yet (docs/module.md says so) and updates use the service's default.
This test pins that reasoning to the provider actually installed: when the mirror moves to a provider that has
the argument, it fails and says what to do.
"""

from __future__ import annotations

import json

from omlineage_devkit.terraform import Terraform


def test_worker_replacement_strategy_not_in_tested_provider(plan_root: Terraform) -> None:
    schema = json.loads(plan_root.run("providers", "schema", "-json").stdout)
    aws = schema["provider_schemas"]["registry.terraform.io/hashicorp/aws"]
    env = aws["resource_schemas"]["aws_mwaa_environment"]["block"]["attributes"]
    # the outputs for customer-managed endpoints read these
    assert {"database_vpc_endpoint_service", "webserver_vpc_endpoint_service", "webserver_url"} <= set(env)
    assert "worker_replacement_strategy" not in env, (
        "the tested hashicorp/aws provider now has aws_mwaa_environment.worker_replacement_strategy: "
        "raise the module's provider floor to that version, add a worker_replacement_strategy input "
        "(GRACEFUL | FORCED) and drop this guard"
    )
    # write-only secret: what secrets.tf relies on
    version = aws["resource_schemas"]["aws_secretsmanager_secret_version"]["block"]["attributes"]
    assert version["secret_string_wo"].get("write_only") is True and "secret_string_wo_version" in version
