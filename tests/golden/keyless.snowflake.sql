-- walstream: Snowflake objects generated from the source table schemas.
-- Safe to run again: nothing is dropped; pipes are never replaced (a new pipe would
-- load every file again). Tasks are replaced and resumed.
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

-- public.events (no key: FINAL is an append-only change log)
CREATE TABLE IF NOT EXISTS "EVENTS" (
    "KIND" VARCHAR,
    "PAYLOAD" VARIANT,
    "AT" TIMESTAMP_NTZ(6),
    _walstream_op VARCHAR,
    _walstream_unchanged ARRAY,
    _walstream_lsn NUMBER(19,0),
    _walstream_seq NUMBER(19,0),
    _walstream_commit_ts TIMESTAMP_TZ(6)
);
CREATE TABLE IF NOT EXISTS "STAGING_EVENTS" (
    _walstream_op VARCHAR,
    "KIND" VARCHAR,
    "PAYLOAD" VARCHAR,
    "AT" TIMESTAMP_NTZ(6),
    _walstream_commit_ts TIMESTAMP_TZ(6),
    _walstream_lsn NUMBER(19,0),
    _walstream_seq NUMBER(19,0),
    _walstream_xid NUMBER(19,0),
    _walstream_unchanged ARRAY,
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
    _walstream_key_change,
    _walstream_file,
    _walstream_file_row
)
FROM (
    SELECT
        $1:"Op"::VARCHAR,
        $1:"kind"::VARCHAR,
        $1:"payload"::VARCHAR,
        $1:"at"::TIMESTAMP_NTZ(6),
        $1:"_walstream_commit_ts"::TIMESTAMP_TZ(6),
        $1:"_walstream_lsn"::NUMBER(19,0),
        $1:"_walstream_seq"::NUMBER(19,0),
        $1:"_walstream_xid"::NUMBER(19,0),
        $1:"_walstream_unchanged"::ARRAY,
        $1:"_walstream_key_change"::BOOLEAN,
        METADATA$FILENAME,
        METADATA$FILE_ROW_NUMBER
    FROM @WALSTREAM_STAGE/public/events/
)
FILE_FORMAT = (FORMAT_NAME = 'WALSTREAM_PARQUET');
ALTER PIPE "STAGING_EVENTS_PIPE" REFRESH;
CREATE OR REPLACE TASK "MERGE_EVENTS"
    WAREHOUSE = CDC_WH
    SCHEDULE = '1 MINUTE'
    WHEN SYSTEM$STREAM_HAS_DATA('"STAGING_EVENTS_STREAM"')
AS
EXECUTE IMMEDIATE $$
BEGIN
    BEGIN TRANSACTION;
    INSERT INTO "EVENTS" ("KIND", "PAYLOAD", "AT", _walstream_op, _walstream_unchanged, _walstream_lsn, _walstream_seq, _walstream_commit_ts)
    SELECT
        s."KIND",
        PARSE_JSON(s."PAYLOAD"),
        s."AT",
        COALESCE(s._walstream_op, 'I'),
        s._walstream_unchanged,
        s._walstream_lsn,
        s._walstream_seq,
        s._walstream_commit_ts
    FROM "STAGING_EVENTS_STREAM" AS s
    LEFT JOIN "EVENTS" AS f
        ON f._walstream_lsn = s._walstream_lsn AND f._walstream_seq = s._walstream_seq
    WHERE f._walstream_lsn IS NULL
    QUALIFY ROW_NUMBER() OVER (
        PARTITION BY s._walstream_lsn, s._walstream_seq,
            CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file END,
            CASE WHEN s._walstream_lsn IS NULL THEN s._walstream_file_row END
        ORDER BY s._walstream_file, s._walstream_file_row
    ) = 1;
    COMMIT;
EXCEPTION
    WHEN OTHER THEN
        ROLLBACK;
        RAISE;
END;
$$;
ALTER TASK "MERGE_EVENTS" RESUME;
