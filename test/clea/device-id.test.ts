/** Device ids: validation, random ids, and UUIDv5 ids with the vectors from the protocol notes. */
import { describe, expect, it } from "vitest";
import { deviceIdFromUuid, isValidDeviceId, randomDeviceId } from "../../src/clea/index.ts";

describe("device ids", () => {
  it("derives UUIDv5 ids that match the published vectors", async () => {
    expect(await deviceIdFromUuid("f79ad91f-c638-4889-ae74-9d001a3b4cf8", "myidentifierdata")).toBe("AJInS0w3VpWpuOqkXhgZdA");
    expect(await deviceIdFromUuid("b068931c-c450-342b-a3f5-b3d276ea4297", "0099112233")).toBe("dvt9mLDaWb2vW7bdBJwKCg");
    await expect(deviceIdFromUuid("not-a-uuid", "x")).rejects.toThrow(TypeError);
  });

  it("accepts exactly 22 URL-safe base64 characters encoding 128 bits", () => {
    expect(isValidDeviceId("V_zv6ThCCtXWveQ8mPjsKg")).toBe(true);
    expect(isValidDeviceId("V_zv6ThCCtXWveQ8mPjsKh")).toBe(false); // last character carries bits past 128
    expect(isValidDeviceId("V_zv6ThCCtXWveQ8mPjsK")).toBe(false);
    expect(isValidDeviceId("V_zv6ThCCtXWveQ8mPjsKg=")).toBe(false);
    expect(isValidDeviceId("V/zv6ThCCtXWveQ8mPjsKg")).toBe(false);
    expect(isValidDeviceId("V+zv6ThCCtXWveQ8mPjsKg")).toBe(false);
  });

  it("makes random ids that are valid and different", () => {
    const ids = new Set(Array.from({ length: 200 }, () => randomDeviceId()));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(isValidDeviceId(id)).toBe(true);
  });
});
