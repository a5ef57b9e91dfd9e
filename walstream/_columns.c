/*
 * walstream._columns: one column of a batch's TupleData rows, parsed in C (optional).
 *
 * Why it exists: walstream.capture.columns parses a batch column by column with numpy, which costs a
 * dozen vector passes per column (kinds, lengths, checks, views, a cast). On a 40-column table
 * that was 40% of walstream's CPU (bench/results/profile-20261122T160728Z-wide-update.txt).
 * Here one column takes two plain loops over the rows: scan_column() reads every row's kind
 * byte and value length and checks them; fill_column() copies the values into the Arrow
 * buffers the type converters read (binary, or fixed_size_binary when every value is binary of
 * the type's fixed size). The caller allocates those buffers between the two calls, from
 * Arrow's memory pool, which keeps freed pages for reuse: fresh pages from the kernel must be
 * zeroed first, which was a fifth of a TOAST-heavy run's CPU. scan_column applies exactly the
 * checks of the numpy path and reports the first bad row with a code that walstream.capture.columns
 * turns into the same words; the numpy path stays as the fallback and as the tests' oracle.
 * The GIL is released during both loops, so the read loop keeps running while a flush parses.
 *
 * The same two loops parse the tuples of a binary COPY (the snapshot's read, walstream.snapshot):
 * a tuple there is an Int16 field count and per field an Int32 length, -1 for NULL, then the
 * value in the type's send format, which is what pgoutput's binary mode sends too. Only the
 * framing differs (no kind byte), so scan_column takes it as a flag and reports COPY values with
 * the kinds they would have in TupleData (NULL or binary): fill_column and everything after it
 * are the stream's. copy_messages() is that COPY's read loop: it moves the CopyData messages from
 * libpq into a block without a Python call per row, which was a sixth of a wide table's load.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Error codes (mirrored in walstream/capture/columns.py). */
enum { OK = 0, E_PAST = 1, E_KIND = 2, E_CUT = 3, E_LONG = 4, E_REST = 5 };

/* How a value is framed (mirrored in walstream/capture/columns.py): pgoutput's TupleData (a kind
 * byte, then an Int32 length for 't' and 'b'), or binary COPY (an Int32 length, -1: NULL). */
enum { FRAMING_TUPLE = 0, FRAMING_COPY = 1 };
#define COPY_NULL_LENGTH (-1)

#include "wire.h"

#define KIND_NULL WIRE_KIND_NULL
#define KIND_UNCHANGED WIRE_KIND_UNCHANGED
#define KIND_TEXT WIRE_KIND_TEXT
#define KIND_BINARY WIRE_KIND_BINARY

static inline int64_t be32s(const unsigned char *p) {
    uint32_t v = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    return (int64_t)(int32_t)v;
}

typedef struct {
    const unsigned char *data;
    Py_ssize_t data_len;
    int64_t *pos;         /* in/out: where each row's next column starts */
    const int64_t *end;   /* where each row ends */
    const unsigned char *present; /* NULL, or 0 for rows without a tuple */
    int64_t *starts;      /* out: each value's first byte */
    int32_t *lengths;     /* out: each value's length (0 when there is none) */
    unsigned char *kinds; /* out: each row's kind byte */
    Py_ssize_t rows;
    int last;
    int framing;
    /* results */
    Py_ssize_t bad_row;
    int code, detail;
    Py_ssize_t values, texts, odd_width; /* odd_width: values whose length != the fixed width */
    int64_t total;
} scan_t;

