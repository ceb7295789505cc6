/*
 * test_fleet.c: fleets through the C ABI. A batch for three twins (plus an unknown id, a
 * NaN and an out-of-range value) is spread over two threads; the counts, the rejections,
 * each twin's state, a vibration spike's insights, a command, a snapshot round trip and
 * NULL arguments are checked with real numbers.
 *
 * Built and run by scripts/check-c.sh (strict warnings, ASan/UBSan, valgrind).
 */
#include <inttypes.h>
#include <math.h>
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

#define SEC INT64_C(1000000000)
#define SCANS 200
#define IDS 3

static const char SCHEMA[] =
    "{\"name\": \"press\","
    " \"telemetry\": ["
    "  {\"name\": \"pressure\", \"unit\": \"bar\", \"min\": 0, \"max\": 400, \"alarm_high\": 250},"
    "  {\"name\": \"vibration\", \"unit\": \"mm/s\", \"min\": 0, \"max\": 100, \"alarm_high\": 4.5}],"
    " \"properties\": [{\"name\": \"stroke_rate\", \"unit\": \"1/min\", \"min\": 0, \"max\": 60}],"
    " \"commands\": [{\"name\": \"set_stroke_rate\", \"unit\": \"1/min\", \"min\": 0, \"max\": 40,"
    "   \"max_rate\": 1.0, \"property\": \"stroke_rate\"}]}";

static const uint64_t ID[IDS] = {101, 202, 303};

/* Fill one fleet batch: every scan, pressure and vibration of each twin; twin 202 has a
 * vibration spike at scan 150; then an unknown twin, a NaN and an out-of-range value. */
static size_t fill(uint64_t *twins, int64_t *times, uint32_t *signals, double *values) {
    size_t n = 0;
    for (int scan = 0; scan < SCANS; scan++) {
        for (int k = 0; k < IDS; k++) {
            double wobble = 0.01 * (double)((scan * 7 + k * 3) % 11);
            twins[n] = ID[k], times[n] = scan * SEC, signals[n] = 0;
            values[n++] = 100.0 + 10.0 * k + wobble;
            twins[n] = ID[k], times[n] = scan * SEC, signals[n] = 1;
            values[n++] = (ID[k] == 202 && scan == 150) ? 9.0 : 2.0 + wobble;
        }
    }
    twins[n] = 999, times[n] = SCANS * SEC, signals[n] = 0, values[n++] = 1.0;
    twins[n] = 101, times[n] = SCANS * SEC, signals[n] = 0, values[n++] = NAN;
    twins[n] = 303, times[n] = SCANS * SEC, signals[n] = 0, values[n++] = 401.0;
    return n;
}

