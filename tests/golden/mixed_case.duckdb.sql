CREATE TABLE IF NOT EXISTS "Sales"."Order Lines" (
    "Id" INTEGER NOT NULL,
    "Unit Price" DECIMAL(12,2),
    "select" VARCHAR,
    "say ""hi""" VARCHAR,
    "it's" JSON,
    "lower_case" VARCHAR,
    _walstream_lossy VARCHAR[],
    _walstream_lsn BIGINT NOT NULL,
    _walstream_seq BIGINT NOT NULL,
    _walstream_commit_ts TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS "Sales"."_walstream_staging_Order Lines" (
    _walstream_op VARCHAR,
    "Id" INTEGER,
    "Unit Price" DECIMAL(12,2),
    "select" VARCHAR,
    "say ""hi""" VARCHAR,
    "it's" VARCHAR,
    "lower_case" VARCHAR,
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

CREATE TABLE IF NOT EXISTS "Sales"."_walstream_pending_Order Lines" (
    _walstream_op VARCHAR,
    "Id" INTEGER,
    "Unit Price" DECIMAL(12,2),
    "select" VARCHAR,
    "say ""hi""" VARCHAR,
    "it's" VARCHAR,
    "lower_case" VARCHAR,
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

CREATE TABLE IF NOT EXISTS "Sales"."_walstream_changes_Order Lines" (
    _walstream_op VARCHAR,
    "Id" INTEGER,
    "Unit Price" DECIMAL(12,2),
    "select" VARCHAR,
    "say ""hi""" VARCHAR,
    "it's" JSON,
    "lower_case" VARCHAR,
    _walstream_lossy VARCHAR[],
    _walstream_lsn BIGINT,
    _walstream_seq BIGINT,
    _walstream_commit_ts TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS "Sales"."_walstream_tombstones_Order Lines" (
    "Id" INTEGER NOT NULL,
    _walstream_lsn BIGINT,
    _walstream_seq BIGINT,
    _walstream_commit_ts TIMESTAMPTZ,
    _walstream_merged_at TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS "Sales"."_walstream_truncates_Order Lines" (
    _walstream_lsn BIGINT,
    _walstream_seq BIGINT,
    _walstream_commit_ts TIMESTAMPTZ,
    _walstream_merged_at TIMESTAMPTZ
);

INSERT INTO "Sales"."_walstream_truncates_Order Lines" (_walstream_lsn, _walstream_seq, _walstream_commit_ts, _walstream_merged_at)
SELECT t._walstream_lsn, t._walstream_seq, t._walstream_commit_ts, CURRENT_TIMESTAMP
FROM (SELECT _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM "Sales"."_walstream_pending_Order Lines" WHERE _walstream_op = 'T' ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS t
LEFT JOIN (SELECT _walstream_lsn, _walstream_seq FROM "Sales"."_walstream_truncates_Order Lines" ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS w ON TRUE
WHERE w._walstream_lsn IS NULL OR (t._walstream_lsn > w._walstream_lsn OR (t._walstream_lsn = w._walstream_lsn AND t._walstream_seq > w._walstream_seq));

DELETE FROM "Sales"."_walstream_truncates_Order Lines"
USING (SELECT _walstream_lsn, _walstream_seq FROM "Sales"."_walstream_truncates_Order Lines" ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS _walstream_watermark
WHERE (_walstream_watermark._walstream_lsn > "Sales"."_walstream_truncates_Order Lines"._walstream_lsn OR (_walstream_watermark._walstream_lsn = "Sales"."_walstream_truncates_Order Lines"._walstream_lsn AND _walstream_watermark._walstream_seq > "Sales"."_walstream_truncates_Order Lines"._walstream_seq));

DELETE FROM "Sales"."Order Lines"
USING (SELECT _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM "Sales"."_walstream_pending_Order Lines" WHERE _walstream_op = 'T' ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS _walstream_truncate
WHERE (_walstream_truncate._walstream_lsn > "Sales"."Order Lines"._walstream_lsn OR (_walstream_truncate._walstream_lsn = "Sales"."Order Lines"._walstream_lsn AND _walstream_truncate._walstream_seq > "Sales"."Order Lines"._walstream_seq));

DELETE FROM "Sales"."_walstream_tombstones_Order Lines"
USING (SELECT _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM "Sales"."_walstream_pending_Order Lines" WHERE _walstream_op = 'T' ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS _walstream_truncate
WHERE (_walstream_truncate._walstream_lsn > "Sales"."_walstream_tombstones_Order Lines"._walstream_lsn OR (_walstream_truncate._walstream_lsn = "Sales"."_walstream_tombstones_Order Lines"._walstream_lsn AND _walstream_truncate._walstream_seq > "Sales"."_walstream_tombstones_Order Lines"._walstream_seq));

INSERT INTO "Sales"."_walstream_changes_Order Lines" (_walstream_op, "Id", "Unit Price", "select", "say ""hi""", "it's", "lower_case", _walstream_lossy, _walstream_lsn, _walstream_seq, _walstream_commit_ts)
WITH _walstream_watermark AS (
    SELECT _walstream_lsn, _walstream_seq
    FROM "Sales"."_walstream_truncates_Order Lines"
    ORDER BY _walstream_lsn DESC, _walstream_seq DESC
    LIMIT 1
),
_walstream_incoming AS (
    SELECT
        COALESCE(s._walstream_op, 'I') AS _walstream_op,
        s."Id",
        s."Unit Price",
        s."select",
        s."say ""hi""",
        s."it's",
        s."lower_case",
        COALESCE(s._walstream_lsn, 0) AS _walstream_lsn,
        COALESCE(s._walstream_seq, 0) AS _walstream_seq,
        s._walstream_commit_ts,
        s._walstream_unchanged,
        s._walstream_lossy,
        s._walstream_key_change,
        ROW_NUMBER() OVER (
            PARTITION BY s._walstream_lsn, s._walstream_seq,
                CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file END,
                CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file_row END
            ORDER BY s._walstream_file, s._walstream_file_row
        ) AS _walstream_copy
    FROM "Sales"."_walstream_pending_Order Lines" AS s
),
_walstream_staged AS (
    SELECT i._walstream_op, i."Id", i."Unit Price", i."select", i."say ""hi""", i."it's", i."lower_case", i._walstream_lsn, i._walstream_seq, i._walstream_commit_ts, i._walstream_unchanged, i._walstream_lossy, i._walstream_key_change
    FROM _walstream_incoming AS i
    LEFT JOIN _walstream_watermark AS w ON TRUE
    WHERE i._walstream_copy = 1
        AND i._walstream_op <> 'T'
        AND (w._walstream_lsn IS NULL OR (i._walstream_lsn > w._walstream_lsn OR (i._walstream_lsn = w._walstream_lsn AND i._walstream_seq > w._walstream_seq)))
),
_walstream_numbered AS (
    SELECT
        st._walstream_op,
        st."Id",
        st."Unit Price",
        st."select",
        st."say ""hi""",
        st."it's",
        st."lower_case",
        st._walstream_lsn,
        st._walstream_seq,
        st._walstream_commit_ts,
        st._walstream_unchanged,
        st._walstream_lossy,
        st._walstream_key_change,
        ROW_NUMBER() OVER (ORDER BY _walstream_lsn, _walstream_seq) AS _walstream_ord,
        SUM(CASE WHEN _walstream_op = 'D' THEN 1 ELSE 0 END) OVER (
            PARTITION BY "Id" ORDER BY _walstream_lsn, _walstream_seq
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) - CASE WHEN _walstream_op = 'D' THEN 1 ELSE 0 END AS _walstream_life_no
    FROM _walstream_staged AS st
),
_walstream_lived AS (
    SELECT n.*, MIN(n._walstream_ord) OVER (
        PARTITION BY n."Id", n._walstream_life_no
    ) AS _walstream_life
    FROM _walstream_numbered AS n
),
_walstream_starts AS (
    SELECT
        l._walstream_life,
        l."Id",
        l._walstream_op,
        l._walstream_lsn,
        l._walstream_seq,
        l._walstream_key_change,
        (l._walstream_life_no = 0 AND f."Id" IS NOT NULL
            AND (l._walstream_lsn > f._walstream_lsn OR (l._walstream_lsn = f._walstream_lsn AND l._walstream_seq > f._walstream_seq))) AS _walstream_continues
    FROM _walstream_lived AS l
    LEFT JOIN "Sales"."Order Lines" AS f ON f."Id" = l."Id"
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
        MAX(CASE WHEN _walstream_column = 'Unit Price' THEN 1 ELSE 0 END) AS _walstream_unchanged_0,
        MAX(CASE WHEN _walstream_column = 'select' THEN 1 ELSE 0 END) AS _walstream_unchanged_1,
        MAX(CASE WHEN _walstream_column = 'say "hi"' THEN 1 ELSE 0 END) AS _walstream_unchanged_2,
        MAX(CASE WHEN _walstream_column = 'it''s' THEN 1 ELSE 0 END) AS _walstream_unchanged_3,
        MAX(CASE WHEN _walstream_column = 'lower_case' THEN 1 ELSE 0 END) AS _walstream_unchanged_4
    FROM _walstream_unchanged_names
    GROUP BY _walstream_ord
),
_walstream_sources AS (
    SELECT
        lg.*,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_0, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_0,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_0, 0) = 0 AND lg."Unit Price" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_0,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_0, 0) = 0 THEN lg."Unit Price" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_0,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_0, 0) = 0 THEN COALESCE(list_contains(lg._walstream_lossy, 'Unit Price'), FALSE) END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_0,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_1, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_1,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_1, 0) = 0 AND lg."select" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_1,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_1, 0) = 0 THEN lg."select" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_1,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_2, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_2,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_2, 0) = 0 AND lg."say ""hi""" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_2,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_2, 0) = 0 THEN lg."say ""hi""" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_2,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_3, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_3,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_3, 0) = 0 AND lg."it's" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_3,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_3, 0) = 0 THEN lg."it's" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_3,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_4, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_4,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_4, 0) = 0 AND lg."lower_case" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_4,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_4, 0) = 0 THEN lg."lower_case" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_4
    FROM _walstream_lineaged AS lg
    LEFT JOIN _walstream_flags AS fl ON fl._walstream_ord = lg._walstream_ord
),
_walstream_winners AS (
    SELECT *
    FROM _walstream_sources
    QUALIFY ROW_NUMBER() OVER (PARTITION BY "Id" ORDER BY _walstream_ord DESC) = 1
)
SELECT
    w._walstream_op,
    w."Id",
    CASE WHEN w._walstream_source_0 IS NULL THEN b."Unit Price"
        WHEN w._walstream_nonnull_0 = w._walstream_source_0 THEN w._walstream_value_0
    END AS "Unit Price",
    CASE WHEN w._walstream_source_1 IS NULL THEN b."select"
        WHEN w._walstream_nonnull_1 = w._walstream_source_1 THEN w._walstream_value_1
    END AS "select",
    CASE WHEN w._walstream_source_2 IS NULL THEN b."say ""hi"""
        WHEN w._walstream_nonnull_2 = w._walstream_source_2 THEN w._walstream_value_2
    END AS "say ""hi""",
    CASE WHEN w._walstream_source_3 IS NULL THEN b."it's"
        WHEN w._walstream_nonnull_3 = w._walstream_source_3 THEN CAST(w._walstream_value_3 AS JSON)
    END AS "it's",
    CASE WHEN w._walstream_source_4 IS NULL THEN b."lower_case"
        WHEN w._walstream_nonnull_4 = w._walstream_source_4 THEN w._walstream_value_4
    END AS "lower_case",
    NULLIF([x FOR x IN [CASE WHEN CASE WHEN w._walstream_source_0 IS NULL THEN COALESCE(list_contains(b._walstream_lossy, 'Unit Price'), FALSE) ELSE w._walstream_lossy_0 END THEN 'Unit Price' END] IF x IS NOT NULL], []) AS _walstream_lossy,
    w._walstream_lsn,
    w._walstream_seq,
    w._walstream_commit_ts
