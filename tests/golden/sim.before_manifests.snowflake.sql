-- walstream's generated Snowflake objects for the simulated table public.sim, as the release
-- before manifests generated them (kept to test `snowflake apply` upgrading them in place).

-- kind: file_format
CREATE FILE FORMAT IF NOT EXISTS WALSTREAM_PARQUET
    TYPE = PARQUET
    BINARY_AS_TEXT = FALSE
    USE_LOGICAL_TYPE = TRUE
    USE_VECTORIZED_SCANNER = TRUE;

-- kind: stage
CREATE STAGE IF NOT EXISTS WALSTREAM_STAGE
    URL = 'file:///DEST/'
    FILE_FORMAT = (FORMAT_NAME = 'WALSTREAM_PARQUET');

-- kind: table
CREATE TABLE IF NOT EXISTS "SIM" (
    "ID" NUMBER(10,0) NOT NULL,
    "LABEL" VARCHAR,
    "N" NUMBER(19,0),
    "BIG" VARCHAR,
    "DOC" VARIANT,
    _walstream_lsn NUMBER(19,0) NOT NULL,
    _walstream_seq NUMBER(19,0) NOT NULL,
    _walstream_commit_ts TIMESTAMP_TZ(6),
    PRIMARY KEY ("ID")
);

-- kind: table
CREATE TABLE IF NOT EXISTS "STAGING_SIM" (
    _walstream_op VARCHAR,
    "ID" NUMBER(10,0),
    "LABEL" VARCHAR,
    "N" NUMBER(19,0),
    "BIG" VARCHAR,
    "DOC" VARCHAR,
    _walstream_commit_ts TIMESTAMP_TZ(6),
    _walstream_lsn NUMBER(19,0),
    _walstream_seq NUMBER(19,0),
    _walstream_xid NUMBER(19,0),
    _walstream_unchanged ARRAY,
    _walstream_file VARCHAR,
    _walstream_file_row NUMBER(19,0)
);

-- kind: table
CREATE TRANSIENT TABLE IF NOT EXISTS "CHANGES_SIM" (
    _walstream_op VARCHAR,
    "ID" NUMBER(10,0),
    "LABEL" VARCHAR,
    "N" NUMBER(19,0),
    "BIG" VARCHAR,
    "DOC" VARIANT,
    _walstream_lsn NUMBER(19,0),
    _walstream_seq NUMBER(19,0),
    _walstream_commit_ts TIMESTAMP_TZ(6)
);

-- kind: table
CREATE TABLE IF NOT EXISTS "TOMBSTONES_SIM" (
    "ID" NUMBER(10,0) NOT NULL,
    _walstream_lsn NUMBER(19,0),
    _walstream_seq NUMBER(19,0),
    _walstream_commit_ts TIMESTAMP_TZ(6),
    _walstream_merged_at TIMESTAMP_TZ(6),
    PRIMARY KEY ("ID")
);

-- kind: table
CREATE TABLE IF NOT EXISTS "TRUNCATES_SIM" (
    _walstream_lsn NUMBER(19,0),
    _walstream_seq NUMBER(19,0),
    _walstream_commit_ts TIMESTAMP_TZ(6),
    _walstream_merged_at TIMESTAMP_TZ(6)
);

-- kind: stream
CREATE STREAM IF NOT EXISTS "STAGING_SIM_STREAM"
    ON TABLE "STAGING_SIM"
    APPEND_ONLY = TRUE;

-- kind: pipe
CREATE PIPE IF NOT EXISTS "STAGING_SIM_PIPE"
    AUTO_INGEST = TRUE
AS
COPY INTO "STAGING_SIM" (
    _walstream_op,
    "ID",
    "LABEL",
    "N",
    "BIG",
    "DOC",
    _walstream_commit_ts,
    _walstream_lsn,
    _walstream_seq,
    _walstream_xid,
    _walstream_unchanged,
    _walstream_file,
    _walstream_file_row
)
FROM (
    SELECT
        $1:"Op"::VARCHAR,
        $1:"id"::NUMBER(10,0),
        $1:"label"::VARCHAR,
        $1:"n"::NUMBER(19,0),
        $1:"big"::VARCHAR,
        $1:"doc"::VARCHAR,
        $1:"_walstream_commit_ts"::TIMESTAMP_TZ(6),
        $1:"_walstream_lsn"::NUMBER(19,0),
        $1:"_walstream_seq"::NUMBER(19,0),
        $1:"_walstream_xid"::NUMBER(19,0),
        $1:"_walstream_unchanged"::ARRAY,
        METADATA$FILENAME,
        METADATA$FILE_ROW_NUMBER
    FROM @WALSTREAM_STAGE/public/sim/
)
FILE_FORMAT = (FORMAT_NAME = 'WALSTREAM_PARQUET');

