//! `agentchain_native`: the Python face of `agentchain-core`.
//!
//! Thin glue only: every rule lives in the core crate. Refusals are raised as the
//! `agentchain.errors` exception of their kind (`DecodeError`, `InvalidKey`,
//! `SignatureError`) with the registry code the core gives, so a caller cannot tell the two
//! paths apart by what they raise. Nothing here panics: the core returns errors, and the
//! conversion to Python objects is iterative and fallible.
#![forbid(unsafe_code)]

use agentchain_core::cbor::{self, Value};
use agentchain_core::chain::{self, Failure, Start};
use agentchain_core::claims::{self, ClaimLimits, Decoded};
use agentchain_core::link::{self, ObjectLimits};
use agentchain_core::presentation::{self, ContainerLimits};
use agentchain_core::{cose, jws, Error, Kind};
use pyo3::exceptions::{PyOverflowError, PySystemError};
use pyo3::prelude::*;
use pyo3::sync::GILOnceCell;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use pyo3::IntoPyObjectExt;

static ERRORS: GILOnceCell<[Py<PyAny>; 3]> = GILOnceCell::new();

/// The exception classes of `agentchain.errors`, imported once.
fn error_classes(py: Python<'_>) -> PyResult<&[Py<PyAny>; 3]> {
    ERRORS.get_or_try_init(py, || {
        let module = py.import("agentchain.errors")?;
        Ok([
            module.getattr("DecodeError")?.unbind(),
            module.getattr("InvalidKey")?.unbind(),
            module.getattr("SignatureError")?.unbind(),
        ])
    })
}

/// The `agentchain.errors` exception for a core refusal.
fn raise(py: Python<'_>, error: Error) -> PyErr {
    let classes = match error_classes(py) {
        Ok(classes) => classes,
        Err(err) => return err,
    };
    let class = match error.kind {
        Kind::Decode => &classes[0],
        Kind::Key => &classes[1],
        Kind::Signature => &classes[2],
    };
    match class.bind(py).call1((error.code, error.message)) {
        Ok(instance) => PyErr::from_value(instance),
        Err(err) => err,
    }
}

/// A caller's bound, as wide as the reference's Python int: ints beyond i128 saturate, which
/// changes no answer (no length, count or depth of a real input comes near either end).
#[derive(Clone, Copy)]
struct Bound128(i128);

impl<'py> FromPyObject<'py> for Bound128 {
    fn extract_bound(ob: &Bound<'py, PyAny>) -> PyResult<Self> {
        match ob.extract::<i128>() {
            Ok(value) => Ok(Bound128(value)),
            Err(err) if err.is_instance_of::<PyOverflowError>(ob.py()) => {
                Ok(Bound128(if ob.gt(0)? { i128::MAX } else { i128::MIN }))
            }
            Err(err) => Err(err),
        }
    }
}

/// `bytes(data)`, without a copy when it is already bytes (as the reference does).
fn as_bytes<'py>(data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    match data.downcast::<PyBytes>() {
        Ok(bytes) => Ok(bytes.clone()),
        Err(_) => Ok(data
            .py()
            .get_type::<PyBytes>()
            .call1((data,))?
            .downcast_into::<PyBytes>()?),
    }
}

/// The Python value of a decoded item: int, float, bytes, str, bool, None, list, dict. Iterative
/// (post-order over an explicit stack), like the decoder, for values of any depth.
fn to_python<'py>(py: Python<'py>, value: &Value<'_>) -> PyResult<Bound<'py, PyAny>> {
    enum Task<'v, 'a> {
        Visit(&'v Value<'a>),
        List(usize),
        Dict(usize),
    }
    let mut tasks = vec![Task::Visit(value)];
    let mut done: Vec<Bound<'py, PyAny>> = Vec::new();
    while let Some(task) = tasks.pop() {
        match task {
            Task::Visit(Value::Array(items)) => {
                tasks.push(Task::List(items.len()));
                tasks.extend(items.iter().rev().map(Task::Visit));
            }
            Task::Visit(Value::Map(pairs)) => {
                tasks.push(Task::Dict(pairs.len()));
                for (key, item) in pairs.iter().rev() {
                    tasks.push(Task::Visit(item));
                    tasks.push(Task::Visit(key));
                }
            }
            Task::Visit(scalar) => done.push(match *scalar {
                Value::Uint(n) => n.into_bound_py_any(py)?,
                Value::Nint(n) => (-1 - i128::from(n)).into_pyobject(py)?.into_any(),
                Value::Bytes(b) => PyBytes::new(py, b).into_any(),
                Value::Text(t) => PyString::new(py, t).into_any(),
                Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
                Value::Float(f) => PyFloat::new(py, f).into_any(),
                _ => py.None().into_bound(py),
            }),
            Task::List(n) => {
                let items = done.split_off(done.len() - n);
                done.push(PyList::new(py, items)?.into_any());
            }
            Task::Dict(n) => {
                let flat = done.split_off(done.len() - 2 * n);
                let dict = PyDict::new(py);
                let mut it = flat.into_iter();
                while let (Some(key), Some(item)) = (it.next(), it.next()) {
                    dict.set_item(key, item)?;
                }
                done.push(dict.into_any());
            }
        }
    }
    Ok(done.pop().unwrap_or_else(|| py.None().into_bound(py)))
}

fn limits(max_depth: Bound128, max_items: Bound128, max_string_bytes: Bound128) -> cbor::Limits {
    cbor::Limits {
        max_depth: max_depth.0,
        max_items: max_items.0,
        max_string_bytes: max_string_bytes.0,
    }
}

/// How deep `cbor_encode` follows containers itself; deeper values are the reference's (whose
/// own bound is 500), so no Python value can exhaust this thread's stack.
const ENCODE_MAX_DEPTH: usize = 64;

/// `agentchain.wire.cbor.encode` of plain data, natively: the same bytes, or None where the
/// reference must answer. Only exact types are taken (None, bool, int, float, bytes, str,
/// list, dict with int or str keys): a subclass, an int or float outside the protocol's
/// range, a string that is not Unicode, anything deeper than `ENCODE_MAX_DEPTH`, and any
/// other type are left to the reference, which encodes them or raises what it raises.
#[pyfunction]
fn cbor_encode<'py>(
    py: Python<'py>,
    value: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyBytes>>> {
    let mut out = Vec::with_capacity(256);
    Ok(encode_plain(value, &mut out, 0).map(|()| PyBytes::new(py, &out)))
}

/// One value of `cbor_encode` into `out`, or None (the reference's to encode).
fn encode_plain(value: &Bound<'_, PyAny>, out: &mut Vec<u8>, depth: usize) -> Option<()> {
    if value.is_none() {
        out.push(0xF6);
    } else if let Ok(flag) = value.downcast_exact::<PyBool>() {
        out.push(if flag.is_true() { 0xF5 } else { 0xF4 });
    } else if let Ok(int) = value.downcast_exact::<PyInt>() {
        let n: i128 = int.extract().ok()?;
        if n >= 0 {
            cbor::item_head(cbor::UINT, u64::try_from(n).ok()?, out);
        } else {
            cbor::item_head(cbor::NINT, u64::try_from(-1 - n).ok()?, out);
        }
    } else if let Ok(float) = value.downcast_exact::<PyFloat>() {
        if !cbor::encode_number(float.value(), out) {
            return None; // NaN or an infinity: the reference raises
        }
    } else if let Ok(bytes) = value.downcast_exact::<PyBytes>() {
        let data = bytes.as_bytes();
        cbor::item_head(cbor::BYTES, data.len() as u64, out);
        out.extend_from_slice(data);
    } else if let Ok(text) = value.downcast_exact::<PyString>() {
        let text = text.to_str().ok()?; // a lone surrogate: the reference raises
        cbor::item_head(cbor::TEXT, text.len() as u64, out);
        out.extend_from_slice(text.as_bytes());
    } else if let Ok(list) = value.downcast_exact::<PyList>() {
        if depth >= ENCODE_MAX_DEPTH {
            return None;
        }
        cbor::item_head(cbor::ARRAY, list.len() as u64, out);
        for item in list.iter() {
            encode_plain(&item, out, depth + 1)?;
        }
    } else if let Ok(dict) = value.downcast_exact::<PyDict>() {
        if depth >= ENCODE_MAX_DEPTH {
            return None;
        }
        // RFC 8949 section 4.2.1: pairs in the bytewise order of their keys' encodings
        let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(dict.len());
        for (key, item) in dict.iter() {
            if !(key.is_exact_instance_of::<PyInt>() || key.is_exact_instance_of::<PyString>()) {
                return None; // a bool, an IntEnum, another type: the reference decides
            }
            let mut encoded_key = Vec::new();
            encode_plain(&key, &mut encoded_key, depth + 1)?;
            let mut encoded_item = Vec::new();
            encode_plain(&item, &mut encoded_item, depth + 1)?;
            pairs.push((encoded_key, encoded_item));
        }
        pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        if pairs.windows(2).any(|w| w[0].0 == w[1].0) {
            return None; // unreachable for int and str keys; the reference raises
        }
        cbor::item_head(cbor::MAP, pairs.len() as u64, out);
        for (key, item) in pairs {
            out.extend_from_slice(&key);
            out.extend_from_slice(&item);
        }
    } else {
        return None;
    }
    Some(())
}

