#!/usr/bin/env python3
"""Generates the malformed-ONNX corpus in Tests/Fixtures/malformed-onnx/.

Every case is a small .onnx file plus one entry in manifest.json:

    {"file": "<name>.onnx", "code": "<expected error code>",
     "mentions": ["<text the error message must contain>", ...],
     "description": "<what is wrong>"}

Cases start from a few small, valid models built with onnx.helper (opset 17, IR version 8) and
are corrupted either by editing the ModelProto in Python or by editing its serialized bytes.
onnx.checker is never run on the corrupted models (it would refuse them). Cases with code "ok"
are valid controls that the loader must accept.

The output is deterministic: the directory is wiped and rewritten, weights come from a fixed
formula, no timestamps are written, and the manifest is written with sorted keys. Running the
script twice gives byte-identical files.

Usage: /path/to/venv/bin/python scripts/corpus/make_malformed_onnx.py [output-directory]
"""

import binascii
import io
import json
import os
import shutil
import struct
import sys
import zipfile
import zlib
from collections import Counter
from typing import NamedTuple

import numpy as np
import onnx
from onnx import AttributeProto, TensorProto, helper, numpy_helper

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(REPO_ROOT, "Tests", "Fixtures", "malformed-onnx")

OPSET = 17
IR_VERSION = 8
MAX_FILE_BYTES = 4096

# --------------------------------------------------------------------------------------------
# Protobuf wire format: encoding, field walking, and a checker that mirrors the loader.
# --------------------------------------------------------------------------------------------

VARINT, FIXED64, LENGTH, START_GROUP, END_GROUP, FIXED32 = 0, 1, 2, 3, 4, 5


def enc_varint(value: int) -> bytes:
    """Unsigned LEB128; negative numbers are written as 64-bit two's complement (10 bytes)."""
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def enc_tag(number: int, wire: int) -> bytes:
    return enc_varint((number << 3) | wire)


def enc_len(number: int, payload: bytes) -> bytes:
    return enc_tag(number, LENGTH) + enc_varint(len(payload)) + payload


class WireError(Exception):
    def __init__(self, offset: int, detail: str):
        super().__init__(f"byte {offset}: {detail}")
        self.offset = offset
        self.detail = detail


def dec_varint(buf: bytes, pos: int, end: int):
    """Reads a varint of at most 10 bytes; returns (value, position after it)."""
    start = pos
    value = 0
    for index in range(10):
        if pos >= end:
            raise WireError(start, "truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << (7 * index)
        if byte & 0x80 == 0:
            return value & ((1 << 64) - 1), pos
    raise WireError(start, "varint longer than 10 bytes")


class Field(NamedTuple):
    number: int
    wire: int
    start: int  # offset of the tag
    value_start: int  # offset of the payload (after the length prefix for LENGTH fields)
    value_end: int


def walk(buf: bytes, start: int = 0, end: int = -1):
    """The fields of one message, in order, with absolute offsets. Raises WireError."""
    end = len(buf) if end < 0 else end
    fields = []
    pos = start
    while pos < end:
        field_start = pos
        key, pos = dec_varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number < 1 or number > 536_870_911:
            raise WireError(field_start, f"invalid field number {number}")
        if wire == VARINT:
            value_start = pos
            _, pos = dec_varint(buf, pos, end)
        elif wire in (FIXED64, FIXED32):
            size = 8 if wire == FIXED64 else 4
            if end - pos < size:
                raise WireError(pos, f"fixed field needs {size} bytes, {end - pos} remain")
            value_start = pos
            pos += size
        elif wire == LENGTH:
            length, pos = dec_varint(buf, pos, end)
            if length > end - pos:
                raise WireError(field_start, f"length {length} but only {end - pos} bytes remain")
            value_start = pos
            pos += length
        else:
            raise WireError(field_start, f"wire type {wire} (groups or invalid)")
        fields.append(Field(number, wire, field_start, value_start, pos))
    return fields


# The subset of onnx.proto that the loader decodes (Sources/CONNXProto/proto/onnx-subset.proto).
# A kind is "varint", "fixed32", "fixed64", "bytes" or the name of a nested message; a leading
# "*" marks a repeated scalar, which may also arrive packed (wire type 2). Fields not listed are
# unknown to the loader and are skipped without looking inside.
SCHEMA = {
    "ModelProto": {1: "varint", 2: "bytes", 3: "bytes", 4: "bytes", 5: "varint", 6: "bytes",
                   7: "GraphProto", 8: "OperatorSetIdProto", 14: "StringStringEntryProto"},
    "OperatorSetIdProto": {1: "bytes", 2: "varint"},
    "StringStringEntryProto": {1: "bytes", 2: "bytes"},
    "GraphProto": {1: "NodeProto", 2: "bytes", 5: "TensorProto", 10: "bytes",
                   11: "ValueInfoProto", 12: "ValueInfoProto", 13: "ValueInfoProto"},
    "NodeProto": {1: "bytes", 2: "bytes", 3: "bytes", 4: "bytes", 5: "AttributeProto",
                  6: "bytes", 7: "bytes"},
    "AttributeProto": {1: "bytes", 2: "fixed32", 3: "varint", 4: "bytes", 5: "TensorProto",
                       6: "bytes", 7: "*fixed32", 8: "*varint", 9: "bytes", 10: "TensorProto",
                       11: "bytes", 13: "bytes", 14: "bytes", 15: "bytes", 20: "varint",
                       21: "bytes", 22: "bytes", 23: "bytes"},
    "TensorProto": {1: "*varint", 2: "varint", 4: "*fixed32", 5: "*varint", 6: "bytes",
                    7: "*varint", 8: "bytes", 9: "bytes", 10: "*fixed64", 11: "*varint",
                    12: "bytes", 13: "StringStringEntryProto", 14: "varint"},
    "ValueInfoProto": {1: "bytes", 2: "TypeProto", 3: "bytes"},
    "TypeProto": {1: "TypeProto.Tensor", 6: "bytes"},
    "TypeProto.Tensor": {1: "varint", 2: "TensorShapeProto"},
    "TensorShapeProto": {1: "TensorShapeProto.Dimension"},
    "TensorShapeProto.Dimension": {1: "varint", 2: "bytes", 3: "bytes"},
}

EXPECTED_WIRE = {"varint": VARINT, "fixed32": FIXED32, "fixed64": FIXED64, "bytes": LENGTH}


def wire_problem(buf: bytes, message: str = "ModelProto", start: int = 0, end: int = -1, depth: int = 0):
    """The first wire-format problem as (offset, detail), or None. Like the loader's diagnosis
    (and protobuf-c), a known field with the wrong wire type is an error, and unknown fields are
    skipped."""
    end = len(buf) if end < 0 else end
    if depth > 64:
        return start, "nested too deep"
    try:
        fields = walk(buf, start, end)
    except WireError as error:
        return error.offset, error.detail
    schema = SCHEMA[message]
    for field in fields:
        kind = schema.get(field.number)
        if kind is None:
            continue
        repeated = kind.startswith("*")
        kind = kind.lstrip("*")
        expected = EXPECTED_WIRE.get(kind, LENGTH)
        if field.wire != expected and not (repeated and field.wire == LENGTH):
            return field.start, f"{message} field {field.number} has wire type {field.wire}, expected {expected}"
        if kind in SCHEMA:
            problem = wire_problem(buf, kind, field.value_start, field.value_end, depth + 1)
            if problem:
                return problem
    return None


def only(fields, number):
    matches = [f for f in fields if f.number == number]
    assert len(matches) == 1, f"expected one field {number}, found {len(matches)}"
    return matches[0]


def graph_field(buf: bytes) -> Field:
    return only(walk(buf), 7)


def named_child(buf: bytes, parent: Field, number: int, name: str) -> Field:
    """The child message (field `number` of `parent`) whose `name` field equals `name`.
    TensorProto names are field 8; NodeProto names are field 3."""
    name_field = {5: 8, 1: 3}[number]
    for child in walk(buf, parent.value_start, parent.value_end):
        if child.number != number:
            continue
        for inner in walk(buf, child.value_start, child.value_end):
            if inner.number == name_field and buf[inner.value_start:inner.value_end] == name.encode():
                return child
    raise KeyError(name)


def initializer_field(buf: bytes, name: str) -> Field:
    return named_child(buf, graph_field(buf), 5, name)


def node_field(buf: bytes, name: str) -> Field:
    return named_child(buf, graph_field(buf), 1, name)


def serialize(model: onnx.ModelProto) -> bytes:
    return model.SerializeToString(deterministic=True)


# --------------------------------------------------------------------------------------------
# Valid base models.
# --------------------------------------------------------------------------------------------


def pattern(count: int, seed: int, scale: float = 1.0, positive: bool = False) -> np.ndarray:
    """Deterministic, platform-independent values in [-1, 1) (or [0.25, 1.25) when positive)."""
    index = np.arange(count, dtype=np.int64)
    values = ((index * 37 + seed * 11) % 17 - 8).astype(np.float64) / 8.0
    if positive:
        values = np.abs(values) + 0.25
    return (values * scale).astype(np.float32)


def make(graph: onnx.GraphProto, extra_opsets=()) -> onnx.ModelProto:
    opsets = [helper.make_opsetid("", OPSET)] + [helper.make_opsetid(d, v) for d, v in extra_opsets]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="ghost-convert-corpus",
                              producer_version="1")
    model.ir_version = IR_VERSION
    return model


