//! COSE_Sign1 interop check for agentchain through coset (Sig_structure, headers),
//! ed25519-dalek and p256 (signatures): implementations that share no code with agentchain.
//!
//!     agentchain-interop-cose verify CASES.json VERDICTS.json
//!     agentchain-interop-cose sign   CASES.json SIGNED.json
//!
//! verify: for each case, decode the untagged COSE_Sign1 with coset, check that its
//! protected alg is the case's COSE algorithm, and verify the signature over the
//! Sig_structure coset builds (with the case's external_aad) with the case's public
//! JWK: Ed25519 (alg -19, and -8 of protocol 0.1) with dalek's `verify_strict`, ES256
//! (-7) with p256. sign: for each case, build a COSE_Sign1 with coset under the
//! given protected header, sign its Sig_structure (with the external_aad)
//! with the case's private JWK; p256 signs deterministically (RFC 6979) and the
//! signature is normalised to low S, as agentchain's spec 3.5 requires of signers.
//! One bad case never stops the others; the exit status is non-zero only when the
//! request itself cannot be read or written. The format is in interop/README.md.

use std::process::ExitCode;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use coset::cbor::value::Value;
use coset::iana::{self, EnumI64};
use coset::{
    CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder, Label, RegisteredLabelWithPrivate,
};
use serde_json::{json, Map, Value as Json};

enum Alg {
    Ed25519,
    Es256,
}

fn alg_of(id: i64) -> Result<Alg, String> {
    match iana::Algorithm::from_i64(id) {
        Some(iana::Algorithm::Ed25519) | Some(iana::Algorithm::EdDSA) => Ok(Alg::Ed25519),
        Some(iana::Algorithm::ES256) => Ok(Alg::Es256),
        _ => Err(format!("unsupported COSE alg {id}")),
    }
}

fn field<'a>(case: &'a Json, name: &str) -> Result<&'a str, String> {
    case.get(name)
        .and_then(Json::as_str)
        .ok_or_else(|| format!("case has no string {name}"))
}

fn bytes(case: &Json, name: &str) -> Result<Vec<u8>, String> {
    B64.decode(field(case, name)?)
        .map_err(|e| format!("{name}: {e}"))
}

fn coord(jwk: &Json, name: &str) -> Result<[u8; 32], String> {
    let raw = bytes(jwk, name)?;
    raw.try_into()
        .map_err(|_| format!("JWK {name} is not 32 bytes"))
}

fn p256_public(jwk: &Json) -> Result<p256::ecdsa::VerifyingKey, String> {
    let mut point = vec![4u8];
    point.extend_from_slice(&coord(jwk, "x")?);
    point.extend_from_slice(&coord(jwk, "y")?);
    p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(|e| format!("P-256 key: {e}"))
}

fn verify_signature(alg: &Alg, jwk: &Json, signature: &[u8], tbs: &[u8]) -> Result<(), String> {
    match alg {
        Alg::Ed25519 => {
            let key = ed25519_dalek::VerifyingKey::from_bytes(&coord(jwk, "x")?)
                .map_err(|e| format!("Ed25519 key: {e}"))?;
            let sig = ed25519_dalek::Signature::from_slice(signature)
                .map_err(|e| format!("Ed25519 signature: {e}"))?;
            key.verify_strict(tbs, &sig)
                .map_err(|e| format!("verify: {e}"))
        }
        Alg::Es256 => {
            use p256::ecdsa::signature::Verifier;
            let key = p256_public(jwk)?;
            let sig = p256::ecdsa::Signature::from_slice(signature)
                .map_err(|e| format!("ES256 signature: {e}"))?;
            key.verify(tbs, &sig).map_err(|e| format!("verify: {e}"))
        }
    }
}

fn sign(alg: &Alg, jwk: &Json, tbs: &[u8]) -> Result<Vec<u8>, String> {
    match alg {
        Alg::Ed25519 => {
            use ed25519_dalek::Signer;
            let key = ed25519_dalek::SigningKey::from_bytes(&coord(jwk, "d")?);
            Ok(key.sign(tbs).to_bytes().to_vec())
        }
        Alg::Es256 => {
            use p256::ecdsa::signature::Signer;
            let key = p256::ecdsa::SigningKey::from_slice(&coord(jwk, "d")?)
                .map_err(|e| format!("P-256 key: {e}"))?;
            let sig: p256::ecdsa::Signature = key.sign(tbs);
            Ok(sig.normalize_s().unwrap_or(sig).to_bytes().to_vec())
        }
    }
}

