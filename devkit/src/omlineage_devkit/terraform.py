"""Reusable harness that drives the real Terraform CLI offline (subprocess; no python-terraform).

Building blocks, all usable outside pytest too:
- ``provider_mirror()`` / ``require_terraform()``: the hashicorp/aws filesystem mirror (env
  ``TF_PROVIDER_MIRROR``, default ``/opt/tf-plugins``) and the ``terraform`` binary, or a clear failure.
- ``write_cli_config(dir)``: a CLI config installing providers from the mirror only (``TF_CLI_CONFIG_FILE``).
- ``stage(source, dest)``: copies a root module (an example) to ``dest`` and rewrites its relative
  ``source = "../.."`` module paths to absolute ones, so the copy works anywhere.
- ``write_module_root(dir, inputs)``: a ``main.tf.json`` calling the module with exactly ``inputs`` (passed as
  root variables, values from the var file) and re-exporting outputs: one init serves a whole plan matrix.
- ``write_provider_override(dir, endpoint)``: ``aws_override.tf`` pointing the AWS provider at a loopback
  endpoint (moto) with fake credentials and the ``skip_*`` flags; ``mwaa_proxy`` routes the MWAA SDK's
  ``api.``-prefixed host through a loopback HTTP proxy (the MWAA emulator), see FACTS.md.
- ``Terraform(workdir)``: ``init``, ``validate``, ``plan`` (``-out`` + ``show -json`` -> ``Plan``),
  ``plan_error``, ``plan_exitcode``, ``apply``, ``output``, ``destroy``, ``fmt_check``, ``test``. Variables go
  through a JSON var file (nested objects and multi-line strings survive); failures raise ``TerraformError``.
- ``MotoServer``: ``.venvs/driver/bin/moto_server`` on 127.0.0.1 and a free port; ``reset()`` empties it.

A ``Plan`` gives planned resources by address (``after("module.mwaa.aws_mwaa_environment.this")``), their
``after`` values (sensitive ones included: the plan JSON carries them), ``after_unknown`` markers, planned
outputs and the plan's human-readable text (which must never show a secret).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .paths import REPO
from .ports import free_port

DEFAULT_MIRROR = "/opt/tf-plugins"
AWS_PROVIDER_DIR = "registry.terraform.io/hashicorp/aws"
FAKE_REGION = "us-east-1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# Services the module (and the MWAA apply tests) talk to; each gets the loopback endpoint in the override.
AWS_SERVICES = ("s3", "iam", "sts", "ec2", "kms", "secretsmanager", "logs", "cloudwatch", "sqs")


class HarnessError(RuntimeError):
    """A prerequisite (terraform, the provider mirror, moto) is missing or broken; the message says what to
    do."""


class TerraformError(RuntimeError):
    """A terraform command failed; ``stderr``/``stdout`` hold its output."""

    def __init__(self, args: list[str], returncode: int, stdout: str, stderr: str) -> None:
        self.args_ = args
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(
            f"terraform {' '.join(args)} failed (rc={returncode}):\n{stderr.strip() or stdout.strip()}"
        )


def provider_mirror() -> Path:
    """The filesystem mirror holding hashicorp/aws (env TF_PROVIDER_MIRROR, default /opt/tf-plugins)."""
    mirror = Path(os.environ.get("TF_PROVIDER_MIRROR", DEFAULT_MIRROR))
    if not (mirror / AWS_PROVIDER_DIR).is_dir():
        raise HarnessError(
            f"the hashicorp/aws provider mirror is missing: {mirror / AWS_PROVIDER_DIR} not found. "
            "Set TF_PROVIDER_MIRROR to a filesystem mirror "
            "(layout registry.terraform.io/hashicorp/aws/<version>/<os_arch>/)."
        )
    return mirror


def require_terraform() -> str:
    """Path of the terraform binary, or HarnessError."""
    binary = shutil.which("terraform")
    if binary is None:
        raise HarnessError("terraform is not on PATH: install Terraform >= 1.11 (CI uses 1.11.4)")
    return binary


def write_cli_config(directory: Path, mirror: Path | None = None) -> Path:
    """Write a CLI config that installs providers from the mirror only; returns its path (for
    TF_CLI_CONFIG_FILE)."""
    mirror = mirror or provider_mirror()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "cli.tfrc"
    path.write_text(
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {json.dumps(str(mirror))}\n"
        '    include = ["registry.terraform.io/hashicorp/*"]\n'
        "  }\n"
        '  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n'
        "}\n"
    )
    return path


_MODULE_SOURCE = re.compile(r'(source\s*=\s*)"(\.\.?/[^"]*)"')


def stage(source: Path, dest: Path) -> Path:
    """Copy the root module ``source`` (its *.tf, *.tftest.hcl, lock file, tests/ and files/ folders) to
    ``dest``.

    Relative module sources are rewritten to absolute paths (resolved against ``source``), so the copy can
    live in a temp dir. Returns ``dest``.
    """
    source = source.resolve()
    dest.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.name.startswith(".terraform") and item.name != ".terraform.lock.hcl":
            continue
        if item.name.endswith(("tfstate", ".tfstate.backup")):
            continue
        target = dest / item.name
        if item.is_dir():
            shutil.copytree(item, target, dirs_exist_ok=True)
        elif item.suffix == ".tf":
            text = _MODULE_SOURCE.sub(
                lambda m: f'{m.group(1)}"{(source / m.group(2)).resolve().as_posix()}"', item.read_text()
            )
            target.write_text(text)
        else:
            shutil.copy2(item, target)
    lock = REPO / ".terraform.lock.hcl"
    if not (dest / ".terraform.lock.hcl").exists() and lock.exists():
        shutil.copy2(lock, dest / ".terraform.lock.hcl")
    return dest


def write_provider_override(
    directory: Path,
    endpoint: str,
    *,
    region: str = FAKE_REGION,
    services: tuple[str, ...] = AWS_SERVICES,
    mwaa_proxy: str | None = None,
    extra: str = "",
) -> Path:
    """Write ``aws_override.tf``: the AWS provider against ``endpoint`` with fake credentials.

    ``mwaa_proxy``: URL of a loopback MWAA emulator used as ``http_proxy`` (the SDK prefixes the MWAA host
    with
    ``api.``; Go never proxies loopback, so the other services still go direct to ``endpoint``). ``extra`` is
    HCL appended inside the provider block.
    """
    lines = [
        'provider "aws" {',
        f'  region                      = "{region}"',
        '  access_key                  = "testing"',
        '  secret_key                  = "testing"',
        "  skip_credentials_validation = true",
        "  skip_metadata_api_check     = true",
        "  skip_region_validation      = true",
        "  skip_requesting_account_id  = false",
        "  s3_use_path_style           = true",
        "  max_retries                 = 1",
    ]
    if mwaa_proxy:
        lines += [f'  http_proxy                  = "{mwaa_proxy}"', '  https_proxy                 = ""']
    lines.append("  endpoints {")
    lines += [f'    {svc} = "{endpoint}"' for svc in services]
    if mwaa_proxy:
        lines.append(f'    mwaa = "{mwaa_proxy}"')
    lines.append("  }")
    if extra:
        lines.append(extra)
    lines.append("}")
    path = directory / "aws_override.tf"
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class Plan:
    """A saved plan: ``data`` is ``terraform show -json``, ``text`` the human-readable plan output."""

    data: dict[str, Any]
    text: str
    path: Path

    def changes(self) -> dict[str, dict[str, Any]]:
        """address -> resource_change (``change.after``, ``change.after_unknown``, ``change.actions``)."""
        return {rc["address"]: rc for rc in self.data.get("resource_changes", [])}

    def after(self, address: str) -> dict[str, Any]:
        """Planned values of one resource (KeyError naming the known addresses if absent)."""
        changes = self.changes()
        if address not in changes:
            raise KeyError(f"{address} not in plan; planned: {sorted(changes)}")
        return changes[address]["change"]["after"] or {}

    def after_unknown(self, address: str) -> dict[str, Any]:
        return self.changes()[address]["change"].get("after_unknown") or {}

    def addresses(self, type_: str | None = None) -> list[str]:
        return sorted(a for a, rc in self.changes().items() if type_ is None or rc["type"] == type_)

    def output(self, name: str) -> Any:
        """Planned value of a root output (None when unknown)."""
        return self.data.get("planned_values", {}).get("outputs", {}).get(name, {}).get("value")

    def output_unknown(self, name: str) -> Any:
        return self.data.get("output_changes", {}).get(name, {}).get("after_unknown")

    def json_text(self) -> str:
        return json.dumps(self.data)


@dataclass
class Terraform:
    """The terraform CLI in one working directory (``workdir``), offline from the provider mirror."""

    workdir: Path
    cli_config: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 600.0

    def __post_init__(self) -> None:
        self.binary = require_terraform()
        if self.cli_config is None:
            self.cli_config = write_cli_config(self.workdir / ".harness")

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(FAKE_CREDENTIALS)
        env.update(
            {
                "TF_CLI_CONFIG_FILE": str(self.cli_config),
                "TF_IN_AUTOMATION": "1",
                "TF_INPUT": "0",
                "CHECKPOINT_DISABLE": "1",
                "AWS_DEFAULT_REGION": FAKE_REGION,
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "TF_DATA_DIR", "TF_WORKSPACE"):
            env.pop(var, None)
        env.update(self.env)
        return env

    def run(
        self, *args: str, check: bool = True, timeout: float | None = None
    ) -> subprocess.CompletedProcess[str]:
        cmd = [self.binary, *args]
        proc = subprocess.run(
            cmd,
            cwd=self.workdir,
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=timeout or self.timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            raise TerraformError(list(args), proc.returncode, proc.stdout, proc.stderr)
        return proc

    def _var_file(self, variables: Mapping[str, Any] | None, name: str) -> list[str]:
        if not variables:
            return []
        path = self.workdir / f".harness-{name}.tfvars.json"
        path.write_text(json.dumps(variables))
        return [f"-var-file={path}"]

    def init(self) -> None:
        self.run("init", "-input=false", "-no-color", "-lockfile=readonly")

    def get(self) -> None:
        """Install module calls added since init (cheap: no provider start)."""
        self.run("get", "-no-color")

    def validate(self) -> dict[str, Any]:
        return json.loads(self.run("validate", "-json", "-no-color", check=False).stdout)

    def fmt_check(self) -> subprocess.CompletedProcess[str]:
        return self.run("fmt", "-check", "-recursive", "-diff", "-no-color", check=False)

    def plan(
        self, variables: Mapping[str, Any] | None = None, *, name: str = "plan", extra: tuple[str, ...] = ()
    ) -> Plan:
        """``plan -out`` then ``show -json``; raises TerraformError on a failed plan."""
        out = self.workdir / f"{name}.tfplan"
        proc = self.run(
            "plan", "-input=false", "-no-color", f"-out={out}", *self._var_file(variables, name), *extra
        )
        data = json.loads(self.run("show", "-json", "-no-color", str(out)).stdout)
        return Plan(data=data, text=proc.stdout + proc.stderr, path=out)

    def plan_error(self, variables: Mapping[str, Any] | None = None, *, name: str = "plan") -> str:
        """Run a plan that must fail; returns its combined output (AssertionError if it succeeded)."""
        proc = self.run("plan", "-input=false", "-no-color", *self._var_file(variables, name), check=False)
        if proc.returncode == 0:
            raise AssertionError(f"plan unexpectedly succeeded:\n{proc.stdout[-3000:]}")
        return proc.stdout + proc.stderr

    def plan_exitcode(self, variables: Mapping[str, Any] | None = None, *, name: str = "plan") -> int:
        """``plan -detailed-exitcode``: 0 no changes, 2 changes (1 raises)."""
        proc = self.run(
            "plan",
            "-input=false",
            "-no-color",
            "-detailed-exitcode",
            *self._var_file(variables, name),
            check=False,
        )
        if proc.returncode not in (0, 2):
            raise TerraformError(["plan"], proc.returncode, proc.stdout, proc.stderr)
        return proc.returncode

    def apply(self, variables: Mapping[str, Any] | None = None, *, plan: Plan | None = None) -> str:
        if plan is not None:  # `variables`: the ephemeral ones, which a saved plan does not hold
            return self.run(
                "apply", "-input=false", "-no-color", *self._var_file(variables, "apply"), str(plan.path)
            ).stdout
        return self.run(
            "apply", "-input=false", "-no-color", "-auto-approve", *self._var_file(variables, "apply")
        ).stdout

    def output(self, name: str | None = None) -> Any:
        """All outputs as {name: value} (sensitive ones included), or one output's value."""
        data = json.loads(self.run("output", "-json", "-no-color").stdout)
        values = {k: v["value"] for k, v in data.items()}
        return values if name is None else values[name]

    def destroy(self, variables: Mapping[str, Any] | None = None) -> str:
        return self.run(
            "destroy", "-input=false", "-no-color", "-auto-approve", *self._var_file(variables, "destroy")
        ).stdout

    def test(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``terraform test`` (returns the process; rc != 0 on failed runs)."""
        return self.run("test", "-no-color", *args, check=False)


class MotoServer:
    """``moto_server`` on 127.0.0.1:<free port> from .venvs/driver (S3, IAM, STS, EC2, KMS, Secrets
    Manager, Logs).

    moto has no MWAA backend (see omlineage_devkit/emulators/mwaa.py for that).
    """

    def __init__(self, binary: Path | None = None) -> None:
        self.binary = binary or Path(sys.executable).with_name("moto_server")
        if not self.binary.exists():
            self.binary = REPO / ".venvs" / "driver" / "bin" / "moto_server"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> MotoServer:
        if not self.binary.exists():
            raise HarnessError(f"moto_server not found at {self.binary}: run `scripts/bootstrap.sh driver`")
        self.port = free_port()
        self.process = subprocess.Popen(
            [str(self.binary), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError(f"moto_server exited with rc={self.process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise HarnessError(f"moto_server did not answer on {self.endpoint} within {timeout} s")

    def reset(self) -> None:
        req = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(req, timeout=10):
            pass

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def iter_strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON-like value (for "this secret appears nowhere" checks)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield str(k)
            yield from iter_strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from iter_strings(v)


def write_module_root(
    directory: Path,
    inputs: Mapping[str, Any],
    *,
    module_source: Path = REPO,
    module_name: str = "mwaa",
    outputs: Mapping[str, bool] | None = None,
    sensitive: tuple[str, ...] = ("openmetadata", "openmetadata_credentials"),
    ephemeral: tuple[str, ...] = ("openmetadata_credentials",),
) -> Path:
    """Write ``main.tf.json`` calling the module once with exactly ``inputs`` (others keep their defaults).

    Each input is passed through a root variable of the same name (``sensitive`` ones marked sensitive,
    ``ephemeral`` ones ephemeral: a saved plan does not hold them, so give them again to apply it);
    pass the same ``inputs`` to ``Terraform.plan``/``apply`` as variables, so values live in the var file and
    never in the configuration (diagnostics cannot quote them). Root outputs re-export ``outputs``
    ({name: sensitive}).
    Rewriting this file in an initialised directory needs no new ``init`` (the module source is unchanged).
    """
    outputs = DEFAULT_OUTPUTS if outputs is None else outputs
    config = {
        "variable": {name: _root_variable(name, sensitive, ephemeral) for name in inputs},
        "module": {module_name: {"source": str(module_source), **{n: f"${{var.{n}}}" for n in inputs}}},
        "output": {
            name: {"value": f"${{module.{module_name}.{name}}}", "sensitive": is_sensitive}
            for name, is_sensitive in outputs.items()
        },
    }
    path = directory / "main.tf.json"
    path.write_text(json.dumps({k: v for k, v in config.items() if v}, indent=2))
    return path


def _root_variable(name: str, sensitive: tuple[str, ...], ephemeral: tuple[str, ...]) -> dict[str, Any]:
    """A root variable passing one module input; ephemeral ones (the credentials) stay out of plan files, so
    they must be given again at apply."""
    spec: dict[str, Any] = {"type": "any", "sensitive": name in sensitive}
    if name in ephemeral:
        spec["ephemeral"] = True
    return spec


DEFAULT_OUTPUTS = {"lineage_configuration": False, "airflow_configuration_options": True}


def write_modules_root(
    directory: Path,
    modules: Mapping[str, Mapping[str, Any]],
    *,
    module_source: Path = REPO,
    outputs: Mapping[str, bool] | None = None,
    sensitive: tuple[str, ...] = ("openmetadata", "openmetadata_credentials"),
    ephemeral: tuple[str, ...] = ("openmetadata_credentials",),
) -> dict[str, Any]:
    """Like ``write_module_root`` for several module instances in one root ({instance: inputs}), so one
    plan (one provider start) covers a whole matrix. Root variables and outputs are named
    ``<instance>__<name>``. Returns the variables to pass to ``Terraform.plan``."""
    outputs = DEFAULT_OUTPUTS if outputs is None else outputs
    variables: dict[str, Any] = {}
    config: dict[str, Any] = {"variable": {}, "module": {}, "output": {}}
    for instance, inputs in modules.items():
        config["module"][instance] = {"source": str(module_source)}
        for name, value in inputs.items():
            var = f"{instance}__{name}"
            variables[var] = value
            config["variable"][var] = _root_variable(name, sensitive, ephemeral)
            config["module"][instance][name] = f"${{var.{var}}}"
        for name, is_sensitive in outputs.items():
            config["output"][f"{instance}__{name}"] = {
                "value": f"${{module.{instance}.{name}}}",
                "sensitive": is_sensitive,
            }
    (directory / "main.tf.json").write_text(json.dumps({k: v for k, v in config.items() if v}, indent=2))
    return variables
