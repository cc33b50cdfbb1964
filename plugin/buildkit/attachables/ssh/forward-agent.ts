import type * as grpc from '@grpc/grpc-js';
import net from 'node:net';
import { decodeBytesMessage, encodeBytesMessage } from '../../protocol/bytes-message';
import { failStream, Status } from '../call-status';
import { ReadOnlyAgentGate } from './read-only-agent-gate';

/** How long connecting to a local agent socket may take. */
const connectTimeoutMs = 2_000;

/**
 * Serve one `ForwardAgent` call: one connection the build opened on its
 * mounted socket, carried as BytesMessages, joined to a fresh connection to
 * the local agent at `socketPath`.
 *
 * Both directions respect backpressure (a side that cannot keep up pauses
 * the other). Half-closes are passed on like BuildKit's own copy loop: when
 * the daemon half-closes, our write side to the agent is ended once the
 * agent has answered every request; when the agent closes, the call ends OK.
 */
export function forwardAgentCall(call: grpc.ServerDuplexStream<Buffer, Buffer>, socketPath: string, id: string): void {
  call.pause();
  const agent = net.createConnection(socketPath);
  let finished = false;
  const fail = (code: number, details: string) => {
    if (finished) return;
    finished = true;
    agent.destroy();
    failStream(call, code, details);
  };
  const timer = setTimeout(() => fail(Status.UNAVAILABLE, `ssh agent for id ${id} did not accept a connection within ${connectTimeoutMs} ms`), connectTimeoutMs);
  const gate = new ReadOnlyAgentGate(
    (bytes) => agent.write(bytes),
    (bytes) => call.write(encodeBytesMessage(bytes)),
  );

  call.on('cancelled', () => {
    finished = true;
    agent.destroy();
  });
  agent.on('error', (err: NodeJS.ErrnoException) => fail(Status.UNAVAILABLE, `ssh agent for id ${id}: ${err.code ?? err.message}`));

  agent.once('connect', () => {
    clearTimeout(timer);
    call.on('data', (message: Buffer) => {
      try {
        gate.fromBuild(decodeBytesMessage(message));
      } catch (err) {
        return fail(Status.INVALID_ARGUMENT, (err as Error).message);
      }
      // Pause the build's stream while either side holds unflushed bytes.
      if (agent.writableNeedDrain || call.writableNeedDrain) {
        call.pause();
        void drained(agent, call).then(() => !finished && call.resume());
      }
    });
    // OpenSSH's agent drops queued replies when it reads EOF before writing them, so
    // a client that writes a request and half-closes at once (`printf … | nc -U`)
    // would lose its answer: pass the half-close on only once every request is answered.
    let buildDone = false;
    call.once('end', () => {
      buildDone = true;
      if (gate.answered) agent.end();
    });
    agent.on('data', (chunk: Buffer) => {
      gate.fromAgent(chunk);
      if (buildDone && gate.answered) agent.end();
      if (call.writableNeedDrain) {
        agent.pause();
        call.once('drain', () => agent.resume());
      }
    });
    agent.once('end', () => {
      if (finished) return;
      finished = true;
      call.end();
      agent.end();
    });
    call.resume();
  });
}

/** Resolve once neither stream holds more than its buffer limit. */
async function drained(...streams: Array<{ writableNeedDrain: boolean; once(event: 'drain' | 'close', fn: () => void): unknown }>): Promise<void> {
  for (const s of streams) {
    if (s.writableNeedDrain) await new Promise<void>((resolve) => { s.once('drain', resolve); s.once('close', resolve); });
  }
}
