// The client's errors, one class per way a call can fail. Each carries a stable `name` to match on.

/** The gateway answered with an error: `code` is the gRPC status code etcd chose (3 invalid argument,
 * 5 not found — e.g. "requested lease not found", 9 failed precondition, 14 unavailable, …). */
export class EtcdError extends Error {
  override readonly name = 'EtcdError';
  constructor(
    readonly code: number,
    message: string,
    readonly endpoint: string,
  ) {
    super(`etcd ${endpoint}: ${message} (code ${code})`);
  }
}

/** No endpoint answered: every one refused, reset, timed out or said it is unavailable (code 14). */
export class EtcdUnavailableError extends Error {
  override readonly name = 'EtcdUnavailableError';
  constructor(readonly causes: ReadonlyArray<{ endpoint: string; error: Error }>) {
    super(`no etcd endpoint answered: ${causes.map((c) => `${c.endpoint} (${c.error.message})`).join('; ')}`);
  }
}

/** An answer that is not what the gateway sends: not JSON, a missing field, or larger than the bound. */
export class EtcdProtocolError extends Error {
  override readonly name = 'EtcdProtocolError';
  constructor(
    message: string,
    readonly endpoint: string,
  ) {
    super(`etcd ${endpoint}: ${message}`);
  }
}

/** A malformed `etcd://` endpoint list (a configuration error, thrown at once). */
export class EtcdEndpointsError extends Error {
  override readonly name = 'EtcdEndpointsError';
}

/** The client was closed; calls made after (or cut by) `close()` fail with this. */
export class EtcdClosedError extends Error {
  override readonly name = 'EtcdClosedError';
  constructor() {
    super('etcd client closed');
  }
}
