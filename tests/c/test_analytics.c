/*
 * test_analytics.c: every analytics model from C, on cases whose answers are known: a
 * Weibull fit recovering the parameters of a seeded censored sample, a Kalman filter
 * reaching the alpha-beta closed form on a constant-velocity target, detectors flagging an
 * injected spike at its index, PCA separating on- and off-factor points, a health index on
 * runs to failure, remaining life on a synthetic fleet with known exponential wear (the true
 * RUL inside the interval for most units), the battery's end of discharge, condition
 * features of a sine, band energies of a tone; save -> load -> identical predictions; and
 * bad input (wrong lengths, NaN in training data, corrupt or version-mismatched documents,
 * small buffers) giving its code and a message.
 *
 * Built and run by scripts/check-c.sh (gcc -std=c11 -Wall -Wextra -Wpedantic -Werror with
 * AddressSanitizer and UndefinedBehaviorSanitizer, then under valgrind). Exits non-zero on
 * any failed check.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twin.h"

static int checks = 0;
static int failures = 0;

#define EXPECT(cond)                                                                     \
    do {                                                                                 \
        checks++;                                                                        \
        if (!(cond)) {                                                                   \
            failures++;                                                                  \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
        }                                                                                \
    } while (0)

#define EXPECT_CODE(call, code)                                                          \
    do {                                                                                 \
        TwinResult got_ = (call);                                                        \
        checks++;                                                                        \
        if (got_ != (code)) {                                                            \
            failures++;                                                                  \
            fprintf(stderr, "%s:%d: %s gave %u (%s: %s), expected %s\n", __FILE__, __LINE__, \
                    #call, (unsigned)got_, twin_result_message(got_), last_error(), #code); \
        }                                                                                \
    } while (0)

/* The last error message of this thread, into a static buffer. */
static const char *last_error(void) {
    static char buf[1024];
    size_t len = 0;
    if (twin_last_error_message(buf, sizeof buf, &len) != TWIN_RESULT_OK) {
        return "<unreadable>";
    }
    return buf;
}

static int contains(const char *s, const char *part) { return strstr(s, part) != NULL; }

/* SplitMix64 uniforms in (0, 1) and Box-Muller normals: a seeded generator. */
typedef struct {
    uint64_t state;
} Rng;

