// jemalloc's settings for the ghost-convert process, read by jemalloc (linked statically under the
// package's Jemalloc trait) when it starts; the MALLOC_CONF environment variable still overrides
// them. Without jemalloc nothing reads the symbol.
//
// Freed pages are never returned to the kernel while the process runs (no dirty or muzzy decay).
// The interpreter frees and allocates activations of megabytes per node: with jemalloc's default
// ten-second decay and its separate arena for requests above 8 MiB, each such allocation paid
// fresh page faults (a 256x256x32 Conv chain ran 45% slower than under glibc); kept, they are
// reused as glibc's raised mmap and trim thresholds reuse them (Interpreter.swift). A command is
// one short process, so its peak is what it holds, as before.
#include "allocator.h"

const char *malloc_conf = "dirty_decay_ms:-1,muzzy_decay_ms:-1";
