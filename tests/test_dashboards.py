"""The dashboards and the alarms of the Snowflake half, checked without AWS or Grafana.

- The CloudWatch dashboard (terraform/modules/dashboard) is rendered from its HCL by the test
  evaluator of tests/test_deploy.py and, where a terraform binary exists, by ``terraform
  console`` too (the body is locals only, so no provider is needed): both renderings must be
  equal. The body is then checked against CloudWatch's documented dashboard body structure
  (widgets, grid, metric arrays, rendering properties, SEARCH syntax), sent through
  ``put_dashboard`` to moto on 127.0.0.1, and each graphed metric is one the CloudWatch agent
  of module ecs_service forwards, in the namespace and with the dimensions the graph asks for.
- The alarms module's alarms are rendered into PutMetricAlarm requests, validated against the
  CloudWatch API model and accepted by moto; their metrics are forwarded with the dimensions
  they name, and each description names a runbook section that exists.
- The Grafana dashboard (deploy/grafana/walstream.json) is loaded and checked: unique panel ids,
  grid positions, schema version, the slot and table variables, queries naming only walstream's
  metrics and filtering on the variables; with promtool, every query must parse.
- Both dashboards show the same panels (the same metrics, in the same order), and the lines
  they draw are the alarms' thresholds.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from tests.s3server import MotoServer
from tests.test_deploy import MODULES, ROOT, HclEvaluator, module_evaluator, module_resources
from tests.test_deploy_docs import runbook_anchors
from tests.test_deploy_runtime import _promtool

DASHBOARD_MODULE = MODULES / "dashboard"
GRAFANA = ROOT / "deploy" / "grafana" / "walstream.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
REGION = "eu-west-1"
NAME = "walstream-prod-sf-sync"
SLOT = "sf_sync"
TABLES = ["public.orders", "sales.order_lines"]
TOPIC = f"arn:aws:sns:{REGION}:123456789012:oncall"

#: What a running walstream exports on /metrics (the stream) ...
RUN_METRICS = {
    "walstream_lag_bytes",
    "walstream_changes_total",
    "walstream_files_written_total",
    "walstream_errors_total",
    "walstream_last_commit_timestamp_seconds",
    "walstream_acked_lsn",
}
#: ... and what its warehouse monitor adds (the same names as `warehouse load --metrics-file`).
WAREHOUSE_METRICS = {
    "walstream_warehouse_watermark_lsn",
    "walstream_warehouse_waiting_seconds",
    "walstream_warehouse_unloaded_files",
    "walstream_warehouse_unloaded_seconds",
    "walstream_warehouse_rows_written",
    "walstream_warehouse_rows_loaded",
    "walstream_warehouse_failed_files",
    "walstream_warehouse_failed_task_runs",
    "walstream_warehouse_freshness_seconds",
    "walstream_warehouse_watermark_lag_bytes",
    "walstream_warehouse_monitor_up",
    "walstream_warehouse_monitor_last_success_timestamp_seconds",
}
#: The metrics with no table label: one series per slot.
SLOT_METRICS = {
    "walstream_lag_bytes",
    "walstream_errors_total",
    "walstream_last_commit_timestamp_seconds",
    "walstream_acked_lsn",
    "walstream_warehouse_monitor_up",
    "walstream_warehouse_monitor_last_success_timestamp_seconds",
}


# ---------------------------------------------------------------------------------------------
# The CloudWatch dashboard body
# ---------------------------------------------------------------------------------------------


def dashboard_body(**overrides: Any) -> dict[str, Any]:
    """The body as module dashboard renders it (variables at their defaults, then overrides)."""
    ev = module_evaluator("dashboard", {"name": NAME, **overrides})
    ev.env["local.region"] = REGION
    return dict(json.loads(ev.ref("local.dashboard_body")))


def test_dashboard_body_renders_the_same_with_terraform_and_the_test_evaluator(
    tmp_path: Path,
) -> None:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip("no terraform binary on PATH: the test evaluator's rendering stands alone")
    # The body's locals and the variables they read; the region (a data source in main.tf,
    # which would need the AWS provider) as a plain local.
    for part in ("variables.tf", "widgets.tf"):
        shutil.copy(DASHBOARD_MODULE / part, tmp_path / part)
    (tmp_path / "region.tf").write_text(f'locals {{\n  region = "{REGION}"\n}}\n')
    env = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": os.devnull,
        "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1",
        "TF_DATA_DIR": str(tmp_path / ".terraform"),
    }
    overrides = {"slot": "orders_slot", "final_freshness_seconds_threshold": 900}
    args = [f"-var={k}={v}" for k, v in {"name": NAME, **overrides}.items()]
    result = subprocess.run(
        [binary, "console", *args],
        input="base64encode(local.dashboard_body)\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rendered = json.loads(base64.b64decode(json.loads(result.stdout.strip())))
    assert rendered == dashboard_body(**overrides)


_STAT = re.compile(r"^(SampleCount|Average|Sum|Minimum|Maximum|p\d{1,2}(\.\d+)?|p100)$")
_ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")
_SEARCH = re.compile(
    r"^SEARCH\('\{\"(?P<namespace>[^\"]+)\",(?P<dimensions>[A-Za-z_,]+)\} "
    r"Slot=\"(?P<slot>[a-z0-9_]+)\" MetricName=\"(?P<metric>[a-z_]+)\"', "
    r"'(?P<stat>[A-Za-z0-9.]+)', (?P<period>\d+)\)$"
)
_WIDGET_KEYS = {"type", "x", "y", "width", "height", "properties"}
_METRIC_PROPERTIES = {
    "accountId",
    "annotations",
    "end",
    "legend",
    "liveData",
    "metrics",
    "period",
    "region",
    "setPeriodToTimeRange",
    "singleValueFullPrecision",
    "sparkline",
    "stacked",
    "start",
    "stat",
    "timezone",
    "title",
    "trend",
    "view",
    "yAxis",
}
_RENDERING = {"accountId", "color", "id", "label", "period", "region", "stat", "visible", "yAxis"}
_EXPRESSION = {"accountId", "color", "expression", "id", "label", "period", "region", "visible"}
_EXPRESSION.add("yAxis")


def structure_problems(body: dict[str, Any]) -> list[str]:
    """Where ``body`` departs from CloudWatch's documented dashboard body structure (the parts
    this project uses: metric widgets, their metrics arrays, axes and annotations)."""
    problems: list[str] = []
    if not set(body) <= {"widgets", "start", "end", "periodOverride", "variables"}:
        problems.append(f"unknown top-level keys {sorted(body)}")
    if body.get("periodOverride", "auto") not in ("auto", "inherit"):
        problems.append("periodOverride is auto or inherit")
    if "start" in body and not re.fullmatch(r"-P(T\d+[HMS]|\d+[DWM])", body["start"]):
        problems.append(f"start {body['start']!r} is not a relative ISO 8601 duration")
    widgets = body.get("widgets")
    if not isinstance(widgets, list) or not 0 <= len(widgets) <= 500:
        return [*problems, "widgets is a list of 0 to 500 widgets"]
    cells: dict[tuple[int, int], int] = {}
    for n, widget in enumerate(widgets):
        where = f"widget {n}"
        if not set(widget) <= _WIDGET_KEYS or "type" not in widget:
            problems.append(f"{where}: keys {sorted(widget)}")
            continue
        if widget["type"] not in ("metric", "text", "log", "alarm", "explorer"):
            problems.append(f"{where}: type {widget['type']!r}")
        x, y = widget.get("x", 0), widget.get("y", 0)
        width, height = widget.get("width", 6), widget.get("height", 6)
        if not all(isinstance(v, int) for v in (x, y, width, height)):
            problems.append(f"{where}: x, y, width and height are integers")
            continue
        if not (0 <= x <= 23 and y >= 0 and 1 <= width <= 24 and 1 <= height <= 1000):
            problems.append(f"{where}: position out of range")
        if x + width > 24:
            problems.append(f"{where}: wider than the 24-column grid")
        for cell in ((cx, cy) for cx in range(x, x + width) for cy in range(y, y + height)):
            if cell in cells:
                problems.append(f"{where} overlaps widget {cells[cell]}")
                break
            cells[cell] = n
        if widget["type"] == "metric":
            problems += [f"{where}: {p}" for p in metric_widget_problems(widget["properties"])]
    return problems


def metric_widget_problems(props: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if not set(props) <= _METRIC_PROPERTIES:
        problems.append(f"unknown properties {sorted(set(props) - _METRIC_PROPERTIES)}")
    if not isinstance(props.get("region"), str) or not isinstance(props.get("title"), str):
        problems.append("a metric widget has a region and a title")
    if props.get("view", "timeSeries") not in ("timeSeries", "singleValue", "gauge", "bar"):
        problems.append(f"view {props.get('view')!r}")
    if "stat" in props and not _STAT.match(props["stat"]):
        problems.append(f"stat {props['stat']!r}")
    period = props.get("period", 300)
    if not isinstance(period, int) or period < 60 or period % 60:
        problems.append(f"period {period!r} is not a multiple of 60 s")
    metrics = props.get("metrics")
    if not isinstance(metrics, list) or not 1 <= len(metrics) <= 500:
        return [*problems, "metrics is an array of 1 to 500 metric arrays"]
    ids: set[str] = set()
    expressions: list[str] = []
    for entry in metrics:
        if not isinstance(entry, list) or not entry:
            problems.append(f"metric entry {entry!r} is not an array")
            continue
        options = entry[-1] if isinstance(entry[-1], dict) else {}
        if isinstance(entry[0], dict):
            if len(entry) != 1 or not isinstance(entry[0].get("expression"), str):
                problems.append(f"expression entry {entry!r}: one object with an expression")
            if not set(entry[0]) <= _EXPRESSION:
                problems.append(f"expression entry keys {sorted(entry[0])}")
            expressions.append(entry[0].get("expression", ""))
        else:
            names = entry[:-1] if options else entry
            if len(names) < 2 or len(names) % 2 or not all(isinstance(s, str) for s in names):
                problems.append(f"metric entry {entry!r}: namespace, name, dimension pairs")
            if not set(options) <= _RENDERING:
                problems.append(f"rendering properties {sorted(options)}")
        if "stat" in options and not _STAT.match(options["stat"]):
            problems.append(f"stat {options['stat']!r}")
        if options.get("yAxis", "left") not in ("left", "right"):
            problems.append(f"yAxis {options['yAxis']!r}")
        if "id" in options:
            if not _ID.match(options["id"]) or options["id"] in ids:
                problems.append(f"id {options['id']!r} is not a fresh lower-case identifier")
            ids.add(options["id"])
    for expression in expressions:
        if expression.startswith("SEARCH("):
            if not _SEARCH.match(expression):
                problems.append(f"SEARCH expression {expression!r}")
            continue
        for name in sorted(set(re.findall(r"\b([a-z][A-Za-z0-9_]*)\b(?!\s*\()", expression))):
            if name not in ids:
                problems.append(f"expression {expression!r} names {name}, not a metric id")
    for side, axis in props.get("yAxis", {}).items():
        if side not in ("left", "right") or not set(axis) <= {"min", "max", "label", "showUnits"}:
            problems.append(f"yAxis {side}: {sorted(axis)}")
    for kind, lines in props.get("annotations", {}).items():
        if kind not in ("horizontal", "vertical"):
            problems.append(f"annotations {kind}")
        for line in lines:
            if not isinstance(line.get("value"), (int, float)) or not line.get("label"):
                problems.append(f"annotation {line!r} has a numeric value and a label")
    return problems


def test_dashboard_body_follows_the_documented_dashboard_structure() -> None:
    body = dashboard_body()
    assert structure_problems(body) == []
    assert len(body["widgets"]) == 12
    assert {w["type"] for w in body["widgets"]} == {"metric"}


def test_structure_check_catches_overlaps_bad_stats_and_dangling_ids() -> None:
    props = {"title": "t", "region": REGION, "metrics": [["N", "m", {"stat": "Mean"}]]}
    widget = {"type": "metric", "x": 20, "y": 0, "width": 6, "height": 6, "properties": props}
    other = {**widget, "x": 0, "width": 24}
    problems = structure_problems({"widgets": [widget, other]})
    assert "widget 0: wider than the 24-column grid" in problems
    assert "widget 1 overlaps widget 0" in problems
    assert "widget 0: stat 'Mean'" in problems
    dangling = {**props, "metrics": [[{"expression": "EPOCH(m1) - m1", "id": "e1"}]]}
    assert metric_widget_problems(dangling) == [
        "expression 'EPOCH(m1) - m1' names m1, not a metric id"
    ]


def agent_dimensions() -> tuple[str, dict[str, list[list[str]]]]:
    """(namespace, {metric: dimension sets}) of what the ecs_service's CloudWatch agent
    forwards, from its configuration rendered from the HCL."""
    ev = module_evaluator(
        "ecs_service",
        {"name": NAME, "image": "x", "walstream_environment": {}, "walstream_secrets": {}},
    )
    config = json.loads(ev.ref("local.agent_config"))
    emf = config["logs"]["metrics_collected"]["prometheus"]["emf_processor"]
    forwarded: dict[str, list[list[str]]] = {}
    for declaration in emf["metric_declaration"]:
        assert declaration["source_labels"] == ["job"]
        for selector in declaration["metric_selectors"]:
            name = selector.removeprefix("^").removesuffix("$")
            assert re.fullmatch(selector, name), selector
            forwarded.setdefault(name, []).extend(declaration["dimensions"])
    return emf["metric_namespace"], forwarded


def graphed_metrics(widget: dict[str, Any]) -> Iterator[tuple[str, str, list[str], str]]:
    """(namespace, metric, dimension names, slot) of every metric a widget graphs."""
    for entry in widget["properties"]["metrics"]:
        if isinstance(entry[0], dict):
            m = _SEARCH.match(entry[0]["expression"])
            if m:
                yield m["namespace"], m["metric"], m["dimensions"].split(","), m["slot"]
            continue
        names = entry[:-1] if isinstance(entry[-1], dict) else entry
        dims = dict(zip(names[2::2], names[3::2], strict=True))
        yield names[0], names[1], sorted(dims), dims.get("Slot", "")


def test_every_graph_shows_metrics_the_agent_forwards_with_the_graphs_dimensions() -> None:
    namespace, forwarded = agent_dimensions()
    body = dashboard_body(slot="orders_slot", metrics_namespace="Team/Walstream")
    graphed = set()
    for widget in body["widgets"]:
        for ns, metric, dims, slot in graphed_metrics(widget):
            graphed.add(metric)
            assert (ns, slot) == ("Team/Walstream", "orders_slot"), widget["properties"]["title"]
            assert metric in RUN_METRICS | WAREHOUSE_METRICS, metric
            assert sorted(dims) in [sorted(d) for d in forwarded.get(metric, [])], (metric, dims)
            assert dims == (["Slot"] if metric in SLOT_METRICS else ["Slot", "table"]), metric
    assert (
        namespace
        == "Walstream"
        == module_evaluator("dashboard", {"name": NAME}).ref("var.metrics_namespace")
    )
    # Every per-table gauge of the monitor has its graph (the watermark LSN is a position,
    # graphed as the watermark lag), and so do the slot lag, the stored rows and the errors.
    assert graphed == (WAREHOUSE_METRICS - {"walstream_warehouse_watermark_lsn"}) | {
        "walstream_lag_bytes",
        "walstream_changes_total",
        "walstream_errors_total",
    }


@pytest.fixture
def cloudwatch(moto_server: MotoServer) -> Any:
    moto_server.reset()
    return boto3.session.Session().client(
        "cloudwatch",
        endpoint_url=moto_server.endpoint_url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_dashboard_body_is_accepted_by_put_dashboard(cloudwatch: Any) -> None:
    body = json.dumps(dashboard_body(), separators=(",", ":"))
    answer = cloudwatch.put_dashboard(DashboardName=NAME, DashboardBody=body)
    assert answer.get("DashboardValidationMessages", []) == []
    stored = cloudwatch.get_dashboard(DashboardName=NAME)
    assert json.loads(stored["DashboardBody"]) == dashboard_body()
    listed = cloudwatch.list_dashboards()["DashboardEntries"]
    assert [d["DashboardName"] for d in listed] == [NAME]
    # moto refuses what is not JSON (the check it shares with CloudWatch).
    with pytest.raises(cloudwatch.exceptions.ClientError, match="invalid JSON"):
        cloudwatch.put_dashboard(DashboardName=NAME, DashboardBody=body[:-1])


# ---------------------------------------------------------------------------------------------
# The CloudWatch alarms
# ---------------------------------------------------------------------------------------------

ALARM_INPUTS = {
    "name": NAME,
    "alarm_actions": [TOPIC],
    "db_cluster_identifier": "app-prod",
    "ecs_cluster_name": NAME,
    "ecs_service_name": NAME,
    "task_stopped_rule_name": f"{NAME}-task-stopped",
    "warehouse_metrics_enabled": True,
    "tables": TABLES,
    "tags": {"app": "walstream"},
}
#: The alarms on the warehouse monitor's gauges (module alarms, warehouse.tf).
WAREHOUSE_ALARMS = {
    "load_failed",
    "task_failed",
    "final_freshness",
    "files_not_loaded",
    "warehouse_monitor_down",
}


def _dimensions(value: dict[str, str]) -> list[dict[str, str]]:
    return [{"Name": k, "Value": v} for k, v in value.items()]


def put_metric_alarm_request(ev: HclEvaluator, body: dict[str, Any]) -> dict[str, Any]:
    """An aws_cloudwatch_metric_alarm block -> the PutMetricAlarm request Terraform sends."""

    def attr(name: str) -> Any:
        return ev.value(body[name])

    request: dict[str, Any] = {
        "AlarmName": attr("alarm_name"),
        "AlarmDescription": attr("alarm_description"),
        "EvaluationPeriods": attr("evaluation_periods"),
        "ComparisonOperator": attr("comparison_operator"),
        "Threshold": attr("threshold"),
        "TreatMissingData": attr("treat_missing_data"),
        "AlarmActions": attr("alarm_actions"),
        "OKActions": attr("ok_actions"),
        "Tags": [{"Key": k, "Value": v} for k, v in attr("tags").items()],
    }
    if "datapoints_to_alarm" in body:
        request["DatapointsToAlarm"] = attr("datapoints_to_alarm")
    if "metric_name" in body:
        request.update(
            Namespace=attr("namespace"),
            MetricName=attr("metric_name"),
            Dimensions=_dimensions(attr("dimensions")),
            Statistic=attr("statistic"),
            Period=attr("period"),
        )
    for query in body.get("metric_query", []):
        q = ev.value({k: v for k, v in query.items() if k != "metric"})
        item: dict[str, Any] = {"Id": q["id"], "ReturnData": q.get("return_data", False)}
        if "expression" in q:
            item.update(Expression=q["expression"], Label=q.get("label", ""))
        for metric in query.get("metric", []):
            m = ev.value(metric)
            item["MetricStat"] = {
                "Metric": {
                    "Namespace": m["namespace"],
                    "MetricName": m["metric_name"],
                    "Dimensions": _dimensions(m["dimensions"]),
                },
                "Period": m["period"],
                "Stat": m["stat"],
            }
        request.setdefault("Metrics", []).append(item)
    return request


def alarm_requests(**overrides: Any) -> dict[str, dict[str, Any]]:
    """Every alarm the module creates with ALARM_INPUTS (one per table for the per-table ones),
    by alarm name."""
    ev = module_evaluator("alarms", {**ALARM_INPUTS, **overrides})
    tables = ev.ref("var.tables") if ev.ref("var.warehouse_metrics_enabled") else []
    requests = {}
    for (_, name), body in module_resources("alarms").items():
        if "for_each" in body:
            assert body["for_each"] == "${local.warehouse_tables}", name
            keys: list[str | None] = list(tables)
        elif "count" in body:
            keys = [None] if ev.value(body["count"]) == 1 else []
        else:
            keys = [None]
        for key in keys:
            ev.env["each.key"] = key
            request = put_metric_alarm_request(ev, body)
            requests[request["AlarmName"]] = {**request, "resource": name}
    ev.env.pop("each.key", None)
    return requests


def test_warehouse_alarms_are_one_per_table_and_kind_and_off_by_default() -> None:
    names = set(alarm_requests())
    for table in TABLES:
        for kind in ("load-failed", "task-failed", "final-freshness", "files-not-loaded"):
            assert f"{NAME}-{kind}-{table}" in names
    assert f"{NAME}-warehouse-monitor-down" in names
    off = alarm_requests(warehouse_metrics_enabled=False)
    assert not {r["resource"] for r in off.values()} & WAREHOUSE_ALARMS
    assert len(off) == 6


def test_alarms_are_valid_put_metric_alarm_requests_that_cloudwatch_accepts(
    cloudwatch: Any,
) -> None:
    from botocore.validate import ParamValidator

    shape = cloudwatch.meta.service_model.operation_model("PutMetricAlarm").input_shape
    requests = alarm_requests()
    for name, request in requests.items():
        request = {k: v for k, v in request.items() if k != "resource"}
        report = ParamValidator().validate(request, shape)
        assert not report.has_errors(), report.generate_report()
        assert len(name) <= 255 and len(request["AlarmDescription"]) <= 1024, name
        cloudwatch.put_metric_alarm(**request)
    described = cloudwatch.describe_alarms(MaxRecords=100)["MetricAlarms"]
    assert {a["AlarmName"] for a in described} == set(requests)
    by_name = {a["AlarmName"]: a for a in described}
    orders = by_name[f"{NAME}-final-freshness-public.orders"]
    assert orders["MetricName"] == "walstream_warehouse_freshness_seconds"
    assert {d["Name"]: d["Value"] for d in orders["Dimensions"]} == {
        "Slot": SLOT,
        "table": "public.orders",
    }
    assert orders["Threshold"] == 3600
    down = by_name[f"{NAME}-warehouse-monitor-down"]
    assert (down["ComparisonOperator"], down["Threshold"]) == ("LessThanThreshold", 1)
    assert down["TreatMissingData"] == "breaching"


def test_alarms_watch_forwarded_metrics_and_name_an_existing_runbook_section() -> None:
    namespace, forwarded = agent_dimensions()
    anchors = runbook_anchors()
    for request in alarm_requests().values():
        found = re.findall(r"docs/operations\.md#([\w-]+)", request["AlarmDescription"])
        assert len(found) == 1 and found[0] in anchors, request["AlarmName"]
        metrics = [
            (q["MetricStat"]["Metric"]["MetricName"], q["MetricStat"]["Metric"]["Dimensions"])
            for q in request.get("Metrics", [])
            if "MetricStat" in q
        ]
        if "MetricName" in request:
            metrics.append((request["MetricName"], request["Dimensions"]))
        for metric, dims in metrics:
            if not metric.startswith("walstream_"):
                continue  # AWS/RDS, ECS/ContainerInsights, AWS/Events
            names = sorted(d["Name"] for d in dims)
            assert names in [sorted(d) for d in forwarded[metric]], (metric, names)
    assert namespace == module_evaluator("alarms", ALARM_INPUTS).ref("var.metrics_namespace")


# ---------------------------------------------------------------------------------------------
# The Grafana dashboard
# ---------------------------------------------------------------------------------------------


def grafana() -> dict[str, Any]:
    return dict(json.loads(GRAFANA.read_text()))


def grafana_queries() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(panel, target) of every query of the dashboard."""
    return [(p, t) for p in grafana()["panels"] for t in p.get("targets", [])]


