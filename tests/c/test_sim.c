/*
 * test_sim.c: simulation scenarios, what-if runs and maintenance optimisation through the
 * C ABI. A lossy deployment's counts reconcile and its delivery ratio equals delivered /
 * sent summed from the per-device columns; replications and a paired comparison agree
 * with their summaries; a bad scenario is refused naming its field; a deterministic
 * what-if on a conveyor twin fails at the step the discrete wear law gives, and a heated
 * thermal mass at the step its exact solution gives; the renewal-reward cost rate matches
 * its closed form for exponential lives; an infeasible optimisation is refused and writes
 * nothing. A sweep of the loss probability has values x replications rows, a delivery
 * ratio that falls as the loss rises, and shares seeds with replicate and paired runs. A
 * conveyor twin fed through a lossy simulated network takes in exactly what the network
 * handed out, the network's counts reconcile, and the twin's set-speed command reaches the
 * simulated drive. Zero-capacity batteries, four billion devices, 10^12 replications and
 * devices with no gateway are refused with the field named.
 *
 * Built and run by scripts/check-c.sh (strict warnings, ASan/UBSan, valgrind).
 */
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

#define DAY 86400.0
#define HOUR 3600.0

/* Eight devices reporting every minute for an hour over a link that loses 30 %. */
static const char SCENARIO[] =
    "{\"seed\": 11, \"horizon_s\": 3600,"
    " \"gateways\": [{\"name\": \"gw0\", \"link\": {\"latency_s\": 0.05,"
    "   \"loss\": {\"model\": \"bernoulli\", \"p\": 0.3}}}],"
    " \"groups\": [{\"count\": 8, \"period_s\": 60, \"gateways\": [0]}]}";

/* The same with a negative reporting period. */
static const char BAD_SCENARIO[] =
    "{\"seed\": 11, \"horizon_s\": 3600,"
    " \"gateways\": [{\"name\": \"gw0\"}],"
    " \"groups\": [{\"count\": 8, \"period_s\": -60, \"gateways\": [0]}]}";

static int last_error_contains(const char *needle) {
    char buf[512];
    size_t len = 0;
    if (twin_last_error_message(buf, sizeof buf, &len) != TWIN_RESULT_OK) {
        return 0;
    }
    if (strstr(buf, needle) == NULL) {
        fprintf(stderr, "last error \"%s\" lacks \"%s\"\n", buf, needle);
        return 0;
    }
    return 1;
}

/* Sum of a column of a report's table; -1 on error. */
static double column_sum(const TwinSimReport *r, size_t run, const char *table,
                         const char *name) {
    size_t rows = 0, len = 0;
    if (twin_sim_report_table_rows(r, run, table, strlen(table), &rows) != TWIN_RESULT_OK) {
        return -1.0;
    }
    double *v = malloc((rows + 1) * sizeof *v);
    if (v == NULL) {
        return -1.0;
    }
    double sum = -1.0;
    if (twin_sim_report_column(r, run, table, strlen(table), name, strlen(name), v, rows,
                               &len) == TWIN_RESULT_OK &&
        len == rows) {
        sum = 0.0;
        for (size_t i = 0; i < rows; i++) {
            sum += v[i];
        }
    }
    free(v);
    return sum;
}

static void test_sim_run(void) {
    TwinSimReport *r = NULL;
    EXPECT_CODE(twin_sim_validate(SCENARIO, strlen(SCENARIO)), TWIN_RESULT_OK);
    EXPECT_CODE(twin_sim_run(SCENARIO, strlen(SCENARIO), &r), TWIN_RESULT_OK);
    if (r == NULL) {
        return;
    }
    TwinSimSummary s;
    EXPECT_CODE(twin_sim_report_summary(r, 0, &s), TWIN_RESULT_OK);
    /* 8 devices x 60 reports; every report delivered, given up or still in flight. */
    EXPECT(s.devices == 8 && s.gateways == 1);
    EXPECT(s.reports == 480);
    EXPECT(s.reports == s.delivered + s.undelivered + s.in_flight);
    EXPECT(s.failed_transmissions ==
           s.lost_channel + s.dropped_queue + s.gateway_down + s.collisions + s.out_of_range);
    EXPECT(s.lost_channel > 0 && s.delivered > 0);
    /* The delivery ratio is delivered / sent, from the per-device columns. */
    double delivered = column_sum(r, 0, "devices", "delivered");
    double sent = column_sum(r, 0, "devices", "reports");
    EXPECT(sent == 480.0);
    EXPECT(delivered == (double)s.delivered);
    EXPECT(fabs(s.delivery_ratio - delivered / sent) < 1e-15);
    EXPECT(column_sum(r, 0, "devices", "undelivered") == (double)s.undelivered);
    EXPECT(column_sum(r, 0, "gateways", "received") == (double)s.delivered);
    /* Latency of at least the link's 50 ms. */
    EXPECT(s.latency_p50_s >= 0.05 * 0.95 && s.latency_p50_s <= s.latency_max_s);
    size_t rows = 0;
    EXPECT_CODE(twin_sim_report_table_rows(r, 0, "devices", 7, &rows), TWIN_RESULT_OK);
    EXPECT(rows == 8);
    /* Errors: unknown table and column, small buffer, run out of range; nothing written. */
    double small[2] = {-1.0, -1.0};
    size_t len = 99;
    EXPECT_CODE(twin_sim_report_column(r, 0, "devices", 7, "delivered", 9, small, 2, &len),
                TWIN_RESULT_BUFFER_TOO_SMALL);
    EXPECT_CODE(twin_sim_report_column(r, 0, "devices", 7, "nope", 4, small, 2, &len),
                TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("no column `nope`"));
    EXPECT_CODE(twin_sim_report_table_rows(r, 0, "nodes", 5, &rows), TWIN_RESULT_INVALID_INPUT);
    EXPECT_CODE(twin_sim_report_summary(r, 1, &s), TWIN_RESULT_INVALID_INPUT);
    EXPECT(small[0] == -1.0 && small[1] == -1.0 && len == 99 && rows == 8);
    /* Column names. */
    char name[32];
    EXPECT_CODE(twin_sim_report_column_name(r, 0, "devices", 7, 0, name, sizeof name, &len),
                TWIN_RESULT_OK);
    EXPECT(strcmp(name, "device") == 0 && len == 6);
    /* JSON, with the size query. */
    size_t need = 0;
    EXPECT_CODE(twin_sim_report_to_json(r, 0, NULL, 0, &need), TWIN_RESULT_OK);
    char *json = malloc(need + 1);
    if (json != NULL) {
        EXPECT_CODE(twin_sim_report_to_json(r, 0, json, need, &len), TWIN_RESULT_BUFFER_TOO_SMALL);
        EXPECT_CODE(twin_sim_report_to_json(r, 0, json, need + 1, &len), TWIN_RESULT_OK);
        EXPECT(len == need && strlen(json) == need);
        EXPECT(strstr(json, "\"delivery_ratio\"") != NULL);
        free(json);
    }
    twin_sim_report_free(r);
    twin_sim_report_free(NULL);
}

