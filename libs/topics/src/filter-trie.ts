import { validateMqttTopicFilter, type TopicLimits } from './validate.js';

/** One filter level. `+` and `#` children live in their own fields so a match never looks them up. */
class Node {
  /** Literal child levels; created on first use (most nodes of a big trie are leaves). */
  children: Map<string, Node> | undefined = undefined;
  plus: Node | undefined = undefined;
  /** The `#` child; always a leaf, and present only while its filter is registered. */
  hash: Node | undefined = undefined;
  /** Subscriptions to the filter ending here; 0 when no filter ends here. */
  refs = 0;
  /** The filter ending here while refs > 0 (kept so a match returns it without rebuilding it). */
  filter: string | undefined = undefined;

  isEmpty(): boolean {
    return this.refs === 0 && this.plus === undefined && this.hash === undefined && (this.children === undefined || this.children.size === 0);
  }
}

/**
 * An index of MQTT topic filters by level, answering "which registered filters match this
 * topic?" in time proportional to the matching paths, not to the number of filters — the lookup
 * that decides which LMQs a PUBLISH is dispatched into. Each filter carries a reference count, so
 * several subscriptions to one filter register it once.
 */
export class FilterTrie implements Iterable<string> {
  private readonly root = new Node();
  private count = 0;
  /** Changes whenever a filter enters or leaves the index (lets callers cache match results). */
  version = 0;

  /** `limits` apply to every filter added. */
  constructor(private readonly limits: TopicLimits = {}) {}

  /** Distinct filters registered. */
  get size(): number {
    return this.count;
  }

  /**
   * Registers one more reference to `filter` (validated first; throws InvalidTopicError).
   * Returns true when the filter was not registered before.
   */
  add(filter: string): boolean {
    validateMqttTopicFilter(filter, this.limits);
    let node = this.root;
    for (const level of filter.split('/')) {
      let next: Node | undefined;
      if (level === '+') next = node.plus ??= new Node();
      else if (level === '#') next = node.hash ??= new Node();
      else {
        node.children ??= new Map();
        next = node.children.get(level);
        if (next === undefined) node.children.set(level, (next = new Node()));
      }
      node = next;
    }
    if (node.refs++ > 0) return false;
    node.filter = filter;
    this.count++;
    this.version++;
    return true;
  }

  /**
   * Drops one reference to `filter`. Returns true when that was the last one, so the filter left
   * the index; false when references remain or the filter was not registered.
   */
  remove(filter: string): boolean {
    if (typeof filter !== 'string') return false;
    const path: Node[] = [this.root];
    const levels = filter.split('/');
    let node: Node | undefined = this.root;
    for (const level of levels) {
      node = level === '+' ? node.plus : level === '#' ? node.hash : node.children?.get(level);
      if (node === undefined) return false;
      path.push(node);
    }
    if (node.refs === 0) return false;
    if (--node.refs > 0) return false;
    node.filter = undefined;
    this.count--;
    this.version++;
    // Prune the nodes no other filter needs, deepest first.
    for (let i = levels.length; i > 0 && path[i]!.isEmpty(); i--) {
      const parent = path[i - 1]!;
      const level = levels[i - 1]!;
      if (level === '+') parent.plus = undefined;
      else if (level === '#') parent.hash = undefined;
      else {
        parent.children!.delete(level);
        if (parent.children!.size === 0) parent.children = undefined;
      }
    }
    return true;
  }

  /** References to `filter` (0 when not registered). */
  refCount(filter: string): number {
    if (typeof filter !== 'string') return 0;
    let node: Node | undefined = this.root;
    for (const level of filter.split('/')) {
      node = level === '+' ? node.plus : level === '#' ? node.hash : node.children?.get(level);
      if (node === undefined) return 0;
    }
    return node.refs;
  }

  /** Whether `filter` is registered. */
  has(filter: string): boolean {
    return this.refCount(filter) > 0;
  }

  /**
   * Every distinct registered filter that matches the topic name (see `matches`), the topic
   * itself included when it is registered as a filter; in no particular order. `topic` must be a
   * valid topic name. Iterative, so a topic of 65,535 empty levels cannot overflow the stack.
   * Each filter is reached along exactly one path, so the result has no duplicates.
   */
  match(topic: string): string[] {
    const out: string[] = [];
    const levels = topic.split('/');
    // [MQTT-4.7.2-1]: filters starting with a wildcard do not match topics starting with '$'.
    const dollar = topic.charCodeAt(0) === 0x24;
    const nodes: Node[] = [this.root];
    const depths: number[] = [0];
    while (nodes.length > 0) {
      const node = nodes.pop()!;
      const depth = depths.pop()!;
      const wildcardsAllowed = depth > 0 || !dollar;
      // `#` also matches the parent level: `a/#` matches `a` [MQTT-4.7.1-2].
      if (node.hash !== undefined && wildcardsAllowed) out.push(node.hash.filter!);
      if (depth === levels.length) {
        if (node.refs > 0) out.push(node.filter!);
        continue;
      }
      const child = node.children?.get(levels[depth]!);
      if (child !== undefined) {
        nodes.push(child);
        depths.push(depth + 1);
      }
      if (node.plus !== undefined && wildcardsAllowed) {
        nodes.push(node.plus);
        depths.push(depth + 1);
      }
    }
    return out;
  }

  /** Every registered filter with its reference count, in no particular order (do not add or remove while iterating). */
  *entries(): IterableIterator<[filter: string, refs: number]> {
    const stack: Node[] = [this.root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node.refs > 0) yield [node.filter!, node.refs];
      if (node.hash !== undefined) stack.push(node.hash);
      if (node.plus !== undefined) stack.push(node.plus);
      if (node.children !== undefined) for (const child of node.children.values()) stack.push(child);
    }
  }

  /** Every registered filter once, in no particular order. */
  *[Symbol.iterator](): IterableIterator<string> {
    for (const [filter] of this.entries()) yield filter;
  }

  /** Forgets every filter. */
  clear(): void {
    const root = this.root;
    root.children = undefined;
    root.plus = undefined;
    root.hash = undefined;
    root.refs = 0;
    root.filter = undefined;
    this.count = 0;
  }
}