def conv_weights():
    return {
        "conv.weight": pattern(4 * 3 * 3 * 3, 1, 0.5).reshape(4, 3, 3, 3),
        "conv.bias": pattern(4, 2, 0.1),
        "bn.scale": pattern(4, 3, positive=True),
        "bn.bias": pattern(4, 4, 0.2),
        "bn.mean": pattern(4, 5, 0.3),
        "bn.var": pattern(4, 6, positive=True),
    }


def conv_model(typed: bool = False) -> onnx.ModelProto:
    """image[1,3,8,8] → Conv(conv.weight, conv.bias) → BatchNormalization → Relu → features."""
    initializers = []
    for name, array in conv_weights().items():
        if typed:
            initializers.append(helper.make_tensor(name, TensorProto.FLOAT, array.shape, array.flatten().tolist()))
        else:
            initializers.append(numpy_helper.from_array(array, name))
    nodes = [
        helper.make_node("Conv", ["image", "conv.weight", "conv.bias"], ["conv_out"], name="conv0",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("BatchNormalization", ["conv_out", "bn.scale", "bn.bias", "bn.mean", "bn.var"],
                         ["bn_out"], name="bn0", epsilon=1e-5),
        helper.make_node("Relu", ["bn_out"], ["features"], name="relu0"),
    ]
    graph = helper.make_graph(
        nodes, "conv_bn_relu",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [1, 4, 8, 8])],
        initializers)
    return make(graph)


def add_model() -> onnx.ModelProto:
    """Two branches joined by Add: Relu(lhs) + Sigmoid(rhs) → total."""
    nodes = [
        helper.make_node("Relu", ["lhs"], ["ra"], name="relu_a"),
        helper.make_node("Sigmoid", ["rhs"], ["sb"], name="sig_b"),
        helper.make_node("Add", ["ra", "sb"], ["total"], name="add0"),
    ]
    graph = helper.make_graph(
        nodes, "two_branch_add",
        [helper.make_tensor_value_info("lhs", TensorProto.FLOAT, [2, 4]),
         helper.make_tensor_value_info("rhs", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("total", TensorProto.FLOAT, [2, 4])])
    return make(graph)


def typed_model() -> onnx.ModelProto:
    """Initializers in the typed fields (int64_data, float_data, int32_data, double_data):
    image → Reshape(shape) → Add(bias) → Gather(idx, axis=1) → Cast(double) → Mul(dscale) → scores."""
    initializers = [
        helper.make_tensor("shape", TensorProto.INT64, [2], [1, 192]),
        helper.make_tensor("bias", TensorProto.FLOAT, [1], [0.5]),
        helper.make_tensor("idx", TensorProto.INT32, [2], [0, 5]),
        helper.make_tensor("dscale", TensorProto.DOUBLE, [1], [0.25]),
    ]
    nodes = [
        helper.make_node("Reshape", ["image", "shape"], ["flat"], name="reshape0"),
        helper.make_node("Add", ["flat", "bias"], ["shifted"], name="add_bias"),
        helper.make_node("Gather", ["shifted", "idx"], ["picked"], name="gather0", axis=1),
        helper.make_node("Cast", ["picked"], ["picked64"], name="cast0", to=TensorProto.DOUBLE),
        helper.make_node("Mul", ["picked64", "dscale"], ["scores"], name="mul0"),
    ]
    graph = helper.make_graph(
        nodes, "typed_fields",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("scores", TensorProto.DOUBLE, [1, 2])],
        initializers)
    return make(graph)


