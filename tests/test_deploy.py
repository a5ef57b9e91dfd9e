"""The Terraform in terraform/ is checked here without AWS, Snowflake or a Terraform run.

Terraform cannot download providers on our machines, so ``terraform validate`` and ``plan`` never
run here. What is checked instead:

- every ``.tf`` file parses (python-hcl2) and is ``terraform fmt`` clean: with the ``terraform``
  binary when one is on PATH, and always with our check of fmt's layout rules;
- every variable and output is documented, every module pins Terraform >= 1.6;
- checkov passes on terraform/ and deploy/Dockerfile, and every skipped check says why;
- the IAM policy documents, rendered from the HCL with example values by a small evaluator of the
  HCL expressions they use, grant nothing outside the bucket prefix, the KMS key, the secret, the
  database user and the log groups (probe requests matched with IAM's wildcard rules), and still
  grant what walstream and Snowflake need; moto's IAM validator accepts every rendered document;
- the invariants the runbook relies on: one task per slot that never overlaps with its successor,
  egress to PostgreSQL and HTTPS only, a TLS-only KMS-encrypted bucket, a reboot-only parameter.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest

ROOT = Path(__file__).resolve().parent.parent
TERRAFORM = ROOT / "terraform"
MODULES = TERRAFORM / "modules"
TF_FILES = sorted(TERRAFORM.rglob("*.tf"))
MODULE_DIRS = [
    *sorted(p for p in MODULES.iterdir() if p.is_dir()),
    TERRAFORM / "examples" / "complete",
]


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@cache
def parse(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        return dict(hcl2.load(handle))


def unquote(value: Any) -> Any:
    """python-hcl2 keeps the quotes of string literals: '"abc"' -> 'abc'."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def blocks(doc: dict[str, Any], kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, body) of every one-label block (variable, output) of a parsed file."""
    for entry in doc.get(kind, []):
        for name, body in entry.items():
            yield unquote(name), body


def resources(doc: dict[str, Any], kind: str = "resource") -> dict[tuple[str, str], Any]:
    """{(type, name): body} of every two-label block (resource, data) of a parsed file."""
    found: dict[tuple[str, str], Any] = {}
    for entry in doc.get(kind, []):
        for rtype, named in entry.items():
            for name, body in named.items():
                found[(unquote(rtype), unquote(name))] = body
    return found


def module_resources(module: str, kind: str = "resource") -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = {}
    for path in sorted((MODULES / module).glob("*.tf")):
        found.update(resources(parse(path), kind))
    return found


# ---------------------------------------------------------------------------------------------
# A small evaluator for the HCL expressions our policies and locals use.
# ---------------------------------------------------------------------------------------------


