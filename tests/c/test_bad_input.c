/*
 * test_bad_input.c: the bad-input matrix on the C surface. Reads tests/bad_input.tsv at run
 * time (the path from argv[1] or the TWIN_BAD_INPUT_TSV environment variable, which
 * scripts/check-c.sh sets), runs every row marked for C and checks that the call answers
 * with the row's TwinResult code and a message, that outputs stay untouched on failure, and
 * that the twin stays usable afterwards (a valid sample is accepted, counters reconcile,
 * and no refused command waits to be sent). The same table runs through Rust
 * (tests/bad_input.rs) and Python (tests/python/test_bad_input.py).
 *
 * Built and run by scripts/check-c.sh under AddressSanitizer, UBSan and valgrind.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twin.h"

static int checks = 0;
static int failures = 0;

#define EXPECT(cond, ...)                                                    \
    do {                                                                     \
        checks++;                                                            \
        if (!(cond)) {                                                       \
            failures++;                                                      \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
        }                                                                    \
    } while (0)

/* A byte string with its length (payloads may hold any byte, including NUL). */
typedef struct {
    char *data;
    size_t len;
} Bytes;

/* ErrorKind names in the order of their C codes (code = 1 + index). */
static const char *const KINDS[] = {
    "invalid_input", "non_finite",  "unknown_signal", "out_of_order", "duplicate",
    "timestamp_conflict", "out_of_range", "schema", "rate_limited", "version_conflict",
    "channel_full", "disconnected", "io", "serialization", "unknown_twin",
};

static int code_of(const char *name, TwinResult *out) {
    if (strcmp(name, "ok") == 0) {
        *out = TWIN_RESULT_OK;
        return 1;
    }
    if (strcmp(name, "invalid_utf8") == 0) {
        *out = TWIN_RESULT_INVALID_UTF8;
        return 1;
    }
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++) {
        if (strcmp(name, KINDS[i]) == 0) {
            *out = (TwinResult)(i + 1);
            return 1;
        }
    }
    return 0;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decode the TSV escapes \t \n \\ \xNN into a new buffer. */
static Bytes unescape(const char *s) {
    size_t n = strlen(s);
    Bytes b = {malloc(n + 1), 0};
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            char e = s[++i];
            if (e == 't') {
                b.data[b.len++] = '\t';
            } else if (e == 'n') {
                b.data[b.len++] = '\n';
            } else if (e == 'x' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
                b.data[b.len++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
                i += 2;
            } else {
                b.data[b.len++] = e;
            }
        } else {
            b.data[b.len++] = s[i];
        }
    }
    b.data[b.len] = '\0';
    return b;
}

static size_t last_message_len(void) {
    size_t len = 0;
    if (twin_last_error_message(NULL, 0, &len) != TWIN_RESULT_OK) {
        return 0;
    }
    return len;
}

/* Split `s` (NUL-terminated) at `sep` in place; up to `max` parts. */
static size_t split(char *s, char sep, char **parts, size_t max) {
    size_t n = 0;
    parts[n++] = s;
    for (char *p = s; *p && n < max; p++) {
        if (*p == sep) {
            *p = '\0';
            parts[n++] = p + 1;
        }
    }
    return n;
}

static TwinSchema *schema = NULL;
static uint32_t pressure = 0, vibration = 0;

static TwinTwin *primed(void) {
    TwinTwin *t = NULL;
    if (twin_twin_new(schema, &t) != TWIN_RESULT_OK) return NULL;
    EXPECT(twin_twin_ingest(t, 1000, pressure, 10.0) == TWIN_RESULT_OK, "primer");
    EXPECT(twin_twin_ingest(t, 1000, vibration, 1.0) == TWIN_RESULT_OK, "primer");
    return t;
}

