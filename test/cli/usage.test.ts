/** Usage errors of the built `edgemq` command: exit 1 and one line on stderr, before any connection is tried. */
import { beforeAll, expect, it } from "vitest";
import { ensureBuilt } from "../support/built-package.js";
import { runCli } from "./cli-process.js";

beforeAll(async () => {
  await ensureBuilt();
}, 180_000);

// Port 1: nothing listens there, so a usage error that let a connection be tried would exit 2 instead.
const cases: Array<[string, string[], RegExp]> = [
  ["pub without a topic", ["pub", "-p", "1", "-m", "x"], /missing -t topic/],
  ["sub without a topic", ["sub", "-p", "1"], /missing -t topic/],
  ["pub without a message", ["pub", "-p", "1", "-t", "a"], /exactly one of -m, -f, -l, -n, -s/],
  ["pub with two messages", ["pub", "-p", "1", "-t", "a", "-m", "x", "-n"], /exactly one of -m, -f, -l, -n, -s/],
  ["a bad qos", ["pub", "-p", "1", "-t", "a", "-m", "x", "-q", "3"], /-q must be 0, 1 or 2/],
  ["a bad sub qos", ["sub", "-p", "1", "-t", "a", "-q", "x"], /-q must be 0, 1 or 2/],
  ["an unknown flag", ["sub", "-p", "1", "-t", "a", "--nope"], /nope/],
  ["a flag without its value", ["pub", "-p", "1", "-m", "x", "-t"], /-t/],
  ["a wildcard in a pub topic", ["pub", "-p", "1", "-t", "a/+", "-m", "x"], /invalid topic "a\/\+"/],
  ["a bad filter", ["sub", "-p", "1", "-t", "a/#/b"], /invalid topic "a\/#\/b"/],
  ["a bad port", ["pub", "-p", "http", "-t", "a", "-m", "x"], /-p must be a whole number/],
  ["a bad -C", ["sub", "-p", "1", "-t", "a", "-C", "0"], /-C must be a whole number/],
  ["a bad url", ["pub", "-u", "http://x", "-t", "a", "-m", "x"], /-u must be an mqtt/],
  ["-c without -i", ["sub", "-p", "1", "-t", "a", "-c"], /-c needs a client id/],
  ["a missing -f file", ["pub", "-p", "1", "-t", "a", "-f", "/nonexistent/edgemq"], /cannot read -f/],
  ["an unknown command", ["publish"], /unknown command "publish"/],
  ["clea validate without paths", ["clea", "validate"], /at least one interface/],
];

for (const [name, args, message] of cases) {
  it(`${name}: exit 1, one line on stderr`, async () => {
    const r = await runCli(args);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^edgemq: [^\n]+\n$/);
    expect(r.stderr).toMatch(message);
  });
}

it("--help prints each command's flags and exits 0 (-h is the host)", async () => {
  for (const command of [["pub"], ["sub"], ["clea", "validate"]]) {
    const r = await runCli([...command, "--help"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toContain(`usage: edgemq ${command.join(" ")}`);
  }
  const sub = await runCli(["sub", "--help"]);
  expect(sub.stdout).toContain('{"base64":"..."}');
  expect(sub.stdout).toMatch(/-h HOST/);
});