class HclEvalError(Exception):
    pass


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>\d+(?:\.\d+)?)
      | (?P<op>==|!=|>=|<=|&&|\|\||=>|[?:()\[\]{},!<>+\-*/=])
      | (?P<ref>[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z_][A-Za-z0-9_\-]*|\[\d+\])*)
    )""",
    re.VERBOSE,
)


def _scan_string(text: str, start: int) -> int:
    """Index just past the string literal starting at text[start] == '"' (handles ${...})."""
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == '"':
            return i + 1
        if text.startswith("${", i):
            i = _scan_braces(text, i + 1)
            continue
        i += 1
    raise HclEvalError(f"unterminated string in {text!r}")


def _scan_braces(text: str, start: int) -> int:
    """Index just past the '}' matching the '{' at text[start]."""
    depth = 0
    i = start
    while i < len(text):
        ch = text[i]
        if ch == '"':
            i = _scan_string(text, i)
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise HclEvalError(f"unbalanced braces in {text!r}")


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        if text[i] == '"':
            end = _scan_string(text, i)
            out.append(("str", text[i:end]))
            i = end
            continue
        m = _TOKEN.match(text, i)
        if not m or m.end() == i:
            raise HclEvalError(f"cannot read expression at {text[i:]!r}")
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind)))
        i = m.end()
    return out


@dataclass
class HclEvaluator:
    """Evaluates references, string templates, lists, comparisons, ?: and a few functions."""

    env: dict[str, Any]
    locals_raw: dict[str, Any] = field(default_factory=dict)

    def value(self, raw: Any) -> Any:
        if isinstance(raw, list):
            return [self.value(item) for item in raw]
        if isinstance(raw, dict):
            return {unquote(k): self.value(v) for k, v in raw.items() if k != "__is_block__"}
        if isinstance(raw, str):
            if raw.startswith("${") and _scan_braces(raw, 1) == len(raw):
                return self.expr(raw[2:-1])
            if raw.startswith('"'):
                return self.expr(raw)
        return raw

    def expr(self, text: str) -> Any:
        parser = _Parser(_tokens(text), self)
        result = parser.conditional()
        if parser.pos != len(parser.tokens):
            raise HclEvalError(f"unexpected {parser.tokens[parser.pos :]} in {text!r}")
        return result

    def template(self, literal: str) -> str:
        body = literal[1:-1]
        out: list[str] = []
        i = 0
        while i < len(body):
            if body.startswith("$${", i):
                # Terraform's escape: a literal "${" (CloudWatch's dynamic labels use it).
                out.append("${")
                i += 3
            elif body.startswith("${", i):
                end = _scan_braces(body, i + 1)
                value = self.expr(body[i + 2 : end - 1])
                if value is None:
                    raise HclEvalError(f"null interpolated into {literal!r}")
                out.append(str(value).lower() if isinstance(value, bool) else str(value))
                i = end
            elif body[i] == "\\" and i + 1 < len(body):
                out.append({"n": "\n", "t": "\t"}.get(body[i + 1], body[i + 1]))
                i += 2
            else:
                out.append(body[i])
                i += 1
        return "".join(out)

    def ref(self, name: str) -> Any:
        if name in self.env:
            return self.env[name]
        if name.startswith("local.") and name[6:] in self.locals_raw:
            return self.value(self.locals_raw[name[6:]])
        raise HclEvalError(f"no value for reference {name}")

    def call(self, name: str, args: list[Any]) -> Any:
        if name == "coalesce":
            return next((a for a in args if a not in (None, "")), None)
        if name == "length":
            return len(args[0])
        if name == "join":
            return str(args[0]).join(str(a) for a in args[1])
        if name == "tostring":
            return str(args[0])
        if name == "concat":
            return [item for arg in args for item in arg]
        if name == "merge":
            return {k: v for arg in args for k, v in arg.items()}
        if name == "keys":
            return sorted(args[0])
        if name == "sort":
            return sorted(args[0])
        if name == "format":
            return str(args[0]).replace("%s", "{}").format(*args[1:])
        if name == "replace":
            return str(args[0]).replace(str(args[1]), str(args[2]))
        if name == "jsonencode":
            return json.dumps(args[0], separators=(",", ":"))
        if name == "flatten":
            return [item for arg in args[0] for item in (arg if isinstance(arg, list) else [arg])]
        raise HclEvalError(f"function {name}() is not supported by the test evaluator")


@dataclass
class _Parser:
    tokens: list[tuple[str, str]]
    ev: HclEvaluator
    pos: int = 0
    dry: int = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise HclEvalError(f"expected {value!r}, got {token!r}")
        self.pos += 1
        return token

    def conditional(self) -> Any:
        cond = self.logical()
        if self.peek() == ("op", "?"):
            self.take("?")
            yes = self.branch(bool(cond))
            self.take(":")
            no = self.branch(not cond)
            return yes if cond else no
        return cond

    def branch(self, taken: bool) -> Any:
        """Evaluate the taken branch of ?: and only parse the other (it may not evaluate)."""
        if taken:
            return self.conditional()
        self.dry += 1
        try:
            self.conditional()
        finally:
            self.dry -= 1
        return None

    def logical(self) -> Any:
        left = self.comparison()
        while self.peek() in (("op", "&&"), ("op", "||")):
            op = self.take()[1]
            right = self.comparison()
            left = (left and right) if op == "&&" else (left or right)
        return left

    def comparison(self) -> Any:
        left = self.arithmetic()
        token = self.peek()
        if token and token[0] == "op" and token[1] in ("==", "!=", ">", "<", ">=", "<="):
            op = self.take()[1]
            right = self.arithmetic()
            if self.dry:
                return False
            ops: dict[str, Callable[[Any, Any], bool]] = {
                "==": lambda a, b: bool(a == b),
                "!=": lambda a, b: bool(a != b),
                ">": lambda a, b: bool(a > b),
                "<": lambda a, b: bool(a < b),
                ">=": lambda a, b: bool(a >= b),
                "<=": lambda a, b: bool(a <= b),
            }
            return ops[op](left, right)
        return left

    def arithmetic(self) -> Any:
        """+ - * / evaluated left to right (our modules never mix them in one expression)."""
        left = self.unary()
        while self.peek() in (("op", "+"), ("op", "-"), ("op", "*"), ("op", "/")):
            op = self.take()[1]
            right = self.unary()
            if not self.dry:
                left = {
                    "+": lambda a, b: a + b,
                    "-": lambda a, b: a - b,
                    "*": lambda a, b: a * b,
                    "/": lambda a, b: a / b,
                }[op](left, right)
        return left

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take("!")
            return not self.unary()
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return None if self.dry else self.ev.template(text)
        if kind == "num":
            return float(text) if "." in text else int(text)
        if kind == "op" and text == "(":
            inner = self.conditional()
            self.take(")")
            return inner
        if kind == "op" and text == "[":
            if self.peek() == ("ref", "for"):
                return self.for_list()
            items: list[Any] = []
            while self.peek() != ("op", "]"):
                items.append(self.conditional())
                if self.peek() == ("op", ","):
                    self.take(",")
            self.take("]")
            return items
        if kind == "op" and text == "{":
            obj: dict[str, Any] = {}
            while self.peek() != ("op", "}"):
                key_kind, key = self.take()
                name = self.ev.template(key) if key_kind == "str" else key
                self.take("=")
                obj[name] = self.conditional()
                if self.peek() == ("op", ","):
                    self.take(",")
            self.take("}")
            return obj
        if kind == "ref":
            if text in ("null", "true", "false"):
                return {"null": None, "true": True, "false": False}[text]
            if self.peek() == ("op", "("):
                self.take("(")
                args: list[Any] = []
                while self.peek() != ("op", ")"):
                    args.append(self.conditional())
                    if self.peek() == ("op", ","):
                        self.take(",")
                self.take(")")
                return None if self.dry else self.ev.call(text, args)
            value = None if self.dry else self.ev.ref(text)
            while self.peek() == ("op", "["):
                self.take("[")
                index = self.conditional()
                self.take("]")
                value = None if self.dry else value[index]
            return value
        raise HclEvalError(f"unexpected token {text!r}")

    def for_list(self) -> list[Any]:
        """[for NAME in EXPR : VALUE] (the form our modules use)."""
        self.take("for")
        name = self.take()[1]
        self.take("in")
        source = self.conditional_until(":")
        self.take(":")
        start = self.pos
        out: list[Any] = []
        for item in [] if self.dry else source:
            self.pos = start
            self.ev.env[name] = item
            out.append(self.conditional())
        self.ev.env.pop(name, None)
        if self.dry or not source:
            self.pos = start
            self.skip_to("]")
        self.take("]")
        return out

    def conditional_until(self, stop: str) -> Any:
        # The source of a for expression ends at ':'; parse it without the ?: rule.
        del stop
        return self.logical()

    def skip_to(self, closing: str) -> None:
        depth = 0
        while self.pos < len(self.tokens):
            token = self.tokens[self.pos]
            if token[0] == "op" and token[1] in "([{":
                depth += 1
            elif token[0] == "op" and token[1] in ")]}":
                if depth == 0 and token[1] == closing:
                    return
                depth -= 1
            self.pos += 1
        raise HclEvalError(f"missing {closing!r}")


def module_evaluator(module: str, overrides: dict[str, Any]) -> HclEvaluator:
    """Variables at their defaults, then ``overrides``; data sources as in account 123456789012."""
    env: dict[str, Any] = {
        "data.aws_partition.current.partition": "aws",
        "data.aws_caller_identity.current.account_id": ACCOUNT,
        "data.aws_region.current.name": REGION,
    }
    locals_raw: dict[str, Any] = {}
    for path in sorted((MODULES / module).glob("*.tf")):
        doc = parse(path)
        for name, body in blocks(doc, "variable"):
            if "default" in body:
                env[f"var.{name}"] = HclEvaluator(env).value(body["default"])
        for entry in doc.get("locals", []):
            locals_raw.update({k: v for k, v in entry.items() if k != "__is_block__"})
    env.update({f"var.{k}": v for k, v in overrides.items()})
    return HclEvaluator(env, locals_raw)


def render_policy(ev: HclEvaluator, body: dict[str, Any]) -> dict[str, Any]:
    """An aws_iam_policy_document data block -> the IAM JSON document it produces."""
    raw_statements: list[tuple[dict[str, Any], Any]] = [
        (s, None) for s in body.get("statement", [])
    ]
    for dynamic in body.get("dynamic", []):
        for label, spec in dynamic.items():
            assert unquote(label) == "statement", f"unexpected dynamic block {label}"
            for item in ev.value(spec["for_each"]):
                raw_statements.append((spec["content"][0], item))
    statements = []
    for raw, item in raw_statements:
        if item is not None:
            ev.env["statement.value"] = item
        st = ev.value(raw)
        ev.env.pop("statement.value", None)
        doc: dict[str, Any] = {
            "Effect": st.get("effect", "Allow"),
            "Action": st["actions"],
            "Resource": st.get("resources", []),
        }
        if "sid" in st:
            doc["Sid"] = st["sid"]
        if not doc["Resource"]:
            del doc["Resource"]
        for principal in st.get("principals", []):
            doc.setdefault("Principal", {})[principal["type"]] = principal["identifiers"]
        for cond in st.get("condition", []):
            doc.setdefault("Condition", {}).setdefault(cond["test"], {})[cond["variable"]] = cond[
                "values"
            ]
        statements.append(doc)
    return {"Version": "2012-10-17", "Statement": statements}


def _match(pattern: str, value: str) -> bool:
    # IAM wildcards: * any run of characters (including '/' and ':'), ? one character.
    return fnmatch.fnmatchcase(value, pattern)


def allowed(policy: dict[str, Any], action: str, resource: str) -> list[str]:
    """Sids of the Allow statements matching (action, resource), conditions ignored.

    Ignoring conditions can only over-approximate what is granted, which is the safe direction
    for a "grants nothing outside" check."""
    hits = []
    for st in policy["Statement"]:
        if st["Effect"] != "Allow":
            continue
        if not any(_match(a.lower(), action.lower()) for a in st["Action"]):
            continue
        if any(_match(r, resource) for r in st.get("Resource", [])):
            hits.append(st.get("Sid", "?"))
    return hits


# ---------------------------------------------------------------------------------------------
# Parsing, formatting, documentation
# ---------------------------------------------------------------------------------------------


def test_terraform_tree_has_the_modules_and_example_the_issue_asks_for() -> None:
    names = {p.name for p in MODULES.iterdir() if p.is_dir()}
    assert names >= {
        "s3_data_lake",
        "walstream_iam",
        "ecs_service",
        "aurora_logical_replication",
        "snowflake_ingest",
        "alarms",
        "dashboard",
    }
    for module in MODULE_DIRS:
        for part in ("main.tf", "variables.tf" if module.parent == MODULES else "main.tf"):
            assert (module / part).is_file(), f"{_rel(module)} has no {part}"
    assert (TERRAFORM / "README.md").is_file()


@pytest.mark.parametrize("path", TF_FILES, ids=_rel)
def test_every_tf_file_parses_as_hcl2(path: Path) -> None:
    doc = parse(path)
    assert doc, f"{_rel(path)} parsed to nothing"


def _fmt_problems(text: str) -> list[str]:
    """The layout rules of ``terraform fmt`` we can check without the binary.

    Two-space indentation by nesting depth, no tabs or trailing blanks, one final newline, and
    the '=' of consecutive single-line attributes aligned one column after the longest name
    (hclwrite aligns a run of lines whose assignment's right side has balanced brackets)."""
    problems: list[str] = []
    if not text.endswith("\n") or text.endswith("\n\n"):
        problems.append("file must end with exactly one newline")
    depth = 0
    run: list[tuple[int, str]] = []
    in_heredoc: str | None = None

    def close_run() -> None:
        if run:
            width = max(len(line.split("=", 1)[0].rstrip()) for _, line in run)
            for lineno, line in run:
                if line.index("=") != width + 1:
                    problems.append(f"line {lineno}: '=' not aligned with its neighbours")
            run.clear()

    for lineno, line in enumerate(text.split("\n"), start=1):
        if in_heredoc is not None:
            if line.strip() == in_heredoc:
                in_heredoc = None
            continue
        if "\t" in line:
            problems.append(f"line {lineno}: tab")
        if line != line.rstrip():
            problems.append(f"line {lineno}: trailing whitespace")
        stripped = line.strip()
        code = re.sub(r'"(?:[^"\\]|\\.)*"', '""', stripped)
        code = re.sub(r"\s+#.*$", "", code)
        opens = code.count("{") + code.count("[") + code.count("(")
        closes = code.count("}") + code.count("]") + code.count(")")
        # hclwrite indents one level per line that opens brackets, however many it opens.
        expected = depth - 1 if code[:1] in ("}", "]", ")") else depth
        if stripped and not stripped.startswith("#"):
            indent = len(line) - len(line.lstrip(" "))
            if indent != 2 * expected:
                problems.append(f"line {lineno}: indent {indent}, expected {2 * expected}")
        heredoc = re.search(r"<<-?([A-Z]+)$", code)
        single_attr = (
            re.match(r"^[A-Za-z0-9_\-\"]+\s*=", code) is not None
            and opens == closes
            and not code.startswith("#")
            and heredoc is None
        )
        if single_attr:
            run.append((lineno, stripped))
        else:
            close_run()
        if heredoc:
            in_heredoc = heredoc.group(1)
        depth += (opens > closes) - (opens < closes)
    close_run()
    return problems


@pytest.mark.parametrize("path", TF_FILES, ids=_rel)
def test_every_tf_file_follows_terraform_fmt_layout(path: Path) -> None:
    assert _fmt_problems(path.read_text()) == []


def test_fmt_layout_check_catches_misaligned_attributes() -> None:
    assert _fmt_problems("a = 1\nbbb = 2\n") == ["line 1: '=' not aligned with its neighbours"]
    assert _fmt_problems("x {\n  a   = 1\n  bbb = 2\n}\n") == []
    assert _fmt_problems("x {\n    a = 1\n}\n") == ["line 2: indent 4, expected 2"]


def test_terraform_fmt_check_passes_when_the_binary_exists() -> None:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip("no terraform binary on PATH: the layout test above stands in for fmt")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    result = subprocess.run(
        [binary, "fmt", "-check", "-recursive", "-diff", str(TERRAFORM)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("module", MODULE_DIRS, ids=_rel)
def test_every_variable_and_output_is_documented(module: Path) -> None:
    for path in sorted(module.glob("*.tf")):
        doc = parse(path)
        for name, body in blocks(doc, "variable"):
            assert len(unquote(body.get("description", ""))) >= 15, f"variable {name}: description"
            assert "type" in body, f"variable {name} has no type"
        for name, body in blocks(doc, "output"):
            assert len(unquote(body.get("description", ""))) >= 10, f"output {name}: description"


@pytest.mark.parametrize("module", MODULE_DIRS, ids=_rel)
def test_every_module_requires_terraform_1_6_and_pins_its_providers(module: Path) -> None:
    versions = parse(module / "versions.tf")
    terraform = versions["terraform"][0]
    assert unquote(terraform["required_version"]) == ">= 1.6"
    for providers in terraform["required_providers"]:
        for name, spec in providers.items():
            if name == "__is_block__":
                continue
            assert unquote(spec["source"]) in ("hashicorp/aws", "snowflakedb/snowflake")
            assert "<" in unquote(spec["version"]), f"{name}: no upper bound on the major version"


def test_every_variable_referenced_by_a_module_is_declared() -> None:
    for module in MODULE_DIRS:
        declared = {
            name for path in module.glob("*.tf") for name, _ in blocks(parse(path), "variable")
        }
        used = set()
        for path in module.glob("*.tf"):
            used |= set(re.findall(r"\bvar\.([A-Za-z0-9_]+)", path.read_text()))
        assert used <= declared, f"{_rel(module)}: undeclared {sorted(used - declared)}"
        assert declared <= used, f"{_rel(module)}: unused {sorted(declared - used)}"


def test_example_root_passes_only_declared_module_arguments() -> None:
    example = parse(TERRAFORM / "examples" / "complete" / "main.tf")
    for name, body in blocks(example, "module"):
        source = (TERRAFORM / "examples" / "complete" / unquote(body["source"])).resolve()
        declared = {
            vname: vbody
            for path in source.glob("*.tf")
            for vname, vbody in blocks(parse(path), "variable")
        }
        passed = {k for k in body if k not in ("source", "__is_block__")}
        assert passed <= set(declared), f"module {name}: unknown {sorted(passed - set(declared))}"
        required = {k for k, v in declared.items() if "default" not in v}
        assert required <= passed, f"module {name}: missing {sorted(required - passed)}"


# ---------------------------------------------------------------------------------------------
# checkov
# ---------------------------------------------------------------------------------------------


@cache
def _checkov() -> str:
    result = subprocess.run(
        [str(ROOT / "deploy" / "ci-tools.sh"), "checkov"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"checkov cannot be installed here: {result.stderr.strip()[-300:]}")
    return result.stdout.strip().splitlines()[-1]


def _run_checkov(*args: str) -> dict[str, Any]:
    # BC_SKIP_MAPPING and --skip-download keep checkov from calling its vendor's API.
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    result = subprocess.run(
        [_checkov(), *args, "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert result.stdout.strip(), result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert isinstance(report, dict), report
    return report


def _assert_clean(report: dict[str, Any]) -> None:
    results = report["results"]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})" for c in results["failed_checks"]
    ]
    assert failed == []
    for check in results.get("skipped_checks", []):
        reason = (check.get("check_result") or {}).get("suppress_comment") or ""
        assert len(reason) >= 30, f"skip of {check['check_id']} on {check['resource']}: {reason!r}"
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 0


def test_checkov_passes_on_terraform_with_every_skip_explained() -> None:
    report = _run_checkov("-d", "terraform", "--framework", "terraform")
    _assert_clean(report)
    assert report["summary"]["resource_count"] >= 30


def test_checkov_passes_on_the_dockerfile() -> None:
    report = _run_checkov("-f", "deploy/Dockerfile", "--framework", "dockerfile")
    _assert_clean(report)


# ---------------------------------------------------------------------------------------------
# IAM: nothing outside the prefix / key / secret / user / log groups, and enough to work
# ---------------------------------------------------------------------------------------------

ACCOUNT = "123456789012"
REGION = "eu-west-1"
BUCKET = "arn:aws:s3:::acme-lake"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:walstream-prod-AbCdEf"
SECRET_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/99999999-8888-7777-6666-555555555555"
LOG_GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/walstream-prod"
REPO = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/walstream"
SNOWFLAKE_USER = "arn:aws:iam::999999999999:user/abc1-s-v2st0000"
EXTERNAL_ID = "AB12345_SFCRole=2_abcdefghijklmnop="

IAM_INPUTS = {
    "name": "walstream-prod",
    "bucket_arn": BUCKET,
    "prefix": "dms",
    "kms_key_arn": KEY,
    "db_secret_arn": SECRET,
    "db_secret_kms_key_arn": SECRET_KEY,
    "db_cluster_resource_id": "cluster-ABCDEFGHIJKL",
    "db_user": "walstream",
    "log_group_arn": LOG_GROUP,
    "metrics_log_group_arn": f"{LOG_GROUP}/metrics",
    "ecr_repository_arn": REPO,
    "snowflake_iam_user_arn": SNOWFLAKE_USER,
    "snowflake_external_id": EXTERNAL_ID,
}


@cache
def iam_policies() -> dict[str, dict[str, Any]]:
    ev = module_evaluator("walstream_iam", IAM_INPUTS)
    docs = module_resources("walstream_iam", "data")
    return {
        name: render_policy(ev, body)
        for (rtype, name), body in docs.items()
        if rtype == "aws_iam_policy_document"
    }


def test_iam_policy_documents_render_and_are_valid_iam_json() -> None:
    from moto.iam.policy_validation import (
        IAMPolicyDocumentValidator,
        IAMTrustPolicyDocumentValidator,
    )

    policies = iam_policies()
    assert set(policies) == {"ecs_tasks_trust", "task", "execution", "snowflake_trust", "snowflake"}
    for name, policy in policies.items():
        text = json.dumps(policy)
        if name.endswith("_trust"):
            IAMTrustPolicyDocumentValidator(text).validate()
        else:
            IAMPolicyDocumentValidator(text).validate()


OUTSIDE = [
    ("s3:PutObject", f"{BUCKET}/other/public/orders/x.parquet"),
    ("s3:GetObject", f"{BUCKET}/dmsx/public/orders/x.parquet"),
    ("s3:PutObject", f"{BUCKET}/dms"),
    ("s3:GetObject", "arn:aws:s3:::another-bucket/dms/public/orders/x.parquet"),
    ("s3:DeleteObject", f"{BUCKET}/dms/public/orders/x.parquet"),
    ("s3:ListBucket", "arn:aws:s3:::another-bucket"),
    ("s3:PutBucketPolicy", BUCKET),
    ("s3:PutLifecycleConfiguration", BUCKET),
    ("kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/other"),
    ("kms:ScheduleKeyDeletion", KEY),
    ("kms:CreateGrant", KEY),
    ("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:other"),
    ("secretsmanager:PutSecretValue", SECRET),
    ("rds-db:connect", f"arn:aws:rds-db:{REGION}:{ACCOUNT}:dbuser:cluster-ABCDEFGHIJKL/postgres"),
    ("rds-db:connect", f"arn:aws:rds-db:{REGION}:{ACCOUNT}:dbuser:cluster-OTHER/walstream"),
    ("logs:PutLogEvents", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/other:log-stream:x"),
    ("logs:DeleteLogGroup", LOG_GROUP),
    ("ecr:BatchGetImage", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/other"),
    ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/admin"),
    ("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/admin"),
]


@pytest.mark.parametrize("policy", ["task", "execution", "snowflake"])
def test_iam_policies_grant_nothing_outside_the_prefix_key_secret_user_and_logs(
    policy: str,
) -> None:
    doc = iam_policies()[policy]
    leaks = {(a, r): allowed(doc, a, r) for a, r in OUTSIDE if allowed(doc, a, r)}
    assert leaks == {}
    for st in doc["Statement"]:
        assert st["Effect"] == "Allow"
        assert "NotAction" not in st and "NotResource" not in st
        assert all("*" not in a for a in st["Action"]), f"{st['Sid']}: wildcard action"
        if "*" in st["Resource"]:
            # The only IAM action without resource-level permissions we use.
            assert st["Action"] == ["ecr:GetAuthorizationToken"], st
        for resource in st["Resource"]:
            assert (
                resource == "*"
                or resource.startswith(
                    (f"{BUCKET}/dms/", KEY, SECRET, SECRET_KEY, LOG_GROUP, REPO, "arn:aws:rds-db:")
                )
                or resource == BUCKET
            ), f"{st['Sid']}: {resource}"
        if "s3:ListBucket" in st["Action"]:
            # StringLike, not StringLikeIfExists: a listing with no prefix must be refused too.
            assert set(st["Condition"]) == {"StringLike"}, st
            prefixes = [v for test in st["Condition"].values() for v in test.get("s3:prefix", [])]
            assert prefixes and all(p == "dms" or p.startswith("dms/") for p in prefixes), st


NEEDED = {
    "task": [
        ("s3:PutObject", f"{BUCKET}/dms/public/orders/20260101-000000000-0-1.parquet"),
        ("s3:PutObject", f"{BUCKET}/dms/_walstream/sf_sync/checkpoint.json"),
        ("s3:GetObject", f"{BUCKET}/dms/_walstream/sf_sync/checkpoint.json"),
        ("s3:AbortMultipartUpload", f"{BUCKET}/dms/public/orders/x.parquet"),
        ("s3:DeleteObject", f"{BUCKET}/dms/_walstream/probe-0123456789abcdef"),
        ("s3:ListBucket", BUCKET),
        ("kms:GenerateDataKey", KEY),
        ("kms:Decrypt", KEY),
        ("kms:Decrypt", SECRET_KEY),
        ("secretsmanager:GetSecretValue", SECRET),
        (
            "rds-db:connect",
            f"arn:aws:rds-db:{REGION}:{ACCOUNT}:dbuser:cluster-ABCDEFGHIJKL/walstream",
        ),
        ("logs:PutLogEvents", f"{LOG_GROUP}/metrics:log-stream:cloudwatch-agent"),
    ],
    "execution": [
        ("ecr:GetAuthorizationToken", "*"),
        ("ecr:BatchGetImage", REPO),
        ("ecr:GetDownloadUrlForLayer", REPO),
        ("logs:CreateLogStream", f"{LOG_GROUP}:log-stream:walstream/walstream/0123"),
        ("logs:PutLogEvents", f"{LOG_GROUP}:log-stream:walstream/walstream/0123"),
        ("secretsmanager:GetSecretValue", SECRET),
    ],
    "snowflake": [
        ("s3:GetObject", f"{BUCKET}/dms/public/orders/x.parquet"),
        ("s3:GetObjectVersion", f"{BUCKET}/dms/public/orders/x.parquet"),
        ("s3:ListBucket", BUCKET),
        ("kms:Decrypt", KEY),
    ],
}


@pytest.mark.parametrize("policy", sorted(NEEDED))
def test_iam_policies_grant_what_walstream_and_snowflake_need(policy: str) -> None:
    doc = iam_policies()[policy]
    missing = [(a, r) for a, r in NEEDED[policy] if not allowed(doc, a, r)]
    assert missing == []


def test_snowflake_role_is_read_only_and_trusts_only_the_integration_with_its_external_id() -> None:
    doc = iam_policies()["snowflake"]
    actions = {a for st in doc["Statement"] for a in st["Action"]}
    assert all(a.split(":")[1].startswith(("Get", "List", "Decrypt")) for a in actions), actions
    trust = iam_policies()["snowflake_trust"]["Statement"]
    assert trust == [
        {
            "Sid": "SnowflakeStorageIntegration",
            "Effect": "Allow",
            "Action": ["sts:AssumeRole"],
            "Principal": {"AWS": [SNOWFLAKE_USER]},
            "Condition": {"StringEquals": {"sts:ExternalId": [EXTERNAL_ID]}},
        }
    ]


def test_ecs_roles_trust_only_ecs_tasks_of_this_account() -> None:
    (statement,) = iam_policies()["ecs_tasks_trust"]["Statement"]
    assert statement["Principal"] == {"Service": ["ecs-tasks.amazonaws.com"]}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": [ACCOUNT]}}


def test_optional_grants_disappear_when_their_input_is_null() -> None:
    ev = module_evaluator(
        "walstream_iam",
        {
            **IAM_INPUTS,
            "db_secret_arn": None,
            "db_secret_kms_key_arn": None,
            "db_cluster_resource_id": None,
            "ecr_repository_arn": None,
            "metrics_log_group_arn": None,
        },
    )
    docs = module_resources("walstream_iam", "data")
    task = render_policy(ev, docs[("aws_iam_policy_document", "task")])
    execution = render_policy(ev, docs[("aws_iam_policy_document", "execution")])
    task_actions = {a for st in task["Statement"] for a in st["Action"]}
    assert not task_actions & {
        "secretsmanager:GetSecretValue",
        "rds-db:connect",
        "logs:PutLogEvents",
    }
    exec_actions = {a for st in execution["Statement"] for a in st["Action"]}
    assert not exec_actions & {"secretsmanager:GetSecretValue", "ecr:BatchGetImage"}


def test_bucket_policy_only_denies_and_requires_tls_and_the_data_lake_key() -> None:
    ev = module_evaluator("s3_data_lake", {"bucket_name": "acme-lake"})
    ev.env["aws_kms_key.data_lake.arn"] = KEY
    ev.env["local.bucket_arn"] = BUCKET
    docs = module_resources("s3_data_lake", "data")
    policy = render_policy(ev, docs[("aws_iam_policy_document", "bucket")])
    assert all(st["Effect"] == "Deny" for st in policy["Statement"])
    by_sid = {st["Sid"]: st for st in policy["Statement"]}
    assert by_sid["DenyInsecureTransport"]["Condition"] == {
        "Bool": {"aws:SecureTransport": ["false"]}
    }
    assert by_sid["DenyInsecureTransport"]["Resource"] == [BUCKET, f"{BUCKET}/*"]
    assert by_sid["DenyOtherKmsKeys"]["Condition"] == {
        "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": [KEY]}
    }
    assert by_sid["DenyOtherEncryption"]["Condition"] == {
        "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": ["aws:kms"]}
    }


# ---------------------------------------------------------------------------------------------
# Module invariants the runbook relies on
# ---------------------------------------------------------------------------------------------


def _attr(body: dict[str, Any], name: str) -> Any:
    return unquote(body[name])


def test_data_lake_bucket_is_private_kms_encrypted_versioned_and_expires_the_prefix() -> None:
    res = module_resources("s3_data_lake")
    ownership = res[("aws_s3_bucket_ownership_controls", "data_lake")]["rule"][0]
    assert _attr(ownership, "object_ownership") == "BucketOwnerEnforced"
    block = res[("aws_s3_bucket_public_access_block", "data_lake")]
    for flag in (
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ):
        assert block[flag] is True, flag
    sse = res[("aws_s3_bucket_server_side_encryption_configuration", "data_lake")]["rule"][0]
    default = sse["apply_server_side_encryption_by_default"][0]
    assert _attr(default, "sse_algorithm") == "aws:kms"
    assert default["kms_master_key_id"] == "${aws_kms_key.data_lake.arn}"
    assert res[("aws_kms_key", "data_lake")]["enable_key_rotation"] is True
    versioning = res[("aws_s3_bucket_versioning", "data_lake")]["versioning_configuration"][0]
    assert _attr(versioning, "status") == "Enabled"
    rules = {
        _attr(r, "id"): r
        for r in res[("aws_s3_bucket_lifecycle_configuration", "data_lake")]["rule"]
    }
    expire = rules["expire-walstream-files"]
    assert _attr(expire["filter"][0], "prefix") == "${var.prefix}/"
    assert expire["expiration"][0]["days"] == "${var.expire_after_days}"
    abort = rules["abort-incomplete-multipart-uploads"]["abort_incomplete_multipart_upload"][0]
    assert abort["days_after_initiation"] == "${var.abort_incomplete_multipart_days}"


def test_snowpipe_notification_covers_only_parquet_files_under_the_prefix() -> None:
    res = module_resources("s3_data_lake")
    queue = res[("aws_s3_bucket_notification", "snowpipe")]["queue"][0]
    assert queue["queue_arn"] == "${var.snowpipe_sqs_arn}"
    assert [unquote(e) for e in queue["events"]] == ["s3:ObjectCreated:*"]
    assert _attr(queue, "filter_prefix") == "${var.prefix}/"
    # The checkpoint (<prefix>/_walstream/<slot>/checkpoint.json) is not announced to Snowpipe.
    assert _attr(queue, "filter_suffix") == ".parquet"


def test_ecs_service_runs_exactly_one_task_that_never_overlaps_its_successor() -> None:
    res = module_resources("ecs_service")
    service = res[("aws_ecs_service", "walstream")]
    assert service["desired_count"] == 1
    assert service["deployment_minimum_healthy_percent"] == 0
    assert service["deployment_maximum_percent"] == 100
    assert _attr(service, "launch_type") == "FARGATE"
    network = service["network_configuration"][0]
    assert network["assign_public_ip"] is False
    assert network["subnets"] == "${var.private_subnet_ids}"
    task = res[("aws_ecs_task_definition", "walstream")]
    assert _attr(task, "network_mode") == "awsvpc"


def test_ecs_security_group_allows_egress_only_to_aurora_postgres_and_https() -> None:
    res = module_resources("ecs_service")
    egress = {name: body for (rtype, name), body in res.items() if "egress_rule" in rtype}
    assert set(egress) == {"to_aurora", "https", "https_prefix_lists"}
    assert egress["to_aurora"]["from_port"] == egress["to_aurora"]["to_port"] == "${var.db_port}"
    assert egress["to_aurora"]["referenced_security_group_id"] == "${var.aurora_security_group_id}"
    for name in ("https", "https_prefix_lists"):
        assert egress[name]["from_port"] == egress[name]["to_port"] == 443
        assert _attr(egress[name], "ip_protocol") == "tcp"
    ingress = {name for (rtype, name), _ in res.items() if "ingress_rule" in rtype}
    assert ingress == {"aurora_from_walstream", "metrics"}
    assert "ingress" not in res[("aws_security_group", "walstream")]
    assert "egress" not in res[("aws_security_group", "walstream")]


def ecs_container_definitions(**overrides: Any) -> list[dict[str, Any]]:
    """The module's container definitions as ECS receives them (ECS drops null fields)."""
    inputs = {
        "name": "walstream-prod-sf-sync",
        "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/walstream@sha256:" + "0" * 64,
        "walstream_environment": {
            "WALSTREAM_DSN": "host=db port=5432 dbname=app user=walstream sslmode=verify-full",
            "WALSTREAM_PUBLICATION": "walstream",
            "WALSTREAM_DEST": "s3://acme-lake/dms",
        },
        "walstream_secrets": {"PGPASSWORD": f"{SECRET}:password::"},
        **overrides,
    }
    ev = module_evaluator("ecs_service", inputs)
    # The agent's configuration is YAML/JSON-encoded text: not needed for the comparison.
    ev.locals_raw["agent_config"] = '"{}"'
    ev.locals_raw["agent_prometheus_config"] = '"{}"'
    ev.env["aws_ecs_cluster.this[0].arn"] = f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/x"

    def drop_nulls(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: drop_nulls(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [drop_nulls(v) for v in value]
        return value

    return list(drop_nulls(json.loads(ev.ref("local.container_definitions"))))


def test_ecs_container_definitions_are_a_valid_register_task_definition_request() -> None:
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model("RegisterTaskDefinition").input_shape
    request = {
        "family": "walstream-prod-sf-sync",
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": "1024",
        "memory": "2048",
        "volumes": [{"name": "tmp"}],
        "containerDefinitions": ecs_container_definitions(),
    }
    report = ParamValidator().validate(request, shape)
    assert not report.has_errors(), report.generate_report()
    deploy_json = json.loads((ROOT / "deploy" / "ecs-task-definition.json").read_text())
    report = ParamValidator().validate(deploy_json, shape)
    assert not report.has_errors(), report.generate_report()


def test_ecs_container_health_check_targets_healthz_on_the_metrics_port() -> None:
    walstream, agent = ecs_container_definitions()
    assert walstream["healthCheck"]["command"] == [
        "CMD",
        "/usr/local/bin/walstream-entrypoint",
        "healthcheck",
    ]
    assert walstream["portMappings"] == [
        {"containerPort": 9187, "protocol": "tcp", "name": "metrics"}
    ]
    env = {e["name"]: e["value"] for e in walstream["environment"]}
    assert env["WALSTREAM_METRICS_PORT"] == "9187"
    assert env["WALSTREAM_LOG_FORMAT"] == "json"
    assert agent["essential"] is False
    (without_check,) = ecs_container_definitions(
        health_check_enabled=False, cloudwatch_agent_enabled=False
    )
    assert "healthCheck" not in without_check


def test_ecs_container_runs_unprivileged_read_only_and_stops_gracefully() -> None:
    walstream = ecs_container_definitions()[0]
    assert walstream["user"] == "10001:10001"
    assert walstream["readonlyRootFilesystem"] is True
    assert walstream["linuxParameters"] == {
        "initProcessEnabled": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert walstream["stopTimeout"] == 120
    assert walstream["mountPoints"] == [
        {"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}
    ]
    assert walstream["secrets"] == [{"name": "PGPASSWORD", "valueFrom": f"{SECRET}:password::"}]
    assert "PGPASSWORD" not in {e["name"] for e in walstream["environment"]}


def test_deploy_task_definition_json_matches_what_terraform_generates() -> None:
    deploy = json.loads((ROOT / "deploy" / "ecs-task-definition.json").read_text())
    (from_json,) = deploy["containerDefinitions"]
    from_tf = ecs_container_definitions(cloudwatch_agent_enabled=False)[0]
    for key in (
        "name",
        "command",
        "user",
        "readonlyRootFilesystem",
        "stopTimeout",
        "portMappings",
        "mountPoints",
        "linuxParameters",
        "ulimits",
        "healthCheck",
        "essential",
    ):
        assert from_json[key] == from_tf[key], key
    assert {e["name"] for e in from_json["environment"]} == {
        e["name"] for e in from_tf["environment"]
    }
    assert (
        from_json["logConfiguration"]["options"].keys()
        == from_tf["logConfiguration"]["options"].keys()
    )
    assert deploy["networkMode"] == "awsvpc" and deploy["requiresCompatibilities"] == ["FARGATE"]


def test_aurora_parameter_group_turns_on_logical_replication_at_the_next_reboot() -> None:
    ev = module_evaluator(
        "aurora_logical_replication", {"name": "x", "family": "aurora-postgresql16"}
    )
    params = ev.ref("local.parameters")
    assert params["rds.logical_replication"] == {"value": "1", "apply_method": "pending-reboot"}
    assert params["rds.force_ssl"]["value"] == "1"
    assert params["max_replication_slots"]["apply_method"] == "pending-reboot"
    text = (MODULES / "aurora_logical_replication" / "main.tf").read_text()
    assert "REBOOTS" in text and "iam_database_authentication_enabled" in text


def test_snowflake_module_creates_shared_objects_and_runs_walstream_for_per_table_objects() -> None:
    res = module_resources("snowflake_ingest")
    assert {
        ("snowflake_storage_integration", "walstream"),
        ("snowflake_file_format", "parquet"),
        ("snowflake_stage", "walstream"),
        ("terraform_data", "walstream_snowflake_apply"),
    } <= set(res)
    assert _attr(res[("snowflake_file_format", "parquet")], "format_type") == "PARQUET"
    integration = res[("snowflake_storage_integration", "walstream")]
    assert integration["storage_aws_role_arn"] == "${var.storage_aws_role_arn}"
    apply = res[("terraform_data", "walstream_snowflake_apply")]
    command = apply["provisioner"][0]['"local-exec"']["command"]
    assert "var.walstream_command" in command and "local.apply_argv" in command
    argv = {
        k: v
        for e in parse(MODULES / "snowflake_ingest" / "main.tf")["locals"]
        for k, v in e.items()
    }["apply_argv"]
    assert '"snowflake", "apply"' in argv


def test_alarms_cover_slot_lag_freshness_errors_and_task_restarts() -> None:
    res = module_resources("alarms")
    metrics = {}
    for (_, name), body in res.items():
        if "metric_name" in body:
            metrics[name] = _attr(body, "metric_name")
        else:
            metrics[name] = next(
                unquote(q["metric"][0]["metric_name"])
                for q in body["metric_query"]
                if "metric" in q
            )
    assert metrics == {
        "wal_retained": "OldestReplicationSlotLag",
        "lag": "walstream_lag_bytes",
        "freshness": "walstream_last_commit_timestamp_seconds",
        "errors": "walstream_errors_total",
        "not_running": "RunningTaskCount",
        "task_restarts": "MatchedEvents",
        "load_failed": "walstream_warehouse_failed_files",
        "task_failed": "walstream_warehouse_failed_task_runs",
        "final_freshness": "walstream_warehouse_freshness_seconds",
        "files_not_loaded": "walstream_warehouse_unloaded_seconds",
        "warehouse_monitor_down": "walstream_warehouse_monitor_up",
    }
    for body in res.values():
        assert "docs/operations.md#" in body["alarm_description"]


def test_snowflake_apply_command_reaches_walstream_with_every_argument_intact(
    tmp_path: Path,
) -> None:
    # A stand-in for walstream that prints the arguments it received, run the way local-exec
    # runs commands (/bin/sh -c): quotes and spaces in names must survive the shell.
    echo_argv = tmp_path / "echo-argv"
    echo_argv.write_text("import json, sys\nprint(json.dumps(sys.argv[1:]))\n")
    ev = module_evaluator(
        "snowflake_ingest",
        {
            "database": "RAW",
            "schema": "APP",
            "dest_url": "s3://acme-lake/dms",
            "storage_aws_role_arn": f"arn:aws:iam::{ACCOUNT}:role/walstream-prod-snowflake",
            "tables": ["public.orders", "sales.it's; rm -rf /"],
            "walstream_command": f"{sys.executable} {echo_argv}",
            "walstream_apply_args": ["--warehouse", "MERGE WH"],
        },
    )
    body = module_resources("snowflake_ingest")[("terraform_data", "walstream_snowflake_apply")]
    command = ev.value(body["provisioner"][0]['"local-exec"']["command"])
    result = subprocess.run(
        ["/bin/sh", "-c", command], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        "snowflake",
        "apply",
        "--dest",
        "s3://acme-lake/dms",
        "--database",
        "RAW",
        "--schema",
        "APP",
        "--stage",
        "WALSTREAM_STAGE",
        "--file-format",
        "WALSTREAM_PARQUET",
        "--storage-integration",
        "WALSTREAM_S3",
        "--table",
        "public.orders",
        "--table",
        "sales.it's; rm -rf /",
        "--warehouse",
        "MERGE WH",
    ]


def test_every_checkov_skip_is_listed_with_its_reason_in_the_readme() -> None:
    skips = set()
    for path in TF_FILES:
        skips |= set(re.findall(r"checkov:skip=(CKV2?_AWS_\d+):\S", path.read_text()))
    readme = (TERRAFORM / "README.md").read_text()
    table = readme.split("### Skipped checkov checks", 1)[1]
    assert skips == set(re.findall(r"CKV2?_AWS_\d+", table))