static double uniform(Rng *r) {
    uint64_t z;
    r->state += UINT64_C(0x9E3779B97F4A7C15);
    z = r->state;
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(Rng *r) {
    double u = uniform(r), v = uniform(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* A saved model's JSON: size query, then a buffer of the right size (caller frees). */
static char *read_json(TwinResult (*to_json)(const void *, char *, size_t, size_t *),
                       const void *model) {
    size_t len = 0;
    char *buf;
    if (to_json(model, NULL, 0, &len) != TWIN_RESULT_OK) {
        return NULL;
    }
    buf = malloc(len + 1);
    if (buf == NULL) {
        return NULL;
    }
    /* one byte short: refused, nothing written */
    memset(buf, 'x', len + 1);
    EXPECT_CODE(to_json(model, buf, len, &len), TWIN_RESULT_BUFFER_TOO_SMALL);
    EXPECT(buf[0] == 'x');
    if (to_json(model, buf, len + 1, &len) != TWIN_RESULT_OK) {
        free(buf);
        return NULL;
    }
    EXPECT(strlen(buf) == len);
    return buf;
}

/* Adapters so each handle's _to_json fits one signature. */
static TwinResult weibull_json(const void *m, char *b, size_t c, size_t *l) {
    return twin_weibull_to_json((const TwinWeibull *)m, b, c, l);
}
static TwinResult detector_json(const void *m, char *b, size_t c, size_t *l) {
    return twin_detector_to_json((const TwinDetector *)m, b, c, l);
}
static TwinResult multivariate_json(const void *m, char *b, size_t c, size_t *l) {
    return twin_multivariate_to_json((const TwinMultivariate *)m, b, c, l);
}
static TwinResult health_json(const void *m, char *b, size_t c, size_t *l) {
    return twin_health_index_to_json((const TwinHealthIndex *)m, b, c, l);
}
static TwinResult rul_json(const void *m, char *b, size_t c, size_t *l) {
    return twin_rul_to_json((const TwinRulModel *)m, b, c, l);
}
static TwinResult estimator_json(const void *m, char *b, size_t c, size_t *l) {
    return twin_estimator_to_json((const TwinEstimator *)m, b, c, l);
}

/* Replace the first `from` by `to` in a malloc'ed string (returns a new string). */
static char *replace_once(const char *s, const char *from, const char *to) {
    const char *at = strstr(s, from);
    size_t n = strlen(s), f = strlen(from), t = strlen(to);
    char *out = malloc(n - f + t + 1);
    if (out == NULL || at == NULL) {
        free(out);
        return NULL;
    }
    memcpy(out, s, (size_t)(at - s));
    memcpy(out + (at - s), to, t);
    strcpy(out + (at - s) + t, at + f);
    return out;
}

/* Field-wise equality (structs may have padding, which memcmp would compare). */
static int same_weibull(const TwinWeibullParams *a, const TwinWeibullParams *b) {
    return a->shape == b->shape && a->scale == b->scale && a->mtbf == b->mtbf &&
           a->b10 == b->b10 && a->fitted == b->fitted && a->failures == b->failures &&
           a->suspensions == b->suspensions && a->log_likelihood == b->log_likelihood &&
           a->confidence == b->confidence && a->shape_lower == b->shape_lower &&
           a->shape_upper == b->shape_upper && a->scale_lower == b->scale_lower &&
           a->scale_upper == b->scale_upper;
}

static int same_detection(const TwinDetection *a, const TwinDetection *b) {
    return a->score == b->score && a->likelihood == b->likelihood && a->alarm == b->alarm;
}

static int same_score(const TwinMultivariateScore *a, const TwinMultivariateScore *b) {
    return a->statistic == b->statistic && a->likelihood == b->likelihood && a->t2 == b->t2 &&
           a->spe == b->spe && a->t2_likelihood == b->t2_likelihood &&
           a->spe_likelihood == b->spe_likelihood && a->alarm == b->alarm;
}

/* ---------- reliability ---------- */

static void test_weibull(void) {
    enum { N = 1000 };
    static double times[N];
    static uint8_t failed[N];
    const double k = 1.8, lambda = 500.0, censor = 700.0;
    Rng rng = {7};
    size_t i, suspended = 0;
    TwinWeibull *w = NULL, *back = NULL, *known = NULL;
    TwinWeibullParams p, q;
    double r = 0.0;
    char *json, *future;
    for (i = 0; i < N; i++) {
        double t = lambda * pow(-log(uniform(&rng)), 1.0 / k);
        failed[i] = t <= censor;
        times[i] = t <= censor ? t : censor;
        suspended += !failed[i];
    }
    EXPECT(suspended > 50); /* about exp(-(700/500)^1.8) = 12% are censored */
    EXPECT_CODE(twin_weibull_fit(times, N, failed, N, NULL, 0, &w), TWIN_RESULT_OK);
    if (w == NULL) {
        return;
    }
    EXPECT_CODE(twin_weibull_params(w, &p), TWIN_RESULT_OK);
    /* standard errors with 1000 units: about 0.05 on k and 10 on lambda */
    EXPECT(fabs(p.shape - k) < 0.15);
    EXPECT(fabs(p.scale - lambda) < 30.0);
    EXPECT(p.shape_lower < k && k < p.shape_upper);
    EXPECT(p.scale_lower < lambda && lambda < p.scale_upper);
    EXPECT(p.fitted == 1 && p.failures + p.suspensions == N && p.suspensions == suspended);
    EXPECT(fabs(p.mtbf - p.scale * tgamma(1.0 + 1.0 / p.shape)) < 1e-9 * p.mtbf);
    /* conditional reliability: R(t + x) / R(t) */
    EXPECT_CODE(twin_weibull_conditional_reliability(w, 300.0, 100.0, &r), TWIN_RESULT_OK);
    EXPECT(fabs(r - exp(pow(300.0 / p.scale, p.shape) - pow(400.0 / p.scale, p.shape))) < 1e-12);
    EXPECT_CODE(twin_weibull_reliability(w, p.scale, &r), TWIN_RESULT_OK);
    EXPECT(fabs(r - exp(-1.0)) < 1e-12);
    EXPECT_CODE(twin_weibull_quantile(w, 0.1, &r), TWIN_RESULT_OK);
    EXPECT(fabs(r - p.b10) < 1e-9);
    EXPECT_CODE(twin_weibull_hazard(w, 200.0, &r), TWIN_RESULT_OK);
    EXPECT(fabs(r - p.shape / p.scale * pow(200.0 / p.scale, p.shape - 1.0)) < 1e-12);
    /* a known exponential is memoryless */
    EXPECT_CODE(twin_weibull_new(1.0, 100.0, &known), TWIN_RESULT_OK);
    if (known != NULL) {
        double a = 0.0, b = 0.0;
        EXPECT_CODE(twin_weibull_conditional_reliability(known, 500.0, 20.0, &a), TWIN_RESULT_OK);
        EXPECT_CODE(twin_weibull_reliability(known, 20.0, &b), TWIN_RESULT_OK);
        EXPECT(fabs(a - b) < 1e-12);
        twin_weibull_free(known);
    }
    /* save -> load: the same distribution and fit summary */
    json = read_json(weibull_json, w);
    EXPECT(json != NULL && contains(json, "\"format\":\"twin.weibull\""));
    if (json != NULL) {
        EXPECT_CODE(twin_weibull_from_json(json, strlen(json), &back), TWIN_RESULT_OK);
        if (back != NULL) {
            EXPECT_CODE(twin_weibull_params(back, &q), TWIN_RESULT_OK);
            EXPECT(same_weibull(&p, &q));
            twin_weibull_free(back);
        }
        future = replace_once(json, "\"version\":1", "\"version\":2");
        back = (TwinWeibull *)&failures;
        EXPECT(future != NULL);
        if (future != NULL) {
            EXPECT_CODE(twin_weibull_from_json(future, strlen(future), &back),
                        TWIN_RESULT_SERIALIZATION);
            EXPECT(contains(last_error(), "version 2"));
            EXPECT(back == (TwinWeibull *)&failures);
            free(future);
        }
        free(json);
    }
    /* bad input: NaN, mismatched lengths, too few failures */
    times[3] = NAN;
    back = NULL;
    EXPECT_CODE(twin_weibull_fit(times, N, failed, N, NULL, 0, &back), TWIN_RESULT_NON_FINITE);
    EXPECT_CODE(twin_weibull_fit(times + 4, N - 4, failed, N - 5, NULL, 0, &back),
                TWIN_RESULT_INVALID_INPUT);
    EXPECT(contains(last_error(), "failure flags"));
    EXPECT_CODE(twin_weibull_fit(times, N, NULL, N, NULL, 0, &back), TWIN_RESULT_NULL_PARAMETER);
    EXPECT(back == NULL);
    twin_weibull_free(w);
    twin_weibull_free(NULL);
}

/* ---------- Kalman filter on a constant-velocity target ---------- */

static void test_kalman_alpha_beta(void) {
    /* DWPA model, T = 1, sigma_a = 0.5, sigma_v = 2: Kalata's index lambda = 0.25 gives
       the steady-state alpha-beta gains, and P11 = alpha sigma_v^2. */
    const double t = 1.0, sa = 0.5, sv = 2.0;
    const double f[4] = {1.0, t, 0.0, 1.0};
    const double h[2] = {1.0, 0.0};
    const double q[4] = {sa * sa * t * t * t * t / 4.0, sa * sa * t * t * t / 2.0,
                         sa * sa * t * t * t / 2.0, sa * sa * t * t};
    const double r[1] = {sv * sv};
    const double x0[2] = {0.0, 0.0};
    const double p0[4] = {100.0, 0.0, 0.0, 100.0};
    double lam = sa * t * t / sv, root = sqrt(lam * lam + 8.0 * lam);
    double alpha = -(lam * lam + 8.0 * lam - (lam + 4.0) * root) / 8.0;
    double beta = (lam * lam + 4.0 * lam - lam * root) / 4.0;
    TwinStateModel *model = NULL;
    TwinEstimator *kf = NULL, *back = NULL;
    Rng rng = {11};
    double x[2] = {10.0, -1.0}, mean[2], cov[4], cov2[4];
    double se = 0.0, raw = 0.0;
    size_t n = 0, k;
    char *json;
    EXPECT_CODE(twin_state_model_linear_new(2, 1, 0, TWIN_TIME_DOMAIN_DISCRETE, t, f, 4, NULL, 0,
                                            h, 2, NULL, 0, q, 4, r, 1, NULL, 0, 0.0, &model),
                TWIN_RESULT_OK);
    if (model == NULL) {
        return;
    }
    EXPECT_CODE(twin_estimator_new(model, TWIN_FILTER_KIND_KALMAN, x0, 2, p0, 4, NULL, 0, &kf),
                TWIN_RESULT_OK);
    twin_state_model_free(model); /* the estimator keeps its own copy */
    if (kf == NULL) {
        return;
    }
    for (k = 0; k < 3000; k++) {
        double a = sa * normal(&rng), z;
        x[0] += t * x[1] + a * t * t / 2.0;
        x[1] += a * t;
        z = x[0] + sv * normal(&rng);
        EXPECT_CODE(twin_estimator_predict(kf, NULL, 0, t), TWIN_RESULT_OK);
        EXPECT_CODE(twin_estimator_update(kf, &z, 1), TWIN_RESULT_OK);
        if (k >= 100) {
            EXPECT_CODE(twin_estimator_mean(kf, mean, 2, &n), TWIN_RESULT_OK);
            se += (mean[0] - x[0]) * (mean[0] - x[0]);
            raw += (z - x[0]) * (z - x[0]);
        }
    }
    EXPECT_CODE(twin_estimator_covariance(kf, cov, 4, &n), TWIN_RESULT_OK);
    EXPECT(n == 4);
    EXPECT(fabs(cov[0] - alpha * sv * sv) < 1e-9 * alpha * sv * sv);
    EXPECT(fabs(cov[1] - beta / t * sv * sv) < 1e-9 * beta * sv * sv);
    /* the errors have the variance the filter claims and beat the raw measurements */
    EXPECT(se / 2900.0 / cov[0] > 0.85 && se / 2900.0 / cov[0] < 1.15);
    EXPECT(se < 0.6 * raw);
    /* save -> load -> the same next estimate */
    json = read_json(estimator_json, kf);
    EXPECT(json != NULL);
    if (json != NULL) {
        double z = x[0];
        EXPECT_CODE(twin_estimator_from_json(json, strlen(json), &back), TWIN_RESULT_OK);
        free(json);
        if (back != NULL) {
            EXPECT_CODE(twin_estimator_predict(kf, NULL, 0, t), TWIN_RESULT_OK);
            EXPECT_CODE(twin_estimator_update(kf, &z, 1), TWIN_RESULT_OK);
            EXPECT_CODE(twin_estimator_predict(back, NULL, 0, t), TWIN_RESULT_OK);
            EXPECT_CODE(twin_estimator_update(back, &z, 1), TWIN_RESULT_OK);
            EXPECT_CODE(twin_estimator_covariance(kf, cov, 4, &n), TWIN_RESULT_OK);
            EXPECT_CODE(twin_estimator_covariance(back, cov2, 4, &n), TWIN_RESULT_OK);
            EXPECT(memcmp(cov, cov2, sizeof cov) == 0);
            twin_estimator_free(back);
        }
    }
    /* bad input leaves the estimate alone */
    {
        double before[2], after[2], bad = NAN, two[2] = {1.0, 2.0};
        EXPECT_CODE(twin_estimator_mean(kf, before, 2, &n), TWIN_RESULT_OK);
        EXPECT_CODE(twin_estimator_update(kf, &bad, 1), TWIN_RESULT_NON_FINITE);
        EXPECT_CODE(twin_estimator_update(kf, two, 2), TWIN_RESULT_INVALID_INPUT);
        EXPECT_CODE(twin_estimator_predict(kf, NULL, 0, 0.5), TWIN_RESULT_INVALID_INPUT);
        EXPECT_CODE(twin_estimator_mean(kf, after, 1, &n), TWIN_RESULT_BUFFER_TOO_SMALL);
        EXPECT_CODE(twin_estimator_mean(kf, after, 2, &n), TWIN_RESULT_OK);
        EXPECT(memcmp(before, after, sizeof before) == 0);
    }
    twin_estimator_free(kf);
}

/* The unscented and particle filters on the same target reach the truth too. */
static void test_other_filters(void) {
    const double f[4] = {1.0, 1.0, 0.0, 1.0};
    const double h[2] = {1.0, 0.0};
    const double q[4] = {0.0625, 0.125, 0.125, 0.25};
    const double r[1] = {4.0};
    const double x0[2] = {0.0, 0.0};
    const double p0[4] = {100.0, 0.0, 0.0, 100.0};
    const char *pf_cfg = "{\"particles\": 1000, \"seed\": 5}";
    unsigned kinds[2] = {TWIN_FILTER_KIND_UNSCENTED, TWIN_FILTER_KIND_PARTICLE};
    TwinStateModel *model = NULL;
    size_t k, t, n = 0;
    EXPECT_CODE(twin_state_model_linear_new(2, 1, 0, TWIN_TIME_DOMAIN_DISCRETE, 1.0, f, 4, NULL, 0,
                                            h, 2, NULL, 0, q, 4, r, 1, NULL, 0, 0.0, &model),
                TWIN_RESULT_OK);
    if (model == NULL) {
        return;
    }
    for (k = 0; k < 2; k++) {
        TwinEstimator *e = NULL;
        TwinFilterKind kind;
        size_t states = 0, inputs = 9, outputs = 0;
        double mean[2];
        const char *cfg = k == 1 ? pf_cfg : NULL;
        EXPECT_CODE(twin_estimator_new(model, kinds[k], x0, 2, p0, 4, cfg, cfg ? strlen(cfg) : 0,
                                       &e),
                    TWIN_RESULT_OK);
        if (e == NULL) {
            continue;
        }
        EXPECT_CODE(twin_estimator_info(e, &kind, &states, &inputs, &outputs), TWIN_RESULT_OK);
        EXPECT(kind == kinds[k] && states == 2 && inputs == 0 && outputs == 1);
        /* truth x = 10 - t, measured exactly */
        for (t = 1; t <= 60; t++) {
            double z = 10.0 - (double)t;
            EXPECT_CODE(twin_estimator_predict(e, NULL, 0, 1.0), TWIN_RESULT_OK);
            EXPECT_CODE(twin_estimator_update(e, &z, 1), TWIN_RESULT_OK);
        }
        EXPECT_CODE(twin_estimator_mean(e, mean, 2, &n), TWIN_RESULT_OK);
        EXPECT(fabs(mean[0] + 50.0) < 1.0 && fabs(mean[1] + 1.0) < 0.1);
        twin_estimator_free(e);
    }
    twin_state_model_free(model);
}

/* ---------- battery: UKF tracking and end of discharge ---------- */

static void test_battery(void) {
    const double pn[4] = {0.25, 0.25, 0.25, 0.25};
    const double mn[2] = {2.0, 0.02};
    const double u[1] = {2.0};
    double x[4], next[4], z[2], p0[16], mean[4];
    TwinStateModel *battery = NULL;
    TwinEstimator *ukf = NULL;
    TwinTimeOfEvent toe;
    static double samples[50];
    const char *cfg = "{\"samples\": 50, \"horizon\": 10000.0, \"seed\": 7}";
    size_t n = 0, i, k;
    EXPECT_CODE(twin_state_model_battery_new(NULL, 0, pn, 4, mn, 2, &battery), TWIN_RESULT_OK);
    if (battery == NULL) {
        return;
    }
    EXPECT_CODE(twin_state_model_initial_state(battery, x, 4, &n), TWIN_RESULT_OK);
    EXPECT(n == 4 && x[2] == 0.0 && x[3] == 0.0);
    memset(p0, 0, sizeof p0);
    for (i = 0; i < 4; i++) {
        p0[i * 5] = 1e-2;
    }
    EXPECT_CODE(twin_estimator_new(battery, TWIN_FILTER_KIND_UNSCENTED, x, 4, p0, 16, NULL, 0,
                                   &ukf),
                TWIN_RESULT_OK);
    if (ukf == NULL) {
        twin_state_model_free(battery);
        return;
    }
    /* track a battery drawing 2 A for 100 s from its noise-free outputs */
    for (k = 0; k < 100; k++) {
        EXPECT_CODE(twin_state_model_step(battery, x, 4, u, 1, 1.0, next, 4), TWIN_RESULT_OK);
        memcpy(x, next, sizeof x);
        EXPECT_CODE(twin_state_model_output(battery, x, 4, u, 1, z, 2), TWIN_RESULT_OK);
        EXPECT_CODE(twin_estimator_predict(ukf, u, 1, 1.0), TWIN_RESULT_OK);
        EXPECT_CODE(twin_estimator_update(ukf, z, 2), TWIN_RESULT_OK);
    }
    EXPECT_CODE(twin_estimator_mean(ukf, mean, 4, &n), TWIN_RESULT_OK);
    EXPECT(fabs(mean[1] - x[1]) < 5.0); /* charge qb, in coulombs */
    /* end of discharge at 2 A: about 3703 s (ProgPy's figure for this battery) */
    EXPECT_CODE(twin_estimator_time_of_event(ukf, u, 1, cfg, strlen(cfg), samples, 50, &toe),
                TWIN_RESULT_OK);
    EXPECT(toe.samples == 50 && toe.reached == 50 && toe.fraction_reached == 1.0);
    EXPECT(fabs(toe.median - 3703.0) < 40.0);
    EXPECT(toe.p05 <= toe.median && toe.median <= toe.p95 && toe.std_dev > 0.0);
    for (i = 0; i < 50; i++) {
        EXPECT(samples[i] > 3000.0 && samples[i] < 4500.0);
    }
    /* a buffer too small is refused before the run */
    EXPECT_CODE(twin_estimator_time_of_event(ukf, u, 1, cfg, strlen(cfg), samples, 49, &toe),
                TWIN_RESULT_BUFFER_TOO_SMALL);
    twin_estimator_free(ukf);
    twin_state_model_free(battery);
}

/* ---------- detectors ---------- */

static void test_detectors(void) {
    enum { N = 3000, SPIKE = 2500 };
    static double xs[N];
    static TwinDetection det[N];
    Rng rng = {42};
    unsigned kinds[3] = {TWIN_DETECTOR_KIND_EWMA, TWIN_DETECTOR_KIND_ROBUST_Z,
                         TWIN_DETECTOR_KIND_ENSEMBLE};
    size_t i, k;
    for (i = 0; i < N; i++) {
        xs[i] = 10.0 + 0.5 * normal(&rng) + (i == SPIKE ? 8.0 : 0.0);
    }
    for (k = 0; k < 3; k++) {
        TwinDetector *d = NULL, *back = NULL;
        TwinDetectorKind kind;
        size_t first = N, alarms = 0; /* first alarm from 2000 on */
        char *json;
        EXPECT_CODE(twin_detector_new(kinds[k], NULL, 0, &d), TWIN_RESULT_OK);
        if (d == NULL) {
            continue;
        }
        EXPECT_CODE(twin_detector_kind(d, &kind), TWIN_RESULT_OK);
        EXPECT(kind == kinds[k]);
        EXPECT_CODE(twin_detector_update_batch(d, xs, SPIKE, det, N), TWIN_RESULT_OK);
        /* save just before the spike; the loaded copy sees it exactly as the original */
        json = read_json(detector_json, d);
        EXPECT(json != NULL);
        if (json != NULL) {
            EXPECT_CODE(twin_detector_from_json(json, strlen(json), &back), TWIN_RESULT_OK);
            free(json);
        }
        EXPECT_CODE(twin_detector_update_batch(d, xs + SPIKE, N - SPIKE, det + SPIKE, N - SPIKE),
                    TWIN_RESULT_OK);
        if (back != NULL) {
            static TwinDetection again[N - SPIKE];
            EXPECT_CODE(twin_detector_update_batch(back, xs + SPIKE, N - SPIKE, again, N - SPIKE),
                        TWIN_RESULT_OK);
            for (i = 0; i < N - SPIKE; i++) {
                EXPECT(same_detection(&again[i], &det[SPIKE + i]));
            }
            twin_detector_free(back);
        }
        for (i = 500; i < N; i++) {
            EXPECT(det[i].likelihood >= 0.0 && det[i].likelihood <= 1.0);
            if (det[i].alarm) {
                alarms++;
                if (i >= 2000 && first == N) {
                    first = i;
                }
            }
        }
        EXPECT(det[SPIKE].alarm == 1 && det[SPIKE].likelihood > 0.999);
        /* the spike is the most unusual value of the series, and by far (|z| about 16) */
        EXPECT(first <= SPIKE);
        for (i = 500; i < N; i++) {
            EXPECT(i == SPIKE || det[i].likelihood < det[SPIKE].likelihood);
        }
        EXPECT(alarms <= 12);   /* about 0.1% false alarms per member on 2,500 normal values */
        twin_detector_free(d);
    }
    /* Half-Space Trees on points: normal on the diagonal, an alarm off it */
    {
        TwinDetector *d = NULL;
        TwinDetection one;
        const char *cfg = "{\"dim\": 2, \"seed\": 3}";
        size_t dim = 0;
        unsigned j;
        EXPECT_CODE(twin_detector_new(TWIN_DETECTOR_KIND_HST, cfg, strlen(cfg), &d),
                    TWIN_RESULT_OK);
        if (d != NULL) {
            EXPECT_CODE(twin_detector_dim(d, &dim), TWIN_RESULT_OK);
            EXPECT(dim == 2);
            for (j = 0; j < 3000; j++) {
                double a = (double)((j * 7919u) % 997u) / 997.0, pt[2];
                pt[0] = a;
                pt[1] = a;
                EXPECT_CODE(twin_detector_update_vector(d, pt, 2, &one), TWIN_RESULT_OK);
            }
            {
                const double on[2] = {0.5, 0.5}, off[2] = {0.9, 0.1};
                EXPECT_CODE(twin_detector_update_vector(d, on, 2, &one), TWIN_RESULT_OK);
                EXPECT(one.alarm == 0);
                EXPECT_CODE(twin_detector_update_vector(d, off, 2, &one), TWIN_RESULT_OK);
                EXPECT(one.alarm == 1);
                EXPECT_CODE(twin_detector_update(d, 0.5, &one), TWIN_RESULT_INVALID_INPUT);
            }
            twin_detector_free(d);
        }
    }
    /* settings: merged over the defaults, typos and bad values refused */
    {
        TwinDetector *d = NULL;
        const char *ok = "{\"threshold\": 0.995}";
        const char *typo = "{\"treshold\": 0.995}";
        const char *bad = "{\"threshold\": 1.5}";
        const char *h = "{\"h\": 5.0}";
        EXPECT_CODE(twin_detector_new(TWIN_DETECTOR_KIND_CUSUM, h, strlen(h), &d),
                    TWIN_RESULT_INVALID_INPUT); /* CUSUM is set by k and a likelihood */
        EXPECT_CODE(twin_detector_new(TWIN_DETECTOR_KIND_EWMA, typo, strlen(typo), &d),
                    TWIN_RESULT_INVALID_INPUT);
        EXPECT(contains(last_error(), "unknown setting `treshold`"));
        EXPECT_CODE(twin_detector_new(TWIN_DETECTOR_KIND_EWMA, bad, strlen(bad), &d),
                    TWIN_RESULT_INVALID_INPUT);
        EXPECT_CODE(twin_detector_new(99, NULL, 0, &d), TWIN_RESULT_INVALID_INPUT);
        EXPECT(d == NULL);
        EXPECT_CODE(twin_detector_new(TWIN_DETECTOR_KIND_EWMA, ok, strlen(ok), &d), TWIN_RESULT_OK);
        EXPECT_CODE(twin_detector_update_batch(d, xs, 10, det, 9), TWIN_RESULT_BUFFER_TOO_SMALL);
        twin_detector_free(d);
    }
}

/* Three variables driven by one factor, plus noise, row-major. */
static void factor_rows(double *out, size_t rows, uint64_t seed) {
    Rng rng = {seed};
    size_t i;
    for (i = 0; i < rows; i++) {
        double f = normal(&rng);
        out[3 * i] = f + 0.05 * normal(&rng);
        out[3 * i + 1] = 2.0 * f + 0.05 * normal(&rng);
        out[3 * i + 2] = -f + 0.05 * normal(&rng);
    }
}

static void test_multivariate(void) {
    static double data[500 * 3];
    const double rows[6] = {0.5, 1.0, -0.5, 0.5, -1.0, -0.5};
    const char *cfg = "{\"components\": {\"fixed\": 1}}";
    TwinMultivariate *pca = NULL, *back = NULL;
    TwinMultivariateScore s[2], s2[2];
    TwinMultivariateKind kind;
    size_t cols = 0;
    char *json;
    factor_rows(data, 500, 3);
    EXPECT_CODE(twin_multivariate_fit(TWIN_MULTIVARIATE_KIND_PCA, data, 1500, 500, 3, cfg,
                                      strlen(cfg), &pca),
                TWIN_RESULT_OK);
    if (pca == NULL) {
        return;
    }
    EXPECT_CODE(twin_multivariate_info(pca, &kind, &cols), TWIN_RESULT_OK);
    EXPECT(kind == TWIN_MULTIVARIATE_KIND_PCA && cols == 3);
    EXPECT_CODE(twin_multivariate_score(pca, rows, 6, 2, s, 2), TWIN_RESULT_OK);
    /* on the factor's line: normal; off it: a large SPE */
    EXPECT(s[0].alarm == 0 && s[1].alarm == 1);
    EXPECT(s[1].spe > 100.0 * s[0].spe && s[1].spe_likelihood > 0.999);
    json = read_json(multivariate_json, pca);
    EXPECT(json != NULL);
    if (json != NULL) {
        EXPECT_CODE(twin_multivariate_from_json(json, strlen(json), &back), TWIN_RESULT_OK);
        if (back != NULL) {
            EXPECT_CODE(twin_multivariate_score(back, rows, 6, 2, s2, 2), TWIN_RESULT_OK);
            EXPECT(same_score(&s[0], &s2[0]) && same_score(&s[1], &s2[1]));
            twin_multivariate_free(back);
        }
        /* a PCA document is not a detector */
        {
            TwinDetector *d = NULL;
            EXPECT_CODE(twin_detector_from_json(json, strlen(json), &d),
                        TWIN_RESULT_SERIALIZATION);
            EXPECT(contains(last_error(), "twin.detect.fitted_pca") && d == NULL);
        }
        free(json);
    }
    /* Mahalanobis on the same data: b = -a breaks the correlation */
    {
        TwinMultivariate *maha = NULL;
        TwinMultivariateScore m[2];
        EXPECT_CODE(twin_multivariate_fit(TWIN_MULTIVARIATE_KIND_MAHALANOBIS, data, 1500, 500, 3,
                                          NULL, 0, &maha),
                    TWIN_RESULT_OK);
        if (maha != NULL) {
            EXPECT_CODE(twin_multivariate_score(maha, rows, 6, 2, m, 2), TWIN_RESULT_OK);
            EXPECT(m[0].alarm == 0 && m[1].alarm == 1 && m[1].t2 > 100.0 * m[0].t2);
            EXPECT(m[1].statistic == m[1].t2 && m[1].spe == 0.0);
            twin_multivariate_free(maha);
        }
    }
    /* rows * cols mismatch, NaN in training data, too few rows */
    back = NULL;
    EXPECT_CODE(twin_multivariate_score(pca, rows, 5, 2, s2, 2), TWIN_RESULT_INVALID_INPUT);
    EXPECT(contains(last_error(), "2 rows × 3 columns need 6"));
    EXPECT_CODE(twin_multivariate_fit(TWIN_MULTIVARIATE_KIND_MAHALANOBIS, data, 1499, 500, 3, NULL,
                                      0, &back),
                TWIN_RESULT_INVALID_INPUT);
    data[40] = NAN;
    EXPECT_CODE(twin_multivariate_fit(TWIN_MULTIVARIATE_KIND_MAHALANOBIS, data, 1500, 500, 3, NULL,
                                      0, &back),
                TWIN_RESULT_NON_FINITE);
    EXPECT_CODE(twin_multivariate_fit(TWIN_MULTIVARIATE_KIND_PCA, data + 300, 15, 5, 3, NULL, 0,
                                      &back),
                TWIN_RESULT_INVALID_INPUT);
    EXPECT(back == NULL);
    twin_multivariate_free(pca);
}

/* ---------- features ---------- */

static void test_features(void) {
    static double sine[400], tone[1000];
    static TwinConditionFeatures windows[301];
    const double edges[4] = {0.0, 40.0, 60.0, 500.0};
    TwinConditionFeatures f;
    TwinBandEnergies *bands = NULL;
    double e[3];
    size_t i, n = 0, nb = 0, frame = 0;
    for (i = 0; i < 400; i++) {
        sine[i] = 2.0 * sin((double)i * 6.283185307179586 / 100.0);
    }
    EXPECT_CODE(twin_features_compute(sine, 400, &f), TWIN_RESULT_OK);
    EXPECT(fabs(f.rms - sqrt(2.0)) < 1e-12 && fabs(f.crest_factor - sqrt(2.0)) < 1e-12);
    EXPECT(fabs(f.kurtosis - 1.5) < 1e-12 && fabs(f.skewness) < 1e-12 && f.count == 400);
    EXPECT_CODE(twin_features_rolling(sine, 400, 100, windows, 301, &n), TWIN_RESULT_OK);
    EXPECT(n == 301);
    for (i = 0; i < n; i++) {
        EXPECT(fabs(windows[i].rms - sqrt(2.0)) < 1e-9 && fabs(windows[i].kurtosis - 1.5) < 1e-9);
    }
    EXPECT_CODE(twin_features_rolling(sine, 400, 100, windows, 300, &n),
                TWIN_RESULT_BUFFER_TOO_SMALL);
    sine[7] = INFINITY;
    EXPECT_CODE(twin_features_compute(sine, 400, &f), TWIN_RESULT_NON_FINITE);
    /* a 50 Hz tone of amplitude 2 at 1 kHz: energy N A^2 / 2 = 2000 in the 40-60 Hz band */
    for (i = 0; i < 1000; i++) {
        tone[i] = 2.0 * sin(6.283185307179586 * 50.0 * (double)i / 1000.0);
    }
    EXPECT_CODE(twin_band_energies_new(1000.0, 1000, edges, 4, 0, &bands), TWIN_RESULT_OK);
    if (bands == NULL) {
        return;
    }
    EXPECT_CODE(twin_band_energies_info(bands, &nb, &frame), TWIN_RESULT_OK);
    EXPECT(nb == 3 && frame == 1000);
    EXPECT_CODE(twin_band_energies_compute(bands, tone, 1000, e, 3), TWIN_RESULT_OK);
    EXPECT(fabs(e[1] - 2000.0) < 1e-6 && e[0] < 1e-9 && e[2] < 1e-9);
    EXPECT_CODE(twin_band_energies_compute(bands, tone, 999, e, 3), TWIN_RESULT_INVALID_INPUT);
    twin_band_energies_free(bands);
}

/* ---------- health index ---------- */

static void test_health(void) {
    enum { ROWS = 200 + 260 + 230 };
    static uint64_t ids[ROWS];
    static double data[ROWS * 2];
    const size_t lens[3] = {200, 260, 230};
    const double probe[6] = {1.0, 0.5, 4.0, 0.5, 2.5, 0.5};
    TwinHealthIndex *hi = NULL, *back = NULL;
    double h[3], h2[3];
    size_t run, i, row = 0, cols = 0;
    char *json;
    for (run = 0; run < 3; run++) {
        for (i = 0; i < lens[run]; i++, row++) {
            double life = (double)i / (double)(lens[run] - 1);
            double noise = ((double)((i * 7 + run * 13) % 11) - 5.0) * 0.01;
            ids[row] = run;
            data[2 * row] = 1.0 + 3.0 * life * life + noise;
            data[2 * row + 1] = 0.5 + noise;
        }
    }
    EXPECT_CODE(twin_health_index_fit_runs(ids, ROWS, data, 2 * ROWS, 2, NULL, 0, &hi),
                TWIN_RESULT_OK);
    if (hi == NULL) {
        return;
    }
    EXPECT_CODE(twin_health_index_cols(hi, &cols), TWIN_RESULT_OK);
    EXPECT(cols == 2);
    EXPECT_CODE(twin_health_index_predict(hi, probe, 6, 3, h, 3), TWIN_RESULT_OK);
    EXPECT(h[0] > 0.95 && h[1] < 0.05 && h[2] > h[1] && h[2] < h[0]);
    json = read_json(health_json, hi);
    EXPECT(json != NULL);
    if (json != NULL) {
        EXPECT_CODE(twin_health_index_from_json(json, strlen(json), &back), TWIN_RESULT_OK);
        if (back != NULL) {
            EXPECT_CODE(twin_health_index_predict(back, probe, 6, 3, h2, 3), TWIN_RESULT_OK);
            EXPECT(memcmp(h, h2, sizeof h) == 0);
            twin_health_index_free(back);
        }
        /* cut in half: corrupt */
        back = NULL;
        EXPECT_CODE(twin_health_index_from_json(json, strlen(json) / 2, &back),
                    TWIN_RESULT_SERIALIZATION);
        EXPECT(back == NULL);
        free(json);
    }
    data[5] = NAN;
    EXPECT_CODE(twin_health_index_fit_runs(ids, ROWS, data, 2 * ROWS, 2, NULL, 0, &back),
                TWIN_RESULT_NON_FINITE);
    EXPECT_CODE(twin_health_index_predict(hi, probe, 6, 3, h2, 2), TWIN_RESULT_BUFFER_TOO_SMALL);
    twin_health_index_free(hi);
}

/* ---------- remaining useful life ---------- */

/* A fleet whose units wear as exp(-RUL / 30) in two sensors, plus noise; lives 120 + 10 i. */
static size_t wear_fleet(uint64_t seed, size_t units, uint64_t *ids, double *cycles,
                         double *values) {
    Rng rng = {seed};
    size_t u, r, row = 0;
    for (u = 0; u < units; u++) {
        size_t life = 120 + 10 * (u % 12);
        for (r = 0; r < life; r++, row++) {
            double wear = exp(-(double)(life - 1 - r) / 30.0);
            ids[row] = u;
            cycles[row] = (double)(r + 1);
            values[2 * row] = 10.0 + 2.0 * wear + 0.02 * normal(&rng);
            values[2 * row + 1] = 5.0 - wear + 0.02 * normal(&rng);
        }
    }
    return row;
}

static void test_rul(void) {
    enum { MAX_ROWS = 24 * 240 };
    static uint64_t ids[MAX_ROWS], fid[MAX_ROWS];
    static double cycles[MAX_ROWS], values[2 * MAX_ROWS], fcyc[MAX_ROWS], fval[2 * MAX_ROWS];
    const char *cfg = "{\"indicator\": {\"cap\": 100.0},"
                      " \"calibration\": {\"folds\": 3, \"stride\": 4, \"min_history\": 20,"
                      " \"seed\": 1, \"threads\": 2}}";
    const double cuts[4] = {10.0, 25.0, 40.0, 60.0};
    size_t rows = wear_fleet(5, 12, ids, cycles, values);
    size_t frows = wear_fleet(99, 12, fid, fcyc, fval);
    TwinRulModel *model = NULL, *back = NULL;
    TwinRulKind kind;
    TwinRulPrediction p, q;
    size_t start = 0, unit = 0, covered = 0, tested = 0;
    double abs_err = 0.0;
    char *json;
    EXPECT_CODE(twin_rul_fit(TWIN_RUL_KIND_EXPONENTIAL, ids, rows, cycles, rows, values, 2 * rows,
                             2, cfg, strlen(cfg), &model),
                TWIN_RESULT_OK);
    if (model == NULL) {
        return;
    }
    EXPECT_CODE(twin_rul_kind(model, &kind), TWIN_RESULT_OK);
    EXPECT(kind == TWIN_RUL_KIND_EXPONENTIAL);
    {
        TwinRulHeldOut held;
        EXPECT_CODE(twin_rul_held_out(model, &held), TWIN_RESULT_OK);
        /* against the target capped at 100 (early-life RULs beyond it are not knowable) */
        EXPECT(held.points > 100 && held.rmse_capped > 0.0 && held.rmse_capped < 30.0);
        EXPECT(isfinite(held.rmse));
    }
    json = read_json(rul_json, model);
    EXPECT(json != NULL);
    if (json != NULL) {
        EXPECT_CODE(twin_rul_from_json(json, strlen(json), &back), TWIN_RESULT_OK);
    }
    /* fresh units cut at known remaining lives */
    while (start < frows) {
        size_t end = start, keep;
        double truth;
        while (end < frows && fid[end] == fid[start]) {
            end++;
        }
        truth = cuts[unit % 4];
        keep = end - start - (size_t)truth;
        EXPECT_CODE(twin_rul_predict(model, fcyc + start, keep, fval + 2 * start, 2 * keep, 2, &p),
                    TWIN_RESULT_OK);
        EXPECT(p.lower <= p.rul && p.rul <= p.upper && p.level == 0.9);
        /* the last kept row has truth - 1 cycles left */
        if (p.lower <= truth - 1.0 && truth - 1.0 <= p.upper) {
            covered++;
        }
        abs_err += fabs(p.rul - (truth - 1.0));
        tested++;
        if (back != NULL) {
            EXPECT_CODE(twin_rul_predict(back, fcyc + start, keep, fval + 2 * start, 2 * keep, 2,
                                         &q),
                        TWIN_RESULT_OK);
            EXPECT(p.rul == q.rul && p.lower == q.lower && p.upper == q.upper && p.level == q.level);
        }
        start = end;
        unit++;
    }
    EXPECT(tested == 12);
    EXPECT(covered >= 9); /* a 90% interval: most units */
    EXPECT(abs_err / (double)tested < 12.0);
    printf("test_analytics: exponential RUL on 12 fresh units: %zu covered, mean |error| %.1f cycles\n",
           covered, abs_err / (double)tested);
    /* the fleet call: one prediction per unit at its last cycle */
    {
        static TwinRulPrediction preds[12];
        size_t n = 0;
        EXPECT_CODE(twin_rul_predict_fleet(model, fid, frows, fcyc, frows, fval, 2 * frows, 2,
                                           preds, 11, &n),
                    TWIN_RESULT_BUFFER_TOO_SMALL);
        EXPECT_CODE(twin_rul_predict_fleet(model, fid, frows, fcyc, frows, fval, 2 * frows, 2,
                                           preds, 12, &n),
                    TWIN_RESULT_OK);
        EXPECT(n == 12 && preds[0].rul < 25.0);
    }
    /* bad input: a version from the future, wrong lengths, NaN in training data */
    if (json != NULL) {
        char *future = replace_once(json, "\"version\":1", "\"version\":7");
        TwinRulModel *none = NULL;
        EXPECT(future != NULL);
        if (future != NULL) {
            EXPECT_CODE(twin_rul_from_json(future, strlen(future), &none),
                        TWIN_RESULT_SERIALIZATION);
            EXPECT(contains(last_error(), "version 7") && none == NULL);
            free(future);
        }
        free(json);
    }
    EXPECT_CODE(twin_rul_predict(model, fcyc, 30, fval, 59, 2, &q), TWIN_RESULT_INVALID_INPUT);
    EXPECT_CODE(twin_rul_predict(model, fcyc, 30, fval, 90, 3, &q), TWIN_RESULT_INVALID_INPUT);
    {
        TwinRulModel *none = NULL;
        values[17] = NAN;
        EXPECT_CODE(twin_rul_fit(TWIN_RUL_KIND_EXPONENTIAL, ids, rows, cycles, rows, values,
                                 2 * rows, 2, cfg, strlen(cfg), &none),
                    TWIN_RESULT_NON_FINITE);
        EXPECT_CODE(twin_rul_fit(TWIN_RUL_KIND_REGRESSION, ids, rows, cycles, rows - 1, values,
                                 2 * rows, 2, NULL, 0, &none),
                    TWIN_RESULT_INVALID_INPUT);
        EXPECT(none == NULL);
    }
    twin_rul_free(back);
    twin_rul_free(model);
    twin_rul_free(NULL);
}

/* ---------- files ---------- */

static void test_files(void) {
    char path[512];
    const char *dir = getenv("TMPDIR");
    const char *missing = "/nonexistent/dir/model.json";
    TwinWeibull *w = NULL, *loaded = NULL;
    TwinDetector *d = NULL;
    TwinWeibullParams a, b;
    snprintf(path, sizeof path, "%s/twin_test_analytics_weibull.json",
             dir != NULL && dir[0] != '\0' ? dir : "/tmp");
    EXPECT_CODE(twin_weibull_new(1.5, 200.0, &w), TWIN_RESULT_OK);
    if (w == NULL) {
        return;
    }
    EXPECT_CODE(twin_weibull_save(w, path, strlen(path)), TWIN_RESULT_OK);
    EXPECT_CODE(twin_weibull_load(path, strlen(path), &loaded), TWIN_RESULT_OK);
    if (loaded != NULL) {
        EXPECT_CODE(twin_weibull_params(w, &a), TWIN_RESULT_OK);
        EXPECT_CODE(twin_weibull_params(loaded, &b), TWIN_RESULT_OK);
        EXPECT(same_weibull(&a, &b));
        twin_weibull_free(loaded);
    }
    /* a Weibull file is not a detector */
    EXPECT_CODE(twin_detector_load(path, strlen(path), &d), TWIN_RESULT_SERIALIZATION);
    EXPECT(d == NULL);
    remove(path);
    EXPECT_CODE(twin_weibull_load(missing, strlen(missing), &loaded), TWIN_RESULT_IO);
    EXPECT(contains(last_error(), "cannot read"));
    EXPECT_CODE(twin_weibull_save(w, missing, strlen(missing)), TWIN_RESULT_IO);
    twin_weibull_free(w);
}

int main(void) {
    test_weibull();
    test_kalman_alpha_beta();
    test_other_filters();
    test_battery();
    test_detectors();
    test_multivariate();
    test_features();
    test_health();
    test_rul();
    test_files();
    printf("test_analytics: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
