#!/usr/bin/env python3
"""`make demo`: the whole path on loopback, then everything torn down.

1. checks prerequisites (terraform, the hashicorp/aws provider mirror, the venvs, uv);
2. builds the wheel and plugins.zip;
3. starts moto + the MWAA control-plane emulator and the OpenMetadata emulator on 127.0.0.1;
4. creates the VPC a real account would already have, seeds the tables, mints the ingestion bot's JWT;
5. applies examples/basic (plus the demo DAG) with Terraform;
6. rebuilds the environment locally from what MWAA and its bucket hold, runs the DAG with real Airflow;
7. prints the lineage OpenMetadata received (automatic lineage of SQL tasks without inlets/outlets, and a
   hand-declared edge), and draws it with Graphviz into build/demo-lineage.svg;
8. destroys it all (also on failure or Ctrl-C). Exit code 0 only when lineage arrived.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

EXAMPLE = REPO / "examples" / "basic"
DEMO_DAGS = REPO / "scripts" / "demo_dags"
DAG_ID = "orders_sql"
ENV_NAME = "openmetadata-demo"
# The SQLite warehouse's tables as OpenMetadata knows them (service_map: demo_sqlite -> sample.shop.main).
TABLES = (
    "sample.shop.main.orders",
    "sample.shop.main.customers",
    "sample.shop.main.order_facts",
    "sample.shop.main.customer_totals",
    "sample.shop.main.big_orders",
    "sample.shop.mart.customer_report",
)
SERVICE_MAP = '{ demo_sqlite = "sample.shop.main" }'
GRAPH = REPO / "build" / "demo-lineage.svg"
STEPS = 8


class DemoError(RuntimeError):
    """A step failed; the message says what to do."""


class Progress:
    def __init__(self) -> None:
        self.number = 0
        self.started = time.monotonic()
        self.timings: dict[str, float] = {}

    def step(self, title: str, call: Callable[[], Any]) -> Any:
        self.number += 1
        print(f"[{self.number}/{STEPS}] {title} ...", flush=True)
        begun = time.monotonic()
        result = call()
        self.timings[title] = elapsed = time.monotonic() - begun
        print(f"      done in {elapsed:.1f} s", flush=True)
        return result

    @staticmethod
    def info(message: str) -> None:
        print(f"      {message}", flush=True)


def check_prerequisites() -> None:
    problems: list[str] = []
    if shutil.which("terraform") is None:
        problems.append("terraform is not on PATH: install Terraform >= 1.11 (CI uses 1.11.4).")
    mirror = Path(os.environ.get("TF_PROVIDER_MIRROR", "/opt/tf-plugins"))
    if not (mirror / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        problems.append(
            f"the hashicorp/aws provider mirror is missing ({mirror}/registry.terraform.io/hashicorp/aws): "
            "set TF_PROVIDER_MIRROR to a filesystem mirror holding hashicorp/aws 5.x."
        )
    for venv, what in (("oracle", "the OpenMetadata emulator"), ("uv", "uv (builds the Airflow venv)")):
        if not (REPO / ".venvs" / venv / "bin").is_dir():
            problems.append(f".venvs/{venv} is missing ({what}): run `scripts/bootstrap.sh {venv}`.")
    if not (REPO / ".venvs" / "driver" / "bin" / "moto_server").exists():
        problems.append(".venvs/driver has no moto_server: run `scripts/bootstrap.sh driver`.")
    if problems:
        raise DemoError("prerequisites missing:\n  - " + "\n  - ".join(problems))


def render_lineage(state: dict[str, Any]) -> list[str]:
    """Edges as `from --[pipeline: fqn]--> to` lines, then each pipeline's tasks and last run."""
    edges = sorted((e["from"], e["to"], e["pipeline"] or "-") for e in state["edges"])
    lines = [f"Lineage in OpenMetadata ({len(edges)} edges):"]
    width = max((len(src) for src, _, _ in edges), default=0)
    lines += [f"  {src:<{width}}  --[pipeline: {pipe}]-->  {dst}" for src, dst, pipe in edges]
    for pipeline in state["pipelines"]:
        fqn = pipeline["fullyQualifiedName"]
        flow = ", ".join(
            f"{t['name']} -> {'/'.join(t['downstreamTasks'])}" if t["downstreamTasks"] else t["name"]
            for t in pipeline["tasks"]
        )
        lines.append(f"Pipeline {fqn}: {flow}")
        for status in state["statuses"].get(fqn, [])[-1:]:
            tasks = ", ".join(f"{t['name']}: {t['executionStatus']}" for t in status["taskStatus"])
            lines.append(f"  last run: {status['executionStatus']} ({tasks})")
    return lines


