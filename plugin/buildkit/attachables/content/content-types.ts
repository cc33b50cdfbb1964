/** What a content store knows about one committed blob (containerd's `content.Info`). */
export interface ContentInfo {
  /** `<algorithm>:<hex>`. */
  digest: string;
  /** Bytes. */
  size: number;
  /** When the blob was committed. */
  createdAt: Date;
  /** When the blob or its labels last changed. */
  updatedAt: Date;
  /** Free-form metadata (kept in memory, like containerd's local store without a label store). */
  labels: Record<string, string>;
}

/** Progress of an unfinished write, named by its ref (containerd's `content.Status`). */
export interface IngestStatus {
  ref: string;
  /** Bytes written so far. */
  offset: number;
  /** Announced final size; 0 when unknown. */
  total: number;
  /** Announced final digest; empty when unknown. */
  expected: string;
  startedAt: Date;
  updatedAt: Date;
}
