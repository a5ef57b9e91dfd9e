# The dashboard body: locals only (no resource, no data source), so that the tests render it
# with Terraform's own `terraform console` where a terraform binary exists, and with their HCL
# evaluator everywhere, and check the two agree.
#
# Twelve graphs, two per row, in the order a change travels: the slot, the rows walstream
# stored, the files written and loaded by Snowpipe, the merge into FINAL, then failures.

locals {
  # One point per 5 minutes (the dashboard coarsens it for long time ranges).
  period = 300

  # SEARCH schema and terms: one time series per table of this slot, among the metrics with
  # exactly the dimensions Slot and table. A dashboard may use SEARCH; an alarm may not.
  per_table = "{\"${var.metrics_namespace}\",Slot,table} Slot=\"${var.slot}\""

  # CloudWatch's dynamic label: each line of a SEARCH is named after its table.
  table_label = "$${PROP('Dim.table')}"

  dashboard_widgets = [
    {
      type   = "metric"
      x      = 0
      y      = 0
      width  = 12
      height = 6
      properties = {
        title  = "Slot lag (bytes)"
        region = local.region
        view   = "timeSeries"
        stat   = "Maximum"
        period = local.period
        metrics = [
          [var.metrics_namespace, "walstream_lag_bytes", "Slot", var.slot, { label = var.slot }],
        ]
        yAxis       = { left = { min = 0, label = "bytes", showUnits = false } }
        annotations = { horizontal = [{ label = "lag alarm", value = var.walstream_lag_bytes_threshold }] }
      }
    },
    {
      type   = "metric"
      x      = 12
      y      = 0
      width  = 12
      height = 6
      properties = {
        title  = "Rows stored per table (per 5 minutes)"
        region = local.region
        view   = "timeSeries"
        stat   = "Sum"
        period = local.period
        metrics = [
          [{ id = "stored", expression = "SEARCH('${local.per_table} MetricName=\"walstream_changes_total\"', 'Sum', ${local.period})", label = local.table_label }],
        ]
        yAxis = { left = { min = 0, label = "rows", showUnits = false } }
      }
    },
    {
      type   = "metric"
      x      = 0
      y      = 6
      width  = 12
      height = 6
      properties = {
        title  = "Rows written and loaded per table"
        region = local.region
        view   = "timeSeries"
        stat   = "Maximum"
        period = local.period
        metrics = [
          [{ id = "written", expression = "SEARCH('${local.per_table} MetricName=\"walstream_warehouse_rows_written\"', 'Maximum', ${local.period})", label = "${local.table_label} written" }],
          [{ id = "loaded", expression = "SEARCH('${local.per_table} MetricName=\"walstream_warehouse_rows_loaded\"', 'Maximum', ${local.period})", label = "${local.table_label} loaded" }],
        ]
        yAxis = { left = { min = 0, label = "rows", showUnits = false } }
      }
    },
    {
      type   = "metric"
      x      = 12
      y      = 6
      width  = 12
      height = 6
      properties = {
        title  = "Files written, not loaded, per table"
        region = local.region
        view   = "timeSeries"
        stat   = "Maximum"
        period = local.period
        metrics = [
          [{ id = "unloaded", expression = "SEARCH('${local.per_table} MetricName=\"walstream_warehouse_unloaded_files\"', 'Maximum', ${local.period})", label = local.table_label }],
        ]
        yAxis = { left = { min = 0, label = "files", showUnits = false } }
      }
    },
    {
      type   = "metric"
      x      = 0
      y      = 12
      width  = 12
      height = 6
      properties = {
        title  = "Oldest file not loaded per table (seconds)"
        region = local.region
        view   = "timeSeries"
        stat   = "Maximum"
        period = local.period
        metrics = [
          [{ id = "oldest", expression = "SEARCH('${local.per_table} MetricName=\"walstream_warehouse_unloaded_seconds\"', 'Maximum', ${local.period})", label = local.table_label }],
        ]
        yAxis       = { left = { min = 0, label = "seconds", showUnits = false } }
        annotations = { horizontal = [{ label = "files-not-loaded alarm", value = var.unloaded_seconds_threshold }] }
      }
    },
    {
      type   = "metric"
      x      = 12
      y      = 12
      width  = 12
      height = 6
      properties = {
        title  = "Files failed to load per table"
        region = local.region
        view   = "timeSeries"
        stat   = "Maximum"
        period = local.period
        metrics = [
          [{ id = "failed", expression = "SEARCH('${local.per_table} MetricName=\"walstream_warehouse_failed_files\"', 'Maximum', ${local.period})", label = local.table_label }],
        ]
        yAxis = { left = { min = 0, label = "files", showUnits = false } }
      }
    },
    {
      type   = "metric"
      x      = 0
      y      = 18
      width  = 12
      height = 6
      properties = {
        title  = "Merged watermark lag per table (bytes)"
        region = local.region
        view   = "timeSeries"
        stat   = "Maximum"
        period = local.period
        metrics = [
          [{ id = "merge_lag", expression = "SEARCH('${local.per_table} MetricName=\"walstream_warehouse_watermark_lag_bytes\"', 'Maximum', ${local.period})", label = local.table_label }],
        ]
        yAxis = { left = { min = 0, label = "bytes", showUnits = false } }
      }
    },
    {
      type   = "metric"
      x      = 12
      y      = 18
      width  = 12
      height = 6
      properties = {
        title  = "FINAL freshness per table (seconds)"
        region = local.region
        view   = "timeSeries"
        stat   = "Maximum"
        period = local.period
        metrics = [
          [{ id = "freshness", expression = "SEARCH('${local.per_table} MetricName=\"walstream_warehouse_freshness_seconds\"', 'Maximum', ${local.period})", label = local.table_label }],
        ]
        yAxis       = { left = { min = 0, label = "seconds", showUnits = false } }
        annotations = { horizontal = [{ label = "final-freshness alarm", value = var.final_freshness_seconds_threshold }] }
      }
    },
    {
      type   = "metric"
      x      = 0
      y      = 24
      width  = 12
      height = 6
      properties = {
        title  = "Watermark waiting for a file per table (seconds)"
        region = local.region
        view   = "timeSeries"
        stat   = "Maximum"
        period = local.period
        metrics = [
          [{ id = "waiting", expression = "SEARCH('${local.per_table} MetricName=\"walstream_warehouse_waiting_seconds\"', 'Maximum', ${local.period})", label = local.table_label }],
        ]
        yAxis = { left = { min = 0, label = "seconds", showUnits = false } }
      }
    },
    {
      type   = "metric"
      x      = 12
      y      = 24
      width  = 12
      height = 6
      properties = {
        title  = "Failed MERGE task runs per table"
        region = local.region
        view   = "timeSeries"
        stat   = "Maximum"
        period = local.period
        metrics = [
          [{ id = "failed_runs", expression = "SEARCH('${local.per_table} MetricName=\"walstream_warehouse_failed_task_runs\"', 'Maximum', ${local.period})", label = local.table_label }],
        ]
        yAxis = { left = { min = 0, label = "runs", showUnits = false } }
      }
    },
    {
      type   = "metric"
      x      = 0
      y      = 30
      width  = 12
      height = 6
      properties = {
        title  = "Errors and retries, all kinds (per 5 minutes)"
        region = local.region
        view   = "timeSeries"
        stat   = "Sum"
        period = local.period
        metrics = [
          [var.metrics_namespace, "walstream_errors_total", "Slot", var.slot, { label = var.slot }],
        ]
        yAxis = { left = { min = 0, label = "errors", showUnits = false } }
      }
    },
    {
      type   = "metric"
      x      = 12
      y      = 30
      width  = 12
      height = 6
      properties = {
        title  = "Warehouse monitor"
        region = local.region
        view   = "timeSeries"
        stat   = "Minimum"
        period = local.period
        metrics = [
          [var.metrics_namespace, "walstream_warehouse_monitor_up", "Slot", var.slot, { id = "up", label = "1: the last read of the warehouse succeeded" }],
          [var.metrics_namespace, "walstream_warehouse_monitor_last_success_timestamp_seconds", "Slot", var.slot, { id = "last_success", stat = "Maximum", visible = false }],
          [{ id = "age", expression = "EPOCH(last_success) - last_success", label = "seconds since the last successful read", yAxis = "right" }],
        ]
        yAxis = { left = { min = 0, max = 1, label = "up", showUnits = false }, right = { min = 0, label = "seconds", showUnits = false } }
      }
    },
  ]

  dashboard_body = jsonencode({
    start          = "-PT12H"
    periodOverride = "auto"
    widgets        = local.dashboard_widgets
  })
}
