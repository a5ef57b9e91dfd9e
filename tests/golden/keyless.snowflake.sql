-- walstream: Snowflake objects generated from the source table schemas.
-- Safe to run again: nothing is dropped; pipes are never replaced (a new pipe would
-- load every file again). Procedures are replaced, tasks altered and resumed.
CREATE STORAGE INTEGRATION IF NOT EXISTS WALSTREAM_S3
    TYPE = EXTERNAL_STAGE
    STORAGE_PROVIDER = 'S3'
    ENABLED = TRUE
    STORAGE_AWS_ROLE_ARN = 'arn:aws:iam::123456789012:role/walstream-snowflake'
    STORAGE_ALLOWED_LOCATIONS = ('s3://example-bucket/dms/');
CREATE FILE FORMAT IF NOT EXISTS WALSTREAM_PARQUET
    TYPE = PARQUET
    BINARY_AS_TEXT = FALSE
    USE_LOGICAL_TYPE = TRUE
    USE_VECTORIZED_SCANNER = TRUE;
CREATE STAGE IF NOT EXISTS WALSTREAM_STAGE
    URL = 's3://example-bucket/dms/'
    STORAGE_INTEGRATION = WALSTREAM_S3
    FILE_FORMAT = (FORMAT_NAME = 'WALSTREAM_PARQUET');
CREATE TABLE IF NOT EXISTS "WALSTREAM_MANIFESTS_RAW" (manifest VARCHAR, body VARIANT, loaded_at TIMESTAMP_TZ(6) DEFAULT CURRENT_TIMESTAMP());
CREATE OR REPLACE VIEW "WALSTREAM_MANIFESTS" AS
SELECT manifest, body:slot::VARCHAR AS slot, body:kind::VARCHAR AS kind,
    body:origin::BOOLEAN AS origin, body:start_lsn::NUMBER(19,0) AS start_lsn,
    body:end_lsn::NUMBER(19,0) AS end_lsn, MIN(loaded_at) AS loaded_at,
    body:end_time_us::NUMBER(19,0) AS end_time_us
FROM "WALSTREAM_MANIFESTS_RAW"
GROUP BY 1, 2, 3, 4, 5, 6, 8;
CREATE OR REPLACE VIEW "WALSTREAM_MANIFEST_FILES" AS
SELECT DISTINCT r.manifest, f.value:table::VARCHAR AS table_name,
    f.value:key::VARCHAR AS file, f.value:rows::NUMBER(19,0) AS row_count
FROM "WALSTREAM_MANIFESTS_RAW" AS r, LATERAL FLATTEN(INPUT => r.body:files) AS f;
CREATE OR REPLACE VIEW "WALSTREAM_MANIFEST_LOADS" AS
SELECT DISTINCT r.manifest, l.value:table::VARCHAR AS table_name,
    l.value:lsn::NUMBER(19,0) AS lsn
FROM "WALSTREAM_MANIFESTS_RAW" AS r, LATERAL FLATTEN(INPUT => r.body:loads) AS l;
CREATE TABLE IF NOT EXISTS "WALSTREAM_FILES" (file VARCHAR, table_name VARCHAR, row_count NUMBER(19,0), loaded_at TIMESTAMP_TZ(6));
CREATE TABLE IF NOT EXISTS "WALSTREAM_WATERMARKS" (table_name VARCHAR, slot VARCHAR, prev_lsn NUMBER(19,0), lsn NUMBER(19,0), waiting_for VARCHAR, waiting_since TIMESTAMP_TZ(6), merged_at TIMESTAMP_TZ(6), lo_lsn NUMBER(19,0), lo_seq NUMBER(19,0), hi_lsn NUMBER(19,0), hi_seq NUMBER(19,0), load_lsn NUMBER(19,0), load_seq NUMBER(19,0));
CREATE TABLE IF NOT EXISTS "WALSTREAM_LOADS" (table_name VARCHAR, lsn NUMBER(19,0), merged_at TIMESTAMP_TZ(6));
CREATE PIPE IF NOT EXISTS "WALSTREAM_MANIFESTS_PIPE"
    AUTO_INGEST = TRUE
