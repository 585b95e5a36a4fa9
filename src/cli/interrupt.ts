/**
 * Ctrl-C and SIGTERM during an image command: the work is aborted through an AbortSignal, so every
 * `finally` runs (scratch directories removed, sources closed), and the command ends with
 * "lading: interrupted" and the shell's status for the signal (130, 143). A second Ctrl-C while
 * cleaning up ends the process at once, as the default handler does.
 */

const STATUS: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

export class Interrupted extends Error {
  constructor(readonly signal: 'SIGINT' | 'SIGTERM') {
    super(`interrupted (${signal})`);
    this.name = 'Interrupted';
  }

  get status(): number {
    return STATUS[this.signal];
  }
}

/** The Interrupted behind an error (an abort carries it as its reason or cause), if any. */
export function interruption(e: unknown): Interrupted | undefined {
  for (let x: unknown = e, depth = 0; x instanceof Error && depth < 5; x = x.cause, depth++) if (x instanceof Interrupted) return x;
  return undefined;
}

/** Run `fn` with a signal that SIGINT or SIGTERM aborts; the handlers are removed afterwards. */
export async function interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((sig) => {
    const handler = () => controller.abort(new Interrupted(sig));
    process.once(sig, handler);
    return [sig, handler] as const;
  });
  try {
    const result = await fn(controller.signal);
    controller.signal.throwIfAborted();
    return result;
  } catch (e) {
    // Whatever the work threw once aborted, the reason is the interruption.
    if (controller.signal.aborted) throw controller.signal.reason as Error;
    throw e;
  } finally {
    for (const [sig, handler] of handlers) process.off(sig, handler);
  }
}
