"""Deliberately wrong implementations behind the harness protocol, for tests/test_vectors.py.

``accept-all`` answers allow to every step; ``reject-all`` answers the error
signature_invalid to every step and does not declare the approval feature (so those cases
are skipped); ``crash`` answers allow to ten cases, then exits in the middle of the run;
``hang`` answers allow to one case, then never answers again.
Only the standard library: it stands for another team's implementation.
"""

from __future__ import annotations

import json
import sys
import time

CRASH_AFTER = 10


def main(mode: str) -> int:
    features = ["attestation", "behaviour", "replay", "revocation"]
    if mode != "reject-all":
        features.append("approval")
    runs = 0
    for line in sys.stdin:
        message = json.loads(line)
        if message["cmd"] == "start":
            reply: dict[str, object] = {
                "ready": True,
                "version": 1,
                "implementation": {
                    "name": f"wrong-{mode}",
                    "version": "0",
                    "language": "python",
                    "encodings": ["cbor"],
                    "algorithms": ["EdDSA", "ES256"],
                    "features": features,
                },
            }
        elif message["cmd"] == "run":
            runs += 1
            if mode == "crash" and runs > CRASH_AFTER:
                return 3
            if mode == "hang" and runs > 1:
                time.sleep(3600)
            steps = message["case"]["steps"]
            if mode == "reject-all":
                results: list[dict[str, object]] = [{"error": "signature_invalid"} for _ in steps]
            else:
                results = [{"outcome": "allow", "reasons": []} for _ in steps]
            reply = {"seq": message["seq"], "results": results}
        else:
            return 0
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
