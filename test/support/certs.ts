/**
 * Test certificates made with the openssl command line into a temporary directory: a test CA and the
 * certificates it signs (a good server certificate, a client certificate, an expired server certificate,
 * one for the wrong host name), plus an unrelated second CA with a server and a client certificate of its own.
 *
 * Keys are EC P-256 (quick to generate). Every file is world-readable and the directory is 0755, so a
 * mosquitto started as root (which drops to the `mosquitto` user) can read them. Test use only.
 */

import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Common name of the client certificate: an Astarte-style "realm/deviceId". */
export const CLIENT_CN = "acme/V_zv6ThCCtXWveQ8mPjsKg";

/** A certificate and its key: file paths and PEM text. */
export interface CertPair {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

/** Everything makeTestCerts() produced. */
export interface TestCerts {
  dir: string;
  /** The test CA. */
  ca: CertPair;
  /** Server certificate from the test CA: SAN IP:127.0.0.1, DNS:broker.test. */
  server: CertPair;
  /** Client certificate from the test CA, CN "acme/V_zv6ThCCtXWveQ8mPjsKg". */
  client: CertPair;
  /** A second CA that signed none of the above. */
  otherCa: CertPair;
  /** Server certificate from the other CA for the right names (SAN IP:127.0.0.1, DNS:broker.test). */
  otherServer: CertPair;
  /** Client certificate from the other CA with the same CN as `client`. */
  otherClient: CertPair;
  /** Server certificate from the test CA that expired on 2020-01-02 (SAN IP:127.0.0.1, DNS:broker.test). */
  expired: CertPair;
  /** Server certificate from the test CA for SAN DNS:wrong.test only (no IP SAN). */
  wrongHost: CertPair;
  /** Removes the directory. */
  dispose(): void;
}

const SERVER_SAN = "IP:127.0.0.1,DNS:broker.test";

function openssl(args: string[], cwd: string): string {
  try {
    return execFileSync("openssl", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args.join(" ")} failed: ${e.stderr ?? e.message}`);
  }
}

/** An openssl config: a `req` section for CSRs and self-signed CAs, a `ca` section for signing, and extension sections. */
function opensslConfig(dbDir: string): string {
  return `
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused

[ ca ]
default_ca = test_ca
[ test_ca ]
database = ${dbDir}/index.txt
new_certs_dir = ${dbDir}
serial = ${dbDir}/serial
default_md = sha256
policy = policy_cn
unique_subject = no
copy_extensions = none
[ policy_cn ]
commonName = supplied

[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ server_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = ${SERVER_SAN}

[ wrong_host_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:wrong.test

[ client_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;
}

/** Generates the test certificates into a new temporary directory. */
export function makeTestCerts(): TestCerts {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-certs-"));
  fs.chmodSync(dir, 0o755);
  const db = path.join(dir, "ca-db");
  fs.mkdirSync(db, { mode: 0o755 });
  fs.writeFileSync(path.join(db, "index.txt"), "");
  fs.writeFileSync(path.join(db, "serial"), "1000\n");
  const cnf = path.join(dir, "openssl.cnf");
  fs.writeFileSync(cnf, opensslConfig(db));
  const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

  const pair = (name: string): CertPair => {
    const certFile = path.join(dir, `${name}.crt`);
    const keyFile = path.join(dir, `${name}.key`);
    fs.chmodSync(certFile, 0o644);
    fs.chmodSync(keyFile, 0o644);
    return { certFile, keyFile, cert: fs.readFileSync(certFile, "utf8"), key: fs.readFileSync(keyFile, "utf8") };
  };

  const makeCa = (name: string, cn: string): CertPair => {
    openssl(
      ["req", "-config", cnf, "-x509", ...newKey, "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "3650", "-subj", `/CN=${cn}`, "-extensions", "ca_ext"],
      dir,
    );
    return pair(name);
  };

  /** A leaf certificate signed by `ca`; `validity` is ["-days", n] or ["-startdate", s, "-enddate", e]. */
  const makeLeaf = (name: string, subj: string, ca: CertPair, ext: string, validity: string[]): CertPair => {
    openssl(["req", "-config", cnf, "-new", ...newKey, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subj], dir);
    openssl(
      ["ca", "-config", cnf, "-batch", "-notext", "-cert", ca.certFile, "-keyfile", ca.keyFile, "-in", `${name}.csr`, "-out", `${name}.crt`, "-extensions", ext, ...validity],
      dir,
    );
    return pair(name);
  };

  const valid = ["-days", "825"];
  const ca = makeCa("ca", "edgemq test CA");
  const otherCa = makeCa("other-ca", "edgemq unrelated CA");
  const certs: TestCerts = {
    dir,
    ca,
    otherCa,
    server: makeLeaf("server", "/CN=broker.test", ca, "server_ext", valid),
    // A '/' inside a subject value must be escaped for openssl's -subj syntax.
    client: makeLeaf("client", `/CN=${CLIENT_CN.replace(/\//g, "\\/")}`, ca, "client_ext", valid),
    otherServer: makeLeaf("other-server", "/CN=broker.test", otherCa, "server_ext", valid),
    otherClient: makeLeaf("other-client", `/CN=${CLIENT_CN.replace(/\//g, "\\/")}`, otherCa, "client_ext", valid),
    expired: makeLeaf("expired", "/CN=broker.test", ca, "server_ext", ["-startdate", "20200101000000Z", "-enddate", "20200102000000Z"]),
    wrongHost: makeLeaf("wrong-host", "/CN=wrong.test", ca, "wrong_host_ext", valid),
    dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
  return certs;
}

/** The subject, validity and SAN of a certificate as openssl prints them (for diagnostics and checks). */
export function describeCert(certFile: string): string {
  return openssl(["x509", "-in", certFile, "-noout", "-subject", "-issuer", "-dates", "-ext", "subjectAltName"], path.dirname(certFile));
}
