// JWS interop check for agentchain through panva/jose, an implementation that
// shares no code with agentchain.
//
//   node interop.mjs verify CASES.json VERDICTS.json
//   node interop.mjs sign   CASES.json SIGNED.json
//
// verify: for each case, verify the JWS compact with jose's compactVerify, the
// case's public JWK and exactly the case's algorithm, and report the verdict
// with the protected header and payload jose read.
// sign: for each case, sign the given payload with jose's CompactSign under the
// given protected header (a JSON object, serialized by jose) with the case's private JWK.
// One bad case never stops the others: its verdict carries the error. The exit
// status is non-zero only when the request itself cannot be read or written.
// The case format is described in interop/README.md.
import { readFileSync, writeFileSync } from "node:fs";
import { CompactSign, compactVerify, importJWK, base64url } from "jose";

async function verifyOne(c) {
  const verdict = { id: c.id, valid: false };
  try {
    const key = await importJWK(c.key, c.alg);
    const { payload, protectedHeader } = await compactVerify(c.object, key, {
      algorithms: [c.alg],
    });
    verdict.header = protectedHeader;
    verdict.payload = base64url.encode(payload);
    verdict.valid = true;
  } catch (err) {
    verdict.error = `${err.code ?? err.name}: ${err.message}`;
  }
  return verdict;
}

async function signOne(c) {
  const result = { id: c.id };
  try {
    const key = await importJWK(c.key, c.alg);
    result.object = await new CompactSign(base64url.decode(c.payload))
      .setProtectedHeader(c.header)
      .sign(key);
  } catch (err) {
    result.error = `${err.code ?? err.name}: ${err.message}`;
  }
  return result;
}

async function main([mode, input, output]) {
  const { cases } = JSON.parse(readFileSync(input, "utf8"));
  let result;
  if (mode === "verify") {
    const verdicts = [];
    for (const c of cases) verdicts.push(await verifyOne(c));
    result = { implementation: "jose", verdicts };
  } else if (mode === "sign") {
    const signed = [];
    for (const c of cases) signed.push(await signOne(c));
    result = { implementation: "jose", signed };
  } else {
    throw new Error("usage: node interop.mjs verify|sign CASES.json OUT.json");
  }
  writeFileSync(output, JSON.stringify(result), { mode: 0o600 });
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`agentchain-interop-jose: ${err.message}\n`);
  process.exit(1);
});
