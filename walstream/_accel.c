/*
 * walstream._accel: the read loop's hot path in C (optional; walstream runs without it).
 *
 * Why it exists: in Python every change costs a libpq call, a generator step, a few attribute
 * lookups and three buffer appends, about 2 us; at 150k+ changes/s that was a third of
 * walstream's CPU, and on a 2-core host every CPU second walstream spends is one the
 * walsender does not get. drain() does the same work for a run of frames in one call: it reads
 * CopyData frames from libpq and appends each Insert, Update-without-old-row and Delete of an
 * already-seen table of the current transaction to that table's buffers, exactly as
 * ChangeBatch.append does. Anything else (Begin, Commit, Relation, keepalives, streams, a
 * change of a table not yet seen in this transaction, a message over --max-value-size,
 * anything short or odd) is handed back to Python untouched, which applies every check it
 * always did; the rows themselves are checked at flush by walstream.capture.columns, as before.
 *
 * libpq is the copy psycopg loaded: walstream.capture.fastpath passes the addresses of its
 * PQgetCopyData and PQfreemem to init() and the PGconn pointer to drain(), so there is one
 * libpq and one connection state.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "wire.h"

typedef int (*get_copy_data_fn)(void *conn, char **buffer, int async);
typedef void (*freemem_fn)(void *ptr);

static get_copy_data_fn get_copy_data = NULL;
static freemem_fn freemem = NULL;

/* drain() statuses (exported to Python as DRAIN_*, which walstream/capture/frames.py reads) */
enum { DRAIN_LIMIT = 0, DRAIN_EMPTY = 1, DRAIN_FRAME = 2, DRAIN_END = 3 };

/* What the functions return, as named records (struct sequences): Python reads them by name,
 * never by position (walstream/capture/fastpath.py). */
static PyTypeObject *RunType, *HandoffType, *MarkType, *ReplayedType;

static PyStructSequence_Field run_fields[] = {
    {"status", "why the call stopped: DRAIN_LIMIT, DRAIN_EMPTY, DRAIN_FRAME or DRAIN_END"},
    {"frame", "the frame it stopped at and did not take (bytes), or None"},
    {"taken", "changes appended (spill(): messages written to the spill buffer)"},
    {"payload_bytes", "pgoutput bytes of the frames it took"},
    {"wal_end", "the WAL end of the last frame it took"},
    {"commits", "whole transactions committed (drain_txns() only)"},
    {"commit_end", "end LSN of the last of them"},
    {"handoff", "the transaction it stopped inside (a Handoff), or None"},
    {NULL, NULL},
};
static PyStructSequence_Desc run_desc = {
    "walstream._accel.Run", "What one drain(), drain_txns() or spill() call took.", run_fields, 8,
};

static PyStructSequence_Field handoff_fields[] = {
    {"xid", NULL}, {"final_lsn", NULL}, {"commit_ts_us", NULL},
    {"seq", "the seq the transaction's next row takes"},
    {"rows", "rows of the transaction appended so far"},
    {"marks", "a Mark per batch the transaction appended to"},
    {NULL, NULL},
};
static PyStructSequence_Desc handoff_desc = {
    "walstream._accel.Handoff", "A transaction drain_txns() began and hands to Python.",
    handoff_fields, 6,
};

static PyStructSequence_Field mark_fields[] = {
    {"oid", "the relation OID"},
    {"entry", "the table's entry in `tables` (its TableEntry)"},
    {"rows_before", "the batch's rows before the transaction"},
    {NULL, NULL},
};
static PyStructSequence_Desc mark_desc = {
    "walstream._accel.Mark", "A batch a handed-off transaction appended to.", mark_fields, 3,
};

static PyStructSequence_Field replayed_fields[] = {
    {"pos", "where in the block it stopped"},
    {"taken", "changes appended"},
    {"payload_bytes", "message bytes of those changes"},
    {NULL, NULL},
};
static PyStructSequence_Desc replayed_desc = {
    "walstream._accel.Replayed", "What one replay() call took.", replayed_fields, 3,
};

