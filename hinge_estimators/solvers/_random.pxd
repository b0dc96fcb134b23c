# cython: language_level=3
# Helpers shared by the compiled coordinate-descent kernels (dual and primal):
# a fast generator for the visiting order and the test for who may check
# signals.

from libc.stdint cimport uint64_t


cdef inline bint in_main_thread():
    """Whether signals can reach this thread (Python runs handlers only in the
    main thread; elsewhere a check would cost a GIL round trip for nothing)."""
    import threading

    return threading.current_thread() is threading.main_thread()


cdef inline uint64_t next_random(uint64_t *state) noexcept nogil:
    """xorshift64*: a fast generator for the permutations (seeded by numpy)."""
    cdef uint64_t x = state[0]
    x ^= x >> 12
    x ^= x << 25
    x ^= x >> 27
    state[0] = x
    return x * <uint64_t> 2685821657736338717


cdef inline void shuffle(int *order, Py_ssize_t n, uint64_t *state) noexcept nogil:
    """Fisher-Yates shuffle of ``order[:n]`` in place."""
    cdef Py_ssize_t i, j
    cdef int tmp
    for i in range(n - 1, 0, -1):
        j = <Py_ssize_t> (next_random(state) % <uint64_t> (i + 1))
        tmp = order[i]
        order[i] = order[j]
        order[j] = tmp
