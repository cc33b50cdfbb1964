import { TextDecoder } from 'node:util';
import type { VertexLog } from '../control/types';

/** One complete line a step printed. */
export interface LogLine {
  vertex: string;
  /** 1 = stdout, 2 = stderr. */
  stream: number;
  text: string;
}

/**
 * Cuts a vertex's log chunks into whole lines. BuildKit sends output in
 * chunks cut wherever its buffer filled, so a secret value can arrive split
 * across two chunks; redacting whole lines is what makes scrubbing reliable.
 * A line stays held until its newline arrives or {@link LogLines.flush}.
 */
export class LogLines {
  private readonly partial = new Map<string, { vertex: string; stream: number; text: string }>();
  private readonly decoder = new Map<string, TextDecoder>();

  /** The lines this chunk completes (possibly none). */
  push(log: VertexLog): LogLine[] {
    const key = `${log.vertex}\0${log.stream}`;
    let decoder = this.decoder.get(key);
    if (!decoder) this.decoder.set(key, (decoder = new TextDecoder('utf-8')));
    // stream: true keeps a multi-byte character cut between chunks whole.
    const text = (this.partial.get(key)?.text ?? '') + decoder.decode(log.data, { stream: true });
    const parts = text.split('\n');
    this.partial.set(key, { vertex: log.vertex, stream: log.stream, text: parts.pop() ?? '' });
    return parts.map((line) => ({ vertex: log.vertex, stream: log.stream, text: line.replace(/\r$/, '') }));
  }

  /** Lines still waiting for their newline (of one vertex, or all), now given up on. */
  flush(vertex?: string): LogLine[] {
    const out: LogLine[] = [];
    for (const [key, p] of this.partial) {
      if (vertex !== undefined && p.vertex !== vertex) continue;
      this.partial.delete(key);
      const rest = p.text + (this.decoder.get(key)?.decode() ?? '');
      this.decoder.delete(key);
      if (rest) out.push({ vertex: p.vertex, stream: p.stream, text: rest.replace(/\r$/, '') });
    }
    return out;
  }
}
