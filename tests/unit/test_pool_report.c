/* The report of a warm-pool job (docs/report.md): the same keys as any
 * run's, plus a "pool" object; a cold run's report has no "pool". */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>

#include "runtime/result.h"

static json_t *parse(const struct sbx_result *r)
{
	char *s = sbx_report_json(r);
	json_error_t e;
	json_t *o = json_loads(s, 0, &e);
	cr_assert_not_null(o, "report is not JSON (%s): %s", e.text, s);
	free(s);
	return o;
}

Test(pool_report, pool_object_only_for_pool_jobs)
{
	struct sbx_result r;
	sbx_result_init(&r);
	json_t *cold = parse(&r);
	cr_expect_null(json_object_get(cold, "pool"));
	r.pool = true;
	r.pool_wait_ms = 1.5;
	r.pool_acquire_ms = 8.25;
	r.pool_zygote = 1;
	r.pool_zygote_jobs = 42;
	json_t *warm = parse(&r);
	/* Every key of the cold report is there, with the same type. */
	const char *k;
	json_t *v;
	json_object_foreach(cold, k, v)
	{
		json_t *w = json_object_get(warm, k);
		cr_expect_not_null(w, "pool report lacks '%s'", k);
		if (w)
			cr_expect_eq(json_typeof(w), json_typeof(v), "'%s' changed type", k);
	}
	json_t *p = json_object_get(warm, "pool");
	cr_assert(json_is_object(p));
	cr_expect_float_eq(json_real_value(json_object_get(p, "wait_ms")), 1.5, 1e-9);
	cr_expect_float_eq(json_real_value(json_object_get(p, "acquire_ms")), 8.25, 1e-9);
	cr_expect_eq(json_integer_value(json_object_get(p, "zygote")), 1);
	cr_expect_eq(json_integer_value(json_object_get(p, "zygote_jobs")), 42);
	json_decref(cold);
	json_decref(warm);
	sbx_result_free(&r);
}
