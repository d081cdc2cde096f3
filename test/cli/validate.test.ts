/** `edgemq clea validate`, the built command in a child process. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ensureBuilt } from "../support/built-package.js";
import { root, runCli } from "./cli-process.js";

let dir: string;
const edgehog = path.join(root, "test/clea/fixtures/edgehog-astarte-interfaces");

beforeAll(async () => {
  await ensureBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "edgemq-validate-"));
}, 180_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const iface = (name: string, extra: Record<string, unknown> = {}, mapping: Record<string, unknown> = {}) =>
  JSON.stringify({
    interface_name: name,
    version_major: 1,
    version_minor: 0,
    type: "datastream",
    ownership: "device",
    mappings: [{ endpoint: "/value", type: "integer", ...mapping }],
    ...extra,
  });

it("the Edgehog interfaces are all valid: exit 0 and the summary", async () => {
  const count = fs.readdirSync(edgehog).filter((n) => n.endsWith(".json")).length;
  const r = await runCli(["clea", "validate", edgehog]);
  expect(r).toMatchObject({ code: 0, stderr: "", stdout: `${count} interfaces valid\n` });
});

it("files and directories mix; a file given by name is read whatever its name", async () => {
  const files = fs.readdirSync(edgehog).filter((n) => n.endsWith(".json")).slice(0, 2).map((n) => path.join(edgehog, n));
  const r = await runCli(["clea", "validate", ...files]);
  expect(r).toMatchObject({ code: 0, stdout: "2 interfaces valid\n" });
});

it("a broken interface and a typo field: exit 1, one line per problem, a warning line", async () => {
  const d = path.join(dir, "mixed");
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, "a.json"), iface("com.acme.Broken", { type: "datastrem" }));
  fs.writeFileSync(path.join(d, "b.json"), iface("com.acme.Typo", {}, { reliabilty: "guaranteed" }));
  fs.writeFileSync(path.join(d, "c.json"), "{ not json\n}");
  fs.writeFileSync(path.join(d, "d.json"), iface("com.acme.Typo")); // defined twice
  fs.writeFileSync(path.join(d, "notes.txt"), "not an interface, not read");
  const missing = path.join(dir, "missing.json");
  const r = await runCli(["clea", "validate", d, missing]);
  expect(r.code).toBe(1);
  const lines = r.stdout.trimEnd().split("\n");
  expect(lines).toHaveLength(5);
  expect(lines[0]).toBe(`${path.join(d, "a.json")}: interface com.acme.Broken: type must be "datastream" or "properties"`);
  expect(lines[1]).toMatch(new RegExp(`^${escape(path.join(d, "b.json"))}: warning: .*reliabilty.*did you mean "reliability"`));
  expect(lines[2]).toMatch(new RegExp(`^${escape(path.join(d, "c.json"))}: .*not valid JSON`));
  expect(lines[3]).toBe(`${path.join(d, "d.json")}: interface com.acme.Typo is already defined in ${path.join(d, "b.json")}`);
  expect(lines[4]).toMatch(new RegExp(`^${escape(missing)}: cannot read: .*ENOENT`));
  expect(r.stderr).toMatch(/^edgemq: 4 problems; 1 of 4 interfaces valid \(1 warning\)\n$/);
});

it("warnings alone do not fail: exit 0, the warning line and the summary", async () => {
  const file = path.join(dir, "typo.json");
  fs.writeFileSync(file, iface("com.acme.OnlyTypo", { descripton: "x" }));
  const r = await runCli(["clea", "validate", file]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(new RegExp(`^${escape(file)}: warning: .*descripton.*\\n1 interface valid \\(1 warning\\)\\n$`));
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
