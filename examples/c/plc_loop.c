/*
 * plc_loop.c: a PLC-style scan loop around a conveyor-drive twin, with the fieldbus behind a
 * TwinConnection (a table of C callbacks) so that twin_twin_step reads the sensors and
 * writes the actuator in one call per scan.
 *
 * Build and run, from the repository root (static library; no install needed):
 *   cargo build --release -p twin-ffi
 *   cc -std=c11 -Iinclude examples/c/plc_loop.c target/release/libtwin.a -lpthread -ldl -lm -o plc_loop && ./plc_loop
 * or, with libtwin installed by scripts/install-c.sh PREFIX:
 *   cc -std=c11 examples/c/plc_loop.c $(pkg-config --cflags --libs twin) -o plc_loop
 *
 * The plant: a belt whose speed follows its set-point with a 2 s lag, and whose vibration
 * grows with the square of the speed. At t = 60 s a bearing starts to fail and vibration
 * jumps by a factor 2.6, above the 4.5 mm/s alarm limit. The PLC program reacts to the
 * twin's vibration alarm by derating the belt towards 1.0 m/s, one command per second at
 * the 0.05 m/s per second the schema allows; the twin validates every command and the
 * fieldbus delivers it to the drive. The program exits 0 only if the alarm was raised,
 * the derate brought vibration back under the limit and every count reconciles.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twin.h"

static const char CONVEYOR_SCHEMA[] =
    "{\"name\": \"conveyor_drive\","
    " \"telemetry\": ["
    "  {\"name\": \"belt_speed\", \"unit\": \"m/s\", \"min\": 0.0, \"max\": 5.0, \"alarm_low\": 0.2},"
    "  {\"name\": \"vibration\", \"unit\": \"mm/s\", \"min\": 0.0, \"max\": 100.0, \"alarm_high\": 4.5},"
    "  {\"name\": \"motor_temp\", \"unit\": \"degC\", \"min\": -40.0, \"max\": 200.0, \"alarm_high\": 90.0},"
    "  {\"name\": \"load\", \"unit\": \"1\", \"min\": 0.0, \"max\": 2.0, \"alarm_high\": 1.2}],"
    " \"properties\": [{\"name\": \"speed_setpoint\", \"unit\": \"m/s\", \"min\": 0.0, \"max\": 3.0}],"
    " \"commands\": [{\"name\": \"set_speed\", \"unit\": \"m/s\", \"min\": 0.0, \"max\": 2.5,"
    "   \"max_rate\": 0.05, \"min_interval_s\": 1.0, \"property\": \"speed_setpoint\"}]}";

#define SEC INT64_C(1000000000)
#define SCAN_NS (SEC / 10) /* a 100 ms scan */
#define SCANS 1800         /* three minutes */
#define FAULT_SCAN 600     /* the bearing starts failing at t = 60 s */
#define CHANNELS 4

/* ---- the plant and its fieldbus ---- */

typedef struct Plant {
    double speed, setpoint, temp, load;
    int faulty;
    uint64_t rng;
    int64_t now_ns;
    /* The process image: the last scan's sensor values, not yet handed to the twin. */
    uint32_t ids[CHANNELS];
    double image[CHANNELS];
    int fresh;
    unsigned commands_applied;
} Plant;

/* Uniform in [-1, 1): a 64-bit linear congruential generator (Knuth's MMIX constants). */
static double noise(Plant *p) {
    p->rng = p->rng * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return (double)(p->rng >> 11) / 4503599627370496.0 - 1.0;
}

static double vibration_of(const Plant *p) {
    double base = 2.0 * (p->speed / 1.5) * (p->speed / 1.5);
    return base * (p->faulty ? 2.6 : 1.0);
}

/* One scan period of physics, then the sensors fill the process image. */
static void plant_scan(Plant *p, int scan) {
    double dt = (double)SCAN_NS / (double)SEC;
    p->now_ns = (int64_t)scan * SCAN_NS;
    p->faulty = scan >= FAULT_SCAN;
    p->speed += (p->setpoint - p->speed) * dt / 2.0;
    p->temp += ((40.0 + 10.0 * p->speed) - p->temp) * dt / 60.0;
    p->image[0] = p->speed + 0.005 * noise(p);
    p->image[1] = vibration_of(p) + 0.1 * noise(p);
    p->image[2] = p->temp + 0.2 * noise(p);
    p->image[3] = p->load + 0.01 * noise(p);
    p->fresh = 1;
}

/* TwinPollFn: hand the process image to the twin, once. */
static uint32_t bus_poll(void *user, int64_t *times, uint32_t *signals, double *values,
                         size_t capacity, size_t *written) {
    Plant *p = user;
    size_t n = 0;
    if (p->fresh) {
        for (; n < CHANNELS && n < capacity; n++) {
            times[n] = p->now_ns;
            signals[n] = p->ids[n];
            values[n] = p->image[n];
        }
        p->fresh = 0;
    }
    *written = n;
    return TWIN_RESULT_OK;
}

/* TwinSendFn: the drive takes the validated set-point. */
static uint32_t bus_send(void *user, const TwinCommand *command) {
    Plant *p = user;
    p->setpoint = command->value;
    p->commands_applied++;
    return TWIN_RESULT_OK;
}

/* ---- the PLC program ---- */