/* A record of `type` from n new references (stolen, any of them NULL on a failed build). */
static PyObject *record(PyTypeObject *type, PyObject **items, Py_ssize_t n) {
    PyObject *rec = PyStructSequence_New(type);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (rec == NULL) {
            Py_XDECREF(items[i]);
        } else {
            PyStructSequence_SET_ITEM(rec, i, items[i]);
        }
    }
    for (Py_ssize_t i = 0; rec != NULL && i < n; i++) {
        if (items[i] == NULL) {
            Py_DECREF(rec); /* frees the items set */
            return NULL;
        }
    }
    return rec;
}

static PyObject *make_run(int status, PyObject *frame, Py_ssize_t count, long long payload,
                          unsigned long long wal_end, Py_ssize_t commits,
                          unsigned long long commit_end, PyObject *handoff) {
    PyObject *items[8] = {
        PyLong_FromLong(status),          frame,
        PyLong_FromSsize_t(count),        PyLong_FromLongLong(payload),
        PyLong_FromUnsignedLongLong(wal_end), PyLong_FromSsize_t(commits),
        PyLong_FromUnsignedLongLong(commit_end), handoff,
    };
    return record(RunType, items, 8);
}

/* A fast change message in an XLogData frame (wire.h): its TupleData starts at ROW_AT and holds
 * at least its Int16 column count. */
#define XLOG_PAYLOAD WIRE_XLOG_PAYLOAD
#define ROW_AT (XLOG_PAYLOAD + WIRE_CHANGE_OID + WIRE_OID_TO_TUPLE)
#define MIN_FAST (ROW_AT + 2)

static inline uint32_t be32(const unsigned char *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t be64(const unsigned char *p) {
    return ((uint64_t)be32(p) << 32) | be32(p + 4);
}

/* Append n bytes to a bytearray (PyByteArray_Resize over-allocates, as bytearray += does). */
static inline int extend(PyObject *ba, const void *src, Py_ssize_t n) {
    Py_ssize_t len = PyByteArray_GET_SIZE(ba);
    if (PyByteArray_Resize(ba, len + n) < 0) {
        return -1;
    }
    memcpy(PyByteArray_AS_STRING(ba) + len, src, (size_t)n);
    return 0;
}

/* Free libpq's frame while an exception may be pending (PQfreemem runs no Python, but keep the
 * error intact whatever it is). */
static void free_keeping_error(char *buf) {
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    freemem(buf);
    PyErr_Restore(type, value, traceback);
}

/* init() must have run: every drain function reads libpq through it. */
static int initialised(void) {
    if (get_copy_data == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "walstream._accel.init() was not called");
        return 0;
    }
    return 1;
}

/* The next CopyData frame from libpq (async): its length, or 0 and *status DRAIN_EMPTY when
 * no whole frame is there, or -1 and *status DRAIN_END when the COPY ended or failed. */
static inline int next_frame(void *conn, char **buf, int *status) {
    int n = get_copy_data(conn, buf, 1);
    if (n == 0) {
        *status = DRAIN_EMPTY;
    } else if (n < 0) {
        *status = DRAIN_END;
    }
    return n;
}

/* A frame the C loop does not take, handed back to Python as bytes (libpq's copy freed). */
static PyObject *hand_back(char *buf, int n) {
    PyObject *frame = PyBytes_FromStringAndSize(buf, n);
    freemem(buf);
    return frame;
}

/* The first four items of a drain target or table entry are bytearrays (ChangeBatch.storage). */
static int check_bytearrays(PyObject *tuple) {
    for (Py_ssize_t i = 0; i < 4; i++) {
        if (!PyByteArray_CheckExact(PyTuple_GET_ITEM(tuple, i))) {
            return -1;
        }
    }
    return 0;
}

static int check_target(PyObject *target) {
    if (!PyTuple_Check(target) || PyTuple_GET_SIZE(target) != 4 ||
        check_bytearrays(target) < 0) {
        PyErr_SetString(PyExc_TypeError, "a drain target is a tuple of 4 bytearrays");
        return -1;
    }
    return 0;
}

/* The fast-path rule of Runner._change: an Insert or an Update carrying only its new row, or a
 * Delete carrying its key or old row, of at most value_limit bytes of message. */
