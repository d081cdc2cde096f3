/** Topic names and filters (MQTT 3.1.1 section 4.7): validation, matching, and a trie for dispatch. */

import { TopicError } from "./errors.js";
import { checkString, utf8Length } from "./utf8.js";

const MAX_TOPIC_BYTES = 65_535;

// A device publishes to a handful of topics over and over, and each publish is checked twice (by publish() and
// by the encoder): the last few names found valid are remembered, so a repeat costs a string comparison.
const RECENT_VALID_NAMES = 4;
const recentValidNames: string[] = new Array<string>(RECENT_VALID_NAMES).fill("+"); // "+" is never a valid name
/** UTF-8 lengths of recentValidNames, slot by slot. */
const recentValidLengths: number[] = new Array<number>(RECENT_VALID_NAMES).fill(1);
let nextRecent = 0;

/** The UTF-8 length of `topic` when it is a recently validated topic name, else -1 (nothing is known about it). */
export function recentTopicNameLength(topic: string): number {
  for (let i = 0; i < RECENT_VALID_NAMES; i++) if (recentValidNames[i] === topic) return recentValidLengths[i]!;
  return -1;
}

/** Why `topic` is not a valid topic name to publish to, or undefined when it is. */
export function topicNameProblem(topic: string): string | undefined {
  if (recentTopicNameLength(topic) >= 0) return undefined;
  if (typeof topic !== "string") return "not a string";
  if (topic.length === 0) return "empty";
  if (topic.includes("+") || topic.includes("#")) return "wildcards are not allowed in a topic name";
  const problem = stringProblem(topic);
  if (problem === undefined) {
    recentValidNames[nextRecent] = topic;
    recentValidLengths[nextRecent] = utf8Length(topic);
    nextRecent = (nextRecent + 1) % RECENT_VALID_NAMES;
  }
  return problem;
}

/** Why `filter` is not a valid topic filter, or undefined when it is. */
export function topicFilterProblem(filter: string): string | undefined {
  if (typeof filter !== "string") return "not a string";
  if (filter.length === 0) return "empty";
  const hash = filter.indexOf("#");
  if (hash !== -1 && (hash !== filter.length - 1 || (hash > 0 && filter[hash - 1] !== "/"))) {
    return "'#' must be the last character and occupy a whole level";
  }
  for (let i = filter.indexOf("+"); i !== -1; i = filter.indexOf("+", i + 1)) {
    if ((i > 0 && filter[i - 1] !== "/") || (i < filter.length - 1 && filter[i + 1] !== "/")) {
      return "'+' must occupy a whole level";
    }
  }
  return stringProblem(filter);
}

function stringProblem(value: string): string | undefined {
  const bad = checkString(value);
  if (bad) return bad;
  if (value.length > MAX_TOPIC_BYTES / 3 && utf8Length(value) > MAX_TOPIC_BYTES) return "longer than 65,535 bytes";
  return undefined;
}

/** Validates a topic name like assertTopicName() and returns its UTF-8 length (a repeat costs a string comparison). */
export function topicNameLength(topic: string): number {
  const known = recentTopicNameLength(topic);
  if (known >= 0) return known;
  assertTopicName(topic);
  return utf8Length(topic);
}

/** Throws TopicError (code "invalid-topic") unless `topic` is a valid topic name. */
export function assertTopicName(topic: string): void {
  const problem = topicNameProblem(topic);
  if (problem) throw new TopicError("invalid-topic", topic, problem);
}

/** Throws TopicError (code "invalid-topic-filter") unless `filter` is a valid topic filter. */
export function assertTopicFilter(filter: string): void {
  const problem = topicFilterProblem(filter);
  if (problem) throw new TopicError("invalid-topic-filter", filter, problem);
}

/**
 * True when topic name `topic` matches topic filter `filter`. A filter starting with a wildcard
 * does not match topics starting with `$` (section 4.7.2).
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith("$") && (filter.startsWith("+") || filter.startsWith("#"))) return false;
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === "#") return true; // also matches the parent level: "a/#" matches "a"
    if (i >= t.length) return false;
    if (level !== "+" && level !== t[i]) return false;
  }
  return f.length === t.length;
}

// Children and values are created on first use: a long filter is a chain of nodes that mostly need neither.
interface TrieNode<T> {
  children: Map<string, TrieNode<T>> | undefined;
  values: Set<T> | undefined;
}

function newNode<T>(): TrieNode<T> {
  return { children: undefined, values: undefined };
}

/** Maps topic filters to values; `match(topic)` finds every value whose filter matches, each once. */
export class TopicTrie<T> {
  /** TS-private rather than #private: test/mqtt/topic.test.ts checks that remove() prunes through it. */
  private readonly root: TrieNode<T> = newNode();
  #count = 0;

  /** Number of (filter, value) entries. */
  get size(): number {
    return this.#count;
  }

  /** Adds `value` under `filter` (a valid topic filter). */
  add(filter: string, value: T): void {
    let node = this.root;
    for (const level of filter.split("/")) {
      node.children ??= new Map();
      let next = node.children.get(level);
      if (!next) {
        next = newNode();
        node.children.set(level, next);
      }
      node = next;
    }
    node.values ??= new Set();
    if (!node.values.has(value)) {
      node.values.add(value);
      this.#count++;
    }
  }

  /** Removes `value` from `filter`; returns whether it was there. Prunes empty branches. */
  remove(filter: string, value: T): boolean {
    const path: Array<[TrieNode<T>, string]> = [];
    let node = this.root;
    for (const level of filter.split("/")) {
      const next = node.children?.get(level);
      if (!next) return false;
      path.push([node, level]);
      node = next;
    }
    if (!node.values?.delete(value)) return false;
    this.#count--;
    for (let i = path.length - 1; i >= 0; i--) {
      const [parent, level] = path[i]!;
      const child = parent.children!.get(level)!;
      if ((child.values?.size ?? 0) > 0 || (child.children?.size ?? 0) > 0) break;
      parent.children!.delete(level);
    }
    return true;
  }

  /** Every value whose filter matches `topic`, each value once. */
  match(topic: string): T[] {
    const out = new Set<T>();
    const levels = topic.split("/");
    const dollar = topic.startsWith("$");
    // Iterative walk: a stack of (node, level index) pairs.
    const stack: Array<[TrieNode<T>, number]> = [[this.root, 0]];
    while (stack.length > 0) {
      const [node, i] = stack.pop()!;
      const wildcardAllowed = !(dollar && i === 0);
      const hash = wildcardAllowed ? node.children?.get("#") : undefined;
      if (hash?.values) for (const v of hash.values) out.add(v);
      if (i === levels.length) {
        if (node.values) for (const v of node.values) out.add(v);
        continue;
      }
      if (!node.children) continue;
      const exact = node.children.get(levels[i]!);
      if (exact) stack.push([exact, i + 1]);
      const plus = wildcardAllowed ? node.children.get("+") : undefined;
      if (plus) stack.push([plus, i + 1]);
    }
    return [...out];
  }
}