/// `agentchain.wire.cbor.decode`, natively: the same value or the same DecodeError.
#[pyfunction]
#[pyo3(signature = (data, *, max_depth = Bound128(16), max_items = Bound128(2048), max_string_bytes = Bound128(4096)))]
fn cbor_decode<'py>(
    data: &Bound<'py, PyAny>,
    max_depth: Bound128,
    max_items: Bound128,
    max_string_bytes: Bound128,
) -> PyResult<Bound<'py, PyAny>> {
    let py = data.py();
    let data = as_bytes(data)?;
    let lim = limits(max_depth, max_items, max_string_bytes);
    let value = cbor::decode(data.as_bytes(), &lim).map_err(|e| raise(py, e))?;
    to_python(py, &value)
}

/// `agentchain.wire.cose.decode_sign1`, natively, as the tuple
/// `(alg, typ, protected, payload, signature)`; the caller builds its `Sign1`.
#[pyfunction]
#[pyo3(signature = (data, *, max_depth, max_items, max_string_bytes))]
fn sign1_decode<'py>(
    data: &Bound<'py, PyAny>,
    max_depth: Bound128,
    max_items: Bound128,
    max_string_bytes: Bound128,
) -> PyResult<Bound<'py, PyTuple>> {
    let py = data.py();
    let data = as_bytes(data)?;
    let lim = limits(max_depth, max_items, max_string_bytes);
    let sign1 = cose::decode_sign1(data.as_bytes(), &lim).map_err(|e| raise(py, e))?;
    (
        sign1.alg,
        sign1.typ,
        PyBytes::new(py, sign1.protected),
        PyBytes::new(py, sign1.payload),
        PyBytes::new(py, sign1.signature),
    )
        .into_pyobject(py)
}

/// The COSE Sig_structure with empty external_aad (spec 5.4, RFC 9052 section 4.4).
#[pyfunction]
fn sig_structure<'py>(py: Python<'py>, protected: &[u8], payload: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &cose::sig_structure(protected, payload))
}

/// SHA-256 of `data` (spec 5.3: the digest of a signed object's exact bytes).
#[pyfunction]
fn sha256<'py>(py: Python<'py>, data: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &agentchain_core::sha256(data))
}

/// `agentchain.wire.jws.b64decode`, natively: strict unpadded base64url.
#[pyfunction]
fn b64decode<'py>(text: &Bound<'py, PyString>) -> PyResult<Bound<'py, PyBytes>> {
    let py = text.py();
    // a str with a lone surrogate is no base64url either
    let raw = match text.to_str() {
        Ok(s) => s.as_bytes(),
        Err(_) => {
            return Err(raise(
                py,
                Error::decode("base64_invalid", "not unpadded base64url"),
            ))
        }
    };
    let data = agentchain_core::b64::decode(raw).map_err(|e| raise(py, e))?;
    Ok(PyBytes::new(py, &data))
}

/// `agentchain.wire.jws.decode_compact`, natively, in its order of checks. `header` judges
/// the header text, `header(text, max_string_bytes) -> (protected, alg, typ, kid)`, and
/// raises what it refuses. Returns `(protected, alg, typ, kid, payload, signature)`.
#[pyfunction]
#[pyo3(signature = (data, *, max_bytes, max_string_bytes, header))]
fn jws_decode_compact<'py>(
    data: &Bound<'py, PyAny>,
    max_bytes: Bound128,
    max_string_bytes: &Bound<'py, PyAny>,
    header: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyTuple>> {
    let py = data.py();
    let data = as_bytes(data)?;
    let parts = jws::split(data.as_bytes(), max_bytes.0).map_err(|e| raise(py, e))?;
    // ASCII was checked by split, so this is never lossy
    let text = String::from_utf8_lossy(parts.header);
    let judged = header.call1((text, max_string_bytes))?;
    let (protected, alg, typ, kid): (
        Bound<'py, PyAny>,
        Bound<'py, PyAny>,
        Bound<'py, PyAny>,
        Bound<'py, PyAny>,
    ) = judged.extract()?;
    let (payload, signature) = jws::decode_parts(&parts).map_err(|e| raise(py, e))?;
    (
        protected,
        alg,
        typ,
        kid,
        PyBytes::new(py, &payload),
        PyBytes::new(py, &signature),
    )
        .into_pyobject(py)
}

/// A public key imported under the strict rules of its algorithm (spec 3.4, 3.5): `EdDSA`
/// (32 raw bytes) or `ES256` (the 65-byte `04 || x || y`). Raises `InvalidKey`.
#[pyclass(frozen, module = "agentchain_native")]
struct PublicKey {
    key: link::PublicKey,
    #[pyo3(get)]
    alg: &'static str,
}

#[pymethods]
impl PublicKey {
    #[new]
    fn new(py: Python<'_>, alg: &str, raw: &[u8]) -> PyResult<Self> {
        let (key, algorithm) = link::PublicKey::import(alg, raw).map_err(|e| raise(py, e))?;
        Ok(PublicKey {
            key,
            alg: algorithm.name,
        })
    }

    /// The RFC 7638 thumbprint (spec 3.2), as `agentchain.crypto.PublicKey.thumbprint`.
    #[getter]
    fn thumbprint<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.key.thumbprint())
    }

    /// Return None if `signature` is valid for `message`, else raise `SignatureError`.
    /// The GIL is released while the curve arithmetic runs, as PyNaCl does for libsodium.
    fn verify(&self, py: Python<'_>, signature: &[u8], message: &[u8]) -> PyResult<()> {
        let key = &self.key;
        py.allow_threads(|| key.verify(signature, message))
            .map_err(|e| raise(py, e))
    }
}

/// Import and verify in one call: `PublicKey(alg, raw).verify(signature, message)`.
#[pyfunction]
fn verify(py: Python<'_>, alg: &str, raw: &[u8], signature: &[u8], message: &[u8]) -> PyResult<()> {
    py.allow_threads(|| {
        let (key, _) = link::PublicKey::import(alg, raw)?;
        key.verify(signature, message)
    })
    .map_err(|e| raise(py, e))
}

/// `verify`, the key imported once and kept by its bytes (`link::import_cached`): the keys
/// of the principals a verifier sees sign request after request. The GIL is released for
/// the curve arithmetic.
#[pyfunction]
fn verify_cached(
    py: Python<'_>,
    alg: &str,
    raw: &[u8],
    signature: &[u8],
    message: &[u8],
) -> PyResult<()> {
    let (key, _) = link::import_cached(alg, raw).map_err(|e| raise(py, e))?;
    py.allow_threads(|| key.verify(signature, message))
        .map_err(|e| raise(py, e))
}

/// `codec.payload_args_digest`: the digest of a CBOR invocation's carried arguments, read
/// from its payload bytes (`claims::args_digest`), or None for another shape.
#[pyfunction]
fn payload_args_digest<'py>(py: Python<'py>, payload: &[u8]) -> Option<Bound<'py, PyBytes>> {
    claims::args_digest(payload).map(|digest| PyBytes::new(py, &digest))
}

fn object_limits(
    max_object_bytes: Bound128,
    max_depth: Bound128,
    max_items: Bound128,
    max_string_bytes: Bound128,
) -> ObjectLimits {
    ObjectLimits {
        max_object_bytes: max_object_bytes.0,
        cbor: limits(max_depth, max_items, max_string_bytes),
    }
}

