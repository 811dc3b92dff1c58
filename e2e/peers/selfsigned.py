"""A self-signed certificate for 127.0.0.1, made with the openssl CLI, shared by the test peers' TLS.

The certificate is its own CA: a client trusts it explicitly (curl --cacert, ssl.create_default_context(cafile=...),
AsyncHTTPClient trustRoots). It names 127.0.0.1 and localhost in subjectAltName, so hostname checks pass.
"""
import fcntl
import os
import subprocess


def ensure(directory):
    """Returns the paths (cert.pem, key.pem) in `directory`, creating the pair once if either is missing."""
    os.makedirs(directory, exist_ok=True)
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    # Two peers started at once with the same directory must not both write the pair (a key from one run and a
    # certificate from the other would not match): hold an exclusive lock while checking and creating.
    with open(os.path.join(directory, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (os.path.exists(cert) and os.path.exists(key)):
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                            "-days", "2", "-subj", "/CN=127.0.0.1",
                            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                           check=True, capture_output=True)
    return cert, key
