/** What the protocol load generators (MQTT, AMQP) share: the payload layout and child logging. */

/** Message payload size, bytes. */
export const PAYLOAD = 128;

/** Payload header: run id (int32), sequence (int32), send time (performance.now(), float64). */
export const HEADER = 16;

/** A progress line on the child's stderr (the runner passes it through). */
export function log(message: string): void {
  process.stderr.write(message + '\n');
}

export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