static inline int fast_change(const unsigned char *u, int n, Py_ssize_t value_limit) {
    if (n < MIN_FAST || u[0] != WIRE_XLOG_DATA || (Py_ssize_t)(n - XLOG_PAYLOAD) > value_limit) {
        return 0;
    }
    return wire_fast_shape(u[XLOG_PAYLOAD], u[ROW_AT - 1]);
}

/* ChangeBatch.append for one fast change: its TupleData, end offset, op and seq. */
static int append_row(PyObject *target, char op, const unsigned char *row, Py_ssize_t len,
                      long long seq) {
    PyObject *data = PyTuple_GET_ITEM(target, 0);
    PyObject *offsets = PyTuple_GET_ITEM(target, 1);
    PyObject *ops = PyTuple_GET_ITEM(target, 2);
    PyObject *seqs = PyTuple_GET_ITEM(target, 3);
    if (extend(data, row, len) < 0) {
        return -1;
    }
    int64_t end = (int64_t)PyByteArray_GET_SIZE(data);
    int64_t s = (int64_t)seq;
    if (extend(offsets, &end, 8) < 0 || extend(ops, &op, 1) < 0 || extend(seqs, &s, 8) < 0) {
        return -1;
    }
    return 0;
}

/* txn.seq, the seq the transaction's next row takes: read once per call, written back after. */
static int get_seq(PyObject *txn, long long *seq) {
    PyObject *value = PyObject_GetAttrString(txn, "seq");
    *seq = value == NULL ? -1 : PyLong_AsLongLong(value);
    Py_XDECREF(value);
    return *seq == -1 && PyErr_Occurred() ? -1 : 0;
}

static int set_seq(PyObject *txn, long long seq) {
    PyObject *value = PyLong_FromLongLong(seq);
    int failed = value == NULL || PyObject_SetAttrString(txn, "seq", value) < 0;
    Py_XDECREF(value);
    return failed ? -1 : 0;
}

/* targets[oid] (borrowed; NULL when absent), checked by `check` once per look-up. */
static int lookup(PyObject *targets, uint32_t oid, int (*check)(PyObject *), PyObject **found,
                  uint32_t *found_oid) {
    PyObject *key = PyLong_FromUnsignedLong(oid);
    if (key == NULL) {
        return -1;
    }
    PyObject *value = PyDict_GetItemWithError(targets, key);
    Py_DECREF(key);
    if (value == NULL && PyErr_Occurred()) {
        return -1;
    }
    if (value != NULL && check(value) < 0) {
        return -1;
    }
    *found = value;
    *found_oid = oid;
    return 0;
}

static PyObject *accel_init(PyObject *self, PyObject *args) {
    unsigned long long get_addr, free_addr;
    if (!PyArg_ParseTuple(args, "KK", &get_addr, &free_addr)) {
        return NULL;
    }
    if (!get_addr || !free_addr) {
        PyErr_SetString(PyExc_ValueError, "null libpq function address");
        return NULL;
    }
    get_copy_data = (get_copy_data_fn)(uintptr_t)get_addr;
    freemem = (freemem_fn)(uintptr_t)free_addr;
    Py_RETURN_NONE;
}

/*
 * drain(pgconn, max_frames, value_limit, targets, txn)
 *   -> Run(status, frame | None, taken, payload_bytes, wal_end, 0, 0, None)
 *
 * targets: {relation OID: (data, offsets, ops, seqs)}, the bytearrays of ChangeBatch (offsets
 * and seqs hold native int64). txn: the Txn whose ``seq`` the rows take (read once, written
 * back). Reads at most max_frames frames; stops early when libpq has no complete frame
 * (DRAIN_EMPTY), the COPY ended or failed (DRAIN_END: Python asks libpq why), or at a frame
 * it does not take (DRAIN_FRAME: the frame is returned as bytes). count, payload_bytes and
 * last_wal_end describe the frames it took.
 */
