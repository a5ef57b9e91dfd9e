CREATE TABLE IF NOT EXISTS "public"."order_lines" (
    "order_id" BIGINT NOT NULL,
    "line_no" INTEGER NOT NULL,
    "sku" VARCHAR,
    "qty" INTEGER,
    "note" VARCHAR,
    _walstream_lossy VARCHAR[],
    _walstream_lsn BIGINT NOT NULL,
    _walstream_seq BIGINT NOT NULL,
    _walstream_commit_ts TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS "public"."_walstream_staging_order_lines" (
    _walstream_op VARCHAR,
    "order_id" BIGINT,
    "line_no" INTEGER,
    "sku" VARCHAR,
    "qty" INTEGER,
    "note" VARCHAR,
    _walstream_commit_ts TIMESTAMPTZ,
    _walstream_lsn BIGINT,
    _walstream_seq BIGINT,
    _walstream_xid BIGINT,
    _walstream_unchanged VARCHAR[],
    _walstream_lossy VARCHAR[],
    _walstream_key_change BOOLEAN,
    _walstream_file VARCHAR,
    _walstream_file_row BIGINT
);

CREATE TABLE IF NOT EXISTS "public"."_walstream_pending_order_lines" (
    _walstream_op VARCHAR,
    "order_id" BIGINT,
    "line_no" INTEGER,
    "sku" VARCHAR,
    "qty" INTEGER,
    "note" VARCHAR,
    _walstream_commit_ts TIMESTAMPTZ,
    _walstream_lsn BIGINT,
    _walstream_seq BIGINT,
    _walstream_xid BIGINT,
    _walstream_unchanged VARCHAR[],
    _walstream_lossy VARCHAR[],
    _walstream_key_change BOOLEAN,
    _walstream_file VARCHAR,
    _walstream_file_row BIGINT
);

CREATE TABLE IF NOT EXISTS "public"."_walstream_changes_order_lines" (
    _walstream_op VARCHAR,
    "order_id" BIGINT,
    "line_no" INTEGER,
    "sku" VARCHAR,
    "qty" INTEGER,
    "note" VARCHAR,
    _walstream_lossy VARCHAR[],
    _walstream_lsn BIGINT,
    _walstream_seq BIGINT,
    _walstream_commit_ts TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS "public"."_walstream_tombstones_order_lines" (
    "order_id" BIGINT NOT NULL,
    "line_no" INTEGER NOT NULL,
    _walstream_lsn BIGINT,
    _walstream_seq BIGINT,
    _walstream_commit_ts TIMESTAMPTZ,
    _walstream_merged_at TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS "public"."_walstream_truncates_order_lines" (
    _walstream_lsn BIGINT,
    _walstream_seq BIGINT,
    _walstream_commit_ts TIMESTAMPTZ,
    _walstream_merged_at TIMESTAMPTZ
);

INSERT INTO "public"."_walstream_truncates_order_lines" (_walstream_lsn, _walstream_seq, _walstream_commit_ts, _walstream_merged_at)
SELECT t._walstream_lsn, t._walstream_seq, t._walstream_commit_ts, CURRENT_TIMESTAMP
FROM (SELECT _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM "public"."_walstream_pending_order_lines" WHERE _walstream_op = 'T' ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS t
LEFT JOIN (SELECT _walstream_lsn, _walstream_seq FROM "public"."_walstream_truncates_order_lines" ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS w ON TRUE
WHERE w._walstream_lsn IS NULL OR (t._walstream_lsn > w._walstream_lsn OR (t._walstream_lsn = w._walstream_lsn AND t._walstream_seq > w._walstream_seq));

DELETE FROM "public"."_walstream_truncates_order_lines"
USING (SELECT _walstream_lsn, _walstream_seq FROM "public"."_walstream_truncates_order_lines" ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS _walstream_watermark
WHERE (_walstream_watermark._walstream_lsn > "public"."_walstream_truncates_order_lines"._walstream_lsn OR (_walstream_watermark._walstream_lsn = "public"."_walstream_truncates_order_lines"._walstream_lsn AND _walstream_watermark._walstream_seq > "public"."_walstream_truncates_order_lines"._walstream_seq));

DELETE FROM "public"."order_lines"
USING (SELECT _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM "public"."_walstream_pending_order_lines" WHERE _walstream_op = 'T' ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS _walstream_truncate
WHERE (_walstream_truncate._walstream_lsn > "public"."order_lines"._walstream_lsn OR (_walstream_truncate._walstream_lsn = "public"."order_lines"._walstream_lsn AND _walstream_truncate._walstream_seq > "public"."order_lines"._walstream_seq));

DELETE FROM "public"."_walstream_tombstones_order_lines"
USING (SELECT _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM "public"."_walstream_pending_order_lines" WHERE _walstream_op = 'T' ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS _walstream_truncate
WHERE (_walstream_truncate._walstream_lsn > "public"."_walstream_tombstones_order_lines"._walstream_lsn OR (_walstream_truncate._walstream_lsn = "public"."_walstream_tombstones_order_lines"._walstream_lsn AND _walstream_truncate._walstream_seq > "public"."_walstream_tombstones_order_lines"._walstream_seq));

INSERT INTO "public"."_walstream_changes_order_lines" (_walstream_op, "order_id", "line_no", "sku", "qty", "note", _walstream_lossy, _walstream_lsn, _walstream_seq, _walstream_commit_ts)
WITH _walstream_watermark AS (
    SELECT _walstream_lsn, _walstream_seq
    FROM "public"."_walstream_truncates_order_lines"
    ORDER BY _walstream_lsn DESC, _walstream_seq DESC
    LIMIT 1
),
_walstream_incoming AS (
    SELECT
        COALESCE(s._walstream_op, 'I') AS _walstream_op,
        s."order_id",
        s."line_no",
        s."sku",
        s."qty",
        s."note",
        COALESCE(s._walstream_lsn, 0) AS _walstream_lsn,
        COALESCE(s._walstream_seq, 0) AS _walstream_seq,
        s._walstream_commit_ts,
        s._walstream_unchanged,
        s._walstream_key_change,
        ROW_NUMBER() OVER (
            PARTITION BY s._walstream_lsn, s._walstream_seq,
                CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file END,
                CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file_row END
            ORDER BY s._walstream_file, s._walstream_file_row
        ) AS _walstream_copy
    FROM "public"."_walstream_pending_order_lines" AS s
),
_walstream_staged AS (
    SELECT i._walstream_op, i."order_id", i."line_no", i."sku", i."qty", i."note", i._walstream_lsn, i._walstream_seq, i._walstream_commit_ts, i._walstream_unchanged, i._walstream_key_change
    FROM _walstream_incoming AS i
    LEFT JOIN _walstream_watermark AS w ON TRUE
    WHERE i._walstream_copy = 1
        AND i._walstream_op <> 'T'
        AND (w._walstream_lsn IS NULL OR (i._walstream_lsn > w._walstream_lsn OR (i._walstream_lsn = w._walstream_lsn AND i._walstream_seq > w._walstream_seq)))
),
_walstream_numbered AS (
    SELECT
        st._walstream_op,
        st."order_id",
        st."line_no",
        st."sku",
        st."qty",
        st."note",
        st._walstream_lsn,
        st._walstream_seq,
        st._walstream_commit_ts,
        st._walstream_unchanged,
        st._walstream_key_change,
        ROW_NUMBER() OVER (ORDER BY _walstream_lsn, _walstream_seq) AS _walstream_ord,
        SUM(CASE WHEN _walstream_op = 'D' THEN 1 ELSE 0 END) OVER (
            PARTITION BY "order_id", "line_no" ORDER BY _walstream_lsn, _walstream_seq
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) - CASE WHEN _walstream_op = 'D' THEN 1 ELSE 0 END AS _walstream_life_no
    FROM _walstream_staged AS st
),
_walstream_lived AS (
    SELECT n.*, MIN(n._walstream_ord) OVER (
        PARTITION BY n."order_id", n."line_no", n._walstream_life_no
    ) AS _walstream_life
    FROM _walstream_numbered AS n
),
_walstream_starts AS (
    SELECT
        l._walstream_life,
        l."order_id",
        l."line_no",
        l._walstream_op,
        l._walstream_lsn,
        l._walstream_seq,
        l._walstream_key_change,
        (l._walstream_life_no = 0 AND f."order_id" IS NOT NULL
            AND (l._walstream_lsn > f._walstream_lsn OR (l._walstream_lsn = f._walstream_lsn AND l._walstream_seq > f._walstream_seq))) AS _walstream_continues
    FROM _walstream_lived AS l
    LEFT JOIN "public"."order_lines" AS f ON f."order_id" = l."order_id" AND f."line_no" = l."line_no"
    WHERE l._walstream_ord = l._walstream_life
),
_walstream_links AS (
    SELECT s._walstream_life, d._walstream_life AS _walstream_root
    FROM _walstream_starts AS s
    JOIN _walstream_lived AS d
        ON d._walstream_lsn = s._walstream_lsn
        AND d._walstream_seq = s._walstream_seq - 1
    WHERE s._walstream_op = 'U' AND d._walstream_op = 'D'
        AND s._walstream_key_change AND d._walstream_key_change
),
_walstream_hops_1 AS (
    SELECT a._walstream_life, COALESCE(b._walstream_root, a._walstream_root) AS _walstream_root
    FROM _walstream_links AS a
    LEFT JOIN _walstream_links AS b ON b._walstream_life = a._walstream_root
),
_walstream_hops_2 AS (
    SELECT a._walstream_life, COALESCE(b._walstream_root, a._walstream_root) AS _walstream_root
    FROM _walstream_hops_1 AS a
    LEFT JOIN _walstream_hops_1 AS b ON b._walstream_life = a._walstream_root
),
_walstream_hops_3 AS (
    SELECT a._walstream_life, COALESCE(b._walstream_root, a._walstream_root) AS _walstream_root
    FROM _walstream_hops_2 AS a
    LEFT JOIN _walstream_hops_2 AS b ON b._walstream_life = a._walstream_root
),
_walstream_hops_4 AS (
    SELECT a._walstream_life, COALESCE(b._walstream_root, a._walstream_root) AS _walstream_root
    FROM _walstream_hops_3 AS a
    LEFT JOIN _walstream_hops_3 AS b ON b._walstream_life = a._walstream_root
),
_walstream_hops_5 AS (
    SELECT a._walstream_life, COALESCE(b._walstream_root, a._walstream_root) AS _walstream_root
    FROM _walstream_hops_4 AS a
    LEFT JOIN _walstream_hops_4 AS b ON b._walstream_life = a._walstream_root
),
_walstream_hops_6 AS (
    SELECT a._walstream_life, COALESCE(b._walstream_root, a._walstream_root) AS _walstream_root
    FROM _walstream_hops_5 AS a
    LEFT JOIN _walstream_hops_5 AS b ON b._walstream_life = a._walstream_root
),
_walstream_hops_7 AS (
    SELECT a._walstream_life, COALESCE(b._walstream_root, a._walstream_root) AS _walstream_root
    FROM _walstream_hops_6 AS a
    LEFT JOIN _walstream_hops_6 AS b ON b._walstream_life = a._walstream_root
),
_walstream_hops_8 AS (
    SELECT a._walstream_life, COALESCE(b._walstream_root, a._walstream_root) AS _walstream_root
    FROM _walstream_hops_7 AS a
    LEFT JOIN _walstream_hops_7 AS b ON b._walstream_life = a._walstream_root
),
_walstream_hops_9 AS (
    SELECT a._walstream_life, COALESCE(b._walstream_root, a._walstream_root) AS _walstream_root
    FROM _walstream_hops_8 AS a
    LEFT JOIN _walstream_hops_8 AS b ON b._walstream_life = a._walstream_root
),
_walstream_hops_10 AS (
    SELECT a._walstream_life, COALESCE(b._walstream_root, a._walstream_root) AS _walstream_root
    FROM _walstream_hops_9 AS a
    LEFT JOIN _walstream_hops_9 AS b ON b._walstream_life = a._walstream_root
),
_walstream_hops_11 AS (
    SELECT a._walstream_life, COALESCE(b._walstream_root, a._walstream_root) AS _walstream_root
    FROM _walstream_hops_10 AS a
    LEFT JOIN _walstream_hops_10 AS b ON b._walstream_life = a._walstream_root
),
_walstream_hops_12 AS (
    SELECT a._walstream_life, COALESCE(b._walstream_root, a._walstream_root) AS _walstream_root
    FROM _walstream_hops_11 AS a
    LEFT JOIN _walstream_hops_11 AS b ON b._walstream_life = a._walstream_root
),
_walstream_hops_13 AS (
    SELECT a._walstream_life, COALESCE(b._walstream_root, a._walstream_root) AS _walstream_root
    FROM _walstream_hops_12 AS a
    LEFT JOIN _walstream_hops_12 AS b ON b._walstream_life = a._walstream_root
),
_walstream_hops_14 AS (
    SELECT a._walstream_life, COALESCE(b._walstream_root, a._walstream_root) AS _walstream_root
    FROM _walstream_hops_13 AS a
    LEFT JOIN _walstream_hops_13 AS b ON b._walstream_life = a._walstream_root
),
_walstream_hops_15 AS (
    SELECT a._walstream_life, COALESCE(b._walstream_root, a._walstream_root) AS _walstream_root
    FROM _walstream_hops_14 AS a
    LEFT JOIN _walstream_hops_14 AS b ON b._walstream_life = a._walstream_root
),
_walstream_hops_16 AS (
    SELECT a._walstream_life, COALESCE(b._walstream_root, a._walstream_root) AS _walstream_root
    FROM _walstream_hops_15 AS a
    LEFT JOIN _walstream_hops_15 AS b ON b._walstream_life = a._walstream_root
),
_walstream_lineaged AS (
    SELECT l.*, COALESCE(h._walstream_root, l._walstream_life) AS _walstream_lineage
    FROM _walstream_lived AS l
    LEFT JOIN _walstream_hops_16 AS h ON h._walstream_life = l._walstream_life
),
_walstream_unchanged_names AS (
    SELECT n._walstream_ord, UNNEST(n._walstream_unchanged) AS _walstream_column
    FROM _walstream_numbered AS n
),
_walstream_flags AS (
    SELECT
        _walstream_ord,
        MAX(CASE WHEN _walstream_column = 'sku' THEN 1 ELSE 0 END) AS _walstream_unchanged_0,
        MAX(CASE WHEN _walstream_column = 'note' THEN 1 ELSE 0 END) AS _walstream_unchanged_1
    FROM _walstream_unchanged_names
    GROUP BY _walstream_ord
),
_walstream_sources AS (
    SELECT
        lg.*,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_0, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_0,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_0, 0) = 0 AND lg."sku" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_0,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_0, 0) = 0 THEN lg."sku" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_0,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_1, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_1,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_1, 0) = 0 AND lg."note" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_1,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_1, 0) = 0 THEN lg."note" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_1
    FROM _walstream_lineaged AS lg
    LEFT JOIN _walstream_flags AS fl ON fl._walstream_ord = lg._walstream_ord
),
_walstream_winners AS (
    SELECT *
    FROM _walstream_sources
    QUALIFY ROW_NUMBER() OVER (PARTITION BY "order_id", "line_no" ORDER BY _walstream_ord DESC) = 1
)
SELECT
    w._walstream_op,
    w."order_id",
    w."line_no",
    CASE WHEN w._walstream_source_0 IS NULL THEN b."sku"
        WHEN w._walstream_nonnull_0 = w._walstream_source_0 THEN w._walstream_value_0
    END AS "sku",
    w."qty",
    CASE WHEN w._walstream_source_1 IS NULL THEN b."note"
        WHEN w._walstream_nonnull_1 = w._walstream_source_1 THEN w._walstream_value_1
    END AS "note",
    CAST(NULL AS VARCHAR[]) AS _walstream_lossy,
    w._walstream_lsn,
    w._walstream_seq,
    w._walstream_commit_ts
FROM _walstream_winners AS w
JOIN _walstream_starts AS r ON r._walstream_life = w._walstream_lineage
LEFT JOIN "public"."order_lines" AS b ON r._walstream_continues AND b."order_id" = r."order_id" AND b."line_no" = r."line_no"
LEFT JOIN "public"."order_lines" AS f ON f."order_id" = w."order_id" AND f."line_no" = w."line_no"
LEFT JOIN "public"."_walstream_tombstones_order_lines" AS t ON t."order_id" = w."order_id" AND t."line_no" = w."line_no"
WHERE (f."order_id" IS NULL OR (w._walstream_lsn > f._walstream_lsn OR (w._walstream_lsn = f._walstream_lsn AND w._walstream_seq > f._walstream_seq)))
    AND (t."order_id" IS NULL OR (w._walstream_lsn > t._walstream_lsn OR (w._walstream_lsn = t._walstream_lsn AND w._walstream_seq > t._walstream_seq)));

MERGE INTO "public"."order_lines" AS f
USING "public"."_walstream_changes_order_lines" AS c
ON f."order_id" = c."order_id" AND f."line_no" = c."line_no"
WHEN MATCHED AND c._walstream_op = 'D' AND (c._walstream_lsn > f._walstream_lsn OR (c._walstream_lsn = f._walstream_lsn AND c._walstream_seq > f._walstream_seq)) THEN DELETE
WHEN MATCHED AND c._walstream_op <> 'D' AND (c._walstream_lsn > f._walstream_lsn OR (c._walstream_lsn = f._walstream_lsn AND c._walstream_seq > f._walstream_seq)) THEN UPDATE SET
    "sku" = c."sku",
    "qty" = c."qty",
    "note" = c."note",
    _walstream_lossy = c._walstream_lossy,
    _walstream_lsn = c._walstream_lsn,
    _walstream_seq = c._walstream_seq,
    _walstream_commit_ts = c._walstream_commit_ts
WHEN NOT MATCHED AND c._walstream_op <> 'D' THEN INSERT ("order_id", "line_no", "sku", "qty", "note", _walstream_lossy, _walstream_lsn, _walstream_seq, _walstream_commit_ts)
VALUES (c."order_id", c."line_no", c."sku", c."qty", c."note", c._walstream_lossy, c._walstream_lsn, c._walstream_seq, c._walstream_commit_ts);

MERGE INTO "public"."_walstream_tombstones_order_lines" AS t
USING (SELECT "order_id", "line_no", _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM "public"."_walstream_changes_order_lines" WHERE _walstream_op = 'D') AS c
ON t."order_id" = c."order_id" AND t."line_no" = c."line_no"
WHEN MATCHED AND (c._walstream_lsn > t._walstream_lsn OR (c._walstream_lsn = t._walstream_lsn AND c._walstream_seq > t._walstream_seq)) THEN UPDATE SET
    _walstream_lsn = c._walstream_lsn, _walstream_seq = c._walstream_seq,
    _walstream_commit_ts = c._walstream_commit_ts, _walstream_merged_at = CURRENT_TIMESTAMP
WHEN NOT MATCHED THEN INSERT ("order_id", "line_no", _walstream_lsn, _walstream_seq, _walstream_commit_ts, _walstream_merged_at)
VALUES (c."order_id", c."line_no", c._walstream_lsn, c._walstream_seq, c._walstream_commit_ts, CURRENT_TIMESTAMP);

DELETE FROM "public"."_walstream_tombstones_order_lines"
USING "public"."_walstream_changes_order_lines" AS c
WHERE c._walstream_op <> 'D' AND "public"."_walstream_tombstones_order_lines"."order_id" = c."order_id" AND "public"."_walstream_tombstones_order_lines"."line_no" = c."line_no";

DELETE FROM "public"."_walstream_tombstones_order_lines"
WHERE _walstream_merged_at < CURRENT_TIMESTAMP - INTERVAL 7 DAY;

DELETE FROM "public"."_walstream_changes_order_lines";
