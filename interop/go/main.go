// Command agentchain-interop-cose checks agentchain's COSE_Sign1 objects with
// veraison/go-cose, an implementation that shares no code with agentchain.
//
//	agentchain-interop-cose verify CASES.json VERDICTS.json
//	agentchain-interop-cose sign   CASES.json SIGNED.json
//
// verify: for each case, decode the untagged COSE_Sign1 with go-cose, verify it
// with the case's public JWK under the case's COSE algorithm and its external_aad,
// and report the verdict with the protected header (label, value pairs) and the
// payload go-cose read.
// Algorithms: ES256 (-7) and Ed25519 as -8 through go-cose; Ed25519 as -19 through
// the standard library behind go-cose's interfaces (see algorithmEd25519).
// sign: for each case, sign the given payload with go-cose under the given protected
// header and external_aad, with the case's private JWK.
// One bad case never stops the others: its verdict carries the error. The exit
// status is non-zero only when the request itself cannot be read or written.
// The case format is described in interop/README.md.
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	_ "crypto/sha256" // registers SHA-256, which go-cose looks up for ES256
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/veraison/go-cose"
)

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y,omitempty"`
	D   string `json:"d,omitempty"`
}

type verifyCase struct {
	ID          string `json:"id"`
	Object      string `json:"object"`
	Key         jwk    `json:"key"`
	Alg         int64  `json:"alg"`
	ExternalAAD string `json:"external_aad"`
}

type verdict struct {
	ID      string   `json:"id"`
	Valid   bool     `json:"valid"`
	Error   string   `json:"error,omitempty"`
	Header  [][2]any `json:"header,omitempty"`
	Payload string   `json:"payload,omitempty"`
}

type signCase struct {
	ID          string   `json:"id"`
	Key         jwk      `json:"key"`
	Alg         int64    `json:"alg"`
	Header      [][2]any `json:"header"`
	Payload     string   `json:"payload"`
	ExternalAAD string   `json:"external_aad"`
}

type signed struct {
	ID     string `json:"id"`
	Object string `json:"object,omitempty"`
	Error  string `json:"error,omitempty"`
}

var b64 = base64.RawURLEncoding

// algorithmEd25519 is RFC 9864's fully-specified Ed25519. go-cose v1.3.0 knows Ed25519
// only as -8 (EdDSA), so under -19 the program plugs the standard library's Ed25519
// into go-cose's public Signer and Verifier interfaces: go-cose still decodes the
// message, checks the protected alg against the verifier's and builds the Sig_structure.
const algorithmEd25519 cose.Algorithm = -19

type ed25519Verifier struct{ key ed25519.PublicKey }

func (ed25519Verifier) Algorithm() cose.Algorithm { return algorithmEd25519 }

func (v ed25519Verifier) Verify(content, signature []byte) error {
	if !ed25519.Verify(v.key, content, signature) {
		return cose.ErrVerification
	}
	return nil
}

type ed25519Signer struct{ key ed25519.PrivateKey }

func (ed25519Signer) Algorithm() cose.Algorithm { return algorithmEd25519 }

func (s ed25519Signer) Sign(_ io.Reader, content []byte) ([]byte, error) {
	return ed25519.Sign(s.key, content), nil
}

func newVerifier(alg cose.Algorithm, key crypto.PublicKey) (cose.Verifier, error) {
	if k, ok := key.(ed25519.PublicKey); ok && alg == algorithmEd25519 {
		return ed25519Verifier{k}, nil
	}
	return cose.NewVerifier(alg, key)
}

func newSigner(alg cose.Algorithm, key crypto.Signer) (cose.Signer, error) {
	if k, ok := key.(ed25519.PrivateKey); ok && alg == algorithmEd25519 {
		return ed25519Signer{k}, nil
	}
	return cose.NewSigner(alg, key)
}

func coord(s string) ([]byte, error) {
	b, err := b64.DecodeString(s)
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("JWK coordinate is not 32 bytes of base64url")
	}
	return b, nil
}

func publicKey(k jwk) (crypto.PublicKey, error) {
	x, err := coord(k.X)
	if err != nil {
		return nil, err
	}
	switch {
	case k.Kty == "OKP" && k.Crv == "Ed25519":
		return ed25519.PublicKey(x), nil
	case k.Kty == "EC" && k.Crv == "P-256":
		y, err := coord(k.Y)
		if err != nil {
			return nil, err
		}
		point := append(append([]byte{4}, x...), y...)
		return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	}
	return nil, fmt.Errorf("unsupported JWK %s/%s", k.Kty, k.Crv)
}

func privateKey(k jwk) (crypto.Signer, error) {
	d, err := coord(k.D)
	if err != nil {
		return nil, err
	}
	switch {
	case k.Kty == "OKP" && k.Crv == "Ed25519":
		return ed25519.NewKeyFromSeed(d), nil
	case k.Kty == "EC" && k.Crv == "P-256":
		return ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
	}
	return nil, fmt.Errorf("unsupported JWK %s/%s", k.Kty, k.Crv)
}

