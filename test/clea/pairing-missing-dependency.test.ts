/**
 * Without the optional @peculiar/x509 package, pairing fails with a PairingError "missing-dependency" that says
 * what to install; loading `edgemq/clea` itself does not need it (this file imports it with the package mocked away).
 */
import { expect, it, vi } from "vitest";
import { obtainCredentials, PairingError, randomDeviceId } from "../../src/clea/index.ts";

vi.mock("@peculiar/x509", () => {
  throw new Error("Cannot find package '@peculiar/x509' imported from src/clea/pairing.ts");
});

it("obtaining credentials without @peculiar/x509 is a missing-dependency PairingError naming the install command", async () => {
  let thrown: unknown;
  let fetched = 0;
  try {
    await obtainCredentials({
      url: "http://127.0.0.1:9/pairing",
      realm: "acme",
      deviceId: randomDeviceId(),
      credentialsSecret: "secret-that-must-not-leak",
      fetch: async () => {
        fetched++;
        return new Response("{}", { status: 500 });
      },
    });
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(PairingError);
  const err = thrown as PairingError;
  expect(err.code).toBe("missing-dependency");
  expect(err.message).toContain("npm i @peculiar/x509");
  expect(err.message).not.toContain("secret-that-must-not-leak");
  expect(fetched).toBe(0); // nothing was sent: the key and CSR could not be made
});