def test_grafana_dashboard_loads_with_unique_ids_a_grid_and_the_slot_and_table_variables() -> None:
    dashboard = grafana()
    assert isinstance(dashboard["schemaVersion"], int) and dashboard["schemaVersion"] >= 36
    assert dashboard["uid"] and dashboard["title"]
    panels = dashboard["panels"]
    assert len(panels) == 12
    ids = [p["id"] for p in panels]
    assert len(set(ids)) == len(ids) and all(isinstance(i, int) for i in ids)
    cells: dict[tuple[int, int], int] = {}
    for panel in panels:
        pos = panel["gridPos"]
        assert set(pos) == {"h", "w", "x", "y"} and all(isinstance(v, int) for v in pos.values())
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24 and pos["h"] > 0, panel["title"]
        for cell in (
            (x, y)
            for x in range(pos["x"], pos["x"] + pos["w"])
            for y in range(pos["y"], pos["y"] + pos["h"])
        ):
            assert cell not in cells, f"{panel['title']} overlaps panel {cells[cell]}"
            cells[cell] = panel["id"]
        assert panel["type"] == "timeseries" and panel["title"] and panel["description"]
        assert "docs/operations.md#dashboards" in panel["description"]
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and len(set(refs)) == len(refs), panel["title"]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for name in ("slot", "table"):
        assert variables[name]["type"] == "query"
        assert variables[name]["includeAll"] and variables[name]["multi"]
        assert variables[name]["query"]["query"].startswith("label_values(")
    assert "$slot" in variables["table"]["query"]["query"]