static void test_sim_many(void) {
    TwinSimReport *reps = NULL;
    EXPECT_CODE(twin_sim_replicate(SCENARIO, strlen(SCENARIO), 3, 2, &reps), TWIN_RESULT_OK);
    if (reps != NULL) {
        size_t runs = 0;
        EXPECT_CODE(twin_sim_report_run_count(reps, &runs), TWIN_RESULT_OK);
        EXPECT(runs == 3);
        double total = 0.0;
        for (size_t i = 0; i < runs; i++) {
            TwinSimSummary s;
            EXPECT_CODE(twin_sim_report_summary(reps, i, &s), TWIN_RESULT_OK);
            EXPECT(s.reports == 480 && s.reports == s.delivered + s.undelivered + s.in_flight);
            EXPECT(column_sum(reps, i, "devices", "delivered") == (double)s.delivered);
            total += (double)s.delivered;
        }
        EXPECT(column_sum(reps, 0, "runs", "delivered") == total);
        EXPECT(column_sum(reps, 0, "runs", "reports") == 3 * 480.0);
        twin_sim_report_free(reps);
    }
    /* A lossless variant on the same seeds loses nothing on the channel. */
    char variant[sizeof SCENARIO];
    memcpy(variant, SCENARIO, sizeof SCENARIO);
    char *p = strstr(variant, "\"p\": 0.3");
    if (p != NULL) {
        p[7] = '0';
    }
    TwinSimReport *pair = NULL;
    EXPECT_CODE(twin_sim_paired(SCENARIO, strlen(SCENARIO), variant, strlen(variant), 2, 1, &pair),
                TWIN_RESULT_OK);
    if (pair != NULL) {
        size_t runs = 0;
        EXPECT_CODE(twin_sim_report_run_count(pair, &runs), TWIN_RESULT_OK);
        EXPECT(runs == 4);
        EXPECT(column_sum(pair, 0, "runs", "variant") == 2.0);
        for (size_t i = 0; i < 2; i++) {
            TwinSimSummary b, v;
            EXPECT_CODE(twin_sim_report_summary(pair, i, &b), TWIN_RESULT_OK);
            EXPECT_CODE(twin_sim_report_summary(pair, i + 2, &v), TWIN_RESULT_OK);
            EXPECT(b.lost_channel > 0 && v.lost_channel == 0);
            EXPECT(v.delivered + v.in_flight == 480 && v.delivered > b.delivered);
        }
        twin_sim_report_free(pair);
    }
}

static void test_sim_bad(void) {
    TwinSimReport *sentinel = (TwinSimReport *)&checks;
    TwinSimReport *r = sentinel;
    EXPECT_CODE(twin_sim_validate(BAD_SCENARIO, strlen(BAD_SCENARIO)), TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("groups[0].period_s"));
    EXPECT_CODE(twin_sim_run(BAD_SCENARIO, strlen(BAD_SCENARIO), &r), TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("groups[0].period_s"));
    EXPECT_CODE(twin_sim_replicate(SCENARIO, strlen(SCENARIO), 0, 1, &r), TWIN_RESULT_INVALID_INPUT);
    EXPECT_CODE(twin_sim_run("{\"horizon_s\": 1}", 16, &r), TWIN_RESULT_SERIALIZATION);
    EXPECT_CODE(twin_sim_run(NULL, 4, &r), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_sim_run(SCENARIO, strlen(SCENARIO), NULL), TWIN_RESULT_NULL_PARAMETER);
    EXPECT(r == sentinel);
}

/* Column `name` of the report's "runs" table into v (room for cap); 1 on success. */
static int runs_column(const TwinSimReport *r, const char *name, double *v, size_t cap) {
    size_t len = 0;
    return twin_sim_report_column(r, 0, "runs", 4, name, strlen(name), v, cap, &len) ==
               TWIN_RESULT_OK &&
           len == cap;
}