static PyObject *accel_drain(PyObject *self, PyObject *args) {
    unsigned long long conn_addr;
    Py_ssize_t max_frames, value_limit;
    PyObject *targets, *txn;
    if (!PyArg_ParseTuple(args, "KnnO!O", &conn_addr, &max_frames, &value_limit, &PyDict_Type,
                          &targets, &txn)) {
        return NULL;
    }
    if (!initialised()) {
        return NULL;
    }
    void *conn = (void *)(uintptr_t)conn_addr;
    int status = DRAIN_LIMIT;
    PyObject *frame = NULL;
    Py_ssize_t count = 0;
    long long payload = 0;
    unsigned long long last_end = 0;
    long long seq = 0;
    int have_seq = 0;
    uint32_t cached_oid = 0;
    PyObject *cached = NULL; /* borrowed from targets */

    while (count < max_frames) {
        char *buf = NULL;
        int n = next_frame(conn, &buf, &status);
        if (n <= 0) {
            break;
        }
        const unsigned char *u = (const unsigned char *)buf;
        PyObject *target = NULL;
        if (fast_change(u, n, value_limit)) {
            uint32_t oid = be32(u + XLOG_PAYLOAD + 1);
            if ((cached == NULL || oid != cached_oid) &&
                lookup(targets, oid, check_target, &cached, &cached_oid) < 0) {
                free_keeping_error(buf);
                goto fail;
            }
            target = cached;
        }
        if (target == NULL) {
            frame = hand_back(buf, n);
            if (frame == NULL) {
                goto fail;
            }
            status = DRAIN_FRAME;
            break;
        }
        if (!have_seq) {
            if (get_seq(txn, &seq) < 0) {
                free_keeping_error(buf);
                goto fail;
            }
            have_seq = 1;
        }
        if (append_row(target, (char)u[XLOG_PAYLOAD], u + ROW_AT, n - ROW_AT, seq) < 0) {
            free_keeping_error(buf);
            goto fail;
        }
        last_end = be64(u + 9);
        freemem(buf);
        seq++;
        payload += n - XLOG_PAYLOAD;
        count++;
    }
    if (have_seq && set_seq(txn, seq) < 0) {
        Py_XDECREF(frame);
        return NULL;
    }
    if (frame == NULL) {
        frame = Py_NewRef(Py_None);
    }
    return make_run(status, frame, count, payload, last_end, 0, 0, Py_NewRef(Py_None));

fail:
    /* The frame in hand is lost to this process: the caller must stop without acknowledging
     * (the slot sends it again after a restart). Only a bug or memory exhaustion gets here. */
    Py_XDECREF(frame);
    return NULL;
}

static int check_table(PyObject *entry) {
    if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) < 6 || check_bytearrays(entry) < 0 ||
        !PyByteArray_CheckExact(PyTuple_GET_ITEM(entry, 4)) ||
        !PyLong_CheckExact(PyTuple_GET_ITEM(entry, 5))) {
        PyErr_SetString(PyExc_TypeError,
                        "a drain_txns table is (data, offsets, ops, seqs, runs, row_cost, ...), runs a bytearray");
        return -1;
    }
    return 0;
}

/* Begin and Commit of another length than wire.h's are left to the Python decoder's checks. */
/* tables one C transaction may touch before it is handed to Python */
#define MAX_TOUCHED 64

typedef struct {
    PyObject *entry; /* borrowed from tables */
    uint32_t oid;
    Py_ssize_t rows_before;
    long long row_cost;
} touched_t;

/*
 * drain_txns(pgconn, max_frames, value_limit, tables, row_room, byte_room)
 *   -> Run(status, frame | None, taken, payload_bytes, wal_end, commits, commit_end, handoff)
 *
 * The read loop between transactions: whole transactions (Begin, fast changes, Commit) whose
 * every change goes to a table in `tables` are appended and committed here, the bookkeeping
 * done as Runner does it: a run (first row, commit LSN, xid, commit time: four native int64,
 * ChangeBatch._RUN) appended to the batch's `runs` at the transaction's first row in it, seqs
 * from 0. tables: {relation OID:
 * (data, offsets, ops, seqs, runs, row_cost, ...)}, the batches the pipeline has already seen
 * and still writes to. `commits` transactions were committed, the last ending at commit_end.
 *
 * Stops at a frame it does not take (DRAIN_FRAME): outside a transaction anything but a Begin;
 * inside, anything but a fast change of a known table or the matching Commit of a transaction
 * with rows. It stops after a Commit once the rows or bytes it added reach row_room or
 * byte_room (DRAIN_LIMIT: the pipeline looks at its budget), and as drain() does at
 * max_frames, an empty socket or the end. When it stops inside a transaction, the transaction
 * goes to Python as `handoff`: Handoff(xid, final_lsn, commit_ts_us, next seq, rows,
 * [Mark(oid, entry, rows_before), ...]), which the pipeline adopts before it handles `frame`.
 */
