/*
 * walstream._columns: one column of a batch's TupleData rows, parsed in one C pass (optional).
 *
 * Why it exists: walstream.pg.tuples parses a batch column by column with numpy, which costs a
 * dozen vector passes per column (kinds, lengths, checks, views, a cast). On a 40-column table
 * that was 40% of walstream's CPU (bench/results/profile-20261122T160728Z-wide-update.txt).
 * tuple_column() does the same work for one column in two plain loops over the rows: the first
 * reads every row's kind byte and value length and checks them, the second copies the values
 * into the Arrow buffers the type converters read (binary, or fixed_size_binary when every
 * value is binary of the type's fixed size). It applies exactly the checks of the numpy path
 * and reports the first bad row with a code that walstream.pg.tuples turns into the same
 * words; the numpy path stays as the fallback and as the tests' oracle. The GIL is released
 * during both loops, so the read loop keeps running while a flush parses.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Error codes (mirrored in walstream/pg/tuples.py). */
enum { OK = 0, E_PAST = 1, E_KIND = 2, E_CUT = 3, E_LONG = 4, E_REST = 5 };

#define KIND_NULL 'n'
#define KIND_UNCHANGED 'u'
#define KIND_TEXT 't'
#define KIND_BINARY 'b'

static inline int64_t be32s(const unsigned char *p) {
    uint32_t v = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    return (int64_t)(int32_t)v;
}

