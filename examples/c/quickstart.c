/*
 * quickstart.c: a PLC-style scan loop feeding a conveyor-drive twin through libtwin.
 *
 * Build and run from the repository root:
 *   cargo build -p twin-ffi
 *   cc -std=c11 -Wall -Wextra -Iinclude examples/c/quickstart.c target/debug/libtwin.a -lpthread -ldl -lm -o target/quickstart && ./target/quickstart
 *
 * Each scan reads four sensors (belt speed, vibration, motor temperature, load); every ten
 * scans the values go to the twin as one columnar batch. One scan has a vibration spike,
 * and the last batch carries bad samples (NaN, an unknown id, an out-of-order time) that the
 * twin refuses one by one. The program then drains the insights, sends one valid and one
 * invalid speed command, and frees everything.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twin.h"

/* The conveyor drive's standard schema (twin::entity::ConveyorDrive::standard_schema()). */
static const char CONVEYOR_SCHEMA[] =
    /* BEGIN SCHEMA */
    "{\"name\": \"conveyor_drive\","
    " \"telemetry\": ["
    "  {\"name\": \"belt_speed\", \"unit\": \"m/s\", \"min\": 0.0, \"max\": 5.0, \"alarm_low\": 0.2},"
    "  {\"name\": \"vibration\", \"unit\": \"mm/s\", \"min\": 0.0, \"max\": 100.0, \"alarm_high\": 4.5},"
    "  {\"name\": \"motor_temp\", \"unit\": \"degC\", \"min\": -40.0, \"max\": 200.0, \"alarm_high\": 90.0},"
    "  {\"name\": \"load\", \"unit\": \"1\", \"min\": 0.0, \"max\": 2.0, \"alarm_high\": 1.2}],"
    " \"properties\": [{\"name\": \"speed_setpoint\", \"unit\": \"m/s\", \"min\": 0.0, \"max\": 3.0}],"
    " \"commands\": [{\"name\": \"set_speed\", \"unit\": \"m/s\", \"min\": 0.0, \"max\": 2.5,"
    "   \"max_rate\": 0.05, \"min_interval_s\": 1.0, \"property\": \"speed_setpoint\"}]}"
    /* END SCHEMA */
    ;

#define SEC INT64_C(1000000000)
#define SCANS_PER_BATCH 10
#define CHANNELS 4
#define BATCH_CAP (SCANS_PER_BATCH * CHANNELS + 3)

/* Print the detail of the last failure to `out` and return the code. */
static TwinResult report_error(FILE *out, const char *what, TwinResult r) {
    char msg[512];
    size_t len = 0;
    if (twin_last_error_message(msg, sizeof msg, &len) != TWIN_RESULT_OK) {
        msg[0] = '\0';
    }
    fprintf(out, "%s: %s (code %u): %s\n", what, twin_result_message(r), (unsigned)r, msg);
    return r;
}

