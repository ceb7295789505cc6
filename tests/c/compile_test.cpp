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

struct SchemaDeleter {
    void operator()(TwinSchema *s) const { twin_schema_free(s); }
};
struct TwinDeleter {
    void operator()(TwinTwin *t) const { twin_twin_free(t); }
};

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
    std::printf("compile_test: C++ sees libtwin %s\n", twin_version());
    return 0;
}
