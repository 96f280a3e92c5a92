#!/usr/bin/env bash
# Creates every virtualenv the tests, the demo and the benchmarks use. Idempotent: a venv is rebuilt only when
# its requirements file changed, or the pyproject.toml of a tree it installs editable (`-e ./devkit`, the test
# kit; `-e ./python`, the wheel) changed (stamp = sha256 of those files).
# Usage: scripts/bootstrap.sh [driver|airflow2|airflow3|airflow2-ol|airflow3-ol|oracle|official|checkov|om-schemas|mwaa ...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export UV_NATIVE_TLS=1 UV_LINK_MODE=copy
venvs="$root/.venvs"
mkdir -p "$venvs"

pick_python() {  # first candidate that runs (PATH, then pyenv's installs; pyenv shims may exist but fail)
  local p v
  for p in "$@"; do
    if "$p" -c 'import sys' >/dev/null 2>&1; then command -v "$p"; return; fi
    v=${p#python}
    for cand in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v"*/bin/"$p"; do
      if [ -x "$cand" ] && "$cand" -c 'import sys' >/dev/null 2>&1; then echo "$cand"; return; fi
    done
  done
  echo "bootstrap: none of $* can run here" >&2; exit 1
}

# uv itself lives in a tiny venv so nothing is installed into the system Python.
if [ ! -x "$venvs/uv/bin/uv" ]; then
  echo "==> installing uv"
  "$(pick_python python3.11 python3)" -m venv "$venvs/uv"
  "$venvs/uv/bin/pip" install -q "uv==0.9.*" || "$venvs/uv/bin/pip" install -q uv
fi
uv="$venvs/uv/bin/uv"

build_venv() {  # name python requirements-file
  local name=$1 py=$2 req=$3 stamp
  local editable
  editable=$(sed -n 's|^-e \./\([^[ ]*\).*|\1/pyproject.toml|p' "$req")
  # shellcheck disable=SC2086
  stamp=$(cat "$req" $editable | sha256sum | cut -c1-16)
  if [ -f "$venvs/$name/.stamp" ] && [ "$(cat "$venvs/$name/.stamp")" = "$stamp" ]; then
    echo "==> venv $name up to date"; return
  fi
  echo "==> building venv $name ($req)"
  local t0=$SECONDS
  rm -rf "$venvs/$name"
  "$uv" venv -q --python "$py" "$venvs/$name"
  VIRTUAL_ENV="$venvs/$name" "$uv" pip install -q -r "$req"
  echo "$stamp" > "$venvs/$name/.stamp"
  echo "==> venv $name ready in $((SECONDS - t0)) s"
}

build_schema_line() {  # line version nodeps|deps extra...: .venvs/om-<line> with that line's request models
  local line=$1 version=$2 mode=$3 name="om-$1" stamp t0=$SECONDS
  shift 3
  stamp=$(echo "$line $version $mode $*" | sha256sum | cut -c1-16)
  if [ -f "$venvs/$name/.stamp" ] && [ "$(cat "$venvs/$name/.stamp")" = "$stamp" ]; then
    echo "==> venv $name up to date"; return
  fi
  rm -rf "$venvs/$name"
  "$uv" venv -q --python "$(pick_python python3.11 python3)" "$venvs/$name"
  if [ "$mode" = nodeps ]; then
    VIRTUAL_ENV="$venvs/$name" "$uv" pip install -q --no-deps "openmetadata-ingestion==$version"
    VIRTUAL_ENV="$venvs/$name" "$uv" pip install -q "$@"
  else
    VIRTUAL_ENV="$venvs/$name" "$uv" pip install -q "openmetadata-ingestion==$version" "$@"
  fi
  echo "$stamp" > "$venvs/$name/.stamp"
  echo "==> venv $name ready in $((SECONDS - t0)) s"
}

schema_lines() {  # every line of devkit/src/omlineage_devkit/emulators/schema_lines.py, built side by side
  local pids=() line rc=0
  while read -r line; do
    # shellcheck disable=SC2086
    build_schema_line $line & pids+=($!)
  done < <("$(pick_python python3.11 python3)" devkit/src/omlineage_devkit/emulators/schema_lines.py --install)
  for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
  [ $rc -eq 0 ] || { echo "bootstrap: an om-<line> venv failed (see above)" >&2; exit 1; }
}

# MWAA image stand-ins (mwaa-<version>, one per row of mwaa/versions.json, on that image's Python): the image's
# installed packages (its BOM) plus the dependencies the BOM does not list, all under the image's constraints. No
# wheel of ours: tests install plugins.zip + requirements.txt into an overlay, as MWAA does. Built concurrently.
build_mwaa_venvs() {
  local versions v py pids=() rc=0
  versions=$("$(pick_python python3.11 python3)" -c 'import json; print(" ".join(json.load(open("mwaa/versions.json"))["versions"]))')
  for v in $versions; do
    py=$("$(pick_python python3.11 python3)" -c "import json; print(json.load(open('mwaa/versions.json'))['versions']['$v']['python'])")
    build_mwaa_venv "$v" "$(pick_python "python$py")" > "$venvs/mwaa-$v.log" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
  cat "$venvs"/mwaa-*.log
  [ $rc -eq 0 ] || { echo "bootstrap: an mwaa-<version> venv failed (see above)" >&2; exit 1; }
}

build_mwaa_venv() {  # version python
  local v=$1 py=$2 dir="$venvs/mwaa-$1" stamp t0=$SECONDS
  stamp=$(cat mwaa/"$v"/*.txt | sha256sum | cut -c1-16)
  if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ]; then echo "==> venv mwaa-$v up to date"; return; fi
  rm -rf "$dir"
  "$uv" venv -q --python "$py" "$dir"
  VIRTUAL_ENV="$dir" "$uv" pip install -q -r mwaa/"$v"/bom_python_packages.txt \
    -c mwaa/"$v"/airflow_constraints.txt -c mwaa/"$v"/mwaa_essential_constraints.txt
  echo "$stamp" > "$dir/.stamp"
  echo "==> venv mwaa-$v ready in $((SECONDS - t0)) s"
}

targets=${*:-driver airflow2 airflow3 oracle}
for t in $targets; do
  case $t in
    driver)   build_venv driver   "$(pick_python python3.11 python3)" requirements/driver.txt ;;
    airflow2) build_venv airflow2 "$(pick_python python3.11 python3)" requirements/airflow2.txt ;;
    airflow3) build_venv airflow3 "$(pick_python python3.12 python3.11 python3)" requirements/airflow3.txt ;;
    airflow2-ol) build_venv airflow2-ol "$(pick_python python3.11 python3)" requirements/airflow2-openlineage.txt ;;
    airflow3-ol) build_venv airflow3-ol "$(pick_python python3.12 python3.11 python3)" requirements/airflow3-openlineage.txt ;;
    oracle)   build_venv oracle   "$(pick_python python3.11 python3)" requirements/oracle.txt ;;
    official) build_venv official "$(pick_python python3.11 python3)" requirements/official.txt ;;
    checkov)  build_venv checkov  "$(pick_python python3.11 python3)" requirements/checkov.txt ;;
    om-schemas) schema_lines ;;
    mwaa)     build_mwaa_venvs ;;
    *) echo "bootstrap: unknown venv $t" >&2; exit 2 ;;
  esac
done
