/** The validated rows of one apply, as JSON lines: in memory, then in a temporary file past a limit. */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export type SpoolRow =
  | ['v', string, string | null, string[], string]
  | ['a', string, string, string, string, string, string]
  | ['k', string, string]
  | ['e', string, number, number, string];

export class Spool {
  private mem: SpoolRow[] = [];
  private memBytes = 0;
  private pending: string[] = [];
  private pendingBytes = 0;
  private dir?: string;
  private file?: string;
  private out?: WriteStream;

  constructor(private readonly memoryLimit: number, private readonly tmpDir: string) {}

  async add(row: SpoolRow): Promise<void> {
    if (!this.out) {
      this.mem.push(row);
      // roughly the JSON size: the data column dominates
      this.memBytes += 64 + (typeof row[row.length - 1] === 'string' ? (row[row.length - 1] as string).length : 0);
      if (this.memBytes > this.memoryLimit) await this.toFile();
      return;
    }
    const line = JSON.stringify(row);
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes > 1 << 20) await this.flush();
  }

  private async toFile(): Promise<void> {
    this.dir = await mkdtemp(join(this.tmpDir, 'lading-spool-'));
    this.file = join(this.dir, 'rows.jsonl');
    this.out = createWriteStream(this.file);
    const rows = this.mem;
    this.mem = [];
    this.memBytes = 0;
    for (const row of rows) {
      const line = JSON.stringify(row);
      this.pending.push(line);
      this.pendingBytes += line.length;
      if (this.pendingBytes > 1 << 20) await this.flush();
    }
    await this.flush();
  }

  private async flush(): Promise<void> {
    if (!this.out || !this.pending.length) return;
    const ok = this.out.write(this.pending.join('\n') + '\n');
    this.pending = [];
    this.pendingBytes = 0;
    if (!ok) await once(this.out, 'drain');
  }

  async finish(): Promise<void> {
    if (!this.out) return;
    await this.flush();
    const out = this.out;
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  }

  /** Whether the rows went to a file. */
  get spilled(): boolean {
    return this.file !== undefined;
  }

  async *rows(): AsyncGenerator<SpoolRow> {
    if (!this.file) {
      yield* this.mem;
      return;
    }
    const rl = createInterface({ input: createReadStream(this.file), crlfDelay: Infinity });
    try {
      for await (const line of rl) if (line) yield JSON.parse(line) as SpoolRow;
    } finally {
      rl.close();
    }
  }

  async dispose(): Promise<void> {
    this.mem = [];
    if (this.out && !this.out.closed) this.out.destroy();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