/// The CBOR branch of `codec._open` in one call: size, COSE_Sign1, typ, algorithm, payload.
/// Returns `(alg, typ, protected, payload, signature, claims, signed)`, `claims` the decoded
/// payload and `signed` the Sig_structure.
#[pyfunction]
#[pyo3(signature = (data, typ, *, max_object_bytes, max_depth, max_items, max_string_bytes))]
fn open_cose<'py>(
    data: &Bound<'py, PyAny>,
    typ: i128,
    max_object_bytes: Bound128,
    max_depth: Bound128,
    max_items: Bound128,
    max_string_bytes: Bound128,
) -> PyResult<Bound<'py, PyTuple>> {
    let py = data.py();
    let data = as_bytes(data)?;
    let lim = object_limits(max_object_bytes, max_depth, max_items, max_string_bytes);
    let opened = link::open(data.as_bytes(), typ, &lim).map_err(|e| raise(py, e))?;
    let (alg, typ, protected, payload, signature, signed) =
        envelope_head(py, &opened, &opened.sign1.to_be_signed())?;
    let claims = to_python(py, &opened.payload)?;
    (alg, typ, protected, payload, signature, claims, signed).into_pyobject(py)
}

/// One hop's native work in one call: `open_cose`, the algorithm bound to `key`, the
/// signature over the Sig_structure, and the digest, without the GIL until the claims are
/// built. Returns `(alg, claims, digest)`.
#[pyfunction]
#[pyo3(signature = (data, typ, key, *, max_object_bytes, max_depth, max_items, max_string_bytes))]
fn verify_cose<'py>(
    data: &Bound<'py, PyAny>,
    typ: i128,
    key: &PublicKey,
    max_object_bytes: Bound128,
    max_depth: Bound128,
    max_items: Bound128,
    max_string_bytes: Bound128,
) -> PyResult<Bound<'py, PyTuple>> {
    let py = data.py();
    let data = as_bytes(data)?;
    let lim = object_limits(max_object_bytes, max_depth, max_items, max_string_bytes);
    // `data` is an immutable bytes object: its buffer may be read without the GIL
    let bytes = data.as_bytes();
    let (opened, digest) = py
        .allow_threads(|| link::open_and_verify(bytes, typ, &key.key, &lim))
        .map_err(|e| raise(py, e))?;
    (
        opened.algorithm.name,
        to_python(py, &opened.payload)?,
        PyBytes::new(py, &digest),
    )
        .into_pyobject(py)
}

/// What V2 needs of one decoded link (`agentchain_core::chain::LinkFacts`), held by Python
/// between V1 (decoding every object of the presentation) and V2 (the chain).
#[pyclass(frozen, module = "agentchain_native")]
struct LinkFacts {
    facts: chain::LinkFacts,
    /// what the chain's facts read of a link the core made itself (None for the others)
    made: Option<MadeLink>,
}

/// A link the core made (`open_presentation`'s `build`): the values the chain's facts
/// (`verifier/_facts.py`) read, the very objects the link's claims hold, and the root's
/// issuer; and the rest of the claims, kept as bytes and numbers until they are first read
/// ([`LinkFacts::claims_fields`]).
struct MadeLink {
    issuer: Option<Py<PyBytes>>,
    holder: Py<PyAny>,
    descriptor: Py<PyAny>,
    capabilities: Py<PyAny>,
    caveats: Py<PyAny>,
    digest: Py<PyBytes>,
    id: Py<PyBytes>,
    target: Py<PyBytes>,
    iat: u64,
    purpose: Option<String>,
    /// the link's bytes, and what its envelope holds of them (made when first read,
    /// [`LinkFacts::envelope_fields`]): the kind, and where the protected header, the
    /// payload and the signature lie in them
    encoded: Py<PyBytes>,
    typ: i128,
    spans: [(usize, usize); 3],
}

#[pymethods]
impl LinkFacts {
    /// The fields of the claims of a link the core made, in the order the verifier's maker
    /// of claims takes them (`_native_chain._LINK_CLAIMS`: the window's two in its place),
    /// for when they are first read; None for a link the core did not make.
    fn claims_fields<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let Some(m) = &self.made else {
            return Ok(None);
        };
        let f = &self.facts;
        let fields = [
            m.issuer
                .as_ref()
                .map(|b| b.bind(py))
                .into_bound_py_any(py)?,
            m.holder.bind(py).clone(),
            f.parent
                .map(|b| PyBytes::new(py, &b))
                .into_bound_py_any(py)?,
            m.iat.into_bound_py_any(py)?,
            f.nbf.into_bound_py_any(py)?,
            f.exp.into_bound_py_any(py)?,
            m.capabilities.bind(py).clone(),
            m.caveats.bind(py).clone(),
            f.depth.into_bound_py_any(py)?,
            m.purpose.as_deref().into_bound_py_any(py)?,
            m.descriptor.bind(py).clone(),
            PyTuple::empty(py).into_any(), // approvals: none in the plain shape
            py.None().into_bound(py),      // usage: none either
        ];
        Ok(Some(PyTuple::new(py, fields)?))
    }

    /// `(digest, id, target)` of a link the core made: its digest, its id and its
    /// revocation target (spec 8.5), for a caller that gathers the chain's facts itself
    /// (`verifier._facts.chain_facts`'s `read` and `targets`); None for a link the core
    /// did not make.
    fn made_ids<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let Some(m) = &self.made else {
            return Ok(None);
        };
        let fields = [m.digest.bind(py), m.id.bind(py), m.target.bind(py)];
        Ok(Some(PyTuple::new(py, fields)?))
    }

    /// The fields of the envelope of a link the core made, in the order of
    /// `codec.Envelope` (`encoding, alg, typ, protected, payload, signature, signed,
    /// encoded`), for when it is first read; None for a link the core did not make.
    fn envelope_fields<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let Some(m) = &self.made else {
            return Ok(None);
        };
        let encoded = m.encoded.bind(py);
        let bytes = encoded.as_bytes();
        let [protected, payload, signature] = m.spans.map(|(start, end)| bytes.get(start..end));
        let (Some(protected), Some(payload), Some(signature)) = (protected, payload, signature)
        else {
            return Err(PySystemError::new_err(
                "a made link lost its envelope's bytes",
            ));
        };
        let fields = [
            pyo3::intern!(py, "cbor").clone().into_any(),
            algorithm_name(py, self.facts.algorithm.name).into_any(),
            small_int(py, m.typ)?,
            PyBytes::new(py, protected).into_any(),
            PyBytes::new(py, payload).into_any(),
            PyBytes::new(py, signature).into_any(),
            PyBytes::new(py, &self.facts.signed).into_any(),
            encoded.clone().into_any(),
        ];
        Ok(Some(PyTuple::new(py, fields)?))
    }

    /// The facts of a link decoded earlier (a prefix the verifier's cache holds), from its
    /// claims: it is the parent of the first link checked, never checked itself.
    #[staticmethod]
    #[pyo3(signature = (alg, *, holder_alg, holder_raw, digest, nbf, exp, depth, capabilities))]
    #[allow(clippy::too_many_arguments)]
    fn of_parent(
        py: Python<'_>,
        alg: &str,
        holder_alg: &str,
        holder_raw: &[u8],
        digest: [u8; 32],
        nbf: u64,
        exp: u64,
        depth: u64,
        capabilities: Vec<(String, String)>,
    ) -> PyResult<Self> {
        // never checked itself: no signed bytes, no signature, no parent of its own
        Self::of_claims(
            py,
            alg,
            Vec::new(),
            Vec::new(),
            digest,
            None,
            holder_alg,
            holder_raw,
            nbf,
            exp,
            depth,
            capabilities,
        )
    }

    /// The facts of a link the reference decoded (a JOSE link: the core has no JSON claims
    /// reader), for V2 in the core: what `open_link` keeps of a CBOR link, from the link's
    /// claims and its envelope (`signed` is the JWS signing input, `signature` the raw one).
    #[staticmethod]
    #[pyo3(signature = (alg, *, signed, signature, digest, parent, holder_alg, holder_raw, nbf, exp, depth, capabilities))]
    #[allow(clippy::too_many_arguments)]
    fn of_claims(
        py: Python<'_>,
        alg: &str,
        signed: Vec<u8>,
        signature: Vec<u8>,
        digest: [u8; 32],
        parent: Option<[u8; 32]>,
        holder_alg: &str,
        holder_raw: &[u8],
        nbf: u64,
        exp: u64,
        depth: u64,
        capabilities: Vec<(String, String)>,
    ) -> PyResult<Self> {
        let algorithm = agentchain_core::alg::by_name(alg).map_err(|e| raise(py, e))?;
        let (holder, holder_alg) =
            link::import_cached(holder_alg, holder_raw).map_err(|e| raise(py, e))?;
        Ok(LinkFacts {
            facts: chain::LinkFacts {
                algorithm,
                signed,
                signature,
                digest,
                parent,
                nbf,
                exp,
                depth,
                holder,
                holder_alg,
                capabilities,
            },
            made: None,
        })
    }
}

