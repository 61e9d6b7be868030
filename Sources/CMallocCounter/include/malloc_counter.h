#ifndef BALLOT_MALLOC_COUNTER_H
#define BALLOT_MALLOC_COUNTER_H
#include <stdint.h>
/// Heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc) made by this process so far.
uint64_t ballot_allocation_count(void);
#endif
