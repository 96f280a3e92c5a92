"""The plan matrix's rows (tests/terraform/test_plan_matrix.py): one per auth provider, plus a customer KMS
key and bring-your-own bucket and role. Shared with the suites that need the module's inputs per provider (the
MWAA install tests, the IdP scope checks).
"""

from __future__ import annotations

import base64
import json
from typing import Any

BACKEND = "openmetadata_lineage_shim.OpenMetadataLineageBackend"  # the guard at the root of plugins.zip
WHEEL = "/usr/local/airflow/plugins/airflow_openmetadata_lineage-0.1.0-py3-none-any.whl"
ENDPOINT = "https://om.example.com:8585/api"

PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC%secretpem\n-----END PRIVATE KEY-----\n"
GOOGLE_JSON = json.dumps(
    {"type": "service_account", "private_key": "-----BEGIN KEY-----\nsecret%gkey\n", "client_email": "x@y"},
    indent=2,
)

# row -> (openmetadata input, extra module inputs, expected provider-specific options, secrets, extras)
ROWS: dict[str, dict[str, Any]] = {
    "noauth": {
        "om": {"api_endpoint": ENDPOINT, "auth_provider_type": "no-auth"},
        "options": {"lineage.auth_provider_type": "no-auth"},
        "secrets": {},
        "extras": "",
    },
    "jwt": {
        "om": {
            "api_endpoint": ENDPOINT,
            "auth_provider_type": "openmetadata",
            "jwt_token": "eyJhbGc.secret%jwt.sig",
        },
        "options": {
            "lineage.auth_provider_type": "openmetadata",
            "lineage.jwt_token": "aws-secretsmanager:openmetadata-lineage/om-jwt#jwt_token",
        },
        "secrets": {"jwt_token": "eyJhbGc.secret%jwt.sig"},
        "extras": "[aws]",
    },
    "google": {
        "om": {
            "api_endpoint": ENDPOINT,
            "auth_provider_type": "google",
            "secret_key": GOOGLE_JSON,
            "audience": "https://om.example.com",
        },
        "options": {
            "lineage.auth_provider_type": "google",
            "lineage.secret_key": "aws-secretsmanager:openmetadata-lineage/om-google#secret_key",
            "lineage.audience": "https://om.example.com",
        },
        "secrets": {"secret_key": GOOGLE_JSON},
        "extras": "[aws,google]",
    },
    "auth0": {
        "om": {
            "api_endpoint": ENDPOINT,
            "auth_provider_type": "auth0",
            "client_id": "auth0-client",
            "secret_key": "auth0-secret%value",
            "domain": "tenant.auth0.com",
            "audience": "https://om.example.com/api",
        },
        "options": {
            "lineage.auth_provider_type": "auth0",
            "lineage.client_id": "auth0-client",
            "lineage.secret_key": "aws-secretsmanager:openmetadata-lineage/om-auth0#secret_key",
            "lineage.domain": "tenant.auth0.com",
            "lineage.audience": "https://om.example.com/api",
        },
        "secrets": {"secret_key": "auth0-secret%value"},
        "extras": "[aws]",
    },
    "okta": {
        "om": {
            "api_endpoint": ENDPOINT,
            "auth_provider_type": "okta",
            "client_id": "okta-client",
            "org_url": "https://dev-1.okta.com/oauth2/default",
            "private_key": PEM,
            "email": "bot@example.com",
            "scopes": ["openmetadata.lineage", "openmetadata.read"],
        },
        "options": {
            "lineage.auth_provider_type": "okta",
            "lineage.client_id": "okta-client",
            "lineage.org_url": "https://dev-1.okta.com/oauth2/default",
            "lineage.private_key": "aws-secretsmanager:openmetadata-lineage/om-okta#private_key",
            "lineage.email": "bot@example.com",
            "lineage.scopes": "[openmetadata.lineage, openmetadata.read]",
        },
        "secrets": {"private_key": PEM},
        "extras": "[aws,okta]",
    },
    "azure": {
        "om": {
            "api_endpoint": ENDPOINT,
            "auth_provider_type": "azure",
            "client_id": "azure-client",
            "client_secret": "azure~secret%value",
            "authority": "https://login.microsoftonline.com/tenant-id",
            "scopes": ["api://om/.default"],
        },
        "options": {
            "lineage.auth_provider_type": "azure",
            "lineage.client_id": "azure-client",
            "lineage.client_secret": "aws-secretsmanager:openmetadata-lineage/om-azure#client_secret",
            "lineage.authority": "https://login.microsoftonline.com/tenant-id",
            "lineage.scopes": "[api://om/.default]",
        },
        "secrets": {"client_secret": "azure~secret%value"},
        "extras": "[aws,azure]",
    },
    "oidc": {
        "om": {
            "api_endpoint": ENDPOINT,
            "auth_provider_type": "custom-oidc",
            "client_id": "oidc-client",
            "secret_key": "oidc-secret%value",
            "token_endpoint": "https://idp.example.com/oauth2/token",
            "token_endpoint_auth_method": "client_secret_post",
        },
        "options": {
            "lineage.auth_provider_type": "custom-oidc",
            "lineage.client_id": "oidc-client",
            "lineage.secret_key": "aws-secretsmanager:openmetadata-lineage/om-oidc#secret_key",
            "lineage.token_endpoint": "https://idp.example.com/oauth2/token",
            "lineage.token_endpoint_auth_method": "client_secret_post",
        },
        "secrets": {"secret_key": "oidc-secret%value"},
        "extras": "[aws]",
    },
    # The seed's exact behaviour (inline_secrets) on Airflow 3: no lineage.backend, multi-line secret as
    # base64:, every % doubled, user options merged, user requirement lines appended, no aws extra.
    "inline3": {
        "om": {
            "api_endpoint": "http://om.internal:8585/api?x=100%",
            "airflow_service_name": "mwaa_prod",
            "auth_provider_type": "okta",
            "client_id": "okta%client",
            "org_url": "https://dev-1.okta.com",
            "private_key": PEM,
            "email": "bot@example.com",
        },
        "inputs": {
            "inline_secrets": True,
            "airflow_version": "3.0.6",
            "airflow_configuration_options": {"core.default_timezone": "utc", "lineage.timeout": "7"},
            "extra_requirements": [
                "apache-airflow-providers-snowflake",
                "-c https://example.com/constraints.txt",
            ],
        },
        "options": {
            "lineage.auth_provider_type": "okta",
            "lineage.airflow_service_name": "mwaa_prod",
            "lineage.openmetadata_api_endpoint": "http://om.internal:8585/api?x=100%%",
            "lineage.client_id": "okta%%client",
            "lineage.org_url": "https://dev-1.okta.com",
            "lineage.private_key": "base64:" + base64.b64encode(PEM.encode()).decode(),
            "lineage.email": "bot@example.com",
            "core.default_timezone": "utc",
            "lineage.timeout": "7",
        },
        "secrets": {"private_key": PEM},
        "extras": "[okta]",
    },
}

