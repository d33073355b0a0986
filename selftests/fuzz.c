// SPDX-License-Identifier: GPL-2.0
/*
 * msgbox selftests: the fuzzer (tools/fuzz/msgbox-fuzz.c) for a fixed
 * budget: a new seed each run (printed: rerun it with
 * "msgbox-fuzz -s SEED" in "msgbox-vm shell"), then the seeds that once
 * found a bug, kept as regression tests.  See the fuzzer for its oracles;
 * the VM runner adds the kernel's reports.
 */
#define MSGBOX_FUZZ_LIB
#include "../tools/fuzz/msgbox-fuzz.c"
#include "msgbox_test.h"

/* Seeds that once found a bug (see the git log of this file), then 0. */
static const struct {
	unsigned long long seed;
	bool uring;
} regression_seeds[] = {
	/* 6.1: a READ on a ring descriptor spun in task work (4c117d0);
	 * 6.12: a blocking call deaf to signals while task work was pending.
	 */
	{ 7797161668615ull, true },
	{ 0 }
};

FIXTURE(fz) {
	int unused;
};

FIXTURE_SETUP(fz)
{
	if (!mb_have_device())
		SKIP(return, MSGBOX_DEVICE " missing: msgbox module not loaded");
	if (geteuid() != 0)
		SKIP(return, "needs root to bound the module's limits");
}

FIXTURE_TEARDOWN(fz)
{
}

static void expect_clean(struct __test_metadata *_metadata,
			 const struct fuzz_result *r, int ret)
{
	ASSERT_LE(0, ret) TH_LOG("fuzzer setup failed: %s", strerror(errno));
	EXPECT_EQ(0, r->bad_errno);
	EXPECT_EQ(0, r->bad_deaths);
	EXPECT_EQ(0, r->stuck);
	EXPECT_EQ(0, r->leaked);
	EXPECT_LT(0, r->ops);
}

/*
 * 30 s or 200000 operations (fewer in 30 s on the debug kernel), io_uring
 * included (-u).
 */
TEST_F_TIMEOUT(fz, new_seed_for_a_fixed_budget, 120)
{
	struct fuzz_opts o = { .ops = 200000, .secs = 30, .workers = 4,
			       .uring = true };
	struct fuzz_result r;

	o.seed = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 32);
	expect_clean(_metadata, &r, fuzz_run(&o, &r));
	/* It reached the receive rings and io_uring's completions. */
	EXPECT_LT(0, r.rings);
	EXPECT_LT(0, r.maps);
	EXPECT_LT(0, r.cqes_ok);
}

TEST_F_TIMEOUT(fz, regression_seeds, 120)
{
	if (!regression_seeds[0].seed)
		SKIP(return, "no seed has found a bug yet");
	for (size_t i = 0; regression_seeds[i].seed; i++) {
		struct fuzz_opts o = { .ops = 20000, .secs = 10, .workers = 4,
				       .seed = regression_seeds[i].seed,
				       .uring = regression_seeds[i].uring };
		struct fuzz_result r;

		expect_clean(_metadata, &r, fuzz_run(&o, &r));
	}
}

TEST_HARNESS_MAIN
