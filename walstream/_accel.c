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
 * always did; the rows themselves are checked at flush by walstream.pg.tuples, as before.
 *
 * libpq is the copy psycopg loaded: walstream.pg.fastpath passes the addresses of its
 * PQgetCopyData and PQfreemem to init() and the PGconn pointer to drain(), so there is one
 * libpq and one connection state.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef int (*get_copy_data_fn)(void *conn, char **buffer, int async);
typedef void (*freemem_fn)(void *ptr);

static get_copy_data_fn get_copy_data = NULL;
static freemem_fn freemem = NULL;

/* drain() statuses (mirrored in walstream/pg/fastpath.py) */
enum { DRAIN_LIMIT = 0, DRAIN_EMPTY = 1, DRAIN_FRAME = 2, DRAIN_END = 3 };

/* An XLogData frame: 'w', start LSN, end LSN, send time (25 bytes), then the pgoutput
 * message. A fast change message: kind (1), relation OID (4), 'N'/'K'/'O' (1), TupleData
 * (at least its Int16 column count). */
#define XLOG_PAYLOAD 25
#define ROW_AT (XLOG_PAYLOAD + 6)
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

static int check_target(PyObject *target) {
    if (!PyTuple_CheckExact(target) || PyTuple_GET_SIZE(target) != 4) {
        PyErr_SetString(PyExc_TypeError, "a drain target is a tuple of 4 bytearrays");
        return -1;
    }
    for (Py_ssize_t i = 0; i < 4; i++) {
        if (!PyByteArray_CheckExact(PyTuple_GET_ITEM(target, i))) {
            PyErr_SetString(PyExc_TypeError, "a drain target is a tuple of 4 bytearrays");
            return -1;
        }
    }
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
 *   -> (status, frame | None, count, payload_bytes, last_wal_end)
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
    if (get_copy_data == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "walstream._accel.init() was not called");
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
        int n = get_copy_data(conn, &buf, 1);
        if (n == 0) {
            status = DRAIN_EMPTY;
            break;
        }
        if (n < 0) {
            status = DRAIN_END;
            break;
        }
        const unsigned char *u = (const unsigned char *)buf;
        PyObject *target = NULL;
        if (n >= MIN_FAST && u[0] == 'w' && (Py_ssize_t)(n - XLOG_PAYLOAD) <= value_limit) {
            unsigned char kind = u[XLOG_PAYLOAD], part = u[ROW_AT - 1];
            int fast = (kind == 'I' || kind == 'U') ? part == 'N'
                                                     : (kind == 'D' && (part == 'K' || part == 'O'));
            if (fast) {
                uint32_t oid = be32(u + XLOG_PAYLOAD + 1);
                if (cached == NULL || oid != cached_oid) {
                    PyObject *key = PyLong_FromUnsignedLong(oid);
                    if (key == NULL) {
                        free_keeping_error(buf);
                        goto fail;
                    }
                    cached = PyDict_GetItemWithError(targets, key);
                    Py_DECREF(key);
                    if (cached == NULL && PyErr_Occurred()) {
                        free_keeping_error(buf);
                        goto fail;
                    }
                    if (cached != NULL && check_target(cached) < 0) {
                        free_keeping_error(buf);
                        goto fail;
                    }
                    cached_oid = oid;
                }
                target = cached;
            }
        }
        if (target == NULL) {
            frame = PyBytes_FromStringAndSize(buf, n);
            freemem(buf);
            if (frame == NULL) {
                goto fail;
            }
            status = DRAIN_FRAME;
            break;
        }
        if (!have_seq) {
            PyObject *value = PyObject_GetAttrString(txn, "seq");
            if (value == NULL) {
                free_keeping_error(buf);
                goto fail;
            }
            seq = PyLong_AsLongLong(value);
            Py_DECREF(value);
            if (seq == -1 && PyErr_Occurred()) {
                free_keeping_error(buf);
                goto fail;
            }
            have_seq = 1;
        }
        PyObject *data = PyTuple_GET_ITEM(target, 0);
        PyObject *offsets = PyTuple_GET_ITEM(target, 1);
        PyObject *ops = PyTuple_GET_ITEM(target, 2);
        PyObject *seqs = PyTuple_GET_ITEM(target, 3);
        char op = (char)u[XLOG_PAYLOAD];
        int64_t end;
        int failed = extend(data, u + ROW_AT, n - ROW_AT) < 0;
        if (!failed) {
            end = (int64_t)PyByteArray_GET_SIZE(data);
            int64_t s = (int64_t)seq;
            failed = extend(offsets, &end, 8) < 0 || extend(ops, &op, 1) < 0 ||
                     extend(seqs, &s, 8) < 0;
        }
        if (!failed) {
            last_end = be64(u + 9);
        }
        if (failed) {
            free_keeping_error(buf);
            goto fail;
        }
        freemem(buf);
        seq++;
        payload += n - XLOG_PAYLOAD;
        count++;
    }
    if (have_seq) {
        PyObject *value = PyLong_FromLongLong(seq);
        if (value == NULL || PyObject_SetAttrString(txn, "seq", value) < 0) {
            Py_XDECREF(value);
            Py_XDECREF(frame);
            return NULL;
        }
        Py_DECREF(value);
    }
    if (frame == NULL) {
        frame = Py_NewRef(Py_None);
    }
    return Py_BuildValue("(iNnLK)", status, frame, count, payload, last_end);

fail:
    /* The frame in hand is lost to this process: the caller must stop without acknowledging
     * (the slot sends it again after a restart). Only a bug or memory exhaustion gets here. */
    Py_XDECREF(frame);
    return NULL;
}

static PyMethodDef methods[] = {
    {"init", accel_init, METH_VARARGS, "init(PQgetCopyData address, PQfreemem address)"},
    {"drain", accel_drain, METH_VARARGS,
     "drain(pgconn, max_frames, value_limit, targets, txn) -> (status, frame, count, "
     "payload_bytes, last_wal_end)"},
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
    if (PyModule_AddIntConstant(m, "DRAIN_LIMIT", DRAIN_LIMIT) < 0 ||
        PyModule_AddIntConstant(m, "DRAIN_EMPTY", DRAIN_EMPTY) < 0 ||
        PyModule_AddIntConstant(m, "DRAIN_FRAME", DRAIN_FRAME) < 0 ||
        PyModule_AddIntConstant(m, "DRAIN_END", DRAIN_END) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
