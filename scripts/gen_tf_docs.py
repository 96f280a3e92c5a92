#!/usr/bin/env python3
"""Generate the inputs/outputs tables of README.md and docs/module.md from variables.tf and outputs.tf.

Stdlib only. Usage: scripts/gen_tf_docs.py           rewrite the tables between the BEGIN/END markers
                    scripts/gen_tf_docs.py --check   exit 1 (and say so) when a document is out of date
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = (REPO / "README.md", REPO / "docs" / "module.md")
BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
BLOCK = re.compile(r'^(variable|output)\s+"([^"]+)"\s*\{', re.M)


@dataclass
class Item:
    kind: str
    name: str
    attrs: dict[str, str]


def skip_string(text: str, i: int) -> int:
    """Index just past the string literal opening at ``text[i]`` (templates ``${...}`` may nest strings)."""
    i += 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        if text.startswith(("${", "%{"), i) and not text.startswith(("$${", "%%{"), i - 1):
            i = skip_until_close(text, i + 2)
            continue
        i += 1
    raise ValueError("unterminated string")


def skip_heredoc(text: str, i: int) -> int | None:
    m = re.match(r"<<-?([A-Z]+)\n", text[i:])
    if not m:
        return None
    end = re.compile(rf"^\s*{m.group(1)}\s*$", re.M).search(text, i + m.end())
    return end.end() if end else len(text)


def skip_until_close(text: str, i: int) -> int:
    """Index just past the bracket closing the one opened right before ``i``."""
    depth = 1
    while i < len(text):
        c = text[i]
        if c == '"':
            i = skip_string(text, i)
            continue
        if c == "#" or text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
            continue
        heredoc = skip_heredoc(text, i) if text.startswith("<<", i) else None
        if heredoc is not None:
            i = heredoc
            continue
        if c in "{[(":
            depth += 1
        elif c in "}])":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unbalanced brackets")


def block_body(text: str, start: int) -> tuple[str, int]:
    """Text between the '{' at ``start - 1`` and its matching '}'."""
    end = skip_until_close(text, start)
    return text[start : end - 1], end


def top_level_attrs(body: str) -> dict[str, str]:
    """Attributes at the top level of a block body (nested blocks such as validation {} are skipped)."""
    attrs: dict[str, str] = {}
    i = 0
    attr = re.compile(r"[ \t]*([a-z_]+)[ \t]*=[ \t]*")
    nested = re.compile(r"[ \t]*[a-z_]+[ \t]*(\"[^\"]*\"[ \t]*)*\{")
    while i < len(body):
        m = attr.match(body, i)
        if m:
            j = m.end()
            heredoc = re.match(r"<<-?([A-Z]+)\n", body[j:])
            if heredoc:
                end = skip_heredoc(body, j) or len(body)
                lines = body[j + heredoc.end() : end].split("\n")[:-1]
                attrs[m.group(1)] = "\n".join(line.strip() for line in lines)
                i = end
                continue
            k = j
            while k < len(body) and body[k] != "\n":
                c = body[k]
                if c == '"':
                    k = skip_string(body, k)
                elif c in "{[(":
                    k = skip_until_close(body, k + 1)
                else:
                    k += 1
            attrs[m.group(1)] = body[j:k].strip()
            i = k + 1
            continue
        m = nested.match(body, i)
        if m:
            i = skip_until_close(body, m.end())
            continue
        nl = body.find("\n", i)
        i = len(body) if nl < 0 else nl + 1
    return attrs


def parse(path: Path) -> list[Item]:
    text = path.read_text()
    items = []
    for m in BLOCK.finditer(text):
        body, _ = block_body(text, m.end())
        items.append(Item(m.group(1), m.group(2), top_level_attrs(body)))
    return items


def description(raw: str | None) -> str:
    if raw is None:
        return ""
    raw = raw.strip()
    if raw.startswith('"'):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = raw.strip('"')
    return " ".join(raw.split())


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def text_cell(text: str) -> str:
    """A prose cell: pipes escaped, angle brackets kept literal outside code spans."""
    parts = text.split("`")
    return cell(
        "`".join(p if i % 2 else p.replace("<", "&lt;").replace(">", "&gt;") for i, p in enumerate(parts))
    )


def code(text: str) -> str:
    text = " ".join(text.split())
    text = re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", text))
    return f"`{cell(text)}`"


def render(variables: list[Item], outputs: list[Item]) -> str:
    lines = [
        BEGIN,
        "<!-- Generated by scripts/gen_tf_docs.py from variables.tf and outputs.tf: do not edit by hand. -->",
        "",
        "### Inputs",
        "",
        "| Name | Description | Type | Default | Required |",
        "| --- | --- | --- | --- | :---: |",
    ]
    for v in variables:
        required = "default" not in v.attrs
        default = "n/a" if required else code(v.attrs["default"])
        sensitive = " (sensitive)" if v.attrs.get("sensitive") == "true" else ""
        lines.append(
            f"| `{v.name}` | {text_cell(description(v.attrs.get('description')))}{sensitive} | "
            f"{code(v.attrs.get('type', 'any'))} | {default} | {'yes' if required else 'no'} |"
        )
    lines += ["", "### Outputs", "", "| Name | Description | Sensitive |", "| --- | --- | :---: |"]
    for o in outputs:
        sensitive = "yes" if o.attrs.get("sensitive") == "true" else "no"
        lines.append(f"| `{o.name}` | {text_cell(description(o.attrs.get('description')))} | {sensitive} |")
    lines.append(END)
    return "\n".join(lines)


def updated_doc(doc: str, tables: str, path: Path = DOCS[1]) -> str:
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"gen_tf_docs: {path} lacks the {BEGIN} / {END} markers")
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + tables + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a document is out of date")
    args = parser.parse_args(argv)
    variables = [i for i in parse(REPO / "variables.tf") if i.kind == "variable"]
    outputs = [i for i in parse(REPO / "outputs.tf") if i.kind == "output"]
    for item in variables + outputs:
        if not description(item.attrs.get("description")):
            print(f"gen_tf_docs: {item.kind} {item.name!r} has no description", file=sys.stderr)
            return 1
    tables = render(variables, outputs)
    stale = []
    for path in DOCS:
        doc = path.read_text()
        new = updated_doc(doc, tables, path)
        if new == doc:
            continue
        stale.append(path.relative_to(REPO))
        if not args.check:
            path.write_text(new)
    if args.check and stale:
        names = ", ".join(map(str, stale))
        print(f"gen_tf_docs: {names} out of date: run scripts/gen_tf_docs.py", file=sys.stderr)
        return 1
    if not args.check:
        written = ", ".join(map(str, stale)) or "up to date"
        print(f"gen_tf_docs: {len(variables)} inputs, {len(outputs)} outputs -> {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
