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

/// Unpacks a model with its graph's nodes and initializers left encoded (LazyModelProto); NULL
/// when the bytes are not a valid encoding of it. Free with ghost_onnx_free_model.
GhostUnpackedModel *ghost_onnx_unpack_lazy_model(const uint8_t *data, size_t length);
Onnx__LazyModelProto *ghost_onnx_lazy_model_message(GhostUnpackedModel *model);

/// A reusable arena for unpacking one message at a time: each unpack below empties it first, so
/// the message it returns is valid until the next unpack with the same scratch (or its free).
typedef struct GhostScratch GhostScratch;
GhostScratch *ghost_onnx_scratch_create(void);
void ghost_onnx_scratch_free(GhostScratch *scratch);
/// NULL when the bytes are not a valid encoding (or memory ran out).
Onnx__NodeProto *ghost_onnx_unpack_node(GhostScratch *scratch, const uint8_t *data, size_t length);
Onnx__TensorProto *ghost_onnx_unpack_tensor(GhostScratch *scratch, const uint8_t *data, size_t length);

/// Finds the last length-delimited field number `field` at the top level of an encoded message:
/// 1 with its payload's offset and length, or 0 when absent or when the walk meets anything
/// malformed (every varint and length is checked against `length`).
int ghost_onnx_find_bytes_field(const uint8_t *data, size_t length, uint32_t field, size_t *offset, size_t *found);
void ghost_onnx_free_model(GhostUnpackedModel *model);

#endif