static PyObject *accel_drain_txns(PyObject *self, PyObject *args) {
    unsigned long long conn_addr;
    Py_ssize_t max_frames, value_limit;
    long long row_room, byte_room;
    PyObject *tables;
    if (!PyArg_ParseTuple(args, "KnnO!LL", &conn_addr, &max_frames, &value_limit, &PyDict_Type,
                          &tables, &row_room, &byte_room)) {
        return NULL;
    }
    if (!initialised()) {
        return NULL;
    }
    void *conn = (void *)(uintptr_t)conn_addr;
    int status = DRAIN_LIMIT;
    PyObject *frame = NULL, *handoff = NULL;
    Py_ssize_t count = 0, commits = 0, frames = 0;
    long long payload = 0, rows_done = 0, bytes_done = 0;
    unsigned long long last_end = 0, commit_end = 0;
    uint32_t cached_oid = 0;
    PyObject *cached = NULL;
    /* the transaction in progress */
    int open = 0;
    unsigned long long final_lsn = 0;
    long long ts_us = 0, seq = 0, rows_txn = 0, bytes_txn = 0;
    uint32_t xid = 0;
    touched_t touched[MAX_TOUCHED];
    int ntouched = 0;

    while (frames < max_frames) {
        char *buf = NULL;
        int n = next_frame(conn, &buf, &status);
        if (n <= 0) {
            break;
        }
        const unsigned char *u = (const unsigned char *)buf;
        const unsigned char *msg = u + XLOG_PAYLOAD;
        int size = n - XLOG_PAYLOAD;
        int is_w = n > XLOG_PAYLOAD && u[0] == WIRE_XLOG_DATA;
        int taken = 0;
        if (!open) {
            if (is_w && msg[0] == WIRE_BEGIN && size == WIRE_BEGIN_SIZE) {
                final_lsn = be64(msg + WIRE_BEGIN_FINAL_LSN);
                ts_us = (long long)be64(msg + WIRE_BEGIN_COMMIT_TS) + WIRE_PG_EPOCH_US;
                xid = be32(msg + WIRE_BEGIN_XID);
                open = 1;
                seq = rows_txn = bytes_txn = 0;
                ntouched = 0;
                taken = 1;
            }
        } else if (is_w && msg[0] == WIRE_COMMIT && size == WIRE_COMMIT_SIZE && rows_txn > 0 &&
                   be64(msg + WIRE_COMMIT_LSN) == final_lsn) {
            commit_end = be64(msg + WIRE_COMMIT_END_LSN);
            open = 0;
            commits++;
            rows_done += rows_txn;
            bytes_done += bytes_txn;
            taken = 2;
        } else if (fast_change(u, n, value_limit)) {
            uint32_t oid = be32(msg + WIRE_CHANGE_OID);
            if ((cached == NULL || oid != cached_oid) &&
                lookup(tables, oid, check_table, &cached, &cached_oid) < 0) {
                free_keeping_error(buf);
                goto fail;
            }
            PyObject *entry = cached;
            int t = 0;
            if (entry != NULL) {
                while (t < ntouched && touched[t].entry != entry) {
                    t++;
                }
                if (t == ntouched && ntouched == MAX_TOUCHED) {
                    entry = NULL; /* hand the transaction to Python */
                }
            }
            if (entry != NULL) {
                if (t == ntouched) {
                    /* the transaction's first row in this batch: its run starts here */
                    Py_ssize_t rows = PyByteArray_GET_SIZE(PyTuple_GET_ITEM(entry, 2));
                    long long cost = PyLong_AsLongLong(PyTuple_GET_ITEM(entry, 5));
                    int64_t run[4] = {rows, (int64_t)final_lsn, xid, ts_us};
                    if ((cost == -1 && PyErr_Occurred()) ||
                        extend(PyTuple_GET_ITEM(entry, 4), run, sizeof run) < 0) {
                        free_keeping_error(buf);
                        goto fail;
                    }
                    touched[t].entry = entry;
                    touched[t].oid = oid;
                    touched[t].rows_before = rows;
                    touched[t].row_cost = cost;
                    ntouched++;
                }
                if (append_row(entry, (char)u[XLOG_PAYLOAD], u + ROW_AT, n - ROW_AT, seq) < 0) {
                    free_keeping_error(buf);
                    goto fail;
                }
                seq++;
                rows_txn++;
                bytes_txn += 2LL * (n - ROW_AT) + touched[t].row_cost;
                count++;
                taken = 1;
            }
        }
        if (!taken) {
            frame = hand_back(buf, n);
            if (frame == NULL) {
                goto fail;
            }
            status = DRAIN_FRAME;
            break;
        }
        last_end = be64(u + 9);
        payload += size;
        freemem(buf);
        frames++;
        if (taken == 2 && (rows_done >= row_room || bytes_done >= byte_room)) {
            status = DRAIN_LIMIT;
            break;
        }
    }
    if (open) {
        PyObject *marks = PyList_New(ntouched);
        if (marks == NULL) {
            goto fail;
        }
        for (int t = 0; t < ntouched; t++) {
            PyObject *fields[3] = {PyLong_FromUnsignedLong(touched[t].oid),
                                   Py_NewRef(touched[t].entry),
                                   PyLong_FromSsize_t(touched[t].rows_before)};
            PyObject *mark = record(MarkType, fields, 3);
            if (mark == NULL) {
                Py_DECREF(marks);
                goto fail;
            }
            PyList_SET_ITEM(marks, t, mark);
        }
        PyObject *fields[6] = {PyLong_FromUnsignedLong(xid), PyLong_FromUnsignedLongLong(final_lsn),
                               PyLong_FromLongLong(ts_us),   PyLong_FromLongLong(seq),
                               PyLong_FromLongLong(rows_txn), marks};
        handoff = record(HandoffType, fields, 6);
        if (handoff == NULL) {
            goto fail;
        }
    }
    if (frame == NULL) {
        frame = Py_NewRef(Py_None);
    }
    if (handoff == NULL) {
        handoff = Py_NewRef(Py_None);
    }
    return make_run(status, frame, count, payload, last_end, commits, commit_end, handoff);

fail:
    /* as in drain(): the caller must stop without acknowledging anything */
    Py_XDECREF(frame);
    Py_XDECREF(handoff);
    return NULL;
}

