"""Creation order: the MWAA environment waits for every resource it needs to start.

CreateEnvironment is refused while the environment's security groups have no self-referencing rule (the
provider strips a new group's default egress and its rules are separate resources), and a started environment
fails without its routes, NAT gateway, endpoints or role policies, although the environment refers to none of
them. `terraform graph` (the resource dependency graph Terraform applies in) of a root that switches on every
optional resource must therefore have a path from aws_mwaa_environment.this to each module resource, except
the few listed in NOT_NEEDED with the reason.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from omlineage_devkit.terraform import REPO, Terraform

ENVIRONMENT = "module.mwaa.aws_mwaa_environment.this"
# Module resources the environment may be created without, and why.
NOT_NEEDED = {
    "aws_default_security_group.this": "locks down the VPC's default group, which the environment never uses",
    "aws_s3_object.dags": "DAG files are read after the environment runs; they may arrive later",
    "aws_vpc_security_group_ingress_rule.webserver_cidr": "UI access for people, not needed to start",
    "aws_vpc_security_group_ingress_rule.webserver_group": "UI access for people, not needed to start",
}
EDGE = re.compile(r'^\s*"([^"]+)" -> "([^"]+)"', re.M)
NODE = re.compile(r'^\s*"([^"]+)" \[label=', re.M)

# Every optional resource on: created VPC (NAT per AZ and the no-internet endpoints are separate roots),
# extra inline and managed policies, a secret, a startup script, DAGs.
ROOTS = {
    "nat": {
        "create_vpc": True,
        "execution_role_policy_documents": ['{"Version":"2012-10-17","Statement":[]}'],
        "execution_role_policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        "startup_script": "#!/bin/sh\n",
        "dags_dir": str(REPO / "examples" / "complete" / "dags"),
        "webserver_ingress_cidr_blocks": ["10.0.0.0/8"],
        "webserver_ingress_security_group_ids": ["sg-0123456789abcdef0"],
    },
    "no_internet": {"create_vpc": True, "nat_gateway_mode": "none"},
    "single_nat_with_endpoints": {
        "create_vpc": True,
        "nat_gateway_mode": "single",
        "vpc_interface_endpoints": ["logs", "secretsmanager"],
    },
}


def graph_dependencies(dot: str) -> dict[str, set[str]]:
    """node -> the nodes it depends on (directly), from `terraform graph` DOT output."""
    deps: dict[str, set[str]] = {node: set() for node in NODE.findall(dot)}
    for source, target in EDGE.findall(dot):
        deps.setdefault(source, set()).add(target)
        deps.setdefault(target, set())
    return deps


def upstream(deps: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for dep in deps.get(todo.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def missing_dependencies(dot: str) -> list[str]:
    deps = graph_dependencies(dot)
    assert ENVIRONMENT in deps, f"{ENVIRONMENT} is not in the graph"
    needed = {
        node
        for node in deps
        if node.startswith("module.mwaa.")
        and not node.startswith("module.mwaa.data.")
        and node != ENVIRONMENT
        and node.removeprefix("module.mwaa.") not in NOT_NEEDED
    }
    return sorted(needed - upstream(deps, ENVIRONMENT))


def write_root(workdir: Path, inputs: dict[str, object]) -> None:
    body = "\n".join(f"  {k} = {_hcl(v)}" for k, v in inputs.items())
    (workdir / "main.tf").write_text(
        'provider "aws" {\n  region = "us-east-1"\n}\n\n'
        'module "mwaa" {\n'
        f'  source = "{REPO.as_posix()}"\n'
        '  name   = "order"\n'
        '  openmetadata             = { api_endpoint = "https://om.example.com/api" }\n'
        '  openmetadata_credentials = { jwt_token = "t" }\n'
        f"{body}\n}}\n"
    )


def _hcl(value: object) -> str:
    return json.dumps(value)  # JSON strings, lists and booleans are valid HCL


@pytest.fixture(scope="module")
def graph_root(tmp_path_factory: pytest.TempPathFactory, tf_cli_config: Path) -> Terraform:
    workdir = tmp_path_factory.mktemp("creation-order")
    shutil.copy2(REPO / ".terraform.lock.hcl", workdir / ".terraform.lock.hcl")
    write_root(workdir, ROOTS["nat"])
    tf = Terraform(workdir, cli_config=tf_cli_config)
    tf.init()
    return tf


@pytest.mark.parametrize("root", list(ROOTS))
def test_environment_waits_for_everything_it_needs(graph_root: Terraform, root: str) -> None:
    write_root(graph_root.workdir, ROOTS[root])
    dot = graph_root.run("graph").stdout
    deps = graph_dependencies(dot)
    # the graph really is the module's: the rules, routes and policies are in it
    expected = {
        "nat": ["aws_route.private_nat", "aws_iam_role_policy.extra", "aws_nat_gateway.this"],
        "no_internet": ["aws_vpc_endpoint.interface", "aws_vpc_security_group_ingress_rule.endpoints"],
        "single_nat_with_endpoints": ["aws_route.private_nat", "aws_vpc_endpoint.interface"],
    }[root]
    for node in ["aws_vpc_security_group_ingress_rule.self", "aws_vpc_endpoint.s3", *expected]:
        assert f"module.mwaa.{node}" in deps, f"{node} not in the graph"
    assert missing_dependencies(dot) == [], f"{ENVIRONMENT} can be created before these"


def test_missing_dependency_is_detected() -> None:
    """The check itself: a graph where the environment skips the ingress rule fails it."""
    dot = (
        f'"{ENVIRONMENT}" [label="x"];\n"module.mwaa.aws_security_group.this" [label="x"];\n'
        '"module.mwaa.aws_vpc_security_group_ingress_rule.self" [label="x"];\n'
        f'"{ENVIRONMENT}" -> "module.mwaa.aws_security_group.this";\n'
        '"module.mwaa.aws_vpc_security_group_ingress_rule.self" -> "module.mwaa.aws_security_group.this";\n'
    )
    assert missing_dependencies(dot) == ["module.mwaa.aws_vpc_security_group_ingress_rule.self"]
