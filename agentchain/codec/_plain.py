"""A CBOR link's claims read straight from its payload bytes, in the common shape (spec 5.5).

The general reading decodes the payload into Python values (:func:`agentchain.wire.cbor.decode`)
and then the values into claims (:func:`agentchain.codec.decode_link_claims`). Most of that
work is spent on four claims that recur from link to link and from request to request: the
holder's key, the capabilities, the caveats and the descriptor. Here the top-level map is
walked by hand; each of those four values is looked up by its exact bytes among those read
before (its extent tried at the sizes met last, else found by walking its heads); only the
other claims (integers, byte strings, the purpose) are read each time.

:func:`plain_link` returns the claims only where the general reading would return the very
same claims; anything else (another shape, a refusal, limits it cannot show are met) returns
None and the caller reads the general way, which finds the first violation with its code
and message. Why that holds:

- a value is remembered only after the strict decoder read its bytes alone and the same
  claim decoders as the general reading accepted the result; a CBOR item is self-delimiting,
  so the bytes of a complete item are that item wherever they sit;
- the limits the general decoder applies to the whole payload hold over the parts: a value
  is read under one nesting level less than the payload's (the map is the first) and the
  payload's string size, and an entry serves only the limits it was read under; the item
  count (the map's pairs plus every value's) is summed here;
- the top-level checks are those of the general reading's plain shape (see
  ``_plain_cbor_link`` in :mod:`agentchain.codec._claims`), and any refusal of a claim
  decoder sends the link the general way, so that its own order of checks decides.
"""

from __future__ import annotations

from typing import Final

from agentchain._frozen import maker
from agentchain._native import LinkParts
from agentchain.codec._claims import (
    _decode_holder,
    _plain_cbor_link,
    decode_capability,
    decode_caveat,
)
from agentchain.codec._fields import decode_descriptor
from agentchain.codec._keys import L_CAPS, L_CAVEATS, L_DESCRIPTOR, L_HOLDER
from agentchain.codec._memo import ByteCache
from agentchain.errors import AgentchainError
from agentchain.limits import Limits
from agentchain.model import Window
from agentchain.model._claims import LinkClaims
from agentchain.wire import cbor

__all__ = ["holder_end", "parts_link", "plain_link"]

#: the claims whose values are remembered by their bytes, each in its own cache:
#: the value's exact bytes -> (the limits it was read under, what it reads as, the items it
#: holds)
_VALUES: Final[dict[int, ByteCache[bytes, tuple[Limits, object, int]]]] = {
    L_HOLDER: ByteCache("link holders", 1024),
    L_CAPS: ByteCache("link capabilities", 1024),
    L_CAVEATS: ByteCache("link caveats", 1024),
    L_DESCRIPTOR: ByteCache("link descriptors", 1024),
}

#: each cache's lookup, by the value's exact bytes
_LOOKUP: Final = {key: cache.lookup for key, cache in _VALUES.items()}
_HOLDERS, _CAPABILITIES = _LOOKUP[L_HOLDER], _LOOKUP[L_CAPS]
_CAVEATS, _DESCRIPTORS = _LOOKUP[L_CAVEATS], _LOOKUP[L_DESCRIPTOR]
#: the lookups :func:`parts_link` reads a plain link's holder, capabilities, caveats and
#: descriptor with, in that order, for the native core to read them the same way
#: (``NativeChain.presentation_decoder``): each value's ``(limits, value, items)``
PART_LOOKUPS: Final = (_HOLDERS, _CAPABILITIES, _CAVEATS, _DESCRIPTORS)

#: the sizes of the values each cache met last, newest first: where the value at hand may
#: end. A CBOR item is self-delimiting, so if the bytes from its start up to one of these
#: sizes are a value read before, they are the whole of this value.
_SIZES: Final[dict[int, list[int]]] = {key: [] for key in _VALUES}
_SIZES_KEPT: Final = 4
#: ``LinkClaims(...)``, faster (``_frozen.maker``): one per link of every verification
_LINK_CLAIMS: Final = maker(LinkClaims)

#: values holding more items are read the general way, every time: real ones are small, and
#: walking a large one to find where it ends costs as much as decoding it (the worst case
#: of the bench fills a link's caveats up to max_cbor_items)
_MOST_ITEMS: Final = 64


