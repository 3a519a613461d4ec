"""A .gwt reader in plain Python: numpy and the standard library, written from docs/gwt-format.md.

It exists to show the format is framework-free and its specification complete: CI runs it on files
the Swift writer produced and compares every weight with the same model exported to ONNX.

    python Samples/python/gwt_reader.py model.gwt            # prints a summary
    from gwt_reader import read_gwt; model = read_gwt("model.gwt"); model.weights["conv.weight"]
"""
import base64
import dataclasses
import json
import struct
import sys
import zlib

import numpy as np

MAGIC = b"\x89GWT\r\n\x1a\n"
HEADER_SIZE = 64
ENTRY_SIZE = 32
ALIGNMENT = 64
KINDS = {1: "metadata", 2: "graph", 3: "data"}
DTYPES = {
    "float32": np.dtype("<f4"), "float64": np.dtype("<f8"), "int64": np.dtype("<i8"), "int32": np.dtype("<i4"),
    "int16": np.dtype("<i2"), "int8": np.dtype("i1"), "uint8": np.dtype("u1"), "uint16": np.dtype("<u2"),
    "uint32": np.dtype("<u4"), "uint64": np.dtype("<u8"), "bool": np.dtype("?"),
}


class GWTError(ValueError):
    """The file breaks a rule of the specification."""


@dataclasses.dataclass
class GWTModel:
    metadata: dict
    graph: dict
    weights: dict            # initializer name -> numpy array (a read-only view of the file)
    attribute_tensors: list  # numpy arrays referenced by "tensor"/"tensors" attributes

    def attribute(self, node, name):
        """An attribute's value decoded to Python/numpy (strings and graphs as bytes)."""
        for attribute in node["attributes"]:
            if attribute["name"] != name:
                continue
            kind, value = attribute["type"], attribute["value"]
            if kind == "float":  # non-finite values are the strings "nan", "inf", "-inf"
                return float(value)
            if kind == "floats":
                return [float(v) for v in value]
            if kind == "tensor":
                return self.attribute_tensors[value]
            if kind == "tensors":
                return [self.attribute_tensors[v] for v in value]
            if kind in ("string", "graph"):
                return base64.b64decode(value, validate=True)
            if kind in ("strings", "graphs", "sparse_tensor", "sparse_tensors", "type_proto", "type_protos"):
                return [base64.b64decode(v, validate=True) for v in value]
            return value
        raise KeyError(name)


def _u(fmt, data, offset):
    return struct.unpack_from("<" + fmt, data, offset)[0]


def read_gwt(path):
    with open(path, "rb") as handle:
        data = handle.read()
    # 1. header
    if len(data) < HEADER_SIZE:
        raise GWTError(f"{path}: {len(data)} bytes is shorter than the 64-byte header")
    if data[:8] != MAGIC:
        raise GWTError(f"{path}: bad magic")
    major, minor = _u("H", data, 8), _u("H", data, 10)
    if major != 1:
        raise GWTError(f"{path}: version {major}.{minor} is not 1.x")
    if zlib.crc32(data[:36]) != _u("I", data, 36):
        raise GWTError(f"{path}: header checksum mismatch")
    if _u("Q", data, 24) != len(data):
        raise GWTError(f"{path}: file_length {_u('Q', data, 24)} != size {len(data)}")
    # 2. section table
    count, table = _u("I", data, 12), _u("Q", data, 16)
    if not 1 <= count <= 1024 or table < HEADER_SIZE or table + count * ENTRY_SIZE > len(data):
        raise GWTError(f"{path}: invalid section table")
    table_end = table + count * ENTRY_SIZE
    if zlib.crc32(data[table:table_end]) != _u("I", data, 32):
        raise GWTError(f"{path}: section table checksum mismatch")
    # 3. sections
    sections, ranges = {}, []
    for index in range(count):
        entry = table + index * ENTRY_SIZE
        kind, offset, length, crc = _u("I", data, entry), _u("Q", data, entry + 8), _u("Q", data, entry + 16), _u("I", data, entry + 24)
        if offset % ALIGNMENT or offset < table_end or offset + length > len(data):
            raise GWTError(f"{path}: section {index} at {offset}+{length} is misplaced")
        if any(offset < end and start < offset + length for start, end in ranges):
            raise GWTError(f"{path}: section {index} overlaps another")
        ranges.append((offset, offset + length))
        if zlib.crc32(data[offset:offset + length]) != crc:
            raise GWTError(f"{path}: section {index} checksum mismatch")
        if kind in KINDS:
            if KINDS[kind] in sections:
                raise GWTError(f"{path}: two {KINDS[kind]} sections")
            sections[KINDS[kind]] = (offset, length)
    if set(sections) != set(KINDS.values()):
        raise GWTError(f"{path}: missing sections {set(KINDS.values()) - set(sections)}")
    # 4. JSON
    def section_json(name):
        offset, length = sections[name]
        return json.loads(data[offset:offset + length].decode("utf-8"), parse_constant=lambda c: float(c))
    metadata, graph = section_json("metadata"), section_json("graph")
    # 5. tensors: views into the data section
    data_offset, data_length = sections["data"]
    buffer = memoryview(data)

    def tensor(record):
        dtype = DTYPES[record["dtype"]]
        shape = tuple(record["shape"])
        if any(d < 0 for d in shape):
            raise GWTError(f"{path}: tensor {record['name']} has a negative dimension")
        count = int(np.prod(shape, dtype=object)) if shape else 1
        if count * dtype.itemsize != record["length"] or record["offset"] % ALIGNMENT \
                or record["offset"] + record["length"] > data_length:
            raise GWTError(f"{path}: tensor {record['name']} record is inconsistent")
        start = data_offset + record["offset"]
        return np.frombuffer(buffer[start:start + record["length"]], dtype=dtype).reshape(shape)

    weights = {}
    for record in graph["initializers"]:
        if record["name"] in weights:
            raise GWTError(f"{path}: duplicate initializer {record['name']}")
        weights[record["name"]] = tensor(record)
    attribute_tensors = [tensor(record) for record in graph["attribute_tensors"]]
    # 7. structure: every node input defined, no cycle (nodes are stored in topological order)
    defined = {v["name"] for v in graph["inputs"]} | set(weights)
    for node in graph["nodes"]:
        for name in node["inputs"]:
            if name and name not in defined:
                raise GWTError(f"{path}: node {node['name']} reads undefined {name}")
        defined.update(o for o in node["outputs"] if o)
    for output in graph["outputs"]:
        if output["name"] not in defined:
            raise GWTError(f"{path}: output {output['name']} is not produced")
    return GWTModel(metadata, graph, weights, attribute_tensors)


def main(argv):
    for path in argv[1:]:
        model = read_gwt(path)
        ops = {}
        for node in model.graph["nodes"]:
            ops[node["op_type"]] = ops.get(node["op_type"], 0) + 1
        parameters = sum(w.size for w in model.weights.values())
        print(f"{path}: {len(model.graph['nodes'])} nodes {dict(sorted(ops.items()))}, {parameters} parameters, "
              f"fused by {model.metadata['tool']} from {model.metadata['source_file']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
