/*
 * test_ffi.c: the C ABI as C sees it. Asserts real numbers: counts of a batch with known bad
 * samples, the specific codes of NULL parameters, invalid UTF-8, malformed schemas and small
 * buffers, outputs left untouched on failure, and the insights of a known spike.
 *
 * Built and run by scripts/check-c.sh (gcc -std=c11 -Wall -Wextra -Wpedantic -Werror with
 * AddressSanitizer and UndefinedBehaviorSanitizer). Exits non-zero on any failed check.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "twin.h"

static int checks = 0;
static int failures = 0;

#define EXPECT(cond)                                                        \
    do {                                                                    \
        checks++;                                                           \
        if (!(cond)) {                                                      \
            failures++;                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                   \
    } while (0)

#define EXPECT_CODE(call, code)                                                        \
    do {                                                                               \
        TwinResult got_ = (call);                                                      \
        checks++;                                                                      \
        if (got_ != (code)) {                                                          \
            failures++;                                                                \
            fprintf(stderr, "%s:%d: %s gave %u (%s), expected %s\n", __FILE__, __LINE__, \
                    #call, (unsigned)got_, twin_result_message(got_), #code);          \
        }                                                                              \
    } while (0)

#define SEC INT64_C(1000000000)

static const char SCHEMA[] =
    "{\"name\": \"press\","
    " \"telemetry\": ["
    "  {\"name\": \"pressure\", \"unit\": \"bar\", \"min\": 0, \"max\": 400, \"alarm_high\": 250},"
    "  {\"name\": \"vibration\", \"unit\": \"mm/s\", \"min\": 0, \"max\": 100, \"alarm_high\": 4.5}],"
    " \"properties\": [{\"name\": \"stroke_rate\", \"unit\": \"1/min\", \"min\": 0, \"max\": 60}],"
    " \"commands\": [{\"name\": \"set_stroke_rate\", \"unit\": \"1/min\", \"min\": 0, \"max\": 40,"
    "   \"max_rate\": 1.0, \"property\": \"stroke_rate\"}]}";

/* The last error message of this thread, into a static buffer. */
static const char *last_error(void) {
    static char buf[512];
    size_t len = 0;
    if (twin_last_error_message(buf, sizeof buf, &len) != TWIN_RESULT_OK) {
        return "<unreadable>";
    }
    return buf;
}

static int starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A pointer value no call may write: outputs must keep it on failure. */
static char marker;
#define SENTINEL ((void *)&marker)

static void test_messages(void) {
    EXPECT(strcmp(twin_result_message(TWIN_RESULT_OK), "success") == 0);
    EXPECT(strcmp(twin_result_message(TWIN_RESULT_NULL_PARAMETER),
                  "a required pointer parameter is NULL") == 0);
    EXPECT(strcmp(twin_result_message(424242u), "unknown result code") == 0);
    EXPECT(strcmp(twin_insight_kind_name(TWIN_INSIGHT_KIND_ANOMALY), "anomaly") == 0);
    EXPECT(strcmp(twin_insight_kind_name(TWIN_INSIGHT_KIND_DRIFT), "drift") == 0);
    EXPECT(strcmp(twin_insight_kind_name(TWIN_INSIGHT_KIND_RUL), "rul") == 0);
    EXPECT(strcmp(twin_insight_kind_name(77u), "other") == 0);
    EXPECT(strlen(twin_version()) > 0);
    /* Append-only numbering: engine kinds first, interface errors from 1000. */
    EXPECT(TWIN_RESULT_OUT_OF_ORDER == 4 && TWIN_RESULT_SCHEMA == 8);
    EXPECT(TWIN_RESULT_NULL_PARAMETER == 1000 && TWIN_RESULT_INVALID_UTF8 == 1001);
}

