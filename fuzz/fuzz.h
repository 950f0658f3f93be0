/*
 * fuzz.h: what every fuzz target shares. FUZZ_CHECK states an invariant: it
 * aborts (so libFuzzer records a crash and replay exits non-zero) whether or
 * not NDEBUG is defined, because a fuzz target without its checks only finds
 * memory errors. Targets include this header first so that the libFuzzer entry
 * points have prototypes (-Wmissing-prototypes).
 */
#ifndef FX_FUZZ_H
#define FX_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
