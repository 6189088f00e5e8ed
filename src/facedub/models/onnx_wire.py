"""ONNX's protobuf wire format, read and written for the few messages a swap needs, so
that a swap never imports onnx (about 0.12 s of CPU here, on the start-up's one busy
core before the first frame): the metadata_props of an exported file
(`model_metadata_props`) and the occlusion network's graph (`models.occluder_graph`).

Field numbers are onnx.proto's (proto2: repeated numbers are not packed). Messages are
written with their fields in field-number order, as protobuf serializes them, so the
bytes are those `SerializeToString` gives (tests compare them)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5

# ModelProto
MODEL_IR_VERSION, MODEL_GRAPH, MODEL_OPSET_IMPORT, MODEL_METADATA_PROPS = 1, 7, 8, 14
# StringStringEntryProto, OperatorSetIdProto
ENTRY_KEY, ENTRY_VALUE = 1, 2
OPSET_DOMAIN, OPSET_VERSION = 1, 2
# GraphProto
GRAPH_NODE, GRAPH_NAME, GRAPH_INITIALIZER, GRAPH_INPUT, GRAPH_OUTPUT = 1, 2, 5, 11, 12
# NodeProto
NODE_INPUT, NODE_OUTPUT, NODE_OP_TYPE, NODE_ATTRIBUTE = 1, 2, 4, 5
# AttributeProto and its AttributeType values
ATTRIBUTE_NAME, ATTRIBUTE_I, ATTRIBUTE_S, ATTRIBUTE_INTS, ATTRIBUTE_TYPE = 1, 3, 4, 8, 20
TYPE_INT, TYPE_STRING, TYPE_INTS = 2, 3, 7
# TensorProto and its FLOAT data type
TENSOR_DIMS, TENSOR_DATA_TYPE, TENSOR_NAME, TENSOR_RAW_DATA = 1, 2, 8, 9
FLOAT = 1
# ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto, its Dimension
VALUE_NAME, VALUE_TYPE = 1, 2
TYPE_TENSOR = 1
TENSOR_ELEM_TYPE, TENSOR_SHAPE = 1, 2
SHAPE_DIM = 1
DIM_VALUE = 1

AttributeValue = int | str | Sequence[int]


def model_metadata_props(data: bytes) -> dict[str, str]:
    """The metadata_props of a serialized ONNX ModelProto, read from its wire format (the
    top-level fields walked, the graph skipped whole); ValueError for bytes that are not
    a well-formed message. Only lengths and UTF-8 strings are read: nothing is run."""
    metadata: dict[str, str] = {}
    for number, value in fields(memoryview(data)):
        if number == MODEL_METADATA_PROPS:
            if not isinstance(value, memoryview):
                raise ValueError("metadata_props is not a message")
            entry = dict(fields(value))
            key, text = entry.get(ENTRY_KEY, b""), entry.get(ENTRY_VALUE, b"")
            if isinstance(key, int) or isinstance(text, int):
                raise ValueError("a metadata entry's key or value is not a string")
            metadata[bytes(key).decode("utf-8")] = bytes(text).decode("utf-8")
    return metadata


def fields(view: memoryview) -> Iterator[tuple[int, int | memoryview]]:
    """(field number, value) of each field of the protobuf message `view`: a varint's or
    a fixed-size field's int, a length-delimited field's bytes (a view, not copied)."""
    position = 0
    while position < len(view):
        tag, position = _read_varint(view, position)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise ValueError("field number 0")
        value: int | memoryview
        if wire == VARINT:
            value, position = _read_varint(view, position)
        elif wire in (FIXED64, FIXED32):
            width = 8 if wire == FIXED64 else 4
            if position + width > len(view):
                raise ValueError("truncated fixed-size field")
            value = int.from_bytes(view[position:position + width], "little")
            position += width
        elif wire == LENGTH:
            length, position = _read_varint(view, position)
            if position + length > len(view):
                raise ValueError("truncated length-delimited field")
            value = view[position:position + length]
            position += length
        else:  # groups (3, 4) are not in ONNX's schema; 6 and 7 are no wire types
            raise ValueError(f"wire type {wire}")
        yield number, value


def _read_varint(view: memoryview, position: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if position >= len(view) or shift > 63:
            raise ValueError("truncated or overlong varint")
        byte = view[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7


def varint(value: int) -> bytes:
    """A protobuf varint; a negative int64 as its 64-bit two's complement."""
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def int_field(number: int, value: int) -> bytes:
    return varint(number << 3 | VARINT) + varint(value)