static void test_schema_errors(void) {
    TwinSchema *out = SENTINEL;
    const char *bad = "{\"name\": \"x\", \"telemetry\": [{\"name\": \"a\", \"min\": 2, \"max\": 1}]}";
    EXPECT_CODE(twin_schema_from_json(bad, strlen(bad), &out), TWIN_RESULT_SCHEMA);
    EXPECT(out == SENTINEL);
    EXPECT(starts_with(last_error(), "twin_schema_from_json: schema error: a: min 2 is above max 1"));
    const char *not_json = "{\"name\": ";
    EXPECT_CODE(twin_schema_from_json(not_json, strlen(not_json), &out), TWIN_RESULT_SCHEMA);
    const char *unknown_field = "{\"name\": \"x\", \"colour\": 3}";
    EXPECT_CODE(twin_schema_from_json(unknown_field, strlen(unknown_field), &out),
                TWIN_RESULT_SCHEMA);
    const char invalid_utf8[] = "{\"name\": \"\xc3\x28\"}";
    EXPECT_CODE(twin_schema_from_json(invalid_utf8, strlen(invalid_utf8), &out),
                TWIN_RESULT_INVALID_UTF8);
    EXPECT_CODE(twin_schema_from_json(NULL, 10, &out), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_schema_from_json(SCHEMA, strlen(SCHEMA), NULL), TWIN_RESULT_NULL_PARAMETER);
    EXPECT(out == SENTINEL);
    /* A length shorter than the text parses only that prefix: malformed. */
    EXPECT_CODE(twin_schema_from_json(SCHEMA, 20, &out), TWIN_RESULT_SCHEMA);
    EXPECT(out == SENTINEL);
}

static void test_last_error_buffers(void) {
    TwinSchema *schema = NULL;
    EXPECT_CODE(twin_schema_from_json(SCHEMA, strlen(SCHEMA), &schema), TWIN_RESULT_OK);
    uint32_t id = 12345;
    EXPECT_CODE(twin_schema_signal_id(schema, "rpm", 3, &id), TWIN_RESULT_UNKNOWN_SIGNAL);
    EXPECT(id == 12345);
    const char *expected = "twin_schema_signal_id: unknown signal, property or command: rpm";
    size_t len = 999;
    /* Length query. */
    EXPECT_CODE(twin_last_error_message(NULL, 0, &len), TWIN_RESULT_OK);
    EXPECT(len == strlen(expected));
    /* Too small (no room for the NUL): nothing written, the message is kept. */
    char small[8];
    memset(small, '#', sizeof small);
    size_t small_len = 999;
    EXPECT_CODE(twin_last_error_message(small, sizeof small, &small_len),
                TWIN_RESULT_BUFFER_TOO_SMALL);
    EXPECT(small_len == 999 && small[0] == '#' && small[7] == '#');
    char exact[128];
    EXPECT(strlen(expected) + 1 <= sizeof exact);
    EXPECT_CODE(twin_last_error_message(exact, strlen(expected), &len),
                TWIN_RESULT_BUFFER_TOO_SMALL);
    EXPECT_CODE(twin_last_error_message(exact, strlen(expected) + 1, &len), TWIN_RESULT_OK);
    EXPECT(strcmp(exact, expected) == 0);
    EXPECT_CODE(twin_last_error_message(exact, sizeof exact, NULL), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_last_error_message(NULL, 5, &len), TWIN_RESULT_NULL_PARAMETER);
    /* Successful calls keep the last failure's message. */
    EXPECT_CODE(twin_schema_signal_id(schema, "pressure", 8, &id), TWIN_RESULT_OK);
    EXPECT(id == 0);
    EXPECT(strcmp(last_error(), expected) == 0);
    /* Names out: too small, then exact. */
    char name[9];
    memset(name, '#', sizeof name);
    size_t name_len = 999;
    EXPECT_CODE(twin_schema_signal_name(schema, 1, name, 9, &name_len), TWIN_RESULT_BUFFER_TOO_SMALL);
    EXPECT(name_len == 999 && name[0] == '#');
    char name2[10];
    EXPECT_CODE(twin_schema_signal_name(schema, 1, name2, sizeof name2, &name_len), TWIN_RESULT_OK);
    EXPECT(strcmp(name2, "vibration") == 0 && name_len == 9);
    twin_schema_free(schema);
}