def run_demo(work: Path, progress: Progress, cleanups: list[Callable[[], None]]) -> int:
    from omlineage_devkit.local_aws import LocalAws, routed_network
    from omlineage_devkit.mwaa_local import aws_env_for, prepare
    from omlineage_devkit.openmetadata import EmulatorProcess
    from omlineage_devkit.terraform import Terraform, stage

    progress.step("Checking prerequisites (terraform, provider mirror, venvs)", check_prerequisites)

    def build() -> Path:
        from omlineage_devkit.e2e_deploy import build_artifacts

        zip_path = build_artifacts(work / "build")
        progress.info(f"plugins.zip: {zip_path} ({zip_path.stat().st_size} bytes)")
        return zip_path

    plugins_zip = progress.step("Building the wheel and plugins.zip", build)

    def start() -> tuple[Any, Any]:
        # Ctrl-C reaches the whole process group: the emulators ignore it (an ignored SIGINT is inherited), so
        # they still serve `terraform destroy` during teardown, which stops them with SIGTERM afterwards.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            aws = LocalAws(delay=1.0).start()
            cleanups.append(aws.stop)
            process = EmulatorProcess()
            cleanups.append(process.stop)
            om = process.start()
        finally:
            signal.signal(signal.SIGINT, previous)
        progress.info(f"moto (S3, IAM, EC2, KMS, Secrets Manager, Logs): {aws.endpoint}")
        progress.info(f"MWAA control plane: {aws.mwaa_url}")
        progress.info(f"OpenMetadata: {om.api_url}")
        return aws, om

    aws, om = progress.step("Starting the emulators on 127.0.0.1", start)

    def prepare_account() -> dict[str, Any]:
        network = routed_network(aws.client("ec2"), "10.50")  # private subnets behind a NAT gateway
        vpc, subnets = network["vpc_id"], network["subnet_ids"]
        om.seed_tables(*TABLES)
        om.set_auth(enabled=True)
        token = om.token("ingestion-bot")
        progress.info(f"VPC {vpc} with subnets {', '.join(subnets)}; {len(TABLES)} tables; bot JWT minted")
        return {"vpc": vpc, "subnets": subnets, "token": token}

    account = progress.step("Preparing the account (VPC) and OpenMetadata (tables, bot JWT)", prepare_account)

    workdir = stage(EXAMPLE, work / "basic")
    aws.write_override(workdir)
    (workdir / "demo_override.tf").write_text(
        'module "mwaa" {\n'
        f'  dags_dir  = "{DEMO_DAGS}"\n'
        f'  artifacts = {{ plugins_zip_path = "{plugins_zip}" }}\n'
        '  timeouts  = { create = "5m", update = "5m", delete = "5m" }\n'
        "  bucket_force_destroy           = true\n"
        # examples/basic plus automatic lineage: the SQLite connection's tables live in sample.shop.main
        "  openmetadata = {\n"
        "    api_endpoint       = var.openmetadata_api_endpoint\n"
        '    auth_provider_type = "openmetadata"\n'
        "    jwt_token          = var.openmetadata_jwt_token\n"
        f"    service_map        = {SERVICE_MAP}\n"
        "  }\n"
        "  secret_recovery_window_in_days = 0\n"
        "}\n"
    )
    tf = Terraform(workdir)
    variables = {
        "name": ENV_NAME,
        "vpc_id": account["vpc"],
        "private_subnet_ids": account["subnets"],
        "openmetadata_api_endpoint": om.api_url,
        "openmetadata_jwt_token": account["token"],
    }

    def apply() -> None:
        tf.init()
        cleanups.append(lambda: destroy(tf, variables, progress))
        tf.apply(variables)
        outputs = tf.output()
        progress.info(f"environment {outputs['environment_arn']}")
        for key, value in sorted(outputs["lineage_configuration"].items()):
            progress.info(f"  {key} = {value}")

    progress.step("terraform apply examples/basic (MWAA environment, bucket, role, secret)", apply)

    def run() -> Any:
        local = prepare(
            aws.client("mwaa"),
            aws.client("s3"),
            ENV_NAME,
            aws_env=aws_env_for(aws.endpoint, aws.region),
            # The DAG's SQLite warehouse (on MWAA: a connection in Secrets Manager or the metadata DB).
            extra_env={
                "AIRFLOW_CONN_DEMO_SQLITE": json.dumps({"conn_type": "sqlite", "host": str(work / "shop.db")})
            },
            log=lambda message: progress.info(message[:200]),
        )
        venv = "built" if local.timings["venv_s"] else "reused"
        progress.info(f"Airflow venv {venv}; running `airflow dags test {DAG_ID}`")
        result = local.run(DAG_ID)
        if result.rc != 0:
            raise DemoError(f"`airflow dags test {DAG_ID}` failed (rc={result.rc}):\n{result.output[-3000:]}")
        progress.info(f"task states: {result.states}")
        return result

    result = progress.step("Running the DAG on Airflow 2.10.5 built from the environment's S3 artifacts", run)

    state = progress.step("Reading what OpenMetadata received", om.state)
    print()
    for line in render_lineage(state):
        print(line)
    found = automatic_lineage(result.output)
    print("Found without inlets/outlets (task: source, column lineage):")
    for task_id, item in sorted(found.items()):
        columns = "; ".join(f"{c[2]} <- {', '.join(c[3])}" for c in item["columns"])
        print(f"  {task_id}: {item['source']}, {columns or 'no columns'}")
    draw(state, found, progress)
    print()
    if not state["edges"]:
        raise DemoError("no lineage reached OpenMetadata")
    return 0