-- kind: pipe_refresh
ALTER PIPE "STAGING_SIM_PIPE" REFRESH;

-- kind: task
CREATE OR REPLACE TASK "MERGE_SIM"
    USER_TASK_MANAGED_INITIAL_WAREHOUSE_SIZE = 'XSMALL'
    SCHEDULE = '1 MINUTE'
    WHEN SYSTEM$STREAM_HAS_DATA('"STAGING_SIM_STREAM"')
AS
EXECUTE IMMEDIATE $$
BEGIN
    BEGIN TRANSACTION;
    INSERT INTO "TRUNCATES_SIM" (_walstream_lsn, _walstream_seq, _walstream_commit_ts, _walstream_merged_at)
    SELECT t._walstream_lsn, t._walstream_seq, t._walstream_commit_ts, CURRENT_TIMESTAMP()
    FROM (SELECT _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM "STAGING_SIM_STREAM" WHERE _walstream_op = 'T' ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS t
    LEFT JOIN (SELECT _walstream_lsn, _walstream_seq FROM "TRUNCATES_SIM" ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS w ON TRUE
    WHERE w._walstream_lsn IS NULL OR (t._walstream_lsn > w._walstream_lsn OR (t._walstream_lsn = w._walstream_lsn AND t._walstream_seq > w._walstream_seq));
    DELETE FROM "TRUNCATES_SIM"
    USING (SELECT _walstream_lsn, _walstream_seq FROM "TRUNCATES_SIM" ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS _walstream_watermark
    WHERE (_walstream_watermark._walstream_lsn > "TRUNCATES_SIM"._walstream_lsn OR (_walstream_watermark._walstream_lsn = "TRUNCATES_SIM"._walstream_lsn AND _walstream_watermark._walstream_seq > "TRUNCATES_SIM"._walstream_seq));
    DELETE FROM "SIM"
    USING (SELECT _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM "STAGING_SIM_STREAM" WHERE _walstream_op = 'T' ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS _walstream_truncate
    WHERE (_walstream_truncate._walstream_lsn > "SIM"._walstream_lsn OR (_walstream_truncate._walstream_lsn = "SIM"._walstream_lsn AND _walstream_truncate._walstream_seq > "SIM"._walstream_seq));
    DELETE FROM "TOMBSTONES_SIM"
    USING (SELECT _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM "STAGING_SIM_STREAM" WHERE _walstream_op = 'T' ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS _walstream_truncate
    WHERE (_walstream_truncate._walstream_lsn > "TOMBSTONES_SIM"._walstream_lsn OR (_walstream_truncate._walstream_lsn = "TOMBSTONES_SIM"._walstream_lsn AND _walstream_truncate._walstream_seq > "TOMBSTONES_SIM"._walstream_seq));
    INSERT INTO "CHANGES_SIM" (_walstream_op, "ID", "LABEL", "N", "BIG", "DOC", _walstream_lsn, _walstream_seq, _walstream_commit_ts)
    WITH _walstream_watermark AS (
        SELECT _walstream_lsn, _walstream_seq
        FROM "TRUNCATES_SIM"
        ORDER BY _walstream_lsn DESC, _walstream_seq DESC
        LIMIT 1
    ),
    _walstream_incoming AS (
        SELECT
            COALESCE(s._walstream_op, 'I') AS _walstream_op,
            s."ID",
            s."LABEL",
            s."N",
            s."BIG",
            s."DOC",
            COALESCE(s._walstream_lsn, 0) AS _walstream_lsn,
            COALESCE(s._walstream_seq, 0) AS _walstream_seq,
            s._walstream_commit_ts,
            s._walstream_unchanged,
            ROW_NUMBER() OVER (
                PARTITION BY s._walstream_lsn, s._walstream_seq,
                    CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file END,
                    CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file_row END
                ORDER BY s._walstream_file, s._walstream_file_row
            ) AS _walstream_copy
        FROM "STAGING_SIM_STREAM" AS s
    ),
    _walstream_staged AS (
        SELECT i._walstream_op, i."ID", i."LABEL", i."N", i."BIG", i."DOC", i._walstream_lsn, i._walstream_seq, i._walstream_commit_ts, i._walstream_unchanged
        FROM _walstream_incoming AS i
        LEFT JOIN _walstream_watermark AS w ON TRUE
        WHERE i._walstream_copy = 1
            AND i._walstream_op <> 'T'
            AND (w._walstream_lsn IS NULL OR (i._walstream_lsn > w._walstream_lsn OR (i._walstream_lsn = w._walstream_lsn AND i._walstream_seq > w._walstream_seq)))
    ),
    _walstream_numbered AS (
        SELECT
            st._walstream_op,
            st."ID",
            st."LABEL",
            st."N",
            st."BIG",
            st."DOC",
            st._walstream_lsn,
            st._walstream_seq,
            st._walstream_commit_ts,
            st._walstream_unchanged,
            ROW_NUMBER() OVER (ORDER BY _walstream_lsn, _walstream_seq) AS _walstream_ord,
            SUM(CASE WHEN _walstream_op = 'D' THEN 1 ELSE 0 END) OVER (
                PARTITION BY "ID" ORDER BY _walstream_lsn, _walstream_seq
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) - CASE WHEN _walstream_op = 'D' THEN 1 ELSE 0 END AS _walstream_life_no
        FROM _walstream_staged AS st
    ),
    _walstream_lived AS (
        SELECT n.*, MIN(n._walstream_ord) OVER (
            PARTITION BY n."ID", n._walstream_life_no
        ) AS _walstream_life
        FROM _walstream_numbered AS n
    ),
    _walstream_starts AS (
        SELECT
            l._walstream_life,
            l."ID",
            l._walstream_op,
            l._walstream_lsn,
            l._walstream_seq,
            (l._walstream_life_no = 0 AND f."ID" IS NOT NULL
                AND (l._walstream_lsn > f._walstream_lsn OR (l._walstream_lsn = f._walstream_lsn AND l._walstream_seq > f._walstream_seq))) AS _walstream_continues
        FROM _walstream_lived AS l
        LEFT JOIN "SIM" AS f ON f."ID" = l."ID"
        WHERE l._walstream_ord = l._walstream_life
    ),
    _walstream_links AS (
        SELECT s._walstream_life, d._walstream_life AS _walstream_root
        FROM _walstream_starts AS s
        JOIN _walstream_lived AS d
            ON d._walstream_lsn = s._walstream_lsn
            AND d._walstream_seq = s._walstream_seq - 1
        WHERE s._walstream_op = 'U' AND d._walstream_op = 'D' AND NOT s._walstream_continues
            AND NOT (d."ID" = s."ID")
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
        SELECT n._walstream_ord, u.value::VARCHAR AS _walstream_column
        FROM _walstream_numbered AS n, LATERAL FLATTEN(INPUT => n._walstream_unchanged) AS u
    ),
    _walstream_flags AS (
        SELECT
            _walstream_ord,
            MAX(CASE WHEN _walstream_column = 'label' THEN 1 ELSE 0 END) AS _walstream_unchanged_0,
            MAX(CASE WHEN _walstream_column = 'big' THEN 1 ELSE 0 END) AS _walstream_unchanged_1,
            MAX(CASE WHEN _walstream_column = 'doc' THEN 1 ELSE 0 END) AS _walstream_unchanged_2
        FROM _walstream_unchanged_names
        GROUP BY _walstream_ord
    ),
    _walstream_sources AS (
        SELECT
            lg.*,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_0, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_0,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_0, 0) = 0 AND lg."LABEL" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_0,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_0, 0) = 0 THEN lg."LABEL" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_0,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_1, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_1,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_1, 0) = 0 AND lg."BIG" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_1,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_1, 0) = 0 THEN lg."BIG" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_1,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_2, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_2,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_2, 0) = 0 AND lg."DOC" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_2,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_2, 0) = 0 THEN lg."DOC" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_2
        FROM _walstream_lineaged AS lg
        LEFT JOIN _walstream_flags AS fl ON fl._walstream_ord = lg._walstream_ord
    ),
    _walstream_winners AS (
        SELECT *
        FROM _walstream_sources
        QUALIFY ROW_NUMBER() OVER (PARTITION BY "ID" ORDER BY _walstream_ord DESC) = 1
    )
    SELECT
        w._walstream_op,
        w."ID",
        CASE WHEN w._walstream_source_0 IS NULL THEN b."LABEL"
            WHEN w._walstream_nonnull_0 = w._walstream_source_0 THEN w._walstream_value_0
        END AS "LABEL",
        w."N",
        CASE WHEN w._walstream_source_1 IS NULL THEN b."BIG"
            WHEN w._walstream_nonnull_1 = w._walstream_source_1 THEN w._walstream_value_1
        END AS "BIG",
        CASE WHEN w._walstream_source_2 IS NULL THEN b."DOC"
            WHEN w._walstream_nonnull_2 = w._walstream_source_2 THEN PARSE_JSON(w._walstream_value_2)
        END AS "DOC",
        w._walstream_lsn,
        w._walstream_seq,
        w._walstream_commit_ts
    FROM _walstream_winners AS w
    JOIN _walstream_starts AS r ON r._walstream_life = w._walstream_lineage
    LEFT JOIN "SIM" AS b ON r._walstream_continues AND b."ID" = r."ID"
    LEFT JOIN "SIM" AS f ON f."ID" = w."ID"
    LEFT JOIN "TOMBSTONES_SIM" AS t ON t."ID" = w."ID"
    WHERE (f."ID" IS NULL OR (w._walstream_lsn > f._walstream_lsn OR (w._walstream_lsn = f._walstream_lsn AND w._walstream_seq > f._walstream_seq)))
        AND (t."ID" IS NULL OR (w._walstream_lsn > t._walstream_lsn OR (w._walstream_lsn = t._walstream_lsn AND w._walstream_seq > t._walstream_seq)));
    MERGE INTO "SIM" AS f
    USING "CHANGES_SIM" AS c
    ON f."ID" = c."ID"
    WHEN MATCHED AND c._walstream_op = 'D' AND (c._walstream_lsn > f._walstream_lsn OR (c._walstream_lsn = f._walstream_lsn AND c._walstream_seq > f._walstream_seq)) THEN DELETE
    WHEN MATCHED AND c._walstream_op <> 'D' AND (c._walstream_lsn > f._walstream_lsn OR (c._walstream_lsn = f._walstream_lsn AND c._walstream_seq > f._walstream_seq)) THEN UPDATE SET
        "LABEL" = c."LABEL",
        "N" = c."N",
        "BIG" = c."BIG",
        "DOC" = c."DOC",
        _walstream_lsn = c._walstream_lsn,
        _walstream_seq = c._walstream_seq,
        _walstream_commit_ts = c._walstream_commit_ts
    WHEN NOT MATCHED AND c._walstream_op <> 'D' THEN INSERT ("ID", "LABEL", "N", "BIG", "DOC", _walstream_lsn, _walstream_seq, _walstream_commit_ts)
    VALUES (c."ID", c."LABEL", c."N", c."BIG", c."DOC", c._walstream_lsn, c._walstream_seq, c._walstream_commit_ts);
    MERGE INTO "TOMBSTONES_SIM" AS t
    USING (SELECT "ID", _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM "CHANGES_SIM" WHERE _walstream_op = 'D') AS c
    ON t."ID" = c."ID"
    WHEN MATCHED AND (c._walstream_lsn > t._walstream_lsn OR (c._walstream_lsn = t._walstream_lsn AND c._walstream_seq > t._walstream_seq)) THEN UPDATE SET
        _walstream_lsn = c._walstream_lsn, _walstream_seq = c._walstream_seq,
        _walstream_commit_ts = c._walstream_commit_ts, _walstream_merged_at = CURRENT_TIMESTAMP()
    WHEN NOT MATCHED THEN INSERT ("ID", _walstream_lsn, _walstream_seq, _walstream_commit_ts, _walstream_merged_at)
    VALUES (c."ID", c._walstream_lsn, c._walstream_seq, c._walstream_commit_ts, CURRENT_TIMESTAMP());
    DELETE FROM "TOMBSTONES_SIM"
    USING "CHANGES_SIM" AS c
    WHERE c._walstream_op <> 'D' AND "TOMBSTONES_SIM"."ID" = c."ID";
    DELETE FROM "TOMBSTONES_SIM"
    WHERE _walstream_merged_at < DATEADD(DAY, -7, CURRENT_TIMESTAMP());
    DELETE FROM "CHANGES_SIM";
    COMMIT;
EXCEPTION
    WHEN OTHER THEN
        ROLLBACK;
        RAISE;
END;
$$;

-- kind: task_resume
ALTER TASK "MERGE_SIM" RESUME;