def fp16_model() -> onnx.ModelProto:
    """half[1,4] + half16.weight (float16 raw_data) → half_out."""
    weight = numpy_helper.from_array(np.array([0.5, -1.0, 2.0, 0.125], dtype=np.float16).reshape(1, 4),
                                     "half.weight")
    graph = helper.make_graph(
        [helper.make_node("Add", ["half", "half.weight"], ["half_out"], name="add_half")], "float16",
        [helper.make_tensor_value_info("half", TensorProto.FLOAT16, [1, 4])],
        [helper.make_tensor_value_info("half_out", TensorProto.FLOAT16, [1, 4])],
        [weight])
    return make(graph)


def constant_model() -> onnx.ModelProto:
    """x[4] + Constant(const.value) → y."""
    value = numpy_helper.from_array(pattern(4, 7), "const.value")
    nodes = [
        helper.make_node("Constant", [], ["c"], name="const0", value=value),
        helper.make_node("Add", ["x", "c"], ["y"], name="add_const"),
    ]
    graph = helper.make_graph(
        nodes, "constant",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])])
    return make(graph)


def tensor_of(model: onnx.ModelProto, name: str) -> TensorProto:
    for tensor in model.graph.initializer:
        if tensor.name == name:
            return tensor
    raise KeyError(name)


def node_of(model: onnx.ModelProto, name: str) -> onnx.NodeProto:
    for node in model.graph.node:
        if node.name == name:
            return node
    raise KeyError(name)


def attribute_of(node: onnx.NodeProto, name: str) -> AttributeProto:
    for attribute in node.attribute:
        if attribute.name == name:
            return attribute
    raise KeyError(name)


def remove_attribute(node: onnx.NodeProto, name: str) -> None:
    kept = [a for a in node.attribute if a.name != name]
    del node.attribute[:]
    node.attribute.extend(kept)


def add_raw_attribute(node: onnx.NodeProto, raw: bytes) -> None:
    """Appends an AttributeProto given as raw bytes (lets us write type codes outside the enum)."""
    node.attribute.add().MergeFromString(raw)


def externalize(tensor: TensorProto, entries, clear_data: bool = True) -> None:
    """Marks `tensor` as EXTERNAL with the given (key, value) entries."""
    if clear_data:
        tensor.ClearField("raw_data")
        for field in ("float_data", "int32_data", "int64_data", "double_data"):
            tensor.ClearField(field)
    del tensor.external_data[:]
    for key, value in entries:
        entry = tensor.external_data.add()
        entry.key = key
        entry.value = value
    tensor.data_location = TensorProto.EXTERNAL


def set_dim(value_info: onnx.ValueInfoProto, index: int, size: int) -> None:
    value_info.type.tensor_type.shape.dim[index].dim_value = size


# --------------------------------------------------------------------------------------------
# The corpus.
# --------------------------------------------------------------------------------------------


class Corpus:
    def __init__(self) -> None:
        self.entries = []
        self.files = {}  # name → bytes, .onnx files and sidecars
        self.links = {}  # name → symlink target
        self.checked_ok = []  # valid ModelProtos to run onnx.checker on

    def add(self, name: str, data: bytes, code: str, mentions, description: str) -> None:
        file = name + ".onnx"
        assert file not in self.files, f"duplicate case {file}"
        assert len(data) <= MAX_FILE_BYTES, f"{file} is {len(data)} bytes"
        problem = wire_problem(data) if data else (0, "empty")
        if code in ("malformed-protobuf", "empty-file"):
            assert problem is not None, f"{file} is supposed to be malformed but decodes"
        else:
            assert problem is None, f"{file} should decode but: {problem}"
            onnx.ModelProto().ParseFromString(data)  # the reference parser must accept it too
        self.files[file] = data
        self.entries.append({"file": file, "code": code, "mentions": list(mentions),
                             "description": description})

    def model(self, name: str, model: onnx.ModelProto, code: str, mentions, description: str) -> None:
        if code == "ok":
            self.checked_ok.append((name, model))
        self.add(name, serialize(model), code, mentions, description)

    def sidecar(self, name: str, data: bytes) -> None:
        assert name not in self.files
        self.files[name] = data

    def symlink(self, name: str, target: str) -> None:
        self.links[name] = target


def stored_deflate(data: bytes) -> bytes:
    """A raw DEFLATE stream of stored blocks (no compression, so no zlib-version dependence)."""
    out = bytearray()
    chunks = [data[i:i + 65535] for i in range(0, len(data), 65535)] or [b""]
    for index, chunk in enumerate(chunks):
        out.append(1 if index == len(chunks) - 1 else 0)
        out += struct.pack("<HH", len(chunk), len(chunk) ^ 0xFFFF) + chunk
    return bytes(out)