def automatic_lineage(output: str) -> dict[str, dict[str, Any]]:
    """task id -> the automatic lineage the wheel logged for it (its `automatic lineage {json}` line)."""
    found: dict[str, dict[str, Any]] = {}
    for task_id, text in re.findall(
        rf"OpenMetadata lineage: {DAG_ID}\.(\w+): automatic lineage (\{{.*\}})", output
    ):
        found.setdefault(task_id, json.loads(text))
    return found


def draw(state: dict[str, Any], found: dict[str, dict[str, Any]], progress: Progress) -> None:
    from scripts.lineage_graph import render, to_dot

    automatic = {(i, o) for item in found.values() for i in item["inlets"] for o in item["outlets"]}
    columns: dict[tuple[str, str], list[str]] = {}
    for item in found.values():
        for from_table, to_table, to_column, from_columns in item["columns"]:
            columns.setdefault((from_table, to_table), []).append(f"{to_column} <- {', '.join(from_columns)}")
    GRAPH.parent.mkdir(exist_ok=True)
    if render(to_dot(state, automatic, columns), GRAPH):
        progress.info(f"lineage graph: {GRAPH} (solid: automatic, dashed: declared)")
    else:
        progress.info(f"lineage graph: {GRAPH.with_suffix('.dot')} (install graphviz for the SVG)")


def destroy(tf: Any, variables: dict[str, Any], progress: Progress) -> None:
    begun = time.monotonic()
    tf.destroy(variables)
    progress.timings["terraform destroy"] = time.monotonic() - begun
    print(f"      terraform destroy done in {time.monotonic() - begun:.1f} s", flush=True)


def _interrupt(*_args: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    progress = Progress()
    cleanups: list[Callable[[], None]] = []
    work = Path(tempfile.mkdtemp(prefix="openmetadata-demo-"))
    # Ctrl-C and SIGTERM both unwind through the finally block below, which tears everything down.
    signal.signal(signal.SIGTERM, _interrupt)
    code = 1
    try:
        code = run_demo(work, progress, cleanups)
    except KeyboardInterrupt:
        print("\ninterrupted: tearing down", file=sys.stderr, flush=True)
        code = 130
    except DemoError as exc:
        print(f"\ndemo failed: {exc}", file=sys.stderr, flush=True)
        code = 2 if "prerequisites" in str(exc) else 1
    except Exception as exc:
        print(f"\ndemo failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
    finally:
        if cleanups:
            print(f"[{STEPS}/{STEPS}] Tearing down (terraform destroy, emulators) ...", flush=True)
        for cleanup in reversed(cleanups):
            try:
                cleanup()
            except BaseException as exc:  # keep tearing down the rest
                print(f"[teardown] {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        shutil.rmtree(work, ignore_errors=True)
    total = time.monotonic() - progress.started
    print(f"{'demo complete' if code == 0 else 'demo did not complete'} in {total:.0f} s", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