/* A saved document into a new NUL-terminated buffer (`kind` 0: twin snapshot, 1: detector). */
static Bytes saved(TwinTwin *t, TwinDetector *d) {
    size_t len = 0;
    TwinResult r = t ? twin_twin_snapshot_json(t, NULL, 0, &len)
                     : twin_detector_to_json(d, NULL, 0, &len);
    EXPECT(r == TWIN_RESULT_OK, "size query gave %u", (unsigned)r);
    Bytes b = {malloc(len + 1), 0};
    r = t ? twin_twin_snapshot_json(t, b.data, len + 1, &b.len)
          : twin_detector_to_json(d, b.data, len + 1, &b.len);
    EXPECT(r == TWIN_RESULT_OK && b.len == len, "save gave %u", (unsigned)r);
    return b;
}

/* Apply a mutation (truncate N | flip -N | version V | text T) to a document in place. */
static void mutate(Bytes *doc, const char *m) {
    if (strncmp(m, "truncate ", 9) == 0) {
        size_t n = strtoul(m + 9, NULL, 10);
        if (n < doc->len) doc->len = n;
    } else if (strncmp(m, "flip -", 6) == 0) {
        size_t back = strtoul(m + 6, NULL, 10);
        doc->data[doc->len - back] ^= 1;
    } else if (strncmp(m, "version ", 8) == 0) {
        const char *v = m + 8;
        char *at = strstr(doc->data, "\"version\":");
        if (!at) return;
        char *digits = at + 10;
        while (*digits == ' ') digits++;
        char *end = digits;
        while (*end >= '0' && *end <= '9') end++;
        size_t head = (size_t)(digits - doc->data), tail = doc->len - (size_t)(end - doc->data);
        char *out = malloc(head + strlen(v) + tail + 1);
        memcpy(out, doc->data, head);
        memcpy(out + head, v, strlen(v));
        memcpy(out + head + strlen(v), end, tail);
        out[head + strlen(v) + tail] = '\0';
        free(doc->data);
        doc->data = out;
        doc->len = head + strlen(v) + tail;
    } else if (strncmp(m, "text ", 5) == 0) {
        size_t n = strlen(m + 5);
        memcpy(doc->data, m + 5, n < doc->len ? n : doc->len);
        doc->len = n < doc->len ? n : doc->len;
    }
}

/* Run one row on `twin`; *refused gets 1 if a sample reached the twin and was refused,
 * *accepted_cmds the number of commands let through before the last step. */