fn verify_one(case: &Json) -> Result<Map<String, Json>, String> {
    let mut verdict = Map::new();
    let data = bytes(case, "object")?;
    let aad = bytes(case, "external_aad")?;
    let expected = case
        .get("alg")
        .and_then(Json::as_i64)
        .ok_or("case has no integer alg")?;
    let jwk = case.get("key").ok_or("case has no key")?;
    let sign1 = CoseSign1::from_slice(&data).map_err(|e| format!("decode: {e}"))?;
    let header = &sign1.protected.header;
    let alg_id = match &header.alg {
        Some(RegisteredLabelWithPrivate::Assigned(a)) => Some(a.to_i64()),
        Some(RegisteredLabelWithPrivate::PrivateUse(a)) => Some(*a),
        _ => None,
    };
    // the protected header as coset read it: (label, value) pairs
    let mut pairs: Vec<Json> = alg_id.iter().map(|id| json!([1, id])).collect();
    for (label, value) in &header.rest {
        let label = match label {
            Label::Int(l) => json!(l),
            Label::Text(t) => json!(t),
        };
        let value = match value {
            Value::Integer(i) => json!(i128::from(*i)),
            Value::Text(t) => json!(t),
            other => json!(format!("{other:?}")),
        };
        pairs.push(json!([label, value]));
    }
    verdict.insert("header".into(), Json::Array(pairs));
    verdict.insert(
        "payload".into(),
        json!(B64.encode(sign1.payload.as_deref().unwrap_or(&[]))),
    );
    // RFC 9052 section 8.1 / RFC 8725 section 3.1: the key's algorithm, never the header's
    if alg_id != Some(expected) {
        return Err(format!(
            "protected alg {alg_id:?} is not the key's alg {expected}"
        ));
    }
    let alg = alg_of(expected)?;
    sign1.verify_signature(&aad, |sig, tbs| verify_signature(&alg, jwk, sig, tbs))?;
    Ok(verdict)
}

fn sign_one(case: &Json) -> Result<String, String> {
    let payload = bytes(case, "payload")?;
    let aad = bytes(case, "external_aad")?;
    let id = case
        .get("alg")
        .and_then(Json::as_i64)
        .ok_or("case has no integer alg")?;
    let jwk = case.get("key").ok_or("case has no key")?;
    let alg = alg_of(id)?;
    let entries = case
        .get("header")
        .and_then(Json::as_array)
        .ok_or("case has no header")?;
    let mut protected = HeaderBuilder::new();
    for entry in entries {
        let (label, value) = match entry.as_array().map(Vec::as_slice) {
            Some([Json::Number(l), v]) => (l.as_i64().ok_or("header label")?, v),
            _ => return Err(format!("header entry {entry} is not [integer, value]")),
        };
        let value = match value {
            Json::Number(n) => Value::Integer(n.as_i64().ok_or("header value")?.into()),
            Json::String(t) => Value::Text(t.clone()),
            _ => return Err(format!("header value {value} is not an integer or text")),
        };
        protected = match (label, value) {
            (1, Value::Integer(a)) if i128::from(a) == i128::from(id) => {
                protected.algorithm(iana::Algorithm::from_i64(id).ok_or("unknown alg")?)
            }
            // labels 2 to 7 are coset's named fields, which our profile never uses
            (1..=7, _) => return Err(format!("header label {label} is not supported here")),
            (_, value) => protected.value(label, value),
        };
    }
    let protected = protected.build();
    let mut failure = None;
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(&aad, |tbs| match sign(&alg, jwk, tbs) {
            Ok(sig) => sig,
            Err(e) => {
                failure = Some(e);
                Vec::new()
            }
        })
        .build();
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(B64.encode(sign1.to_vec().map_err(|e| format!("encode: {e}"))?))
}

fn run(mode: &str, input: &str, output: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(input).map_err(|e| format!("{input}: {e}"))?;
    let request: Json = serde_json::from_str(&text).map_err(|e| format!("{input}: {e}"))?;
    let cases = request
        .get("cases")
        .and_then(Json::as_array)
        .ok_or("no cases")?;
    let result = match mode {
        "verify" => {
            let verdicts: Vec<Json> = cases
                .iter()
                .map(|case| {
                    let id = case.get("id").cloned().unwrap_or(Json::Null);
                    match verify_one(case) {
                        Ok(mut v) => {
                            v.insert("id".into(), id);
                            v.insert("valid".into(), json!(true));
                            Json::Object(v)
                        }
                        Err(e) => json!({"id": id, "valid": false, "error": e}),
                    }
                })
                .collect();
            json!({"implementation": "coset", "verdicts": verdicts})
        }
        "sign" => {
            let signed: Vec<Json> = cases
                .iter()
                .map(|case| {
                    let id = case.get("id").cloned().unwrap_or(Json::Null);
                    match sign_one(case) {
                        Ok(object) => json!({"id": id, "object": object}),
                        Err(e) => json!({"id": id, "error": e}),
                    }
                })
                .collect();
            json!({"implementation": "coset", "signed": signed})
        }
        _ => return Err("usage: agentchain-interop-cose verify|sign CASES.json OUT.json".into()),
    };
    std::fs::write(output, result.to_string()).map_err(|e| format!("{output}: {e}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: agentchain-interop-cose verify|sign CASES.json OUT.json");
        return ExitCode::from(2);
    }
    match run(&args[1], &args[2], &args[3]) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("agentchain-interop-cose: {e}");
            ExitCode::FAILURE
        }
    }
}