/* The first loop: kinds, starts and lengths, every check; pos moves past the column. */
static void scan(scan_t *s, int64_t fixed_width) {
    s->code = OK;
    s->values = s->texts = s->odd_width = 0;
    s->total = 0;
    for (Py_ssize_t r = 0; r < s->rows; r++) {
        int64_t pos = s->pos[r], end = s->end[r];
        if (s->present != NULL && !s->present[r]) {
            s->kinds[r] = KIND_NULL;
            s->lengths[r] = 0;
            s->starts[r] = 0;
            continue;
        }
        if (pos < 0 || pos >= end || end > s->data_len) {
            s->code = E_PAST;
            s->bad_row = r;
            return;
        }
        /* the value's kind, where its length is (head) and where a NULL ends (past_null):
         * after the kind byte, or first in COPY */
        unsigned char kind;
        int64_t head, past_null;
        if (s->framing == FRAMING_COPY) {
            if (pos + 4 > end) {
                s->code = E_CUT;
                s->bad_row = r;
                return;
            }
            kind = be32s(s->data + pos) == COPY_NULL_LENGTH ? KIND_NULL : KIND_BINARY;
            head = pos;
            past_null = pos + 4;
        } else {
            kind = s->data[pos];
            head = past_null = pos + 1;
        }
        s->kinds[r] = kind;
        if (kind == KIND_TEXT || kind == KIND_BINARY) {
            if (head + 4 > end) {
                s->code = E_CUT;
                s->bad_row = r;
                return;
            }
            int64_t len = be32s(s->data + head);
            if (len < 0 || head + 4 + len > end) {
                s->code = E_LONG;
                s->bad_row = r;
                return;
            }
            s->starts[r] = head + 4;
            s->lengths[r] = (int32_t)len;
            s->values++;
            s->total += len;
            s->texts += kind == KIND_TEXT;
            s->odd_width += len != fixed_width;
            pos = head + 4 + len;
        } else if (kind == KIND_NULL || kind == KIND_UNCHANGED) {
            s->starts[r] = 0;
            s->lengths[r] = 0;
            pos = past_null;
        } else {
            s->code = E_KIND;
            s->detail = kind;
            s->bad_row = r;
            return;
        }
        if (s->last && pos != end) {
            s->code = E_REST;
            s->bad_row = r;
            return;
        }
        s->pos[r] = pos;
    }
}

/* The second loop: the values into Arrow buffers. `offsets` NULL: fixed_size_binary(width). */
static void fill(const scan_t *s, unsigned char *validity, int32_t *offsets, unsigned char *out,
                 int64_t width) {
    if (validity != NULL) {
        memset(validity, 0, (size_t)((s->rows + 7) / 8));
    }
    int64_t at = 0;
    if (offsets != NULL) {
        offsets[0] = 0;
    }
    for (Py_ssize_t r = 0; r < s->rows; r++) {
        unsigned char kind = s->kinds[r];
        int valued = kind == KIND_TEXT || kind == KIND_BINARY;
        if (validity != NULL && valued) {
            validity[r >> 3] |= (unsigned char)(1u << (r & 7));
        }
        if (offsets != NULL) {
            if (valued) {
                memcpy(out + at, s->data + s->starts[r], (size_t)s->lengths[r]);
                at += s->lengths[r];
            }
            offsets[r + 1] = (int32_t)at;
        } else if (valued) {
            memcpy(out + r * width, s->data + s->starts[r], (size_t)width);
        } else {
            memset(out + r * width, 0, (size_t)width);
        }
    }
}

/* The buffers of one call; released in reverse by release_all(). */
typedef struct {
    Py_buffer views[8];
    int count;
} buffers_t;

static void release_all(buffers_t *b) {
    while (b->count > 0) {
        PyBuffer_Release(&b->views[--b->count]);
    }
}

/* obj's buffer, C-contiguous, of `size` bytes (any size when size < 0); NULL on error. */
static Py_buffer *get(buffers_t *b, PyObject *obj, int writable, Py_ssize_t size,
                      const char *what) {
    Py_buffer *view = &b->views[b->count];
    int flags = PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0) {
        return NULL;
    }
    b->count++;
    if (size >= 0 && view->len != size) {
        PyErr_Format(PyExc_ValueError, "%s holds %zd bytes, expected %zd", what, view->len, size);
        return NULL;
    }
    return view;
}