static void test_null_and_utf8(void) {
    TwinSchema *schema = NULL;
    TwinTwin *twin = NULL;
    EXPECT_CODE(twin_schema_from_json(SCHEMA, strlen(SCHEMA), &schema), TWIN_RESULT_OK);
    TwinTwin *not_made = SENTINEL;
    EXPECT_CODE(twin_twin_new(NULL, &not_made), TWIN_RESULT_NULL_PARAMETER);
    EXPECT(not_made == SENTINEL);
    EXPECT_CODE(twin_twin_new(schema, NULL), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_twin_new(schema, &twin), TWIN_RESULT_OK);

    uint32_t id = 7;
    size_t count = 7;
    EXPECT_CODE(twin_schema_signal_id(NULL, "pressure", 8, &id), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_schema_signal_id(schema, NULL, 8, &id), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_schema_signal_id(schema, "pressure", 8, NULL), TWIN_RESULT_NULL_PARAMETER);
    EXPECT(starts_with(last_error(), "twin_schema_signal_id: parameter `out_id` is NULL"));
    EXPECT_CODE(twin_schema_signal_count(NULL, &count), TWIN_RESULT_NULL_PARAMETER);
    const char bad_name[] = "press\xffure";
    EXPECT_CODE(twin_schema_signal_id(schema, bad_name, strlen(bad_name), &id),
                TWIN_RESULT_INVALID_UTF8);
    const char bad_cmd[] = "set_\xe2\x82stroke_rate";
    EXPECT_CODE(twin_twin_command(twin, bad_cmd, strlen(bad_cmd), 1.0, 0), TWIN_RESULT_INVALID_UTF8);
    EXPECT(id == 7 && count == 7);

    int64_t t[1] = {1};
    uint32_t s[1] = {0};
    double v[1] = {1.0};
    TwinIngestReport report = {77, 77};
    EXPECT_CODE(twin_twin_ingest_batch(NULL, t, s, v, 1, &report), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_twin_ingest_batch(twin, NULL, s, v, 1, &report), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_twin_ingest_batch(twin, t, NULL, v, 1, &report), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_twin_ingest_batch(twin, t, s, NULL, 1, &report), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_twin_ingest_batch(twin, t, s, v, 1, NULL), TWIN_RESULT_NULL_PARAMETER);
    EXPECT(report.accepted == 77 && report.rejected == 77);
    EXPECT_CODE(twin_twin_ingest(NULL, 0, 0, 1.0), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_twin_insight_count(twin, NULL), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_twin_drain_insights(twin, NULL, 3, &count), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_twin_last_rejections(NULL, NULL, 0, &count), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_twin_counters(twin, NULL), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_twin_command(twin, NULL, 3, 1.0, 0), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_twin_take_commands(twin, NULL, 1, &count), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_twin_snapshot_json(twin, NULL, 0, NULL), TWIN_RESULT_NULL_PARAMETER);
    EXPECT(count == 7);

    /* Nothing was ingested by the refused calls; a never-reported value is NOT_FOUND. */
    double value = -1.0;
    EXPECT_CODE(twin_twin_reported(twin, 0, &value), TWIN_RESULT_NOT_FOUND);
    EXPECT_CODE(twin_twin_reported(twin, 9, &value), TWIN_RESULT_UNKNOWN_SIGNAL);
    EXPECT_CODE(twin_twin_reported(twin, 0, NULL), TWIN_RESULT_NULL_PARAMETER);
    EXPECT(value == -1.0);
    /* An empty batch may pass NULL columns. */
    EXPECT_CODE(twin_twin_ingest_batch(twin, NULL, NULL, NULL, 0, &report), TWIN_RESULT_OK);
    EXPECT(report.accepted == 0 && report.rejected == 0);

    /* free(NULL) is a no-op. */
    twin_twin_free(NULL);
    twin_schema_free(NULL);
    twin_twin_free(twin);
    twin_schema_free(schema);
}