def bytes_field(number: int, data: bytes | str) -> bytes:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return varint(number << 3 | LENGTH) + varint(len(raw)) + raw


def node(op_type: str, inputs: Sequence[str], outputs: Sequence[str],
         **attributes: AttributeValue) -> bytes:
    """A NodeProto as `onnx.helper.make_node` makes it (no name; attributes sorted by
    name)."""
    return b"".join([*(bytes_field(NODE_INPUT, name) for name in inputs),
                     *(bytes_field(NODE_OUTPUT, name) for name in outputs),
                     bytes_field(NODE_OP_TYPE, op_type),
                     *(bytes_field(NODE_ATTRIBUTE, _attribute(name, attributes[name]))
                       for name in sorted(attributes))])


def _attribute(name: str, value: AttributeValue) -> bytes:
    if isinstance(value, str):
        return (bytes_field(ATTRIBUTE_NAME, name) + bytes_field(ATTRIBUTE_S, value)
                + int_field(ATTRIBUTE_TYPE, TYPE_STRING))
    if isinstance(value, int):
        return (bytes_field(ATTRIBUTE_NAME, name) + int_field(ATTRIBUTE_I, value)
                + int_field(ATTRIBUTE_TYPE, TYPE_INT))
    return (bytes_field(ATTRIBUTE_NAME, name)
            + b"".join(int_field(ATTRIBUTE_INTS, item) for item in value)
            + int_field(ATTRIBUTE_TYPE, TYPE_INTS))


def float_tensor(name: str, value: np.ndarray) -> bytes:
    """A TensorProto of `value` as float32, as `onnx.numpy_helper.from_array` makes it
    (its dims, the raw little-endian data)."""
    array = np.ascontiguousarray(value, "<f4")
    return b"".join([*(int_field(TENSOR_DIMS, size) for size in array.shape),
                     int_field(TENSOR_DATA_TYPE, FLOAT), bytes_field(TENSOR_NAME, name),
                     bytes_field(TENSOR_RAW_DATA, array.tobytes())])


def float_value_info(name: str, shape: Sequence[int]) -> bytes:
    """A ValueInfoProto of a float tensor of `shape`, as
    `onnx.helper.make_tensor_value_info` makes it."""
    dims = b"".join(bytes_field(SHAPE_DIM, int_field(DIM_VALUE, size)) for size in shape)
    tensor = int_field(TENSOR_ELEM_TYPE, FLOAT) + bytes_field(TENSOR_SHAPE, dims)
    return bytes_field(VALUE_NAME, name) + bytes_field(VALUE_TYPE,
                                                       bytes_field(TYPE_TENSOR, tensor))


def model(nodes: Sequence[bytes], name: str, inputs: Sequence[bytes],
          outputs: Sequence[bytes], initializers: Sequence[bytes], opset: int,
          ir_version: int) -> bytes:
    """A serialized ModelProto of one graph (`onnx.helper.make_graph` and `make_model`
    with the default domain's `opset`)."""
    graph = b"".join([*(bytes_field(GRAPH_NODE, item) for item in nodes),
                      bytes_field(GRAPH_NAME, name),
                      *(bytes_field(GRAPH_INITIALIZER, item) for item in initializers),
                      *(bytes_field(GRAPH_INPUT, item) for item in inputs),
                      *(bytes_field(GRAPH_OUTPUT, item) for item in outputs)])
    opset_id = bytes_field(OPSET_DOMAIN, "") + int_field(OPSET_VERSION, opset)
    return b"".join([int_field(MODEL_IR_VERSION, ir_version), bytes_field(MODEL_GRAPH, graph),
                     bytes_field(MODEL_OPSET_IMPORT, opset_id)])