/*
 * scan_column(data, pos, end, present, starts, lengths, kinds, last, fixed_width, framing)
 *   -> (code, bad_row, detail, values, texts, odd_width, total)
 *
 * data: the rows; pos/end: int64 per row (pos is advanced past the column in place); present:
 * uint8 per row or None (0: a row without a tuple, all NULL); starts/lengths/kinds: int64, int32
 * and uint8 per row, written; last: whether this is the last column (each row must then end
 * right after it); fixed_width: the type's fixed binary size or 0. code 0: every row is sound,
 * and values/texts/odd_width/total count the values, the text ones, those whose length is not
 * fixed_width, and their bytes. Otherwise code names the first bad row's problem (E_*), with the
 * kind byte as detail for an unknown kind; pos is then partly advanced and must not be reused.
 * framing: FRAMING_TUPLE or FRAMING_COPY (then kinds are 'n' for NULL, 'b' for a value, and a
 * negative length other than -1 is E_LONG).
 */
static PyObject *scan_column(PyObject *self, PyObject *args) {
    PyObject *objs[7];
    int last, framing;
    long long fixed_width;
    if (!PyArg_ParseTuple(args, "OOOOOOOpLi", &objs[0], &objs[1], &objs[2], &objs[3], &objs[4],
                          &objs[5], &objs[6], &last, &fixed_width, &framing)) {
        return NULL;
    }
    if (framing != FRAMING_TUPLE && framing != FRAMING_COPY) {
        PyErr_Format(PyExc_ValueError, "unknown framing %d", framing);
        return NULL;
    }
    buffers_t b = {.count = 0};
    Py_buffer *data = get(&b, objs[0], 0, -1, "data");
    Py_buffer *pos = data ? get(&b, objs[1], 1, -1, "pos") : NULL;
    Py_ssize_t rows = pos ? pos->len / 8 : 0;
    Py_buffer *end = pos ? get(&b, objs[2], 0, rows * 8, "end") : NULL;
    Py_buffer *present = NULL;
    if (end && objs[3] != Py_None) {
        present = get(&b, objs[3], 0, rows, "present");
        if (present == NULL) {
            end = NULL;
        }
    }
    Py_buffer *starts = end ? get(&b, objs[4], 1, rows * 8, "starts") : NULL;
    Py_buffer *lengths = starts ? get(&b, objs[5], 1, rows * 4, "lengths") : NULL;
    Py_buffer *kinds = lengths ? get(&b, objs[6], 1, rows, "kinds") : NULL;
    if (kinds == NULL) {
        release_all(&b);
        return NULL;
    }
    scan_t s = {
        .data = (const unsigned char *)data->buf,
        .data_len = data->len,
        .pos = (int64_t *)pos->buf,
        .end = (const int64_t *)end->buf,
        .present = present ? (const unsigned char *)present->buf : NULL,
        .starts = (int64_t *)starts->buf,
        .lengths = (int32_t *)lengths->buf,
        .kinds = (unsigned char *)kinds->buf,
        .rows = rows,
        .last = last,
        .framing = framing,
        .bad_row = -1,
        .detail = 0,
    };
    Py_BEGIN_ALLOW_THREADS scan(&s, fixed_width > 0 ? fixed_width : -1);
    Py_END_ALLOW_THREADS
    release_all(&b);
    return Py_BuildValue("(ininnnL)", s.code, s.bad_row, s.detail, s.values, s.texts, s.odd_width,
                         (long long)s.total);
}

/*
 * fill_column(data, starts, lengths, kinds, validity, offsets, values, width)
 *
 * The second loop, on scan_column's starts, lengths and kinds: sets validity (a bitmap, or
 * None when every row has a value), and copies the values into `values`, either as Arrow
 * binary with int32 `offsets` (n + 1), or, when offsets is None, as fixed_size_binary(width)
 * (NULL rows zeroed). The caller sizes the buffers from scan_column's counts; they are checked.
 */
