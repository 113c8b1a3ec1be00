//! COSE_Sign1 as the profile of spec 5.4 restricts it, checked in the order of
//! `agentchain.wire.cose.decode_sign1`: the CBOR of the array, the shape, the unprotected
//! header, then the protected header. The signature is not checked here.
#![forbid(unsafe_code)]

use crate::cbor::{self, Limits, Value};
use crate::error::{Error, Result};

/// RFC 9052 header labels of the profile
pub const HEADER_ALG: u64 = 1;
/// spec 5.3, 5.4 (0.2): the object's kind as a small integer under a private-use label
/// (RFC 9052 section 3: labels below -65536), in place of 0.1's RFC 9596 typ text
pub const HEADER_KIND: i128 = -65537;

/// A structurally valid COSE_Sign1 whose signature has NOT been checked. Borrows the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sign1<'a> {
    pub alg: i128,
    /// the object kind (spec 5.3): 1 link, 2 invocation, 3 attestation, 4 approval
    pub typ: i128,
    pub protected: &'a [u8],
    pub payload: &'a [u8],
    pub signature: &'a [u8],
}

impl Sign1<'_> {
    /// The bytes the signature covers (R-5.4-4).
    pub fn to_be_signed(&self) -> Vec<u8> {
        sig_structure(self.protected, self.payload)
    }
}

/// The deterministic encoding of a 4-array and its context string "Signature1"
const SIG1_PREFIX: &[u8] = b"\x84\x6aSignature1";

/// `["Signature1", protected, h'', payload]` in deterministic CBOR (RFC 9052 section 4.4,
/// empty external_aad). Protocol 0.2 binds the parent digest as external_aad: the `h''`
/// becomes that byte string's encoding, nothing else moves.
pub fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    sig_structure_aad(protected, b"", payload)
}

/// The Sig_structure with `external_aad` (RFC 9052 section 4.4).
pub fn sig_structure_aad(protected: &[u8], external_aad: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        SIG1_PREFIX.len() + 27 + protected.len() + external_aad.len() + payload.len(),
    );
    out.extend_from_slice(SIG1_PREFIX);
    cbor::bytes_head(protected.len(), &mut out);
    out.extend_from_slice(protected);
    cbor::bytes_head(external_aad.len(), &mut out);
    out.extend_from_slice(external_aad);
    cbor::bytes_head(payload.len(), &mut out);
    out.extend_from_slice(payload);
    out
}

fn schema(message: &str) -> Error {
    Error::decode("schema_invalid", message)
}

/// Decode one COSE_Sign1 strictly (R-5.4-1 to R-5.4-3); the payload stays bytes.
pub fn decode_sign1<'a>(data: &'a [u8], limits: &Limits) -> Result<Sign1<'a>> {
    let top = cbor::decode(data, limits)?;
    let Value::Array(items) = &top else {
        return Err(schema("COSE_Sign1 must be an array of four items"));
    };
    let [protected, unprotected, payload, signature] = items.as_slice() else {
        return Err(schema("COSE_Sign1 must be an array of four items"));
    };
    let (&Value::Bytes(protected), &Value::Bytes(payload)) = (protected, payload) else {
        return Err(schema("COSE_Sign1 protected header and payload are bstr"));
    };
    let &Value::Bytes(signature) = signature else {
        return Err(schema("COSE_Sign1 signature is a bstr"));
    };
    if !matches!(unprotected, Value::Map(pairs) if pairs.is_empty()) {
        // spec 5.4: nothing unauthenticated rides along (no kid hints, no x5chain)
        return Err(Error::decode(
            "unknown_field",
            "COSE_Sign1 unprotected header must be empty",
        ));
    }
    let (alg, typ) = protected_header(protected, limits.max_string_bytes)?;
    Ok(Sign1 {
        alg,
        typ,
        protected,
        payload,
        signature,
    })
}