def _extent(data: bytes, pos: int, end: int, most: int = _MOST_ITEMS) -> tuple[int, int] | None:
    """(end, items) of the CBOR item at ``pos``: where it ends, and the array elements plus
    map pairs it holds, as the decoder counts them. None where a head is reserved or a
    tag, the item is cut short, or it holds more than ``most`` items. Heads are not judged
    here: the strict decoder reads every value before it is remembered."""
    items = 0
    waiting: list[int] = []  # every open container: how many items it still waits for
    while True:
        if pos >= end:
            return None
        initial = data[pos]
        pos += 1
        info = initial & 0x1F
        if info < 24:
            arg = info
        elif info < 28:
            width = 1 << (info - 24)
            arg = int.from_bytes(data[pos : pos + width], "big")
            pos += width
        else:
            return None
        major = initial >> 5
        if major in {2, 3}:
            pos += arg
        elif major in {4, 5}:
            items += arg
            if items > most:
                return None
            if arg:
                waiting.append(arg + arg if major == 5 else arg)
                continue
        elif major == 6:
            return None
        # one item complete: close every container it completes
        while waiting:
            waiting[-1] -= 1
            if waiting[-1]:
                break
            waiting.pop()
        if not waiting:
            return (pos, items) if pos <= end else None


#: the least argument each head width may carry (shorter heads carry the rest)
_SHORTEST: Final = (24, 0x100, 0x1_0000, 0x1_0000_0000)


def plain_link(payload: bytes, limits: Limits) -> LinkClaims | None:
    """The claims of a CBOR link's payload in the common shape, or None (see the module)."""
    try:
        return _read(payload, limits)
    except AgentchainError:
        return None  # the general reading decides, in its order, with its message


def _read(data: bytes, limits: Limits) -> LinkClaims | None:
    end = len(data)
    if not end or not 0xA0 < data[0] < 0xB8 or limits.max_cbor_depth < 2:
        return None
    count = data[0] - 0xA0
    items = count
    pos, previous = 1, -1
    values: dict[int, object] = {}
    known: dict[int, object] = {}
    for _ in range(count):
        if pos + 1 >= end:
            return None
        key = data[pos]
        if key >= 24 or key <= previous:
            return None  # an integer key in one byte, strictly increasing (RFC 8949 4.2.1)
        previous, pos = key, pos + 1
        initial = data[pos]
        major, info = initial >> 5, initial & 0x1F
        if info < 24:  # the argument in the head itself (most claims)
            arg, after = info, pos + 1
        elif info < 28:  # _head inline: a time (4 bytes), a digest's length (1)...
            after = pos + 1 + (1 << (info - 24))
            if after > end:
                return None
            arg = int.from_bytes(data[pos + 1 : after], "big")
            if arg < _SHORTEST[info - 24]:
                return None  # not in its shortest form
        else:
            return None
        if major == 0:
            values[key], pos = arg, after
        elif major in (2, 3):
            if arg > limits.max_string_bytes or after + arg > end:
                return None
            raw, pos = data[after : after + arg], after + arg
            if major == 2:
                values[key] = raw
            else:
                try:
                    values[key] = raw.decode("utf-8")
                except UnicodeDecodeError:
                    return None
        elif major in (4, 5) and key in _VALUES:
            entry = _remembered(key, data, pos, end, limits)
            if entry is None:
                return None
            stop, read, inner = entry
            items += inner
            known[key], pos = read, stop
        else:
            return None
    if pos != end or items > limits.max_cbor_items:
        return None
    if len(known) != len(_VALUES):
        return None
    # the top-level checks of the plain shape, over stand-ins for the remembered values
    caps, caveats = known[L_CAPS], known[L_CAVEATS]
    assert isinstance(caps, tuple) and isinstance(caveats, tuple)
    values[L_CAPS], values[L_CAVEATS] = list(caps), list(caveats)
    values[L_HOLDER] = values[L_DESCRIPTOR] = {}
    claims = _plain_cbor_link(values, limits, known)
    return claims


