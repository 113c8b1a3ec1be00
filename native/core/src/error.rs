//! Errors that carry a code of agentchain's one registry (`agentchain/errors.py`).

use std::fmt;

/// Which `agentchain.errors` exception type a failure is raised as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `DecodeError`: the bytes are not a well-formed object (wire, schema, limits).
    Decode,
    /// `InvalidKey`: a key is malformed or not allowed.
    Key,
    /// `SignatureError`: a signature is malformed or does not verify.
    Signature,
}

/// A refusal: the exception kind, the registry code, and a message for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub kind: Kind,
    /// a key of `agentchain.errors.REGISTRY`, e.g. `cbor_noncanonical`
    pub code: &'static str,
    pub message: String,
}

impl Error {
    pub fn decode(code: &'static str, message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Decode,
            code,
            message: message.into(),
        }
    }

    pub fn key(code: &'static str, message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Key,
            code,
            message: message.into(),
        }
    }

    pub fn signature(code: &'static str, message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Signature,
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Python's `repr` of a list of strings, as the reference's messages show unknown labels and
/// keys (`sorted(map(str, unknown))`): each string in single quotes, or in double quotes when
/// it holds a single quote and no double quote, with Python's escapes for the backslash, the
/// quote, tabs, newlines and ASCII controls. Other characters are kept (Python escapes also
/// the non-printable ones beyond ASCII, which only an error message about hostile input
/// would show: codes never depend on it).
pub fn py_list(items: &[String]) -> String {
    let shown: Vec<String> = items.iter().map(|s| py_str(s)).collect();
    format!("[{}]", shown.join(", "))
}

fn py_str(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn python_repr_of_labels() {
        let items = ["2", "it's", "a\\b", "t\tab\u{1}"].map(String::from);
        assert_eq!(
            super::py_list(&items),
            r#"['2', "it's", 'a\\b', 't\tab\x01']"#
        );
    }
}
