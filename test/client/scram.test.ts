/** SCRAM enhanced authentication: the RFC 5802 and RFC 7677 examples, full exchanges with a test server, refusals. */
import { describe, expect, it } from "vitest";
import type { AuthHandler } from "../../src/client/auth/auth-handler.ts";
import { decodeBase64, encodeBase64 } from "../../src/client/auth/base64.ts";
import { saslPrep } from "../../src/client/auth/saslprep.ts";
import { scramAuth, SCRAM_MAX_ITERATIONS, type ScramAuthHandler, type ScramMechanism } from "../../src/client/auth/scram.ts";
import { EdgemqError, OptionsError } from "../../src/client/errors.ts";
import { AuthError } from "../../src/client/auth/auth-error.ts";
import { ScramServer } from "../support/scram-server.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

/** Expects `promise` to reject with an AuthError of `code`. */
async function rejectsWith(promise: Promise<unknown>, code: string): Promise<AuthError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuthError);
  expect(err).toBeInstanceOf(EdgemqError);
  expect((err as AuthError).code).toBe(code);
  expect((err as AuthError).name).toBe("AuthError");
  return err as AuthError;
}

// RFC 5802 section 5: SCRAM-SHA-1, user "user", password "pencil".
const RFC5802 = {
  nonce: "fyko+d2lbbFgONRv9qkxdawL",
  clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
  serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
  clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
  serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
};

// RFC 7677 section 3: SCRAM-SHA-256, same user and password.
const RFC7677 = {
  nonce: "rOprNGfwEbeRWgbNEkqO",
  clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
  serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
  clientFinal: "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
  serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
};

const sha1 = (): ScramAuthHandler => scramAuth({ username: "user", password: "pencil", mechanism: "SCRAM-SHA-1", nonce: () => RFC5802.nonce });
const sha256 = (): ScramAuthHandler => scramAuth({ username: "user", password: "pencil", mechanism: "SCRAM-SHA-256", nonce: () => RFC7677.nonce });

/** A handler after start() and next(serverFirst) of the RFC 7677 example, ready for done(). */
async function sha256AwaitingFinal(): Promise<ScramAuthHandler> {
  const h = sha256();
  await h.start();
  await h.next(enc(RFC7677.serverFirst));
  return h;
}

describe("RFC test vectors", () => {
  for (const [name, make, v] of [
    ["RFC 5802 section 5 (SCRAM-SHA-1)", sha1, RFC5802],
    ["RFC 7677 section 3 (SCRAM-SHA-256)", sha256, RFC7677],
  ] as const) {
    it(`${name}: exact messages and the server signature verifies`, async () => {
      const h = make();
      expect(dec(await h.start())).toBe(v.clientFirst);
      expect(dec(await h.next(enc(v.serverFirst)))).toBe(v.clientFinal);
      await expect(h.done(enc(v.serverFinal))).resolves.toBeUndefined();
    });
  }

  it("the test server reproduces RFC 5802 from its side", async () => {
    const server = new ScramServer({
      username: "user", password: "pencil", mechanism: "SCRAM-SHA-1", iterations: 4096,
      salt: decodeBase64("QSXCR+Q6sek8bf92")!, nonce: () => "3rfcNHYJY1ZVvWVs7j",
    });
    expect(dec(await server.first(enc(RFC5802.clientFirst)))).toBe(RFC5802.serverFirst);
    const final = await server.final(enc(RFC5802.clientFinal));
    expect(final.accepted).toBe(true);
    expect(dec(final.message)).toBe(RFC5802.serverFinal);
  });

  it("method is the mechanism name, and the handler fits the AuthHandler contract", () => {
    const contract: AuthHandler = sha1();
    expect(contract.method).toBe("SCRAM-SHA-1");
    expect(sha256().method).toBe("SCRAM-SHA-256");
    expect(scramAuth({ username: "u", password: "p", mechanism: "SCRAM-SHA-512" }).method).toBe("SCRAM-SHA-512");
  });
});

/** Runs one exchange between a handler and a server; returns what the server decided and done()'s outcome. */
async function exchange(handler: ScramAuthHandler, server: ScramServer): Promise<{ accepted: boolean; error?: string; done: Promise<void> }> {
  const serverFirst = await server.first((await handler.start())!);
  const final = await server.final((await handler.next(serverFirst))!);
  return { accepted: final.accepted, error: final.error, done: handler.done(final.message) };
}

const salt = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
const serverFor = (mechanism: ScramMechanism, password = "s3cret pässword", username = "gw-01"): ScramServer =>
  new ScramServer({ username, password, salt, iterations: 4096, mechanism });