int main(void) {
    enum { CAP = SCANS * IDS * 2 + 3 };
    static uint64_t twins[CAP];
    static int64_t times[CAP];
    static uint32_t signals[CAP];
    static double values[CAP];
    size_t n = fill(twins, times, signals, values);
    EXPECT(n == CAP);

    TwinSchema *schema = NULL;
    TwinFleet *fleet = NULL;
    EXPECT_CODE(twin_schema_from_json(SCHEMA, strlen(SCHEMA), &schema), TWIN_RESULT_OK);
    EXPECT_CODE(twin_fleet_new(0, &fleet), TWIN_RESULT_INVALID_INPUT);
    EXPECT(fleet == NULL);
    EXPECT_CODE(twin_fleet_new(2, &fleet), TWIN_RESULT_OK);
    for (int k = 0; k < IDS; k++) {
        EXPECT_CODE(twin_fleet_insert(fleet, ID[k], schema), TWIN_RESULT_OK);
    }
    EXPECT_CODE(twin_fleet_insert(fleet, 202, schema), TWIN_RESULT_INVALID_INPUT);
    size_t len = 0;
    EXPECT_CODE(twin_fleet_len(fleet, &len), TWIN_RESULT_OK);
    EXPECT(len == IDS);

    /* The batch: all but three accepted; the three refused for their own reasons. */
    TwinIngestReport report = {0, 0};
    EXPECT_CODE(twin_fleet_ingest_batch(fleet, twins, times, signals, values, n, &report),
                TWIN_RESULT_OK);
    EXPECT(report.accepted == n - 3 && report.rejected == 3);
    TwinFleetRejection rej[3];
    size_t got = 0;
    EXPECT_CODE(twin_fleet_last_rejections(fleet, NULL, 0, &got), TWIN_RESULT_OK);
    EXPECT(got == 3);
    EXPECT_CODE(twin_fleet_last_rejections(fleet, rej, 2, &got), TWIN_RESULT_BUFFER_TOO_SMALL);
    EXPECT_CODE(twin_fleet_last_rejections(fleet, rej, 3, &got), TWIN_RESULT_OK);
    EXPECT(rej[0].index == n - 3 && rej[0].twin == 999 && rej[0].reason == TWIN_RESULT_UNKNOWN_TWIN);
    EXPECT(rej[1].index == n - 2 && rej[1].twin == 101 && rej[1].reason == TWIN_RESULT_NON_FINITE);
    EXPECT(rej[2].index == n - 1 && rej[2].twin == 303 && rej[2].reason == TWIN_RESULT_OUT_OF_RANGE);

    /* Each twin's own state and counters. */
    double v = -1.0;
    EXPECT_CODE(twin_fleet_reported(fleet, 303, 0, &v), TWIN_RESULT_OK);
    EXPECT(fabs(v - (120.0 + 0.01 * (double)(((SCANS - 1) * 7 + 2 * 3) % 11))) < 1e-12);
    EXPECT_CODE(twin_fleet_reported(fleet, 404, 0, &v), TWIN_RESULT_UNKNOWN_TWIN);
    EXPECT_CODE(twin_fleet_reported(fleet, 303, 9, &v), TWIN_RESULT_UNKNOWN_SIGNAL);
    TwinCounters c;
    EXPECT_CODE(twin_fleet_counters(fleet, 101, &c), TWIN_RESULT_OK);
    EXPECT(c.received == SCANS * 2 + 1 && c.accepted == SCANS * 2 && c.non_finite == 1);

    /* The spike on twin 202: an alarm, an anomaly, and the alarm clearing, all on 202. */
    TwinFleetInsight ins[8];
    EXPECT_CODE(twin_fleet_drain_insights(fleet, ins, 8, &got), TWIN_RESULT_OK);
    EXPECT(got == 3);
    int on_202 = 0, alarm = 0, anomaly = 0, cleared = 0;
    for (size_t i = 0; i < got; i++) {
        on_202 += ins[i].twin == 202 && ins[i].insight.signal == 1;
        alarm += ins[i].insight.kind == TWIN_INSIGHT_KIND_ALARM_HIGH &&
                 ins[i].insight.time_ns == 150 * SEC;
        anomaly += ins[i].insight.kind == TWIN_INSIGHT_KIND_ANOMALY;
        cleared += ins[i].insight.kind == TWIN_INSIGHT_KIND_ALARM_CLEARED &&
                   ins[i].insight.time_ns == 151 * SEC;
    }
    EXPECT(on_202 == 3 && alarm == 1 && anomaly == 1 && cleared == 1);
    EXPECT_CODE(twin_fleet_drain_insights(fleet, ins, 8, &got), TWIN_RESULT_OK);
    EXPECT(got == 0);

    /* Commands are validated per twin. */
    const char *cmd = "set_stroke_rate";
    EXPECT_CODE(twin_fleet_command(fleet, 101, cmd, strlen(cmd), 20.0, 300 * SEC), TWIN_RESULT_OK);
    EXPECT_CODE(twin_fleet_command(fleet, 101, cmd, strlen(cmd), 41.0, 400 * SEC),
                TWIN_RESULT_OUT_OF_RANGE);
    EXPECT_CODE(twin_fleet_command(fleet, 9, cmd, strlen(cmd), 20.0, 300 * SEC),
                TWIN_RESULT_UNKNOWN_TWIN);

    /* Snapshot and restore: the copy answers like the original. */
    size_t need = 0;
    EXPECT_CODE(twin_fleet_snapshot_json(fleet, NULL, 0, &need), TWIN_RESULT_OK);
    char *json = malloc(need + 1);
    EXPECT(json != NULL);
    if (json != NULL) {
        EXPECT_CODE(twin_fleet_snapshot_json(fleet, json, need + 1, &len), TWIN_RESULT_OK);
        EXPECT(len == need);
        TwinFleet *copy = NULL;
        EXPECT_CODE(twin_fleet_restore_json(schema, 1, json, len, &copy), TWIN_RESULT_OK);
        double w = -1.0;
        EXPECT_CODE(twin_fleet_reported(copy, 303, 0, &w), TWIN_RESULT_OK);
        EXPECT(w == v);
        TwinCounters cc;
        EXPECT_CODE(twin_fleet_counters(copy, 101, &cc), TWIN_RESULT_OK);
        EXPECT(cc.accepted == c.accepted && cc.commands_accepted == 1);
        EXPECT_CODE(twin_fleet_restore_json(schema, 1, json, len / 2, &copy), TWIN_RESULT_SERIALIZATION);
        twin_fleet_free(copy);
        free(json);
    }

    /* Removal, and NULL arguments. */
    EXPECT_CODE(twin_fleet_remove(fleet, 202), TWIN_RESULT_OK);
    EXPECT_CODE(twin_fleet_remove(fleet, 202), TWIN_RESULT_UNKNOWN_TWIN);
    EXPECT_CODE(twin_fleet_len(fleet, &len), TWIN_RESULT_OK);
    EXPECT(len == 2);
    EXPECT_CODE(twin_fleet_ingest_batch(NULL, twins, times, signals, values, n, &report),
                TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_fleet_ingest_batch(fleet, NULL, times, signals, values, n, &report),
                TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_fleet_ingest_batch(fleet, twins, times, signals, values, n, NULL),
                TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_fleet_insert(fleet, 7, NULL), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_fleet_len(NULL, &len), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_fleet_drain_insights(fleet, NULL, 4, &got), TWIN_RESULT_NULL_PARAMETER);
    twin_fleet_free(NULL);

    twin_fleet_free(fleet);
    twin_schema_free(schema);
    printf("test_fleet: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
