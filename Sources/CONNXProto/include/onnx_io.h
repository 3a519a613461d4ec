// Small C helpers around the protoc-c output that are awkward to express in Swift.
#ifndef GHOST_ONNX_IO_H
#define GHOST_ONNX_IO_H

#include <stddef.h>
#include <stdint.h>
#include "onnx-subset.pb-c.h"

/// Serializes `message` to the open file descriptor `fd`, streaming through a fixed buffer so the
/// encoded model never exists in memory as a whole. Returns 0 on success, or the errno of the
/// failing write.
int ghost_onnx_pack_to_fd(const ProtobufCMessage *message, int fd);

/// A ModelProto unpacked into its own arena (a few large anonymous mappings): its message and
/// everything it points to live until ghost_onnx_free_model.
typedef struct GhostUnpackedModel GhostUnpackedModel;

/// Unpacks a ModelProto from `length` bytes at `data`; NULL when the bytes are not a valid
/// encoding (or memory ran out). Free the result with ghost_onnx_free_model.
GhostUnpackedModel *ghost_onnx_unpack_model(const uint8_t *data, size_t length);
Onnx__ModelProto *ghost_onnx_model_message(GhostUnpackedModel *model);
void ghost_onnx_free_model(GhostUnpackedModel *model);

#endif
