"""The README's example as a platform repository uses it: a separate root module whose `source` is
`git::file://<a clone>?ref=<commit>`, with no artifacts settings. Plan offline (the provider from the
filesystem mirror, the module from a local git clone), apply against moto + the MWAA emulator (plugins.zip is
built at apply time with `python3`), then a second plan must be empty.

The clone is of the repository's HEAD commit: committed work is what gets tested, as a platform repo would.
"""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from pathlib import Path

from omlineage_devkit.local_aws import LocalAws, delete_routed_network, routed_network
from omlineage_devkit.terraform import REPO, Terraform

TIMEOUTS = 'timeouts = { create = "5m", update = "5m", delete = "5m" }'


def readme_example() -> str:
    """The first ```hcl block of README.md's "Using the module" section."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("## Using the module") :]
    match = re.search(r"```hcl\n(.*?)```", section, flags=re.S)
    assert match, "README.md: no ```hcl block under ## Using the module"
    return match.group(1)


def platform_root(tmp: Path, clone: Path, commit: str, vpc: str, subnets: list[str]) -> Path:
    block = readme_example()
    block, n = re.subn(r'source\s*=\s*"[^"]+"', f'source = "git::file://{clone}?ref={commit}"', block)
    assert n == 1, "README example has no single source line"
    block = re.sub(r'vpc_id\s*=\s*"[^"]+"', f'vpc_id = "{vpc}"', block)
    block = re.sub(
        r"private_subnet_ids\s*=\s*\[[^\]]*\]",
        f'private_subnet_ids = ["{subnets[0]}", "{subnets[1]}"]',
        block,
    )
    root = tmp / "platform"
    root.mkdir()
    variables = sorted(set(re.findall(r"\bvar\.([a-z_]+)", block)))
    (root / "main.tf").write_text(
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n'
        'provider "aws" {\n  region = "us-east-1"\n}\n'
        + "".join(f'variable "{v}" {{\n  type      = string\n  sensitive = true\n}}\n' for v in variables)
        + block
    )
    (root / "mwaa_override.tf").write_text(f'module "mwaa" {{\n  {TIMEOUTS}\n}}\n')
    (root / ".terraform.lock.hcl").write_bytes((REPO / ".terraform.lock.hcl").read_bytes())
    return root


def test_readme_example_from_a_git_source_plans_applies_and_settles(aws: LocalAws, tmp_path: Path) -> None:
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    clone = tmp_path / "module-clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    ec2 = aws.client("ec2")
    network = routed_network(ec2, "10.71")  # the caller's VPC: private subnets routed through a NAT gateway
    vpc, subnets = network["vpc_id"], network["subnet_ids"]
    root = platform_root(tmp_path, clone, commit, vpc, subnets)
    aws.write_override(root)
    tf = Terraform(root)
    variables = {"openmetadata_bot_jwt": "eyJhbGciOiJIUzI1NiJ9.e30.module-import"}
    tf.init()
    plan = tf.plan(variables)
    assert "module.mwaa.terraform_data.artifacts[0]" in plan.addresses(), "no apply-time build planned"
    try:
        tf.apply(variables)
        name = re.search(r'name\s*=\s*"([^"]+)"', readme_example()).group(1)
        env = aws.client("mwaa").get_environment(Name=name)["Environment"]
        bucket = env["SourceBucketArn"].rsplit(":", 1)[-1]
        s3 = aws.client("s3")
        body = s3.get_object(Bucket=bucket, Key="plugins.zip", VersionId=env["PluginsS3ObjectVersion"])[
            "Body"
        ].read()
        names = zipfile.ZipFile(io.BytesIO(body)).namelist()
        assert "openmetadata_lineage_shim.py" in names and any(
            n.startswith("airflow_openmetadata_lineage-") for n in names
        )
        requirements = s3.get_object(Bucket=bucket, Key="requirements.txt")["Body"].read().decode()
        assert "--find-links /usr/local/airflow/plugins" in requirements
        assert (
            env["AirflowConfigurationOptions"]["lineage.backend"]
            == "openmetadata_lineage_shim.OpenMetadataLineageBackend"
        )
        assert tf.plan_exitcode(variables) == 0, "the second plan is not empty"
    finally:
        tf.destroy(variables)
        delete_routed_network(ec2, network)