/* A sweep of the loss probability: 3 values x 3 replications. */
static void test_sim_sweep(void) {
    const char *path = "gateways.0.link.loss.p";
    const double values[3] = {0.0, 0.3, 0.6};
    TwinSimReport *sw = NULL;
    EXPECT_CODE(twin_sim_sweep(SCENARIO, strlen(SCENARIO), path, strlen(path), values, 3, 3, 2,
                               &sw),
                TWIN_RESULT_OK);
    if (sw == NULL) {
        return;
    }
    size_t runs = 0, rows = 0, cols = 0, len = 0;
    EXPECT_CODE(twin_sim_report_run_count(sw, &runs), TWIN_RESULT_OK);
    EXPECT_CODE(twin_sim_report_table_rows(sw, 0, "runs", 4, &rows), TWIN_RESULT_OK);
    EXPECT(runs == 9 && rows == 9);
    /* Columns: value, replication, then the summary columns (reports first). */
    EXPECT_CODE(twin_sim_report_column_count(sw, 0, "runs", 4, &cols), TWIN_RESULT_OK);
    EXPECT(cols == 15);
    char name[32];
    EXPECT_CODE(twin_sim_report_column_name(sw, 0, "runs", 4, 0, name, sizeof name, &len),
                TWIN_RESULT_OK);
    EXPECT(strcmp(name, "value") == 0);
    EXPECT_CODE(twin_sim_report_column_name(sw, 0, "runs", 4, 1, name, sizeof name, &len),
                TWIN_RESULT_OK);
    EXPECT(strcmp(name, "replication") == 0);
    EXPECT_CODE(twin_sim_report_column_name(sw, 0, "runs", 4, 2, name, sizeof name, &len),
                TWIN_RESULT_OK);
    EXPECT(strcmp(name, "reports") == 0);
    double value[9], rep[9], ratio[9], delivered[9], reports[9];
    EXPECT(runs_column(sw, "value", value, 9) && runs_column(sw, "replication", rep, 9) &&
           runs_column(sw, "delivery_ratio", ratio, 9) &&
           runs_column(sw, "delivered", delivered, 9) && runs_column(sw, "reports", reports, 9));
    double mean[3] = {0.0, 0.0, 0.0};
    for (size_t i = 0; i < 9; i++) {
        EXPECT(value[i] == values[i / 3] && rep[i] == (double)(i % 3));
        TwinSimSummary s;
        EXPECT_CODE(twin_sim_report_summary(sw, i, &s), TWIN_RESULT_OK);
        EXPECT(reports[i] == 480.0 && s.reports == 480);
        EXPECT(delivered[i] == (double)s.delivered && ratio[i] == s.delivery_ratio);
        EXPECT(s.reports == s.delivered + s.undelivered + s.in_flight);
        EXPECT(column_sum(sw, i, "devices", "delivered") == (double)s.delivered);
        if (i < 3) {
            /* No loss: nothing lost on the channel, every report delivered or in flight. */
            EXPECT(s.lost_channel == 0 && s.delivered + s.in_flight == 480);
        }
        mean[i / 3] += ratio[i] / 3.0;
    }
    /* The delivery ratio falls as the loss probability rises. */
    EXPECT(mean[0] > mean[1] && mean[1] > mean[2]);
    EXPECT(mean[2] < 0.9);
    /* Replication i of the value 0.3 (the scenario's own) is replication i of
     * twin_sim_replicate: the same seed gives the same run. */
    TwinSimReport *reps = NULL;
    EXPECT_CODE(twin_sim_replicate(SCENARIO, strlen(SCENARIO), 3, 1, &reps), TWIN_RESULT_OK);
    if (reps != NULL) {
        for (size_t i = 0; i < 3; i++) {
            TwinSimSummary a, b;
            EXPECT_CODE(twin_sim_report_summary(reps, i, &a), TWIN_RESULT_OK);
            EXPECT_CODE(twin_sim_report_summary(sw, 3 + i, &b), TWIN_RESULT_OK);
            EXPECT(a.delivered == b.delivered && a.lost_channel == b.lost_channel &&
                   a.events == b.events && a.latency_max_s == b.latency_max_s);
        }
        twin_sim_report_free(reps);
    }
    /* And the value 0.0 is the lossless variant of a paired run on the same seeds. */
    char variant[sizeof SCENARIO];
    memcpy(variant, SCENARIO, sizeof SCENARIO);
    char *p = strstr(variant, "\"p\": 0.3");
    if (p != NULL) {
        p[7] = '0';
    }
    TwinSimReport *pair = NULL;
    EXPECT_CODE(twin_sim_paired(SCENARIO, strlen(SCENARIO), variant, strlen(variant), 3, 2, &pair),
                TWIN_RESULT_OK);
    if (pair != NULL) {
        for (size_t i = 0; i < 3; i++) {
            TwinSimSummary a, b;
            EXPECT_CODE(twin_sim_report_summary(pair, 3 + i, &a), TWIN_RESULT_OK);
            EXPECT_CODE(twin_sim_report_summary(sw, i, &b), TWIN_RESULT_OK);
            EXPECT(a.delivered == b.delivered && a.events == b.events);
        }
        twin_sim_report_free(pair);
    }
    twin_sim_report_free(sw);

    /* Errors: nothing written to *out, the code and the message say why. */
    TwinSimReport *sentinel = (TwinSimReport *)&checks;
    TwinSimReport *r = sentinel;
    const char *nopath = "groups.0.nope";
    EXPECT_CODE(twin_sim_sweep(SCENARIO, strlen(SCENARIO), nopath, strlen(nopath), values, 3, 1, 1,
                               &r),
                TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("groups.0.nope"));
    EXPECT_CODE(twin_sim_sweep(SCENARIO, strlen(SCENARIO), path, strlen(path), values, 0, 1, 1, &r),
                TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("n_values"));
    EXPECT_CODE(twin_sim_sweep(SCENARIO, strlen(SCENARIO), path, strlen(path), values, 3, 0, 1, &r),
                TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("replications_per_value"));
    const double nan_values[2] = {0.1, NAN};
    EXPECT_CODE(twin_sim_sweep(SCENARIO, strlen(SCENARIO), path, strlen(path), nan_values, 2, 1, 1,
                               &r),
                TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("values[1]"));
    /* A loss probability above 1 makes the scenario invalid. */
    const double too_big[1] = {1.5};
    EXPECT_CODE(twin_sim_sweep(SCENARIO, strlen(SCENARIO), path, strlen(path), too_big, 1, 1, 1,
                               &r),
                TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("loss"));
    /* 3 x 10^12 runs: refused from the memory estimate, before anything runs. */
    EXPECT_CODE(twin_sim_sweep(SCENARIO, strlen(SCENARIO), path, strlen(path), values, 3,
                               (size_t)1000000000000ULL, 0, &r),
                TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("limits.max_memory_bytes"));
    EXPECT_CODE(twin_sim_sweep("{", 1, path, strlen(path), values, 3, 1, 1, &r),
                TWIN_RESULT_SERIALIZATION);
    EXPECT_CODE(twin_sim_sweep(SCENARIO, strlen(SCENARIO), NULL, 5, values, 3, 1, 1, &r),
                TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_sim_sweep(SCENARIO, strlen(SCENARIO), path, strlen(path), NULL, 3, 1, 1, &r),
                TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_sim_sweep(NULL, 9, path, strlen(path), values, 3, 1, 1, &r),
                TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_sim_sweep(SCENARIO, strlen(SCENARIO), path, strlen(path), values, 3, 1, 1,
                               NULL),
                TWIN_RESULT_NULL_PARAMETER);
    EXPECT(r == sentinel);
}

