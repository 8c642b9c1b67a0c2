/*
 * rhea's handling of an incoming transfer (session.js, Incoming.on_transfer) builds every delivery
 * as an object literal with six fresh closures (update, accept, release, reject, modified) — the
 * largest single allocation of the gateway per message. This is the same procedure with the
 * delivery as a class whose methods live on its prototype: same fields, same checks and errors,
 * same events. The session's own bookkeeping (ids, credit, the deliveries buffer, dispositions)
 * is rhea's, reached through the same fields rhea uses.
 *
 * Patch `lean-incoming` of the inventory. Installed by `leanIncomingOn` (rhea/index.ts), it
 * applies inside the server scope of a connection that has it on; rhea client connections keep
 * rhea's own procedure.
 */

interface Described {
  described(): unknown;
}

export interface RheaMessageModule {
  decode(b: Buffer): unknown;
  accepted(): Described;
  released(): Described;
  modified(params?: object): Described;
  rejected(params: object): Described;
}

interface TransferFields {
  delivery_id?: number | null;
  delivery_tag?: unknown;
  message_format?: number | null;
  settled?: unknown;
  more?: unknown;
  state?: unknown;
}

interface TransferFrame {
  performative: TransferFields;
  payload?: Buffer;
}

interface ReceiverLink {
  credit: number;
  delivery_count: number;
  _incomplete: IncomingDelivery | undefined;
  local: { attach: { rcv_settle_mode?: number } };
  is_remote_open(): boolean;
  dispatch(name: string, ctx: unknown): boolean;
  _context(c: object): unknown;
}

/** The fields of rhea's Incoming this procedure reads and writes (see session.js). */
interface RheaIncoming {
  next_transfer_id: number;
  next_delivery_id: number | undefined;
  deliveries: { push(d: unknown): void };
  update(delivery: IncomingDelivery, settled: boolean, state: unknown): void;
}

export interface RheaSessionProto {
  on_transfer(this: { incoming: RheaIncoming; _get_link(frame: unknown): ReceiverLink }, frame: TransferFrame): void;
}

/** rhea's message module (lib/message.js), set by leanIncomingOn. */
let message: RheaMessageModule;

/** An incoming delivery with rhea's delivery fields and methods. */
class IncomingDelivery {
  readonly id: number;
  readonly tag: unknown;
  readonly format: number;
  settled = false;
  state: unknown = undefined;
  remote_settled: unknown;
  remote_state: unknown;
  frames: Array<Buffer | undefined> | undefined;
  incomplete: unknown = undefined;

  constructor(
    private readonly incoming: RheaIncoming,
    readonly link: ReceiverLink,
    fields: TransferFields,
    payload: Buffer | undefined,
  ) {
    this.id = fields.delivery_id as number;
    this.tag = fields.delivery_tag;
    this.format = fields.message_format as number;
    this.remote_settled = fields.settled === undefined ? false : fields.settled;
    this.remote_state = fields.state;
    this.frames = [payload];
  }

  update(settled: boolean | undefined, state?: unknown): void {
    this.incoming.update(this, settled === undefined ? this.link.local.attach.rcv_settle_mode !== 1 : settled, state);
  }

  accept(): void {
    this.update(undefined, message.accepted().described());
  }

  release(params?: object): void {
    this.update(undefined, params ? message.modified(params).described() : message.released().described());
  }

  reject(error: unknown): void {
    this.update(undefined, message.rejected({ error }).described());
  }

  modified(params?: object): void {
    this.update(undefined, message.modified(params).described());
  }
}

function isDefined(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** rhea's Incoming.on_transfer for `incoming` (a session's), with IncomingDelivery. */
function onTransfer(incoming: RheaIncoming, frame: TransferFrame, receiver: ReceiverLink): void {
  incoming.next_transfer_id++;
  if (!receiver.is_remote_open()) throw Error('transfer after detach');
  const p = frame.performative;
  if (incoming.next_delivery_id === undefined) incoming.next_delivery_id = p.delivery_id as number;
  let current: IncomingDelivery;
  if (receiver._incomplete) {
    current = receiver._incomplete;
    if (isDefined(p.delivery_id) && current.id !== p.delivery_id)
      throw Error('frame sequence error: delivery ' + current.id + ' not complete, got ' + p.delivery_id);
    if (frame.payload) current.frames!.push(frame.payload);
  } else if (incoming.next_delivery_id === p.delivery_id) {
    current = new IncomingDelivery(incoming, receiver, p, frame.payload);
    incoming.deliveries.push(current);
    incoming.next_delivery_id++;
  } else {
    throw Error('frame sequence error: expected ' + incoming.next_delivery_id + ', got ' + p.delivery_id);
  }
  current.incomplete = p.more;
  if (current.incomplete) {
    receiver._incomplete = current;
    return;
  }
  receiver._incomplete = undefined;
  const frames = current.frames!;
  const data = frames.length === 1 ? frames[0] : Buffer.concat(frames as Buffer[]);
  current.frames = undefined;
  if (receiver.credit > 0) receiver.credit--;
  else console.error('Received transfer when credit was %d', receiver.credit);
  receiver.delivery_count++;
  const ctx = current.format === 0 ? { message: message.decode(data!), delivery: current } : { message: data, delivery: current, format: current.format };
  receiver.dispatch('message', receiver._context(ctx));
}

let installed = false;

/** Installs the lean transfer handling on rhea's Session prototype, used while `active()` holds (idempotent). */
export function leanIncomingOn(messageModule: RheaMessageModule, sessionProto: RheaSessionProto, active: () => boolean): void {
  if (installed) return;
  installed = true;
  message = messageModule;
  const original = sessionProto.on_transfer;
  sessionProto.on_transfer = function (frame) {
    if (!active()) return original.call(this, frame);
    onTransfer(this.incoming, frame, this._get_link(frame));
  };
}
