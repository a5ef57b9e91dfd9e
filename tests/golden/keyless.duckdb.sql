CREATE TABLE IF NOT EXISTS "public"."events" (
    "kind" VARCHAR,
    "payload" JSON,
    "at" TIMESTAMP,
    _walstream_op VARCHAR,
    _walstream_unchanged VARCHAR[],
    _walstream_lossy VARCHAR[],
    _walstream_lsn BIGINT,
    _walstream_seq BIGINT,
    _walstream_commit_ts TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS "public"."_walstream_staging_events" (
    _walstream_op VARCHAR,
    "kind" VARCHAR,
    "payload" VARCHAR,
    "at" TIMESTAMP,
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

CREATE TABLE IF NOT EXISTS "public"."_walstream_pending_events" (
    _walstream_op VARCHAR,
    "kind" VARCHAR,
    "payload" VARCHAR,
    "at" TIMESTAMP,
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

INSERT INTO "public"."events" ("kind", "payload", "at", _walstream_op, _walstream_unchanged, _walstream_lossy, _walstream_lsn, _walstream_seq, _walstream_commit_ts)
SELECT
    s."kind",
    CAST(s."payload" AS JSON),
    s."at",
    COALESCE(s._walstream_op, 'I'),
    s._walstream_unchanged,
    s._walstream_lossy,
    s._walstream_lsn,
    s._walstream_seq,
    s._walstream_commit_ts
FROM "public"."_walstream_pending_events" AS s
LEFT JOIN "public"."events" AS f
    ON f._walstream_lsn = s._walstream_lsn AND f._walstream_seq = s._walstream_seq
WHERE f._walstream_lsn IS NULL
QUALIFY ROW_NUMBER() OVER (
    PARTITION BY s._walstream_lsn, s._walstream_seq,
        CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file END,
        CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file_row END
    ORDER BY s._walstream_file, s._walstream_file_row
) = 1;