/* Signal ids of the conveyor's standard schema, in declaration order. */
#define BELT_SPEED 0u
#define SPEED_SETPOINT 4u

/* A conveyor twin fed by a simulated conveyor drive over a link that loses 20 % of the
 * packets: one reading (5 samples) a second for 300 s, stepped every 10 s. */
static void test_sim_network(void) {
    const char link[] = "{\"latency_s\": 0.05, \"loss\": {\"model\": \"bernoulli\", \"p\": 0.2}}";
    TwinSimNetwork *net = NULL;
    TwinTwin *twin = NULL;
    EXPECT_CODE(twin_sim_network_new(link, strlen(link), 42, &net), TWIN_RESULT_OK);
    EXPECT_CODE(twin_twin_new_conveyor(NULL, 0, NULL, 0, &twin), TWIN_RESULT_OK);
    if (net == NULL || twin == NULL) {
        twin_sim_network_free(net);
        twin_twin_free(twin);
        return;
    }
    size_t idx = 99;
    EXPECT_CODE(twin_sim_network_add_conveyor(net, 7, 1.0, &idx), TWIN_RESULT_OK);
    EXPECT(idx == 0);
    size_t accepted = 0, polled = 0, sent = 0;
    double speed_before = -1.0, setpoint_before = -1.0;
    for (int k = 1; k <= 30; k++) {
        double t = 10.0 * k;
        EXPECT_CODE(twin_sim_network_advance_to(net, t), TWIN_RESULT_OK);
        if (k == 10) {
            /* At 100 s, before this step: the belt runs at its nominal 2 m/s. */
            EXPECT_CODE(twin_twin_reported(twin, BELT_SPEED, &speed_before), TWIN_RESULT_OK);
            EXPECT_CODE(twin_twin_reported(twin, SPEED_SETPOINT, &setpoint_before),
                        TWIN_RESULT_OK);
            /* The twin orders the belt down to 1 m/s. */
            EXPECT_CODE(twin_twin_command(twin, "set_speed", 9, 1.0, (int64_t)(t * 1e9)),
                        TWIN_RESULT_OK);
        }
        TwinStepReport rep;
        memset(&rep, 0xff, sizeof rep);
        EXPECT_CODE(twin_twin_step_sim(twin, net, 100000, &rep), TWIN_RESULT_OK);
        EXPECT(rep.polled == rep.accepted + rep.rejected);
        EXPECT(rep.send_failed == 0);
        accepted += rep.accepted;
        polled += rep.polled;
        sent += rep.sent;
    }
    TwinSimNetworkStats st;
    EXPECT_CODE(twin_sim_network_stats(net, &st), TWIN_RESULT_OK);
    /* 301 readings (t = 0, 1, ..., 300 s) of 5 samples each. */
    EXPECT(st.sensed == 301 * 5);
    EXPECT(st.sensed == st.lost + st.dropped + st.delivered + st.in_flight);
    EXPECT(st.delivered == st.polled + st.ready);
    EXPECT(st.lost > 0 && st.lost % 5 == 0 && st.dropped == 0);
    /* Loss near 20 %: 301 packets, 3 standard deviations (about 21 packets) either way. */
    EXPECT(st.lost / 5 > 60 - 21 && st.lost / 5 < 60 + 21);
    /* Every sample the twin took in was handed out by the network, and none refused. */
    EXPECT(accepted == polled && (uint64_t)polled == st.polled);
    EXPECT(st.ready == 0);
    /* The command crossed the link and the drive carried it out. */
    EXPECT(sent == 1 && st.commands_applied == 1 && st.commands_refused == 0);
    EXPECT(fabs(speed_before - 2.0) < 0.05 && setpoint_before == 2.0);
    double speed_after = -1.0, setpoint_after = -1.0;
    EXPECT_CODE(twin_twin_reported(twin, BELT_SPEED, &speed_after), TWIN_RESULT_OK);
    EXPECT_CODE(twin_twin_reported(twin, SPEED_SETPOINT, &setpoint_after), TWIN_RESULT_OK);
    EXPECT(setpoint_after == 1.0);
    /* 200 s later, 40 time constants of 5 s: the belt runs at the new set-point. */
    EXPECT(fabs(speed_after - 1.0) < 0.05);
    double now = -1.0;
    EXPECT_CODE(twin_sim_network_now(net, &now), TWIN_RESULT_OK);
    EXPECT(now == 300.0);

    /* Errors: nothing changes, outputs untouched. */
    TwinStepReport untouched = {7, 7, 7, 7, 7};
    EXPECT_CODE(twin_twin_step_sim(twin, net, TWIN_MAX_STEP_SAMPLES + 1, &untouched),
                TWIN_RESULT_INVALID_INPUT);
    EXPECT_CODE(twin_twin_step_sim(NULL, net, 10, &untouched), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_twin_step_sim(twin, NULL, 10, &untouched), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_twin_step_sim(twin, net, 10, NULL), TWIN_RESULT_NULL_PARAMETER);
    EXPECT(untouched.polled == 7 && untouched.accepted == 7);
    EXPECT_CODE(twin_sim_network_advance_to(net, 299.0), TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("not before"));
    EXPECT_CODE(twin_sim_network_advance_to(net, NAN), TWIN_RESULT_INVALID_INPUT);
    /* A year of readings a second without a poll: refused before it starts. */
    EXPECT_CODE(twin_sim_network_advance_to(net, 300.0 + 3.15e7), TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("TWIN_SIM_NETWORK_MAX_PENDING"));
    size_t bad_idx = 99;
    EXPECT_CODE(twin_sim_network_add_conveyor(net, 1, 0.0, &bad_idx), TWIN_RESULT_INVALID_INPUT);
    EXPECT_CODE(twin_sim_network_add_conveyor(net, 1, -1.0, &bad_idx), TWIN_RESULT_INVALID_INPUT);
    /* A period or a time beyond TWIN_SIM_NETWORK_MAX_TIME_S (nanosecond event times would
     * overflow). */
    EXPECT_CODE(twin_sim_network_add_conveyor(net, 1, 1e12, &bad_idx), TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("TWIN_SIM_NETWORK_MAX_TIME_S"));
    EXPECT_CODE(twin_sim_network_advance_to(net, 2.0 * TWIN_SIM_NETWORK_MAX_TIME_S),
                TWIN_RESULT_INVALID_INPUT);
    EXPECT_CODE(twin_sim_network_add_conveyor(net, 1, 1.0, NULL), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_sim_network_add_conveyor(NULL, 1, 1.0, &bad_idx), TWIN_RESULT_NULL_PARAMETER);
    EXPECT(bad_idx == 99);
    TwinSimNetworkStats same;
    EXPECT_CODE(twin_sim_network_stats(net, &same), TWIN_RESULT_OK);
    EXPECT(same.sensed == st.sensed && same.polled == st.polled);
    EXPECT_CODE(twin_sim_network_stats(NULL, &same), TWIN_RESULT_NULL_PARAMETER);
    EXPECT_CODE(twin_sim_network_stats(net, NULL), TWIN_RESULT_NULL_PARAMETER);
    twin_sim_network_free(net);
    twin_sim_network_free(NULL);
    twin_twin_free(twin);

    /* Every built-in entity on one lossless link: counts reconcile, nothing lost. */
    TwinSimNetwork *mixed = NULL;
    EXPECT_CODE(twin_sim_network_new(NULL, 0, 1, &mixed), TWIN_RESULT_OK);
    if (mixed != NULL) {
        size_t i0 = 9, i1 = 9, i2 = 9, i3 = 9;
        EXPECT_CODE(twin_sim_network_add_conveyor(mixed, 1, 2.0, &i0), TWIN_RESULT_OK);
        EXPECT_CODE(twin_sim_network_add_pump(mixed, 2, 2.0, &i1), TWIN_RESULT_OK);
        EXPECT_CODE(twin_sim_network_add_wind_turbine(mixed, 3, 2.0, &i2), TWIN_RESULT_OK);
        EXPECT_CODE(twin_sim_network_add_battery(mixed, 4, 2.0, &i3), TWIN_RESULT_OK);
        EXPECT(i0 == 0 && i1 == 1 && i2 == 2 && i3 == 3);
        EXPECT_CODE(twin_sim_network_advance_to(mixed, 60.0), TWIN_RESULT_OK);
        TwinSimNetworkStats m;
        EXPECT_CODE(twin_sim_network_stats(mixed, &m), TWIN_RESULT_OK);
        /* 31 readings per device; the conveyor's alone are 31 x 5 samples. */
        EXPECT(m.sensed > 31 * 5 && m.sensed % 31 == 0);
        EXPECT(m.lost == 0 && m.dropped == 0 && m.in_flight == 0);
        EXPECT(m.delivered == m.sensed && m.ready == m.sensed && m.polled == 0);
        twin_sim_network_free(mixed);
    }

    /* Bad links: refused, *out untouched. */
    TwinSimNetwork *nsent = (TwinSimNetwork *)&checks;
    TwinSimNetwork *n2 = nsent;
    EXPECT_CODE(twin_sim_network_new("{", 1, 1, &n2), TWIN_RESULT_INVALID_INPUT);
    const char neg[] = "{\"latency_s\": -1}";
    EXPECT_CODE(twin_sim_network_new(neg, strlen(neg), 1, &n2), TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("latency_s"));
    const char lossy[] = "{\"loss\": {\"model\": \"bernoulli\", \"p\": 1.5}}";
    EXPECT_CODE(twin_sim_network_new(lossy, strlen(lossy), 1, &n2), TWIN_RESULT_INVALID_INPUT);
    const char unknown[] = "{\"latency\": 1}";
    EXPECT_CODE(twin_sim_network_new(unknown, strlen(unknown), 1, &n2), TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("latency"));
    EXPECT_CODE(twin_sim_network_new(NULL, 0, 1, NULL), TWIN_RESULT_NULL_PARAMETER);
    EXPECT(n2 == nsent);
}