static void test_batch_counts(void) {
    TwinSchema *schema = NULL;
    TwinTwin *twin = NULL;
    EXPECT_CODE(twin_schema_from_json(SCHEMA, strlen(SCHEMA), &schema), TWIN_RESULT_OK);
    EXPECT_CODE(twin_twin_new(schema, &twin), TWIN_RESULT_OK);
    /* 0 ok, 1 ok, 2 NaN, 3 unknown id, 4 out of order, 5 duplicate, 6 conflict,
     * 7 out of range, 8 ok, 9 +inf, 10 ok (a property can be reported too). */
    const int64_t t[11] = {10, 10, 11, 11, 5, 10, 10, 12, 12, 13, 13};
    const uint32_t s[11] = {0, 1, 1, 9, 0, 1, 1, 0, 0, 0, 2};
    const double v[11] = {100, 2, NAN, 1, 100, 2, 2.5, 500, 120, INFINITY, 30};
    TwinIngestReport report;
    EXPECT_CODE(twin_twin_ingest_batch(twin, t, s, v, 11, &report), TWIN_RESULT_OK);
    EXPECT(report.accepted == 4);
    EXPECT(report.rejected == 7);
    EXPECT(report.accepted + report.rejected == 11);

    TwinRejection rej[8];
    size_t n = 999;
    EXPECT_CODE(twin_twin_last_rejections(twin, rej, 6, &n), TWIN_RESULT_BUFFER_TOO_SMALL);
    EXPECT(n == 999);
    EXPECT_CODE(twin_twin_last_rejections(twin, rej, 8, &n), TWIN_RESULT_OK);
    EXPECT(n == 7);
    const size_t idx[7] = {2, 3, 4, 5, 6, 7, 9};
    const TwinResult why[7] = {TWIN_RESULT_NON_FINITE, TWIN_RESULT_UNKNOWN_SIGNAL,
                               TWIN_RESULT_OUT_OF_ORDER, TWIN_RESULT_DUPLICATE,
                               TWIN_RESULT_TIMESTAMP_CONFLICT, TWIN_RESULT_OUT_OF_RANGE,
                               TWIN_RESULT_NON_FINITE};
    for (size_t i = 0; i < 7 && i < n; i++) {
        EXPECT(rej[i].index == idx[i]);
        EXPECT(rej[i].reason == why[i]);
    }
    double value = 0;
    EXPECT_CODE(twin_twin_reported(twin, 0, &value), TWIN_RESULT_OK);
    EXPECT(value == 120.0);
    EXPECT_CODE(twin_twin_reported(twin, 2, &value), TWIN_RESULT_OK);
    EXPECT(value == 30.0);

    /* Single samples return their specific reason. */
    EXPECT_CODE(twin_twin_ingest(twin, 1, 1, 2.0), TWIN_RESULT_OUT_OF_ORDER);
    EXPECT(starts_with(last_error(), "twin_twin_ingest: out-of-order sample for vibration"));
    EXPECT_CODE(twin_twin_ingest(twin, 20, 1, NAN), TWIN_RESULT_NON_FINITE);
    EXPECT_CODE(twin_twin_ingest(twin, 20, 1, 101.0), TWIN_RESULT_OUT_OF_RANGE);
    EXPECT_CODE(twin_twin_ingest(twin, 20, 3, 1.0), TWIN_RESULT_UNKNOWN_SIGNAL);
    EXPECT_CODE(twin_twin_ingest(twin, 10, 1, 2.0), TWIN_RESULT_DUPLICATE);
    EXPECT_CODE(twin_twin_ingest(twin, 10, 1, 2.2), TWIN_RESULT_TIMESTAMP_CONFLICT);
    EXPECT_CODE(twin_twin_last_rejections(twin, rej, 8, &n), TWIN_RESULT_OK);
    EXPECT(n == 1 && rej[0].index == 0 && rej[0].reason == TWIN_RESULT_TIMESTAMP_CONFLICT);
    EXPECT_CODE(twin_twin_ingest(twin, 20, 1, 2.1), TWIN_RESULT_OK);
    EXPECT_CODE(twin_twin_last_rejections(twin, NULL, 0, &n), TWIN_RESULT_OK);
    EXPECT(n == 0);

    TwinCounters c;
    EXPECT_CODE(twin_twin_counters(twin, &c), TWIN_RESULT_OK);
    EXPECT(c.received == 18);
    EXPECT(c.accepted == 5);
    EXPECT(c.rejected == 13);
    EXPECT(c.non_finite == 3 && c.out_of_range == 2 && c.unknown_signal == 2);
    EXPECT(c.out_of_order == 2 && c.duplicate == 2 && c.timestamp_conflict == 2);
    twin_twin_free(twin);
    twin_schema_free(schema);
}