/// One link of a CBOR chain, opened as `codec._open` does and its claims' head decoded as
/// `codec.decode_link_claims` begins (`claims.rs`). Returns `(alg, typ, protected,
/// payload, signature, signed, claims, digest, facts)`: `claims` the decoded payload for the
/// reference to finish, `facts` None where the head is left to the reference.
#[pyfunction]
#[pyo3(signature = (data, *, max_object_bytes, max_depth, max_items, max_string_bytes, max_capabilities, max_caveats))]
#[allow(clippy::too_many_arguments)]
fn open_link<'py>(
    data: &Bound<'py, PyBytes>,
    max_object_bytes: Bound128,
    max_depth: Bound128,
    max_items: Bound128,
    max_string_bytes: Bound128,
    max_capabilities: Bound128,
    max_caveats: Bound128,
) -> PyResult<Bound<'py, PyTuple>> {
    let limits = [max_object_bytes, max_depth, max_items, max_string_bytes];
    let (opened, _) = open_link_with(data, limits, max_capabilities, max_caveats, false)?;
    Ok(opened)
}

/// `open_link`, and the parts of the claims where they are in the common shape
/// (`claims::plain_parts`). Returns `(opened, parts)`: `opened` the tuple of `open_link`,
/// its `claims` None when `parts` is not; `parts` None, or `(issuer, parent, iat, nbf, exp,
/// depth, purpose, holder, capabilities, caveats, descriptor, id)`, the four values as
/// `(start, stop)` spans of the payload and `id` the link's id of spec 8.5.
#[pyfunction]
#[pyo3(signature = (data, *, max_object_bytes, max_depth, max_items, max_string_bytes, max_capabilities, max_caveats))]
#[allow(clippy::too_many_arguments)]
fn open_link_parts<'py>(
    data: &Bound<'py, PyBytes>,
    max_object_bytes: Bound128,
    max_depth: Bound128,
    max_items: Bound128,
    max_string_bytes: Bound128,
    max_capabilities: Bound128,
    max_caveats: Bound128,
) -> PyResult<(Bound<'py, PyTuple>, Option<Bound<'py, PyTuple>>)> {
    let limits = [max_object_bytes, max_depth, max_items, max_string_bytes];
    open_link_with(data, limits, max_capabilities, max_caveats, true)
}

fn open_link_with<'py>(
    data: &Bound<'py, PyBytes>,
    limits: [Bound128; 4],
    max_capabilities: Bound128,
    max_caveats: Bound128,
    want_parts: bool,
) -> PyResult<(Bound<'py, PyTuple>, Option<Bound<'py, PyTuple>>)> {
    let [max_object_bytes, max_depth, max_items, max_string_bytes] = limits;
    let lim = object_limits(max_object_bytes, max_depth, max_items, max_string_bytes);
    let claim_limits = ClaimLimits {
        max_capabilities: max_capabilities.0,
        max_caveats: max_caveats.0,
    };
    let py = data.py();
    match open_link_bytes(
        py,
        data.as_bytes(),
        None,
        &lim,
        &claim_limits,
        want_parts,
        None,
    ) {
        Ok(OpenedLinkObject::Parts(opened, parts)) => Ok((opened, parts)),
        // a link is made only with a builder, and none was given (no panic here: an error)
        Ok(OpenedLinkObject::Made(..)) => Err(PySystemError::new_err("a link made unasked")),
        Err(failure) => Err(failure.into_py(py)),
    }
}

/// Why a link did not open: a refusal of the core, or a failure to build Python objects.
enum OpenFailure {
    Refused(Error),
    Python(PyErr),
}

impl OpenFailure {
    fn into_py(self, py: Python<'_>) -> PyErr {
        match self {
            OpenFailure::Refused(error) => raise(py, error),
            OpenFailure::Python(err) => err,
        }
    }
}

impl From<PyErr> for OpenFailure {
    fn from(err: PyErr) -> Self {
        OpenFailure::Python(err)
    }
}

impl From<Error> for OpenFailure {
    fn from(error: Error) -> Self {
        OpenFailure::Refused(error)
    }
}

/// What the verifier hands [`open_presentation`] to make the Python objects of the links
/// it opens, as `NativeChain._link` and `codec.parts_link` make them: `(limits, lookups,
/// link, handles, invocation, root, encoded)`. `lookups` are the `get` of the
/// four memos of `codec._plain` (holder, capabilities, caveats, descriptor: each value's
/// `(limits, value, items)` by its exact bytes); `link` makes a `Signed` link from the
/// link's [`LinkFacts`], given twice (they stand for its claims and its envelope until each
/// is first read: `_native_chain._CoreLink`), and the digest; `root` makes a root link whole,
/// its claims (whose issuer every verification reads, V2.1), window and envelope, from the
/// claims' fields (`issuer, holder, parent, iat, nbf, exp, capabilities, caveats, depth,
/// purpose, descriptor, approvals, usage`), then the envelope's and the digest; `handles`
/// (a list) takes, for every link of the presentation in order, the [`LinkFacts`] of a link
/// made here (its id and revocation target in it, [`LinkFacts::made_ids`]), None for any
/// other (known to the caller, or left to it to make); `invocation`
/// makes the `Signed` invocation of the common shape (`claims::plain_invocation`) from its
/// claims (`chain, audience, action, resource, args, iat, nonce`), then the envelope's
/// fields from `alg` and the digest, as
/// `codec._claims._plain_cbor_invocation` and `_object` make it (checking the action's and
/// the resource's grammar first, with the reference's errors); `encoded` (a list) takes
/// the bytes of every link of the presentation, in order.
#[derive(FromPyObject)]
struct Builder<'py> {
    #[pyo3(item(0))]
    limits: Bound<'py, PyAny>,
    #[pyo3(item(1))]
    lookups: [Bound<'py, PyAny>; 4],
    #[pyo3(item(2))]
    link: Bound<'py, PyAny>,
    #[pyo3(item(3))]
    handles: Bound<'py, PyList>,
    #[pyo3(item(4))]
    invocation: Bound<'py, PyAny>,
    #[pyo3(item(5))]
    root: Bound<'py, PyAny>,
    #[pyo3(item(6))]
    encoded: Bound<'py, PyList>,
}

/// A link the core opened: the link object a [`Builder`] made of it, or `(opened, parts)` as
/// `open_link_parts` returns them, for the caller to make it.
enum OpenedLinkObject<'py> {
    /// the link object, and its facts
    Made(Bound<'py, PyAny>, Bound<'py, LinkFacts>),
    Parts(Bound<'py, PyTuple>, Option<Bound<'py, PyTuple>>),
}

/// One part's entry in [`PARTS`]: the limits it was found under (the very object the
/// verifier passed, see [`remembered`]) and what it reads as.
type PartEntry = (Py<PyAny>, Py<PyAny>);

/// The four values of plain links (holder, capabilities, caveats, descriptor) that
/// [`remembered`] found in `codec._plain`'s caches, one map each, by their exact bytes.
type PartMaps = [std::collections::HashMap<Box<[u8]>, PartEntry>; 4];

/// A front of `codec._plain`'s four byte caches: what a lookup there found, kept by the
/// value's bytes so that the next link with the same value finds it without a Python
/// bytes object and a call for each. Every value is a pure function of its bytes and the
/// limits it was read under (`codec._memo`), so an entry is as good as the cache's own after
/// the cache let it go; `codec.clear_caches()` empties both ([`clear_memos`]). Touched only
/// with the GIL held, so the lock is never contended; Python objects are released after
/// the lock is (their release may run Python code).
static PARTS: std::sync::Mutex<Option<PartMaps>> = std::sync::Mutex::new(None);

/// At most this many values in each of [`PARTS`]' maps; a full map starts over (as the key
/// cache does), which costs the next links one lookup each in `codec._plain`'s caches.
const MAX_PARTS: usize = 1024;

/// A holder's principal and its key's revocation target (spec 8.5), as `chain_facts` reads
/// them, by the holder and descriptor objects (which the entry holds, so that their
/// addresses name them while it lives): `(holder, descriptor, principal, target,
/// holder_principal, key_target)`, the last two the functions that answered.
type PrincipalEntry = [Py<PyAny>; 6];

/// What [`chain_facts`] asked the reference for each link's holder: its principal
/// (`holder_principal`) and its key's target (`key_target`), both pure functions of the
/// objects, kept by their addresses; an entry serves the very functions that answered it.
/// As [`PARTS`]: touched with the GIL held, released with the lock free, emptied by
/// `codec.clear_caches()`.
static PRINCIPALS: std::sync::Mutex<
    Option<std::collections::HashMap<(usize, usize), PrincipalEntry>>,
> = std::sync::Mutex::new(None);

