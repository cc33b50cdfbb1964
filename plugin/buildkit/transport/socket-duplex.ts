import type net from 'node:net';
import { Duplex } from 'node:stream';

/**
 * Wrap a socket in a plain JS Duplex. Node's HTTP/2 layer reads a real
 * socket through its native handle and would skip bytes that were pushed
 * back into the JS stream (the peer's first HTTP/2 frames often arrive with
 * the `101` response); a JS-level stream makes it read them in order.
 */
export function socketDuplex(socket: net.Socket): Duplex {
  const duplex = new Duplex({
    allowHalfOpen: true,
    read() {
      socket.resume();
    },
    write(chunk, _enc, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(err, callback) {
      socket.destroy();
      callback(err);
    },
  });
  socket.on('data', (chunk) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('error', (err) => duplex.destroy(err));
  socket.on('close', () => {
    if (!duplex.destroyed) duplex.destroy();
  });
  return duplex;
}