/*
 * spill(pgconn, max_frames, out, max_bytes)
 *   -> Run(status, frame | None, taken, payload_bytes, wal_end, 0, 0, None)
 *
 * Inside a stream block (between Stream Start and Stream Stop) every message goes to the
 * transaction's spill file as it is (walstream/capture/spill.py: a big-endian uint32 length,
 * then the message). This appends them to `out`, which the pipeline writes to the file, until
 * `out` holds max_bytes or a frame that is not an XLogData message other than Stream Stop
 * arrives (DRAIN_FRAME: a Stream Stop or keepalive, handled in Python), and stops as drain()
 * does otherwise.
 */
static PyObject *accel_spill(PyObject *self, PyObject *args) {
    unsigned long long conn_addr;
    Py_ssize_t max_frames, max_bytes;
    PyObject *out;
    if (!PyArg_ParseTuple(args, "KnO!n", &conn_addr, &max_frames, &PyByteArray_Type, &out,
                          &max_bytes)) {
        return NULL;
    }
    if (!initialised()) {
        return NULL;
    }
    void *conn = (void *)(uintptr_t)conn_addr;
    int status = DRAIN_LIMIT;
    PyObject *frame = NULL;
    Py_ssize_t count = 0;
    long long payload = 0;
    unsigned long long last_end = 0;
    while (count < max_frames && PyByteArray_GET_SIZE(out) < max_bytes) {
        char *buf = NULL;
        int n = next_frame(conn, &buf, &status);
        if (n <= 0) {
            break;
        }
        const unsigned char *u = (const unsigned char *)buf;
        if (n <= XLOG_PAYLOAD || u[0] != WIRE_XLOG_DATA || u[XLOG_PAYLOAD] == WIRE_STREAM_STOP) {
            frame = hand_back(buf, n);
            if (frame == NULL) {
                return NULL;
            }
            status = DRAIN_FRAME;
            break;
        }
        uint32_t size = (uint32_t)(n - XLOG_PAYLOAD);
        unsigned char length[4] = {(unsigned char)(size >> 24), (unsigned char)(size >> 16),
                                   (unsigned char)(size >> 8), (unsigned char)size};
        if (extend(out, length, 4) < 0 || extend(out, u + XLOG_PAYLOAD, size) < 0) {
            free_keeping_error(buf);
            return NULL; /* the caller stops without acknowledging (as drain()) */
        }
        last_end = be64(u + 9);
        freemem(buf);
        payload += size;
        count++;
    }
    if (frame == NULL) {
        frame = Py_NewRef(Py_None);
    }
    return make_run(status, frame, count, payload, last_end, 0, 0, Py_NewRef(Py_None));
}

