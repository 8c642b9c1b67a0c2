import type net from 'node:net';

/**
 * Reads the first bytes of an accepted socket until `decide` returns a verdict (undefined: it
 * needs more), then hands over the verdict and every byte read so far; the socket is left paused
 * with nothing consumed — the caller puts back (`socket.unshift`) what the next reader must see.
 * A peer that sends too little within `timeoutMs`, or closes first, is destroyed and `done` is not
 * called.
 */
export function sniff<T>(socket: net.Socket, timeoutMs: number, decide: (head: Buffer) => T | undefined, done: (verdict: T, head: Buffer) => void): void {
  let head: Buffer = Buffer.alloc(0);
  const finish = () => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', onClose);
    socket.off('error', onClose);
  };
  const onData = (chunk: Buffer) => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    const verdict = decide(head);
    if (verdict === undefined) return;
    finish();
    socket.pause();
    done(verdict, head);
  };
  const onClose = () => {
    finish();
    socket.destroy();
  };
  const timer = setTimeout(onClose, timeoutMs);
  timer.unref();
  socket.on('data', onData);
  socket.once('close', onClose);
  socket.once('error', onClose);
}