def _variable_selectors() -> list[str]:
    """The series selectors of the variables' label_values() queries."""
    out = []
    for variable in grafana()["templating"]["list"]:
        if variable["type"] == "query":
            m = re.fullmatch(r"label_values\((.+), *(\w+)\)", variable["query"]["query"])
            assert m, variable["query"]
            out.append(m.group(1))
    return out


def test_grafana_queries_name_only_walstream_metrics_and_filter_on_the_variables() -> None:
    allowed = RUN_METRICS | WAREHOUSE_METRICS
    for panel, target in grafana_queries():
        expr = target["expr"]
        names = set(re.findall(r"\b(walstream_[a-z_]+)\b", expr))
        identifiers = set(re.findall(r"\b([a-z_]+)\s*\{", expr))
        assert names and names <= allowed and identifiers <= allowed, (panel["title"], expr)
        for selector in re.findall(r"walstream_[a-z_]+\{([^}]*)\}", expr):
            assert 'slot=~"$slot"' in selector, expr
            per_table = not set(re.findall(r"(walstream_[a-z_]+)\{", expr)) <= SLOT_METRICS
            assert ('table=~"$table"' in selector) == per_table, expr
        assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    for selector in _variable_selectors():
        assert set(re.findall(r"\b(walstream_[a-z_]+)\b", selector)) <= allowed