FROM _walstream_winners AS w
JOIN _walstream_starts AS r ON r._walstream_life = w._walstream_lineage
LEFT JOIN "Sales"."Order Lines" AS b ON r._walstream_continues AND b."Id" = r."Id"
LEFT JOIN "Sales"."Order Lines" AS f ON f."Id" = w."Id"
LEFT JOIN "Sales"."_walstream_tombstones_Order Lines" AS t ON t."Id" = w."Id"
WHERE (f."Id" IS NULL OR (w._walstream_lsn > f._walstream_lsn OR (w._walstream_lsn = f._walstream_lsn AND w._walstream_seq > f._walstream_seq)))
    AND (t."Id" IS NULL OR (w._walstream_lsn > t._walstream_lsn OR (w._walstream_lsn = t._walstream_lsn AND w._walstream_seq > t._walstream_seq)));

MERGE INTO "Sales"."Order Lines" AS f
USING "Sales"."_walstream_changes_Order Lines" AS c
ON f."Id" = c."Id"
WHEN MATCHED AND c._walstream_op = 'D' AND (c._walstream_lsn > f._walstream_lsn OR (c._walstream_lsn = f._walstream_lsn AND c._walstream_seq > f._walstream_seq)) THEN DELETE
WHEN MATCHED AND c._walstream_op <> 'D' AND (c._walstream_lsn > f._walstream_lsn OR (c._walstream_lsn = f._walstream_lsn AND c._walstream_seq > f._walstream_seq)) THEN UPDATE SET
    "Unit Price" = c."Unit Price",
    "select" = c."select",
    "say ""hi""" = c."say ""hi""",
    "it's" = c."it's",
    "lower_case" = c."lower_case",
    _walstream_lossy = c._walstream_lossy,
    _walstream_lsn = c._walstream_lsn,
    _walstream_seq = c._walstream_seq,
    _walstream_commit_ts = c._walstream_commit_ts