func verifyOne(c verifyCase) verdict {
	v := verdict{ID: c.ID}
	fail := func(err error) verdict { v.Error = err.Error(); return v }
	data, err := b64.DecodeString(c.Object)
	if err != nil {
		return fail(fmt.Errorf("object: %w", err))
	}
	aad, err := b64.DecodeString(c.ExternalAAD)
	if err != nil {
		return fail(fmt.Errorf("external_aad: %w", err))
	}
	var msg cose.UntaggedSign1Message
	if err := msg.UnmarshalCBOR(data); err != nil {
		return fail(fmt.Errorf("decode: %w", err))
	}
	for label, value := range msg.Headers.Protected {
		if alg, ok := value.(cose.Algorithm); ok {
			value = int64(alg)
		}
		v.Header = append(v.Header, [2]any{label, value})
	}
	v.Payload = b64.EncodeToString(msg.Payload)
	key, err := publicKey(c.Key)
	if err != nil {
		return fail(err)
	}
	verifier, err := newVerifier(cose.Algorithm(c.Alg), key)
	if err != nil {
		return fail(fmt.Errorf("go-cose has no verifier for alg %d: %w", c.Alg, err))
	}
	// go-cose checks that the protected alg is the verifier's before the signature
	if err := msg.Verify(aad, verifier); err != nil {
		return fail(fmt.Errorf("verify: %w", err))
	}
	v.Valid = true
	return v
}

// integer reads a JSON number that holds an integer (labels and integer header values).
func integer(value any) (int64, bool) {
	number, ok := value.(float64)
	if !ok || number != float64(int64(number)) {
		return 0, false
	}
	return int64(number), true
}

func signOne(c signCase) signed {
	s := signed{ID: c.ID}
	fail := func(err error) signed { s.Error = err.Error(); return s }
	payload, err := b64.DecodeString(c.Payload)
	if err != nil {
		return fail(fmt.Errorf("payload: %w", err))
	}
	aad, err := b64.DecodeString(c.ExternalAAD)
	if err != nil {
		return fail(fmt.Errorf("external_aad: %w", err))
	}
	key, err := privateKey(c.Key)
	if err != nil {
		return fail(err)
	}
	signer, err := newSigner(cose.Algorithm(c.Alg), key)
	if err != nil {
		return fail(fmt.Errorf("go-cose has no signer for alg %d: %w", c.Alg, err))
	}
	protected := cose.ProtectedHeader{}
	for _, entry := range c.Header {
		label, ok := integer(entry[0])
		if !ok {
			return fail(fmt.Errorf("header label %v is not an integer", entry[0]))
		}
		value := entry[1]
		if number, ok := integer(value); ok {
			value = number
		}
		if label == cose.HeaderLabelAlgorithm {
			number, ok := value.(int64)
			if !ok {
				return fail(fmt.Errorf("header alg %v is not an integer", value))
			}
			value = cose.Algorithm(number)
		}
		protected[label] = value
	}
	msg := cose.UntaggedSign1Message{
		Headers: cose.Headers{Protected: protected, Unprotected: cose.UnprotectedHeader{}},
		Payload: payload,
	}
	if err := msg.Sign(rand.Reader, aad, signer); err != nil {
		return fail(fmt.Errorf("sign: %w", err))
	}
	out, err := msg.MarshalCBOR()
	if err != nil {
		return fail(fmt.Errorf("encode: %w", err))
	}
	s.Object = b64.EncodeToString(out)
	return s
}

func run(mode, in, out string) error {
	raw, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var result any
	switch mode {
	case "verify":
		var req struct{ Cases []verifyCase }
		if err := json.Unmarshal(raw, &req); err != nil {
			return err
		}
		verdicts := make([]verdict, 0, len(req.Cases))
		for _, c := range req.Cases {
			verdicts = append(verdicts, verifyOne(c))
		}
		result = map[string]any{"implementation": "go-cose", "verdicts": verdicts}
	case "sign":
		var req struct{ Cases []signCase }
		if err := json.Unmarshal(raw, &req); err != nil {
			return err
		}
		objects := make([]signed, 0, len(req.Cases))
		for _, c := range req.Cases {
			objects = append(objects, signOne(c))
		}
		result = map[string]any{"implementation": "go-cose", "signed": objects}
	default:
		return errors.New("usage: agentchain-interop-cose verify|sign CASES.json OUT.json")
	}
	text, err := json.Marshal(result)
	if err != nil {
		return err
	}
	return os.WriteFile(out, text, 0o600)
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: agentchain-interop-cose verify|sign CASES.json OUT.json")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "agentchain-interop-cose:", err)
		os.Exit(1)
	}
}
