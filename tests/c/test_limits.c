/*
 * test_limits.c: resource limits through the C ABI. A twin with a history ring of 4 and a
 * batch cap of 8 ingests 50 scans in batches of 8 (accepted) and one batch of 9 (refused
 * whole, every sample TWIN_RESULT_LIMIT_EXCEEDED); the counters reconcile, the history
 * holds the newest 4 samples in order, a snapshot carries it into a smaller ring, schema
 * size caps and the fleet caps give TWIN_RESULT_LIMIT_EXCEEDED with a detail naming the cap.
 *
 * Built and run by scripts/check-c.sh (strict warnings, ASan/UBSan, valgrind).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twin.h"

static int checks = 0;
static int failures = 0;

#define EXPECT(cond)                                                                 \
    do {                                                                             \
        checks++;                                                                    \
        if (!(cond)) {                                                               \
            failures++;                                                              \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define EXPECT_CODE(call, code)                                                           \
    do {                                                                                  \
        TwinResult got_ = (call);                                                         \
        checks++;                                                                         \
        if (got_ != (code)) {                                                             \
            failures++;                                                                   \
            fprintf(stderr, "%s:%d: %s gave %u (%s), expected %s\n", __FILE__, __LINE__, \
                    #call, (unsigned)got_, twin_result_message(got_), #code);             \
        }                                                                                 \
    } while (0)

static const char SCHEMA[] =
    "{\"name\": \"mixer\","
    " \"telemetry\": ["
    "  {\"name\": \"torque\", \"unit\": \"N m\", \"min\": 0, \"max\": 500},"
    "  {\"name\": \"temp\", \"unit\": \"degC\", \"min\": -20, \"max\": 150}],"
    " \"commands\": [{\"name\": \"stop\", \"min\": 0, \"max\": 1}]}";

static int last_error_contains(const char *needle) {
    char buf[512];
    size_t len = 0;
    if (twin_last_error_message(buf, sizeof buf, &len) != TWIN_RESULT_OK) return 0;
    return strstr(buf, needle) != NULL;
}

int main(void) {
    /* Schema size caps. */
    TwinSchemaLimits sl;
    EXPECT_CODE(twin_schema_limits_default(&sl), TWIN_RESULT_OK);
    EXPECT(sl.max_signals == 65536 && sl.max_commands == 4096 && sl.max_name_bytes == 256);
    TwinSchema *schema = NULL;
    sl.max_signals = 1;
    EXPECT_CODE(twin_schema_from_json_with_limits(SCHEMA, strlen(SCHEMA), &sl, &schema),
                TWIN_RESULT_LIMIT_EXCEEDED);
    EXPECT(schema == NULL);
    EXPECT(last_error_contains("max_signals is 1, got 2"));
    sl.max_signals = 2;
    sl.max_json_bytes = strlen(SCHEMA) - 1;
    EXPECT_CODE(twin_schema_from_json_with_limits(SCHEMA, strlen(SCHEMA), &sl, &schema),
                TWIN_RESULT_LIMIT_EXCEEDED);
    EXPECT(last_error_contains("max_json_bytes"));
    sl.max_json_bytes = strlen(SCHEMA);
    EXPECT_CODE(twin_schema_from_json_with_limits(SCHEMA, strlen(SCHEMA), &sl, &schema),
                TWIN_RESULT_OK);
    if (schema == NULL) return 1;

    /* A twin with a history ring and a batch cap. */
    TwinLimits limits;
    EXPECT_CODE(twin_limits_default(&limits), TWIN_RESULT_OK);
    EXPECT(limits.max_history_samples == 0 && limits.max_batch_samples == 16777216);
    limits.max_history_samples = 4;
    limits.max_batch_samples = 8;
    TwinTwin *twin = NULL;
    EXPECT_CODE(twin_twin_new_with_limits(schema, &limits, &twin), TWIN_RESULT_OK);
    if (twin == NULL) return 1;

    enum { SCANS = 50, N = SCANS * 2 };
    int64_t times[N];
    uint32_t signals[N];
    double values[N];
    for (int i = 0; i < N; i++) {
        times[i] = (int64_t)(i / 2) * INT64_C(100000000);
        signals[i] = (uint32_t)(i % 2);
        values[i] = (i % 2) ? 40.0 + 0.1 * (i / 2) : 100.0 + (i / 2);
    }
    TwinIngestReport report;
    size_t accepted = 0;
    for (size_t at = 0; at < N; at += 8) {
        size_t n = N - at < 8 ? N - at : 8;
        EXPECT_CODE(twin_twin_ingest_batch(twin, times + at, signals + at, values + at, n, &report),
                    TWIN_RESULT_OK);
        accepted += report.accepted;
    }
    EXPECT(accepted == N);
    /* Nine samples: one more than the cap, refused whole. */
    int64_t t9[9];
    uint32_t s9[9];
    double v9[9];
    for (int i = 0; i < 9; i++) {
        t9[i] = INT64_C(100000000000) + i, s9[i] = 0, v9[i] = 1.0;
    }
    EXPECT_CODE(twin_twin_ingest_batch(twin, t9, s9, v9, 9, &report), TWIN_RESULT_OK);
    EXPECT(report.accepted == 0 && report.rejected == 9);
    TwinRejection rej[9];
    size_t nrej = 0;
    EXPECT_CODE(twin_twin_last_rejections(twin, rej, 9, &nrej), TWIN_RESULT_OK);
    EXPECT(nrej == 9);
    for (size_t i = 0; i < nrej; i++) EXPECT(rej[i].index == i && rej[i].reason == TWIN_RESULT_LIMIT_EXCEEDED);
    EXPECT(strcmp(twin_result_message(TWIN_RESULT_LIMIT_EXCEEDED),
                  "a configured resource limit would be exceeded") == 0);
    TwinCounters c;
    EXPECT_CODE(twin_twin_counters(twin, &c), TWIN_RESULT_OK);
    EXPECT(c.received == N + 9 && c.accepted == N && c.rejected == 9 && c.limit_exceeded == 9);
    EXPECT(c.accepted + c.rejected == c.received);
    EXPECT(c.history_dropped == N - 4);

    /* The history: length, too small (nothing written), then the newest four in order. */
    size_t len = 0;
    EXPECT_CODE(twin_twin_history(twin, NULL, NULL, NULL, 0, &len), TWIN_RESULT_OK);
    EXPECT(len == 4);
    int64_t ht[4] = {-1, -1, -1, -1};
    uint32_t hs[4] = {9, 9, 9, 9};
    double hv[4] = {-1, -1, -1, -1};
    size_t len2 = 123;
    EXPECT_CODE(twin_twin_history(twin, ht, hs, hv, 3, &len2), TWIN_RESULT_BUFFER_TOO_SMALL);
    EXPECT(len2 == 123 && ht[0] == -1 && hs[0] == 9 && hv[0] == -1);
    EXPECT_CODE(twin_twin_history(twin, ht, hs, hv, 4, &len2), TWIN_RESULT_OK);
    EXPECT(len2 == 4);
    for (int k = 0; k < 4; k++) {
        int i = N - 4 + k;
        EXPECT(ht[k] == times[i] && hs[k] == signals[i] && hv[k] == values[i]);
    }
    EXPECT_CODE(twin_twin_history(NULL, ht, hs, hv, 4, &len2), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_twin_history(twin, NULL, hs, hv, 4, &len2), TWIN_RESULT_NULL_PARAMETER);

    /* A snapshot carries the history; a ring of 2 keeps the newest two. */
    size_t jlen = 0;
    EXPECT_CODE(twin_twin_snapshot_json(twin, NULL, 0, &jlen), TWIN_RESULT_OK);
    char *json = malloc(jlen + 1);
    if (json == NULL) return 1;
    EXPECT_CODE(twin_twin_snapshot_json(twin, json, jlen + 1, &jlen), TWIN_RESULT_OK);
    TwinLimits small = limits;
    small.max_history_samples = 2;
    TwinTwin *back = NULL;
    EXPECT_CODE(twin_twin_restore_json_with_limits(schema, json, jlen, &small, &back), TWIN_RESULT_OK);
    free(json);
    if (back != NULL) {
        TwinLimits got;
        EXPECT_CODE(twin_twin_limits(back, &got), TWIN_RESULT_OK);
        EXPECT(got.max_history_samples == 2 && got.max_batch_samples == 8);
        EXPECT_CODE(twin_twin_history(back, ht, hs, hv, 4, &len2), TWIN_RESULT_OK);
        EXPECT(len2 == 2 && ht[0] == times[N - 2] && ht[1] == times[N - 1]);
    }
    TwinLimits zero = limits;
    zero.max_batch_samples = 0;
    TwinTwin *none = NULL;
    EXPECT_CODE(twin_twin_new_with_limits(schema, &zero, &none), TWIN_RESULT_INVALID_INPUT);
    EXPECT(none == NULL);

    /* Fleet caps. */
    TwinFleet *fleet = NULL;
    EXPECT_CODE(twin_fleet_new(1, &fleet), TWIN_RESULT_OK);
    if (fleet == NULL) return 1;
    EXPECT_CODE(twin_fleet_set_limits(fleet, 2, 3), TWIN_RESULT_OK);
    EXPECT_CODE(twin_fleet_insert(fleet, 1, schema), TWIN_RESULT_OK);
    EXPECT_CODE(twin_fleet_insert(fleet, 2, schema), TWIN_RESULT_OK);
    EXPECT_CODE(twin_fleet_insert(fleet, 3, schema), TWIN_RESULT_LIMIT_EXCEEDED);
    EXPECT(last_error_contains("max_twins is 2, got 3"));
    uint64_t ids[4] = {1, 2, 1, 2};
    EXPECT_CODE(twin_fleet_ingest_batch(fleet, ids, times, signals, values, 4, &report), TWIN_RESULT_OK);
    EXPECT(report.accepted == 0 && report.rejected == 4);
    EXPECT_CODE(twin_fleet_ingest_batch(fleet, ids, times, signals, values, 3, &report), TWIN_RESULT_OK);
    EXPECT(report.accepted == 3 && report.rejected == 0);
    EXPECT_CODE(twin_fleet_set_limits(fleet, 2, 0), TWIN_RESULT_INVALID_INPUT);

    twin_fleet_free(fleet);
    twin_twin_free(back);
    twin_twin_free(twin);
    twin_schema_free(schema);
    printf("test_limits: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