# Not an auth row: a customer KMS key and no secret, so the whole execution policy is known at plan time.
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666"
ROWS["kms"] = {
    "om": {"api_endpoint": ENDPOINT, "auth_provider_type": "no-auth"},
    "inputs": {"kms_key_arn": KMS_KEY},
    "options": {"lineage.auth_provider_type": "no-auth"},
    "secrets": {},
    "extras": "",
}

# Bring your own bucket and role: nothing of either is created, the environment and the objects use them.
BYO_ROLE = "arn:aws:iam::123456789012:role/my-mwaa-role"
ROWS["byo"] = {
    "om": {"api_endpoint": ENDPOINT, "auth_provider_type": "no-auth"},
    "inputs": {
        "create_bucket": False,
        "bucket_name": "my-own-mwaa-bucket",
        "create_execution_role": False,
        "execution_role_arn": BYO_ROLE,
    },
    "options": {"lineage.auth_provider_type": "no-auth"},
    "secrets": {},
    "extras": "",
}

SECRET_VALUES = sorted({v for row in ROWS.values() for v in row["secrets"].values()})
# Fragments of the secrets that must not leak in any encoding we control (raw, %-doubled).
SECRET_MARKERS = ["secretpem", "secret%gkey", "secret%jwt", "secret%value", "secret%%value", "secret%%jwt"]


CREDENTIAL_KEYS = ("jwt_token", "secret_key", "client_secret", "private_key")


# One row per auth_provider_type of the module (lineage.tf's table), with the plan matrix's inputs: the MWAA
# install tests plan the module once for each.
PROVIDERS = {
    "no-auth": "noauth",
    "openmetadata": "jwt",
    "google": "google",
    "auth0": "auth0",
    "okta": "okta",
    "azure": "azure",
    "custom-oidc": "oidc",
}