static PyObject *fill_column(PyObject *self, PyObject *args) {
    PyObject *objs[7];
    long long width;
    if (!PyArg_ParseTuple(args, "OOOOOOOL", &objs[0], &objs[1], &objs[2], &objs[3], &objs[4],
                          &objs[5], &objs[6], &width)) {
        return NULL;
    }
    buffers_t b = {.count = 0};
    Py_buffer *data = get(&b, objs[0], 0, -1, "data");
    Py_buffer *starts = data ? get(&b, objs[1], 0, -1, "starts") : NULL;
    Py_ssize_t rows = starts ? starts->len / 8 : 0;
    Py_buffer *lengths = starts ? get(&b, objs[2], 0, rows * 4, "lengths") : NULL;
    Py_buffer *kinds = lengths ? get(&b, objs[3], 0, rows, "kinds") : NULL;
    Py_buffer *validity = NULL, *offsets = NULL, *values = NULL;
    int ok = kinds != NULL;
    if (ok && objs[4] != Py_None) {
        ok = (validity = get(&b, objs[4], 1, (rows + 7) / 8, "validity")) != NULL;
    }
    if (ok && objs[5] != Py_None) {
        ok = (offsets = get(&b, objs[5], 1, (rows + 1) * 4, "offsets")) != NULL;
    }
    if (ok) {
        ok = (values = get(&b, objs[6], 1, -1, "values")) != NULL;
    }
    if (!ok) {
        release_all(&b);
        return NULL;
    }
    scan_t s = {
        .data = (const unsigned char *)data->buf,
        .data_len = data->len,
        .starts = (int64_t *)starts->buf,
        .lengths = (int32_t *)lengths->buf,
        .kinds = (unsigned char *)kinds->buf,
        .rows = rows,
    };
    /* the sizes fill() will write, checked against what the caller gave */
    int64_t need = 0;
    for (Py_ssize_t r = 0; offsets != NULL && r < rows; r++) {
        if (s.lengths[r] < 0 || s.starts[r] < 0 || s.starts[r] + s.lengths[r] > s.data_len) {
            need = -1;
            break;
        }
        need += s.lengths[r];
    }
    if (offsets == NULL) {
        need = width > 0 && rows <= PY_SSIZE_T_MAX / width ? rows * width : -1;
        for (Py_ssize_t r = 0; need >= 0 && r < rows; r++) {
            int valued = s.kinds[r] == KIND_TEXT || s.kinds[r] == KIND_BINARY;
            if (valued && (s.starts[r] < 0 || s.starts[r] + width > s.data_len)) {
                need = -1;
            }
        }
    }
    if (need < 0 || need > values->len || (offsets != NULL && need > INT32_MAX)) {
        release_all(&b);
        PyErr_SetString(PyExc_ValueError, "fill_column: buffers do not match the scan");
        return NULL;
    }
    unsigned char *valid_buf = validity ? (unsigned char *)validity->buf : NULL;
    int32_t *offset_buf = offsets ? (int32_t *)offsets->buf : NULL;
    unsigned char *out = (unsigned char *)values->buf;
    Py_BEGIN_ALLOW_THREADS fill(&s, valid_buf, offset_buf, out, width);
    Py_END_ALLOW_THREADS
    release_all(&b);
    Py_RETURN_NONE;
}

/* copy_messages() statuses (mirrored in walstream/snapshot/reader.py) */
enum { COPY_LIMIT = 0, COPY_WAIT = 1, COPY_DONE = 2, COPY_FAILED = 3 };

typedef int (*get_copy_data_fn)(void *conn, char **buffer, int async);
typedef void (*freemem_fn)(void *ptr);

