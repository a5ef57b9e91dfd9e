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

-- public.type_zoo
CREATE TABLE IF NOT EXISTS "TYPE_ZOO" (
    "ID" NUMBER(19,0) NOT NULL,
    "FLAG" BOOLEAN,
    "SMALL" NUMBER(5,0),
    "MEDIUM" NUMBER(10,0),
    "OBJECT_ID" NUMBER(19,0),
    "REAL_VALUE" FLOAT,
    "DOUBLE_VALUE" FLOAT,
    "PRICE" NUMBER(10,2),
    "WIDEST" NUMBER(38,0),
    "ANY_NUMERIC" VARCHAR(134217728),
    "HUGE_NUMERIC" VARCHAR(134217728),
    "CASH" NUMBER(38,2),
    "BODY" VARCHAR(134217728),
    "CODE" VARCHAR(134217728),
    "FIXED" VARCHAR(134217728),
    "HANDLE" VARCHAR(134217728),
    "ADDRESS" VARCHAR(134217728),
    "NETWORK" VARCHAR(134217728),
    "MAC" VARCHAR(134217728),
    "DURATION" VARCHAR(134217728),
    "PERIOD" VARCHAR(134217728),
    "MARKUP" VARCHAR(134217728),
    "SEARCH" VARCHAR(134217728),
    "BITS" VARCHAR(134217728),
    "UID" VARCHAR(36),
    "DOCUMENT" VARIANT,
    "BINARY_DOCUMENT" VARIANT,
    "PAYLOAD" BINARY(67108864),
    "DAY" DATE,
    "CLOCK" TIME(6),
    "CLOCK_TZ" VARCHAR(134217728),
    "LOCAL_TS" TIMESTAMP_NTZ(6),
    "INSTANT" TIMESTAMP_TZ(6),
    "NUMBERS" ARRAY,
    "LABELS" ARRAY,
    "PRICES" ARRAY,
    "DOCUMENTS" ARRAY,
    "INSTANTS" ARRAY,
    "MOOD" VARCHAR(134217728),
    _walstream_lossy ARRAY,
    _walstream_lsn NUMBER(19,0) NOT NULL,
    _walstream_seq NUMBER(19,0) NOT NULL,
    _walstream_commit_ts TIMESTAMP_TZ(6),
    PRIMARY KEY ("ID")
);
CREATE TABLE IF NOT EXISTS "STAGING_TYPE_ZOO" (
    _walstream_op VARCHAR,
    "ID" NUMBER(19,0),
    "FLAG" BOOLEAN,
    "SMALL" NUMBER(5,0),
    "MEDIUM" NUMBER(10,0),
    "OBJECT_ID" NUMBER(19,0),
    "REAL_VALUE" FLOAT,
    "DOUBLE_VALUE" FLOAT,
    "PRICE" NUMBER(10,2),
    "WIDEST" NUMBER(38,0),
    "ANY_NUMERIC" VARCHAR(134217728),
    "HUGE_NUMERIC" VARCHAR(134217728),
    "CASH" NUMBER(38,2),
    "BODY" VARCHAR(134217728),
    "CODE" VARCHAR(134217728),
    "FIXED" VARCHAR(134217728),
    "HANDLE" VARCHAR(134217728),
    "ADDRESS" VARCHAR(134217728),
    "NETWORK" VARCHAR(134217728),
    "MAC" VARCHAR(134217728),
    "DURATION" VARCHAR(134217728),
    "PERIOD" VARCHAR(134217728),
    "MARKUP" VARCHAR(134217728),
    "SEARCH" VARCHAR(134217728),
    "BITS" VARCHAR(134217728),
    "UID" VARCHAR(36),
    "DOCUMENT" VARCHAR(134217728),
    "BINARY_DOCUMENT" VARCHAR(134217728),
    "PAYLOAD" BINARY(67108864),
    "DAY" DATE,
    "CLOCK" TIME(6),
    "CLOCK_TZ" VARCHAR(134217728),
    "LOCAL_TS" TIMESTAMP_NTZ(6),
    "INSTANT" TIMESTAMP_TZ(6),
    "NUMBERS" ARRAY,
    "LABELS" ARRAY,
    "PRICES" ARRAY,
    "DOCUMENTS" ARRAY,
    "INSTANTS" ARRAY,
    "MOOD" VARCHAR(134217728),
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
CREATE TRANSIENT TABLE IF NOT EXISTS "CHANGES_TYPE_ZOO" (
    _walstream_op VARCHAR,
    "ID" NUMBER(19,0),
    "FLAG" BOOLEAN,
    "SMALL" NUMBER(5,0),
    "MEDIUM" NUMBER(10,0),
    "OBJECT_ID" NUMBER(19,0),
    "REAL_VALUE" FLOAT,
    "DOUBLE_VALUE" FLOAT,
    "PRICE" NUMBER(10,2),
    "WIDEST" NUMBER(38,0),
    "ANY_NUMERIC" VARCHAR(134217728),
    "HUGE_NUMERIC" VARCHAR(134217728),
    "CASH" NUMBER(38,2),
    "BODY" VARCHAR(134217728),
    "CODE" VARCHAR(134217728),
    "FIXED" VARCHAR(134217728),
    "HANDLE" VARCHAR(134217728),
    "ADDRESS" VARCHAR(134217728),
    "NETWORK" VARCHAR(134217728),
    "MAC" VARCHAR(134217728),
    "DURATION" VARCHAR(134217728),
    "PERIOD" VARCHAR(134217728),
    "MARKUP" VARCHAR(134217728),
    "SEARCH" VARCHAR(134217728),
    "BITS" VARCHAR(134217728),
    "UID" VARCHAR(36),
    "DOCUMENT" VARIANT,
    "BINARY_DOCUMENT" VARIANT,
    "PAYLOAD" BINARY(67108864),
    "DAY" DATE,
    "CLOCK" TIME(6),
    "CLOCK_TZ" VARCHAR(134217728),
    "LOCAL_TS" TIMESTAMP_NTZ(6),
    "INSTANT" TIMESTAMP_TZ(6),
    "NUMBERS" ARRAY,
    "LABELS" ARRAY,
    "PRICES" ARRAY,
    "DOCUMENTS" ARRAY,
    "INSTANTS" ARRAY,
    "MOOD" VARCHAR(134217728),
    _walstream_lossy ARRAY,
    _walstream_lsn NUMBER(19,0),
    _walstream_seq NUMBER(19,0),
    _walstream_commit_ts TIMESTAMP_TZ(6)
);
CREATE TABLE IF NOT EXISTS "TOMBSTONES_TYPE_ZOO" (
    "ID" NUMBER(19,0) NOT NULL,
    _walstream_lsn NUMBER(19,0),
    _walstream_seq NUMBER(19,0),
    _walstream_commit_ts TIMESTAMP_TZ(6),
    _walstream_merged_at TIMESTAMP_TZ(6),
    PRIMARY KEY ("ID")
);
CREATE TABLE IF NOT EXISTS "TRUNCATES_TYPE_ZOO" (
    _walstream_lsn NUMBER(19,0),
    _walstream_seq NUMBER(19,0),
    _walstream_commit_ts TIMESTAMP_TZ(6),
    _walstream_merged_at TIMESTAMP_TZ(6)
);
CREATE STREAM IF NOT EXISTS "STAGING_TYPE_ZOO_STREAM"
    ON TABLE "STAGING_TYPE_ZOO"
    APPEND_ONLY = TRUE;
CREATE PIPE IF NOT EXISTS "STAGING_TYPE_ZOO_PIPE"
    AUTO_INGEST = TRUE
AS
COPY INTO "STAGING_TYPE_ZOO" (
    _walstream_op,
    "ID",
    "FLAG",
    "SMALL",
    "MEDIUM",
    "OBJECT_ID",
    "REAL_VALUE",
    "DOUBLE_VALUE",
    "PRICE",
    "WIDEST",
    "ANY_NUMERIC",
    "HUGE_NUMERIC",
    "CASH",
    "BODY",
    "CODE",
    "FIXED",
    "HANDLE",
    "ADDRESS",
    "NETWORK",
    "MAC",
    "DURATION",
    "PERIOD",
    "MARKUP",
    "SEARCH",
    "BITS",
    "UID",
    "DOCUMENT",
    "BINARY_DOCUMENT",
    "PAYLOAD",
    "DAY",
    "CLOCK",
    "CLOCK_TZ",
    "LOCAL_TS",
    "INSTANT",
    "NUMBERS",
    "LABELS",
    "PRICES",
    "DOCUMENTS",
    "INSTANTS",
    "MOOD",
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
        $1:"id"::NUMBER(19,0),
        $1:"flag"::BOOLEAN,
        $1:"small"::NUMBER(5,0),
        $1:"medium"::NUMBER(10,0),
        $1:"object_id"::NUMBER(19,0),
        $1:"real_value"::FLOAT,
        $1:"double_value"::FLOAT,
        $1:"price"::NUMBER(10,2),
        $1:"widest"::NUMBER(38,0),
        $1:"any_numeric"::VARCHAR(134217728),
        $1:"huge_numeric"::VARCHAR(134217728),
        $1:"cash"::NUMBER(38,2),
        $1:"body"::VARCHAR(134217728),
        $1:"code"::VARCHAR(134217728),
        $1:"fixed"::VARCHAR(134217728),
        $1:"handle"::VARCHAR(134217728),
        $1:"address"::VARCHAR(134217728),
        $1:"network"::VARCHAR(134217728),
        $1:"mac"::VARCHAR(134217728),
        $1:"duration"::VARCHAR(134217728),
        $1:"period"::VARCHAR(134217728),
        $1:"markup"::VARCHAR(134217728),
        $1:"search"::VARCHAR(134217728),
        $1:"bits"::VARCHAR(134217728),
        $1:"uid"::VARCHAR(36),
        $1:"document"::VARCHAR(134217728),
        $1:"binary_document"::VARCHAR(134217728),
        $1:"payload"::BINARY(67108864),
        $1:"day"::DATE,
        $1:"clock"::TIME(6),
        $1:"clock_tz"::VARCHAR(134217728),
        $1:"local_ts"::TIMESTAMP_NTZ(6),
        CONVERT_TIMEZONE('UTC', $1:"instant"::TIMESTAMP_TZ(6)),
        $1:"numbers"::ARRAY,
        $1:"labels"::ARRAY,
        $1:"prices"::ARRAY,
        $1:"documents"::ARRAY,
        $1:"instants"::ARRAY,
        $1:"mood"::VARCHAR(134217728),
        CONVERT_TIMEZONE('UTC', $1:"_walstream_commit_ts"::TIMESTAMP_TZ(6)),
        $1:"_walstream_lsn"::NUMBER(19,0),
        $1:"_walstream_seq"::NUMBER(19,0),
        $1:"_walstream_xid"::NUMBER(19,0),
        $1:"_walstream_unchanged"::ARRAY,
        $1:"_walstream_lossy"::ARRAY,
        $1:"_walstream_key_change"::BOOLEAN,
        METADATA$FILENAME,
        METADATA$FILE_ROW_NUMBER
    FROM @WALSTREAM_STAGE/public/type_zoo/
)
FILE_FORMAT = (FORMAT_NAME = 'WALSTREAM_PARQUET');
ALTER PIPE "STAGING_TYPE_ZOO_PIPE" REFRESH;
CREATE STREAM IF NOT EXISTS "MANIFESTS_TYPE_ZOO_STREAM"
    ON TABLE "WALSTREAM_MANIFESTS_RAW"
    APPEND_ONLY = TRUE;
CREATE OR REPLACE PROCEDURE "MERGE_TYPE_ZOO_RUN"()
    RETURNS VARCHAR
    LANGUAGE SQL
    EXECUTE AS OWNER
AS
$$
BEGIN
    BEGIN TRANSACTION;
    INSERT INTO "WALSTREAM_FILES" (file, table_name, row_count, loaded_at)
    SELECT _walstream_file, 'public.type_zoo', COUNT(DISTINCT _walstream_file_row), CURRENT_TIMESTAMP()
    FROM "STAGING_TYPE_ZOO_STREAM"
    GROUP BY _walstream_file;
    INSERT INTO "WALSTREAM_FILES" (file, table_name, row_count, loaded_at)
    SELECT manifest, NULL, NULL, NULL FROM "MANIFESTS_TYPE_ZOO_STREAM" WHERE FALSE;
    MERGE INTO "WALSTREAM_WATERMARKS" AS w
    USING (
    WITH cur AS (
        SELECT MAX(slot) AS slot, MAX(lsn) AS lsn, MAX(prev_lsn) AS prev_lsn,
            MAX(load_lsn) AS load_lsn, MAX(load_seq) AS load_seq
        FROM "WALSTREAM_WATERMARKS" WHERE table_name = 'public.type_zoo'
    ),
    slot AS (
        SELECT COALESCE(
            (SELECT slot FROM cur),
            (SELECT MIN(m.slot) FROM "WALSTREAM_MANIFEST_FILES" AS mf
                JOIN "WALSTREAM_MANIFESTS" AS m ON m.manifest = mf.manifest WHERE mf.table_name = 'public.type_zoo')
        ) AS slot
    ),
    origin AS (
        SELECT COALESCE(
            (SELECT lsn FROM cur),
            (SELECT prev_lsn FROM cur WHERE load_lsn IS NOT NULL),  -- a load merged in slices
            (SELECT MIN(m.start_lsn) FROM "WALSTREAM_MANIFESTS" AS m, slot
                WHERE m.slot = slot.slot AND (m.kind = 'flush' AND m.origin OR m.kind = 'load'
                    AND EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo')))
        ) AS lsn
    ),
    links AS (
        SELECT m.manifest, m.start_lsn, m.end_lsn, m.loaded_at,
            CASE WHEN NOT EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        LEFT JOIN (SELECT file, MAX(row_count) AS row_count FROM "WALSTREAM_FILES" GROUP BY file) AS fl
            ON fl.file = mf.file AND fl.row_count = mf.row_count
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo' AND fl.file IS NULL) THEN 1 ELSE 0 END AS complete
        FROM "WALSTREAM_MANIFESTS" AS m, slot, origin
        WHERE m.slot = slot.slot AND m.end_lsn > origin.lsn AND (m.kind = 'flush'
            OR EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo'))
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
        WHERE m.slot = slot.slot AND ml.table_name = 'public.type_zoo'
            AND NOT EXISTS (SELECT 1 FROM "WALSTREAM_MANIFESTS" AS lm
                JOIN "WALSTREAM_MANIFEST_FILES" AS mf ON mf.manifest = lm.manifest
                WHERE lm.kind = 'load' AND lm.start_lsn + 1 = ml.lsn AND mf.table_name = 'public.type_zoo')
    ),
    open_loads AS (
        SELECT MIN(lsn) AS lsn FROM (
            SELECT m.start_lsn AS lsn FROM "WALSTREAM_MANIFESTS" AS m, origin
            WHERE m.kind = 'load' AND m.end_lsn > origin.lsn AND EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo')
                AND NOT (NOT EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        LEFT JOIN (SELECT file, MAX(row_count) AS row_count FROM "WALSTREAM_FILES" GROUP BY file) AS fl
            ON fl.file = mf.file AND fl.row_count = mf.row_count
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo' AND fl.file IS NULL))
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
        WHERE mf.table_name = 'public.type_zoo' AND fl.file IS NULL
            AND l.start_lsn <= (SELECT lsn FROM capped) AND l.complete = 0
    ),
    sliced AS (
        -- the full load merged in slices: the one in progress, else the first complete load in
        -- the window with more rows than a slice
        SELECT COALESCE((SELECT load_lsn FROM cur), (
            SELECT MIN(l.lsn) FROM (SELECT m.start_lsn + 1 AS lsn, (SELECT SUM(mf.row_count) FROM "WALSTREAM_MANIFEST_FILES" AS mf
            WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo') AS row_count
        FROM "WALSTREAM_MANIFESTS" AS m
        WHERE m.kind = 'load' AND EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo')
        AND NOT EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        LEFT JOIN (SELECT file, MAX(row_count) AS row_count FROM "WALSTREAM_FILES" GROUP BY file) AS fl
            ON fl.file = mf.file AND fl.row_count = mf.row_count
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo' AND fl.file IS NULL)
        AND NOT EXISTS (SELECT 1 FROM "WALSTREAM_LOADS" AS d WHERE d.table_name = 'public.type_zoo' AND d.lsn = m.start_lsn + 1)) AS l, origin, capped
            WHERE l.lsn > origin.lsn AND l.lsn <= capped.lsn AND l.row_count - 1 > 1000000
        )) AS lsn,
        COALESCE((SELECT load_seq FROM cur), -1) AS after_seq
    ),
    cut AS (
        -- the last row of this run's slice; NULL when the rest of the load fits in this run
        SELECT (SELECT s._walstream_seq FROM "STAGING_TYPE_ZOO" AS s
            WHERE s._walstream_lsn = sliced.lsn AND s._walstream_xid IS NULL
                AND s._walstream_seq > sliced.after_seq
            ORDER BY s._walstream_seq LIMIT 1 OFFSET 999999) AS seq
        FROM sliced
    )
    SELECT 'public.type_zoo' AS table_name, slot.slot, origin.lsn AS prev_lsn,
        -- no watermark while a load is merged in slices, nor until the chain leaves its origin:
        -- before that FINAL is not the source as of any LSN
        CASE WHEN cut.seq IS NOT NULL THEN NULL
            WHEN cur.lsn IS NULL AND capped.lsn <= origin.lsn THEN NULL ELSE capped.lsn END AS lsn,
        -- the first missing file; else, past a hole in the chain, the missing manifest's interval
        COALESCE(missing.file,
            (SELECT 'load manifest of ' || 'public.type_zoo' || ' at ' || CAST(MIN(lsn) AS VARCHAR)
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
    INSERT INTO "TRUNCATES_TYPE_ZOO" (_walstream_lsn, _walstream_seq, _walstream_commit_ts, _walstream_merged_at)
    SELECT t._walstream_lsn, t._walstream_seq, t._walstream_commit_ts, CURRENT_TIMESTAMP()
    FROM (SELECT _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM (SELECT s.* FROM "STAGING_TYPE_ZOO" AS s, (SELECT prev_lsn, lsn, lo_lsn, lo_seq, hi_lsn, hi_seq, load_lsn FROM "WALSTREAM_WATERMARKS" WHERE table_name = 'public.type_zoo') AS w
    WHERE s._walstream_xid IS NULL AND s._walstream_lsn <= w.prev_lsn
        AND s._walstream_lsn IN (SELECT lsn FROM (SELECT m.start_lsn + 1 AS lsn, (SELECT SUM(mf.row_count) FROM "WALSTREAM_MANIFEST_FILES" AS mf
            WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo') AS row_count
        FROM "WALSTREAM_MANIFESTS" AS m
        WHERE m.kind = 'load' AND EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo')
        AND NOT EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        LEFT JOIN (SELECT file, MAX(row_count) AS row_count FROM "WALSTREAM_FILES" GROUP BY file) AS fl
            ON fl.file = mf.file AND fl.row_count = mf.row_count
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo' AND fl.file IS NULL)
        AND NOT EXISTS (SELECT 1 FROM "WALSTREAM_LOADS" AS d WHERE d.table_name = 'public.type_zoo' AND d.lsn = m.start_lsn + 1)) AS l)) WHERE _walstream_op = 'T' ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS t
    LEFT JOIN (SELECT _walstream_lsn, _walstream_seq FROM "TRUNCATES_TYPE_ZOO" ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS w ON TRUE
    WHERE w._walstream_lsn IS NULL OR (t._walstream_lsn > w._walstream_lsn OR (t._walstream_lsn = w._walstream_lsn AND t._walstream_seq > w._walstream_seq));
    DELETE FROM "TRUNCATES_TYPE_ZOO"
    USING (SELECT _walstream_lsn, _walstream_seq FROM "TRUNCATES_TYPE_ZOO" ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS _walstream_watermark
    WHERE (_walstream_watermark._walstream_lsn > "TRUNCATES_TYPE_ZOO"._walstream_lsn OR (_walstream_watermark._walstream_lsn = "TRUNCATES_TYPE_ZOO"._walstream_lsn AND _walstream_watermark._walstream_seq > "TRUNCATES_TYPE_ZOO"._walstream_seq));
    DELETE FROM "TYPE_ZOO"
    USING (SELECT _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM (SELECT s.* FROM "STAGING_TYPE_ZOO" AS s, (SELECT prev_lsn, lsn, lo_lsn, lo_seq, hi_lsn, hi_seq, load_lsn FROM "WALSTREAM_WATERMARKS" WHERE table_name = 'public.type_zoo') AS w
    WHERE s._walstream_xid IS NULL AND s._walstream_lsn <= w.prev_lsn
        AND s._walstream_lsn IN (SELECT lsn FROM (SELECT m.start_lsn + 1 AS lsn, (SELECT SUM(mf.row_count) FROM "WALSTREAM_MANIFEST_FILES" AS mf
            WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo') AS row_count
        FROM "WALSTREAM_MANIFESTS" AS m
        WHERE m.kind = 'load' AND EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo')
        AND NOT EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        LEFT JOIN (SELECT file, MAX(row_count) AS row_count FROM "WALSTREAM_FILES" GROUP BY file) AS fl
            ON fl.file = mf.file AND fl.row_count = mf.row_count
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo' AND fl.file IS NULL)
        AND NOT EXISTS (SELECT 1 FROM "WALSTREAM_LOADS" AS d WHERE d.table_name = 'public.type_zoo' AND d.lsn = m.start_lsn + 1)) AS l)) WHERE _walstream_op = 'T' ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS _walstream_truncate
    WHERE (_walstream_truncate._walstream_lsn > "TYPE_ZOO"._walstream_lsn OR (_walstream_truncate._walstream_lsn = "TYPE_ZOO"._walstream_lsn AND _walstream_truncate._walstream_seq > "TYPE_ZOO"._walstream_seq));
    DELETE FROM "TOMBSTONES_TYPE_ZOO"
    USING (SELECT _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM (SELECT s.* FROM "STAGING_TYPE_ZOO" AS s, (SELECT prev_lsn, lsn, lo_lsn, lo_seq, hi_lsn, hi_seq, load_lsn FROM "WALSTREAM_WATERMARKS" WHERE table_name = 'public.type_zoo') AS w
    WHERE s._walstream_xid IS NULL AND s._walstream_lsn <= w.prev_lsn
        AND s._walstream_lsn IN (SELECT lsn FROM (SELECT m.start_lsn + 1 AS lsn, (SELECT SUM(mf.row_count) FROM "WALSTREAM_MANIFEST_FILES" AS mf
            WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo') AS row_count
        FROM "WALSTREAM_MANIFESTS" AS m
        WHERE m.kind = 'load' AND EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo')
        AND NOT EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        LEFT JOIN (SELECT file, MAX(row_count) AS row_count FROM "WALSTREAM_FILES" GROUP BY file) AS fl
            ON fl.file = mf.file AND fl.row_count = mf.row_count
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo' AND fl.file IS NULL)
        AND NOT EXISTS (SELECT 1 FROM "WALSTREAM_LOADS" AS d WHERE d.table_name = 'public.type_zoo' AND d.lsn = m.start_lsn + 1)) AS l)) WHERE _walstream_op = 'T' ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS _walstream_truncate
    WHERE (_walstream_truncate._walstream_lsn > "TOMBSTONES_TYPE_ZOO"._walstream_lsn OR (_walstream_truncate._walstream_lsn = "TOMBSTONES_TYPE_ZOO"._walstream_lsn AND _walstream_truncate._walstream_seq > "TOMBSTONES_TYPE_ZOO"._walstream_seq));
    INSERT INTO "CHANGES_TYPE_ZOO" (_walstream_op, "ID", "FLAG", "SMALL", "MEDIUM", "OBJECT_ID", "REAL_VALUE", "DOUBLE_VALUE", "PRICE", "WIDEST", "ANY_NUMERIC", "HUGE_NUMERIC", "CASH", "BODY", "CODE", "FIXED", "HANDLE", "ADDRESS", "NETWORK", "MAC", "DURATION", "PERIOD", "MARKUP", "SEARCH", "BITS", "UID", "DOCUMENT", "BINARY_DOCUMENT", "PAYLOAD", "DAY", "CLOCK", "CLOCK_TZ", "LOCAL_TS", "INSTANT", "NUMBERS", "LABELS", "PRICES", "DOCUMENTS", "INSTANTS", "MOOD", _walstream_lossy, _walstream_lsn, _walstream_seq, _walstream_commit_ts)
    WITH _walstream_watermark AS (
        SELECT _walstream_lsn, _walstream_seq
        FROM "TRUNCATES_TYPE_ZOO"
        ORDER BY _walstream_lsn DESC, _walstream_seq DESC
        LIMIT 1
    ),
    _walstream_incoming AS (
        SELECT
            COALESCE(s._walstream_op, 'I') AS _walstream_op,
            s."ID",
            s."FLAG",
            s."SMALL",
            s."MEDIUM",
            s."OBJECT_ID",
            s."REAL_VALUE",
            s."DOUBLE_VALUE",
            s."PRICE",
            s."WIDEST",
            s."ANY_NUMERIC",
            s."HUGE_NUMERIC",
            s."CASH",
            s."BODY",
            s."CODE",
            s."FIXED",
            s."HANDLE",
            s."ADDRESS",
            s."NETWORK",
            s."MAC",
            s."DURATION",
            s."PERIOD",
            s."MARKUP",
            s."SEARCH",
            s."BITS",
            s."UID",
            s."DOCUMENT",
            s."BINARY_DOCUMENT",
            s."PAYLOAD",
            s."DAY",
            s."CLOCK",
            s."CLOCK_TZ",
            s."LOCAL_TS",
            s."INSTANT",
            s."NUMBERS",
            s."LABELS",
            s."PRICES",
            s."DOCUMENTS",
            s."INSTANTS",
            s."MOOD",
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
        FROM (SELECT s.* FROM "STAGING_TYPE_ZOO" AS s, (SELECT prev_lsn, lsn, lo_lsn, lo_seq, hi_lsn, hi_seq, load_lsn FROM "WALSTREAM_WATERMARKS" WHERE table_name = 'public.type_zoo') AS w
        WHERE s._walstream_xid IS NULL AND s._walstream_lsn <= w.prev_lsn
            AND s._walstream_lsn IN (SELECT lsn FROM (SELECT m.start_lsn + 1 AS lsn, (SELECT SUM(mf.row_count) FROM "WALSTREAM_MANIFEST_FILES" AS mf
                WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo') AS row_count
            FROM "WALSTREAM_MANIFESTS" AS m
            WHERE m.kind = 'load' AND EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
            WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo')
            AND NOT EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
            LEFT JOIN (SELECT file, MAX(row_count) AS row_count FROM "WALSTREAM_FILES" GROUP BY file) AS fl
                ON fl.file = mf.file AND fl.row_count = mf.row_count
            WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo' AND fl.file IS NULL)
            AND NOT EXISTS (SELECT 1 FROM "WALSTREAM_LOADS" AS d WHERE d.table_name = 'public.type_zoo' AND d.lsn = m.start_lsn + 1)) AS l)) AS s
    ),
    _walstream_staged AS (
        SELECT i._walstream_op, i."ID", i."FLAG", i."SMALL", i."MEDIUM", i."OBJECT_ID", i."REAL_VALUE", i."DOUBLE_VALUE", i."PRICE", i."WIDEST", i."ANY_NUMERIC", i."HUGE_NUMERIC", i."CASH", i."BODY", i."CODE", i."FIXED", i."HANDLE", i."ADDRESS", i."NETWORK", i."MAC", i."DURATION", i."PERIOD", i."MARKUP", i."SEARCH", i."BITS", i."UID", i."DOCUMENT", i."BINARY_DOCUMENT", i."PAYLOAD", i."DAY", i."CLOCK", i."CLOCK_TZ", i."LOCAL_TS", i."INSTANT", i."NUMBERS", i."LABELS", i."PRICES", i."DOCUMENTS", i."INSTANTS", i."MOOD", i._walstream_lsn, i._walstream_seq, i._walstream_commit_ts, i._walstream_unchanged, i._walstream_lossy, i._walstream_key_change
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
            st."FLAG",
            st."SMALL",
            st."MEDIUM",
            st."OBJECT_ID",
            st."REAL_VALUE",
            st."DOUBLE_VALUE",
            st."PRICE",
            st."WIDEST",
            st."ANY_NUMERIC",
            st."HUGE_NUMERIC",
            st."CASH",
            st."BODY",
            st."CODE",
            st."FIXED",
            st."HANDLE",
            st."ADDRESS",
            st."NETWORK",
            st."MAC",
            st."DURATION",
            st."PERIOD",
            st."MARKUP",
            st."SEARCH",
            st."BITS",
            st."UID",
            st."DOCUMENT",
            st."BINARY_DOCUMENT",
            st."PAYLOAD",
            st."DAY",
            st."CLOCK",
            st."CLOCK_TZ",
            st."LOCAL_TS",
            st."INSTANT",
            st."NUMBERS",
            st."LABELS",
            st."PRICES",
            st."DOCUMENTS",
            st."INSTANTS",
            st."MOOD",
            st._walstream_lsn,
            st._walstream_seq,
            st._walstream_commit_ts,
            st._walstream_unchanged,
            st._walstream_lossy,
            st._walstream_key_change,
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
            l._walstream_key_change,
            (l._walstream_life_no = 0 AND f."ID" IS NOT NULL
                AND (l._walstream_lsn > f._walstream_lsn OR (l._walstream_lsn = f._walstream_lsn AND l._walstream_seq > f._walstream_seq))) AS _walstream_continues
        FROM _walstream_lived AS l
        LEFT JOIN "TYPE_ZOO" AS f ON f."ID" = l."ID"
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
        SELECT n._walstream_ord, u.value::VARCHAR AS _walstream_column
        FROM _walstream_numbered AS n, LATERAL FLATTEN(INPUT => n._walstream_unchanged) AS u
    ),
    _walstream_flags AS (
        SELECT
            _walstream_ord,
            MAX(CASE WHEN _walstream_column = 'price' THEN 1 ELSE 0 END) AS _walstream_unchanged_0,
            MAX(CASE WHEN _walstream_column = 'widest' THEN 1 ELSE 0 END) AS _walstream_unchanged_1,
            MAX(CASE WHEN _walstream_column = 'any_numeric' THEN 1 ELSE 0 END) AS _walstream_unchanged_2,
            MAX(CASE WHEN _walstream_column = 'huge_numeric' THEN 1 ELSE 0 END) AS _walstream_unchanged_3,
            MAX(CASE WHEN _walstream_column = 'body' THEN 1 ELSE 0 END) AS _walstream_unchanged_4,
            MAX(CASE WHEN _walstream_column = 'code' THEN 1 ELSE 0 END) AS _walstream_unchanged_5,
            MAX(CASE WHEN _walstream_column = 'fixed' THEN 1 ELSE 0 END) AS _walstream_unchanged_6,
            MAX(CASE WHEN _walstream_column = 'address' THEN 1 ELSE 0 END) AS _walstream_unchanged_7,
            MAX(CASE WHEN _walstream_column = 'network' THEN 1 ELSE 0 END) AS _walstream_unchanged_8,
            MAX(CASE WHEN _walstream_column = 'period' THEN 1 ELSE 0 END) AS _walstream_unchanged_9,
            MAX(CASE WHEN _walstream_column = 'markup' THEN 1 ELSE 0 END) AS _walstream_unchanged_10,
            MAX(CASE WHEN _walstream_column = 'search' THEN 1 ELSE 0 END) AS _walstream_unchanged_11,
            MAX(CASE WHEN _walstream_column = 'bits' THEN 1 ELSE 0 END) AS _walstream_unchanged_12,
            MAX(CASE WHEN _walstream_column = 'document' THEN 1 ELSE 0 END) AS _walstream_unchanged_13,
            MAX(CASE WHEN _walstream_column = 'binary_document' THEN 1 ELSE 0 END) AS _walstream_unchanged_14,
            MAX(CASE WHEN _walstream_column = 'payload' THEN 1 ELSE 0 END) AS _walstream_unchanged_15,
            MAX(CASE WHEN _walstream_column = 'numbers' THEN 1 ELSE 0 END) AS _walstream_unchanged_16,
            MAX(CASE WHEN _walstream_column = 'labels' THEN 1 ELSE 0 END) AS _walstream_unchanged_17,
            MAX(CASE WHEN _walstream_column = 'prices' THEN 1 ELSE 0 END) AS _walstream_unchanged_18,
            MAX(CASE WHEN _walstream_column = 'documents' THEN 1 ELSE 0 END) AS _walstream_unchanged_19,
            MAX(CASE WHEN _walstream_column = 'instants' THEN 1 ELSE 0 END) AS _walstream_unchanged_20,
            MAX(CASE WHEN _walstream_column = 'mood' THEN 1 ELSE 0 END) AS _walstream_unchanged_21
        FROM _walstream_unchanged_names
        GROUP BY _walstream_ord
    ),
    _walstream_sources AS (
        SELECT
            lg.*,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_0, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_0,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_0, 0) = 0 AND lg."PRICE" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_0,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_0, 0) = 0 THEN lg."PRICE" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_0,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_0, 0) = 0 THEN COALESCE(ARRAY_CONTAINS('price'::VARIANT, lg._walstream_lossy), FALSE) END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_0,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_1, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_1,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_1, 0) = 0 AND lg."WIDEST" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_1,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_1, 0) = 0 THEN lg."WIDEST" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_1,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_1, 0) = 0 THEN COALESCE(ARRAY_CONTAINS('widest'::VARIANT, lg._walstream_lossy), FALSE) END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_1,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_2, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_2,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_2, 0) = 0 AND lg."ANY_NUMERIC" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_2,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_2, 0) = 0 THEN lg."ANY_NUMERIC" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_2,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_3, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_3,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_3, 0) = 0 AND lg."HUGE_NUMERIC" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_3,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_3, 0) = 0 THEN lg."HUGE_NUMERIC" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_3,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_4, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_4,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_4, 0) = 0 AND lg."BODY" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_4,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_4, 0) = 0 THEN lg."BODY" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_4,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_5, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_5,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_5, 0) = 0 AND lg."CODE" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_5,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_5, 0) = 0 THEN lg."CODE" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_5,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_6, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_6,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_6, 0) = 0 AND lg."FIXED" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_6,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_6, 0) = 0 THEN lg."FIXED" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_6,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_7, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_7,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_7, 0) = 0 AND lg."ADDRESS" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_7,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_7, 0) = 0 THEN lg."ADDRESS" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_7,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_8, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_8,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_8, 0) = 0 AND lg."NETWORK" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_8,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_8, 0) = 0 THEN lg."NETWORK" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_8,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_9, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_9,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_9, 0) = 0 AND lg."PERIOD" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_9,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_9, 0) = 0 THEN lg."PERIOD" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_9,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_10, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_10,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_10, 0) = 0 AND lg."MARKUP" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_10,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_10, 0) = 0 THEN lg."MARKUP" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_10,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_11, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_11,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_11, 0) = 0 AND lg."SEARCH" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_11,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_11, 0) = 0 THEN lg."SEARCH" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_11,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_12, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_12,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_12, 0) = 0 AND lg."BITS" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_12,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_12, 0) = 0 THEN lg."BITS" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_12,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_13, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_13,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_13, 0) = 0 AND lg."DOCUMENT" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_13,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_13, 0) = 0 THEN lg."DOCUMENT" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_13,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_13, 0) = 0 THEN COALESCE(ARRAY_CONTAINS('document'::VARIANT, lg._walstream_lossy), FALSE) END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_13,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_14, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_14,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_14, 0) = 0 AND lg."BINARY_DOCUMENT" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_14,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_14, 0) = 0 THEN lg."BINARY_DOCUMENT" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_14,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_15, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_15,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_15, 0) = 0 AND lg."PAYLOAD" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_15,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_15, 0) = 0 THEN lg."PAYLOAD" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_15,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_15, 0) = 0 THEN COALESCE(ARRAY_CONTAINS('payload'::VARIANT, lg._walstream_lossy), FALSE) END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_15,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_16, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_16,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_16, 0) = 0 AND lg."NUMBERS" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_16,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_16, 0) = 0 THEN lg."NUMBERS" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_16,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_16, 0) = 0 THEN COALESCE(ARRAY_CONTAINS('numbers'::VARIANT, lg._walstream_lossy), FALSE) END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_16,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_17, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_17,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_17, 0) = 0 AND lg."LABELS" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_17,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_17, 0) = 0 THEN lg."LABELS" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_17,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_17, 0) = 0 THEN COALESCE(ARRAY_CONTAINS('labels'::VARIANT, lg._walstream_lossy), FALSE) END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_17,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_18, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_18,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_18, 0) = 0 AND lg."PRICES" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_18,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_18, 0) = 0 THEN lg."PRICES" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_18,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_18, 0) = 0 THEN COALESCE(ARRAY_CONTAINS('prices'::VARIANT, lg._walstream_lossy), FALSE) END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_18,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_19, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_19,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_19, 0) = 0 AND lg."DOCUMENTS" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_19,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_19, 0) = 0 THEN lg."DOCUMENTS" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_19,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_19, 0) = 0 THEN COALESCE(ARRAY_CONTAINS('documents'::VARIANT, lg._walstream_lossy), FALSE) END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_19,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_20, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_20,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_20, 0) = 0 AND lg."INSTANTS" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_20,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_20, 0) = 0 THEN lg."INSTANTS" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_20,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_20, 0) = 0 THEN COALESCE(ARRAY_CONTAINS('instants'::VARIANT, lg._walstream_lossy), FALSE) END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_20,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_21, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_21,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_21, 0) = 0 AND lg."MOOD" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_21,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_21, 0) = 0 THEN lg."MOOD" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_21
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
        w."FLAG",
        w."SMALL",
        w."MEDIUM",
        w."OBJECT_ID",
        w."REAL_VALUE",
        w."DOUBLE_VALUE",
        CASE WHEN w._walstream_source_0 IS NULL THEN b."PRICE"
            WHEN w._walstream_nonnull_0 = w._walstream_source_0 THEN w._walstream_value_0
        END AS "PRICE",
        CASE WHEN w._walstream_source_1 IS NULL THEN b."WIDEST"
            WHEN w._walstream_nonnull_1 = w._walstream_source_1 THEN w._walstream_value_1
        END AS "WIDEST",
        CASE WHEN w._walstream_source_2 IS NULL THEN b."ANY_NUMERIC"
            WHEN w._walstream_nonnull_2 = w._walstream_source_2 THEN w._walstream_value_2
        END AS "ANY_NUMERIC",
        CASE WHEN w._walstream_source_3 IS NULL THEN b."HUGE_NUMERIC"
            WHEN w._walstream_nonnull_3 = w._walstream_source_3 THEN w._walstream_value_3
        END AS "HUGE_NUMERIC",
        w."CASH",
        CASE WHEN w._walstream_source_4 IS NULL THEN b."BODY"
            WHEN w._walstream_nonnull_4 = w._walstream_source_4 THEN w._walstream_value_4
        END AS "BODY",
        CASE WHEN w._walstream_source_5 IS NULL THEN b."CODE"
            WHEN w._walstream_nonnull_5 = w._walstream_source_5 THEN w._walstream_value_5
        END AS "CODE",
        CASE WHEN w._walstream_source_6 IS NULL THEN b."FIXED"
            WHEN w._walstream_nonnull_6 = w._walstream_source_6 THEN w._walstream_value_6
        END AS "FIXED",
        w."HANDLE",
        CASE WHEN w._walstream_source_7 IS NULL THEN b."ADDRESS"
            WHEN w._walstream_nonnull_7 = w._walstream_source_7 THEN w._walstream_value_7
        END AS "ADDRESS",
        CASE WHEN w._walstream_source_8 IS NULL THEN b."NETWORK"
            WHEN w._walstream_nonnull_8 = w._walstream_source_8 THEN w._walstream_value_8
        END AS "NETWORK",
        w."MAC",
        w."DURATION",
        CASE WHEN w._walstream_source_9 IS NULL THEN b."PERIOD"
            WHEN w._walstream_nonnull_9 = w._walstream_source_9 THEN w._walstream_value_9
        END AS "PERIOD",
        CASE WHEN w._walstream_source_10 IS NULL THEN b."MARKUP"
            WHEN w._walstream_nonnull_10 = w._walstream_source_10 THEN w._walstream_value_10
        END AS "MARKUP",
        CASE WHEN w._walstream_source_11 IS NULL THEN b."SEARCH"
            WHEN w._walstream_nonnull_11 = w._walstream_source_11 THEN w._walstream_value_11
        END AS "SEARCH",
        CASE WHEN w._walstream_source_12 IS NULL THEN b."BITS"
            WHEN w._walstream_nonnull_12 = w._walstream_source_12 THEN w._walstream_value_12
        END AS "BITS",
        w."UID",
        CASE WHEN w._walstream_source_13 IS NULL THEN b."DOCUMENT"
            WHEN w._walstream_nonnull_13 = w._walstream_source_13 THEN PARSE_JSON(w._walstream_value_13, 'd')
        END AS "DOCUMENT",
        CASE WHEN w._walstream_source_14 IS NULL THEN b."BINARY_DOCUMENT"
            WHEN w._walstream_nonnull_14 = w._walstream_source_14 THEN PARSE_JSON(w._walstream_value_14, 'd')
        END AS "BINARY_DOCUMENT",
        CASE WHEN w._walstream_source_15 IS NULL THEN b."PAYLOAD"
            WHEN w._walstream_nonnull_15 = w._walstream_source_15 THEN w._walstream_value_15
        END AS "PAYLOAD",
        w."DAY",
        w."CLOCK",
        w."CLOCK_TZ",
        w."LOCAL_TS",
        w."INSTANT",
        CASE WHEN w._walstream_source_16 IS NULL THEN b."NUMBERS"
            WHEN w._walstream_nonnull_16 = w._walstream_source_16 THEN w._walstream_value_16
        END AS "NUMBERS",
        CASE WHEN w._walstream_source_17 IS NULL THEN b."LABELS"
            WHEN w._walstream_nonnull_17 = w._walstream_source_17 THEN w._walstream_value_17
        END AS "LABELS",
        CASE WHEN w._walstream_source_18 IS NULL THEN b."PRICES"
            WHEN w._walstream_nonnull_18 = w._walstream_source_18 THEN w._walstream_value_18
        END AS "PRICES",
        CASE WHEN w._walstream_source_19 IS NULL THEN b."DOCUMENTS"
            WHEN w._walstream_nonnull_19 = w._walstream_source_19 THEN w._walstream_value_19
        END AS "DOCUMENTS",
        CASE WHEN w._walstream_source_20 IS NULL THEN b."INSTANTS"
            WHEN w._walstream_nonnull_20 = w._walstream_source_20 THEN w._walstream_value_20
        END AS "INSTANTS",
        CASE WHEN w._walstream_source_21 IS NULL THEN b."MOOD"
            WHEN w._walstream_nonnull_21 = w._walstream_source_21 THEN w._walstream_value_21
        END AS "MOOD",
        CASE WHEN (CASE WHEN w._walstream_source_0 IS NULL THEN COALESCE(ARRAY_CONTAINS('price'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_0 END) OR (CASE WHEN w._walstream_source_1 IS NULL THEN COALESCE(ARRAY_CONTAINS('widest'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_1 END) OR (COALESCE(ARRAY_CONTAINS('cash'::VARIANT, w._walstream_lossy), FALSE)) OR (CASE WHEN w._walstream_source_13 IS NULL THEN COALESCE(ARRAY_CONTAINS('document'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_13 END) OR (CASE WHEN w._walstream_source_15 IS NULL THEN COALESCE(ARRAY_CONTAINS('payload'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_15 END) OR (COALESCE(ARRAY_CONTAINS('day'::VARIANT, w._walstream_lossy), FALSE)) OR (COALESCE(ARRAY_CONTAINS('clock'::VARIANT, w._walstream_lossy), FALSE)) OR (COALESCE(ARRAY_CONTAINS('local_ts'::VARIANT, w._walstream_lossy), FALSE)) OR (COALESCE(ARRAY_CONTAINS('instant'::VARIANT, w._walstream_lossy), FALSE)) OR (CASE WHEN w._walstream_source_16 IS NULL THEN COALESCE(ARRAY_CONTAINS('numbers'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_16 END) OR (CASE WHEN w._walstream_source_17 IS NULL THEN COALESCE(ARRAY_CONTAINS('labels'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_17 END) OR (CASE WHEN w._walstream_source_18 IS NULL THEN COALESCE(ARRAY_CONTAINS('prices'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_18 END) OR (CASE WHEN w._walstream_source_19 IS NULL THEN COALESCE(ARRAY_CONTAINS('documents'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_19 END) OR (CASE WHEN w._walstream_source_20 IS NULL THEN COALESCE(ARRAY_CONTAINS('instants'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_20 END) THEN ARRAY_CONSTRUCT_COMPACT(IFF(CASE WHEN w._walstream_source_0 IS NULL THEN COALESCE(ARRAY_CONTAINS('price'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_0 END, 'price', NULL), IFF(CASE WHEN w._walstream_source_1 IS NULL THEN COALESCE(ARRAY_CONTAINS('widest'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_1 END, 'widest', NULL), IFF(COALESCE(ARRAY_CONTAINS('cash'::VARIANT, w._walstream_lossy), FALSE), 'cash', NULL), IFF(CASE WHEN w._walstream_source_13 IS NULL THEN COALESCE(ARRAY_CONTAINS('document'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_13 END, 'document', NULL), IFF(CASE WHEN w._walstream_source_15 IS NULL THEN COALESCE(ARRAY_CONTAINS('payload'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_15 END, 'payload', NULL), IFF(COALESCE(ARRAY_CONTAINS('day'::VARIANT, w._walstream_lossy), FALSE), 'day', NULL), IFF(COALESCE(ARRAY_CONTAINS('clock'::VARIANT, w._walstream_lossy), FALSE), 'clock', NULL), IFF(COALESCE(ARRAY_CONTAINS('local_ts'::VARIANT, w._walstream_lossy), FALSE), 'local_ts', NULL), IFF(COALESCE(ARRAY_CONTAINS('instant'::VARIANT, w._walstream_lossy), FALSE), 'instant', NULL), IFF(CASE WHEN w._walstream_source_16 IS NULL THEN COALESCE(ARRAY_CONTAINS('numbers'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_16 END, 'numbers', NULL), IFF(CASE WHEN w._walstream_source_17 IS NULL THEN COALESCE(ARRAY_CONTAINS('labels'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_17 END, 'labels', NULL), IFF(CASE WHEN w._walstream_source_18 IS NULL THEN COALESCE(ARRAY_CONTAINS('prices'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_18 END, 'prices', NULL), IFF(CASE WHEN w._walstream_source_19 IS NULL THEN COALESCE(ARRAY_CONTAINS('documents'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_19 END, 'documents', NULL), IFF(CASE WHEN w._walstream_source_20 IS NULL THEN COALESCE(ARRAY_CONTAINS('instants'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_20 END, 'instants', NULL)) END AS _walstream_lossy,
        w._walstream_lsn,
        w._walstream_seq,
        w._walstream_commit_ts
    FROM _walstream_winners AS w
    JOIN _walstream_starts AS r ON r._walstream_life = w._walstream_lineage
    LEFT JOIN "TYPE_ZOO" AS b ON r._walstream_continues AND b."ID" = r."ID"
    LEFT JOIN "TYPE_ZOO" AS f ON f."ID" = w."ID"
    LEFT JOIN "TOMBSTONES_TYPE_ZOO" AS t ON t."ID" = w."ID"
    WHERE (f."ID" IS NULL OR (w._walstream_lsn > f._walstream_lsn OR (w._walstream_lsn = f._walstream_lsn AND w._walstream_seq > f._walstream_seq)))
        AND (t."ID" IS NULL OR (w._walstream_lsn > t._walstream_lsn OR (w._walstream_lsn = t._walstream_lsn AND w._walstream_seq > t._walstream_seq)));
    MERGE INTO "TYPE_ZOO" AS f
    USING "CHANGES_TYPE_ZOO" AS c
    ON f."ID" = c."ID"
    WHEN MATCHED AND c._walstream_op = 'D' AND (c._walstream_lsn > f._walstream_lsn OR (c._walstream_lsn = f._walstream_lsn AND c._walstream_seq > f._walstream_seq)) THEN DELETE
    WHEN MATCHED AND c._walstream_op <> 'D' AND (c._walstream_lsn > f._walstream_lsn OR (c._walstream_lsn = f._walstream_lsn AND c._walstream_seq > f._walstream_seq)) THEN UPDATE SET
        "FLAG" = c."FLAG",
        "SMALL" = c."SMALL",
        "MEDIUM" = c."MEDIUM",
        "OBJECT_ID" = c."OBJECT_ID",
        "REAL_VALUE" = c."REAL_VALUE",
        "DOUBLE_VALUE" = c."DOUBLE_VALUE",
        "PRICE" = c."PRICE",
        "WIDEST" = c."WIDEST",
        "ANY_NUMERIC" = c."ANY_NUMERIC",
        "HUGE_NUMERIC" = c."HUGE_NUMERIC",
        "CASH" = c."CASH",
        "BODY" = c."BODY",
        "CODE" = c."CODE",
        "FIXED" = c."FIXED",
        "HANDLE" = c."HANDLE",
        "ADDRESS" = c."ADDRESS",
        "NETWORK" = c."NETWORK",
        "MAC" = c."MAC",
        "DURATION" = c."DURATION",
        "PERIOD" = c."PERIOD",
        "MARKUP" = c."MARKUP",
        "SEARCH" = c."SEARCH",
        "BITS" = c."BITS",
        "UID" = c."UID",
        "DOCUMENT" = c."DOCUMENT",
        "BINARY_DOCUMENT" = c."BINARY_DOCUMENT",
        "PAYLOAD" = c."PAYLOAD",
        "DAY" = c."DAY",
        "CLOCK" = c."CLOCK",
        "CLOCK_TZ" = c."CLOCK_TZ",
        "LOCAL_TS" = c."LOCAL_TS",
        "INSTANT" = c."INSTANT",
        "NUMBERS" = c."NUMBERS",
        "LABELS" = c."LABELS",
        "PRICES" = c."PRICES",
        "DOCUMENTS" = c."DOCUMENTS",
        "INSTANTS" = c."INSTANTS",
        "MOOD" = c."MOOD",
        _walstream_lossy = c._walstream_lossy,
        _walstream_lsn = c._walstream_lsn,
        _walstream_seq = c._walstream_seq,
        _walstream_commit_ts = c._walstream_commit_ts
    WHEN NOT MATCHED AND c._walstream_op <> 'D' THEN INSERT ("ID", "FLAG", "SMALL", "MEDIUM", "OBJECT_ID", "REAL_VALUE", "DOUBLE_VALUE", "PRICE", "WIDEST", "ANY_NUMERIC", "HUGE_NUMERIC", "CASH", "BODY", "CODE", "FIXED", "HANDLE", "ADDRESS", "NETWORK", "MAC", "DURATION", "PERIOD", "MARKUP", "SEARCH", "BITS", "UID", "DOCUMENT", "BINARY_DOCUMENT", "PAYLOAD", "DAY", "CLOCK", "CLOCK_TZ", "LOCAL_TS", "INSTANT", "NUMBERS", "LABELS", "PRICES", "DOCUMENTS", "INSTANTS", "MOOD", _walstream_lossy, _walstream_lsn, _walstream_seq, _walstream_commit_ts)
    VALUES (c."ID", c."FLAG", c."SMALL", c."MEDIUM", c."OBJECT_ID", c."REAL_VALUE", c."DOUBLE_VALUE", c."PRICE", c."WIDEST", c."ANY_NUMERIC", c."HUGE_NUMERIC", c."CASH", c."BODY", c."CODE", c."FIXED", c."HANDLE", c."ADDRESS", c."NETWORK", c."MAC", c."DURATION", c."PERIOD", c."MARKUP", c."SEARCH", c."BITS", c."UID", c."DOCUMENT", c."BINARY_DOCUMENT", c."PAYLOAD", c."DAY", c."CLOCK", c."CLOCK_TZ", c."LOCAL_TS", c."INSTANT", c."NUMBERS", c."LABELS", c."PRICES", c."DOCUMENTS", c."INSTANTS", c."MOOD", c._walstream_lossy, c._walstream_lsn, c._walstream_seq, c._walstream_commit_ts);
    MERGE INTO "TOMBSTONES_TYPE_ZOO" AS t
    USING (SELECT "ID", _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM "CHANGES_TYPE_ZOO" WHERE _walstream_op = 'D') AS c
    ON t."ID" = c."ID"
    WHEN MATCHED AND (c._walstream_lsn > t._walstream_lsn OR (c._walstream_lsn = t._walstream_lsn AND c._walstream_seq > t._walstream_seq)) THEN UPDATE SET
        _walstream_lsn = c._walstream_lsn, _walstream_seq = c._walstream_seq,
        _walstream_commit_ts = c._walstream_commit_ts, _walstream_merged_at = CURRENT_TIMESTAMP()
    WHEN NOT MATCHED THEN INSERT ("ID", _walstream_lsn, _walstream_seq, _walstream_commit_ts, _walstream_merged_at)
    VALUES (c."ID", c._walstream_lsn, c._walstream_seq, c._walstream_commit_ts, CURRENT_TIMESTAMP());
    DELETE FROM "TOMBSTONES_TYPE_ZOO"
    USING "CHANGES_TYPE_ZOO" AS c
    WHERE c._walstream_op <> 'D' AND "TOMBSTONES_TYPE_ZOO"."ID" = c."ID";
    DELETE FROM "TOMBSTONES_TYPE_ZOO"
    WHERE _walstream_merged_at < DATEADD(DAY, -7, CURRENT_TIMESTAMP());
    DELETE FROM "CHANGES_TYPE_ZOO";
    INSERT INTO "TRUNCATES_TYPE_ZOO" (_walstream_lsn, _walstream_seq, _walstream_commit_ts, _walstream_merged_at)
    SELECT t._walstream_lsn, t._walstream_seq, t._walstream_commit_ts, CURRENT_TIMESTAMP()
    FROM (SELECT _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM (SELECT s.* FROM "STAGING_TYPE_ZOO" AS s LEFT JOIN (SELECT prev_lsn, lsn, lo_lsn, lo_seq, hi_lsn, hi_seq, load_lsn FROM "WALSTREAM_WATERMARKS" WHERE table_name = 'public.type_zoo') AS w ON TRUE
    WHERE s._walstream_lsn IS NULL
        OR ((s._walstream_lsn > w.lo_lsn
                OR s._walstream_lsn = w.lo_lsn
                    AND COALESCE(s._walstream_seq, 0) > w.lo_seq)
            AND (s._walstream_lsn < w.hi_lsn
                OR s._walstream_lsn = w.hi_lsn
                    AND COALESCE(s._walstream_seq, 0) <= w.hi_seq))) WHERE _walstream_op = 'T' ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS t
    LEFT JOIN (SELECT _walstream_lsn, _walstream_seq FROM "TRUNCATES_TYPE_ZOO" ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS w ON TRUE
    WHERE w._walstream_lsn IS NULL OR (t._walstream_lsn > w._walstream_lsn OR (t._walstream_lsn = w._walstream_lsn AND t._walstream_seq > w._walstream_seq));
    DELETE FROM "TRUNCATES_TYPE_ZOO"
    USING (SELECT _walstream_lsn, _walstream_seq FROM "TRUNCATES_TYPE_ZOO" ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS _walstream_watermark
    WHERE (_walstream_watermark._walstream_lsn > "TRUNCATES_TYPE_ZOO"._walstream_lsn OR (_walstream_watermark._walstream_lsn = "TRUNCATES_TYPE_ZOO"._walstream_lsn AND _walstream_watermark._walstream_seq > "TRUNCATES_TYPE_ZOO"._walstream_seq));
    DELETE FROM "TYPE_ZOO"
    USING (SELECT _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM (SELECT s.* FROM "STAGING_TYPE_ZOO" AS s LEFT JOIN (SELECT prev_lsn, lsn, lo_lsn, lo_seq, hi_lsn, hi_seq, load_lsn FROM "WALSTREAM_WATERMARKS" WHERE table_name = 'public.type_zoo') AS w ON TRUE
    WHERE s._walstream_lsn IS NULL
        OR ((s._walstream_lsn > w.lo_lsn
                OR s._walstream_lsn = w.lo_lsn
                    AND COALESCE(s._walstream_seq, 0) > w.lo_seq)
            AND (s._walstream_lsn < w.hi_lsn
                OR s._walstream_lsn = w.hi_lsn
                    AND COALESCE(s._walstream_seq, 0) <= w.hi_seq))) WHERE _walstream_op = 'T' ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS _walstream_truncate
    WHERE (_walstream_truncate._walstream_lsn > "TYPE_ZOO"._walstream_lsn OR (_walstream_truncate._walstream_lsn = "TYPE_ZOO"._walstream_lsn AND _walstream_truncate._walstream_seq > "TYPE_ZOO"._walstream_seq));
    DELETE FROM "TOMBSTONES_TYPE_ZOO"
    USING (SELECT _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM (SELECT s.* FROM "STAGING_TYPE_ZOO" AS s LEFT JOIN (SELECT prev_lsn, lsn, lo_lsn, lo_seq, hi_lsn, hi_seq, load_lsn FROM "WALSTREAM_WATERMARKS" WHERE table_name = 'public.type_zoo') AS w ON TRUE
    WHERE s._walstream_lsn IS NULL
        OR ((s._walstream_lsn > w.lo_lsn
                OR s._walstream_lsn = w.lo_lsn
                    AND COALESCE(s._walstream_seq, 0) > w.lo_seq)
            AND (s._walstream_lsn < w.hi_lsn
                OR s._walstream_lsn = w.hi_lsn
                    AND COALESCE(s._walstream_seq, 0) <= w.hi_seq))) WHERE _walstream_op = 'T' ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS _walstream_truncate
    WHERE (_walstream_truncate._walstream_lsn > "TOMBSTONES_TYPE_ZOO"._walstream_lsn OR (_walstream_truncate._walstream_lsn = "TOMBSTONES_TYPE_ZOO"._walstream_lsn AND _walstream_truncate._walstream_seq > "TOMBSTONES_TYPE_ZOO"._walstream_seq));
    INSERT INTO "CHANGES_TYPE_ZOO" (_walstream_op, "ID", "FLAG", "SMALL", "MEDIUM", "OBJECT_ID", "REAL_VALUE", "DOUBLE_VALUE", "PRICE", "WIDEST", "ANY_NUMERIC", "HUGE_NUMERIC", "CASH", "BODY", "CODE", "FIXED", "HANDLE", "ADDRESS", "NETWORK", "MAC", "DURATION", "PERIOD", "MARKUP", "SEARCH", "BITS", "UID", "DOCUMENT", "BINARY_DOCUMENT", "PAYLOAD", "DAY", "CLOCK", "CLOCK_TZ", "LOCAL_TS", "INSTANT", "NUMBERS", "LABELS", "PRICES", "DOCUMENTS", "INSTANTS", "MOOD", _walstream_lossy, _walstream_lsn, _walstream_seq, _walstream_commit_ts)
    WITH _walstream_watermark AS (
        SELECT _walstream_lsn, _walstream_seq
        FROM "TRUNCATES_TYPE_ZOO"
        ORDER BY _walstream_lsn DESC, _walstream_seq DESC
        LIMIT 1
    ),
    _walstream_incoming AS (
        SELECT
            COALESCE(s._walstream_op, 'I') AS _walstream_op,
            s."ID",
            s."FLAG",
            s."SMALL",
            s."MEDIUM",
            s."OBJECT_ID",
            s."REAL_VALUE",
            s."DOUBLE_VALUE",
            s."PRICE",
            s."WIDEST",
            s."ANY_NUMERIC",
            s."HUGE_NUMERIC",
            s."CASH",
            s."BODY",
            s."CODE",
            s."FIXED",
            s."HANDLE",
            s."ADDRESS",
            s."NETWORK",
            s."MAC",
            s."DURATION",
            s."PERIOD",
            s."MARKUP",
            s."SEARCH",
            s."BITS",
            s."UID",
            s."DOCUMENT",
            s."BINARY_DOCUMENT",
            s."PAYLOAD",
            s."DAY",
            s."CLOCK",
            s."CLOCK_TZ",
            s."LOCAL_TS",
            s."INSTANT",
            s."NUMBERS",
            s."LABELS",
            s."PRICES",
            s."DOCUMENTS",
            s."INSTANTS",
            s."MOOD",
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
        FROM (SELECT s.* FROM "STAGING_TYPE_ZOO" AS s LEFT JOIN (SELECT prev_lsn, lsn, lo_lsn, lo_seq, hi_lsn, hi_seq, load_lsn FROM "WALSTREAM_WATERMARKS" WHERE table_name = 'public.type_zoo') AS w ON TRUE
        WHERE s._walstream_lsn IS NULL
            OR ((s._walstream_lsn > w.lo_lsn
                    OR s._walstream_lsn = w.lo_lsn
                        AND COALESCE(s._walstream_seq, 0) > w.lo_seq)
                AND (s._walstream_lsn < w.hi_lsn
                    OR s._walstream_lsn = w.hi_lsn
                        AND COALESCE(s._walstream_seq, 0) <= w.hi_seq))) AS s
    ),
    _walstream_staged AS (
        SELECT i._walstream_op, i."ID", i."FLAG", i."SMALL", i."MEDIUM", i."OBJECT_ID", i."REAL_VALUE", i."DOUBLE_VALUE", i."PRICE", i."WIDEST", i."ANY_NUMERIC", i."HUGE_NUMERIC", i."CASH", i."BODY", i."CODE", i."FIXED", i."HANDLE", i."ADDRESS", i."NETWORK", i."MAC", i."DURATION", i."PERIOD", i."MARKUP", i."SEARCH", i."BITS", i."UID", i."DOCUMENT", i."BINARY_DOCUMENT", i."PAYLOAD", i."DAY", i."CLOCK", i."CLOCK_TZ", i."LOCAL_TS", i."INSTANT", i."NUMBERS", i."LABELS", i."PRICES", i."DOCUMENTS", i."INSTANTS", i."MOOD", i._walstream_lsn, i._walstream_seq, i._walstream_commit_ts, i._walstream_unchanged, i._walstream_lossy, i._walstream_key_change
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
            st."FLAG",
            st."SMALL",
            st."MEDIUM",
            st."OBJECT_ID",
            st."REAL_VALUE",
            st."DOUBLE_VALUE",
            st."PRICE",
            st."WIDEST",
            st."ANY_NUMERIC",
            st."HUGE_NUMERIC",
            st."CASH",
            st."BODY",
            st."CODE",
            st."FIXED",
            st."HANDLE",
            st."ADDRESS",
            st."NETWORK",
            st."MAC",
            st."DURATION",
            st."PERIOD",
            st."MARKUP",
            st."SEARCH",
            st."BITS",
            st."UID",
            st."DOCUMENT",
            st."BINARY_DOCUMENT",
            st."PAYLOAD",
            st."DAY",
            st."CLOCK",
            st."CLOCK_TZ",
            st."LOCAL_TS",
            st."INSTANT",
            st."NUMBERS",
            st."LABELS",
            st."PRICES",
            st."DOCUMENTS",
            st."INSTANTS",
            st."MOOD",
            st._walstream_lsn,
            st._walstream_seq,
            st._walstream_commit_ts,
            st._walstream_unchanged,
            st._walstream_lossy,
            st._walstream_key_change,
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
            l._walstream_key_change,
            (l._walstream_life_no = 0 AND f."ID" IS NOT NULL
                AND (l._walstream_lsn > f._walstream_lsn OR (l._walstream_lsn = f._walstream_lsn AND l._walstream_seq > f._walstream_seq))) AS _walstream_continues
        FROM _walstream_lived AS l
        LEFT JOIN "TYPE_ZOO" AS f ON f."ID" = l."ID"
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
        SELECT n._walstream_ord, u.value::VARCHAR AS _walstream_column
        FROM _walstream_numbered AS n, LATERAL FLATTEN(INPUT => n._walstream_unchanged) AS u
    ),
    _walstream_flags AS (
        SELECT
            _walstream_ord,
            MAX(CASE WHEN _walstream_column = 'price' THEN 1 ELSE 0 END) AS _walstream_unchanged_0,
            MAX(CASE WHEN _walstream_column = 'widest' THEN 1 ELSE 0 END) AS _walstream_unchanged_1,
            MAX(CASE WHEN _walstream_column = 'any_numeric' THEN 1 ELSE 0 END) AS _walstream_unchanged_2,
            MAX(CASE WHEN _walstream_column = 'huge_numeric' THEN 1 ELSE 0 END) AS _walstream_unchanged_3,
            MAX(CASE WHEN _walstream_column = 'body' THEN 1 ELSE 0 END) AS _walstream_unchanged_4,
            MAX(CASE WHEN _walstream_column = 'code' THEN 1 ELSE 0 END) AS _walstream_unchanged_5,
            MAX(CASE WHEN _walstream_column = 'fixed' THEN 1 ELSE 0 END) AS _walstream_unchanged_6,
            MAX(CASE WHEN _walstream_column = 'address' THEN 1 ELSE 0 END) AS _walstream_unchanged_7,
            MAX(CASE WHEN _walstream_column = 'network' THEN 1 ELSE 0 END) AS _walstream_unchanged_8,
            MAX(CASE WHEN _walstream_column = 'period' THEN 1 ELSE 0 END) AS _walstream_unchanged_9,
            MAX(CASE WHEN _walstream_column = 'markup' THEN 1 ELSE 0 END) AS _walstream_unchanged_10,
            MAX(CASE WHEN _walstream_column = 'search' THEN 1 ELSE 0 END) AS _walstream_unchanged_11,
            MAX(CASE WHEN _walstream_column = 'bits' THEN 1 ELSE 0 END) AS _walstream_unchanged_12,
            MAX(CASE WHEN _walstream_column = 'document' THEN 1 ELSE 0 END) AS _walstream_unchanged_13,
            MAX(CASE WHEN _walstream_column = 'binary_document' THEN 1 ELSE 0 END) AS _walstream_unchanged_14,
            MAX(CASE WHEN _walstream_column = 'payload' THEN 1 ELSE 0 END) AS _walstream_unchanged_15,
            MAX(CASE WHEN _walstream_column = 'numbers' THEN 1 ELSE 0 END) AS _walstream_unchanged_16,
            MAX(CASE WHEN _walstream_column = 'labels' THEN 1 ELSE 0 END) AS _walstream_unchanged_17,
            MAX(CASE WHEN _walstream_column = 'prices' THEN 1 ELSE 0 END) AS _walstream_unchanged_18,
            MAX(CASE WHEN _walstream_column = 'documents' THEN 1 ELSE 0 END) AS _walstream_unchanged_19,
            MAX(CASE WHEN _walstream_column = 'instants' THEN 1 ELSE 0 END) AS _walstream_unchanged_20,
            MAX(CASE WHEN _walstream_column = 'mood' THEN 1 ELSE 0 END) AS _walstream_unchanged_21
        FROM _walstream_unchanged_names
        GROUP BY _walstream_ord
    ),
    _walstream_sources AS (
        SELECT
            lg.*,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_0, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_0,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_0, 0) = 0 AND lg."PRICE" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_0,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_0, 0) = 0 THEN lg."PRICE" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_0,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_0, 0) = 0 THEN COALESCE(ARRAY_CONTAINS('price'::VARIANT, lg._walstream_lossy), FALSE) END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_0,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_1, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_1,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_1, 0) = 0 AND lg."WIDEST" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_1,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_1, 0) = 0 THEN lg."WIDEST" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_1,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_1, 0) = 0 THEN COALESCE(ARRAY_CONTAINS('widest'::VARIANT, lg._walstream_lossy), FALSE) END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_1,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_2, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_2,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_2, 0) = 0 AND lg."ANY_NUMERIC" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_2,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_2, 0) = 0 THEN lg."ANY_NUMERIC" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_2,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_3, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_3,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_3, 0) = 0 AND lg."HUGE_NUMERIC" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_3,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_3, 0) = 0 THEN lg."HUGE_NUMERIC" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_3,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_4, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_4,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_4, 0) = 0 AND lg."BODY" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_4,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_4, 0) = 0 THEN lg."BODY" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_4,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_5, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_5,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_5, 0) = 0 AND lg."CODE" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_5,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_5, 0) = 0 THEN lg."CODE" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_5,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_6, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_6,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_6, 0) = 0 AND lg."FIXED" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_6,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_6, 0) = 0 THEN lg."FIXED" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_6,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_7, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_7,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_7, 0) = 0 AND lg."ADDRESS" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_7,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_7, 0) = 0 THEN lg."ADDRESS" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_7,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_8, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_8,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_8, 0) = 0 AND lg."NETWORK" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_8,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_8, 0) = 0 THEN lg."NETWORK" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_8,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_9, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_9,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_9, 0) = 0 AND lg."PERIOD" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_9,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_9, 0) = 0 THEN lg."PERIOD" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_9,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_10, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_10,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_10, 0) = 0 AND lg."MARKUP" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_10,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_10, 0) = 0 THEN lg."MARKUP" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_10,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_11, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_11,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_11, 0) = 0 AND lg."SEARCH" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_11,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_11, 0) = 0 THEN lg."SEARCH" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_11,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_12, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_12,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_12, 0) = 0 AND lg."BITS" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_12,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_12, 0) = 0 THEN lg."BITS" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_12,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_13, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_13,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_13, 0) = 0 AND lg."DOCUMENT" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_13,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_13, 0) = 0 THEN lg."DOCUMENT" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_13,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_13, 0) = 0 THEN COALESCE(ARRAY_CONTAINS('document'::VARIANT, lg._walstream_lossy), FALSE) END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_13,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_14, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_14,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_14, 0) = 0 AND lg."BINARY_DOCUMENT" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_14,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_14, 0) = 0 THEN lg."BINARY_DOCUMENT" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_14,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_15, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_15,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_15, 0) = 0 AND lg."PAYLOAD" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_15,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_15, 0) = 0 THEN lg."PAYLOAD" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_15,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_15, 0) = 0 THEN COALESCE(ARRAY_CONTAINS('payload'::VARIANT, lg._walstream_lossy), FALSE) END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_15,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_16, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_16,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_16, 0) = 0 AND lg."NUMBERS" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_16,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_16, 0) = 0 THEN lg."NUMBERS" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_16,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_16, 0) = 0 THEN COALESCE(ARRAY_CONTAINS('numbers'::VARIANT, lg._walstream_lossy), FALSE) END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_16,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_17, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_17,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_17, 0) = 0 AND lg."LABELS" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_17,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_17, 0) = 0 THEN lg."LABELS" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_17,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_17, 0) = 0 THEN COALESCE(ARRAY_CONTAINS('labels'::VARIANT, lg._walstream_lossy), FALSE) END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_17,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_18, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_18,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_18, 0) = 0 AND lg."PRICES" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_18,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_18, 0) = 0 THEN lg."PRICES" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_18,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_18, 0) = 0 THEN COALESCE(ARRAY_CONTAINS('prices'::VARIANT, lg._walstream_lossy), FALSE) END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_18,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_19, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_19,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_19, 0) = 0 AND lg."DOCUMENTS" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_19,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_19, 0) = 0 THEN lg."DOCUMENTS" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_19,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_19, 0) = 0 THEN COALESCE(ARRAY_CONTAINS('documents'::VARIANT, lg._walstream_lossy), FALSE) END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_19,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_20, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_20,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_20, 0) = 0 AND lg."INSTANTS" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_20,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_20, 0) = 0 THEN lg."INSTANTS" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_20,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_20, 0) = 0 THEN COALESCE(ARRAY_CONTAINS('instants'::VARIANT, lg._walstream_lossy), FALSE) END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_20,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_21, 0) = 0 THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_source_21,
            MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_21, 0) = 0 AND lg."MOOD" IS NOT NULL THEN lg._walstream_ord END) OVER (
                PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
            ) AS _walstream_nonnull_21,
            LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_21, 0) = 0 THEN lg."MOOD" END) IGNORE NULLS OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_21
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
        w."FLAG",
        w."SMALL",
        w."MEDIUM",
        w."OBJECT_ID",
        w."REAL_VALUE",
        w."DOUBLE_VALUE",
        CASE WHEN w._walstream_source_0 IS NULL THEN b."PRICE"
            WHEN w._walstream_nonnull_0 = w._walstream_source_0 THEN w._walstream_value_0
        END AS "PRICE",
        CASE WHEN w._walstream_source_1 IS NULL THEN b."WIDEST"
            WHEN w._walstream_nonnull_1 = w._walstream_source_1 THEN w._walstream_value_1
        END AS "WIDEST",
        CASE WHEN w._walstream_source_2 IS NULL THEN b."ANY_NUMERIC"
            WHEN w._walstream_nonnull_2 = w._walstream_source_2 THEN w._walstream_value_2
        END AS "ANY_NUMERIC",
        CASE WHEN w._walstream_source_3 IS NULL THEN b."HUGE_NUMERIC"
            WHEN w._walstream_nonnull_3 = w._walstream_source_3 THEN w._walstream_value_3
        END AS "HUGE_NUMERIC",
        w."CASH",
        CASE WHEN w._walstream_source_4 IS NULL THEN b."BODY"
            WHEN w._walstream_nonnull_4 = w._walstream_source_4 THEN w._walstream_value_4
        END AS "BODY",
        CASE WHEN w._walstream_source_5 IS NULL THEN b."CODE"
            WHEN w._walstream_nonnull_5 = w._walstream_source_5 THEN w._walstream_value_5
        END AS "CODE",
        CASE WHEN w._walstream_source_6 IS NULL THEN b."FIXED"
            WHEN w._walstream_nonnull_6 = w._walstream_source_6 THEN w._walstream_value_6
        END AS "FIXED",
        w."HANDLE",
        CASE WHEN w._walstream_source_7 IS NULL THEN b."ADDRESS"
            WHEN w._walstream_nonnull_7 = w._walstream_source_7 THEN w._walstream_value_7
        END AS "ADDRESS",
        CASE WHEN w._walstream_source_8 IS NULL THEN b."NETWORK"
            WHEN w._walstream_nonnull_8 = w._walstream_source_8 THEN w._walstream_value_8
        END AS "NETWORK",
        w."MAC",
        w."DURATION",
        CASE WHEN w._walstream_source_9 IS NULL THEN b."PERIOD"
            WHEN w._walstream_nonnull_9 = w._walstream_source_9 THEN w._walstream_value_9
        END AS "PERIOD",
        CASE WHEN w._walstream_source_10 IS NULL THEN b."MARKUP"
            WHEN w._walstream_nonnull_10 = w._walstream_source_10 THEN w._walstream_value_10
        END AS "MARKUP",
        CASE WHEN w._walstream_source_11 IS NULL THEN b."SEARCH"
            WHEN w._walstream_nonnull_11 = w._walstream_source_11 THEN w._walstream_value_11
        END AS "SEARCH",
        CASE WHEN w._walstream_source_12 IS NULL THEN b."BITS"
            WHEN w._walstream_nonnull_12 = w._walstream_source_12 THEN w._walstream_value_12
        END AS "BITS",
        w."UID",
        CASE WHEN w._walstream_source_13 IS NULL THEN b."DOCUMENT"
            WHEN w._walstream_nonnull_13 = w._walstream_source_13 THEN PARSE_JSON(w._walstream_value_13, 'd')
        END AS "DOCUMENT",
        CASE WHEN w._walstream_source_14 IS NULL THEN b."BINARY_DOCUMENT"
            WHEN w._walstream_nonnull_14 = w._walstream_source_14 THEN PARSE_JSON(w._walstream_value_14, 'd')
        END AS "BINARY_DOCUMENT",
        CASE WHEN w._walstream_source_15 IS NULL THEN b."PAYLOAD"
            WHEN w._walstream_nonnull_15 = w._walstream_source_15 THEN w._walstream_value_15
        END AS "PAYLOAD",
        w."DAY",
        w."CLOCK",
        w."CLOCK_TZ",
        w."LOCAL_TS",
        w."INSTANT",
        CASE WHEN w._walstream_source_16 IS NULL THEN b."NUMBERS"
            WHEN w._walstream_nonnull_16 = w._walstream_source_16 THEN w._walstream_value_16
        END AS "NUMBERS",
        CASE WHEN w._walstream_source_17 IS NULL THEN b."LABELS"
            WHEN w._walstream_nonnull_17 = w._walstream_source_17 THEN w._walstream_value_17
        END AS "LABELS",
        CASE WHEN w._walstream_source_18 IS NULL THEN b."PRICES"
            WHEN w._walstream_nonnull_18 = w._walstream_source_18 THEN w._walstream_value_18
        END AS "PRICES",
        CASE WHEN w._walstream_source_19 IS NULL THEN b."DOCUMENTS"
            WHEN w._walstream_nonnull_19 = w._walstream_source_19 THEN w._walstream_value_19
        END AS "DOCUMENTS",
        CASE WHEN w._walstream_source_20 IS NULL THEN b."INSTANTS"
            WHEN w._walstream_nonnull_20 = w._walstream_source_20 THEN w._walstream_value_20
        END AS "INSTANTS",
        CASE WHEN w._walstream_source_21 IS NULL THEN b."MOOD"
            WHEN w._walstream_nonnull_21 = w._walstream_source_21 THEN w._walstream_value_21
        END AS "MOOD",
        CASE WHEN (CASE WHEN w._walstream_source_0 IS NULL THEN COALESCE(ARRAY_CONTAINS('price'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_0 END) OR (CASE WHEN w._walstream_source_1 IS NULL THEN COALESCE(ARRAY_CONTAINS('widest'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_1 END) OR (COALESCE(ARRAY_CONTAINS('cash'::VARIANT, w._walstream_lossy), FALSE)) OR (CASE WHEN w._walstream_source_13 IS NULL THEN COALESCE(ARRAY_CONTAINS('document'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_13 END) OR (CASE WHEN w._walstream_source_15 IS NULL THEN COALESCE(ARRAY_CONTAINS('payload'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_15 END) OR (COALESCE(ARRAY_CONTAINS('day'::VARIANT, w._walstream_lossy), FALSE)) OR (COALESCE(ARRAY_CONTAINS('clock'::VARIANT, w._walstream_lossy), FALSE)) OR (COALESCE(ARRAY_CONTAINS('local_ts'::VARIANT, w._walstream_lossy), FALSE)) OR (COALESCE(ARRAY_CONTAINS('instant'::VARIANT, w._walstream_lossy), FALSE)) OR (CASE WHEN w._walstream_source_16 IS NULL THEN COALESCE(ARRAY_CONTAINS('numbers'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_16 END) OR (CASE WHEN w._walstream_source_17 IS NULL THEN COALESCE(ARRAY_CONTAINS('labels'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_17 END) OR (CASE WHEN w._walstream_source_18 IS NULL THEN COALESCE(ARRAY_CONTAINS('prices'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_18 END) OR (CASE WHEN w._walstream_source_19 IS NULL THEN COALESCE(ARRAY_CONTAINS('documents'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_19 END) OR (CASE WHEN w._walstream_source_20 IS NULL THEN COALESCE(ARRAY_CONTAINS('instants'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_20 END) THEN ARRAY_CONSTRUCT_COMPACT(IFF(CASE WHEN w._walstream_source_0 IS NULL THEN COALESCE(ARRAY_CONTAINS('price'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_0 END, 'price', NULL), IFF(CASE WHEN w._walstream_source_1 IS NULL THEN COALESCE(ARRAY_CONTAINS('widest'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_1 END, 'widest', NULL), IFF(COALESCE(ARRAY_CONTAINS('cash'::VARIANT, w._walstream_lossy), FALSE), 'cash', NULL), IFF(CASE WHEN w._walstream_source_13 IS NULL THEN COALESCE(ARRAY_CONTAINS('document'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_13 END, 'document', NULL), IFF(CASE WHEN w._walstream_source_15 IS NULL THEN COALESCE(ARRAY_CONTAINS('payload'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_15 END, 'payload', NULL), IFF(COALESCE(ARRAY_CONTAINS('day'::VARIANT, w._walstream_lossy), FALSE), 'day', NULL), IFF(COALESCE(ARRAY_CONTAINS('clock'::VARIANT, w._walstream_lossy), FALSE), 'clock', NULL), IFF(COALESCE(ARRAY_CONTAINS('local_ts'::VARIANT, w._walstream_lossy), FALSE), 'local_ts', NULL), IFF(COALESCE(ARRAY_CONTAINS('instant'::VARIANT, w._walstream_lossy), FALSE), 'instant', NULL), IFF(CASE WHEN w._walstream_source_16 IS NULL THEN COALESCE(ARRAY_CONTAINS('numbers'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_16 END, 'numbers', NULL), IFF(CASE WHEN w._walstream_source_17 IS NULL THEN COALESCE(ARRAY_CONTAINS('labels'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_17 END, 'labels', NULL), IFF(CASE WHEN w._walstream_source_18 IS NULL THEN COALESCE(ARRAY_CONTAINS('prices'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_18 END, 'prices', NULL), IFF(CASE WHEN w._walstream_source_19 IS NULL THEN COALESCE(ARRAY_CONTAINS('documents'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_19 END, 'documents', NULL), IFF(CASE WHEN w._walstream_source_20 IS NULL THEN COALESCE(ARRAY_CONTAINS('instants'::VARIANT, b._walstream_lossy), FALSE) ELSE w._walstream_lossy_20 END, 'instants', NULL)) END AS _walstream_lossy,
        w._walstream_lsn,
        w._walstream_seq,
        w._walstream_commit_ts
    FROM _walstream_winners AS w
    JOIN _walstream_starts AS r ON r._walstream_life = w._walstream_lineage
    LEFT JOIN "TYPE_ZOO" AS b ON r._walstream_continues AND b."ID" = r."ID"
    LEFT JOIN "TYPE_ZOO" AS f ON f."ID" = w."ID"
    LEFT JOIN "TOMBSTONES_TYPE_ZOO" AS t ON t."ID" = w."ID"
    WHERE (f."ID" IS NULL OR (w._walstream_lsn > f._walstream_lsn OR (w._walstream_lsn = f._walstream_lsn AND w._walstream_seq > f._walstream_seq)))
        AND (t."ID" IS NULL OR (w._walstream_lsn > t._walstream_lsn OR (w._walstream_lsn = t._walstream_lsn AND w._walstream_seq > t._walstream_seq)));
    MERGE INTO "TYPE_ZOO" AS f
    USING "CHANGES_TYPE_ZOO" AS c
    ON f."ID" = c."ID"
    WHEN MATCHED AND c._walstream_op = 'D' AND (c._walstream_lsn > f._walstream_lsn OR (c._walstream_lsn = f._walstream_lsn AND c._walstream_seq > f._walstream_seq)) THEN DELETE
    WHEN MATCHED AND c._walstream_op <> 'D' AND (c._walstream_lsn > f._walstream_lsn OR (c._walstream_lsn = f._walstream_lsn AND c._walstream_seq > f._walstream_seq)) THEN UPDATE SET
        "FLAG" = c."FLAG",
        "SMALL" = c."SMALL",
        "MEDIUM" = c."MEDIUM",
        "OBJECT_ID" = c."OBJECT_ID",
        "REAL_VALUE" = c."REAL_VALUE",
        "DOUBLE_VALUE" = c."DOUBLE_VALUE",
        "PRICE" = c."PRICE",
        "WIDEST" = c."WIDEST",
        "ANY_NUMERIC" = c."ANY_NUMERIC",
        "HUGE_NUMERIC" = c."HUGE_NUMERIC",
        "CASH" = c."CASH",
        "BODY" = c."BODY",
        "CODE" = c."CODE",
        "FIXED" = c."FIXED",
        "HANDLE" = c."HANDLE",
        "ADDRESS" = c."ADDRESS",
        "NETWORK" = c."NETWORK",
        "MAC" = c."MAC",
        "DURATION" = c."DURATION",
        "PERIOD" = c."PERIOD",
        "MARKUP" = c."MARKUP",
        "SEARCH" = c."SEARCH",
        "BITS" = c."BITS",
        "UID" = c."UID",
        "DOCUMENT" = c."DOCUMENT",
        "BINARY_DOCUMENT" = c."BINARY_DOCUMENT",
        "PAYLOAD" = c."PAYLOAD",
        "DAY" = c."DAY",
        "CLOCK" = c."CLOCK",
        "CLOCK_TZ" = c."CLOCK_TZ",
        "LOCAL_TS" = c."LOCAL_TS",
        "INSTANT" = c."INSTANT",
        "NUMBERS" = c."NUMBERS",
        "LABELS" = c."LABELS",
        "PRICES" = c."PRICES",
        "DOCUMENTS" = c."DOCUMENTS",
        "INSTANTS" = c."INSTANTS",
        "MOOD" = c."MOOD",
        _walstream_lossy = c._walstream_lossy,
        _walstream_lsn = c._walstream_lsn,
        _walstream_seq = c._walstream_seq,
        _walstream_commit_ts = c._walstream_commit_ts
    WHEN NOT MATCHED AND c._walstream_op <> 'D' THEN INSERT ("ID", "FLAG", "SMALL", "MEDIUM", "OBJECT_ID", "REAL_VALUE", "DOUBLE_VALUE", "PRICE", "WIDEST", "ANY_NUMERIC", "HUGE_NUMERIC", "CASH", "BODY", "CODE", "FIXED", "HANDLE", "ADDRESS", "NETWORK", "MAC", "DURATION", "PERIOD", "MARKUP", "SEARCH", "BITS", "UID", "DOCUMENT", "BINARY_DOCUMENT", "PAYLOAD", "DAY", "CLOCK", "CLOCK_TZ", "LOCAL_TS", "INSTANT", "NUMBERS", "LABELS", "PRICES", "DOCUMENTS", "INSTANTS", "MOOD", _walstream_lossy, _walstream_lsn, _walstream_seq, _walstream_commit_ts)
    VALUES (c."ID", c."FLAG", c."SMALL", c."MEDIUM", c."OBJECT_ID", c."REAL_VALUE", c."DOUBLE_VALUE", c."PRICE", c."WIDEST", c."ANY_NUMERIC", c."HUGE_NUMERIC", c."CASH", c."BODY", c."CODE", c."FIXED", c."HANDLE", c."ADDRESS", c."NETWORK", c."MAC", c."DURATION", c."PERIOD", c."MARKUP", c."SEARCH", c."BITS", c."UID", c."DOCUMENT", c."BINARY_DOCUMENT", c."PAYLOAD", c."DAY", c."CLOCK", c."CLOCK_TZ", c."LOCAL_TS", c."INSTANT", c."NUMBERS", c."LABELS", c."PRICES", c."DOCUMENTS", c."INSTANTS", c."MOOD", c._walstream_lossy, c._walstream_lsn, c._walstream_seq, c._walstream_commit_ts);
    MERGE INTO "TOMBSTONES_TYPE_ZOO" AS t
    USING (SELECT "ID", _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM "CHANGES_TYPE_ZOO" WHERE _walstream_op = 'D') AS c
    ON t."ID" = c."ID"
    WHEN MATCHED AND (c._walstream_lsn > t._walstream_lsn OR (c._walstream_lsn = t._walstream_lsn AND c._walstream_seq > t._walstream_seq)) THEN UPDATE SET
        _walstream_lsn = c._walstream_lsn, _walstream_seq = c._walstream_seq,
        _walstream_commit_ts = c._walstream_commit_ts, _walstream_merged_at = CURRENT_TIMESTAMP()
    WHEN NOT MATCHED THEN INSERT ("ID", _walstream_lsn, _walstream_seq, _walstream_commit_ts, _walstream_merged_at)
    VALUES (c."ID", c._walstream_lsn, c._walstream_seq, c._walstream_commit_ts, CURRENT_TIMESTAMP());
    DELETE FROM "TOMBSTONES_TYPE_ZOO"
    USING "CHANGES_TYPE_ZOO" AS c
    WHERE c._walstream_op <> 'D' AND "TOMBSTONES_TYPE_ZOO"."ID" = c."ID";
    DELETE FROM "TOMBSTONES_TYPE_ZOO"
    WHERE _walstream_merged_at < DATEADD(DAY, -7, CURRENT_TIMESTAMP());
    DELETE FROM "CHANGES_TYPE_ZOO";
    INSERT INTO "WALSTREAM_LOADS" (table_name, lsn, merged_at)
    SELECT 'public.type_zoo', l.lsn, CURRENT_TIMESTAMP()
    FROM (SELECT m.start_lsn + 1 AS lsn, (SELECT SUM(mf.row_count) FROM "WALSTREAM_MANIFEST_FILES" AS mf
            WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo') AS row_count
        FROM "WALSTREAM_MANIFESTS" AS m
        WHERE m.kind = 'load' AND EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo')
        AND NOT EXISTS (SELECT 1 FROM "WALSTREAM_MANIFEST_FILES" AS mf
        LEFT JOIN (SELECT file, MAX(row_count) AS row_count FROM "WALSTREAM_FILES" GROUP BY file) AS fl
            ON fl.file = mf.file AND fl.row_count = mf.row_count
        WHERE mf.manifest = m.manifest AND mf.table_name = 'public.type_zoo' AND fl.file IS NULL)
        AND NOT EXISTS (SELECT 1 FROM "WALSTREAM_LOADS" AS d WHERE d.table_name = 'public.type_zoo' AND d.lsn = m.start_lsn + 1)) AS l, (SELECT prev_lsn, lsn, lo_lsn, lo_seq, hi_lsn, hi_seq, load_lsn FROM "WALSTREAM_WATERMARKS" WHERE table_name = 'public.type_zoo') AS w
    WHERE l.lsn < w.hi_lsn OR l.lsn = w.hi_lsn AND w.hi_seq = 4611686018427387904;
    DELETE FROM "STAGING_TYPE_ZOO"
    WHERE _walstream_lsn IS NULL OR (
        EXISTS (SELECT 1 FROM (SELECT prev_lsn, lsn, lo_lsn, lo_seq, hi_lsn, hi_seq, load_lsn FROM "WALSTREAM_WATERMARKS" WHERE table_name = 'public.type_zoo') AS w WHERE _walstream_lsn < w.hi_lsn
            OR _walstream_lsn = w.hi_lsn AND COALESCE(_walstream_seq, 0) <= w.hi_seq)
        AND NOT (_walstream_xid IS NULL AND _walstream_lsn NOT IN (
            SELECT lsn FROM "WALSTREAM_LOADS" WHERE table_name = 'public.type_zoo')
            AND _walstream_lsn NOT IN (SELECT COALESCE(load_lsn, -1) FROM (SELECT prev_lsn, lsn, lo_lsn, lo_seq, hi_lsn, hi_seq, load_lsn FROM "WALSTREAM_WATERMARKS" WHERE table_name = 'public.type_zoo') AS w)));
    COMMIT;
    RETURN 'merged public.type_zoo';
EXCEPTION
    WHEN OTHER THEN
        ROLLBACK;
        RAISE;
END;
$$;
CREATE OR ALTER TASK "MERGE_TYPE_ZOO"
    WAREHOUSE = CDC_WH
    SCHEDULE = '1 MINUTE'
    WHEN SYSTEM$STREAM_HAS_DATA('"STAGING_TYPE_ZOO_STREAM"') OR SYSTEM$STREAM_HAS_DATA('"MANIFESTS_TYPE_ZOO_STREAM"')
AS
CALL "MERGE_TYPE_ZOO_RUN"();
ALTER TASK "MERGE_TYPE_ZOO" RESUME;