/* A change message as spilled inside a stream (wire.h): kind, xid, relation OID, part, TupleData. */
#define S_OID WIRE_STREAM_CHANGE_OID
#define S_PART (S_OID + WIRE_OID_TO_PART)
#define S_ROW (S_OID + WIRE_OID_TO_TUPLE)
#define S_MIN (S_ROW + 2)

/*
 * replay(block, pos, targets, txn, value_limit, max_rows, max_bytes)
 *   -> Replayed(pos, taken, payload_bytes)
 *
 * A streamed transaction's spill file, replayed at its Stream Commit: from `pos` in `block`
 * (length-prefixed messages, the last one possibly cut off by the read), append each fast
 * change of a table in `targets` as drain() does, until a message it does not take, an
 * incomplete one, the end, or max_rows rows or max_bytes bytes (the pipeline's budget);
 * returns where it stopped. The pipeline handles
 * that message (Runner._replay_streamed) and calls again. Changes of aborted subtransactions
 * must be skipped, so the pipeline does not call this when there are any.
 */
static PyObject *accel_replay(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t pos, value_limit, max_rows;
    long long max_bytes;
    PyObject *targets, *txn;
    if (!PyArg_ParseTuple(args, "y*nO!OnnL", &view, &pos, &PyDict_Type, &targets, &txn,
                          &value_limit, &max_rows, &max_bytes)) {
        return NULL;
    }
    const unsigned char *base = (const unsigned char *)view.buf;
    Py_ssize_t end = view.len, count = 0;
    long long payload = 0, seq = 0;
    int have_seq = 0, failed = 0;
    uint32_t cached_oid = 0;
    PyObject *cached = NULL;
    if (pos < 0 || pos > end) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "replay position outside the block");
        return NULL;
    }
    while (count < max_rows && payload < max_bytes && end - pos >= 4) {
        const unsigned char *m = base + pos + 4;
        Py_ssize_t size = (Py_ssize_t)be32(base + pos);
        if (end - pos - 4 < size || size < S_MIN || size > value_limit) {
            break;
        }
        if (!wire_fast_shape(m[0], m[S_PART])) {
            break;
        }
        uint32_t oid = be32(m + S_OID);
        if ((cached == NULL || oid != cached_oid) &&
            lookup(targets, oid, check_target, &cached, &cached_oid) < 0) {
            failed = 1;
            break;
        }
        if (cached == NULL) {
            break;
        }
        if (!have_seq) {
            if (get_seq(txn, &seq) < 0) {
                failed = 1;
                break;
            }
            have_seq = 1;
        }
        if (append_row(cached, (char)m[0], m + S_ROW, size - S_ROW, seq) < 0) {
            failed = 1;
            break;
        }
        seq++;
        count++;
        payload += size;
        pos += 4 + size;
    }
    PyBuffer_Release(&view);
    if (failed) {
        return NULL; /* as drain(): the caller stops without acknowledging anything */
    }
    if (have_seq && set_seq(txn, seq) < 0) {
        return NULL;
    }
    PyObject *fields[3] = {PyLong_FromSsize_t(pos), PyLong_FromSsize_t(count),
                           PyLong_FromLongLong(payload)};
    return record(ReplayedType, fields, 3);
}

