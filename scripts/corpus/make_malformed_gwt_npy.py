"""Generates the malformed .gwt and .npy corpus: Tests/Fixtures/malformed-gwt/, Tests/Fixtures/malformed-npy/.

.gwt cases start from a valid file the tool writes (`ghost-convert fuse` of an exported RepGhost
block) and damage it: truncation at and around every section boundary, bit flips in every header
field, section offsets and lengths past the end or overflowing, overlapping and misaligned
sections, duplicate and missing sections, newer major versions, and JSON edits — with checksums
repaired, so the reader's later rules are reached — for huge, negative and overflowing shapes,
tensor offsets past the data, unknown dtypes, dangling node inputs, cycles, bad attribute values.
.npy cases damage arrays numpy wrote. Each directory gets a manifest.json of
{"file", "code", "description"}: the error code the reader must give (exit 2 through the CLI).

Usage: python scripts/corpus/make_malformed_gwt_npy.py --tool .build/debug/ghost-convert
Needs numpy. Deterministic: the same tool output gives the same corpus.
"""
import argparse
import json
import pathlib
import shutil
import struct
import subprocess
import tempfile
import zlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCE = ROOT / "Tests/Fixtures/blocks/repghost_module_torchscript/model.onnx"


class GWT:
    """A .gwt file as bytes, with the layout of docs/gwt-format.md."""

    def __init__(self, data):
        self.data = bytearray(data)

    def u32(self, at):
        return struct.unpack_from("<I", self.data, at)[0]

    def u64(self, at):
        return struct.unpack_from("<Q", self.data, at)[0]

    def section(self, index):
        entry = 64 + 32 * index
        return self.u64(entry + 8), self.u64(entry + 16)

    def repair(self):
        count = self.u32(12)
        for index in range(count):
            offset, length = self.section(index)
            if offset + length <= len(self.data):
                struct.pack_into("<I", self.data, 64 + 32 * index + 24, zlib.crc32(self.data[offset:offset + length]))
        struct.pack_into("<I", self.data, 32, zlib.crc32(self.data[64:64 + 32 * count]))
        struct.pack_into("<Q", self.data, 24, len(self.data))
        struct.pack_into("<I", self.data, 36, zlib.crc32(self.data[:36]))
        return self

    def edit_json(self, index, change):
        """Rewrites section `index`'s JSON in place (padding with spaces) and repairs checksums."""
        offset, length = self.section(index)
        limit = self.section(index + 1)[0] - offset
        document = json.loads(bytes(self.data[offset:offset + length]))
        change(document)
        text = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
        assert len(text) <= limit, "edited JSON no longer fits"
        self.data[offset:offset + limit] = text + b" " * (limit - len(text))
        struct.pack_into("<Q", self.data, 64 + 32 * index + 16, limit)
        return self.repair()


