CREATE TABLE IF NOT EXISTS "public"."type_zoo" (
    "id" BIGINT NOT NULL,
    "flag" BOOLEAN,
    "small" SMALLINT,
    "medium" INTEGER,
    "object_id" BIGINT,
    "real_value" REAL,
    "double_value" DOUBLE,
    "price" DECIMAL(10,2),
    "widest" DECIMAL(38,0),
    "any_numeric" VARCHAR,
    "huge_numeric" VARCHAR,
    "cash" DECIMAL(38,2),
    "body" VARCHAR,
    "code" VARCHAR,
    "fixed" VARCHAR,
    "handle" VARCHAR,
    "address" VARCHAR,
    "network" VARCHAR,
    "mac" VARCHAR,
    "duration" VARCHAR,
    "period" VARCHAR,
    "markup" VARCHAR,
    "search" VARCHAR,
    "bits" VARCHAR,
    "uid" VARCHAR,
    "document" JSON,
    "binary_document" JSON,
    "payload" BLOB,
    "day" DATE,
    "clock" TIME,
    "clock_tz" VARCHAR,
    "local_ts" TIMESTAMP,
    "instant" TIMESTAMPTZ,
    "numbers" INTEGER[],
    "labels" VARCHAR[],
    "prices" DECIMAL(5,1)[],
    "documents" VARCHAR[],
    "instants" TIMESTAMPTZ[],
    "mood" VARCHAR,
    _walstream_lossy VARCHAR[],
    _walstream_lsn BIGINT NOT NULL,
    _walstream_seq BIGINT NOT NULL,
    _walstream_commit_ts TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS "public"."_walstream_staging_type_zoo" (
    _walstream_op VARCHAR,
    "id" BIGINT,
    "flag" BOOLEAN,
    "small" SMALLINT,
    "medium" INTEGER,
    "object_id" BIGINT,
    "real_value" REAL,
    "double_value" DOUBLE,
    "price" DECIMAL(10,2),
    "widest" DECIMAL(38,0),
    "any_numeric" VARCHAR,
    "huge_numeric" VARCHAR,
    "cash" DECIMAL(38,2),
    "body" VARCHAR,
    "code" VARCHAR,
    "fixed" VARCHAR,
    "handle" VARCHAR,
    "address" VARCHAR,
    "network" VARCHAR,
    "mac" VARCHAR,
    "duration" VARCHAR,
    "period" VARCHAR,
    "markup" VARCHAR,
    "search" VARCHAR,
    "bits" VARCHAR,
    "uid" VARCHAR,
    "document" VARCHAR,
    "binary_document" VARCHAR,
    "payload" BLOB,
    "day" DATE,
    "clock" TIME,
    "clock_tz" VARCHAR,
    "local_ts" TIMESTAMP,
    "instant" TIMESTAMPTZ,
    "numbers" INTEGER[],
    "labels" VARCHAR[],
    "prices" DECIMAL(5,1)[],
    "documents" VARCHAR[],
    "instants" TIMESTAMPTZ[],
    "mood" VARCHAR,
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

CREATE TABLE IF NOT EXISTS "public"."_walstream_pending_type_zoo" (
    _walstream_op VARCHAR,
    "id" BIGINT,
    "flag" BOOLEAN,
    "small" SMALLINT,
    "medium" INTEGER,
    "object_id" BIGINT,
    "real_value" REAL,
    "double_value" DOUBLE,
    "price" DECIMAL(10,2),
    "widest" DECIMAL(38,0),
    "any_numeric" VARCHAR,
    "huge_numeric" VARCHAR,
    "cash" DECIMAL(38,2),
    "body" VARCHAR,
    "code" VARCHAR,
    "fixed" VARCHAR,
    "handle" VARCHAR,
    "address" VARCHAR,
    "network" VARCHAR,
    "mac" VARCHAR,
    "duration" VARCHAR,
    "period" VARCHAR,
    "markup" VARCHAR,
    "search" VARCHAR,
    "bits" VARCHAR,
    "uid" VARCHAR,
    "document" VARCHAR,
    "binary_document" VARCHAR,
    "payload" BLOB,
    "day" DATE,
    "clock" TIME,
    "clock_tz" VARCHAR,
    "local_ts" TIMESTAMP,
    "instant" TIMESTAMPTZ,
    "numbers" INTEGER[],
    "labels" VARCHAR[],
    "prices" DECIMAL(5,1)[],
    "documents" VARCHAR[],
    "instants" TIMESTAMPTZ[],
    "mood" VARCHAR,
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

CREATE TABLE IF NOT EXISTS "public"."_walstream_changes_type_zoo" (
    _walstream_op VARCHAR,
    "id" BIGINT,
    "flag" BOOLEAN,
    "small" SMALLINT,
    "medium" INTEGER,
    "object_id" BIGINT,
    "real_value" REAL,
    "double_value" DOUBLE,
    "price" DECIMAL(10,2),
    "widest" DECIMAL(38,0),
    "any_numeric" VARCHAR,
    "huge_numeric" VARCHAR,
    "cash" DECIMAL(38,2),
    "body" VARCHAR,
    "code" VARCHAR,
    "fixed" VARCHAR,
    "handle" VARCHAR,
    "address" VARCHAR,
    "network" VARCHAR,
    "mac" VARCHAR,
    "duration" VARCHAR,
    "period" VARCHAR,
    "markup" VARCHAR,
    "search" VARCHAR,
    "bits" VARCHAR,
    "uid" VARCHAR,
    "document" JSON,
    "binary_document" JSON,
    "payload" BLOB,
    "day" DATE,
    "clock" TIME,
    "clock_tz" VARCHAR,
    "local_ts" TIMESTAMP,
    "instant" TIMESTAMPTZ,
    "numbers" INTEGER[],
    "labels" VARCHAR[],
    "prices" DECIMAL(5,1)[],
    "documents" VARCHAR[],
    "instants" TIMESTAMPTZ[],
    "mood" VARCHAR,
    _walstream_lossy VARCHAR[],
    _walstream_lsn BIGINT,
    _walstream_seq BIGINT,
    _walstream_commit_ts TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS "public"."_walstream_tombstones_type_zoo" (
    "id" BIGINT NOT NULL,
    _walstream_lsn BIGINT,
    _walstream_seq BIGINT,
    _walstream_commit_ts TIMESTAMPTZ,
    _walstream_merged_at TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS "public"."_walstream_truncates_type_zoo" (
    _walstream_lsn BIGINT,
    _walstream_seq BIGINT,
    _walstream_commit_ts TIMESTAMPTZ,
    _walstream_merged_at TIMESTAMPTZ
);

INSERT INTO "public"."_walstream_truncates_type_zoo" (_walstream_lsn, _walstream_seq, _walstream_commit_ts, _walstream_merged_at)
SELECT t._walstream_lsn, t._walstream_seq, t._walstream_commit_ts, CURRENT_TIMESTAMP
FROM (SELECT _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM "public"."_walstream_pending_type_zoo" WHERE _walstream_op = 'T' ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS t
LEFT JOIN (SELECT _walstream_lsn, _walstream_seq FROM "public"."_walstream_truncates_type_zoo" ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS w ON TRUE
WHERE w._walstream_lsn IS NULL OR (t._walstream_lsn > w._walstream_lsn OR (t._walstream_lsn = w._walstream_lsn AND t._walstream_seq > w._walstream_seq));

DELETE FROM "public"."_walstream_truncates_type_zoo"
USING (SELECT _walstream_lsn, _walstream_seq FROM "public"."_walstream_truncates_type_zoo" ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS _walstream_watermark
WHERE (_walstream_watermark._walstream_lsn > "public"."_walstream_truncates_type_zoo"._walstream_lsn OR (_walstream_watermark._walstream_lsn = "public"."_walstream_truncates_type_zoo"._walstream_lsn AND _walstream_watermark._walstream_seq > "public"."_walstream_truncates_type_zoo"._walstream_seq));

DELETE FROM "public"."type_zoo"
USING (SELECT _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM "public"."_walstream_pending_type_zoo" WHERE _walstream_op = 'T' ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS _walstream_truncate
WHERE (_walstream_truncate._walstream_lsn > "public"."type_zoo"._walstream_lsn OR (_walstream_truncate._walstream_lsn = "public"."type_zoo"._walstream_lsn AND _walstream_truncate._walstream_seq > "public"."type_zoo"._walstream_seq));

DELETE FROM "public"."_walstream_tombstones_type_zoo"
USING (SELECT _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM "public"."_walstream_pending_type_zoo" WHERE _walstream_op = 'T' ORDER BY _walstream_lsn DESC, _walstream_seq DESC LIMIT 1) AS _walstream_truncate
WHERE (_walstream_truncate._walstream_lsn > "public"."_walstream_tombstones_type_zoo"._walstream_lsn OR (_walstream_truncate._walstream_lsn = "public"."_walstream_tombstones_type_zoo"._walstream_lsn AND _walstream_truncate._walstream_seq > "public"."_walstream_tombstones_type_zoo"._walstream_seq));

INSERT INTO "public"."_walstream_changes_type_zoo" (_walstream_op, "id", "flag", "small", "medium", "object_id", "real_value", "double_value", "price", "widest", "any_numeric", "huge_numeric", "cash", "body", "code", "fixed", "handle", "address", "network", "mac", "duration", "period", "markup", "search", "bits", "uid", "document", "binary_document", "payload", "day", "clock", "clock_tz", "local_ts", "instant", "numbers", "labels", "prices", "documents", "instants", "mood", _walstream_lossy, _walstream_lsn, _walstream_seq, _walstream_commit_ts)
WITH _walstream_watermark AS (
    SELECT _walstream_lsn, _walstream_seq
    FROM "public"."_walstream_truncates_type_zoo"
    ORDER BY _walstream_lsn DESC, _walstream_seq DESC
    LIMIT 1
),
_walstream_incoming AS (
    SELECT
        COALESCE(s._walstream_op, 'I') AS _walstream_op,
        s."id",
        s."flag",
        s."small",
        s."medium",
        s."object_id",
        s."real_value",
        s."double_value",
        s."price",
        s."widest",
        s."any_numeric",
        s."huge_numeric",
        s."cash",
        s."body",
        s."code",
        s."fixed",
        s."handle",
        s."address",
        s."network",
        s."mac",
        s."duration",
        s."period",
        s."markup",
        s."search",
        s."bits",
        s."uid",
        s."document",
        s."binary_document",
        s."payload",
        s."day",
        s."clock",
        s."clock_tz",
        s."local_ts",
        s."instant",
        s."numbers",
        s."labels",
        s."prices",
        s."documents",
        s."instants",
        s."mood",
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
    FROM "public"."_walstream_pending_type_zoo" AS s
),
_walstream_staged AS (
    SELECT i._walstream_op, i."id", i."flag", i."small", i."medium", i."object_id", i."real_value", i."double_value", i."price", i."widest", i."any_numeric", i."huge_numeric", i."cash", i."body", i."code", i."fixed", i."handle", i."address", i."network", i."mac", i."duration", i."period", i."markup", i."search", i."bits", i."uid", i."document", i."binary_document", i."payload", i."day", i."clock", i."clock_tz", i."local_ts", i."instant", i."numbers", i."labels", i."prices", i."documents", i."instants", i."mood", i._walstream_lsn, i._walstream_seq, i._walstream_commit_ts, i._walstream_unchanged, i._walstream_lossy, i._walstream_key_change
    FROM _walstream_incoming AS i
    LEFT JOIN _walstream_watermark AS w ON TRUE
    WHERE i._walstream_copy = 1
        AND i._walstream_op <> 'T'
        AND (w._walstream_lsn IS NULL OR (i._walstream_lsn > w._walstream_lsn OR (i._walstream_lsn = w._walstream_lsn AND i._walstream_seq > w._walstream_seq)))
),
_walstream_numbered AS (
    SELECT
        st._walstream_op,
        st."id",
        st."flag",
        st."small",
        st."medium",
        st."object_id",
        st."real_value",
        st."double_value",
        st."price",
        st."widest",
        st."any_numeric",
        st."huge_numeric",
        st."cash",
        st."body",
        st."code",
        st."fixed",
        st."handle",
        st."address",
        st."network",
        st."mac",
        st."duration",
        st."period",
        st."markup",
        st."search",
        st."bits",
        st."uid",
        st."document",
        st."binary_document",
        st."payload",
        st."day",
        st."clock",
        st."clock_tz",
        st."local_ts",
        st."instant",
        st."numbers",
        st."labels",
        st."prices",
        st."documents",
        st."instants",
        st."mood",
        st._walstream_lsn,
        st._walstream_seq,
        st._walstream_commit_ts,
        st._walstream_unchanged,
        st._walstream_lossy,
        st._walstream_key_change,
        ROW_NUMBER() OVER (ORDER BY _walstream_lsn, _walstream_seq) AS _walstream_ord,
        SUM(CASE WHEN _walstream_op = 'D' THEN 1 ELSE 0 END) OVER (
            PARTITION BY "id" ORDER BY _walstream_lsn, _walstream_seq
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) - CASE WHEN _walstream_op = 'D' THEN 1 ELSE 0 END AS _walstream_life_no
    FROM _walstream_staged AS st
),
_walstream_lived AS (
    SELECT n.*, MIN(n._walstream_ord) OVER (
        PARTITION BY n."id", n._walstream_life_no
    ) AS _walstream_life
    FROM _walstream_numbered AS n
),
_walstream_starts AS (
    SELECT
        l._walstream_life,
        l."id",
        l._walstream_op,
        l._walstream_lsn,
        l._walstream_seq,
        l._walstream_key_change,
        (l._walstream_life_no = 0 AND f."id" IS NOT NULL
            AND (l._walstream_lsn > f._walstream_lsn OR (l._walstream_lsn = f._walstream_lsn AND l._walstream_seq > f._walstream_seq))) AS _walstream_continues
    FROM _walstream_lived AS l
    LEFT JOIN "public"."type_zoo" AS f ON f."id" = l."id"
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
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_0, 0) = 0 AND lg."price" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_0,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_0, 0) = 0 THEN lg."price" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_0,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_0, 0) = 0 THEN COALESCE(list_contains(lg._walstream_lossy, 'price'), FALSE) END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_0,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_1, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_1,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_1, 0) = 0 AND lg."widest" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_1,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_1, 0) = 0 THEN lg."widest" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_1,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_1, 0) = 0 THEN COALESCE(list_contains(lg._walstream_lossy, 'widest'), FALSE) END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_1,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_2, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_2,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_2, 0) = 0 AND lg."any_numeric" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_2,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_2, 0) = 0 THEN lg."any_numeric" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_2,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_3, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_3,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_3, 0) = 0 AND lg."huge_numeric" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_3,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_3, 0) = 0 THEN lg."huge_numeric" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_3,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_4, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_4,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_4, 0) = 0 AND lg."body" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_4,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_4, 0) = 0 THEN lg."body" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_4,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_5, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_5,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_5, 0) = 0 AND lg."code" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_5,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_5, 0) = 0 THEN lg."code" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_5,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_6, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_6,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_6, 0) = 0 AND lg."fixed" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_6,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_6, 0) = 0 THEN lg."fixed" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_6,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_7, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_7,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_7, 0) = 0 AND lg."address" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_7,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_7, 0) = 0 THEN lg."address" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_7,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_8, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_8,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_8, 0) = 0 AND lg."network" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_8,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_8, 0) = 0 THEN lg."network" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_8,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_9, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_9,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_9, 0) = 0 AND lg."period" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_9,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_9, 0) = 0 THEN lg."period" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_9,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_10, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_10,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_10, 0) = 0 AND lg."markup" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_10,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_10, 0) = 0 THEN lg."markup" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_10,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_11, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_11,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_11, 0) = 0 AND lg."search" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_11,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_11, 0) = 0 THEN lg."search" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_11,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_12, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_12,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_12, 0) = 0 AND lg."bits" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_12,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_12, 0) = 0 THEN lg."bits" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_12,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_13, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_13,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_13, 0) = 0 AND lg."document" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_13,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_13, 0) = 0 THEN lg."document" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_13,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_13, 0) = 0 THEN COALESCE(list_contains(lg._walstream_lossy, 'document'), FALSE) END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_13,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_14, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_14,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_14, 0) = 0 AND lg."binary_document" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_14,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_14, 0) = 0 THEN lg."binary_document" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_14,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_15, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_15,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_15, 0) = 0 AND lg."payload" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_15,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_15, 0) = 0 THEN lg."payload" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_15,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_15, 0) = 0 THEN COALESCE(list_contains(lg._walstream_lossy, 'payload'), FALSE) END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_15,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_16, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_16,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_16, 0) = 0 AND lg."numbers" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_16,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_16, 0) = 0 THEN lg."numbers" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_16,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_16, 0) = 0 THEN COALESCE(list_contains(lg._walstream_lossy, 'numbers'), FALSE) END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_16,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_17, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_17,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_17, 0) = 0 AND lg."labels" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_17,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_17, 0) = 0 THEN lg."labels" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_17,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_17, 0) = 0 THEN COALESCE(list_contains(lg._walstream_lossy, 'labels'), FALSE) END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_17,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_18, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_18,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_18, 0) = 0 AND lg."prices" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_18,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_18, 0) = 0 THEN lg."prices" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_18,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_18, 0) = 0 THEN COALESCE(list_contains(lg._walstream_lossy, 'prices'), FALSE) END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_18,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_19, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_19,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_19, 0) = 0 AND lg."documents" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_19,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_19, 0) = 0 THEN lg."documents" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_19,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_19, 0) = 0 THEN COALESCE(list_contains(lg._walstream_lossy, 'documents'), FALSE) END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_19,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_20, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_20,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_20, 0) = 0 AND lg."instants" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_20,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_20, 0) = 0 THEN lg."instants" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_20,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_20, 0) = 0 THEN COALESCE(list_contains(lg._walstream_lossy, 'instants'), FALSE) END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_lossy_20,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_21, 0) = 0 THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_source_21,
        MAX(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_21, 0) = 0 AND lg."mood" IS NOT NULL THEN lg._walstream_ord END) OVER (
            PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS _walstream_nonnull_21,
        LAST_VALUE(CASE WHEN lg._walstream_op <> 'D' AND COALESCE(fl._walstream_unchanged_21, 0) = 0 THEN lg."mood" END IGNORE NULLS) OVER (PARTITION BY lg._walstream_lineage ORDER BY lg._walstream_ord ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS _walstream_value_21
    FROM _walstream_lineaged AS lg
    LEFT JOIN _walstream_flags AS fl ON fl._walstream_ord = lg._walstream_ord
),
_walstream_winners AS (
    SELECT *
    FROM _walstream_sources
    QUALIFY ROW_NUMBER() OVER (PARTITION BY "id" ORDER BY _walstream_ord DESC) = 1
)
SELECT
    w._walstream_op,
    w."id",
    w."flag",
    w."small",
    w."medium",
    w."object_id",
    w."real_value",
    w."double_value",
    CASE WHEN w._walstream_source_0 IS NULL THEN b."price"
        WHEN w._walstream_nonnull_0 = w._walstream_source_0 THEN w._walstream_value_0
    END AS "price",
    CASE WHEN w._walstream_source_1 IS NULL THEN b."widest"
        WHEN w._walstream_nonnull_1 = w._walstream_source_1 THEN w._walstream_value_1
    END AS "widest",
    CASE WHEN w._walstream_source_2 IS NULL THEN b."any_numeric"
        WHEN w._walstream_nonnull_2 = w._walstream_source_2 THEN w._walstream_value_2
    END AS "any_numeric",
    CASE WHEN w._walstream_source_3 IS NULL THEN b."huge_numeric"
        WHEN w._walstream_nonnull_3 = w._walstream_source_3 THEN w._walstream_value_3
    END AS "huge_numeric",
    w."cash",
    CASE WHEN w._walstream_source_4 IS NULL THEN b."body"
        WHEN w._walstream_nonnull_4 = w._walstream_source_4 THEN w._walstream_value_4
    END AS "body",
    CASE WHEN w._walstream_source_5 IS NULL THEN b."code"
        WHEN w._walstream_nonnull_5 = w._walstream_source_5 THEN w._walstream_value_5
    END AS "code",
    CASE WHEN w._walstream_source_6 IS NULL THEN b."fixed"
        WHEN w._walstream_nonnull_6 = w._walstream_source_6 THEN w._walstream_value_6
    END AS "fixed",
    w."handle",
    CASE WHEN w._walstream_source_7 IS NULL THEN b."address"
        WHEN w._walstream_nonnull_7 = w._walstream_source_7 THEN w._walstream_value_7
    END AS "address",
    CASE WHEN w._walstream_source_8 IS NULL THEN b."network"
        WHEN w._walstream_nonnull_8 = w._walstream_source_8 THEN w._walstream_value_8
    END AS "network",
    w."mac",
    w."duration",
    CASE WHEN w._walstream_source_9 IS NULL THEN b."period"
        WHEN w._walstream_nonnull_9 = w._walstream_source_9 THEN w._walstream_value_9
    END AS "period",
    CASE WHEN w._walstream_source_10 IS NULL THEN b."markup"
        WHEN w._walstream_nonnull_10 = w._walstream_source_10 THEN w._walstream_value_10
    END AS "markup",
    CASE WHEN w._walstream_source_11 IS NULL THEN b."search"
        WHEN w._walstream_nonnull_11 = w._walstream_source_11 THEN w._walstream_value_11
    END AS "search",
    CASE WHEN w._walstream_source_12 IS NULL THEN b."bits"
        WHEN w._walstream_nonnull_12 = w._walstream_source_12 THEN w._walstream_value_12
    END AS "bits",
    w."uid",
    CASE WHEN w._walstream_source_13 IS NULL THEN b."document"
        WHEN w._walstream_nonnull_13 = w._walstream_source_13 THEN CAST(w._walstream_value_13 AS JSON)
    END AS "document",
    CASE WHEN w._walstream_source_14 IS NULL THEN b."binary_document"
        WHEN w._walstream_nonnull_14 = w._walstream_source_14 THEN CAST(w._walstream_value_14 AS JSON)
    END AS "binary_document",
    CASE WHEN w._walstream_source_15 IS NULL THEN b."payload"
        WHEN w._walstream_nonnull_15 = w._walstream_source_15 THEN w._walstream_value_15
    END AS "payload",
    w."day",
    w."clock",
    w."clock_tz",
    w."local_ts",
    w."instant",
    CASE WHEN w._walstream_source_16 IS NULL THEN b."numbers"
        WHEN w._walstream_nonnull_16 = w._walstream_source_16 THEN w._walstream_value_16
    END AS "numbers",
    CASE WHEN w._walstream_source_17 IS NULL THEN b."labels"
        WHEN w._walstream_nonnull_17 = w._walstream_source_17 THEN w._walstream_value_17
    END AS "labels",
    CASE WHEN w._walstream_source_18 IS NULL THEN b."prices"
        WHEN w._walstream_nonnull_18 = w._walstream_source_18 THEN w._walstream_value_18
    END AS "prices",
    CASE WHEN w._walstream_source_19 IS NULL THEN b."documents"
        WHEN w._walstream_nonnull_19 = w._walstream_source_19 THEN w._walstream_value_19
    END AS "documents",
    CASE WHEN w._walstream_source_20 IS NULL THEN b."instants"
        WHEN w._walstream_nonnull_20 = w._walstream_source_20 THEN w._walstream_value_20
    END AS "instants",
    CASE WHEN w._walstream_source_21 IS NULL THEN b."mood"
        WHEN w._walstream_nonnull_21 = w._walstream_source_21 THEN w._walstream_value_21
    END AS "mood",
    NULLIF([x FOR x IN [CASE WHEN CASE WHEN w._walstream_source_0 IS NULL THEN COALESCE(list_contains(b._walstream_lossy, 'price'), FALSE) ELSE w._walstream_lossy_0 END THEN 'price' END, CASE WHEN CASE WHEN w._walstream_source_1 IS NULL THEN COALESCE(list_contains(b._walstream_lossy, 'widest'), FALSE) ELSE w._walstream_lossy_1 END THEN 'widest' END, CASE WHEN COALESCE(list_contains(w._walstream_lossy, 'cash'), FALSE) THEN 'cash' END, CASE WHEN CASE WHEN w._walstream_source_13 IS NULL THEN COALESCE(list_contains(b._walstream_lossy, 'document'), FALSE) ELSE w._walstream_lossy_13 END THEN 'document' END, CASE WHEN CASE WHEN w._walstream_source_15 IS NULL THEN COALESCE(list_contains(b._walstream_lossy, 'payload'), FALSE) ELSE w._walstream_lossy_15 END THEN 'payload' END, CASE WHEN COALESCE(list_contains(w._walstream_lossy, 'day'), FALSE) THEN 'day' END, CASE WHEN COALESCE(list_contains(w._walstream_lossy, 'clock'), FALSE) THEN 'clock' END, CASE WHEN COALESCE(list_contains(w._walstream_lossy, 'local_ts'), FALSE) THEN 'local_ts' END, CASE WHEN COALESCE(list_contains(w._walstream_lossy, 'instant'), FALSE) THEN 'instant' END, CASE WHEN CASE WHEN w._walstream_source_16 IS NULL THEN COALESCE(list_contains(b._walstream_lossy, 'numbers'), FALSE) ELSE w._walstream_lossy_16 END THEN 'numbers' END, CASE WHEN CASE WHEN w._walstream_source_17 IS NULL THEN COALESCE(list_contains(b._walstream_lossy, 'labels'), FALSE) ELSE w._walstream_lossy_17 END THEN 'labels' END, CASE WHEN CASE WHEN w._walstream_source_18 IS NULL THEN COALESCE(list_contains(b._walstream_lossy, 'prices'), FALSE) ELSE w._walstream_lossy_18 END THEN 'prices' END, CASE WHEN CASE WHEN w._walstream_source_19 IS NULL THEN COALESCE(list_contains(b._walstream_lossy, 'documents'), FALSE) ELSE w._walstream_lossy_19 END THEN 'documents' END, CASE WHEN CASE WHEN w._walstream_source_20 IS NULL THEN COALESCE(list_contains(b._walstream_lossy, 'instants'), FALSE) ELSE w._walstream_lossy_20 END THEN 'instants' END] IF x IS NOT NULL], []) AS _walstream_lossy,
    w._walstream_lsn,
    w._walstream_seq,
    w._walstream_commit_ts
FROM _walstream_winners AS w
JOIN _walstream_starts AS r ON r._walstream_life = w._walstream_lineage
LEFT JOIN "public"."type_zoo" AS b ON r._walstream_continues AND b."id" = r."id"
LEFT JOIN "public"."type_zoo" AS f ON f."id" = w."id"
LEFT JOIN "public"."_walstream_tombstones_type_zoo" AS t ON t."id" = w."id"
WHERE (f."id" IS NULL OR (w._walstream_lsn > f._walstream_lsn OR (w._walstream_lsn = f._walstream_lsn AND w._walstream_seq > f._walstream_seq)))
    AND (t."id" IS NULL OR (w._walstream_lsn > t._walstream_lsn OR (w._walstream_lsn = t._walstream_lsn AND w._walstream_seq > t._walstream_seq)));

MERGE INTO "public"."type_zoo" AS f
USING "public"."_walstream_changes_type_zoo" AS c
ON f."id" = c."id"
WHEN MATCHED AND c._walstream_op = 'D' AND (c._walstream_lsn > f._walstream_lsn OR (c._walstream_lsn = f._walstream_lsn AND c._walstream_seq > f._walstream_seq)) THEN DELETE
WHEN MATCHED AND c._walstream_op <> 'D' AND (c._walstream_lsn > f._walstream_lsn OR (c._walstream_lsn = f._walstream_lsn AND c._walstream_seq > f._walstream_seq)) THEN UPDATE SET
    "flag" = c."flag",
    "small" = c."small",
    "medium" = c."medium",
    "object_id" = c."object_id",
    "real_value" = c."real_value",
    "double_value" = c."double_value",
    "price" = c."price",
    "widest" = c."widest",
    "any_numeric" = c."any_numeric",
    "huge_numeric" = c."huge_numeric",
    "cash" = c."cash",
    "body" = c."body",
    "code" = c."code",
    "fixed" = c."fixed",
    "handle" = c."handle",
    "address" = c."address",
    "network" = c."network",
    "mac" = c."mac",
    "duration" = c."duration",
    "period" = c."period",
    "markup" = c."markup",
    "search" = c."search",
    "bits" = c."bits",
    "uid" = c."uid",
    "document" = c."document",
    "binary_document" = c."binary_document",
    "payload" = c."payload",
    "day" = c."day",
    "clock" = c."clock",
    "clock_tz" = c."clock_tz",
    "local_ts" = c."local_ts",
    "instant" = c."instant",
    "numbers" = c."numbers",
    "labels" = c."labels",
    "prices" = c."prices",
    "documents" = c."documents",
    "instants" = c."instants",
    "mood" = c."mood",
    _walstream_lossy = c._walstream_lossy,
    _walstream_lsn = c._walstream_lsn,
    _walstream_seq = c._walstream_seq,
    _walstream_commit_ts = c._walstream_commit_ts
WHEN NOT MATCHED AND c._walstream_op <> 'D' THEN INSERT ("id", "flag", "small", "medium", "object_id", "real_value", "double_value", "price", "widest", "any_numeric", "huge_numeric", "cash", "body", "code", "fixed", "handle", "address", "network", "mac", "duration", "period", "markup", "search", "bits", "uid", "document", "binary_document", "payload", "day", "clock", "clock_tz", "local_ts", "instant", "numbers", "labels", "prices", "documents", "instants", "mood", _walstream_lossy, _walstream_lsn, _walstream_seq, _walstream_commit_ts)
VALUES (c."id", c."flag", c."small", c."medium", c."object_id", c."real_value", c."double_value", c."price", c."widest", c."any_numeric", c."huge_numeric", c."cash", c."body", c."code", c."fixed", c."handle", c."address", c."network", c."mac", c."duration", c."period", c."markup", c."search", c."bits", c."uid", c."document", c."binary_document", c."payload", c."day", c."clock", c."clock_tz", c."local_ts", c."instant", c."numbers", c."labels", c."prices", c."documents", c."instants", c."mood", c._walstream_lossy, c._walstream_lsn, c._walstream_seq, c._walstream_commit_ts);

MERGE INTO "public"."_walstream_tombstones_type_zoo" AS t
USING (SELECT "id", _walstream_lsn, _walstream_seq, _walstream_commit_ts FROM "public"."_walstream_changes_type_zoo" WHERE _walstream_op = 'D') AS c
ON t."id" = c."id"
WHEN MATCHED AND (c._walstream_lsn > t._walstream_lsn OR (c._walstream_lsn = t._walstream_lsn AND c._walstream_seq > t._walstream_seq)) THEN UPDATE SET
    _walstream_lsn = c._walstream_lsn, _walstream_seq = c._walstream_seq,
    _walstream_commit_ts = c._walstream_commit_ts, _walstream_merged_at = CURRENT_TIMESTAMP
WHEN NOT MATCHED THEN INSERT ("id", _walstream_lsn, _walstream_seq, _walstream_commit_ts, _walstream_merged_at)
VALUES (c."id", c._walstream_lsn, c._walstream_seq, c._walstream_commit_ts, CURRENT_TIMESTAMP);

DELETE FROM "public"."_walstream_tombstones_type_zoo"
USING "public"."_walstream_changes_type_zoo" AS c
WHERE c._walstream_op <> 'D' AND "public"."_walstream_tombstones_type_zoo"."id" = c."id";

DELETE FROM "public"."_walstream_tombstones_type_zoo"
WHERE _walstream_merged_at < CURRENT_TIMESTAMP - INTERVAL 7 DAY;

DELETE FROM "public"."_walstream_changes_type_zoo";