describe("full exchanges with the test server", () => {
  for (const mechanism of ["SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const) {
    it(`${mechanism}: the server accepts the proof and the client accepts the signature`, async () => {
      const result = await exchange(scramAuth({ username: "gw-01", password: "s3cret pässword", mechanism }), serverFor(mechanism));
      expect(result.accepted).toBe(true);
      await expect(result.done).resolves.toBeUndefined();
    });
  }

  it("a wrong password: the server refuses with e=invalid-proof, and done() rejects with auth-server-error", async () => {
    const result = await exchange(scramAuth({ username: "gw-01", password: "wrong", mechanism: "SCRAM-SHA-512" }), serverFor("SCRAM-SHA-512"));
    expect(result).toMatchObject({ accepted: false, error: "invalid-proof" });
    const err = await rejectsWith(result.done, "auth-server-error");
    expect(err.serverError).toBe("invalid-proof");
    expect(err.message).not.toContain("wrong");
  });

  it("a user name with ',' and '=' is escaped as =2C and =3D, and the server decodes it", async () => {
    const username = "a,b=c";
    const h = scramAuth({ username, password: "pw", mechanism: "SCRAM-SHA-256", nonce: () => "abc" });
    const server = serverFor("SCRAM-SHA-256", "pw", username);
    const first = await h.start();
    expect(dec(first)).toBe("n,,n=a=2Cb=3Dc,r=abc");
    const final = await server.final((await h.next(await server.first(first!)))!);
    expect(server.username).toBe(username);
    expect(final.accepted).toBe(true);
    await h.done(final.message);
  });

  it("the server's signature may also come in an AUTH (next), then done() without data resolves", async () => {
    const h = scramAuth({ username: "gw-01", password: "s3cret pässword", mechanism: "SCRAM-SHA-256" });
    const server = serverFor("SCRAM-SHA-256");
    const final = await server.final((await h.next(await server.first((await h.start())!)))!);
    expect(await h.next(final.message)).toBeUndefined();
    await expect(h.done(undefined)).resolves.toBeUndefined();
  });

  it("SASLprep: non-ASCII spaces map to a space and soft hyphens vanish, on both sides", async () => {
    const h = scramAuth({ username: "gw-01", password: "s3cret\u00a0p\u00e4ss\u00adword", mechanism: "SCRAM-SHA-1" });
    const result = await exchange(h, serverFor("SCRAM-SHA-1"));
    expect(result.accepted).toBe(true);
    await result.done;
    expect(saslPrep("I\u00adX")).toEqual({ ok: true, value: "IX" });
    expect(saslPrep("\u2168")).toEqual({ ok: true, value: "IX" });
    expect(saslPrep("a\u0007b")).toMatchObject({ ok: false });
  });

  it("a new start() forgets the previous exchange (reconnects reuse the handler)", async () => {
    const h = scramAuth({ username: "gw-01", password: "s3cret pässword", mechanism: "SCRAM-SHA-256" });
    await h.start();
    const again = await exchange(h, serverFor("SCRAM-SHA-256"));
    await expect(again.done).resolves.toBeUndefined();
    const nonces = new Set<string>();
    for (let i = 0; i < 5; i++) nonces.add(dec(await h.start()));
    expect(nonces.size).toBe(5);
  });
});

describe("refusing the server", () => {
  it("a tampered server signature: done() rejects with auth-server-signature", async () => {
    const h = await sha256AwaitingFinal();
    await rejectsWith(h.done(enc("v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")), "auth-server-signature");
  });

  it("a signature of the wrong length or no server-final at all: auth-server-signature", async () => {
    await rejectsWith((await sha256AwaitingFinal()).done(enc(`v=${encodeBase64(new Uint8Array(20))}`)), "auth-server-signature");
    await rejectsWith((await sha256AwaitingFinal()).done(undefined), "auth-server-signature");
  });

  it("a server that accepts without any challenge is refused", async () => {
    const h = sha256();
    await h.start();
    await rejectsWith(h.done(undefined), "auth-server-signature");
  });

  it("e=invalid-proof in the server-final: auth-server-error with serverError", async () => {
    const err = await rejectsWith((await sha256AwaitingFinal()).done(enc("e=invalid-proof")), "auth-server-error");
    expect(err.serverError).toBe("invalid-proof");
  });

  it("e=... in place of the server-first: auth-server-error", async () => {
    const h = sha256();
    await h.start();
    const err = await rejectsWith(h.next(enc("e=unknown-user")), "auth-server-error");
    expect(err.serverError).toBe("unknown-user");
  });

  it("a server nonce that does not extend the client's, or adds nothing: auth-nonce-mismatch", async () => {
    for (const r of ["XOprNGfwEbeRWgbNEkqO%hvYD", "rOprNGfwEbeRWgbNEkqO", "hvYDrOprNGfwEbeRWgbNEkqO"]) {
      const h = sha256();
      await h.start();
      await rejectsWith(h.next(enc(`r=${r},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`)), "auth-nonce-mismatch");
    }
  });

  const n = `r=${RFC7677.nonce}xyz`;
  const malformed: Array<[string, Uint8Array | undefined]> = [
    ["no data", undefined],
    ["empty data", new Uint8Array()],
    ["invalid UTF-8", new Uint8Array([0x72, 0x3d, 0xff])],
    ["a mandatory extension m=", enc(`m=foo,${n},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`)],
    ["attributes out of order", enc(`s=W22ZaJ0SNY7soEsUEjb6gQ==,${n},i=4096`)],
    ["a missing iteration count", enc(`${n},s=W22ZaJ0SNY7soEsUEjb6gQ==`)],
    ["a repeated attribute", enc(`${n},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,i=1`)],
    ["iterations 0", enc(`${n},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0`)],
    ["iterations -1", enc(`${n},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=-1`)],
    ["iterations 1.5", enc(`${n},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1.5`)],
    ["iterations 0x10", enc(`${n},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=0x10`)],
    ["a salt that is not base64", enc(`${n},s=W22ZaJ0SNY7so!sUEjb6gQ==,i=4096`)],
    ["an unpadded salt", enc(`${n},s=W22ZaJ0SNY7soEsUEjb6gQ,i=4096`)],
    ["an empty salt", enc(`${n},s=,i=4096`)],
    ["not attributes at all", enc("hello")],
    ["a nonce with a non-printable character", enc(`${n}\u0001,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`)],
  ];
  for (const [what, data] of malformed) {
    it(`a server-first with ${what}: auth-malformed`, async () => {
      const h = sha256();
      await h.start();
      await rejectsWith(h.next(data), "auth-malformed");
    });
  }

  it(`an iteration count above ${SCRAM_MAX_ITERATIONS} or absurdly long: auth-iteration-count`, async () => {
    for (const i of [String(SCRAM_MAX_ITERATIONS + 1), "9".repeat(400)]) {
      const h = sha256();
      await h.start();
      await rejectsWith(h.next(enc(`${n},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=${i}`)), "auth-iteration-count");
    }
  });

  it("unknown optional extensions after i= are ignored", async () => {
    const h = sha256();
    await h.start();
    await expect(h.next(enc(`${RFC7677.serverFirst},x=whatever`))).resolves.toBeInstanceOf(Uint8Array);
  });

  it("a malformed server-final: auth-malformed", async () => {
    await rejectsWith((await sha256AwaitingFinal()).done(enc("x=1")), "auth-malformed");
    await rejectsWith((await sha256AwaitingFinal()).done(enc("v=not base64!")), "auth-malformed");
  });

  it("steps out of order: auth-state", async () => {
    await rejectsWith(sha256().next(enc(RFC7677.serverFirst)), "auth-state");
    await rejectsWith(sha256().done(enc(RFC7677.serverFinal)), "auth-state");
  });
});

describe("plain-JavaScript misuse is refused at creation with OptionsError", () => {
  const base = { username: "u", password: "p", mechanism: "SCRAM-SHA-256" };
  const cases: Array<[string, unknown]> = [
    ["no options", undefined],
    ["a non-string password", { ...base, password: 1234 }],
    ["a Uint8Array password", { ...base, password: new Uint8Array([1]) }],
    ["a missing username", { ...base, username: undefined }],
    ["an empty username", { ...base, username: "" }],
    ["an unknown mechanism", { ...base, mechanism: "SCRAM-MD5" }],
    ["a lower-case mechanism", { ...base, mechanism: "scram-sha-256" }],
    ["a prototype key as mechanism", { ...base, mechanism: "toString" }],
    ["a non-function nonce", { ...base, nonce: "abc" }],
    ["a control character in the password", { ...base, password: "p\u0000w" }],
    ["a throwing getter", Object.defineProperty({ ...base }, "password", { get: () => { throw new Error("boom"); } })],
  ];
  for (const [what, options] of cases) {
    it(what, () => {
      let thrown: unknown;
      try {
        scramAuth(options as Parameters<typeof scramAuth>[0]);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(OptionsError);
      expect((thrown as OptionsError).code).toBe("invalid-options");
    });
  }

  it("a nonce() returning something unusable: start() rejects with OptionsError", async () => {
    for (const bad of ["", "a,b", "caf\u00e9", 42]) {
      const h = scramAuth({ ...base, mechanism: "SCRAM-SHA-256", nonce: () => bad as string });
      await expect(h.start()).rejects.toBeInstanceOf(OptionsError);
    }
  });

  it("error messages never carry the password", () => {
    try {
      scramAuth({ username: "u", password: "hunter2\u0001", mechanism: "SCRAM-SHA-1" });
    } catch (err) {
      expect((err as Error).message).not.toContain("hunter2");
    }
  });
});

describe("base64", () => {
  it("round-trips every length and refuses non-canonical text", () => {
    for (let len = 0; len < 10; len++) {
      const bytes = Uint8Array.from({ length: len }, (_, i) => (i * 97 + 13) & 0xff);
      const text = encodeBase64(bytes);
      expect(text).toBe(btoa(String.fromCharCode(...bytes)));
      expect(decodeBase64(text)).toEqual(bytes);
    }
    for (const bad of ["A", "AB=C", "A===", "QR==", "QUJ=x", "QU I=", "QUJ-", "QUI=QUI="]) expect(decodeBase64(bad)).toBeUndefined();
    expect(decodeBase64("QQ==")).toEqual(new Uint8Array([0x41]));
  });
});