def gwt_cases(valid):
    cases = []

    def add(name, data, code, description):
        cases.append((name, bytes(data), code, description))

    base = GWT(valid)
    size = len(valid)
    sections = [base.section(i) for i in range(3)]
    # Truncations at and around every boundary.
    cuts = {0, 1, 7, 8, 12, 36, 40, 63}
    cuts |= {64, 64 + 31, 64 + 32, 64 + 96}
    for offset, length in sections:
        cuts |= {offset - 1, offset, offset + 1, offset + length // 2, offset + length - 1}
    for cut in sorted(c for c in cuts if 0 <= c < size):
        add(f"truncated_at_{cut}", valid[:cut], "truncated" if cut < 64 else "length-mismatch", f"file cut to {cut} bytes")
    add("appended_bytes", valid + b"\0" * 10, "length-mismatch", "10 bytes appended")
    # Bit flips in each header field: the header checksum catches them.
    for field, at in [("magic", 1), ("major", 8), ("minor", 10), ("section_count", 12), ("table_offset", 16),
                      ("file_length", 24), ("table_crc", 32)]:
        data = bytearray(valid)
        data[at] ^= 0x04
        # The reader checks magic, then the major version, then the header checksum (spec order).
        code = {"magic": "bad-magic", "major": "unsupported-version"}.get(field, "checksum-mismatch")
        add(f"flip_header_{field}", data, code, f"one bit flipped in the header's {field}")
    # Header fields changed with the checksum repaired: the later rules must catch them.
    for name, edit, code in [
        ("major_2", lambda g: struct.pack_into("<H", g.data, 8, 2), "unsupported-version"),
        ("major_0", lambda g: struct.pack_into("<H", g.data, 8, 0), "unsupported-version"),
        ("section_count_0", lambda g: struct.pack_into("<I", g.data, 12, 0), "invalid-section-table"),
        ("section_count_huge", lambda g: struct.pack_into("<I", g.data, 12, 0xFFFFFFFF), "invalid-section-table"),
        ("section_count_2", lambda g: struct.pack_into("<I", g.data, 12, 2), "invalid-section-table"),
        ("table_offset_past_end", lambda g: struct.pack_into("<Q", g.data, 16, 1 << 40), "invalid-section-table"),
        ("table_offset_in_header", lambda g: struct.pack_into("<Q", g.data, 16, 8), "invalid-section-table"),
    ]:
        g = GWT(valid)
        edit(g)
        if name.startswith("section_count_huge") or name.startswith("table_offset") or name == "section_count_0":
            struct.pack_into("<I", g.data, 36, zlib.crc32(g.data[:36]))  # header only: the table is unreadable
        else:
            g.repair()
        add(f"header_{name}", g.data, code, f"header field edited ({name}), checksums repaired")
    # Section table entries.
    for index in range(3):
        entry = 64 + 32 * index
        for name, edit, code in [
            ("offset_past_end", lambda g: struct.pack_into("<Q", g.data, entry + 8, 1 << 40), "invalid-section"),
            ("length_past_end", lambda g: struct.pack_into("<Q", g.data, entry + 16, 1 << 40), "invalid-section"),
            ("offset_overflow", lambda g: (struct.pack_into("<Q", g.data, entry + 8, (1 << 64) - 64),
                                           struct.pack_into("<Q", g.data, entry + 16, 128)), "invalid-section"),
            ("misaligned", lambda g: struct.pack_into("<Q", g.data, entry + 8, g.section(index)[0] + 8), "invalid-section"),
            ("inside_table", lambda g: struct.pack_into("<Q", g.data, entry + 8, 64), "invalid-section"),
            ("overlaps_previous", lambda g: struct.pack_into("<Q", g.data, entry + 8, g.section(index - 1)[0]) if index else
                struct.pack_into("<Q", g.data, entry + 8, g.section(1)[0]), "invalid-section"),
            ("bad_crc", lambda g: struct.pack_into("<I", g.data, entry + 24, 0xDEADBEEF), "checksum-mismatch"),
        ]:
            g = GWT(valid)
            edit(g)
            if name != "bad_crc":
                g.repair()
            else:
                struct.pack_into("<I", g.data, 32, zlib.crc32(g.data[64:64 + 96]))
                struct.pack_into("<I", g.data, 36, zlib.crc32(g.data[:36]))
            add(f"section{index}_{name}", g.data, code, f"section {index}: {name}")
    for kind_index, kind in [(0, 2), (2, 1)]:
        g = GWT(valid)
        struct.pack_into("<I", g.data, 64 + 32 * kind_index, kind)
        add(f"duplicate_kind_{kind}", g.repair().data, "invalid-section", f"section {kind_index} relabelled as kind {kind}")
    g = GWT(valid)
    struct.pack_into("<I", g.data, 64 + 32 * 2, 77)
    add("missing_data_section", g.repair().data, "invalid-section-table", "the tensor data section has an unknown kind")
    # Corrupted payload bytes: checksums catch them.
    for index, (offset, length) in enumerate(sections):
        for where in (0, length // 3, length - 1):
            data = bytearray(valid)
            data[offset + where] ^= 0x20
            add(f"flip_section{index}_byte_{where}", data, "checksum-mismatch", f"one bit flipped in section {index}")

    # JSON edits with checksums repaired.
    def graph_edit(name, change, code, description):
        try:
            add(name, GWT(valid).edit_json(1, change).data, code, description)
        except AssertionError:
            pass

    def first_tensor(d):
        return d["initializers"][0]

    graph_edit("tensor_negative_dim", lambda d: first_tensor(d).update(shape=[-1] + first_tensor(d)["shape"][1:]), "invalid-tensor", "negative dimension")
    graph_edit("tensor_huge_dims", lambda d: first_tensor(d).update(shape=[1 << 40, 1 << 40]), "invalid-tensor", "element count overflows Int64")
    graph_edit("tensor_bytes_overflow", lambda d: first_tensor(d).update(shape=[1 << 62], length=1 << 62), "invalid-tensor", "byte length overflows Int64")
    graph_edit("tensor_length_short", lambda d: first_tensor(d).update(length=first_tensor(d)["length"] - 4), "invalid-tensor", "length one element short")
    graph_edit("tensor_offset_past_data", lambda d: first_tensor(d).update(offset=1 << 40), "invalid-tensor", "offset past the data section")
    graph_edit("tensor_offset_misaligned", lambda d: first_tensor(d).update(offset=first_tensor(d)["offset"] + 4), "invalid-tensor", "offset not a multiple of 64")
    graph_edit("tensor_offset_negative", lambda d: first_tensor(d).update(offset=-64), "invalid-tensor", "negative offset")
    graph_edit("tensor_overlap", lambda d: d["initializers"][1].update(offset=first_tensor(d)["offset"]), "invalid-tensor", "two tensors share bytes")
    graph_edit("tensor_unknown_dtype", lambda d: first_tensor(d).update(dtype="complex64"), "invalid-tensor", "unknown dtype")
    graph_edit("tensor_duplicate_name", lambda d: d["initializers"][1].update(name=first_tensor(d)["name"]), "duplicate-value", "two initializers with one name")
    graph_edit("node_dangling_input", lambda d: d["nodes"][1]["inputs"].__setitem__(0, "nowhere"), "undefined-input", "node reads an undefined value")
    graph_edit("output_undefined", lambda d: d["outputs"][0].update(name="nowhere"), "undefined-output", "graph output nothing produces")
    graph_edit("cycle", lambda d: d["nodes"][0]["inputs"].__setitem__(0, d["nodes"][1]["outputs"][0]), "cycle", "first node reads the second's output")
    graph_edit("duplicate_output", lambda d: d["nodes"][1]["outputs"].__setitem__(0, d["nodes"][0]["outputs"][0]), "duplicate-value", "two nodes define one value")
    graph_edit("attribute_unknown_type", lambda d: d["nodes"][0]["attributes"][0].update(type="matrix"), "invalid-json", "unknown attribute type")
    graph_edit("attribute_wrong_json_type", lambda d: [a.update(value="three") for a in d["nodes"][0]["attributes"] if a["type"] == "ints"], "invalid-json", "ints attribute holding a string")
    graph_edit("missing_nodes_key", lambda d: d.pop("nodes"), "invalid-json", "the graph has no nodes key")
    graph_edit("value_negative_dim", lambda d: d["inputs"][0].update(shape=[-3, 8, 12, 12]), "invalid-tensor", "declared input dimension −3")
    graph_edit("value_unknown_dtype", lambda d: d["inputs"][0].update(dtype="quaternion"), "invalid-tensor", "declared input of unknown type")
    g = GWT(valid)
    offset, length = g.section(1)
    g.data[offset:offset + length] = b"[" + b" " * (length - 1)
    add("graph_not_json", g.repair().data, "invalid-json", "graph section is not JSON")
    g = GWT(valid)
    offset, length = g.section(0)
    g.data[offset:offset + length] = b"\xff\xfe" + b" " * (length - 2)
    add("metadata_not_utf8", g.repair().data, "invalid-json", "metadata section is not UTF-8")
    add("empty_file", b"", "truncated", "zero bytes")
    add("onnx_named_gwt", SOURCE.read_bytes()[:4096], "bad-magic", "an ONNX file renamed .gwt")
    return cases


def npy_cases():
    cases = []

    def npy(array):
        import io
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        return buffer.getvalue()

    def add(name, data, code, description):
        cases.append((name, bytes(data), code, description))

    good = npy(np.arange(12, dtype=np.float32).reshape(3, 4))
    header_length = struct.unpack_from("<H", good, 8)[0]
    for cut in (0, 3, 6, 8, 9, 10, 20, 10 + header_length - 1, 10 + header_length, len(good) - 1):
        # A prefix of the magic is a truncated file; a cut after the header leaves too little data.
        code = "truncated" if cut < 10 + header_length else "data-length-mismatch"
        add(f"truncated_at_{cut}", good[:cut], code, f"cut to {cut} bytes")
    for at in (0, 1, 5):
        data = bytearray(good)
        data[at] ^= 0x01
        add(f"flip_magic_{at}", data, "bad-magic", f"magic byte {at} flipped")
    for major in (0, 4, 255):
        data = bytearray(good)
        data[6] = major
        add(f"version_{major}", data, "unsupported-version", f"format version {major}.0")
    data = bytearray(good)
    struct.pack_into("<H", data, 8, 0xFFFF)
    add("header_length_past_end", data, "truncated", "header length 65535")

    def with_header(text, payload=b""):
        body = text.encode("latin1")
        total = (10 + len(body) + 1 + 63) // 64 * 64
        body += b" " * (total - 10 - len(body) - 1) + b"\n"
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(body)) + body + payload

    floats = np.arange(4, dtype="<f4").tobytes()
    for name, text, payload, code in [
        ("fortran", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", floats, "fortran-order"),
        ("object", "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", b"\0" * 16, "unsupported-dtype"),
        ("big_endian", "{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", floats, "unsupported-dtype"),
        ("complex", "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", floats, "unsupported-dtype"),
        ("structured", "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,), }", floats, "invalid-header"),
        ("negative_dim", "{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }", floats, "invalid-header"),
        ("overflow", "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 8), }", b"", "size-overflow"),
        ("bytes_overflow", "{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,), }", b"", "size-overflow"),
        ("short_data", "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", floats, "data-length-mismatch"),
        ("long_data", "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", floats, "data-length-mismatch"),
        ("no_shape", "{'descr': '<f4', 'fortran_order': False, }", floats, "invalid-header"),
        ("no_descr", "{'fortran_order': False, 'shape': (4,), }", floats, "invalid-header"),
        ("no_order", "{'descr': '<f4', 'shape': (4,), }", floats, "invalid-header"),
        ("order_not_bool", "{'descr': '<f4', 'fortran_order': 0, 'shape': (4,), }", floats, "invalid-header"),
        ("shape_not_tuple", "{'descr': '<f4', 'fortran_order': False, 'shape': 4, }", floats, "invalid-header"),
        ("shape_text", "{'descr': '<f4', 'fortran_order': False, 'shape': (four,), }", floats, "invalid-header"),
        ("not_a_dict", "['descr', '<f4']", floats, "invalid-header"),
        ("pickle_header", "cnumpy\\nndarray", floats, "invalid-header"),
        ("unquoted_descr", "{'descr': f4, 'fortran_order': False, 'shape': (4,), }", floats, "invalid-header"),
    ]:
        add(name, with_header(text, payload), code, name.replace("_", " "))
    add("zip_file", b"PK\x03\x04" + b"\0" * 40, "bad-magic", "an .npz renamed .npy")
    add("empty", b"", "truncated", "zero bytes")
    return cases


def write(directory, extension, cases):
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    manifest = []
    for name, data, code, description in cases:
        file = f"{name}.{extension}"
        (directory / file).write_bytes(data)
        manifest.append({"file": file, "code": code, "description": description})
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return len(manifest)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", required=True)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        valid_path = pathlib.Path(scratch) / "valid.gwt"
        subprocess.run([args.tool, "fuse", str(SOURCE), str(valid_path)], check=True, stderr=subprocess.DEVNULL)
        valid = valid_path.read_bytes()
    gwt = write(ROOT / "Tests/Fixtures/malformed-gwt", "gwt", gwt_cases(valid))
    npy = write(ROOT / "Tests/Fixtures/malformed-npy", "npy", npy_cases())
    print(f"wrote {gwt} .gwt and {npy} .npy cases")


if __name__ == "__main__":
    main()
