/** Bounds on what an image may make Lading read, hold or spool. All configurable; defaults are generous. */
export interface Limits {
  /** Largest manifest or index document accepted, in bytes. */
  maxManifestBytes: number;
  /** Largest image config accepted, in bytes. */
  maxConfigBytes: number;
  /** Total uncompressed layer bytes across the image. */
  maxUncompressedBytes: number;
  /** Total tar entries across all layers. */
  maxEntries: number;
  /** Largest PAX / GNU long-name header record, in bytes. */
  maxHeaderBytes: number;
  /** Longest path accepted, in bytes. */
  maxPathBytes: number;
  /** Total bytes captured for analyzers (in memory and spooled). */
  maxCapturedBytes: number;
  /** Captured files up to this size stay in memory; larger ones are spooled to the scratch directory. */
  inMemoryCaptureBytes: number;
  /** Number of layers accepted in one image. */
  maxLayers: number;
  /** A compressed layer may expand at most this many times... */
  maxCompressionRatio: number;
  /** ...once it has produced this many bytes (small layers of zeros are harmless). */
  ratioCheckAfterBytes: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxManifestBytes: 4 * 1024 * 1024,
  maxConfigBytes: 8 * 1024 * 1024,
  maxUncompressedBytes: 32 * 1024 ** 3,
  maxEntries: 5_000_000,
  maxHeaderBytes: 1024 * 1024,
  maxPathBytes: 4096,
  maxCapturedBytes: 8 * 1024 ** 3,
  inMemoryCaptureBytes: 1024 * 1024,
  maxLayers: 1000,
  maxCompressionRatio: 200,
  ratioCheckAfterBytes: 256 * 1024 * 1024,
};

export function withLimits(overrides?: Partial<Limits>): Limits {
  return { ...DEFAULT_LIMITS, ...overrides };
}