/// Empty what the core remembers of links' values, [`PARTS`] and [`PRINCIPALS`]
/// (`codec.clear_caches()` calls this).
#[pyfunction]
fn clear_memos() {
    let parts = PARTS.lock().ok().and_then(|mut guard| guard.take());
    let principals = PRINCIPALS.lock().ok().and_then(|mut guard| guard.take());
    drop((parts, principals)); // the values released with the locks free
}

/// How many values [`PARTS`] and [`PRINCIPALS`] hold, for the tests.
#[pyfunction]
fn memos_len() -> (usize, usize) {
    let parts = PARTS
        .lock()
        .ok()
        .and_then(|guard| {
            guard
                .as_ref()
                .map(|maps| maps.iter().map(|m| m.len()).sum())
        })
        .unwrap_or(0);
    let principals = PRINCIPALS
        .lock()
        .ok()
        .and_then(|guard| guard.as_ref().map(|map| map.len()))
        .unwrap_or(0);
    (parts, principals)
}

/// The four values of a plain link's claims (holder, capabilities, caveats, descriptor) as
/// the memos of `codec._plain` hold them under `builder.limits` (the very object or an equal
/// one, as `codec._plain._part` takes them), or None where one is not held so: the caller
/// then reads them as `codec.parts_link` does, learning what it did not find. Each is
/// looked for first in [`PARTS`], where a value found in those memos is kept.
fn remembered<'py>(
    py: Python<'py>,
    builder: &Builder<'py>,
    payload: &[u8],
    spans: [(usize, usize); 4],
) -> PyResult<Option<[Bound<'py, PyAny>; 4]>> {
    let mut raws: [&[u8]; 4] = [&[]; 4];
    for (raw, (start, end)) in raws.iter_mut().zip(spans) {
        let Some(found) = payload.get(start..end) else {
            return Ok(None);
        };
        *raw = found;
    }
    let mut found: [Option<Bound<'py, PyAny>>; 4] = [None, None, None, None];
    let limits = builder.limits.as_ptr();
    if let Ok(guard) = PARTS.lock() {
        if let Some(maps) = guard.as_ref() {
            for ((slot, map), raw) in found.iter_mut().zip(maps).zip(raws) {
                if let Some((under, value)) = map.get(raw) {
                    // kept under the very limits object the builder passes (see below)
                    if under.as_ptr() == limits {
                        *slot = Some(value.bind(py).clone());
                    }
                }
            }
        }
    }
    let mut learnt: Vec<(usize, Bound<'py, PyAny>)> = Vec::new();
    for (at, ((slot, lookup), raw)) in found.iter_mut().zip(&builder.lookups).zip(raws).enumerate()
    {
        if slot.is_some() {
            continue;
        }
        let entry = lookup.call1((PyBytes::new(py, raw),))?;
        let Ok(entry) = entry.downcast::<PyTuple>() else {
            return Ok(None); // None: never read under any limits
        };
        if entry.len() != 3 {
            return Ok(None);
        }
        // read under these limits: the very object, or an equal one (as `_part` takes it)
        let under = entry.get_item(0)?;
        if !under.is(&builder.limits) && !under.eq(&builder.limits)? {
            return Ok(None);
        }
        let value = entry.get_item(1)?;
        learnt.push((at, value.clone()));
        *slot = Some(value);
    }
    if !learnt.is_empty() {
        // kept under the builder's limits object: equal to the one the value was read
        // under, and the very one the next link of this verifier passes
        let mut released: Vec<PartEntry> = Vec::new();
        if let Ok(mut guard) = PARTS.lock() {
            let maps = guard.get_or_insert_with(Default::default);
            for (at, value) in learnt {
                let map = &mut maps[at];
                if map.len() >= MAX_PARTS {
                    released.extend(std::mem::take(map).into_values());
                }
                let entry = (builder.limits.clone().unbind(), value.unbind());
                released.extend(map.insert(raws[at].into(), entry));
            }
        }
        drop(released); // the values let go, with the lock free
    }
    let [Some(a), Some(b), Some(c), Some(d)] = found else {
        return Ok(None); // never: every slot was filled above, or the function returned
    };
    Ok(Some([a, b, c, d]))
}

/// The head of a COSE object's envelope as `codec.Envelope` holds it after its encoding:
/// `(alg, typ, protected, payload, signature, signed)`, `signed` its Sig_structure.
type EnvelopeHead<'py> = (
    Bound<'py, PyString>,
    Bound<'py, PyAny>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
    Bound<'py, PyBytes>,
);

fn envelope_head<'py>(
    py: Python<'py>,
    opened: &link::Opened<'_>,
    signed: &[u8],
) -> PyResult<EnvelopeHead<'py>> {
    let s = &opened.sign1;
    Ok((
        algorithm_name(py, opened.algorithm.name),
        small_int(py, s.typ)?,
        PyBytes::new(py, s.protected),
        PyBytes::new(py, s.payload),
        PyBytes::new(py, s.signature),
        PyBytes::new(py, signed),
    ))
}

/// An algorithm's name as a Python string made once per process: the names are a fixed few
/// (`alg.rs`), and every opened object carries one.
fn algorithm_name<'py>(py: Python<'py>, name: &'static str) -> Bound<'py, PyString> {
    match name {
        "Ed25519" => pyo3::intern!(py, "Ed25519").clone(),
        "ES256" => pyo3::intern!(py, "ES256").clone(),
        other => PyString::new(py, other),
    }
}

/// A Python int of a value decoded as `i128`: through `i64` where it fits (the common path
/// of CPython's int, instead of its conversion from bytes), else exactly as `i128` converts.
fn small_int(py: Python<'_>, value: i128) -> PyResult<Bound<'_, PyAny>> {
    match i64::try_from(value) {
        Ok(small) => small.into_bound_py_any(py),
        Err(_) => value.into_bound_py_any(py),
    }
}

/// The envelope's fields as the makers of `build` take them after the claims': `alg, typ,
/// protected, payload, signature, signed, encoded, digest`.
fn envelope_fields<'py>(
    head: EnvelopeHead<'py>,
    encoded: Bound<'py, PyBytes>,
    digest: Bound<'py, PyBytes>,
) -> [Bound<'py, PyAny>; 8] {
    let (alg, typ, protected, payload, signature, signed) = head;
    [
        alg.into_any(),
        typ,
        protected.into_any(),
        payload.into_any(),
        signature.into_any(),
        signed.into_any(),
        encoded.into_any(),
        digest.into_any(),
    ]
}

