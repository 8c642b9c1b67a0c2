/*
 * The parts of rhea's server-side objects the gateway uses, typed here once (rhea's published
 * typings describe the client API and leave out link state such as the remote attach).
 */

export interface Terminus {
  address?: string | null;
  durable?: number;
  expiry_policy?: string;
  dynamic?: boolean;
  [field: string]: unknown;
}

export interface AttachFields {
  name: string;
  handle: number;
  snd_settle_mode?: number;
  rcv_settle_mode?: number;
  source?: Terminus | null;
  target?: Terminus | null;
  max_message_size?: number;
  [field: string]: unknown;
}

export interface RheaSession {
  remote: { channel?: number };
  outgoing: {
    available(): number;
    /** Id of the first delivery not yet fully written (rhea writes the session's deliveries in id order). */
    next_pending_delivery: number;
  };
  is_open(): boolean;
}

export interface RheaConnection {
  container_id?: string;
  remote: { open?: { container_id?: string } };
  options: { id: string };
  close(error?: { condition: string; description: string }): void;
  is_closed(): boolean;
  /** Schedules rhea's output processing (set_drained alone does not). */
  _register(): void;
  on(event: string, fn: (ctx: RheaContext) => void): void;
  accept(socket: unknown): void;
}

export interface RheaLink {
  name: string;
  session: RheaSession;
  connection: RheaConnection;
  local: { attach: AttachFields; handle: number };
  remote: { attach?: AttachFields; detach?: { closed?: boolean; error?: unknown }; handle?: number };
  credit: number;
  delivery_count: number;
  set_source(fields: unknown): void;
  set_target(fields: unknown): void;
  close(error?: { condition: string; description: string }): void;
  is_open(): boolean;
  is_closed(): boolean;
}

export interface RheaSender extends RheaLink {
  _draining: boolean;
  sendable(): boolean;
  send(payload: Buffer, tag: Buffer | undefined, format: number): RheaDelivery;
  set_drained(drained: boolean): void;
}

export interface RheaReceiver extends RheaLink {
  flow(credit: number): void;
}

export interface DeliveryState {
  delivery_failed?: boolean;
  undeliverable_here?: boolean;
  error?: { condition?: string; description?: string };
}

export interface RheaDelivery {
  id: number;
  settled: boolean;
  remote_settled: boolean;
  remote_state?: DeliveryState;
  link: RheaLink;
  update(settled: boolean | undefined, state?: unknown): void;
  accept(): void;
  reject(error: { condition: string; description: string }): void;
}

export interface RheaContext {
  connection: RheaConnection;
  session?: RheaSession;
  sender?: RheaSender;
  receiver?: RheaReceiver;
  delivery?: RheaDelivery;
  message?: unknown;
  error?: unknown;
}
