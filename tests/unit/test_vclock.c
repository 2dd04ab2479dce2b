#include <CUnit/CUnit.h>

#include "../../vmm/vclock.h"

static int fired[4];
static uint64_t fired_at[4];
static struct vclock *cur_clock;

static void cb(void *opaque)
{
    int i = (int)(intptr_t)opaque;
    fired[i]++;
    fired_at[i] = vclock_ns(cur_clock);
}

static void test_order_and_time(void)
{
    struct vclock c;
    struct vtimer t0, t1;
    vclock_init(&c);
    vclock_set_manual(&c, 1000);
    cur_clock = &c;
    fired[0] = fired[1] = 0;
    vtimer_init(&t0, &c, cb, (void *)0);
    vtimer_init(&t1, &c, cb, (void *)1);
    vtimer_mod(&t0, 5000);
    vtimer_mod(&t1, 3000);
    CU_ASSERT_EQUAL(vclock_next_deadline(&c), 3000);
    vclock_advance(&c, 1000);
    CU_ASSERT_EQUAL(fired[0] + fired[1], 0);
    vclock_advance(&c, 3000);
    CU_ASSERT_EQUAL(fired[1], 1);
    CU_ASSERT_EQUAL(fired_at[1], 3000);
    CU_ASSERT_EQUAL(fired[0], 1);
    CU_ASSERT_EQUAL(fired_at[0], 5000);
    CU_ASSERT_EQUAL(vclock_ns(&c), 5000);
    CU_ASSERT_FALSE(vtimer_pending(&t0));
}

static void test_del(void)
{
    struct vclock c;
    struct vtimer t0;
    vclock_init(&c);
    vclock_set_manual(&c, 0);
    cur_clock = &c;
    fired[2] = 0;
    vtimer_init(&t0, &c, cb, (void *)2);
    vtimer_mod(&t0, 10);
    vtimer_del(&t0);
    vclock_advance(&c, 100);
    CU_ASSERT_EQUAL(fired[2], 0);
    CU_ASSERT_EQUAL(vclock_next_deadline(&c), UINT64_MAX);
}

static void test_ticks(void)
{
    CU_ASSERT_EQUAL(vclock_ns_to_ticks(1000000000ull, 1193182), 1193182);
    CU_ASSERT_EQUAL(vclock_ticks_to_ns(1193182, 1193182), 1000000000ull);
    /* No overflow far in the future. */
    CU_ASSERT_EQUAL(vclock_ns_to_ticks(UINT64_MAX / 2, 1000000000ull), UINT64_MAX / 2);
}

void suite_vclock(void)
{
    CU_pSuite s = CU_add_suite("vclock", NULL, NULL);
    CU_add_test(s, "timers fire in order at their deadline", test_order_and_time);
    CU_add_test(s, "deleted timer does not fire", test_del);
    CU_add_test(s, "tick conversion", test_ticks);
}
