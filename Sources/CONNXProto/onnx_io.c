#include "include/onnx_io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
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

Onnx__ModelProto *ghost_onnx_unpack_model(const uint8_t *data, size_t length) {
    return onnx__model_proto__unpack(NULL, length, data);
}

void ghost_onnx_free_model(Onnx__ModelProto *model) {
    if (model != NULL) onnx__model_proto__free_unpacked(model, NULL);
}
