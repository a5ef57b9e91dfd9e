/*
 * The bytes of PostgreSQL's replication protocol and of pgoutput that walstream's C extensions
 * read, named once for C (_accel.c, _columns.c). walstream/pg/wire.py names the same for Python;
 * tests/test_wire.py checks the two agree, through the constants _accel exports.
 *
 * Protocol: https://www.postgresql.org/docs/current/protocol-replication.html (XLogData) and
 * https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html (pgoutput).
 */
#ifndef WALSTREAM_WIRE_H
#define WALSTREAM_WIRE_H

/* CopyData frames of the replication stream: XLogData is 'w', start LSN, end LSN, send time
 * (25 bytes), then one pgoutput message. */
#define WIRE_XLOG_DATA 'w'
#define WIRE_XLOG_PAYLOAD 25

/* pgoutput message kinds */
#define WIRE_BEGIN 'B'
#define WIRE_COMMIT 'C'
#define WIRE_INSERT 'I'
#define WIRE_UPDATE 'U'
#define WIRE_DELETE 'D'
#define WIRE_STREAM_STOP 'E'

/* Begin: kind, final LSN, commit time (PostgreSQL epoch), xid. Commit: kind, flags, commit LSN,
 * end LSN, commit time. */
#define WIRE_BEGIN_SIZE (1 + 8 + 8 + 4)
#define WIRE_BEGIN_FINAL_LSN 1
#define WIRE_BEGIN_COMMIT_TS 9
#define WIRE_BEGIN_XID 17
#define WIRE_COMMIT_SIZE (1 + 1 + 8 + 8 + 8)
#define WIRE_COMMIT_LSN 2
#define WIRE_COMMIT_END_LSN 10
/* microseconds from the Unix epoch to PostgreSQL's (2000-01-01) */
#define WIRE_PG_EPOCH_US 946684800000000LL

/* A change message: kind, relation OID (4), part, TupleData (Int16 column count first). Inside
 * a stream block (protocol 2+) the xid (4) comes after the kind. */
#define WIRE_CHANGE_OID 1
#define WIRE_STREAM_CHANGE_OID 5
#define WIRE_OID_TO_PART 4
#define WIRE_OID_TO_TUPLE 5

/* tuple parts: the new row, the old key, the old row */
#define WIRE_PART_NEW 'N'
#define WIRE_PART_KEY 'K'
#define WIRE_PART_OLD 'O'

/* TupleData column kinds */
#define WIRE_KIND_NULL 'n'
#define WIRE_KIND_UNCHANGED 'u'
#define WIRE_KIND_TEXT 't'
#define WIRE_KIND_BINARY 'b'

/* The fast-path rule (Runner._change): an Insert or an Update carrying only its new row, or a
 * Delete carrying its key or old row. */
static inline int wire_fast_shape(unsigned char kind, unsigned char part) {
    return (kind == WIRE_INSERT || kind == WIRE_UPDATE)
               ? part == WIRE_PART_NEW
               : (kind == WIRE_DELETE && (part == WIRE_PART_KEY || part == WIRE_PART_OLD));
}

#endif