WHEN NOT MATCHED AND c._walstream_op <> 'D' THEN INSERT ("Id", "Unit Price", "select", "say ""hi""", "it's", "lower_case", _walstream_lossy, _walstream_lsn, _walstream_seq, _walstream_commit_ts)
VALUES (c."Id", c."Unit Price", c."select", c."say ""hi""", c."it's", c."lower_case", c._walstream_lossy, c._walstream_lsn, c._walstream_seq, c._walstream_commit_ts);

MERGE INTO "Sales"."_walstream_tombstones_Order Lines" AS t
USING (SELECT "Id", _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM "Sales"."_walstream_changes_Order Lines" WHERE _walstream_op = 'D') AS c
ON t."Id" = c."Id"
WHEN MATCHED AND (c._walstream_lsn > t._walstream_lsn OR (c._walstream_lsn = t._walstream_lsn AND c._walstream_seq > t._walstream_seq)) THEN UPDATE SET
    _walstream_lsn = c._walstream_lsn, _walstream_seq = c._walstream_seq,
    _walstream_commit_ts = c._walstream_commit_ts, _walstream_merged_at = CURRENT_TIMESTAMP
WHEN NOT MATCHED THEN INSERT ("Id", _walstream_lsn, _walstream_seq, _walstream_commit_ts, _walstream_merged_at)
VALUES (c."Id", c._walstream_lsn, c._walstream_seq, c._walstream_commit_ts, CURRENT_TIMESTAMP);

DELETE FROM "Sales"."_walstream_tombstones_Order Lines"
USING "Sales"."_walstream_changes_Order Lines" AS c
WHERE c._walstream_op <> 'D' AND "Sales"."_walstream_tombstones_Order Lines"."Id" = c."Id";

DELETE FROM "Sales"."_walstream_tombstones_Order Lines"
WHERE _walstream_merged_at < CURRENT_TIMESTAMP - INTERVAL 7 DAY;

DELETE FROM "Sales"."_walstream_changes_Order Lines";
