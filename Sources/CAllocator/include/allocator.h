#ifndef GHOST_ALLOCATOR_H
#define GHOST_ALLOCATOR_H

// jemalloc's option string for this process (see allocator.c).
extern const char *malloc_conf;

#endif