/* Scenarios the simulator must refuse before it runs, each with the field named. */
static void test_sim_refused(void) {
    TwinSimReport *sentinel = (TwinSimReport *)&checks;
    TwinSimReport *r = sentinel;
    /* A battery with no capacity. */
    const char no_capacity[] =
        "{\"seed\": 1, \"horizon_s\": 600, \"gateways\": [{\"name\": \"gw0\"}],"
        " \"groups\": [{\"count\": 4, \"period_s\": 60, \"gateways\": [0],"
        "   \"energy\": {\"sleep_ma\": 0.01, \"tx_ma\": 20,"
        "     \"battery\": {\"model\": \"linear\", \"capacity_mah\": 0}}}]}";
    EXPECT_CODE(twin_sim_validate(no_capacity, strlen(no_capacity)), TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("groups[0].energy.battery.capacity_mah"));
    EXPECT_CODE(twin_sim_run(no_capacity, strlen(no_capacity), &r), TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("capacity_mah"));
    /* The same battery with 1000 mAh runs. */
    char with_capacity[sizeof no_capacity + 8];
    const char *zero = strstr(no_capacity, "\"capacity_mah\": 0");
    if (zero != NULL) {
        size_t head = (size_t)(zero - no_capacity) + strlen("\"capacity_mah\": ");
        snprintf(with_capacity, sizeof with_capacity, "%.*s1000%s", (int)head, no_capacity,
                 no_capacity + head + 1);
        EXPECT_CODE(twin_sim_validate(with_capacity, strlen(with_capacity)), TWIN_RESULT_OK);
    }
    /* Four billion devices: refused from the memory estimate, before anything is built. */
    const char huge[] =
        "{\"seed\": 1, \"horizon_s\": 600, \"gateways\": [{\"name\": \"gw0\"}],"
        " \"groups\": [{\"count\": 4000000000, \"period_s\": 60, \"gateways\": [0]}]}";
    EXPECT_CODE(twin_sim_run(huge, strlen(huge), &r), TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("limits.max_memory_bytes"));
    EXPECT_CODE(twin_sim_replicate(huge, strlen(huge), 2, 1, &r), TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("limits.max_memory_bytes"));
    /* 10^12 replications of a small scenario: refused, no crash. */
    EXPECT_CODE(twin_sim_replicate(SCENARIO, strlen(SCENARIO), (size_t)1000000000000ULL, 0, &r),
                TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("limits.max_memory_bytes"));
    EXPECT(last_error_contains("replications"));
    EXPECT_CODE(twin_sim_paired(SCENARIO, strlen(SCENARIO), SCENARIO, strlen(SCENARIO),
                                (size_t)1000000000000ULL, 0, &r),
                TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("limits.max_memory_bytes"));
    /* Devices attached to no gateway. */
    const char orphans[] =
        "{\"seed\": 1, \"horizon_s\": 600, \"gateways\": [{\"name\": \"gw0\"}],"
        " \"groups\": [{\"count\": 4, \"period_s\": 60, \"gateways\": []}]}";
    EXPECT_CODE(twin_sim_validate(orphans, strlen(orphans)), TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("groups[0].gateways"));
    EXPECT(last_error_contains("no gateway"));
    EXPECT_CODE(twin_sim_run(orphans, strlen(orphans), &r), TWIN_RESULT_INVALID_INPUT);
    /* A gateway that does not exist. */
    const char missing[] =
        "{\"seed\": 1, \"horizon_s\": 600, \"gateways\": [{\"name\": \"gw0\"}],"
        " \"groups\": [{\"count\": 4, \"period_s\": 60, \"gateways\": [3]}]}";
    EXPECT_CODE(twin_sim_run(missing, strlen(missing), &r), TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("gateway 3 does not exist"));
    EXPECT(r == sentinel);
}

