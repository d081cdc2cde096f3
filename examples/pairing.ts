/**
 * Obtain credentials from the Astarte pairing API and connect with mutual TLS (needs the optional peers:
 * `npm i @peculiar/x509 reflect-metadata`).
 *
 *   PAIRING_URL=https://api.acme.example/pairing REALM=acme AGENT_TOKEN=... npx tsx examples/pairing.ts
 *   (or CREDENTIALS_SECRET=... DEVICE_ID=... for an already registered device)
 */
import { connectDevice, deviceIdFromUuid, PairingError } from "edgemq/clea";

const url = process.env.PAIRING_URL ?? "http://127.0.0.1:4003/pairing";
const realm = process.env.REALM ?? "acme";
// A stable id derived from something the gateway knows about itself (here: its hostname).
const deviceId = process.env.DEVICE_ID ?? (await deviceIdFromUuid("f79ad91f-c638-4889-ae74-9d001a3b4cf8", (await import("node:os")).hostname()));
const pairing = process.env.CREDENTIALS_SECRET
  ? { url, credentialsSecret: process.env.CREDENTIALS_SECRET }
  : { url, agentToken: process.env.AGENT_TOKEN ?? "" };

try {
  const device = await connectDevice({
    realm,
    deviceId,
    pairing, // key + certificate in ./var/<id>/credentials, renewed before expiry and after a TLS refusal
    store: `./var/${deviceId}`,
    interfaces: [new URL("./interfaces", import.meta.url).pathname],
  });
  await device.handshakeComplete();
  console.log(`connected as ${device.prefix} with a certificate from the pairing API`);
  await device.end();
} catch (err) {
  // PairingError messages never contain the token, the secret or the key.
  if (err instanceof PairingError) console.error(`pairing failed (${err.code}${err.status ? `, HTTP ${err.status}` : ""}): ${err.message}`);
  else throw err;
  process.exitCode = 1;
}
