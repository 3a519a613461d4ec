#include "include/onnx_io.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum { GHOST_PACK_CHUNK = 1 << 20 };

// A ProtobufCBuffer whose append() copies into 1 MiB chunks; a full chunk is written to the file
// by a writer thread while packing continues into the other one, so the packing thread never
// waits for the copy into the page cache (a third of writing a 200k-node model). Data of a chunk
// or more goes straight to the file from the packing thread, after the queued chunk. Without a
// thread (pthread_create failed) every write happens on the packing thread.
typedef struct {
    ProtobufCBuffer base;
    int fd;
    int error;  // the first failing write's errno (under `lock` once the thread runs)
    size_t used;
    int active;  // index of the chunk being filled
    uint8_t *chunks[2];
    int threaded;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    const uint8_t *pending;  // a chunk queued for the writer thread, or NULL
    size_t pending_length;
    int stop;
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

static void *file_sink_writer(void *argument) {
    FileSink *sink = argument;
    pthread_mutex_lock(&sink->lock);
    for (;;) {
        while (sink->pending == NULL && !sink->stop) pthread_cond_wait(&sink->changed, &sink->lock);
        if (sink->pending == NULL) break;
        const uint8_t *data = sink->pending;
        size_t length = sink->pending_length;
        int failed = sink->error != 0;
        pthread_mutex_unlock(&sink->lock);
        int error = failed ? 0 : write_all(sink->fd, data, length);
        pthread_mutex_lock(&sink->lock);
        if (error != 0 && sink->error == 0) sink->error = error;
        sink->pending = NULL;
        pthread_cond_broadcast(&sink->changed);
    }
    pthread_mutex_unlock(&sink->lock);
    return NULL;
}

// Waits until the writer thread has no chunk queued; returns the error so far.
static int file_sink_wait(FileSink *sink) {
    if (!sink->threaded) return sink->error;
    pthread_mutex_lock(&sink->lock);
    while (sink->pending != NULL) pthread_cond_wait(&sink->changed, &sink->lock);
    int error = sink->error;
    pthread_mutex_unlock(&sink->lock);
    return error;
}

static void file_sink_record(FileSink *sink, int error) {
    if (error == 0) return;
    if (sink->threaded) pthread_mutex_lock(&sink->lock);
    if (sink->error == 0) sink->error = error;
    if (sink->threaded) pthread_mutex_unlock(&sink->lock);
}

// Hands the filled chunk to the writer (or writes it) and continues in the other chunk.
static void file_sink_flush(FileSink *sink) {
    if (sink->used == 0) return;
    if (!sink->threaded) {
        if (sink->error == 0) sink->error = write_all(sink->fd, sink->chunks[sink->active], sink->used);
        sink->used = 0;
        return;
    }
    pthread_mutex_lock(&sink->lock);
    while (sink->pending != NULL) pthread_cond_wait(&sink->changed, &sink->lock);
    sink->pending = sink->chunks[sink->active];
    sink->pending_length = sink->used;
    pthread_cond_broadcast(&sink->changed);
    pthread_mutex_unlock(&sink->lock);
    sink->active ^= 1;
    sink->used = 0;
}

static void file_sink_append(ProtobufCBuffer *buffer, size_t length, const uint8_t *data) {
    FileSink *sink = (FileSink *)buffer;
    if (sink->used + length > GHOST_PACK_CHUNK) file_sink_flush(sink);
    if (length >= GHOST_PACK_CHUNK) {
        // Large tensors go straight to the file, after what is queued, instead of through a chunk.
        if (file_sink_wait(sink) == 0) file_sink_record(sink, write_all(sink->fd, data, length));
        return;
    }
    memcpy(sink->chunks[sink->active] + sink->used, data, length);
    sink->used += length;
}

int ghost_onnx_pack_to_fd(const ProtobufCMessage *message, int fd) {
    FileSink *sink = calloc(1, sizeof(FileSink));
    if (sink == NULL) return ENOMEM;
    sink->chunks[0] = malloc(GHOST_PACK_CHUNK);
    sink->chunks[1] = malloc(GHOST_PACK_CHUNK);
    if (sink->chunks[0] == NULL || sink->chunks[1] == NULL) {
        free(sink->chunks[0]);
        free(sink->chunks[1]);
        free(sink);
        return ENOMEM;
    }
    sink->base.append = file_sink_append;
    sink->fd = fd;
    if (pthread_mutex_init(&sink->lock, NULL) == 0) {
        if (pthread_cond_init(&sink->changed, NULL) == 0) {
            sink->threaded = pthread_create(&sink->thread, NULL, file_sink_writer, sink) == 0;
            if (!sink->threaded) pthread_cond_destroy(&sink->changed);
        }
        if (!sink->threaded) pthread_mutex_destroy(&sink->lock);
    }
    protobuf_c_message_pack_to_buffer(message, &sink->base);
    file_sink_flush(sink);
    int error = file_sink_wait(sink);
    if (sink->threaded) {
        pthread_mutex_lock(&sink->lock);
        sink->stop = 1;
        pthread_cond_broadcast(&sink->changed);
        pthread_mutex_unlock(&sink->lock);
        pthread_join(sink->thread, NULL);
        pthread_cond_destroy(&sink->changed);
        pthread_mutex_destroy(&sink->lock);
    }
    free(sink->chunks[0]);
    free(sink->chunks[1]);
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
    Onnx__ModelProto *message;     // set by ghost_onnx_unpack_model
    Onnx__LazyModelProto *lazy;    // set by ghost_onnx_unpack_lazy_model
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

GhostUnpackedModel *ghost_onnx_unpack_lazy_model(const uint8_t *data, size_t length) {
    GhostUnpackedModel *model = calloc(1, sizeof(GhostUnpackedModel));
    if (model == NULL) return NULL;
    // Messages stay encoded, so the unpacked model is about as large as the file.
    model->next_size = length + length / 16 + (1u << 20);
    ProtobufCAllocator allocator = {.alloc = arena_alloc, .free = arena_free, .allocator_data = model};
    model->lazy = onnx__lazy_model_proto__unpack(&allocator, length, data);
    if (model->lazy == NULL) {
        ghost_onnx_free_model(model);
        return NULL;
    }
    return model;
}

Onnx__LazyModelProto *ghost_onnx_lazy_model_message(GhostUnpackedModel *model) { return model->lazy; }

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

// --- One message at a time -----------------------------------------------------------------
//
// A node or initializer of a lazily unpacked model is unpacked into a scratch arena that is
// emptied before the next one: its pages stay in the cache, and nothing is freed one by one.
// An allocation that does not fit goes to a block of its own; the next reset replaces the arena
// with one large enough for everything the last message needed.

typedef struct ScratchBlock {
    struct ScratchBlock *next;
} ScratchBlock;

struct GhostScratch {
    uint8_t *base;
    size_t size;
    size_t used;
    ScratchBlock *overflow;
    size_t overflow_bytes;
};

enum { SCRATCH_INITIAL = 64 << 10 };

GhostScratch *ghost_onnx_scratch_create(void) {
    GhostScratch *scratch = calloc(1, sizeof(GhostScratch));
    if (scratch == NULL) return NULL;
    scratch->base = malloc(SCRATCH_INITIAL);
    if (scratch->base == NULL) {
        free(scratch);
        return NULL;
    }
    scratch->size = SCRATCH_INITIAL;
    return scratch;
}

static void scratch_release_overflow(GhostScratch *scratch) {
    ScratchBlock *block = scratch->overflow;
    while (block != NULL) {
        ScratchBlock *next = block->next;
        free(block);
        block = next;
    }
    scratch->overflow = NULL;
}

void ghost_onnx_scratch_free(GhostScratch *scratch) {
    if (scratch == NULL) return;
    scratch_release_overflow(scratch);
    free(scratch->base);
    free(scratch);
}

static void scratch_reset(GhostScratch *scratch) {
    if (scratch->overflow != NULL) {
        size_t wanted = scratch->size + scratch->overflow_bytes;
        scratch_release_overflow(scratch);
        // Room for twice what the last message took (sizes are bounded by the file's length).
        if (wanted <= SIZE_MAX / 2) {
            uint8_t *larger = malloc(wanted * 2);
            if (larger != NULL) {
                free(scratch->base);
                scratch->base = larger;
                scratch->size = wanted * 2;
            }
        }
    }
    scratch->overflow_bytes = 0;
    scratch->used = 0;
}

static void *scratch_alloc(void *data, size_t size) {
    GhostScratch *scratch = data;
    if (size > SIZE_MAX - ARENA_ALIGN - sizeof(ScratchBlock)) return NULL;
    size = (size + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    if (scratch->size - scratch->used >= size) {
        void *pointer = scratch->base + scratch->used;
        scratch->used += size;
        return pointer;
    }
    // The block header is padded to the alignment so the memory after it stays aligned.
    size_t header = (sizeof(ScratchBlock) + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    ScratchBlock *block = malloc(header + size);
    if (block == NULL) return NULL;
    block->next = scratch->overflow;
    scratch->overflow = block;
    scratch->overflow_bytes += size;
    return (uint8_t *)block + header;
}

Onnx__NodeProto *ghost_onnx_unpack_node(GhostScratch *scratch, const uint8_t *data, size_t length) {
    scratch_reset(scratch);
    ProtobufCAllocator allocator = {.alloc = scratch_alloc, .free = arena_free, .allocator_data = scratch};
    return onnx__node_proto__unpack(&allocator, length, data);
}

Onnx__TensorProto *ghost_onnx_unpack_tensor(GhostScratch *scratch, const uint8_t *data, size_t length) {
    scratch_reset(scratch);
    ProtobufCAllocator allocator = {.alloc = scratch_alloc, .free = arena_free, .allocator_data = scratch};
    return onnx__tensor_proto__unpack(&allocator, length, data);
}

// Reads a base-128 varint at *position, advancing it; 0 when it runs past `length` or past 10 bytes.
static int read_varint(const uint8_t *data, size_t length, size_t *position, uint64_t *value) {
    uint64_t result = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (*position >= length) return 0;
        uint8_t byte = data[(*position)++];
        result |= (uint64_t)(byte & 0x7F) << shift;
        if ((byte & 0x80) == 0) {
            *value = result;
            return 1;
        }
    }
    return 0;
}

int ghost_onnx_find_bytes_field(const uint8_t *data, size_t length, uint32_t field, size_t *offset, size_t *found) {
    size_t position = 0;
    int seen = 0;
    while (position < length) {
        uint64_t tag, value;
        if (!read_varint(data, length, &position, &tag)) return 0;
        switch (tag & 7) {
        case 0:
            if (!read_varint(data, length, &position, &value)) return 0;
            break;
        case 1:
            if (length - position < 8) return 0;
            position += 8;
            break;
        case 2:
            if (!read_varint(data, length, &position, &value)) return 0;
            if (value > length - position) return 0;
            if ((tag >> 3) == field) {
                *offset = position;
                *found = (size_t)value;
                seen = 1;
            }
            position += (size_t)value;
            break;
        case 5:
            if (length - position < 4) return 0;
            position += 4;
            break;
        default:
            return 0;  // groups and invalid wire types: let the caller copy instead
        }
    }
    return seen;
}