AS
COPY INTO "WALSTREAM_MANIFESTS_RAW" (manifest, body)
FROM (
    SELECT METADATA$FILENAME, $1
    FROM @WALSTREAM_STAGE/_walstream/
)
PATTERN = '^(.*/)?_walstream/[^/]+/manifests/[^/]+[.]json$'
FILE_FORMAT = (TYPE = JSON);
ALTER PIPE "WALSTREAM_MANIFESTS_PIPE" REFRESH;

-- public.events (no key: FINAL is an append-only change log)
CREATE TABLE IF NOT EXISTS "EVENTS" (
    "KIND" VARCHAR(134217728),
    "PAYLOAD" VARIANT,
    "AT" TIMESTAMP_NTZ(6),
    _walstream_op VARCHAR,
    _walstream_unchanged ARRAY,
    _walstream_lossy ARRAY,
    _walstream_lsn NUMBER(19,0),
    _walstream_seq NUMBER(19,0),
    _walstream_commit_ts TIMESTAMP_TZ(6)
);
CREATE TABLE IF NOT EXISTS "STAGING_EVENTS" (
    _walstream_op VARCHAR,
    "KIND" VARCHAR(134217728),
    "PAYLOAD" VARCHAR(134217728),
    "AT" TIMESTAMP_NTZ(6),
    _walstream_commit_ts TIMESTAMP_TZ(6),
    _walstream_lsn NUMBER(19,0),
    _walstream_seq NUMBER(19,0),
    _walstream_xid NUMBER(19,0),
    _walstream_unchanged ARRAY,
    _walstream_lossy ARRAY,
    _walstream_key_change BOOLEAN,
    _walstream_file VARCHAR,
    _walstream_file_row NUMBER(19,0)
);
CREATE STREAM IF NOT EXISTS "STAGING_EVENTS_STREAM"
    ON TABLE "STAGING_EVENTS"
    APPEND_ONLY = TRUE;
CREATE PIPE IF NOT EXISTS "STAGING_EVENTS_PIPE"
    AUTO_INGEST = TRUE
AS
COPY INTO "STAGING_EVENTS" (
    _walstream_op,
    "KIND",
    "PAYLOAD",
    "AT",
    _walstream_commit_ts,
    _walstream_lsn,
    _walstream_seq,
    _walstream_xid,
    _walstream_unchanged,
    _walstream_lossy,
    _walstream_key_change,
    _walstream_file,
    _walstream_file_row
)
FROM (
    SELECT
        $1:"Op"::VARCHAR,
        $1:"kind"::VARCHAR(134217728),
        $1:"payload"::VARCHAR(134217728),
        $1:"at"::TIMESTAMP_NTZ(6),
        CONVERT_TIMEZONE('UTC', $1:"_walstream_commit_ts"::TIMESTAMP_TZ(6)),
        $1:"_walstream_lsn"::NUMBER(19,0),
        $1:"_walstream_seq"::NUMBER(19,0),
        $1:"_walstream_xid"::NUMBER(19,0),
        $1:"_walstream_unchanged"::ARRAY,
        $1:"_walstream_lossy"::ARRAY,
        $1:"_walstream_key_change"::BOOLEAN,
        METADATA$FILENAME,
        METADATA$FILE_ROW_NUMBER
    FROM @WALSTREAM_STAGE/public/events/
)
FILE_FORMAT = (FORMAT_NAME = 'WALSTREAM_PARQUET');
ALTER PIPE "STAGING_EVENTS_PIPE" REFRESH;
CREATE STREAM IF NOT EXISTS "MANIFESTS_EVENTS_STREAM"
    ON TABLE "WALSTREAM_MANIFESTS_RAW"
    APPEND_ONLY = TRUE;
CREATE OR REPLACE PROCEDURE "MERGE_EVENTS_RUN"()
    RETURNS VARCHAR
    LANGUAGE SQL
    EXECUTE AS OWNER
