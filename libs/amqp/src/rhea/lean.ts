import { EventEmitter } from 'node:events';

/*
 * Allocation-free equivalents of rhea helpers that run several times per message. Each replacement
 * returns exactly what the original returns; they only stop building throwaway arrays:
 * - `types.is_map` and its siblings build an array of type descriptors on every call, and every
 *   performative field read (`link.is_receiver()`, the settle modes, the peer's idle time-out)
 *   goes through them;
 * - the `dispatch` of links, sessions and connections copies the listener array
 *   (`listeners(name).length`) and re-spreads `arguments` for every event, several per message.
 * Installed once, for the whole process, by rhea/index.ts (patches `lean-types` and
 * `lean-dispatch` of the inventory); rhea client connections get the same behaviour. (The one
 * difference: these dispatches do not write rhea's `rhea:events` debug log.)
 */

export interface TypeDesc {
  typecode: number;
}
interface Typed {
  type: TypeDesc;
}

/** rhea's types module (lib/types.js) as far as lean-types uses it. */
export type RheaTypesModule = Record<string, unknown> &
  Record<'Map8' | 'Map32' | 'List0' | 'List8' | 'List32' | 'Str8' | 'Str32' | 'Sym8' | 'Sym32' | 'Ulong' | 'Ulong0' | 'SmallUlong', TypeDesc>;

const oneOf =
  (...descs: TypeDesc[]) =>
  (o: Typed): boolean => {
    const code = o.type.typecode;
    for (let i = 0; i < descs.length; i++) if (code === descs[i]!.typecode) return true;
    return false;
  };

/** Replaces the type tests of rhea's types module (patch `lean-types`). */
export function installLeanTypes(types: RheaTypesModule): void {
  types['is_ulong'] = oneOf(types.Ulong, types.Ulong0, types.SmallUlong);
  types['is_string'] = oneOf(types.Str8, types.Str32);
  types['is_symbol'] = oneOf(types.Sym8, types.Sym32);
  types['is_list'] = oneOf(types.List0, types.List8, types.List32);
  types['is_map'] = oneOf(types.Map8, types.Map32);
}

interface Dispatching extends EventEmitter {
  observers?: EventEmitter;
}

const emit = EventEmitter.prototype.emit;

type Parent = { dispatch: (...args: unknown[]) => boolean } | undefined;

/**
 * A dispatch that tells its observers (if it has them), then its own listeners, and otherwise
 * hands the event to `parentOf(this)`'s dispatch — rhea's order and return value. The common call,
 * (name, context), goes without any array; others take the general path.
 */
function leanDispatch(withObservers: boolean, parentOf: (self: Dispatching) => Parent) {
  const general = function (this: Dispatching, name: string, ...rest: unknown[]): boolean {
    if (withObservers) emit.call(this.observers!, name, ...rest);
    if (this.listenerCount(name) > 0) {
      emit.call(this, name, ...rest);
      return true;
    }
    const parent = parentOf(this);
    return parent ? parent.dispatch(name, ...rest) : false;
  };
  return function (this: Dispatching, name: string, ctx?: unknown): boolean {
    // eslint-disable-next-line prefer-rest-params
    if (arguments.length !== 2) return general.apply(this, arguments as unknown as [string, ...unknown[]]);
    if (withObservers) emit.call(this.observers!, name, ctx);
    if (this.listenerCount(name) > 0) {
      emit.call(this, name, ctx);
      return true;
    }
    const parent = parentOf(this);
    return parent ? parent.dispatch(name, ctx) : false;
  };
}

/**
 * Replaces the dispatch of rhea's links (`linkProto`: the prototype Sender and Receiver share),
 * sessions and connections (patch `lean-dispatch`).
 */
export function installLeanDispatch(linkProto: Record<string, unknown>, sessionProto: Record<string, unknown>, connectionProto: Record<string, unknown>): void {
  linkProto['dispatch'] = leanDispatch(true, (l) => (l as unknown as { session: never }).session);
  sessionProto['dispatch'] = leanDispatch(true, (s) => (s as unknown as { connection: never }).connection);
  connectionProto['dispatch'] = leanDispatch(false, (c) => (c as unknown as { container?: never }).container);
}