static PyMethodDef methods[] = {
    {"init", accel_init, METH_VARARGS, "init(PQgetCopyData address, PQfreemem address)"},
    {"drain", accel_drain, METH_VARARGS,
     "drain(pgconn, max_frames, value_limit, targets, txn) -> Run"},
    {"spill", accel_spill, METH_VARARGS,
     "spill(pgconn, max_frames, out, max_bytes) -> Run"},
    {"replay", accel_replay, METH_VARARGS,
     "replay(block, pos, targets, txn, value_limit, max_rows, max_bytes) -> Replayed"},
    {"drain_txns", accel_drain_txns, METH_VARARGS,
     "drain_txns(pgconn, max_frames, value_limit, tables, row_room, byte_room) -> Run"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "walstream._accel", "The read loop's hot path in C.", -1, methods,
};

PyMODINIT_FUNC PyInit__accel(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    struct {
        PyTypeObject **type;
        PyStructSequence_Desc *desc;
        const char *name;
    } records[] = {{&RunType, &run_desc, "Run"},
                   {&HandoffType, &handoff_desc, "Handoff"},
                   {&MarkType, &mark_desc, "Mark"},
                   {&ReplayedType, &replayed_desc, "Replayed"}};
    for (size_t i = 0; i < sizeof records / sizeof records[0]; i++) {
        if (*records[i].type == NULL) {
            *records[i].type = PyStructSequence_NewType(records[i].desc);
        }
        if (*records[i].type == NULL ||
            PyModule_AddObjectRef(m, records[i].name, (PyObject *)*records[i].type) < 0) {
            Py_DECREF(m);
            return NULL;
        }
    }
    PyObject *epoch = PyLong_FromLongLong(WIRE_PG_EPOCH_US);
    int added = epoch != NULL && PyModule_AddObjectRef(m, "WIRE_PG_EPOCH_US", epoch) == 0;
    Py_XDECREF(epoch);
    if (!added) {
        Py_DECREF(m);
        return NULL;
    }
    /* the wire constants too, so that tests/test_wire.py can hold them to walstream/pg/wire.py */
    if (PyModule_AddIntConstant(m, "WIRE_XLOG_DATA", WIRE_XLOG_DATA) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_XLOG_PAYLOAD", WIRE_XLOG_PAYLOAD) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_BEGIN", WIRE_BEGIN) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_COMMIT", WIRE_COMMIT) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_INSERT", WIRE_INSERT) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_UPDATE", WIRE_UPDATE) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_DELETE", WIRE_DELETE) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_STREAM_STOP", WIRE_STREAM_STOP) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_BEGIN_SIZE", WIRE_BEGIN_SIZE) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_COMMIT_SIZE", WIRE_COMMIT_SIZE) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_BEGIN_FINAL_LSN", WIRE_BEGIN_FINAL_LSN) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_BEGIN_COMMIT_TS", WIRE_BEGIN_COMMIT_TS) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_BEGIN_XID", WIRE_BEGIN_XID) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_COMMIT_LSN", WIRE_COMMIT_LSN) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_COMMIT_END_LSN", WIRE_COMMIT_END_LSN) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_CHANGE_OID", WIRE_CHANGE_OID) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_STREAM_CHANGE_OID", WIRE_STREAM_CHANGE_OID) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_OID_TO_PART", WIRE_OID_TO_PART) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_OID_TO_TUPLE", WIRE_OID_TO_TUPLE) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_PART_NEW", WIRE_PART_NEW) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_PART_KEY", WIRE_PART_KEY) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_PART_OLD", WIRE_PART_OLD) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_KIND_NULL", WIRE_KIND_NULL) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_KIND_UNCHANGED", WIRE_KIND_UNCHANGED) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_KIND_TEXT", WIRE_KIND_TEXT) < 0 ||
        PyModule_AddIntConstant(m, "WIRE_KIND_BINARY", WIRE_KIND_BINARY) < 0 ||
        PyModule_AddIntConstant(m, "DRAIN_LIMIT", DRAIN_LIMIT) < 0 ||
        PyModule_AddIntConstant(m, "DRAIN_EMPTY", DRAIN_EMPTY) < 0 ||
        PyModule_AddIntConstant(m, "DRAIN_FRAME", DRAIN_FRAME) < 0 ||
        PyModule_AddIntConstant(m, "DRAIN_END", DRAIN_END) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
