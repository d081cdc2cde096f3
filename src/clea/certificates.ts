/**
 * Certificates and keys for pairing: PEM encoding, parsing a certificate, and the public key of a private key.
 * Parsing uses `@peculiar/x509` (an optional peer dependency, imported on first use) over the runtime's WebCrypto.
 */

import { PairingError } from "./pairing-error.js";

type X509 = typeof import("@peculiar/x509");
let x509Module: Promise<X509> | undefined;

/** @peculiar/x509, imported on first use; it needs a Reflect metadata polyfill (reflect-metadata) loaded first. */
export function loadX509(): Promise<X509> {
  x509Module ??= (async () => {
    try {
      if (typeof (Reflect as { getMetadata?: unknown }).getMetadata !== "function") await import("reflect-metadata");
      return await import("@peculiar/x509");
    } catch (err) {
      x509Module = undefined;
      throw new PairingError(
        "missing-dependency",
        "pairing needs the optional packages @peculiar/x509 and reflect-metadata: npm i @peculiar/x509 reflect-metadata",
        undefined,
        err,
      );
    }
  })();
  return x509Module;
}

/** Subject common name and validity of a PEM certificate (uses @peculiar/x509). */
export async function certificateInfo(cert: string): Promise<{
  /** The subject's common name (CN). */
  commonName: string;
  /** Start of validity. */
  notBefore: Date;
  /** End of validity. */
  notAfter: Date;
}> {
  const info = await inspect(cert);
  if (!info) throw new PairingError("invalid-response", "not a PEM certificate");
  return { commonName: info.commonName, notBefore: info.notBefore, notAfter: info.notAfter };
}

/** Common name, validity and SubjectPublicKeyInfo of a PEM certificate, or undefined if it does not parse. */
export async function inspect(cert: string): Promise<{ commonName: string; notBefore: Date; notAfter: Date; spki: Uint8Array } | undefined> {
  const x509 = await loadX509();
  let parsed: InstanceType<X509["X509Certificate"]>;
  try {
    parsed = new x509.X509Certificate(cert);
  } catch {
    return undefined;
  }
  const commonName = parsed.subjectName.getField("CN")[0] ?? "";
  return { commonName, notBefore: parsed.notBefore, notAfter: parsed.notAfter, spki: new Uint8Array(parsed.publicKey.rawData) };
}

/** The SubjectPublicKeyInfo of a PKCS#8 PEM ECDSA P-256 key, or undefined if it does not load. */
export async function publicKeyOf(key: string): Promise<Uint8Array | undefined> {
  const der = fromPem(key, "PRIVATE KEY");
  if (!der) return undefined;
  const subtle = globalThis.crypto.subtle;
  try {
    const privateKey = await subtle.importKey("pkcs8", der, { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
    const { d: _d, key_ops: _ops, ...jwk } = await subtle.exportKey("jwk", privateKey);
    const publicKey = await subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
    return new Uint8Array(await subtle.exportKey("spki", publicKey));
  } catch {
    return undefined;
  }
}

export function pem(label: string, der: Uint8Array): string {
  let binary = "";
  for (const b of der) binary += String.fromCharCode(b);
  const lines = btoa(binary).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

function fromPem(text: string, label: string): Uint8Array<ArrayBuffer> | undefined {
  const match = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(text);
  if (!match) return undefined;
  try {
    const binary = atob(match[1]!.replace(/\s+/g, ""));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