/*
 * copy_messages(pgconn, get_copy_data, freemem, out, ends, taken, max_bytes) -> (status, taken)
 *
 * The read loop of a COPY TO STDOUT: takes whole CopyData messages from libpq (PQgetCopyData,
 * async: it never blocks) and appends each to `out` (a bytearray), writing the offset in `out`
 * where it ends into `ends[taken]` (int64), until `out` holds max_bytes or `ends` is full
 * (COPY_LIMIT), no whole message is buffered (COPY_WAIT: wait for the socket, consume input,
 * call again), the COPY is over (COPY_DONE: fetch its result) or it failed (COPY_FAILED: read
 * libpq's error). pgconn, get_copy_data and freemem are the addresses of psycopg's PGconn and
 * of PQgetCopyData and PQfreemem in the libpq that owns it (walstream.capture.switch). Returns
 * the new count of `ends` written.
 */
static PyObject *copy_messages(PyObject *self, PyObject *args) {
    unsigned long long conn_addr, get_addr, free_addr;
    PyObject *out, *ends_obj;
    Py_ssize_t taken, max_bytes;
    if (!PyArg_ParseTuple(args, "KKKO!Onn", &conn_addr, &get_addr, &free_addr, &PyByteArray_Type,
                          &out, &ends_obj, &taken, &max_bytes)) {
        return NULL;
    }
    if (conn_addr == 0 || get_addr == 0 || free_addr == 0) {
        PyErr_SetString(PyExc_ValueError, "copy_messages: a null address");
        return NULL;
    }
    buffers_t b = {.count = 0};
    Py_buffer *ends = get(&b, ends_obj, 1, -1, "ends");
    if (ends == NULL) {
        release_all(&b);
        return NULL;
    }
    Py_ssize_t room = ends->len / 8;
    if (taken < 0 || taken > room) {
        release_all(&b);
        PyErr_SetString(PyExc_ValueError, "copy_messages: taken is outside ends");
        return NULL;
    }
    void *conn = (void *)(uintptr_t)conn_addr;
    get_copy_data_fn get_copy_data = (get_copy_data_fn)(uintptr_t)get_addr;
    freemem_fn freemem = (freemem_fn)(uintptr_t)free_addr;
    int64_t *end_at = (int64_t *)ends->buf;
    int status = COPY_LIMIT;
    while (taken < room && PyByteArray_GET_SIZE(out) < max_bytes) {
        char *buf = NULL;
        int n = get_copy_data(conn, &buf, 1);
        if (n <= 0) {
            status = n == 0 ? COPY_WAIT : n == -1 ? COPY_DONE : COPY_FAILED;
            break;
        }
        Py_ssize_t len = PyByteArray_GET_SIZE(out);
        if (PyByteArray_Resize(out, len + n) < 0) { /* over-allocates, as bytearray += does */
            PyObject *type, *value, *traceback;
            PyErr_Fetch(&type, &value, &traceback);
            freemem(buf);
            PyErr_Restore(type, value, traceback);
            release_all(&b);
            return NULL;
        }
        memcpy(PyByteArray_AS_STRING(out) + len, buf, (size_t)n);
        freemem(buf);
        end_at[taken++] = (int64_t)(len + n);
    }
    release_all(&b);
    return Py_BuildValue("(in)", status, taken);
}

static PyMethodDef methods[] = {
    {"scan_column", scan_column, METH_VARARGS,
     "scan_column(data, pos, end, present, starts, lengths, kinds, last, fixed_width, framing) "
     "-> (code, bad_row, detail, values, texts, odd_width, total)"},
    {"fill_column", fill_column, METH_VARARGS,
     "fill_column(data, starts, lengths, kinds, validity, offsets, values, width)"},
    {"copy_messages", copy_messages, METH_VARARGS,
     "copy_messages(pgconn, get_copy_data, freemem, out, ends, taken, max_bytes) -> (status, "
     "taken)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "walstream._columns", "TupleData columns parsed in C.", -1, methods,
};

PyMODINIT_FUNC PyInit__columns(void) { return PyModule_Create(&module); }
