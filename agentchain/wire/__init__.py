"""Wire layer (layer 2): deterministic CBOR, COSE_Sign1 and JWS compact; bytes only.

Imports only :mod:`agentchain.errors`: never crypto, never the model.
"""