/* Stop the program on an unexpected failure. */
#define CHECK(call)                                \
    do {                                           \
        TwinResult check_r_ = (call);              \
        if (check_r_ != TWIN_RESULT_OK) {          \
            report_error(stderr, #call, check_r_); \
            exit(1);                               \
        }                                          \
    } while (0)

/* A small deterministic noise source (xorshift), in [-1, 1). */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static double noise(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 4503599627370496.0 - 1.0;
}

static uint32_t signal_id(const TwinSchema *schema, const char *name) {
    uint32_t id = 0;
    CHECK(twin_schema_signal_id(schema, name, strlen(name), &id));
    return id;
}

int main(void) {
    TwinSchema *schema = NULL;
    TwinTwin *twin = NULL;
    CHECK(twin_schema_from_json(CONVEYOR_SCHEMA, strlen(CONVEYOR_SCHEMA), &schema));
    CHECK(twin_twin_new(schema, &twin));
    printf("libtwin %s: twin of conveyor_drive created\n", twin_version());

    const uint32_t speed = signal_id(schema, "belt_speed");
    const uint32_t vibration = signal_id(schema, "vibration");
    const uint32_t motor_temp = signal_id(schema, "motor_temp");
    const uint32_t load = signal_id(schema, "load");

    int64_t times[BATCH_CAP];
    uint32_t signals[BATCH_CAP];
    double values[BATCH_CAP];
    TwinRejection rejections[BATCH_CAP];

    int scan = 0;
    for (int batch = 0; batch < 6; batch++) {
        size_t n = 0;
        for (int k = 0; k < SCANS_PER_BATCH; k++, scan++) {
            const int64_t t = (int64_t)scan * SEC;
            double vib = 2.0 + 0.05 * noise();
            if (scan == 45) {
                vib = 12.0; /* a bearing knock */
            }
            times[n] = t; signals[n] = speed; values[n++] = 1.5 + 0.01 * noise();
            times[n] = t; signals[n] = vibration; values[n++] = vib;
            times[n] = t; signals[n] = motor_temp; values[n++] = 62.0 + 0.2 * noise();
            times[n] = t; signals[n] = load; values[n++] = 0.8 + 0.02 * noise();
        }
        if (batch == 5) {
            /* Bad samples: a NaN reading, a channel the schema does not know, a stale time. */
            times[n] = (int64_t)scan * SEC; signals[n] = vibration; values[n++] = NAN;
            times[n] = (int64_t)scan * SEC; signals[n] = 42; values[n++] = 1.0;
            times[n] = 3 * SEC; signals[n] = load; values[n++] = 0.8;
        }
        TwinIngestReport report;
        CHECK(twin_twin_ingest_batch(twin, times, signals, values, n, &report));
        printf("batch %d: %zu samples, %zu accepted, %zu rejected\n", batch, n, report.accepted,
               report.rejected);
        if (report.rejected > 0) {
            size_t count = 0;
            CHECK(twin_twin_last_rejections(twin, rejections, BATCH_CAP, &count));
            for (size_t i = 0; i < count; i++) {
                printf("  sample %zu refused: %s\n", rejections[i].index,
                       twin_result_message(rejections[i].reason));
            }
        }
    }

    /* Drain the insights a few at a time, as a scan cycle with a small buffer would. */
    TwinInsight insights[2];
    size_t got = 0;
    do {
        CHECK(twin_twin_drain_insights(twin, insights, 2, &got));
        for (size_t i = 0; i < got; i++) {
            char name[32];
            size_t name_len = 0;
            CHECK(twin_schema_signal_name(schema, insights[i].signal, name, sizeof name, &name_len));
            printf("insight at %" PRId64 " s: %s on %s, value %.2f, score %.2f\n",
                   insights[i].time_ns / SEC, twin_insight_kind_name(insights[i].kind), name,
                   insights[i].value, insights[i].score);
        }
    } while (got == 2);

    /* Commands: a valid speed change, then one beyond the limits that is refused. */
    const char *cmd = "set_speed";
    const int64_t now = (int64_t)scan * SEC;
    CHECK(twin_twin_command(twin, cmd, strlen(cmd), 1.4, now));
    TwinResult r = twin_twin_command(twin, cmd, strlen(cmd), 9.0, now + 60 * SEC);
    if (r == TWIN_RESULT_OK) {
        fprintf(stderr, "an out-of-range command was accepted\n");
        return 1;
    }
    report_error(stdout, "set_speed 9.0 refused as expected", r);

    TwinCommand commands[4];
    size_t ncmd = 0;
    CHECK(twin_twin_take_commands(twin, commands, 4, &ncmd));
    for (size_t i = 0; i < ncmd; i++) {
        printf("send command #%" PRIu64 ": id %u value %.2f at %" PRId64 " s\n", commands[i].seq,
               commands[i].command, commands[i].value, commands[i].time_ns / SEC);
    }

    TwinCounters c;
    CHECK(twin_twin_counters(twin, &c));
    printf("totals: %" PRIu64 " received, %" PRIu64 " accepted, %" PRIu64
           " rejected; commands %" PRIu64 " accepted, %" PRIu64 " refused\n",
           c.received, c.accepted, c.rejected, c.commands_accepted, c.commands_refused);

    twin_twin_free(twin);
    twin_schema_free(schema);
    return 0;
}
