"""Hypothesis strategies for any protobuf message, read off its descriptor.

A drawn message has every proto2 ``required`` field (recursively, in the
sub-messages present) and each optional field with even odds; repeated
fields hold zero to two items. Integer fields that carry an enum take any
value of their width, so values no version knows come up. The message is
serialised and parsed again, as a client would receive it.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import strategies as st

_T = FieldDescriptor

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
doubles = st.floats(allow_nan=False)

_SCALARS: dict[int, st.SearchStrategy[Any]] = {
    _T.TYPE_DOUBLE: doubles,
    _T.TYPE_FLOAT: st.floats(allow_nan=False, width=32),
    _T.TYPE_INT32: st.integers(-(2**31), 2**31 - 1),
    _T.TYPE_SINT32: st.integers(-(2**31), 2**31 - 1),
    _T.TYPE_INT64: st.integers(-(2**63), 2**63 - 1),
    _T.TYPE_SINT64: st.integers(-(2**63), 2**63 - 1),
    _T.TYPE_UINT32: st.integers(0, 2**32 - 1),
    _T.TYPE_UINT64: st.integers(0, 2**64 - 1),
    _T.TYPE_BOOL: st.booleans(),
    _T.TYPE_STRING: texts,
    _T.TYPE_BYTES: st.binary(max_size=12),
}


def is_repeated(field: FieldDescriptor) -> bool:
    """Whether ``field`` is repeated, on every protobuf the package allows (5.29 to 7).

    protobuf 7 removed ``FieldDescriptor.label``; ``is_repeated`` (a
    property, from 6.x) replaced it. 5.29 has only ``label``.
    """
    flag = getattr(field, "is_repeated", None)
    return bool(flag) if flag is not None else field.label == _T.LABEL_REPEATED


def is_required(field: FieldDescriptor) -> bool:
    """Whether ``field`` is a proto2 ``required`` field, on protobuf 5.29 to 7 (see above)."""
    flag = getattr(field, "is_required", None)
    return bool(flag) if flag is not None else field.label == _T.LABEL_REQUIRED


def _fill(draw: st.DrawFn, message: Any, depth: int) -> None:
    message.SetInParent()
    descriptor: Descriptor = message.DESCRIPTOR
    for field in descriptor.fields:
        name = field.name
        if is_repeated(field):
            count = draw(st.integers(0, 2 if depth < 3 else 0))
            container = getattr(message, name)
            for _ in range(count):
                if field.type == _T.TYPE_MESSAGE:
                    _fill(draw, container.add(), depth + 1)
                else:
                    container.append(draw(_SCALARS[field.type]))
            continue
        if not is_required(field) and not draw(st.booleans()):
            continue
        if field.type == _T.TYPE_MESSAGE:
            _fill(draw, getattr(message, name), depth + 1)
        else:
            setattr(message, name, draw(_SCALARS[field.type]))


@st.composite
def pb_messages(draw: st.DrawFn, message_type: type[Message]) -> Any:
    """A valid ``message_type`` as it arrives off the wire."""
    message = message_type()
    _fill(draw, message, 0)
    return message_type.FromString(message.SerializeToString())