/* A writable buffer of exactly `size` bytes (for pos, starts, lengths). */
static int writable(PyObject *obj, Py_buffer *view, Py_ssize_t size, const char *what) {
    if (PyObject_GetBuffer(obj, view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) {
        return -1;
    }
    if (view->len != size) {
        PyErr_Format(PyExc_ValueError, "%s holds %zd bytes, expected %zd", what, view->len, size);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
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
        unsigned char kind = s->data[pos];
        s->kinds[r] = kind;
        if (kind == KIND_TEXT || kind == KIND_BINARY) {
            if (pos + 5 > end) {
                s->code = E_CUT;
                s->bad_row = r;
                return;
            }
            int64_t len = be32s(s->data + pos + 1);
            if (len < 0 || pos + 5 + len > end) {
                s->code = E_LONG;
                s->bad_row = r;
                return;
            }
            s->starts[r] = pos + 5;
            s->lengths[r] = (int32_t)len;
            s->values++;
            s->total += len;
            s->texts += kind == KIND_TEXT;
            s->odd_width += len != fixed_width;
            pos += 5 + len;
        } else if (kind == KIND_NULL || kind == KIND_UNCHANGED) {
            s->starts[r] = 0;
            s->lengths[r] = 0;
            pos += 1;
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

static PyObject *new_bytearray(Py_ssize_t size) {
    return PyByteArray_FromStringAndSize(NULL, size);
}

/*
 * tuple_column(data, pos, end, present, starts, lengths, last, fixed_width)
 *   -> (code, bad_row, detail, kinds, validity, offsets, values)
 *
 * data: the rows; pos/end: int64 per row (pos is advanced in place); present: uint8 per row or
 * None; starts/lengths: int64/int32 scratch per row; last: whether this is the last column (each
 * row must then end right after it); fixed_width: the type's fixed binary size or 0. On success
 * code is 0, kinds is a bytearray of kind bytes, validity a bitmap bytearray or None (no NULLs),
 * offsets an int32 bytearray or None (fixed_size_binary), values a bytearray. On a bad row the
 * code, the row and (for an unknown kind) the byte are set, and the rest is None.
 */
static PyObject *tuple_column(PyObject *self, PyObject *args) {
    Py_buffer data, pos, end, starts, lengths, present = {0};
    PyObject *pos_obj, *end_obj, *present_obj, *starts_obj, *lengths_obj;
    int last;
    long long fixed_width;
    if (!PyArg_ParseTuple(args, "y*OOOOOpL", &data, &pos_obj, &end_obj, &present_obj,
                          &starts_obj, &lengths_obj, &last, &fixed_width)) {
        return NULL;
    }
    PyObject *result = NULL, *kinds = NULL, *validity = NULL, *offsets = NULL, *values = NULL;
    int have_pos = 0, have_end = 0, have_starts = 0, have_lengths = 0, have_present = 0;
    if (PyObject_GetBuffer(pos_obj, &pos, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) {
        goto done;
    }
    have_pos = 1;
    if (pos.len % 8 != 0) {
        PyErr_SetString(PyExc_ValueError, "pos is not an int64 array");
        goto done;
    }
    Py_ssize_t rows = pos.len / 8;
    if (PyObject_GetBuffer(end_obj, &end, PyBUF_C_CONTIGUOUS) < 0) {
        goto done;
    }
    have_end = 1;
    if (end.len != rows * 8) {
        PyErr_SetString(PyExc_ValueError, "end and pos differ in length");
        goto done;
    }
    if (writable(starts_obj, &starts, rows * 8, "starts") < 0) {
        goto done;
    }
    have_starts = 1;
    if (writable(lengths_obj, &lengths, rows * 4, "lengths") < 0) {
        goto done;
    }
    have_lengths = 1;
    if (present_obj != Py_None) {
        if (PyObject_GetBuffer(present_obj, &present, PyBUF_C_CONTIGUOUS) < 0) {
            goto done;
        }
        have_present = 1;
        if (present.len != rows) {
            PyErr_SetString(PyExc_ValueError, "present and pos differ in length");
            goto done;
        }
    }
    kinds = new_bytearray(rows);
    if (kinds == NULL) {
        goto done;
    }
    scan_t s = {
        .data = (const unsigned char *)data.buf,
        .data_len = data.len,
        .pos = (int64_t *)pos.buf,
        .end = (const int64_t *)end.buf,
        .present = have_present ? (const unsigned char *)present.buf : NULL,
        .starts = (int64_t *)starts.buf,
        .lengths = (int32_t *)lengths.buf,
        .kinds = (unsigned char *)PyByteArray_AS_STRING(kinds),
        .rows = rows,
        .last = last,
        .bad_row = -1,
        .detail = 0,
    };
    int64_t width = fixed_width > 0 ? fixed_width : -1;
    Py_BEGIN_ALLOW_THREADS scan(&s, width);
    Py_END_ALLOW_THREADS
    if (s.code != OK) {
        result = Py_BuildValue("(iniOOOO)", s.code, s.bad_row, s.detail, Py_None, Py_None,
                               Py_None, Py_None);
        goto done;
    }
    int fixed = width > 0 && s.texts == 0 && s.odd_width == 0;
    if (fixed && rows > PY_SSIZE_T_MAX / width) {
        PyErr_SetString(PyExc_OverflowError, "column too large");
        goto done;
    }
    if (s.total > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "a column holds 2 GiB or more");
        goto done;
    }
    values = new_bytearray(fixed ? rows * (Py_ssize_t)width : (Py_ssize_t)s.total);
    if (values == NULL) {
        goto done;
    }
    if (s.values < rows && (validity = new_bytearray((rows + 7) / 8)) == NULL) {
        goto done;
    }
    if (!fixed && (offsets = new_bytearray((rows + 1) * 4)) == NULL) {
        goto done;
    }
    {
        unsigned char *valid_buf =
            validity != NULL ? (unsigned char *)PyByteArray_AS_STRING(validity) : NULL;
        int32_t *offset_buf = offsets != NULL ? (int32_t *)PyByteArray_AS_STRING(offsets) : NULL;
        unsigned char *out = (unsigned char *)PyByteArray_AS_STRING(values);
        Py_BEGIN_ALLOW_THREADS fill(&s, valid_buf, offset_buf, out, width);
        Py_END_ALLOW_THREADS
    }
    result = Py_BuildValue("(iniOOOO)", OK, (Py_ssize_t)-1, 0, kinds,
                           validity != NULL ? validity : Py_None,
                           offsets != NULL ? offsets : Py_None, values);
done:
    Py_XDECREF(kinds);
    Py_XDECREF(validity);
    Py_XDECREF(offsets);
    Py_XDECREF(values);
    if (have_present) {
        PyBuffer_Release(&present);
    }
    if (have_lengths) {
        PyBuffer_Release(&lengths);
    }
    if (have_starts) {
        PyBuffer_Release(&starts);
    }
    if (have_end) {
        PyBuffer_Release(&end);
    }
    if (have_pos) {
        PyBuffer_Release(&pos);
    }
    PyBuffer_Release(&data);
    return result;
}

static PyMethodDef methods[] = {
    {"tuple_column", tuple_column, METH_VARARGS,
     "tuple_column(data, pos, end, present, starts, lengths, last, fixed_width) -> (code, "
     "bad_row, detail, kinds, validity, offsets, values)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "walstream._columns", "TupleData columns parsed in C.", -1, methods,
};

PyMODINIT_FUNC PyInit__columns(void) { return PyModule_Create(&module); }