/// (alg, kind) of a protected header (R-5.4-2).
pub fn protected_header(protected: &[u8], max_string_bytes: i128) -> Result<(i128, i128)> {
    let header_limits = Limits {
        max_depth: 2,
        max_items: 8,
        max_string_bytes,
    };
    let header = cbor::decode(protected, &header_limits)?;
    let Value::Map(pairs) = &header else {
        return Err(schema("COSE protected header must be a map"));
    };
    let mut alg = None;
    let mut typ = None;
    let mut unknown: Vec<String> = Vec::new();
    for (label, value) in pairs {
        match (label, label.as_int()) {
            (Value::Uint(HEADER_ALG), _) => alg = Some(value),
            (_, Some(HEADER_KIND)) => typ = Some(value),
            // 'crit' (label 2) lands here too: we understand no extension header
            (other, _) => unknown.push(match other {
                Value::Text(t) => (*t).to_string(),
                int => int.as_int().map(|i| i.to_string()).unwrap_or_default(),
            }),
        }
    }
    if !unknown.is_empty() {
        unknown.sort();
        return Err(Error::decode(
            "unknown_field",
            format!(
                "unknown COSE header label(s) {}",
                crate::error::py_list(&unknown)
            ),
        ));
    }
    let Some(alg) = alg.and_then(Value::as_int) else {
        return Err(schema("COSE header alg (1) must be an int"));
    };
    let Some(typ) = typ.and_then(Value::as_int) else {
        return Err(schema("COSE header kind (-65537) must be an int"));
    };
    Ok((alg, typ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    // protected {1: -19, -65537: 1} = a2 01 32 3a00010000 01
    const PROT: &str = "49a20132 3a00010000 01";

    fn sign1(prot: &str, unprot: &str) -> Vec<u8> {
        hex(&format!("84{}{}4161 4200 00", prot, unprot).replace(' ', ""))
    }

    #[test]
    fn profile() {
        let limits = Limits::default();
        let data = sign1(PROT, "a0");
        let s = decode_sign1(&data, &limits).unwrap();
        assert_eq!(
            (s.alg, s.typ, s.payload, s.signature),
            (-19, 1, &b"a"[..], &[0u8, 0][..])
        );
        let code = |d: &[u8]| decode_sign1(d, &limits).unwrap_err().code;
        assert_eq!(code(&sign1(PROT, "a10100")), "unknown_field");
        assert_eq!(code(&sign1(PROT, "80")), "unknown_field");
        assert_eq!(code(&hex("d2840000000000")), "cbor_tag");
        assert_eq!(code(&hex("83404040")), "schema_invalid");
        assert_eq!(code(&hex("8400a04040")), "schema_invalid");
        assert_eq!(code(&hex("8440a04000")), "schema_invalid");
        assert_eq!(code(&sign1("43a10132", "a0")), "schema_invalid"); // kind missing
        assert_eq!(code(&sign1("47a13a0001000001", "a0")), "schema_invalid"); // alg missing
        assert_eq!(
            code(&sign1("4ba301320200 3a00010000 01", "a0")),
            "unknown_field"
        ); // crit
           // 0.1's typ text under label 16 is an unknown label now
        assert_eq!(code(&sign1("46a201321061 74", "a0")), "unknown_field");
        // the kind is an int, never text
        assert_eq!(
            code(&sign1("4aa20132 3a00010000 6174", "a0")),
            "schema_invalid"
        );
        assert_eq!(code(&sign1("4180", "a0")), "schema_invalid");
        assert_eq!(code(&sign1("4101", "a0")), "schema_invalid");
        assert_eq!(code(&sign1("4102", "a0")), "schema_invalid");
    }

    #[test]
    fn sig_structure_bytes() {
        let tbs = sig_structure(&[0xa0], b"xy");
        assert_eq!(
            tbs,
            [&b"\x84\x6aSignature1"[..], &[0x41, 0xa0, 0x40, 0x42], b"xy"].concat()
        );
    }
}