def parts_link(payload: bytes, limits: Limits, parts: LinkParts) -> LinkClaims | None:
    """The claims of a CBOR link's payload from the parts the native core found in it
    (``claims::plain_parts``), or None: the caller then reads the decoded payload the
    general way. The core has decoded the payload strictly under ``limits`` and checked
    every claim of the plain shape's top level (``claims.rs``: the head, in the order of
    :func:`agentchain.codec.decode_link_claims`; the purpose non-empty text; nothing
    else present), so what is left is what :func:`plain_link` reads by bytes: each of
    the four values looked up by its exact bytes, or read and remembered as there."""
    issuer, parent, iat, nbf, exp, depth, purpose, holder, caps, caveats, descriptor, _ = parts
    # the common case, inline: all four values met before, under these very limits
    found_holder = _HOLDERS(payload[holder[0] : holder[1]])
    found_caps = _CAPABILITIES(payload[caps[0] : caps[1]])
    found_caveats = _CAVEATS(payload[caveats[0] : caveats[1]])
    found_descriptor = _DESCRIPTORS(payload[descriptor[0] : descriptor[1]])
    if (
        found_holder is not None
        and found_caps is not None
        and found_caveats is not None
        and found_descriptor is not None
        and found_holder[0] is found_caps[0] is found_caveats[0] is found_descriptor[0] is limits
    ):
        holder_read, caps_read = found_holder[1], found_caps[1]
        caveats_read, descriptor_read = found_caveats[1], found_descriptor[1]
    else:  # each value looked up again, or read and remembered
        try:
            holder_read = _part(L_HOLDER, payload, holder, limits)
            caps_read = _part(L_CAPS, payload, caps, limits)
            caveats_read = _part(L_CAVEATS, payload, caveats, limits)
            descriptor_read = _part(L_DESCRIPTOR, payload, descriptor, limits)
        except AgentchainError:
            return None  # the general reading decides, in its order, with its message
        if holder_read is None or caps_read is None or caveats_read is None:
            return None
        if descriptor_read is None:
            return None
    return _LINK_CLAIMS(
        issuer=issuer,
        holder=holder_read,  # type: ignore[arg-type]
        parent=parent,
        iat=iat,
        window=Window(nbf, exp),
        capabilities=caps_read,  # type: ignore[arg-type]
        caveats=caveats_read,  # type: ignore[arg-type]
        depth=depth,
        purpose=purpose,
        descriptor=descriptor_read,  # type: ignore[arg-type]
    )


def _part(key: int, payload: bytes, span: tuple[int, int], limits: Limits) -> object | None:
    """What the value of claim ``key`` at ``span`` of ``payload`` reads as, remembered by
    its exact bytes (under these very limits), or read and remembered now; None if it is
    not of the plain shape."""
    raw = payload[span[0] : span[1]]
    entry = _LOOKUP[key](raw)
    if entry is not None and (entry[0] is limits or entry[0] == limits):
        return entry[1]
    extent = _extent(raw, 0, len(raw))
    if extent is None or extent[0] != len(raw):
        return None
    return _learn(key, raw, extent[1], limits)


def _remembered(
    key: int, data: bytes, pos: int, end: int, limits: Limits
) -> tuple[int, object, int] | None:
    """(where it ends, what it reads as, the items it holds) of the value of claim
    ``key`` at ``pos``, remembered by its exact bytes; None if it does not read."""
    lookup, sizes = _LOOKUP[key], _SIZES[key]
    for size in sizes:
        stop = pos + size
        if stop > end:  # a slice past the end would be shorter than the size
            continue
        entry = lookup(data[pos:stop])
        if entry is not None and (entry[0] is limits or entry[0] == limits):
            return stop, entry[1], entry[2]
    extent = _extent(data, pos, end)
    if extent is None:
        return None
    stop, items = extent
    read = _learn(key, data[pos:stop], items, limits)
    return None if read is None else (stop, read, items)


def holder_end(data: bytes, pos: int) -> int | None:
    """Where the holder's key at ``pos`` of a payload ends, when its bytes there are a key
    remembered (at one of the sizes met last): a CBOR item is self-delimiting, so the bytes
    of a whole item read before are the whole item wherever they sit. None otherwise (the
    caller walks the item's heads)."""
    end = len(data)
    for size in _SIZES[L_HOLDER]:
        stop = pos + size
        if stop <= end and _HOLDERS(data[pos:stop]) is not None:
            return stop
    return None


def _learn(key: int, raw: bytes, items: int, limits: Limits) -> object | None:
    """What the value ``raw`` of claim ``key`` reads as, remembered by its bytes; None if
    it is not of the plain shape. A refusal raises, and nothing is remembered."""
    value = cbor.decode(
        raw,
        max_depth=limits.max_cbor_depth - 1,
        max_items=limits.max_cbor_items,
        max_string_bytes=limits.max_string_bytes,
    )
    read: object
    if key == L_HOLDER:
        read = _decode_holder("cbor", value)
    elif key == L_DESCRIPTOR:
        read = decode_descriptor(value, "cbor")
    elif not isinstance(value, list):
        return None
    elif key == L_CAPS:
        if not 0 < len(value) <= limits.max_capabilities:
            return None
        read = tuple(decode_capability(c, limits) for c in value)
    else:
        if len(value) > limits.max_caveats:
            return None
        read = tuple(decode_caveat(c, limits) for c in value)
    _VALUES[key].put(raw, (limits, read, items))
    sizes = _SIZES[key]
    if len(raw) not in sizes:  # a new list, never one changed under a reader's feet
        _SIZES[key] = [len(raw), *sizes][:_SIZES_KEPT]
    return read