static const char EXACT[] = "{\"rate_spread\": 0, \"wear_sd\": 0, \"process_sd\": 0}";
/* 40 days in steps of a day, 3 paths. */
static const char WHAT_IF[] =
    "{\"horizon_s\": 3456000, \"step_s\": 86400, \"monte_carlo\": {\"paths\": 3, \"seed\": 1}}";

static void test_what_if(void) {
    TwinTwin *t = NULL;
    EXPECT_CODE(twin_twin_new_conveyor(NULL, 0, EXACT, strlen(EXACT), &t), TWIN_RESULT_OK);
    if (t == NULL) {
        return;
    }
    TwinWhatIf *w = NULL;
    EXPECT_CODE(twin_twin_what_if(t, WHAT_IF, strlen(WHAT_IF), &w), TWIN_RESULT_OK);
    if (w != NULL) {
        /* A new bearing (w = 0) at nominal duty: Euler on dw/dt = a (1 + 2 w) gives
         * 1 + 2 w_k = (1 + 2 a dt)^k, so it fails at the first k with (1 + 2 a dt)^k >= 3:
         * day 31, the value the Rust test asserts (the continuous law gives 30 days). */
        double a = log(3.0) / (2.0 * 30.0 * DAY);
        double k = ceil(log(3.0) / log1p(2.0 * a * DAY));
        EXPECT(k == 31.0);
        TwinWhatIfFailure f;
        EXPECT_CODE(twin_what_if_failure(w, &f), TWIN_RESULT_OK);
        EXPECT(f.paths == 3 && f.failed == 3 && f.probability == 1.0);
        EXPECT(fabs(f.first_s - k * DAY) < 1e-6 && fabs(f.mean_failed_s - k * DAY) < 1e-6);
        double q = 0.0;
        EXPECT_CODE(twin_what_if_failure_quantile(w, 0.5, &q), TWIN_RESULT_OK);
        EXPECT(fabs(q - k * DAY) < 1e-6);
        double times[3];
        size_t len = 0;
        EXPECT_CODE(twin_what_if_failure_times(w, times, 3, &len), TWIN_RESULT_OK);
        EXPECT(len == 3 && times[2] == times[0]);
        size_t points = 0;
        EXPECT_CODE(twin_what_if_points(w, &points), TWIN_RESULT_OK);
        EXPECT(points == 41);
        double p5[41], p95[41], ts[41];
        EXPECT_CODE(twin_what_if_quantile(w, "wear", 4, 0.05, p5, 41, &len), TWIN_RESULT_OK);
        EXPECT_CODE(twin_what_if_quantile(w, "wear", 4, 0.95, p95, 41, &len), TWIN_RESULT_OK);
        EXPECT_CODE(twin_what_if_times(w, ts, 41, &len), TWIN_RESULT_OK);
        EXPECT(len == 41 && ts[40] == 40.0 * DAY);
        double expect10 = (pow(1.0 + 2.0 * a * DAY, 10.0) - 1.0) / 2.0;
        EXPECT(fabs(p5[10] - expect10) < 1e-12 && p5[10] == p95[10]);
        EXPECT(p5[0] == 0.0 && p5[40] == 1.0);
        /* A level the scenario did not ask for, an unknown variable. */
        EXPECT_CODE(twin_what_if_quantile(w, "wear", 4, 0.25, p5, 41, &len), TWIN_RESULT_NOT_FOUND);
        EXPECT_CODE(twin_what_if_mean(w, "heat", 4, p5, 41, &len), TWIN_RESULT_UNKNOWN_SIGNAL);
        EXPECT(p5[0] == 0.0);
        char name[16];
        EXPECT_CODE(twin_what_if_variable_name(w, 0, name, sizeof name, &len), TWIN_RESULT_OK);
        EXPECT(strcmp(name, "wear") == 0);
        twin_what_if_free(w);
    }
    /* Monte Carlo: with the default uncertainty the 5 % and 95 % bands part. */
    TwinTwin *u = NULL;
    EXPECT_CODE(twin_twin_new_conveyor(NULL, 0, NULL, 0, &u), TWIN_RESULT_OK);
    const char mc[] =
        "{\"horizon_s\": 3456000, \"step_s\": 86400, \"monte_carlo\": {\"paths\": 200, \"seed\": 5}}";
    TwinWhatIf *m = NULL;
    EXPECT_CODE(twin_twin_what_if(u, mc, strlen(mc), &m), TWIN_RESULT_OK);
    if (m != NULL) {
        double p5[41], p95[41];
        size_t len = 0;
        EXPECT_CODE(twin_what_if_quantile(m, "wear", 4, 0.05, p5, 41, &len), TWIN_RESULT_OK);
        EXPECT_CODE(twin_what_if_quantile(m, "wear", 4, 0.95, p95, 41, &len), TWIN_RESULT_OK);
        EXPECT(p5[20] < p95[20]);
        twin_what_if_free(m);
    }
    twin_twin_free(u);
    /* Derate to reach a window 40 days away: ln 3 / (2 a (v / 2)^2) >= 40 days gives
     * v <= 2 sqrt(30 / 40) = 1.732 m/s, to the one-day step. */
    const char query[] =
        "{\"scenario\": {\"horizon_s\": 3456000, \"step_s\": 86400, \"monte_carlo\": {\"paths\": 1}},"
        " \"input\": \"speed_setpoint\", \"lo\": 0.5, \"hi\": 2.0, \"confidence\": 0.9}";
    TwinSetpointAdvice advice = {-1.0, -1.0, -1.0, 0};
    EXPECT_CODE(twin_twin_survive_window(t, query, strlen(query), &advice), TWIN_RESULT_OK);
    double bound = 2.0 * sqrt(30.0 / 40.0);
    EXPECT(advice.value <= bound * 1.02 && advice.value >= bound * 0.97);
    EXPECT(advice.survival == 1.0 && advice.survival_at_hi == 0.0);
    /* Advise and act: the derated speed goes through the command gate and is queued; a
     * second one 0.1 s later breaks the command's 1 s minimum interval and is refused. */
    TwinSetpointAdvice acted = {-1.0, -1.0, -1.0, 0};
    EXPECT_CODE(twin_twin_advise_survival(t, query, strlen(query), "set_speed", 9, 0, &acted),
                TWIN_RESULT_OK);
    EXPECT(acted.value == advice.value);
    size_t pending = 0;
    EXPECT_CODE(twin_twin_pending_command_count(t, &pending), TWIN_RESULT_OK);
    EXPECT(pending == 1);
    EXPECT_CODE(twin_twin_advise_survival(t, query, strlen(query), "set_speed", 9, 100000000, &acted),
                TWIN_RESULT_RATE_LIMITED);
    EXPECT_CODE(twin_twin_pending_command_count(t, &pending), TWIN_RESULT_OK);
    EXPECT(pending == 1 && acted.value == advice.value);
    /* Bad scenarios: an unknown input, a negative horizon; *out untouched. */
    TwinWhatIf *sentinel = (TwinWhatIf *)&checks;
    TwinWhatIf *out = sentinel;
    const char unknown[] = "{\"horizon_s\": 100, \"step_s\": 10,"
                           " \"inputs\": {\"torque\": {\"kind\": \"constant\", \"value\": 1}}}";
    EXPECT_CODE(twin_twin_what_if(t, unknown, strlen(unknown), &out), TWIN_RESULT_UNKNOWN_SIGNAL);
    EXPECT(last_error_contains("torque"));
    const char negative[] = "{\"horizon_s\": -100, \"step_s\": 10}";
    EXPECT_CODE(twin_twin_what_if(t, negative, strlen(negative), &out), TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("horizon"));
    EXPECT(out == sentinel);
    twin_twin_free(t);
    /* A twin made by twin_twin_new has no model to run forward. */
    const char schema_json[] =
        "{\"name\": \"pump\", \"telemetry\": [{\"name\": \"flow\", \"unit\": \"m3/h\"}]}";
    TwinSchema *schema = NULL;
    EXPECT_CODE(twin_schema_from_json(schema_json, strlen(schema_json), &schema), TWIN_RESULT_OK);
    TwinTwin *plain = NULL;
    EXPECT_CODE(twin_twin_new(schema, &plain), TWIN_RESULT_OK);
    EXPECT_CODE(twin_twin_what_if(plain, WHAT_IF, strlen(WHAT_IF), &out), TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("no digital model"));
    EXPECT(out == sentinel);
    twin_twin_free(plain);
    twin_schema_free(schema);
    /* A thermal mass by name (R = 0.05 K/W, C = 20000 J/K, 25 C ambient) heated with 2 kW:
     * T(t) = 125 - 100 exp(-t / 1000 s) reaches its 90 C limit at 1000 ln(1 / 0.35) =
     * 1049.8 s, so with 10 s steps the deterministic run fails at 1050 s. */
    TwinTwin *th = NULL;
    EXPECT_CODE(twin_twin_new_model("thermal", 7, NULL, 0, &th), TWIN_RESULT_OK);
    const char heat[] = "{\"horizon_s\": 2000, \"step_s\": 10,"
                        " \"inputs\": {\"power\": {\"kind\": \"constant\", \"value\": 2000}},"
                        " \"monte_carlo\": {\"paths\": 2, \"parameter_uncertainty\": 0,"
                        " \"process_noise\": 0}}";
    TwinWhatIf *hw = NULL;
    EXPECT_CODE(twin_twin_what_if(th, heat, strlen(heat), &hw), TWIN_RESULT_OK);
    if (hw != NULL) {
        TwinWhatIfFailure f;
        EXPECT_CODE(twin_what_if_failure(hw, &f), TWIN_RESULT_OK);
        EXPECT(f.failed == 2 && fabs(f.first_s - 1050.0) < 1e-6);
        EXPECT(fabs(1000.0 * log(1.0 / 0.35) - 1049.8) < 0.05);
        twin_what_if_free(hw);
    }
    twin_twin_free(th);
    TwinTwin *bad = NULL;
    EXPECT_CODE(twin_twin_new_model("boiler", 6, NULL, 0, &bad), TWIN_RESULT_INVALID_INPUT);
    EXPECT(bad == NULL && last_error_contains("unknown model"));
    /* A bad design. */
    EXPECT_CODE(twin_twin_new_conveyor("{\"nominal_speed\": -2}", 21, NULL, 0, &bad),
                TWIN_RESULT_INVALID_INPUT);
    EXPECT(bad == NULL && last_error_contains("nominal_speed"));
}