/// `open_link_with` over bytes: `(opened, parts)` as `open_link_parts` returns them, or,
/// given a [`Builder`] and the link's bytes as a Python object, the link object where its
/// claims are of the plain shape and their four values are remembered. `digest`, when the
/// caller hashed the bytes already, is their SHA-256.
fn open_link_bytes<'py>(
    py: Python<'py>,
    bytes: &[u8],
    digest: Option<[u8; 32]>,
    lim: &ObjectLimits,
    claim_limits: &ClaimLimits,
    want_parts: bool,
    build: Option<(&Builder<'py>, &Bound<'py, PyBytes>)>,
) -> Result<OpenedLinkObject<'py>, OpenFailure> {
    let (algorithm, sign1) = link::open_envelope(bytes, claims::LINK_TYP, lim)?;
    // the common shape read from the payload's bytes once they are known strict; anything
    // else decoded the general way, which refuses it with its first violation, in its order
    let plain = match want_parts.then(|| cbor::validate_map(sign1.payload, &lim.cbor)) {
        Some(Ok(Some(entries))) => claims::plain_link_at(sign1.payload, &entries, claim_limits),
        Some(Ok(None)) => claims::plain_link(sign1.payload, claim_limits),
        _ => None,
    };
    let (opened, decoded, plain_parts) = match plain {
        Some((head, parts)) => {
            let opened = link::Opened {
                algorithm,
                sign1,
                payload: Value::Null, // never read: the parts stand for the claims
            };
            (opened, Decoded::Head(Box::new(head)), Some(parts))
        }
        None => {
            let payload = cbor::decode(sign1.payload, &lim.cbor)?;
            let decoded = claims::decode_link_head(&payload, claim_limits)?;
            let parts = match decoded {
                Decoded::Head(_) if want_parts => claims::plain_parts(sign1.payload),
                _ => None,
            };
            let opened = link::Opened {
                algorithm,
                sign1,
                payload,
            };
            (opened, decoded, parts)
        }
    };
    let s = &opened.sign1;
    let signed = s.to_be_signed();
    let digest = digest.unwrap_or_else(|| agentchain_core::sha256(bytes));
    let digest_object = PyBytes::new(py, &digest);
    let mut parts = None;
    // the link's facts, or the Sig_structure where there are none (the envelope's, below)
    let (facts, signed) = match decoded {
        Decoded::Defer => (None, Some(signed)),
        Decoded::Head(head) => {
            let facts = chain::LinkFacts {
                algorithm: opened.algorithm,
                signed,
                signature: s.signature.to_vec(),
                digest,
                parent: head.parent.and_then(|p| <[u8; 32]>::try_from(p).ok()),
                nbf: head.nbf,
                exp: head.exp,
                depth: head.depth,
                holder: head.holder.clone(),
                holder_alg: head.holder_alg,
                capabilities: head
                    .capabilities
                    .iter()
                    .map(|(a, r)| ((*a).to_string(), (*r).to_string()))
                    .collect(),
            };
            if let Some(p) = plain_parts {
                let id = PyBytes::new(py, &p.id);
                let spans = [p.holder, p.capabilities, p.caveats, p.descriptor];
                // where the envelope's parts lie in the link's bytes (they are slices of them)
                let envelope_spans =
                    [s.protected, s.payload, s.signature].map(|part| span_in(bytes, part));
                if let (
                    Some((builder, encoded)),
                    [Some(protected), Some(payload), Some(signature)],
                ) = (build, envelope_spans)
                {
                    if let Some([holder, capabilities, caveats, descriptor]) =
                        remembered(py, builder, s.payload, spans)?
                    {
                        let target = PyBytes::new(py, &claims::link_target(&p.id));
                        // what the chain's facts read of it (`chain_facts`), and the rest
                        // of its claims, made into Python objects when first read
                        let part = MadeLink {
                            issuer: head.issuer.map(|b| PyBytes::new(py, b).unbind()),
                            holder: holder.unbind(),
                            descriptor: descriptor.unbind(),
                            capabilities: capabilities.unbind(),
                            caveats: caveats.unbind(),
                            digest: digest_object.clone().unbind(),
                            id: id.clone().unbind(),
                            target: target.unbind(),
                            iat: head.iat,
                            purpose: p.purpose.map(str::to_owned),
                            encoded: encoded.clone().unbind(),
                            typ: s.typ,
                            spans: [protected, payload, signature],
                        };
                        let handle = Bound::new(
                            py,
                            LinkFacts {
                                facts,
                                made: Some(part),
                            },
                        )?;
                        // a root whole (its claims are read at once, V2.1); another
                        // link with its facts standing for its claims and its envelope,
                        // each made when first read
                        let made = if head.issuer.is_some() {
                            // the handle was made with its `made` just above: never None
                            let claims = handle.get().claims_fields(py)?.ok_or_else(|| {
                                PySystemError::new_err("a made link without its claims")
                            })?;
                            let mut fields = claims.iter().collect::<Vec<_>>();
                            fields.push(pyo3::intern!(py, "cbor").clone().into_any());
                            let envelope = envelope_head(py, &opened, &handle.get().facts.signed)?;
                            fields.extend(envelope_fields(
                                envelope,
                                encoded.clone(),
                                digest_object.clone(),
                            ));
                            builder.root.call1(PyTuple::new(py, fields)?)?
                        } else {
                            builder.link.call1((&handle, &handle, &digest_object))?
                        };
                        return Ok(OpenedLinkObject::Made(made, handle));
                    }
                }
                parts = Some(
                    (
                        head.issuer.map(|b| PyBytes::new(py, b)),
                        head.parent.map(|b| PyBytes::new(py, b)),
                        head.iat,
                        head.nbf,
                        head.exp,
                        head.depth,
                        p.purpose,
                        p.holder,
                        p.capabilities,
                        p.caveats,
                        p.descriptor,
                        id,
                    )
                        .into_pyobject(py)?,
                );
            }
            (Some(Bound::new(py, LinkFacts { facts, made: None })?), None)
        }
    };
    let envelope = match (&facts, &signed) {
        (_, Some(signed)) => envelope_head(py, &opened, signed)?,
        (Some(facts), None) => envelope_head(py, &opened, &facts.get().facts.signed)?,
        (None, None) => {
            return Err(PySystemError::new_err("a link without its Sig_structure").into())
        }
    };
    let claims = match parts {
        Some(_) => py.None().into_bound(py),
        None => to_python(py, &opened.payload)?,
    };
    let opened = opened_tuple(
        py,
        envelope,
        claims,
        digest_object,
        facts.into_bound_py_any(py)?,
    )?;
    Ok(OpenedLinkObject::Parts(opened, parts))
}

/// Where `part`, a slice of `whole`, lies in it: `(start, end)`; None for any other slice.
fn span_in(whole: &[u8], part: &[u8]) -> Option<(usize, usize)> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    let found = whole.get(start..end)?;
    std::ptr::eq(found.as_ptr(), part.as_ptr()).then_some((start, end))
}

/// `(alg, typ, protected, payload, signature, signed, claims, digest, last)`: what
/// `open_link_parts` (`last` the link's facts) and [`open_object`] (`last` its bytes)
/// return for an object they opened.
fn opened_tuple<'py>(
    py: Python<'py>,
    head: EnvelopeHead<'py>,
    claims: Bound<'py, PyAny>,
    digest: Bound<'py, PyBytes>,
    last: Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyTuple>> {
    let (alg, typ, protected, payload, signature, signed) = head;
    (
        alg, typ, protected, payload, signature, signed, claims, digest, last,
    )
        .into_pyobject(py)
}

/// One signed object of a presentation other than a link, opened as `open_cose` opens it:
/// `(alg, typ, protected, payload, signature, signed, claims, digest, encoded)`, `claims` the
/// decoded payload and `encoded` the object's bytes.
fn open_object<'py>(
    py: Python<'py>,
    bytes: &[u8],
    typ: i128,
    lim: &ObjectLimits,
) -> Result<Bound<'py, PyTuple>, OpenFailure> {
    object_fields(py, &link::open(bytes, typ, lim)?, bytes)
}

/// What [`open_object`] returns for an object it opened (`bytes` its encoding).
fn object_fields<'py>(
    py: Python<'py>,
    opened: &link::Opened<'_>,
    bytes: &[u8],
) -> Result<Bound<'py, PyTuple>, OpenFailure> {
    let head = envelope_head(py, opened, &opened.sign1.to_be_signed())?;
    let claims = to_python(py, &opened.payload)?;
    let digest = PyBytes::new(py, &agentchain_core::sha256(bytes));
    Ok(opened_tuple(
        py,
        head,
        claims,
        digest,
        PyBytes::new(py, bytes).into_any(),
    )?)
}

/// The invocation of a presentation: the `Signed` object `builder.invocation` made of it
/// where its claims are of the common shape, else as [`open_object`] opens it.
fn open_invocation<'py>(
    py: Python<'py>,
    bytes: &[u8],
    lim: &ObjectLimits,
    builder: Option<&Builder<'py>>,
) -> Result<Bound<'py, PyAny>, OpenFailure> {
    let Some(builder) = builder else {
        return Ok(open_object(py, bytes, claims::INVOCATION_TYP, lim)?.into_any());
    };
    let opened = link::open(bytes, claims::INVOCATION_TYP, lim)?;
    let Some(plain) = claims::plain_invocation(&opened.payload) else {
        return Ok(object_fields(py, &opened, bytes)?.into_any());
    };
    let envelope = envelope_head(py, &opened, &opened.sign1.to_be_signed())?;
    let digest = PyBytes::new(py, &agentchain_core::sha256(bytes));
    let encoded = PyBytes::new(py, bytes);
    let fields = [
        PyBytes::new(py, plain.chain).into_any(),
        plain.audience.into_bound_py_any(py)?,
        plain.action.into_bound_py_any(py)?,
        plain.resource.into_bound_py_any(py)?,
        to_python(py, plain.args)?,
        plain.iat.into_bound_py_any(py)?,
        PyBytes::new(py, plain.nonce).into_any(),
    ];
    let tail = envelope_fields(envelope, encoded, digest);
    Ok(builder.invocation.call1(PyTuple::new(
        py,
        fields.into_iter().chain(tail).collect::<Vec<_>>(),
    )?)?)
}