static void test_spike_insights(void) {
    TwinSchema *schema = NULL;
    TwinTwin *twin = NULL;
    EXPECT_CODE(twin_schema_from_json(SCHEMA, strlen(SCHEMA), &schema), TWIN_RESULT_OK);
    EXPECT_CODE(twin_twin_new(schema, &twin), TWIN_RESULT_OK);
    /* Forty quiet vibration samples, a spike above the alarm limit at 40 s, normal at 41 s. */
    int64_t t[42];
    uint32_t s[42];
    double v[42];
    for (int i = 0; i < 42; i++) {
        t[i] = i * SEC;
        s[i] = 1;
        v[i] = 2.0 + 0.01 * (i % 5);
    }
    v[40] = 30.0;
    TwinIngestReport report;
    EXPECT_CODE(twin_twin_ingest_batch(twin, t, s, v, 42, &report), TWIN_RESULT_OK);
    EXPECT(report.accepted == 42 && report.rejected == 0);
    size_t count = 0;
    EXPECT_CODE(twin_twin_insight_count(twin, &count), TWIN_RESULT_OK);
    EXPECT(count == 3);

    /* Drain with a buffer of two: the third insight stays pending. */
    TwinInsight buf[2];
    size_t n = 0;
    EXPECT_CODE(twin_twin_drain_insights(twin, buf, 2, &n), TWIN_RESULT_OK);
    EXPECT(n == 2);
    EXPECT(buf[0].kind == TWIN_INSIGHT_KIND_ALARM_HIGH && buf[0].time_ns == 40 * SEC);
    EXPECT(buf[0].signal == 1 && buf[0].value == 30.0 && buf[0].score == 4.5);
    EXPECT(buf[1].kind == TWIN_INSIGHT_KIND_ANOMALY && buf[1].time_ns == 40 * SEC);
    EXPECT(buf[1].score > 4.0);
    EXPECT_CODE(twin_twin_insight_count(twin, &count), TWIN_RESULT_OK);
    EXPECT(count == 1);
    EXPECT_CODE(twin_twin_drain_insights(twin, buf, 2, &n), TWIN_RESULT_OK);
    EXPECT(n == 1);
    EXPECT(buf[0].kind == TWIN_INSIGHT_KIND_ALARM_CLEARED && buf[0].time_ns == 41 * SEC);
    EXPECT_CODE(twin_twin_drain_insights(twin, buf, 2, &n), TWIN_RESULT_OK);
    EXPECT(n == 0);

    /* Snapshot and restore: the copy carries on like the original. */
    size_t len = 0;
    EXPECT_CODE(twin_twin_snapshot_json(twin, NULL, 0, &len), TWIN_RESULT_OK);
    EXPECT(len > 100);
    char json[65536];
    EXPECT(len < sizeof json);
    if (len < sizeof json) {
        EXPECT_CODE(twin_twin_snapshot_json(twin, json, len + 1, &n), TWIN_RESULT_OK);
        TwinTwin *copy = NULL;
        EXPECT_CODE(twin_twin_restore_json(schema, json, len, &copy), TWIN_RESULT_OK);
        if (copy != NULL) {
            EXPECT_CODE(twin_twin_ingest(copy, 42 * SEC, 1, 35.0), TWIN_RESULT_OK);
            EXPECT_CODE(twin_twin_ingest(twin, 42 * SEC, 1, 35.0), TWIN_RESULT_OK);
            size_t a = 0, b = 0;
            EXPECT_CODE(twin_twin_insight_count(twin, &a), TWIN_RESULT_OK);
            EXPECT_CODE(twin_twin_insight_count(copy, &b), TWIN_RESULT_OK);
            EXPECT(a == 2 && b == 2);
            twin_twin_free(copy);
        }
    }
    twin_twin_free(twin);
    twin_schema_free(schema);
}

