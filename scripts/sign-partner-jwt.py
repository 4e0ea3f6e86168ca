#!/usr/bin/env python3
"""Signs a partner JWT (HS256) the way downline verifies it: a worked
example for the identity service that issues the mobile app's tokens.

    scripts/sign-partner-jwt.py --secret-file jwt.secret --sub P123 --aud downline-app [--iss URL] [--ttl-secs 3600]

The secret is the file's raw bytes with any trailing CR and LF bytes removed,
exactly as `downline serve --jwt-hs256-secret-file` reads it: it is not
base64 or hex decoded, and it must be at least 32 bytes. The token carries
sub (the partner's id), aud, exp (now + ttl), iat, and iss when given.
Prints the token on stdout. Python standard library only.
"""
import argparse
import base64
import hashlib
import hmac
import json
import sys
import time

MIN_SECRET_BYTES = 32


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def read_secret(path: str) -> bytes:
    with open(path, "rb") as f:
        secret = f.read()
    secret = secret.rstrip(b"\r\n")
    if len(secret) < MIN_SECRET_BYTES:
        sys.exit(f"error: the HS256 secret in {path} is shorter than {MIN_SECRET_BYTES} bytes")
    return secret


def sign(secret: bytes, claims: dict) -> str:
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = ".".join(
        b64url(json.dumps(part, separators=(",", ":")).encode("utf-8")) for part in (header, claims)
    )
    signature = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--secret-file", required=True, help="the file given to --jwt-hs256-secret-file")
    ap.add_argument("--sub", required=True, help="the partner's id")
    ap.add_argument("--aud", required=True, help="the server's --jwt-audience")
    ap.add_argument("--iss", help="the server's --jwt-issuer, if it has one")
    ap.add_argument("--ttl-secs", type=int, default=3600, help="seconds until the token expires")
    a = ap.parse_args()
    now = int(time.time())
    claims = {"sub": a.sub, "aud": a.aud, "iat": now, "exp": now + a.ttl_secs}
    if a.iss:
        claims["iss"] = a.iss
    print(sign(read_secret(a.secret_file), claims))


if __name__ == "__main__":
    main()