def png_bytes() -> bytes:
    """A complete 1×1 grey PNG."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", binascii.crc32(kind + body))
    pixels = b"\x00\x80"  # filter byte + one grey pixel
    idat = b"\x78\x01" + stored_deflate(pixels) + struct.pack(">I", zlib.adler32(pixels))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def gzip_bytes(data: bytes) -> bytes:
    header = b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + b"\x00\xff"  # no name, mtime 0, OS unknown
    return header + stored_deflate(data) + struct.pack("<II", binascii.crc32(data), len(data) & 0xFFFFFFFF)


def zip_bytes(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.create_system = 3
        info.external_attr = 0o644 << 16
        archive.writestr(info, data)
    return buffer.getvalue()


def build(corpus: Corpus) -> None:
    conv_bytes = serialize(conv_model())

    # ---------------- empty-file ----------------
    corpus.add("empty", b"", "empty-file", [], "a zero-byte file")

    # ---------------- malformed-protobuf ----------------
    top = walk(conv_bytes)
    producer = only(top, 2)
    corpus.add("truncated_mid_header", conv_bytes[:producer.value_start + 5], "malformed-protobuf", ["byte"],
               "the conv model cut 5 bytes into producer_name (ModelProto field 2): its length prefix runs past the end")
    corpus.add("truncated_first_byte", conv_bytes[:1], "malformed-protobuf", ["byte"],
               "only the first byte (the ir_version key) is left; its varint value is missing")
    graph = graph_field(conv_bytes)
    corpus.add("truncated_mid_graph", conv_bytes[:graph.value_start + (graph.value_end - graph.value_start) * 2 // 5],
               "malformed-protobuf", ["byte"],
               "the conv model cut 40% of the way into the graph (field 7), inside its nodes")
    weight = initializer_field(conv_bytes, "conv.weight")
    raw = only(walk(conv_bytes, weight.value_start, weight.value_end), 9)
    corpus.add("truncated_mid_raw_data", conv_bytes[:raw.value_start + 200], "malformed-protobuf", ["byte"],
               "the conv model cut 200 bytes into the 432-byte raw_data of initializer conv.weight")
    bn_node = node_field(conv_bytes, "bn0")
    corpus.add("truncated_mid_node", conv_bytes[:bn_node.value_start + 17], "malformed-protobuf", ["byte"],
               "the conv model cut 17 bytes into NodeProto bn0 (inside its input list)")
    corpus.add("truncated_last_byte", conv_bytes[:-1], "malformed-protobuf", ["byte"],
               "the conv model without its final byte: the last opset_import (field 8) is one byte short")

    text = ("This is not an ONNX model.\nIt is a plain text file that was given the .onnx extension by mistake;\n"
            "the loader should say that it is not a protobuf instead of crashing.\n").encode()
    corpus.add("plain_text", text, "malformed-protobuf", ["byte"],
               "a plain English text file ('T' = 0x54 is field 10 with the end-group wire type 4)")
    corpus.add("text_format_model", str(add_model()).encode(), "malformed-protobuf", ["byte"],
               "the two-branch Add model in protobuf text format (str(ModelProto)) instead of the binary encoding")
    corpus.add("png_image", png_bytes(), "malformed-protobuf", ["byte"],
               "a 1x1 PNG image renamed to .onnx")
    corpus.add("zip_archive", zip_bytes("model.onnx", conv_bytes), "malformed-protobuf", ["byte"],
               "a ZIP archive holding the valid conv model, renamed to .onnx")
    corpus.add("gzip_model", gzip_bytes(conv_bytes), "malformed-protobuf", ["byte"],
               "the conv model gzip-compressed (0x1f 0x8b header) and named .onnx")
    json_text = json.dumps({"irVersion": "8", "producerName": "ghost-convert-corpus",
                            "graph": {"node": [{"opType": "Relu", "input": ["x"], "output": ["y"]}]},
                            "opsetImport": [{"version": "17"}]}, indent=2, sort_keys=True) + "\n"
    corpus.add("json_model", json_text.encode(), "malformed-protobuf", ["byte"],
               "a JSON rendering of a model renamed to .onnx ('{' = 0x7b is field 15 with wire type 3)")

    flipped = bytearray(conv_bytes)
    assert flipped[graph.start] == 0x3A
    flipped[graph.start] ^= 0x02  # wire type 2 → 0
    corpus.add("graph_wire_type_varint", bytes(flipped), "malformed-protobuf", ["byte"],
               "one bit flipped in the key of graph (field 7): wire type 0 (varint) instead of 2 (length-delimited)")
    flipped = bytearray(conv_bytes)
    flipped[graph.start] ^= 0x04  # wire type 2 → 6
    corpus.add("graph_wire_type_invalid", bytes(flipped), "malformed-protobuf", ["byte"],
               "one bit flipped in the key of graph (field 7): wire type 6, which does not exist")

    ir_field = only(top, 1)
    assert ir_field.start == 0
    corpus.add("varint_11_bytes", enc_tag(1, VARINT) + b"\xff" * 11 + b"\x01" + conv_bytes[ir_field.value_end:],
               "malformed-protobuf", ["byte"],
               "ir_version (field 1) is a varint with 11 continuation bytes; a varint has at most 10 bytes")
    corpus.add("varint_unterminated_at_end", conv_bytes + enc_tag(5, VARINT) + b"\xff\xff\xff",
               "malformed-protobuf", ["byte"],
               "model_version (field 5) appended at the end with a varint whose continuation bit is set on the last byte")

    graph_payload = conv_bytes[graph.value_start:graph.value_end]
    corpus.add("length_prefix_2pow40",
               conv_bytes[:graph.start] + enc_tag(7, LENGTH) + enc_varint(1 << 40) + graph_payload
               + conv_bytes[graph.value_end:],
               "malformed-protobuf", ["byte"],
               "the length prefix of graph (field 7) is 2^40, far past the end of the file")

    relu_node = node_field(conv_bytes, "relu0")
    first_input = walk(conv_bytes, relu_node.value_start, relu_node.value_end)[0]
    assert first_input.number == 1 and conv_bytes[first_input.start + 1] < 0x40
    overlong = bytearray(conv_bytes)
    overlong[first_input.start + 1] = 0x40  # 64 bytes: inside the file, past the end of the node
    corpus.add("nested_length_past_parent", bytes(overlong), "malformed-protobuf", ["byte"],
               "NodeProto relu0 says its first input string is 64 bytes long, more than the node holds "
               "(the bytes exist in the file, but belong to the next message)")

    name_field = only(walk(conv_bytes, weight.value_start, weight.value_end), 8)
    wrong = bytearray(conv_bytes)
    assert wrong[name_field.start] == 0x42
    wrong[name_field.start] = 0x40  # TensorProto.name as varint
    corpus.add("tensor_name_wire_type", bytes(wrong), "malformed-protobuf", ["byte"],
               "the name of initializer conv.weight (TensorProto field 8, a string) has wire type 0 (varint)")
    corpus.add("field_number_zero", b"\x00\x00" + conv_bytes, "malformed-protobuf", ["byte"],
               "the file starts with a key of field number 0, which protobuf forbids")

    # ---------------- missing-graph ----------------
    model = conv_model()
    model.ClearField("graph")
    corpus.model("missing_graph", model, "missing-graph", [],
                 "ModelProto with ir_version, producer and opset_import but no graph (field 7)")
    corpus.add("only_ir_version", enc_tag(1, VARINT) + enc_varint(IR_VERSION), "missing-graph", [],
               "a two-byte ModelProto holding only ir_version = 8")

    # ---------------- missing-opset ----------------
    model = conv_model()
    del model.opset_import[:]
    corpus.model("missing_opset", model, "missing-opset", [], "no opset_import at all")
    model = conv_model()
    del model.opset_import[:]
    model.opset_import.extend([helper.make_opsetid("com.microsoft", 1), helper.make_opsetid("ai.onnx.ml", 3)])
    corpus.model("opset_only_other_domains", model, "missing-opset", [],
                 "opset_import lists com.microsoft and ai.onnx.ml but not the default domain \"\"")

    # ---------------- unknown-element-type ----------------
    for name, tensor_name, code, what in [
        ("element_type_undefined", "conv.weight", 0, "0 (UNDEFINED)"),
        ("element_type_string", "bn.scale", 8, "8 (STRING)"),
        ("element_type_complex64", "conv.bias", 14, "14 (COMPLEX64)"),
        ("element_type_999", "bn.mean", 999, "999 (no such type)"),
        ("element_type_negative", "bn.var", -1, "-1 (negative)"),
    ]:
        model = conv_model()
        tensor_of(model, tensor_name).data_type = code
        corpus.model(name, model, "unknown-element-type", [tensor_name],
                     f"initializer {tensor_name} has data_type {what}; its raw_data is unchanged")
    model = conv_model()
    tensor_of(model, "bn.bias").ClearField("data_type")
    corpus.model("element_type_absent", model, "unknown-element-type", ["bn.bias"],
                 "initializer bn.bias has no data_type field at all (defaults to 0, UNDEFINED)")

    # ---------------- invalid-dimension ----------------
    model = conv_model()
    tensor_of(model, "conv.weight").dims[2] = -3
    corpus.model("initializer_negative_dim", model, "invalid-dimension", ["conv.weight"],
                 "initializer conv.weight has dims [4, 3, -3, 3]")
    model = conv_model()
    set_dim(model.graph.input[0], 2, -3)
    corpus.model("input_negative_dim", model, "invalid-dimension", ["image"],
                 "graph input image is declared [1, 3, -3, 8] (dim_value -3)")
    model = conv_model()
    set_dim(model.graph.output[0], 1, -1)
    corpus.model("output_negative_dim", model, "invalid-dimension", ["features"],
                 "graph output features is declared [1, -1, 8, 8] (dim_value -1, not a dim_param)")
    model = conv_model()
    model.graph.value_info.append(helper.make_tensor_value_info("bn_out", TensorProto.FLOAT, [1, 4, -7, 8]))
    corpus.model("value_info_negative_dim", model, "invalid-dimension", ["bn_out"],
                 "value_info for bn_out is declared [1, 4, -7, 8]")

    # ---------------- size-overflow ----------------
    for name, tensor_name, dims, what in [
        ("dims_overflow_2pow80", "conv.weight", [1 << 40, 1 << 40], "[2^40, 2^40]: 2^80 elements"),
        ("dims_overflow_2pow93", "bn.mean", [1 << 31, 1 << 31, 1 << 31], "[2^31, 2^31, 2^31]: 2^93 elements"),
        ("bytes_overflow_2pow61", "conv.bias", [1 << 61], "[2^61]: 2^61 elements fit in Int64, "
                                                          "but 2^61 × 4 bytes = 2^63 does not"),
    ]:
        model = conv_model()
        tensor = tensor_of(model, tensor_name)
        del tensor.dims[:]
        tensor.dims.extend(dims)
        corpus.model(name, model, "size-overflow", [tensor_name],
                     f"initializer {tensor_name} (float) has dims {what}; raw_data is unchanged")

    # ---------------- raw-data-size-mismatch ----------------
    model = conv_model()
    tensor = tensor_of(model, "conv.weight")
    tensor.raw_data = tensor.raw_data[:-1]
    corpus.model("raw_data_one_byte_short", model, "raw-data-size-mismatch", ["conv.weight"],
                 "initializer conv.weight [4,3,3,3] float needs 432 bytes; raw_data holds 431")
    model = conv_model()
    tensor = tensor_of(model, "conv.bias")
    tensor.raw_data = tensor.raw_data + b"\x00\x00\x80\x3f"
    corpus.model("raw_data_too_long", model, "raw-data-size-mismatch", ["conv.bias"],
                 "initializer conv.bias [4] float needs 16 bytes; raw_data holds 20")
    model = conv_model()
    tensor_of(model, "bn.var").raw_data = b""
    corpus.model("raw_data_empty", model, "raw-data-size-mismatch", ["bn.var"],
                 "initializer bn.var [4] float has raw_data present but empty (0 of 16 bytes)")
    model = fp16_model()
    tensor = tensor_of(model, "half.weight")
    tensor.raw_data = tensor.raw_data[:-1]
    corpus.model("raw_data_float16_odd", model, "raw-data-size-mismatch", ["half.weight"],
                 "float16 initializer half.weight [1,4] needs 8 bytes; raw_data holds 7")
    model = constant_model()
    value = attribute_of(node_of(model, "const0"), "value").t
    value.raw_data = value.raw_data[:8]
    corpus.model("constant_raw_data_short", model, "raw-data-size-mismatch", ["const.value"],
                 "the TENSOR attribute of Constant node const0 holds tensor const.value [4] float with 8 of 16 bytes")

    # ---------------- typed-data-count-mismatch ----------------
    for name, tensor_name, field, values, what in [
        ("float_data_count", "bias", "float_data", [0.5, 0.25], "[1] float with 2 float_data values"),
        ("int64_data_count", "shape", "int64_data", [1, 64, 3], "[2] int64 with 3 int64_data values"),
        ("int32_data_count", "idx", "int32_data", [0], "[2] int32 with 1 int32_data value"),
        ("double_data_count", "dscale", "double_data", [0.25, 0.5, 1.0], "[1] double with 3 double_data values"),
    ]:
        model = typed_model()
        tensor = tensor_of(model, tensor_name)
        tensor.ClearField(field)
        getattr(tensor, field).extend(values)
        corpus.model(name, model, "typed-data-count-mismatch", [tensor_name],
                     f"initializer {tensor_name} is {what}")
    model = conv_model(typed=True)
    tensor = tensor_of(model, "conv.weight")
    del tensor.float_data[100:]
    corpus.model("float_data_count_conv", model, "typed-data-count-mismatch", ["conv.weight"],
                 "initializer conv.weight [4,3,3,3] float stored in float_data with 100 of 108 values")

    # ---------------- missing-tensor-data ----------------
    model = conv_model()
    tensor_of(model, "conv.bias").ClearField("raw_data")
    corpus.model("no_data_float", model, "missing-tensor-data", ["conv.bias"],
                 "initializer conv.bias [4] float has no raw_data, no typed data and is not external")
    model = typed_model()
    tensor_of(model, "shape").ClearField("int64_data")
    corpus.model("no_data_int64", model, "missing-tensor-data", ["shape"],
                 "initializer shape [2] int64 has no data at all")
    model = conv_model()
    tensor = tensor_of(model, "bn.scale")
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.DEFAULT
    corpus.model("no_data_default_location", model, "missing-tensor-data", ["bn.scale"],
                 "initializer bn.scale [4] float has data_location DEFAULT written explicitly and no data")

    # ---------------- external-data ----------------
    weights = conv_weights()
    weight_bytes = weights["conv.weight"].tobytes() + weights["conv.bias"].tobytes()  # 432 + 16
    corpus.sidecar("weights.bin", weight_bytes)
    corpus.sidecar("short.bin", weights["conv.bias"].tobytes())  # 16 bytes
    corpus.sidecar("data/nested.bin", weights["conv.bias"].tobytes())
    corpus.symlink("escape_link.bin", "../../../Package.swift")  # resolves to the repository root

    def external_case(name, tensor_name, entries, description, code="external-data"):
        model = conv_model()
        externalize(tensor_of(model, tensor_name), entries)
        corpus.model(name, model, code, [tensor_name] if code != "ok" else [], description)

    external_case("ext_no_location", "conv.bias", [("offset", "432"), ("length", "16")],
                  "conv.bias is EXTERNAL with offset and length but no 'location' key")
    external_case("ext_empty_location", "conv.bias", [("location", "")],
                  "conv.bias is EXTERNAL with location = \"\"", code="external-data-not-a-file")
    # Locations that name a directory, not a file: each gets its own message (not "escapes
    # through a symlink", which is what realpath + prefix checking alone would say for ".").
    external_case("ext_location_dot", "conv.bias", [("location", ".")],
                  "conv.bias is EXTERNAL with location = \".\", the model's own directory", code="external-data-not-a-file")
    external_case("ext_location_dot_slash_dot", "conv.bias", [("location", "./.")],
                  "conv.bias is EXTERNAL with location = \"./.\", the model's own directory", code="external-data-not-a-file")
    external_case("ext_location_dotdot", "conv.bias", [("location", "..")],
                  "conv.bias is EXTERNAL with location = \"..\", the directory above the model's", code="external-data-not-a-file")
    external_case("ext_location_trailing_slash", "conv.bias", [("location", "data/")],
                  "conv.bias is EXTERNAL with location = \"data/\", a directory by its spelling", code="external-data-not-a-file")
    external_case("ext_absolute_path", "conv.bias", [("location", "/etc/passwd")],
                  "conv.bias is EXTERNAL at the absolute path /etc/passwd")
    external_case("ext_parent_escape", "conv.bias", [("location", "../outside.bin")],
                  "conv.bias is EXTERNAL at ../outside.bin, outside the model's directory")
    external_case("ext_nested_escape", "conv.bias", [("location", "sub/../../x.bin")],
                  "conv.bias is EXTERNAL at sub/../../x.bin, which leaves the model's directory")
    external_case("ext_symlink_escape", "conv.bias", [("location", "escape_link.bin")],
                  "conv.bias is EXTERNAL in escape_link.bin, a symlink in the corpus directory to "
                  "../../../Package.swift (a real file outside the model's directory)")
    external_case("ext_missing_file", "conv.bias", [("location", "no_such_weights.bin")],
                  "conv.bias is EXTERNAL in no_such_weights.bin, which does not exist")
    external_case("ext_location_is_directory", "conv.bias", [("location", "data")],
                  "conv.bias is EXTERNAL in 'data', which is a directory, not a file", code="external-data-not-a-file")
    external_case("ext_offset_past_end", "conv.bias", [("location", "weights.bin"), ("offset", "440")],
                  "conv.bias (16 bytes) at offset 440 of weights.bin, which has 448 bytes")
    external_case("ext_file_too_small", "conv.weight", [("location", "short.bin")],
                  "conv.weight needs 432 bytes; short.bin has 16")
    external_case("ext_offset_not_number", "conv.bias", [("location", "weights.bin"), ("offset", "abc")],
                  "conv.bias has offset = \"abc\"")
    external_case("ext_negative_offset", "conv.bias", [("location", "weights.bin"), ("offset", "-16")],
                  "conv.bias has offset = \"-16\"")
    external_case("ext_length_mismatch", "conv.bias", [("location", "weights.bin"), ("offset", "432"), ("length", "12")],
                  "conv.bias [4] float needs 16 bytes but its length entry says 12")
    external_case("ext_offset_overflow", "conv.bias",
                  [("location", "weights.bin"), ("offset", "9223372036854775800")],
                  "conv.bias has offset 2^63-8: offset + 16 bytes overflows Int64")
    external_case("ext_offset_beyond_int64", "conv.bias",
                  [("location", "weights.bin"), ("offset", "99999999999999999999")],
                  "conv.bias has offset 99999999999999999999, which does not fit in 64 bits")

    # ---------------- duplicate-value ----------------
    model = conv_model()
    extra = TensorProto()
    extra.CopyFrom(tensor_of(model, "conv.bias"))
    model.graph.initializer.append(extra)
    corpus.model("duplicate_initializer", model, "duplicate-value", ["conv.bias"],
                 "two initializers are named conv.bias")
    model = add_model()
    node_of(model, "sig_b").output[0] = "ra"
    node_of(model, "add0").input[1] = "ra"
    corpus.model("duplicate_node_output", model, "duplicate-value", ["ra"],
                 "nodes relu_a and sig_b both produce ra (add0 reads ra twice)")
    model = add_model()
    model.graph.node.append(helper.make_node("Neg", ["ra"], ["rhs"], name="shadow"))
    corpus.model("node_output_shadows_input", model, "duplicate-value", ["rhs"],
                 "node shadow outputs rhs, which is also a graph input")
    model = conv_model()
    model.graph.node.append(helper.make_node("Identity", ["image"], ["bn.mean"], name="shadow"))
    corpus.model("node_output_shadows_initializer", model, "duplicate-value", ["bn.mean"],
                 "node shadow outputs bn.mean, which is also an initializer")

    # ---------------- undefined-input ----------------
    model = conv_model()
    node_of(model, "relu0").input[0] = "bn_outt"
    corpus.model("undefined_input_typo", model, "undefined-input", ["relu0", "bn_outt"],
                 "node relu0 reads bn_outt (a typo of bn_out), which nothing defines")
    model = conv_model()
    kept = [t for t in model.graph.initializer if t.name != "conv.weight"]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    corpus.model("undefined_input_missing_initializer", model, "undefined-input", ["conv0", "conv.weight"],
                 "node conv0 reads conv.weight, but that initializer was removed")

    # ---------------- undefined-output ----------------
    model = add_model()
    model.graph.output.append(helper.make_tensor_value_info("ghost_total", TensorProto.FLOAT, [2, 4]))
    corpus.model("undefined_output", model, "undefined-output", ["ghost_total"],
                 "graph output ghost_total is not produced by any node, input or initializer")
    model = conv_model()
    model.graph.value_info.append(helper.make_tensor_value_info("declared_only", TensorProto.FLOAT, [1, 4, 8, 8]))
    model.graph.output[0].name = "declared_only"
    corpus.model("undefined_output_value_info_only", model, "undefined-output", ["declared_only"],
                 "graph output declared_only has a value_info entry but nothing produces it")

    # ---------------- cycle ----------------
    def cycle_model(nodes, graph_name):
        graph = helper.make_graph(
            nodes, graph_name,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])])
        return make(graph)

    corpus.model("cycle_two_nodes", cycle_model([
        helper.make_node("Relu", ["b"], ["a"], name="loop_a"),
        helper.make_node("Relu", ["a"], ["b"], name="loop_b"),
        helper.make_node("Add", ["a", "x"], ["y"], name="consume"),
    ], "cycle2"), "cycle", ["loop_a", "loop_b"],
        "loop_a computes a from b and loop_b computes b from a; consume adds a to the input x")
    corpus.model("cycle_three_nodes", cycle_model([
        helper.make_node("Add", ["x", "r3"], ["r1"], name="ring1"),
        helper.make_node("Relu", ["r1"], ["r2"], name="ring2"),
        helper.make_node("Neg", ["r2"], ["r3"], name="ring3"),
        helper.make_node("Identity", ["r2"], ["y"], name="tap"),
    ], "cycle3"), "cycle", ["ring1", "ring2", "ring3"],
        "ring1 → ring2 → ring3 → ring1 (ring1 also reads the input x); tap reads r2")
    corpus.model("cycle_self_loop", cycle_model([
        helper.make_node("Add", ["x", "acc"], ["acc"], name="accumulate"),
        helper.make_node("Identity", ["acc"], ["y"], name="tap"),
    ], "self_loop"), "cycle", ["accumulate"],
        "node accumulate reads its own output acc")

    # ---------------- invalid-attribute ----------------
    model = conv_model()
    attribute_of(node_of(model, "bn0"), "epsilon").ClearField("f")
    corpus.model("attribute_float_without_f", model, "invalid-attribute", ["bn0", "epsilon"],
                 "attribute epsilon of node bn0 has type FLOAT but no f")
    model = conv_model()
    add_raw_attribute(node_of(model, "conv0"),
                      enc_len(1, b"group") + enc_tag(3, VARINT) + enc_varint(1) + enc_tag(20, VARINT) + enc_varint(99))
    corpus.model("attribute_type_99", model, "invalid-attribute", ["conv0", "group"],
                 "attribute group of node conv0 has i = 1 and type code 99, which does not exist")
    model = conv_model()
    kernel = attribute_of(node_of(model, "conv0"), "kernel_shape")
    kernel.type = AttributeProto.INT
    corpus.model("attribute_ints_typed_int", model, "invalid-attribute", ["conv0", "kernel_shape"],
                 "attribute kernel_shape of node conv0 holds ints [3, 3] but its type says INT (i is not set)")
    model = conv_model()
    node = node_of(model, "conv0")
    node.attribute.append(helper.make_attribute("strides", [2, 2]))
    corpus.model("attribute_duplicate", model, "invalid-attribute", ["conv0", "strides"],
                 "node conv0 has two attributes named strides")
    model = conv_model()
    add_raw_attribute(node_of(model, "relu0"), enc_tag(2, FIXED32) + struct.pack("<f", 0.5) + enc_tag(20, VARINT) + enc_varint(1))
    corpus.model("attribute_without_name", model, "invalid-attribute", ["relu0"],
                 "node relu0 has a FLOAT attribute with no name")
    model = constant_model()
    remove_attribute(node_of(model, "const0"), "value")
    corpus.model("constant_without_value", model, "invalid-attribute", ["const0", "value"],
                 "Constant node const0 has no attributes: none of value, value_float, value_ints, ... is set")
    model = constant_model()
    attribute_of(node_of(model, "const0"), "value").ClearField("t")
    corpus.model("attribute_tensor_without_t", model, "invalid-attribute", ["const0", "value"],
                 "attribute value of Constant node const0 has type TENSOR but no t")

    # ---------------- ok: valid controls ----------------
    corpus.model("ok_conv_bn_relu", conv_model(), "ok", [], "the conv base model, unchanged (raw_data initializers)")
    corpus.model("ok_two_branch_add", add_model(), "ok", [], "the two-branch Add base model, unchanged")
    corpus.model("ok_typed_data", typed_model(), "ok", [],
                 "initializers in int64_data, float_data, int32_data and double_data instead of raw_data")
    corpus.model("ok_conv_float_data", conv_model(typed=True), "ok", [],
                 "the conv model with every initializer in float_data instead of raw_data")
    corpus.model("ok_float16_initializer", fp16_model(), "ok", [], "a float16 initializer stored as raw_data")

    unknown = (enc_len(99, b"a future extension the loader does not know")
               + enc_tag(98, VARINT) + enc_varint(123456789)
               + enc_tag(97, FIXED64) + struct.pack("<d", 2.5)
               + enc_tag(96, FIXED32) + struct.pack("<f", 1.5))
    corpus.add("ok_unknown_top_level_fields", conv_bytes + unknown, "ok", [],
               "the conv model followed by unknown ModelProto fields 99 (bytes), 98 (varint), "
               "97 (fixed64) and 96 (fixed32), which must be skipped")
    model = conv_model()
    node_of(model, "conv0").MergeFromString(enc_len(50, b"unknown node field"))
    tensor_of(model, "conv.bias").MergeFromString(enc_tag(51, VARINT) + enc_varint(7))
    model.graph.MergeFromString(enc_len(52, enc_len(1, b"nested message")))
    corpus.model("ok_unknown_nested_fields", model, "ok", [],
                 "unknown fields inside NodeProto conv0 (50), TensorProto conv.bias (51) and GraphProto (52)")

    model = conv_model()
    model.opset_import.append(helper.make_opsetid("ghost.test", 1))
    function = helper.make_function(
        "ghost.test", "ScaledRelu", ["x"], ["y"],
        [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Identity", ["r"], ["y"])],
        [helper.make_opsetid("", OPSET)])
    model.functions.append(function)
    node_of(model, "relu0").op_type = "ScaledRelu"
    node_of(model, "relu0").domain = "ghost.test"
    training = onnx.TrainingInfoProto()
    training.algorithm.CopyFrom(helper.make_graph(
        [helper.make_node("Identity", ["features"], ["loss"], name="fake_loss")], "algorithm",
        [], [helper.make_tensor_value_info("loss", TensorProto.FLOAT, [1, 4, 8, 8])]))
    training.initialization.CopyFrom(helper.make_graph([], "initialization", [], []))
    model.training_info.append(training)
    corpus.model("ok_functions_and_training_info", model, "ok", [],
                 "ModelProto.functions (field 25) defines ghost.test ScaledRelu, used by node relu0; "
                 "training_info (field 20) holds an algorithm graph; both are unknown to the loader")

    model = conv_model()
    sparse = helper.make_sparse_tensor(
        helper.make_tensor("sparse.values", TensorProto.FLOAT, [2], [1.0, -1.0]),
        helper.make_tensor("sparse.indices", TensorProto.INT64, [2], [1, 3]), [4])
    model.graph.sparse_initializer.append(sparse)
    corpus.model("ok_sparse_initializer", model, "ok", [],
                 "an unused sparse_initializer (GraphProto field 15) that the loader must skip")

    model = conv_model()
    weight_tensor = tensor_of(model, "conv.weight")
    model.graph.input.append(helper.make_tensor_value_info("conv.weight", TensorProto.FLOAT, list(weight_tensor.dims)))
    corpus.model("ok_initializer_as_input", model, "ok", [],
                 "conv.weight is an initializer and also listed (with matching type) as a graph input, as IR < 4 files do")

    corpus.model("ok_constant_node", constant_model(), "ok", [], "a Constant node with a TENSOR value attribute")

    then_graph = helper.make_graph([helper.make_node("Relu", ["x"], ["then_y"], name="then_relu")], "then_branch",
                                   [], [helper.make_tensor_value_info("then_y", TensorProto.FLOAT, [4])])
    else_graph = helper.make_graph([helper.make_node("Neg", ["x"], ["else_y"], name="else_neg")], "else_branch",
                                   [], [helper.make_tensor_value_info("else_y", TensorProto.FLOAT, [4])])
    graph = helper.make_graph(
        [helper.make_node("If", ["cond"], ["y"], name="if0", then_branch=then_graph, else_branch=else_graph)],
        "if_graph",
        [helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
         helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])])
    corpus.model("ok_if_graph_attributes", make(graph), "ok", [],
                 "an If node whose then_branch and else_branch are GRAPH attributes reading the outer x")

    model = conv_model()
    model.opset_import[0].domain = "ai.onnx"
    corpus.model("ok_opset_domain_ai_onnx", model, "ok", [],
                 "the default opset imported under its long name \"ai.onnx\" instead of \"\"")
    model = conv_model()
    node = node_of(model, "conv0")
    node.input[2] = ""
    kept = [t for t in model.graph.initializer if t.name != "conv.bias"]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept)
    corpus.model("ok_optional_input_empty", model, "ok", [],
                 "Conv node conv0 with inputs [image, conv.weight, \"\"]: an empty name is an omitted optional input")
    model = conv_model()
    model.graph.initializer.append(helper.make_tensor("unused.empty", TensorProto.FLOAT, [0, 4], []))
    corpus.model("ok_empty_tensor", model, "ok", [],
                 "an extra, unused initializer with dims [0, 4] and no data (zero elements need no bytes)")

    model = conv_model()
    externalize(tensor_of(model, "conv.weight"), [("location", "weights.bin"), ("offset", "0"), ("length", "432")])
    externalize(tensor_of(model, "conv.bias"), [("location", "weights.bin"), ("offset", "432")])
    corpus.model("ok_external_data", model, "ok", [],
                 "conv.weight and conv.bias EXTERNAL in weights.bin (offsets 0 and 432)")
    external_case("ok_external_nested_dir", "conv.bias", [("location", "data/nested.bin")],
                  "conv.bias EXTERNAL in data/nested.bin, a subdirectory of the model's directory", code="ok")


def check_valid_controls(corpus: Corpus, out: str) -> None:
    """The controls must pass onnx.checker; corrupted cases are never checked."""
    for name, model in corpus.checked_ok:
        if any(t.data_location == TensorProto.EXTERNAL for t in model.graph.initializer):
            # checker resolves external files relative to the model's path
            onnx.checker.check_model(os.path.join(out, name + ".onnx"))
        else:
            onnx.checker.check_model(model)


def write(corpus: Corpus, out: str) -> None:
    if os.path.lexists(out):
        # Refuse to wipe a directory that is not a previous corpus (say, a mistyped argument).
        if os.listdir(out) and not os.path.isfile(os.path.join(out, "manifest.json")):
            sys.exit(f"{out} exists and has no manifest.json; not deleting it")
        shutil.rmtree(out)
    os.makedirs(out)
    for name in sorted(corpus.files):
        path = os.path.join(out, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(corpus.files[name])
    for name in sorted(corpus.links):
        os.symlink(corpus.links[name], os.path.join(out, name))
    manifest = json.dumps(corpus.entries, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8", newline="\n") as handle:
        handle.write(manifest)


def main() -> int:
    out = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    corpus = Corpus()
    build(corpus)
    write(corpus, out)
    check_valid_controls(corpus, out)
    counts = Counter(entry["code"] for entry in corpus.entries)
    for code in sorted(counts):
        print(f"{counts[code]:4d}  {code}")
    print(f"{len(corpus.entries):4d}  cases written to {os.path.relpath(out, REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
