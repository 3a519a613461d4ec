// jemalloc's settings for the ghost-convert process, read by jemalloc (linked statically under the
// package's Jemalloc trait) when it starts; the MALLOC_CONF environment variable still overrides
// them. Without jemalloc nothing reads the symbol.
//
// Freed pages are never returned to the kernel while the process runs (no dirty or muzzy decay).
// The interpreter frees and allocates activations of megabytes per node: with jemalloc's default
// decay the freed pages were purged and faulted in again (a 256x256x32 Conv chain ran 45% slower
// than under glibc; the separate arena for requests above 8 MiB was not the cause); kept, they are
// reused, as glibc's raised mmap and trim thresholds reuse them (Interpreter.swift). A command is
// one short process: what it keeps is returned when it exits (peak RSS of a 200k-node fuse
// 633 MB, glibc 620 MB).
#include "allocator.h"

const char *malloc_conf = "dirty_decay_ms:-1,muzzy_decay_ms:-1";