AS
$$
BEGIN
    BEGIN TRANSACTION;
    INSERT INTO "WALSTREAM_FILES" (file, table_name, row_count, loaded_at)
    SELECT _walstream_file, 'public.events', COUNT(DISTINCT _walstream_file_row), CURRENT_TIMESTAMP()
    FROM "STAGING_EVENTS_STREAM"
    GROUP BY _walstream_file;
    INSERT INTO "WALSTREAM_FILES" (file, table_name, row_count, loaded_at)
    SELECT manifest, NULL, NULL, NULL FROM "MANIFESTS_EVENTS_STREAM" WHERE FALSE;
    MERGE INTO "WALSTREAM_WATERMARKS" AS w
    USING (
    WITH cur AS (
        SELECT MAX(slot) AS slot, MAX(lsn) AS lsn, MAX(prev_lsn) AS prev_lsn,
            MAX(load_lsn) AS load_lsn, MAX(load_seq) AS load_seq
        FROM "WALSTREAM_WATERMARKS" WHERE table_name = 'public.events'
    ),
    slot AS (
        SELECT COALESCE(
            (SELECT slot FROM cur),
            (SELECT MIN(m.slot) FROM "WALSTREAM_MANIFEST_FILES" AS mf
                JOIN "WALSTREAM_MANIFESTS" AS m ON m.manifest = mf.manifest WHERE mf.table_name = 'public.events')
        ) AS slot
    ),
    origin AS (
        SELECT COALESCE(
            (SELECT lsn FROM cur),
            (SELECT prev_lsn FROM cur WHERE load_lsn IS NOT NULL),  -- a load merged in slices
            (SELECT MIN(m.start_lsn) FROM "WALSTREAM_MANIFESTS" AS m, slot
                WHERE m.slot = slot.slot AND (m.kind = 'flush' AND m.origin OR m.kind = 'load'
                    AND EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.events')))
        ) AS lsn
    ),
    links AS (
        SELECT m.manifest, m.start_lsn, m.end_lsn, m.loaded_at,
            CASE WHEN NOT EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        LEFT JOIN (SELECT file, MAX(row_count) AS row_count FROM "WALSTREAM_FILES" GROUP BY file) AS fl
            ON fl.file = mf.file AND fl.row_count = mf.row_count
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.events' AND fl.file IS NULL) THEN 1 ELSE 0 END AS complete
        FROM "WALSTREAM_MANIFESTS" AS m, slot, origin
        WHERE m.slot = slot.slot AND m.end_lsn > origin.lsn AND (m.kind = 'flush'
            OR EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.events'))
    ),
    reach AS (
        SELECT l.*, MAX(l.end_lsn) OVER (
            ORDER BY l.start_lsn, l.end_lsn ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS reach_before
        FROM links AS l WHERE l.complete = 1
    ),
    gap AS (
        SELECT MIN(r.start_lsn) AS at_lsn FROM reach AS r, origin
        WHERE r.start_lsn > GREATEST(origin.lsn, COALESCE(r.reach_before, origin.lsn))
    ),
    chain AS (
        SELECT GREATEST(origin.lsn, COALESCE(MAX(r.end_lsn), origin.lsn)) AS lsn
        FROM origin LEFT JOIN gap ON TRUE
        LEFT JOIN reach AS r ON r.start_lsn < COALESCE(gap.at_lsn, r.start_lsn + 1)
        GROUP BY origin.lsn
    ),
    announced AS (
        -- full loads of the table an origin manifest of its slot names, whose own manifest has
        -- not arrived: nothing of the table is merged past them
        SELECT ml.lsn FROM "WALSTREAM_MANIFEST_LOADS" AS ml
        JOIN "WALSTREAM_MANIFESTS" AS m ON m.manifest = ml.manifest, slot
        WHERE m.slot = slot.slot AND ml.table_name = 'public.events'
            AND NOT EXISTS (SELECT 1 FROM "WALSTREAM_MANIFESTS" AS lm
                JOIN "WALSTREAM_MANIFEST_FILES" AS mf ON mf.manifest = lm.manifest
                WHERE lm.kind = 'load' AND lm.start_lsn + 1 = ml.lsn AND mf.table_name = 'public.events')
    ),
    open_loads AS (
        SELECT MIN(lsn) AS lsn FROM (
            SELECT m.start_lsn AS lsn FROM "WALSTREAM_MANIFESTS" AS m, origin
            WHERE m.kind = 'load' AND m.end_lsn > origin.lsn AND EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.events')
                AND NOT (NOT EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        LEFT JOIN (SELECT file, MAX(row_count) AS row_count FROM "WALSTREAM_FILES" GROUP BY file) AS fl
            ON fl.file = mf.file AND fl.row_count = mf.row_count
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.events' AND fl.file IS NULL))
            UNION ALL
            SELECT lsn - 1 FROM announced
        ) AS o
    ),
    capped AS (
        SELECT CASE WHEN open_loads.lsn IS NOT NULL AND open_loads.lsn < chain.lsn
            THEN GREATEST(open_loads.lsn, origin.lsn) ELSE chain.lsn END AS lsn
        FROM chain, open_loads, origin
    ),
    missing AS (
        SELECT MIN(mf.file) AS file FROM "WALSTREAM_MANIFEST_FILES" AS mf
        JOIN links AS l ON l.manifest = mf.manifest
        LEFT JOIN (SELECT file, MAX(row_count) AS row_count FROM "WALSTREAM_FILES" GROUP BY file) AS fl
            ON fl.file = mf.file AND fl.row_count = mf.row_count
        WHERE mf.table_name = 'public.events' AND fl.file IS NULL
            AND l.start_lsn <= (SELECT lsn FROM capped) AND l.complete = 0
    ),
    sliced AS (
        -- the full load merged in slices: the one in progress, else the first complete load in
        -- the window with more rows than a slice
        SELECT COALESCE((SELECT load_lsn FROM cur), (
            SELECT MIN(l.lsn) FROM (SELECT m.start_lsn + 1 AS lsn, (SELECT SUM(mf.row_count) FROM "WALSTREAM_MANIFEST_FILES" AS mf
            WHERE mf.manifest = m.manifest AND mf.table_name = 'public.events') AS row_count
        FROM "WALSTREAM_MANIFESTS" AS m
        WHERE m.kind = 'load' AND EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.events')
        AND NOT EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        LEFT JOIN (SELECT file, MAX(row_count) AS row_count FROM "WALSTREAM_FILES" GROUP BY file) AS fl
            ON fl.file = mf.file AND fl.row_count = mf.row_count
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.events' AND fl.file IS NULL)
        AND NOT EXISTS (SELECT 1 FROM "WALSTREAM_LOADS" AS d WHERE d.table_name = 'public.events' AND d.lsn = m.start_lsn + 1)) AS l, origin, capped
            WHERE l.lsn > origin.lsn AND l.lsn <= capped.lsn AND l.row_count - 1 > 1000000
        )) AS lsn,
        COALESCE((SELECT load_seq FROM cur), -1) AS after_seq
    ),
    cut AS (
        -- the last row of this run's slice; NULL when the rest of the load fits in this run
        SELECT (SELECT s._walstream_seq FROM "STAGING_EVENTS" AS s
            WHERE s._walstream_lsn = sliced.lsn AND s._walstream_xid IS NULL
                AND s._walstream_seq > sliced.after_seq
            ORDER BY s._walstream_seq LIMIT 1 OFFSET 999999) AS seq
        FROM sliced
    )
    SELECT 'public.events' AS table_name, slot.slot, origin.lsn AS prev_lsn,
        -- no watermark while a load is merged in slices, nor until the chain leaves its origin:
        -- before that FINAL is not the source as of any LSN
        CASE WHEN cut.seq IS NOT NULL THEN NULL
            WHEN cur.lsn IS NULL AND capped.lsn <= origin.lsn THEN NULL ELSE capped.lsn END AS lsn,
        -- the first missing file; else, past a hole in the chain, the missing manifest's interval
        COALESCE(missing.file,
            (SELECT 'load manifest of ' || 'public.events' || ' at ' || CAST(MIN(lsn) AS VARCHAR)
                FROM announced HAVING COUNT(*) > 0),
            CASE WHEN gap.at_lsn IS NOT NULL THEN 'manifest of ' || slot.slot
            || ' (' || CAST(capped.lsn AS VARCHAR) || ', ' || CAST(gap.at_lsn AS VARCHAR) || ']'
            END) AS waiting_for,
        CASE WHEN cur.load_lsn IS NOT NULL THEN cur.load_lsn ELSE origin.lsn END AS lo_lsn,
        CASE WHEN cur.load_lsn IS NOT NULL THEN cur.load_seq ELSE 4611686018427387904 END AS lo_seq,
        CASE WHEN cut.seq IS NOT NULL THEN sliced.lsn ELSE capped.lsn END AS hi_lsn,
        CASE WHEN cut.seq IS NOT NULL THEN cut.seq ELSE 4611686018427387904 END AS hi_seq,
        CASE WHEN cut.seq IS NOT NULL THEN sliced.lsn END AS load_lsn,
        cut.seq AS load_seq
    FROM cur, slot, origin, capped, missing, sliced, cut LEFT JOIN gap ON TRUE
    ) AS n
    ON w.table_name = n.table_name
    WHEN MATCHED THEN UPDATE SET slot = n.slot, prev_lsn = COALESCE(w.lsn, n.prev_lsn),
        lsn = n.lsn, lo_lsn = n.lo_lsn, lo_seq = n.lo_seq, hi_lsn = n.hi_lsn, hi_seq = n.hi_seq, load_lsn = n.load_lsn, load_seq = n.load_seq,
        waiting_since = CASE WHEN n.waiting_for IS NULL THEN NULL
            WHEN w.waiting_for IS NOT DISTINCT FROM n.waiting_for THEN COALESCE(w.waiting_since, CURRENT_TIMESTAMP()) ELSE CURRENT_TIMESTAMP() END,
        waiting_for = n.waiting_for, merged_at = CURRENT_TIMESTAMP()
    WHEN NOT MATCHED AND n.slot IS NOT NULL THEN INSERT (table_name, slot, prev_lsn, lsn, waiting_for, waiting_since, merged_at, lo_lsn, lo_seq, hi_lsn, hi_seq, load_lsn, load_seq)
    VALUES (n.table_name, n.slot, n.prev_lsn, n.lsn, n.waiting_for, CASE WHEN n.waiting_for IS NULL THEN NULL ELSE CURRENT_TIMESTAMP() END, CURRENT_TIMESTAMP(), n.lo_lsn, n.lo_seq, n.hi_lsn, n.hi_seq, n.load_lsn, n.load_seq);
    INSERT INTO "EVENTS" ("KIND", "PAYLOAD", "AT", _walstream_op, _walstream_unchanged, _walstream_lossy, _walstream_lsn, _walstream_seq, _walstream_commit_ts)
    SELECT
        s."KIND",
        PARSE_JSON(s."PAYLOAD", 'd'),
        s."AT",
        COALESCE(s._walstream_op, 'I'),
        s._walstream_unchanged,
        s._walstream_lossy,
        s._walstream_lsn,
        s._walstream_seq,
        s._walstream_commit_ts
    FROM (SELECT s.* FROM "STAGING_EVENTS" AS s, (SELECT prev_lsn, lsn, lo_lsn, lo_seq, hi_lsn, hi_seq, load_lsn FROM "WALSTREAM_WATERMARKS" WHERE table_name = 'public.events') AS w
    WHERE s._walstream_xid IS NULL AND s._walstream_lsn <= w.prev_lsn
        AND s._walstream_lsn IN (SELECT lsn FROM (SELECT m.start_lsn + 1 AS lsn, (SELECT SUM(mf.row_count) FROM "WALSTREAM_MANIFEST_FILES" AS mf
            WHERE mf.manifest = m.manifest AND mf.table_name = 'public.events') AS row_count
        FROM "WALSTREAM_MANIFESTS" AS m
        WHERE m.kind = 'load' AND EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.events')
        AND NOT EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        LEFT JOIN (SELECT file, MAX(row_count) AS row_count FROM "WALSTREAM_FILES" GROUP BY file) AS fl
            ON fl.file = mf.file AND fl.row_count = mf.row_count
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.events' AND fl.file IS NULL)
        AND NOT EXISTS (SELECT 1 FROM "WALSTREAM_LOADS" AS d WHERE d.table_name = 'public.events' AND d.lsn = m.start_lsn + 1)) AS l)) AS s
    LEFT JOIN "EVENTS" AS f
        ON f._walstream_lsn = s._walstream_lsn AND f._walstream_seq = s._walstream_seq
    WHERE f._walstream_lsn IS NULL
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY s._walstream_lsn, s._walstream_seq,
            CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file END,
            CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file_row END
        ORDER BY s._walstream_file, s._walstream_file_row
    ) = 1;
    INSERT INTO "EVENTS" ("KIND", "PAYLOAD", "AT", _walstream_op, _walstream_unchanged, _walstream_lossy, _walstream_lsn, _walstream_seq, _walstream_commit_ts)
    SELECT
        s."KIND",
        PARSE_JSON(s."PAYLOAD", 'd'),
        s."AT",
        COALESCE(s._walstream_op, 'I'),
        s._walstream_unchanged,
        s._walstream_lossy,
        s._walstream_lsn,
        s._walstream_seq,
        s._walstream_commit_ts
    FROM (SELECT s.* FROM "STAGING_EVENTS" AS s LEFT JOIN (SELECT prev_lsn, lsn, lo_lsn, lo_seq, hi_lsn, hi_seq, load_lsn FROM "WALSTREAM_WATERMARKS" WHERE table_name = 'public.events') AS w ON TRUE
    WHERE s._walstream_lsn IS NULL
        OR ((s._walstream_lsn > w.lo_lsn
                OR s._walstream_lsn = w.lo_lsn
                    AND COALESCE(s._walstream_seq, 0) > w.lo_seq)
            AND (s._walstream_lsn < w.hi_lsn
                OR s._walstream_lsn = w.hi_lsn
                    AND COALESCE(s._walstream_seq, 0) <= w.hi_seq))) AS s
    LEFT JOIN "EVENTS" AS f
        ON f._walstream_lsn = s._walstream_lsn AND f._walstream_seq = s._walstream_seq
    WHERE f._walstream_lsn IS NULL
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY s._walstream_lsn, s._walstream_seq,
            CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file END,
            CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file_row END
        ORDER BY s._walstream_file, s._walstream_file_row
    ) = 1;
    INSERT INTO "WALSTREAM_LOADS" (table_name, lsn, merged_at)
    SELECT 'public.events', l.lsn, CURRENT_TIMESTAMP()
    FROM (SELECT m.start_lsn + 1 AS lsn, (SELECT SUM(mf.row_count) FROM "WALSTREAM_MANIFEST_FILES" AS mf
            WHERE mf.manifest = m.manifest AND mf.table_name = 'public.events') AS row_count
        FROM "WALSTREAM_MANIFESTS" AS m
        WHERE m.kind = 'load' AND EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.events')
        AND NOT EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        LEFT JOIN (SELECT file, MAX(row_count) AS row_count FROM "WALSTREAM_FILES" GROUP BY file) AS fl
            ON fl.file = mf.file AND fl.row_count = mf.row_count
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.events' AND fl.file IS NULL)
        AND NOT EXISTS (SELECT 1 FROM "WALSTREAM_LOADS" AS d WHERE d.table_name = 'public.events' AND d.lsn = m.start_lsn + 1)) AS l, (SELECT prev_lsn, lsn, lo_lsn, lo_seq, hi_lsn, hi_seq, load_lsn FROM "WALSTREAM_WATERMARKS" WHERE table_name = 'public.events') AS w
    WHERE l.lsn < w.hi_lsn OR l.lsn = w.hi_lsn AND w.hi_seq = 4611686018427387904;
    DELETE FROM "STAGING_EVENTS"
    WHERE _walstream_lsn IS NULL OR (
        EXISTS (SELECT 1 FROM (SELECT prev_lsn, lsn, lo_lsn, lo_seq, hi_lsn, hi_seq, load_lsn FROM "WALSTREAM_WATERMARKS" WHERE table_name = 'public.events') AS w WHERE _walstream_lsn < w.hi_lsn
            OR _walstream_lsn = w.hi_lsn AND COALESCE(_walstream_seq, 0) <= w.hi_seq)
        AND NOT (_walstream_xid IS NULL AND _walstream_lsn NOT IN (
            SELECT lsn FROM "WALSTREAM_LOADS" WHERE table_name = 'public.events')
            AND _walstream_lsn NOT IN (SELECT COALESCE(load_lsn, -1) FROM (SELECT prev_lsn, lsn, lo_lsn, lo_seq, hi_lsn, hi_seq, load_lsn FROM "WALSTREAM_WATERMARKS" WHERE table_name = 'public.events') AS w)));
    COMMIT;
    RETURN 'merged public.events';
EXCEPTION
    WHEN OTHER THEN
        ROLLBACK;
        RAISE;
END;
$$;
CREATE OR ALTER TASK "MERGE_EVENTS"
    WAREHOUSE = CDC_WH
    SCHEDULE = '1 MINUTE'
    WHEN SYSTEM$STREAM_HAS_DATA('"STAGING_EVENTS_STREAM"') OR SYSTEM$STREAM_HAS_DATA('"MANIFESTS_EVENTS_STREAM"')
AS
CALL "MERGE_EVENTS_RUN"();
ALTER TASK "MERGE_EVENTS" RESUME;