/// A CBOR presentation of the plain shape (`presentation::plain_items`) with every object
/// in it opened, in one call: V1 of spec 8.2 up to the claims of all but the links.
///
/// `limits` is `(max_presentation_bytes, max_object_bytes, max_cbor_depth, max_cbor_items,
/// max_string_bytes, max_links, max_attachments, max_capabilities, max_caveats)`. `known`
/// maps a link's digest to the link decoded earlier (the verifier's prefix cache), or None.
///
/// Returns None where the container is not of the plain shape or an object does not open:
/// the reference then reads the bytes and raises what it raises, in its order. Else
/// `(links, invocation, attestations, approvals)`: each link what `known` returned for it,
/// or the link object `build` (a [`Builder`], optional) made of it, or `(encoded, opened,
/// parts)`, its bytes and what `open_link_parts` returns for them; the invocation None when
/// absent, the object `build` made of it ([`open_invocation`]; only when no link is left to
/// the caller, whose errors come first), or as [`open_object`] returns it; the attachments
/// as [`open_object`] returns them. `links` is a tuple when it holds no `(encoded, opened,
/// parts)` entry, else a list.
#[pyfunction]
#[pyo3(signature = (data, known, limits, build=None))]
#[allow(clippy::type_complexity)]
fn open_presentation<'py>(
    data: &Bound<'py, PyBytes>,
    known: Option<&Bound<'py, PyAny>>,
    limits: [Bound128; 9],
    build: Option<Builder<'py>>,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    let py = data.py();
    let [presentation_bytes, object_bytes, depth, items, string_bytes, links, attachments, capabilities, caveats] =
        limits;
    let container = ContainerLimits {
        max_presentation_bytes: presentation_bytes.0,
        max_object_bytes: object_bytes.0,
        max_links: links.0,
        max_attachments: attachments.0,
    };
    let Some(found) = presentation::plain_items(data.as_bytes(), &container) else {
        return Ok(None);
    };
    let lim = object_limits(object_bytes, depth, items, string_bytes);
    let claim_limits = ClaimLimits {
        max_capabilities: capabilities.0,
        max_caveats: caveats.0,
    };
    let opened = (|| -> Result<_, OpenFailure> {
        let mut out_links = Vec::with_capacity(found.links.len());
        let mut all_links = true; // every entry a link object: none left to the caller
        for bytes in &found.links {
            let mut digest = None;
            if let Some(known) = known {
                let found = agentchain_core::sha256(bytes);
                let link = known.call1((PyBytes::new(py, &found),))?;
                if !link.is_none() {
                    if let Some(builder) = &build {
                        builder.encoded.append(PyBytes::new(py, bytes))?;
                        builder.handles.append(py.None())?;
                    }
                    out_links.push(link);
                    continue;
                }
                digest = Some(found); // not hashed again below
            }
            let encoded = PyBytes::new(py, bytes);
            if let Some(builder) = &build {
                builder.encoded.append(&encoded)?;
            }
            let with = build.as_ref().map(|builder| (builder, &encoded));
            match open_link_bytes(py, bytes, digest, &lim, &claim_limits, true, with)? {
                OpenedLinkObject::Made(link, handle) => {
                    if let Some(builder) = &build {
                        builder.handles.append(handle)?;
                    }
                    out_links.push(link);
                }
                OpenedLinkObject::Parts(opened, parts) => {
                    if let Some(builder) = &build {
                        builder.handles.append(py.None())?;
                    }
                    all_links = false;
                    out_links.push((encoded, opened, parts).into_pyobject(py)?.into_any());
                }
            }
        }
        let out_links = if all_links {
            PyTuple::new(py, out_links)?.into_any()
        } else {
            PyList::new(py, out_links)?.into_any()
        };
        // the invocation's claims are read after every link's, as the reference reads
        // them: made here only when no link is left to the caller to make
        let invocation_builder = build.as_ref().filter(|_| all_links);
        let invocation = match found.invocation {
            Some(bytes) => Some(open_invocation(py, bytes, &lim, invocation_builder)?),
            None => None,
        };
        let attestations = found
            .attestations
            .iter()
            .map(|b| open_object(py, b, claims::ATTESTATION_TYP, &lim))
            .collect::<Result<Vec<_>, _>>()?;
        let approvals = found
            .approvals
            .iter()
            .map(|b| open_object(py, b, claims::APPROVAL_TYP, &lim))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((out_links, invocation, attestations, approvals).into_pyobject(py)?)
    })();
    match opened {
        Ok(tuple) => Ok(Some(tuple)),
        Err(OpenFailure::Refused(_)) => Ok(None), // the reference raises it, in its order
        Err(OpenFailure::Python(err)) => Err(err),
    }
}

/// The facts of a chain (`verifier._facts.chain_facts`) from the facts of its links, when
/// the core made every one of them (`open_presentation`'s `build`); None otherwise, and the
/// caller gathers them itself. Either `links` is the whole chain and `root` the trust
/// anchor's principal, or `prefix` holds the facts of the links before them (a
/// `ChainFacts` the prefix cache kept, spec 8.4) and `links` are the ones after it.
/// `holder_principal` and `key_target` are the reference's own functions
/// (`verifier._types.holder_principal`, the memo of `verifier._revocation.key_target`).
/// Returns `(principals, digests, ids, targets, not_before, expires, grants, runs)` of the
/// whole chain in the order `chain_facts` gathers them, `targets` each once, in the order
/// of their first appearance (as `dict.fromkeys` keeps them); a made link states neither
/// usage limits nor approval requirements (the plain shape has none: the prefix's say
/// whether the chain does).
#[pyfunction]
#[pyo3(signature = (links, root, holder_principal, key_target, prefix=None))]
fn chain_facts<'py>(
    py: Python<'py>,
    links: Vec<Bound<'py, LinkFacts>>,
    root: Option<Bound<'py, PyAny>>,
    holder_principal: Bound<'py, PyAny>,
    key_target: Bound<'py, PyAny>,
    prefix: Option<Bound<'py, PyAny>>,
) -> PyResult<Option<Bound<'py, PyTuple>>> {
    let made: Option<Vec<&MadeLink>> = links.iter().map(|l| l.get().made.as_ref()).collect();
    let (Some(made), Some(first)) = (made, links.first()) else {
        return Ok(None);
    };
    let thumbprint = pyo3::intern!(py, "thumbprint");
    // the new links' facts; with a prefix, its own are put before them at the end
    let mut principals: Vec<Bound<'py, PyAny>> = Vec::with_capacity(links.len() + 1);
    let mut digests: Vec<Bound<'py, PyAny>> = Vec::with_capacity(links.len());
    let mut ids: Vec<Bound<'py, PyAny>> = Vec::with_capacity(links.len());
    let mut targets: Vec<Bound<'py, PyAny>> = Vec::with_capacity(3 * links.len());
    let (mut not_before, mut expires): (u64, u64);
    let mut grants: Vec<(usize, Bound<'py, PyAny>)>;
    let mut runs: Vec<(usize, usize, Bound<'py, PyAny>)>;
    let mut issuer_target;
    let offset;
    match (&prefix, root) {
        (Some(prefix), _) => {
            // continued from the prefix's facts, as `chain_facts` continues a `prefix`
            let known = prefix.getattr(pyo3::intern!(py, "principals"))?;
            offset = prefix.getattr(pyo3::intern!(py, "digests"))?.len()?;
            if offset == 0 || known.len()? != offset + 1 {
                return Ok(None); // not the facts of a prefix: the caller gathers them
            }
            not_before = prefix.getattr(pyo3::intern!(py, "not_before"))?.extract()?;
            expires = prefix.getattr(pyo3::intern!(py, "expires"))?.extract()?;
            grants = prefix.getattr(pyo3::intern!(py, "grants"))?.extract()?;
            runs = prefix.getattr(pyo3::intern!(py, "caveats"))?.extract()?;
            // the first new link's issuer is the prefix's last holder (spec 5.5)
            let last = known.get_item(offset)?;
            issuer_target = key_target.call1((last
                .getattr(pyo3::intern!(py, "key"))?
                .getattr(thumbprint)?,))?;
        }
        (None, Some(root)) => {
            let Some(issuer) = made.first().and_then(|m| m.issuer.as_ref()) else {
                return Ok(None); // spec 5.5: a root names its issuer (the codec refused it)
            };
            offset = 0;
            not_before = first.get().facts.nbf;
            expires = first.get().facts.exp;
            principals.push(root);
            grants = Vec::new();
            runs = Vec::new();
            issuer_target = key_target.call1((issuer.bind(py),))?;
        }
        (None, None) => {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "the facts of a chain need its root's principal or its prefix's facts",
            ))
        }
    }
    for (at, (link, part)) in links.iter().zip(made).enumerate() {
        let index = offset + at;
        let facts = &link.get().facts;
        not_before = not_before.max(facts.nbf);
        expires = expires.min(facts.exp);
        // the distinct capability tuples and the runs of one caveat tuple, by identity
        let capabilities = part.capabilities.bind(py);
        if !grants.iter().any(|(_, known)| known.is(capabilities)) {
            grants.push((index, capabilities.clone()));
        }
        let caveats = part.caveats.bind(py);
        match runs.last_mut() {
            Some((_, count, last)) if last.is(caveats) => *count += 1,
            _ => runs.push((index, 1, caveats.clone())),
        }
        let (principal, holder_target) = principal_of(
            py,
            part.holder.bind(py),
            part.descriptor.bind(py),
            &holder_principal,
            &key_target,
        )?;
        principals.push(principal);
        // the link's own target, its issuer's key's, its holder's key's (_targets_of);
        // below the first link the issuer's is the very object pushed as the holder's of
        // the link above, which the chain's targets keep once anyway
        targets.push(part.target.bind(py).clone().into_any());
        if at == 0 {
            targets.push(issuer_target);
        }
        targets.push(holder_target.clone());
        issuer_target = holder_target;
        digests.push(part.digest.bind(py).clone().into_any());
        ids.push(part.id.bind(py).clone().into_any());
    }
    let grants = grants
        .into_iter()
        .map(|grant| grant.into_pyobject(py))
        .collect::<PyResult<Vec<_>>>()?;
    let runs = runs
        .into_iter()
        .map(|run| run.into_pyobject(py))
        .collect::<PyResult<Vec<_>>>()?;
    let (mut principals, mut digests, mut ids) = (
        PyTuple::new(py, principals)?.into_any(),
        PyTuple::new(py, digests)?.into_any(),
        PyTuple::new(py, ids)?.into_any(),
    );
    let known = match &prefix {
        Some(prefix) => Some(
            prefix
                .getattr(pyo3::intern!(py, "targets"))?
                .downcast_into::<PyTuple>()?,
        ),
        None => None,
    };
    let targets = distinct(py, known.as_ref(), &targets)?;
    if let Some(prefix) = &prefix {
        // the prefix's tuples, then the new links' (one concatenation each)
        principals = prefix
            .getattr(pyo3::intern!(py, "principals"))?
            .add(principals)?;
        digests = prefix.getattr(pyo3::intern!(py, "digests"))?.add(digests)?;
        ids = prefix.getattr(pyo3::intern!(py, "ids"))?.add(ids)?;
    }
    Ok(Some(
        (
            principals,
            digests,
            ids,
            targets,
            not_before,
            expires,
            PyTuple::new(py, grants)?,
            PyTuple::new(py, runs)?,
        )
            .into_pyobject(py)?,
    ))
}

