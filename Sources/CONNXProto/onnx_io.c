#include "include/onnx_io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum { GHOST_PACK_CHUNK = 1 << 20 };

// A ProtobufCBuffer whose append() copies into a 1 MiB chunk and flushes full chunks to a file.
typedef struct {
    ProtobufCBuffer base;
    int fd;
    int error;
    size_t used;
    uint8_t chunk[GHOST_PACK_CHUNK];
} FileSink;

static int write_all(int fd, const uint8_t *data, size_t length) {
    while (length > 0) {
        ssize_t written = write(fd, data, length);
        if (written < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        data += written;
        length -= (size_t)written;
    }
    return 0;
}

static void file_sink_append(ProtobufCBuffer *buffer, size_t length, const uint8_t *data) {
    FileSink *sink = (FileSink *)buffer;
    if (sink->error != 0) return;
    if (sink->used + length > GHOST_PACK_CHUNK) {
        sink->error = write_all(sink->fd, sink->chunk, sink->used);
        sink->used = 0;
        if (sink->error != 0) return;
    }
    if (length >= GHOST_PACK_CHUNK) {
        // Large tensors go straight to the file instead of through the chunk.
        sink->error = write_all(sink->fd, data, length);
        return;
    }
    memcpy(sink->chunk + sink->used, data, length);
    sink->used += length;
}

int ghost_onnx_pack_to_fd(const ProtobufCMessage *message, int fd) {
    FileSink *sink = malloc(sizeof(FileSink));
    if (sink == NULL) return ENOMEM;
    sink->base.append = file_sink_append;
    sink->fd = fd;
    sink->error = 0;
    sink->used = 0;
    protobuf_c_message_pack_to_buffer(message, &sink->base);
    if (sink->error == 0 && sink->used > 0) sink->error = write_all(fd, sink->chunk, sink->used);
    int error = sink->error;
    free(sink);
    return error;
}

// --- Unpacking into an arena ---------------------------------------------------------------
//
// protobuf-c copies every bytes field (the weights) and allocates every message, string and
// array separately. Through this allocator they are carved out of a few large mappings: freeing
// the model is a few munmaps, and nothing is freed one by one.
//
// The first HUGE_LIMIT bytes are advised for 2 MiB pages: a 7 MB model then costs a handful of
// page faults instead of ~1,700 (loading 8-10 -> 4-5 ms). Beyond that, ordinary pages: a
// 200k-node graph unpacks into about 250 MB of messages, and with every chunk advised the kernel
// had to find, compact and zero a hundred huge pages on first touch: unpacking took 0.15 s to
// 3.4 s from run to run on a loaded machine, against a steady 0.3 s with ordinary pages.

enum { ARENA_ALIGN = 16, HUGE_PAGE = 2 << 20, HUGE_LIMIT = 32 << 20 };

typedef struct ArenaChunk {
    struct ArenaChunk *next;
    uint8_t *base;   // the mapping (2 MiB aligned when advised for huge pages)
    size_t size;     // its length
    size_t used;
} ArenaChunk;

struct GhostUnpackedModel {
    Onnx__ModelProto *message;
    ArenaChunk *chunks;
    size_t next_size;  // size of the next chunk to map
    size_t mapped;     // bytes mapped so far
    int failed;
};

// An anonymous mapping of at least `size` bytes (rounded up to 2 MiB); NULL when the system
// refuses. With `huge` it is 2 MiB-aligned and advised for huge pages (a few faults each).
// With `populate` its pages are made by the mmap itself: the later (8 MiB) chunks are only mapped
// when the previous one is full, so they are filled front to back straight away, and faulting a
// 200k-node model's ~200 MB of them in one call each costs a fraction of 50k separate page
// faults. The first chunk is sized from the file and may be partly unused: it faults as touched,
// so its unused tail never counts in the resident size.
static uint8_t *map_aligned(size_t *size, int huge, int populate) {
    size_t length = (*size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    if (!huge) {
        int flags = MAP_PRIVATE | MAP_ANONYMOUS;
#ifdef MAP_POPULATE
        if (populate) flags |= MAP_POPULATE;
#else
        (void)populate;
#endif
        uint8_t *plain = mmap(NULL, length, PROT_READ | PROT_WRITE, flags, -1, 0);
        if (plain == MAP_FAILED) return NULL;
        *size = length;
        return plain;
    }
    uint8_t *raw = mmap(NULL, length + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    uintptr_t start = ((uintptr_t)raw + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    size_t head = start - (uintptr_t)raw, tail = HUGE_PAGE - head;
    if (head > 0) munmap(raw, head);
    if (tail > 0) munmap((uint8_t *)start + length, tail);
#ifdef MADV_HUGEPAGE
    madvise((void *)start, length, MADV_HUGEPAGE);
#endif
    *size = length;
    return (uint8_t *)start;
}

static void *arena_alloc(void *data, size_t size) {
    struct GhostUnpackedModel *arena = data;
    size = (size + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    ArenaChunk *chunk = arena->chunks;
    if (chunk == NULL || chunk->size - chunk->used < size) {
        size_t length = size > arena->next_size ? size : arena->next_size;
        ArenaChunk *fresh = malloc(sizeof(ArenaChunk));
        int huge = arena->mapped + length <= HUGE_LIMIT;
        uint8_t *base = fresh ? map_aligned(&length, huge, chunk != NULL) : NULL;
        if (base == NULL) {
            free(fresh);
            arena->failed = 1;
            return NULL;
        }
        *fresh = (ArenaChunk){.next = chunk, .base = base, .size = length, .used = 0};
        arena->chunks = chunk = fresh;
        arena->mapped += length;
        arena->next_size = 8u << 20;
    }
    void *pointer = chunk->base + chunk->used;
    chunk->used += size;
    return pointer;
}

static void arena_free(void *data, void *pointer) {
    (void)data;
    (void)pointer;  // everything goes when the model does
}

GhostUnpackedModel *ghost_onnx_unpack_model(const uint8_t *data, size_t length) {
    GhostUnpackedModel *model = calloc(1, sizeof(GhostUnpackedModel));
    if (model == NULL) return NULL;
    // The unpacked model is about as large as the encoding (the weights dominate) plus per-
    // message overhead; later chunks cover any shortfall.
    model->next_size = length + length / 8 + (1u << 20);
    ProtobufCAllocator allocator = {.alloc = arena_alloc, .free = arena_free, .allocator_data = model};
    model->message = onnx__model_proto__unpack(&allocator, length, data);
    if (model->message == NULL) {
        ghost_onnx_free_model(model);
        return NULL;
    }
    return model;
}

Onnx__ModelProto *ghost_onnx_model_message(GhostUnpackedModel *model) { return model->message; }

void ghost_onnx_free_model(GhostUnpackedModel *model) {
    if (model == NULL) return;
    ArenaChunk *chunk = model->chunks;
    while (chunk != NULL) {
        ArenaChunk *next = chunk->next;
        munmap(chunk->base, chunk->size);
        free(chunk);
        chunk = next;
    }
    free(model);
}