static void test_commands(void) {
    TwinSchema *schema = NULL;
    TwinTwin *twin = NULL;
    EXPECT_CODE(twin_schema_from_json(SCHEMA, strlen(SCHEMA), &schema), TWIN_RESULT_OK);
    EXPECT_CODE(twin_twin_new(schema, &twin), TWIN_RESULT_OK);
    const char *cmd = "set_stroke_rate";
    const size_t len = strlen(cmd);
    EXPECT_CODE(twin_twin_command(twin, cmd, len, 20.0, 0), TWIN_RESULT_OK);
    EXPECT_CODE(twin_twin_command(twin, cmd, len, 41.0, 100 * SEC), TWIN_RESULT_OUT_OF_RANGE);
    /* 1/min per second: 5 s allow a change of 5, not 6. */
    EXPECT_CODE(twin_twin_command(twin, cmd, len, 26.0, 5 * SEC), TWIN_RESULT_RATE_LIMITED);
    EXPECT_CODE(twin_twin_command(twin, cmd, len, NAN, 5 * SEC), TWIN_RESULT_NON_FINITE);
    EXPECT_CODE(twin_twin_command(twin, "stop", 4, 0.0, 5 * SEC), TWIN_RESULT_UNKNOWN_SIGNAL);
    EXPECT_CODE(twin_twin_command(twin, cmd, len, 25.0, 5 * SEC), TWIN_RESULT_OK);
    double desired = 0;
    EXPECT_CODE(twin_twin_desired(twin, 2, &desired), TWIN_RESULT_OK);
    EXPECT(desired == 25.0);

    size_t pending = 0;
    EXPECT_CODE(twin_twin_pending_command_count(twin, &pending), TWIN_RESULT_OK);
    EXPECT(pending == 2);
    TwinCommand out[2];
    memset(out, 0, sizeof out);
    size_t n = 999;
    EXPECT_CODE(twin_twin_take_commands(twin, out, 1, &n), TWIN_RESULT_BUFFER_TOO_SMALL);
    EXPECT(n == 999 && out[0].seq == 0);
    EXPECT_CODE(twin_twin_take_commands(twin, out, 2, &n), TWIN_RESULT_OK);
    EXPECT(n == 2);
    EXPECT(out[0].seq == 1 && out[0].value == 20.0 && out[0].time_ns == 0 && out[0].command == 0);
    EXPECT(out[1].seq == 2 && out[1].value == 25.0 && out[1].time_ns == 5 * SEC);
    TwinCounters c;
    EXPECT_CODE(twin_twin_counters(twin, &c), TWIN_RESULT_OK);
    EXPECT(c.commands_accepted == 2 && c.commands_refused == 4 && c.commands_taken == 2);
    twin_twin_free(twin);
    twin_schema_free(schema);
}

int main(void) {
    test_messages();
    test_schema_errors();
    test_last_error_buffers();
    test_null_and_utf8();
    test_batch_counts();
    test_spike_insights();
    test_commands();
    printf("test_ffi: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