static TwinResult run(TwinTwin *twin, const char *op, Bytes p, int *refused, size_t *accepted_cmds) {
    char *words[8];
    *refused = 0;
    *accepted_cmds = 0;
    if (strcmp(op, "schema") == 0) {
        char marker;
        TwinSchema *out = (TwinSchema *)(void *)&marker;
        TwinResult r = twin_schema_from_json(p.data, p.len, &out);
        EXPECT(r == TWIN_RESULT_OK || out == (TwinSchema *)(void *)&marker, "schema out touched");
        if (r == TWIN_RESULT_OK) twin_schema_free(out);
        return r;
    }
    if (strcmp(op, "ingest") == 0) {
        size_t n = split(p.data, ' ', words, 8);
        if (n != 3) return TWIN_RESULT_OTHER;
        uint32_t id = 0;
        if (words[0][0] == '#') {
            id = (uint32_t)strtoul(words[0] + 1, NULL, 10);
        } else {
            TwinResult r = twin_schema_signal_id(schema, words[0], strlen(words[0]), &id);
            if (r != TWIN_RESULT_OK) return r;
        }
        *refused = 1;
        TwinResult r = twin_twin_ingest(twin, strtoll(words[1], NULL, 10), id, strtod(words[2], NULL));
        if (r == TWIN_RESULT_OK) *refused = 0;
        return r;
    }
    if (strcmp(op, "command") == 0) {
        char *steps[8];
        size_t n = split(p.data, ';', steps, 8);
        for (size_t i = 0; i < n; i++) {
            if (split(steps[i], ' ', words, 8) != 3) return TWIN_RESULT_OTHER;
            TwinResult r = twin_twin_command(twin, words[0], strlen(words[0]), strtod(words[1], NULL),
                                             strtoll(words[2], NULL, 10));
            if (i + 1 == n) return r;
            EXPECT(r == TWIN_RESULT_OK, "step %zu refused with %u", i, (unsigned)r);
            *accepted_cmds += 1;
        }
        return TWIN_RESULT_OTHER;
    }
    if (strcmp(op, "restore") == 0) {
        Bytes doc = saved(twin, NULL);
        mutate(&doc, p.data);
        char marker;
        TwinTwin *out = (TwinTwin *)(void *)&marker;
        TwinResult r = twin_twin_restore_json(schema, doc.data, doc.len, &out);
        EXPECT(r == TWIN_RESULT_OK || out == (TwinTwin *)(void *)&marker, "restore out touched");
        if (r == TWIN_RESULT_OK) twin_twin_free(out);
        free(doc.data);
        return r;
    }
    if (strcmp(op, "model") == 0) {
        TwinDetector *d = NULL;
        EXPECT(twin_detector_new(TWIN_DETECTOR_KIND_EWMA, NULL, 0, &d) == TWIN_RESULT_OK, "detector");
        Bytes doc = saved(NULL, d);
        mutate(&doc, p.data);
        char marker;
        TwinDetector *out = (TwinDetector *)(void *)&marker;
        TwinResult r = twin_detector_from_json(doc.data, doc.len, &out);
        EXPECT(r == TWIN_RESULT_OK || out == (TwinDetector *)(void *)&marker, "model out touched");
        if (r == TWIN_RESULT_OK) twin_detector_free(out);
        twin_detector_free(d);
        free(doc.data);
        return r;
    }
    if (strcmp(op, "fleet") == 0) {
        if (split(p.data, ' ', words, 8) != 3) return TWIN_RESULT_OTHER;
        TwinFleet *fleet = NULL;
        EXPECT(twin_fleet_new(1, &fleet) == TWIN_RESULT_OK, "fleet");
        EXPECT(twin_fleet_insert(fleet, 1, schema) == TWIN_RESULT_OK, "insert");
        uint64_t ids[1] = {strtoull(words[0], NULL, 10)};
        int64_t times[1] = {strtoll(words[1], NULL, 10)};
        uint32_t sigs[1] = {pressure};
        double vals[1] = {strtod(words[2], NULL)};
        TwinIngestReport rep = {0, 0};
        EXPECT(twin_fleet_ingest_batch(fleet, ids, times, sigs, vals, 1, &rep) == TWIN_RESULT_OK,
               "fleet batch");
        EXPECT(rep.accepted + rep.rejected == 1, "fleet report");
        TwinResult r = TWIN_RESULT_OK;
        if (rep.rejected == 1) {
            TwinFleetRejection rej;
            size_t len = 0;
            EXPECT(twin_fleet_last_rejections(fleet, &rej, 1, &len) == TWIN_RESULT_OK && len == 1,
                   "fleet rejections");
            r = rej.reason;
        }
        /* The fleet's own twin stays usable. */
        ids[0] = 1;
        times[0] = INT64_C(9000000000);
        vals[0] = 42.0;
        EXPECT(twin_fleet_ingest_batch(fleet, ids, times, sigs, vals, 1, &rep) == TWIN_RESULT_OK &&
                   rep.accepted == 1,
               "fleet twin unusable");
        twin_fleet_free(fleet);
        return r;
    }
    if (strcmp(op, "sim") == 0) {
        return twin_sim_validate(p.data, p.len);
    }
    fprintf(stderr, "unknown op %s\n", op);
    return TWIN_RESULT_OTHER;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : getenv("TWIN_BAD_INPUT_TSV");
    if (!path) path = "tests/bad_input.tsv";
    char *text = read_file(path);
    if (!text) {
        fprintf(stderr, "cannot read %s (pass the path as argv[1] or TWIN_BAD_INPUT_TSV)\n", path);
        return 1;
    }
    int ran = 0;
    for (char *line = text, *next = NULL; line && *line; line = next) {
        char *nl = strchr(line, '\n');
        next = nl ? nl + 1 : NULL;
        if (nl) *nl = '\0';
        if (line[0] == '#' || line[0] == '\0') continue;
        if (strncmp(line, "@schema\t", 8) == 0) {
            const char *json = line + 8;
            EXPECT(twin_schema_from_json(json, strlen(json), &schema) == TWIN_RESULT_OK, "base schema");
            EXPECT(twin_schema_signal_id(schema, "pressure", 8, &pressure) == TWIN_RESULT_OK, "id");
            EXPECT(twin_schema_signal_id(schema, "vibration", 9, &vibration) == TWIN_RESULT_OK, "id");
            continue;
        }
        char *f[6];
        if (split(line, '\t', f, 6) != 5) {
            EXPECT(0, "row needs 5 columns: %s", line);
            continue;
        }
        if (!strchr(f[1], 'c')) continue;
        /* The expected kind: the cell's first word, unless a "c:kind" word overrides it. */
        char *kinds[8];
        size_t nk = split(f[4], ' ', kinds, 8);
        const char *kind = kinds[0];
        for (size_t i = 1; i < nk; i++) {
            if (strncmp(kinds[i], "c:", 2) == 0) kind = kinds[i] + 2;
        }
        TwinResult want;
        EXPECT(code_of(kind, &want), "%s: unknown expected kind %s", f[0], kind);
        TwinTwin *twin = primed();
        if (!twin) {
            EXPECT(0, "%s: no twin", f[0]);
            continue;
        }
        Bytes payload = unescape(f[3]);
        int refused = 0;
        size_t cmds = 0;
        TwinResult got = run(twin, f[2], payload, &refused, &cmds);
        EXPECT(got == want, "%s: got %u (%s), expected %u (%s)", f[0], (unsigned)got,
               twin_result_message(got), (unsigned)want, twin_result_message(want));
        if (got != TWIN_RESULT_OK) {
            EXPECT(last_message_len() > 0, "%s: no message", f[0]);
        }
        /* Still usable, nothing lost uncounted, no refused command waiting. */
        EXPECT(twin_twin_ingest(twin, INT64_C(9000000000), pressure, 42.0) == TWIN_RESULT_OK,
               "%s: twin unusable afterwards", f[0]);
        TwinCounters c;
        EXPECT(twin_twin_counters(twin, &c) == TWIN_RESULT_OK, "counters");
        EXPECT(c.received == c.accepted + c.rejected && c.accepted == 3 &&
                   c.rejected == (uint64_t)refused,
               "%s: counters %" PRIu64 " %" PRIu64 " %" PRIu64, f[0], c.received, c.accepted,
               c.rejected);
        size_t pending = 99;
        EXPECT(twin_twin_pending_command_count(twin, &pending) == TWIN_RESULT_OK && pending == cmds,
               "%s: %zu commands pending, %zu accepted", f[0], pending, cmds);
        TwinCommand out[8];
        size_t taken = 0;
        EXPECT(twin_twin_take_commands(twin, out, 8, &taken) == TWIN_RESULT_OK && taken == cmds,
               "%s: take", f[0]);
        for (size_t i = 0; i < taken; i++) {
            EXPECT(out[i].value >= 0.0 && out[i].value <= 40.0, "%s: command outside limits", f[0]);
        }
        twin_twin_free(twin);
        free(payload.data);
        ran++;
    }
    twin_schema_free(schema);
    free(text);
    EXPECT(ran >= 35, "only %d rows ran", ran);
    printf("test_bad_input: %d rows, %d checks, %d failures\n", ran, checks, failures);
    return failures == 0 ? 0 : 1;
}