/// `holder_principal(holder, descriptor)` and `key_target(holder.thumbprint)`, as
/// [`PRINCIPALS`] holds them, or asked of the reference and kept there.
fn principal_of<'py>(
    py: Python<'py>,
    holder: &Bound<'py, PyAny>,
    descriptor: &Bound<'py, PyAny>,
    holder_principal: &Bound<'py, PyAny>,
    key_target: &Bound<'py, PyAny>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let key = (holder.as_ptr() as usize, descriptor.as_ptr() as usize);
    if let Ok(guard) = PRINCIPALS.lock() {
        if let Some([h, d, principal, target, hp, kt]) =
            guard.as_ref().and_then(|map| map.get(&key))
        {
            // the entry holds both objects: their addresses cannot name others meanwhile
            if h.is(holder) && d.is(descriptor) && hp.is(holder_principal) && kt.is(key_target) {
                return Ok((principal.bind(py).clone(), target.bind(py).clone()));
            }
        }
    }
    let principal = holder_principal.call1((holder, descriptor))?;
    let target = key_target.call1((holder.getattr(pyo3::intern!(py, "thumbprint"))?,))?;
    let entry = [
        holder.clone().unbind(),
        descriptor.clone().unbind(),
        principal.clone().unbind(),
        target.clone().unbind(),
        holder_principal.clone().unbind(),
        key_target.clone().unbind(),
    ];
    let mut released = Vec::new();
    if let Ok(mut guard) = PRINCIPALS.lock() {
        let map = guard.get_or_insert_with(Default::default);
        if map.len() >= MAX_PARTS {
            released.extend(std::mem::take(map).into_values());
        }
        released.extend(map.insert(key, entry));
    }
    drop(released); // released with the lock free
    Ok((principal, target))
}

/// The revocation targets `before` (a prefix's, each once already) then `new`, each once, in
/// the order of their first appearance: `tuple(dict.fromkeys(...))` of their concatenation.
/// Every target is bytes (`link_target`, `key_target`); TypeError for anything else.
fn distinct<'py>(
    py: Python<'py>,
    before: Option<&Bound<'py, PyTuple>>,
    new: &[Bound<'py, PyAny>],
) -> PyResult<Bound<'py, PyTuple>> {
    let mut all: Vec<Bound<'py, PyBytes>> =
        Vec::with_capacity(new.len() + before.map_or(0, |b| b.len()));
    if let Some(before) = before {
        for target in before.iter() {
            all.push(target.downcast_into::<PyBytes>()?);
        }
    }
    for target in new {
        all.push(target.downcast::<PyBytes>()?.clone());
    }
    let mut seen: std::collections::HashSet<&[u8]> =
        std::collections::HashSet::with_capacity(all.len());
    let kept: Vec<&Bound<'py, PyBytes>> =
        all.iter().filter(|t| seen.insert(t.as_bytes())).collect();
    PyTuple::new(py, kept)
}

/// V2 of spec 8.2 over `links` (`chain.rs`), the first signed by `root` (`(alg, raw)` of the
/// trust anchor) or by the holder of `parent`. Returns None, or `(index, check, error)`:
/// the first link that failed (counted from the first passed), the check (`alg`, `signature`,
/// `linkage`, `window`, `scope`, `time_nesting`, `depth`) for the caller to raise with the
/// reference's check function, and for `signature` the exception `PublicKey.verify` raises.
/// The GIL is released for the curve arithmetic.
#[pyfunction]
#[pyo3(signature = (links, *, root, parent, allowed, max_ttl))]
fn verify_chain(
    py: Python<'_>,
    links: Vec<Bound<'_, LinkFacts>>,
    root: Option<(String, Vec<u8>)>,
    parent: Option<Bound<'_, LinkFacts>>,
    allowed: Vec<String>,
    max_ttl: u64,
) -> PyResult<Option<(usize, &'static str, Option<PyObject>)>> {
    let anchor = match &root {
        Some((alg, raw)) => Some(link::import_cached(alg, raw).map_err(|e| raise(py, e))?),
        None => None,
    };
    let start = match (&anchor, &parent) {
        (Some((key, alg)), _) => Start::Root(key, alg),
        (None, Some(above)) => Start::Below(&above.get().facts),
        (None, None) => {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "verify_chain needs a root key or a parent",
            ))
        }
    };
    let facts: Vec<&chain::LinkFacts> = links.iter().map(|l| &l.get().facts).collect();
    let names: Vec<&str> = allowed.iter().map(String::as_str).collect();
    match py.allow_threads(|| chain::verify_chain(&facts, start, &names, max_ttl)) {
        Ok(()) => Ok(None),
        Err(Failure::Check(index, check)) => Ok(Some((index, check.name(), None))),
        Err(Failure::Signature(index, error)) => {
            let exception = raise(py, error).into_value(py).into_any();
            Ok(Some((index, "signature", Some(exception))))
        }
    }
}

#[pymodule]
fn agentchain_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cbor_decode, m)?)?;
    m.add_function(wrap_pyfunction!(sign1_decode, m)?)?;
    m.add_function(wrap_pyfunction!(sig_structure, m)?)?;
    m.add_function(wrap_pyfunction!(sha256, m)?)?;
    m.add_function(wrap_pyfunction!(b64decode, m)?)?;
    m.add_function(wrap_pyfunction!(jws_decode_compact, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(verify_cached, m)?)?;
    m.add_function(wrap_pyfunction!(cbor_encode, m)?)?;
    m.add_function(wrap_pyfunction!(payload_args_digest, m)?)?;
    m.add_function(wrap_pyfunction!(open_cose, m)?)?;
    m.add_function(wrap_pyfunction!(verify_cose, m)?)?;
    m.add_function(wrap_pyfunction!(open_link, m)?)?;
    m.add_function(wrap_pyfunction!(open_link_parts, m)?)?;
    m.add_function(wrap_pyfunction!(open_presentation, m)?)?;
    m.add_function(wrap_pyfunction!(verify_chain, m)?)?;
    m.add_function(wrap_pyfunction!(chain_facts, m)?)?;
    m.add_function(wrap_pyfunction!(clear_memos, m)?)?;
    m.add_function(wrap_pyfunction!(memos_len, m)?)?;
    m.add_class::<PublicKey>()?;
    m.add_class::<LinkFacts>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