def _concrete(expr: str) -> str:
    """A Grafana query with its variables set, as Prometheus receives it."""
    for variable, value in (
        ("$__rate_interval", "1m"),
        ("$__interval", "1m"),
        ("$slot", "sf_sync|orders_slot"),
        ("$table", ".*"),
    ):
        expr = expr.replace(variable, value)
    assert "$" not in expr, expr
    return expr


def test_grafana_queries_parse_with_promtool(tmp_path: Path) -> None:
    promtool = _promtool()
    exprs = [_concrete(t["expr"]) for _, t in grafana_queries()]
    exprs += [_concrete(s) for s in _variable_selectors()]
    rules = {
        "groups": [
            {
                "name": "grafana-walstream-queries",
                "rules": [
                    {"record": f"walstream_dashboard_query_{n}", "expr": e}
                    for n, e in enumerate(exprs)
                ],
            }
        ]
    }
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump(rules))
    result = subprocess.run(
        [promtool, "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(exprs)} rules found" in result.stdout


# ---------------------------------------------------------------------------------------------
# The two dashboards and the alarms agree
# ---------------------------------------------------------------------------------------------


def test_both_dashboards_show_the_same_panels_in_the_same_places() -> None:
    widgets = dashboard_body()["widgets"]
    panels = grafana()["panels"]
    assert len(widgets) == len(panels)
    for widget, panel in zip(widgets, panels, strict=True):
        cloudwatch_metrics = {m for _, m, _, _ in graphed_metrics(widget)}
        grafana_metrics = {
            n for t in panel["targets"] for n in re.findall(r"\b(walstream_[a-z_]+)\b", t["expr"])
        }
        assert cloudwatch_metrics == grafana_metrics, panel["title"]
        # Same reading order: left/right column and row rank.
        assert (widget["x"] == 0) == (panel["gridPos"]["x"] == 0), panel["title"]
        assert widget["y"] // widget["height"] == panel["gridPos"]["y"] // panel["gridPos"]["h"]


def _alert_thresholds() -> dict[str, float]:
    """metric -> the threshold of the Prometheus alert comparing it with a constant."""
    rules = yaml.safe_load(ALERTS.read_text())
    found: dict[str, float] = {}
    for group in rules["groups"]:
        for rule in group["rules"]:
            m = re.fullmatch(
                r"max by \([a-z, ]+\) \((walstream_[a-z_]+)\) > ([\d *]+)", rule["expr"]
            )
            if m:
                value = 1.0
                for factor in m.group(2).split("*"):
                    value *= float(factor)
                found.setdefault(m.group(1), value)
    return found


def test_threshold_lines_are_the_alarms_thresholds() -> None:
    alerts = _alert_thresholds()
    lines = 0
    for panel in grafana()["panels"]:
        steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
        red = [s["value"] for s in steps if s["value"] is not None]
        if not red:
            continue
        (metric,) = {
            n for t in panel["targets"] for n in re.findall(r"\b(walstream_[a-z_]+)\b", t["expr"])
        }
        assert red == [alerts[metric]], panel["title"]
        lines += 1
    assert lines == 3
    defaults = module_evaluator("alarms", ALARM_INPUTS)
    for widget in dashboard_body()["widgets"]:
        for line in widget["properties"].get("annotations", {}).get("horizontal", []):
            ((_, metric, _, _),) = graphed_metrics(widget)
            variable = {
                "walstream_lag_bytes": "walstream_lag_bytes_threshold",
                "walstream_warehouse_unloaded_seconds": "unloaded_seconds_threshold",
                "walstream_warehouse_freshness_seconds": "final_freshness_seconds_threshold",
            }[metric]
            assert line["value"] == defaults.ref(f"var.{variable}") == alerts[metric], metric