static const char COSTS[] =
    "{\"corrective\": 2000, \"spare\": 800, \"downtime_per_hour\": 250,"
    " \"corrective_downtime_h\": 12, \"spare_lead_time_h\": 24,"
    " \"preventive\": 500, \"preventive_downtime_h\": 4}";

static void test_maintenance(void) {
    /* Exponential lives (shape 1, mean 1000 h): the renewal-reward cost rate in closed form,
     * C(T) = (Cp R + Cf F) / (eta F + dp R + df F), R = exp(-T / eta), F = 1 - R. */
    double eta = 1000.0 * HOUR;
    double cp = 500.0 + 800.0 + 250.0 * 4.0, dp = 4.0 * HOUR;
    double cf = 2000.0 + 800.0 + 250.0 * 36.0, df = 36.0 * HOUR;
    double rate = -1.0;
    EXPECT_CODE(twin_maintenance_age_replacement_cost_rate(1.0, eta, COSTS, strlen(COSTS), INFINITY,
                                                           &rate),
                TWIN_RESULT_OK);
    EXPECT(fabs(rate / (cf / (eta + df)) - 1.0) < 1e-12);
    double T = 500.0 * HOUR, R = exp(-T / eta), F = 1.0 - R;
    double closed = (cp * R + cf * F) / (eta * F + dp * R + df * F);
    EXPECT_CODE(twin_maintenance_age_replacement_cost_rate(1.0, eta, COSTS, strlen(COSTS), T, &rate),
                TWIN_RESULT_OK);
    EXPECT(fabs(rate / closed - 1.0) < 1e-9);
    /* Wear-out lives (shape 3): the optimal age beats run-to-failure. */
    TwinMaintenanceOptimum best = {-1.0, -1.0};
    EXPECT_CODE(twin_maintenance_optimise_age_replacement(3.0, eta, COSTS, strlen(COSTS),
                                                          10.0 * HOUR, 3000.0 * HOUR, 1.0, &best),
                TWIN_RESULT_OK);
    double rtf = -1.0;
    EXPECT_CODE(twin_maintenance_age_replacement_cost_rate(3.0, eta, COSTS, strlen(COSTS), INFINITY,
                                                           &rtf),
                TWIN_RESULT_OK);
    EXPECT(best.parameter > 100.0 * HOUR && best.parameter < 1000.0 * HOUR);
    EXPECT(best.cost_rate < rtf);
    EXPECT_CODE(twin_maintenance_age_replacement_cost_rate(3.0, eta, COSTS, strlen(COSTS),
                                                           best.parameter, &rate),
                TWIN_RESULT_OK);
    EXPECT(rate == best.cost_rate);
    /* Infeasible: a failure probability of 1e-12 cannot be met above 10 h; nothing written. */
    TwinMaintenanceOptimum kept = best;
    EXPECT_CODE(twin_maintenance_optimise_age_replacement(3.0, eta, COSTS, strlen(COSTS),
                                                          10.0 * HOUR, 3000.0 * HOUR, 1e-12, &best),
                TWIN_RESULT_INVALID_INPUT);
    EXPECT(last_error_contains("infeasible"));
    EXPECT(best.parameter == kept.parameter && best.cost_rate == kept.cost_rate);
    /* A fleet: periodic replacement at half the characteristic life cuts failures. */
    const char rtf_req[] =
        "{\"policy\": {\"kind\": \"run_to_failure\"},"
        " \"degradation\": {\"kind\": \"weibull\", \"shape\": 3, \"scale\": 3600000},"
        " \"fleet\": {\"units\": 20, \"horizon_s\": 36000000, \"seed\": 1}}";
    const char pm_req[] =
        "{\"policy\": {\"kind\": \"periodic\", \"interval_s\": 1800000},"
        " \"degradation\": {\"kind\": \"weibull\", \"shape\": 3, \"scale\": 3600000},"
        " \"fleet\": {\"units\": 20, \"horizon_s\": 36000000, \"seed\": 1}}";
    TwinMaintenanceReport a, b;
    EXPECT_CODE(twin_maintenance_evaluate(rtf_req, strlen(rtf_req), &a), TWIN_RESULT_OK);
    EXPECT_CODE(twin_maintenance_evaluate(pm_req, strlen(pm_req), &b), TWIN_RESULT_OK);
    EXPECT(a.preventive == 0 && a.failures > 100);
    EXPECT(b.failures * 2 < a.failures && b.preventive > 0 && b.cost < a.cost);
    EXPECT(a.spares == a.failures + a.preventive);
    EXPECT(fabs(a.cost_rate - a.cost / (20.0 * 36000000.0)) <= 1e-15 * a.cost_rate);
    /* A condition-based policy needs an observable condition: refused. */
    const char cbm_req[] =
        "{\"policy\": {\"kind\": \"condition_based\", \"threshold\": 0.8,"
        " \"inspection_interval_s\": 3600},"
        " \"degradation\": {\"kind\": \"weibull\", \"shape\": 3, \"scale\": 3600000},"
        " \"fleet\": {\"units\": 20, \"horizon_s\": 36000000, \"seed\": 1}}";
    TwinMaintenanceReport c = a;
    EXPECT_CODE(twin_maintenance_evaluate(cbm_req, strlen(cbm_req), &c), TWIN_RESULT_INVALID_INPUT);
    EXPECT(c.failures == a.failures);
}

int main(void) {
    test_sim_run();
    test_sim_many();
    test_sim_bad();
    test_sim_sweep();
    test_sim_network();
    test_sim_refused();
    test_what_if();
    test_maintenance();
    printf("test_sim: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
