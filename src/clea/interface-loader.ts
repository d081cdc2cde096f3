/** Loads interface definitions from parsed objects, JSON files and directories of JSON files. */

import * as fs from "node:fs/promises";
import * as path from "node:path";
import { InterfaceError } from "./errors.js";
import { parseInterface, type Interface } from "./interface.js";

/** A source of interfaces: a parsed object (or Interface), a .json file path, or a directory of .json files. */
export type InterfaceSource = string | object;

/**
 * Loads and validates every interface: parsed objects, `.json` files, and directories (their `.json` files, in name
 * order). connectDevice() does this with its `interfaces` option.
 * @param sources Objects, already parsed Interfaces, file paths or directory paths.
 * @returns A promise of the validated interfaces, in the order given.
 * @throws InterfaceError "invalid-interface" (as a rejection) for an invalid or unreadable interface (the message
 * names the file) or a name defined twice.
 * @example
 * ```ts
 * const interfaces = await loadInterfaces(["./interfaces", "./extra/com.acme.Config.json"]);
 * console.log(interfaces.map((i) => `${i.name} v${i.major}.${i.minor}`));
 * ```
 */
export async function loadInterfaces(sources: readonly InterfaceSource[]): Promise<Interface[]> {
  const out: Interface[] = [];
  for (const source of sources) {
    if (typeof source !== "string") out.push(isParsed(source) ? source : parseInterface(source));
    else out.push(...(await loadPath(source)));
  }
  const seen = new Set<string>();
  for (const i of out) {
    if (seen.has(i.name)) throw new InterfaceError("invalid-interface", `interface ${i.name} is defined more than once`, i.name);
    seen.add(i.name);
  }
  return out;
}

async function loadPath(p: string): Promise<Interface[]> {
  try {
    const stat = await fs.stat(p);
    if (!stat.isDirectory()) return [await loadFile(p)];
    const names = (await fs.readdir(p)).filter((n) => n.endsWith(".json")).sort();
    return await Promise.all(names.map((n) => loadFile(path.join(p, n))));
  } catch (err) {
    if (err instanceof InterfaceError) throw err;
    throw new InterfaceError("invalid-interface", `cannot read interfaces from ${p}: ${(err as Error).message}`);
  }
}

async function loadFile(file: string): Promise<Interface> {
  const text = await fs.readFile(file, "utf8");
  try {
    return parseInterface(text);
  } catch (err) {
    if (err instanceof InterfaceError) throw new InterfaceError(err.code, `${file}: ${err.message}`, err.interfaceName);
    throw err;
  }
}

function isParsed(x: object): x is Interface {
  return "name" in x && "mappings" in x && Array.isArray((x as Interface).mappings) && "levels" in ((x as Interface).mappings[0] ?? {});
}
