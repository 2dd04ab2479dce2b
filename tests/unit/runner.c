/* The CUnit runner: every tests/unit/test_NAME.c contributes suite_NAME().
 * Usage: unit-tests [SUITE...] runs only the named suites. */
#include <CUnit/Basic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define SUITE(name) void suite_##name(void);
#include "suites.inc"
#undef SUITE

struct suite_entry {
    const char *name;
    void (*add)(void);
};

static const struct suite_entry suites[] = {
#define SUITE(name) { #name, suite_##name },
#include "suites.inc"
#undef SUITE
};

int main(int argc, char **argv)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        bool wanted = argc < 2;
        for (int a = 1; a < argc; a++)
            wanted |= strcmp(argv[a], suites[i].name) == 0;
        if (wanted)
            suites[i].add();
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    if (ran == 0) {
        fprintf(stderr, "unit-tests: no test ran\n");
        return 1;
    }
    return failed ? 1 : 0;
}
