import type * as grpc from '@grpc/grpc-js';
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { BuildkitError } from '../../errors';
import { decodeBytesMessage } from '../../protocol/bytes-message';
import type { Attachable, SessionServiceRegistry } from '../../session/attachable';
import { failStream, headerValues, rawMethod, Status } from '../call-status';
import { PacketStream } from '../filesync/packet-stream';
import { receiveTree } from './receive-tree';

/** Where one exporter's output goes on this machine. */
export type OutputTarget =
  /** `local` exporter: the tree is written into this directory (fsutil packets). */
  | { kind: 'directory'; dir: string }
  /** `tar`, `oci`, `docker` exporters: the byte stream is written to this file. */
  | { kind: 'file'; path: string }
  /** `tar`, `oci`, `docker` exporters: the byte stream is written to this stream (ended when the transfer is), e.g. a Docker engine's `/images/load`. */
  | { kind: 'stream'; stream: Writable; display: string };

/** What an output received, reported per exporter index. */
export interface ReceivedOutput {
  exporterIndex: number;
  bytes: number;
  /** `exporter-md-*` headers the daemon attached (oci/docker), without the prefix. */
  metadata: Record<string, string>;
}

/**
 * `moby.filesync.v1.FileSend`: receives exporter outputs. The daemon names
 * the exporter by its index in `SolveRequest.Exporters`
 * (`buildkit-attachable-exporter-id`, absent before v0.13 = 0); the payload
 * is fsutil packets for directories and raw bytes for files.
 */
export class FileSendProvider implements Attachable {
  readonly received: ReceivedOutput[] = [];
  private readonly failures: Error[] = [];

  constructor(private readonly targets: ReadonlyMap<number, OutputTarget>) {}

  /** Errors raised while receiving, for the solve to report. */
  get errors(): readonly Error[] {
    return this.failures;
  }

  register(registry: SessionServiceRegistry): void {
    registry.addService(
      { DiffCopy: rawMethod('/moby.filesync.v1.FileSend/DiffCopy', true, true) },
      { DiffCopy: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => void this.diffCopy(call) },
    );
  }

  private async diffCopy(call: grpc.ServerDuplexStream<Buffer, Buffer>): Promise<void> {
    const index = Number(headerValues(call.metadata, 'buildkit-attachable-exporter-id')[0] ?? '0');
    const target = this.targets.get(index);
    if (!target) return failStream(call, Status.NOT_FOUND, `no output configured for exporter ${index}`);
    const metadata: Record<string, string> = {};
    for (const [key, value] of Object.entries(call.metadata.getMap())) {
      if (key.startsWith('exporter-md-')) metadata[key.slice('exporter-md-'.length)] = String(value);
    }
    try {
      if (target.kind === 'directory') {
        await receiveTree(new PacketStream(call), target.dir, (totals) => this.received.push({ exporterIndex: index, bytes: totals.bytes, metadata }));
      } else {
        const onComplete = (bytes: number) => this.received.push({ exporterIndex: index, bytes, metadata });
        if (target.kind === 'file') {
          // Like `docker buildx build -o type=tar,dest=a/b.tar`, a missing parent directory is created.
          await fs.promises.mkdir(path.dirname(target.path), { recursive: true });
          await receiveBytes(call, fs.createWriteStream(target.path, { mode: 0o644 }), target.path, onComplete);
        } else {
          await receiveBytes(call, target.stream, target.display, onComplete);
        }
      }
    } catch (err) {
      const error = BuildkitError.from(err, `receiving output of exporter ${index}`);
      this.failures.push(error);
      failStream(call, Status.INTERNAL, error.message);
    }
  }
}

/** Write every BytesMessage to `out` until the daemon half-closes, end `out`, then end the call OK. */
async function receiveBytes(call: grpc.ServerDuplexStream<Buffer, Buffer>, out: Writable, file: string, onComplete: (bytes: number) => void): Promise<void> {
  // Always listened to: an unheard failed open or write (EACCES, ENOSPC) would crash the process.
  let writeError: Error | undefined;
  out.on('error', (err) => (writeError ??= err));
  let bytes = 0;
  try {
    // Events, not `for await`: the async iterator destroys the call when the
    // loop ends, and a destroyed call can no longer send the OK status the
    // daemon waits for after its half-close.
    await new Promise<void>((resolve, reject) => {
      out.once('error', reject);
      call.on('data', (message: Buffer) => {
        const data = decodeBytesMessage(message);
        bytes += data.length;
        if (!out.write(data)) {
          call.pause();
          out.once('drain', () => call.resume());
        }
      });
      call.once('end', () => resolve());
      call.once('error', reject);
      call.once('cancelled', () => reject(new BuildkitError('cancelled', 'the daemon cancelled the output transfer')));
    });
  } finally {
    if (!writeError) await new Promise<void>((resolve) => out.end(() => resolve()));
  }
  if (writeError) throw BuildkitError.from(writeError, `cannot write ${file}`);
  // Report before ending the call: the daemon's solve can finish right after.
  onComplete(bytes);
  call.end();
}
