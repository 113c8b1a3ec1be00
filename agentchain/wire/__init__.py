"""Wire layer: deterministic CBOR and COSE_Sign1 (layer 2; imports only errors and limits)."""
