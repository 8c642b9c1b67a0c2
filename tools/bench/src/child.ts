/**
 * Runs a TypeScript module of this package in a child Node process (same tsx loader, extra node
 * flags such as --expose-gc) and returns the one result it sends back over IPC. The child is
 * killed, by its pid, if it outlives `timeoutMs` or if this process exits first.
 */
import { fork } from 'node:child_process';

/** Message a child sends with process.send. */
export type ChildMessage<T> = { kind: 'apogee-bench-result'; result: T } | { kind: 'apogee-bench-error'; error: string };

export interface RunChildOptions {
  /** Absolute path of the module to run. */
  module: string;
  /** JSON-serialisable input, passed as argv[2]. */
  input: unknown;
  nodeFlags?: readonly string[];
  timeoutMs: number;
}

export function runChild<T>(opts: RunChildOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const child = fork(opts.module, [JSON.stringify(opts.input)], {
      execArgv: [...process.execArgv, ...(opts.nodeFlags ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settled = false;
    let result: ChildMessage<T> | null = null;
    const killChild = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    process.once('exit', killChild);
    const timer = setTimeout(() => {
      finish(new Error(`child ${opts.module} still running after ${opts.timeoutMs} ms; killed`));
      killChild();
    }, opts.timeoutMs);
    const finish = (err: Error | null, value?: T): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      process.off('exit', killChild);
      if (err) reject(err);
      else resolve(value as T);
    };
    child.on('message', (m: unknown) => {
      const msg = m as ChildMessage<T> | null;
      if (msg && (msg.kind === 'apogee-bench-result' || msg.kind === 'apogee-bench-error')) result = msg;
    });
    child.on('error', (err) => finish(err));
    child.on('exit', (code, signal) => {
      if (result?.kind === 'apogee-bench-result') finish(null, result.result);
      else if (result?.kind === 'apogee-bench-error') finish(new Error(result.error));
      else finish(new Error(`child ${opts.module} exited (${signal ?? `code ${code}`}) without a result`));
    });
  });
}

/** Child side: reads the input, runs fn, sends its result (or error) and exits. */
export async function childMain<I, T>(fn: (input: I) => Promise<T>): Promise<void> {
  const send = (msg: ChildMessage<T>): Promise<void> =>
    new Promise((resolve) => {
      if (!process.send) {
        process.stdout.write(JSON.stringify(msg) + '\n');
        resolve();
      } else process.send(msg, () => resolve());
    });
  try {
    const input = JSON.parse(process.argv[2] ?? 'null') as I;
    await send({ kind: 'apogee-bench-result', result: await fn(input) });
    process.exit(0);
  } catch (err) {
    await send({ kind: 'apogee-bench-error', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exit(1);
  }
}