static void die(const char *what, TwinResult r) {
    char msg[512];
    size_t len = 0;
    if (twin_last_error_message(msg, sizeof msg, &len) != TWIN_RESULT_OK) {
        msg[0] = '\0';
    }
    fprintf(stderr, "%s: %s: %s\n", what, twin_result_message(r), msg);
    exit(1);
}

#define CHECK(call)                          \
    do {                                     \
        TwinResult check_r_ = (call);        \
        if (check_r_ != TWIN_RESULT_OK) {    \
            die(#call, check_r_);            \
        }                                    \
    } while (0)

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

    Plant plant = {.speed = 1.5, .setpoint = 1.5, .temp = 55.0, .load = 0.8, .rng = 42};
    const char *names[CHANNELS] = {"belt_speed", "vibration", "motor_temp", "load"};
    for (int i = 0; i < CHANNELS; i++) {
        plant.ids[i] = signal_id(schema, names[i]);
    }
    const uint32_t vibration = plant.ids[1];
    TwinConnection bus = {.user_data = &plant, .poll = bus_poll, .send = bus_send};

    const double derate_target = 1.0, step = 0.05;
    int derating = 0, alarm_scan = -1, cleared_scan = -1;
    double commanded = plant.setpoint;
    int64_t last_command_ns = -SEC; /* no command yet */
    unsigned insights_by_kind[8] = {0}, refused_commands = 0;
    size_t polled = 0, accepted = 0, sent = 0;

    for (int scan = 0; scan < SCANS; scan++) {
        plant_scan(&plant, scan);
        TwinStepReport report;
        CHECK(twin_twin_step(twin, &bus, 64, &report));
        polled += report.polled;
        accepted += report.accepted;
        sent += report.sent;

        /* React to what the twin found. */
        TwinInsight found[16];
        size_t n = 0;
        do {
            CHECK(twin_twin_drain_insights(twin, found, 16, &n));
            for (size_t i = 0; i < n; i++) {
                insights_by_kind[found[i].kind < 8 ? found[i].kind : 0]++;
                if (found[i].signal != vibration) {
                    continue;
                }
                if (found[i].kind == TWIN_INSIGHT_KIND_ALARM_HIGH && !derating) {
                    derating = 1;
                    alarm_scan = scan;
                    printf("t=%6.1f s  vibration alarm at %.2f mm/s: derating to %.2f m/s\n",
                           (double)found[i].time_ns / (double)SEC, found[i].value,
                           derate_target);
                } else if (found[i].kind == TWIN_INSIGHT_KIND_ALARM_CLEARED) {
                    cleared_scan = scan;
                    printf("t=%6.1f s  vibration back under the limit (%.2f mm/s)\n",
                           (double)found[i].time_ns / (double)SEC, found[i].value);
                }
            }
        } while (n == 16);

        /* While derating: one step down per second, as fast as the schema allows. */
        if (derating && commanded > derate_target + 1e-9 &&
            plant.now_ns - last_command_ns >= SEC) {
            double next = commanded - step < derate_target ? derate_target : commanded - step;
            TwinResult r = twin_twin_command(twin, "set_speed", 9, next, plant.now_ns);
            if (r == TWIN_RESULT_OK) {
                commanded = next;
                last_command_ns = plant.now_ns;
            } else if (r == TWIN_RESULT_RATE_LIMITED || r == TWIN_RESULT_OUT_OF_RANGE) {
                refused_commands++; /* retried at the next scan */
            } else {
                die("twin_twin_command", r);
            }
        }
    }
    /* The last commands leave with one final step. */
    TwinStepReport last;
    CHECK(twin_twin_step(twin, &bus, 64, &last));
    sent += last.sent;

    TwinCounters counters;
    CHECK(twin_twin_counters(twin, &counters));
    double final_vibration = vibration_of(&plant);
    printf("\n%-28s %10s\n", "", "value");
    printf("%-28s %10zu\n", "samples polled", polled);
    printf("%-28s %10zu\n", "samples accepted", accepted);
    printf("%-28s %10u\n", "alarm insights", insights_by_kind[TWIN_INSIGHT_KIND_ALARM_HIGH]);
    printf("%-28s %10u\n", "anomaly insights", insights_by_kind[TWIN_INSIGHT_KIND_ANOMALY]);
    printf("%-28s %10zu\n", "commands sent", sent);
    printf("%-28s %10u\n", "commands applied by drive", plant.commands_applied);
    printf("%-28s %10u\n", "commands refused (retried)", refused_commands);
    printf("%-28s %10.3f\n", "final belt speed (m/s)", plant.speed);
    printf("%-28s %10.3f\n", "final vibration (mm/s)", final_vibration);

    int ok = 1;
    ok &= polled == (size_t)SCANS * CHANNELS && accepted == polled;
    ok &= counters.accepted == accepted && counters.rejected == 0;
    ok &= alarm_scan >= FAULT_SCAN && alarm_scan < FAULT_SCAN + 5;
    ok &= cleared_scan > alarm_scan;
    ok &= sent == 10 && plant.commands_applied == 10 && counters.commands_taken == 10 &&
          counters.commands_send_failed == 0;
    ok &= plant.setpoint == derate_target && final_vibration < 4.5;
    twin_twin_free(twin);
    twin_schema_free(schema);
    if (!ok) {
        fprintf(stderr, "plc_loop: the scan loop did not behave as expected\n");
        return 1;
    }
    printf("plc_loop: ok\n");
    return 0;
}
