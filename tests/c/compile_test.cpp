// compile_test.cpp: include/twin.h compiles as C++ (extern "C", the enums with their fixed
// uint32_t type) and links. Built with g++ -std=c++17 -Wall -Wextra -Wpedantic -Werror by
// scripts/check-c.sh.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>

#include "twin.h"

static_assert(std::is_same<std::underlying_type<TwinResult>::type, uint32_t>::value,
              "TwinResult is a uint32_t enum in C++");
static_assert(sizeof(TwinResult) == 4, "TwinResult is 4 bytes");
static_assert(sizeof(TwinInsight) == 32, "TwinInsight has no hidden padding");
static_assert(std::is_same<std::underlying_type<TwinDetectorKind>::type, uint32_t>::value &&
                  std::is_same<std::underlying_type<TwinRulKind>::type, uint32_t>::value &&
                  std::is_same<std::underlying_type<TwinFilterKind>::type, uint32_t>::value &&
                  std::is_same<std::underlying_type<TwinTimeDomain>::type, uint32_t>::value,
              "the analytics kinds are uint32_t enums in C++");

struct SchemaDeleter {
    void operator()(TwinSchema *s) const { twin_schema_free(s); }
};
struct TwinDeleter {
    void operator()(TwinTwin *t) const { twin_twin_free(t); }
};
struct DetectorDeleter {
    void operator()(TwinDetector *d) const { twin_detector_free(d); }
};
struct WeibullDeleter {
    void operator()(TwinWeibull *w) const { twin_weibull_free(w); }
};
struct SimReportDeleter {
    void operator()(TwinSimReport *r) const { twin_sim_report_free(r); }
};
struct WhatIfDeleter {
    void operator()(TwinWhatIf *w) const { twin_what_if_free(w); }
};

// Simulation, what-if and maintenance from C++: a lossless scenario delivers or has in
// flight every report, a deterministic conveyor what-if fails on day 31, an infeasible
// optimisation is refused.
static bool sim_and_what_if_from_cpp() {
    const std::string scenario = R"({"horizon_s": 600, "gateways": [{"name": "gw"}],
        "groups": [{"count": 2, "period_s": 60, "gateways": [0]}]})";
    TwinSimReport *raw_report = nullptr;
    if (twin_sim_run(scenario.data(), scenario.size(), &raw_report) != TWIN_RESULT_OK) {
        return false;
    }
    std::unique_ptr<TwinSimReport, SimReportDeleter> report(raw_report);
    TwinSimSummary s{};
    if (twin_sim_report_summary(report.get(), 0, &s) != TWIN_RESULT_OK || s.reports != 20 ||
        s.delivered + s.in_flight != 20) {
        return false;
    }
    const std::string exact = R"({"rate_spread": 0, "wear_sd": 0, "process_sd": 0})";
    TwinTwin *raw_twin = nullptr;
    if (twin_twin_new_conveyor(nullptr, 0, exact.data(), exact.size(), &raw_twin) !=
        TWIN_RESULT_OK) {
        return false;
    }
    std::unique_ptr<TwinTwin, TwinDeleter> twin(raw_twin);
    const std::string what_if = R"({"horizon_s": 3456000, "step_s": 86400})";
    TwinWhatIf *raw_w = nullptr;
    if (twin_twin_what_if(twin.get(), what_if.data(), what_if.size(), &raw_w) !=
        TWIN_RESULT_OK) {
        return false;
    }
    std::unique_ptr<TwinWhatIf, WhatIfDeleter> w(raw_w);
    TwinWhatIfFailure f{};
    if (twin_what_if_failure(w.get(), &f) != TWIN_RESULT_OK || f.failed != f.paths ||
        f.first_s != 31.0 * 86400.0) {
        return false;
    }
    TwinMaintenanceOptimum best{};
    return twin_maintenance_optimise_age_replacement(3.0, 3.6e6, nullptr, 0, 3.6e4, 1.08e7,
                                                     1e-12, &best) == TWIN_RESULT_INVALID_INPUT;
}

// The analytics handles from C++: a detector scores a batch, a Weibull gives its MTBF.
static bool analytics_from_cpp() {
    TwinDetector *raw_detector = nullptr;
    if (twin_detector_new(TWIN_DETECTOR_KIND_ENSEMBLE, nullptr, 0, &raw_detector) !=
        TWIN_RESULT_OK) {
        return false;
    }
    std::unique_ptr<TwinDetector, DetectorDeleter> detector(raw_detector);
    double values[3] = {1.0, 2.0, 3.0};
    TwinDetection out[3] = {};
    if (twin_detector_update_batch(detector.get(), values, 3, out, 3) != TWIN_RESULT_OK ||
        out[2].likelihood != 0.0) { // still warming up
        return false;
    }
    TwinWeibull *raw_weibull = nullptr;
    if (twin_weibull_new(1.0, 250.0, &raw_weibull) != TWIN_RESULT_OK) {
        return false;
    }
    std::unique_ptr<TwinWeibull, WeibullDeleter> weibull(raw_weibull);
    TwinWeibullParams p{};
    // the exponential's MTBF is its scale
    return twin_weibull_params(weibull.get(), &p) == TWIN_RESULT_OK && p.mtbf > 249.999999 &&
           p.mtbf < 250.000001 && p.fitted == 0;
}

int main() {
    const std::string json =
        R"({"name": "fan", "telemetry": [{"name": "rpm", "min": 0, "max": 3000}]})";
    TwinSchema *raw_schema = nullptr;
    if (twin_schema_from_json(json.data(), json.size(), &raw_schema) != TWIN_RESULT_OK) {
        std::fprintf(stderr, "schema refused: %s\n", twin_result_message(TWIN_RESULT_SCHEMA));
        return 1;
    }
    std::unique_ptr<TwinSchema, SchemaDeleter> schema(raw_schema);
    TwinTwin *raw_twin = nullptr;
    if (twin_twin_new(schema.get(), &raw_twin) != TWIN_RESULT_OK) {
        return 1;
    }
    std::unique_ptr<TwinTwin, TwinDeleter> twin(raw_twin);
    TwinResult r = twin_twin_ingest(twin.get(), 1, 0, 1200.0);
    TwinResult bad = twin_twin_ingest(twin.get(), 0, 0, 1200.0);
    switch (bad) {
    case TWIN_RESULT_OUT_OF_ORDER:
        break;
    default:
        std::fprintf(stderr, "expected out of order, got %s\n", twin_result_message(bad));
        return 1;
    }
    double v = 0.0;
    if (r != TWIN_RESULT_OK || twin_twin_reported(twin.get(), 0, &v) != TWIN_RESULT_OK ||
        v != 1200.0) {
        return 1;
    }
    if (!analytics_from_cpp()) {
        std::fprintf(stderr, "analytics from C++ failed\n");
        return 1;
    }
    if (!sim_and_what_if_from_cpp()) {
        std::fprintf(stderr, "simulation or what-if from C++ failed\n");
        return 1;
    }
    std::printf("compile_test: C++ sees libtwin %s\n", twin_version());
    return 0;
}
