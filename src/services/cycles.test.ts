import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CycleRunner, type CycleSpec } from './cycles.js';
import { describeOnDatabases } from '../testkit/databases.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeOnDatabases('service cycles', ({ db, openAnother }) => {
  test('two processes looping over one cycle never run it at once, and both get turns', async () => {
    const other = await openAnother();
    let running = 0;
    let overlap = 0;
    const byOwner: Record<string, number> = { a: 0, b: 0 };
    const spec = (owner: string): CycleSpec => ({
      name: 'shared', intervalMs: 1,
      run: async () => {
        running++;
        if (running > 1) overlap++;
        byOwner[owner]!++;
        await wait(15);
        running--;
        return `run by ${owner}`;
      },
    });
    const ac = new AbortController();
    const a = new CycleRunner(db().kysely, { owner: 'a', pollMs: 5 });
    const b = new CycleRunner(other.kysely, { owner: 'b', pollMs: 5 });
    const loops = [a.loop([spec('a')], ac.signal), b.loop([spec('b')], ac.signal)];
    await wait(800);
    ac.abort();
    await Promise.all(loops);
    assert.equal(overlap, 0);
    assert.ok(byOwner.a! + byOwner.b! >= 10, JSON.stringify(byOwner));
    const [state] = (await a.states()).filter((s) => s.name === 'shared');
    assert.equal(state!.runs, byOwner.a! + byOwner.b!);
    assert.equal(state!.lastStatus, 'ok');
    assert.match(state!.lastSummary!, /^run by [ab]$/);
    assert.equal(state!.leaseOwner, undefined);
  });

  test('a run whose lease was taken by another process is aborted and reported, as a worker abandons a lost job', async () => {
    const errors: string[] = [];
    const a = new CycleRunner(db().kysely, { owner: 'a', leaseMs: 300, onError: (name, e) => errors.push(`${name}: ${e}`) });
    // another process whose clock runs an hour ahead: a's lease has expired as far as it can tell
    const late = new CycleRunner(db().kysely, { owner: 'late', leaseMs: 300, now: () => Date.now() + 3_600_000 });
    let started!: () => void;
    const running = new Promise<void>((r) => { started = r; });
    let aborted = false;
    const first = a.runNow({
      name: 'stolen', intervalMs: 1000,
      run: (signal) => new Promise<void>((resolve) => {
        started();
        signal.addEventListener('abort', () => { aborted = true; resolve(); }, { once: true });
      }),
    });
    await running;
    assert.equal((await late.runNow({ name: 'stolen', intervalMs: 1000, run: async () => 'taken over' }))?.status, 'ok');
    const outcome = await first; // without the abort this run would never end
    assert.equal(aborted, true);
    assert.equal(outcome?.status, 'failed');
    assert.match(outcome!.error!, /lease lost/);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /^stolen: lease lost/);
    const state = (await a.states()).find((s) => s.name === 'stolen')!;
    assert.equal(state.lastOwner, 'late', 'the aborted run does not overwrite the new owner\'s record');
    assert.equal(state.lastSummary, 'taken over');
  });

  test('a live lease keeps others out; an expired one (a dead process) is taken over', async () => {
    let clock = Date.parse('2026-01-01T00:00:00.000Z');
    const now = () => clock;
    const dead = new CycleRunner(db().kysely, { owner: 'dead', leaseMs: 60_000, now });
    const alive = new CycleRunner(db().kysely, { owner: 'alive', leaseMs: 60_000, now });
    let release!: () => void;
    const hanging: CycleSpec = { name: 'lease', intervalMs: 1000, run: () => new Promise<void>((r) => { release = r; }) };
    const first = dead.runNow(hanging); // claims, then hangs like a process that stopped answering
    await wait(50);
    let ran = 0;
    const quick: CycleSpec = { name: 'lease', intervalMs: 1000, run: async () => { ran++; } };
    assert.equal(await alive.runNow(quick), undefined, 'held by a live lease');
    clock += 61_000; // the lease expires without renewal (the fake clock stands still for the renewer)
    const outcome = await alive.runNow(quick);
    assert.equal(outcome?.status, 'ok');
    assert.equal(ran, 1);
    release();
    await first; // the dead owner's late finish must not overwrite the new owner's record
    const state = (await alive.states()).find((s) => s.name === 'lease')!;
    assert.equal(state.lastOwner, 'alive');
    assert.equal(state.runs, 1);
  });

  test('failures are recorded; the due time survives a restart; trigger makes it due now', async () => {
    let clock = Date.parse('2026-02-01T00:00:00.000Z');
    const now = () => clock;
    const errors: string[] = [];
    const r1 = new CycleRunner(db().kysely, { owner: 'r1', now, onError: (n, e) => errors.push(`${n}: ${e}`) });
    let calls = 0;
    const failing: CycleSpec = { name: 'restart', intervalMs: 3_600_000, run: async () => { calls++; throw new Error('feed server said 503'); } };
    const signal = new AbortController().signal;
    assert.deepEqual(await r1.tick([failing], signal), ['restart']);
    let state = (await r1.states()).find((s) => s.name === 'restart')!;
    assert.equal(state.lastStatus, 'failed');
    assert.equal(state.lastError, 'feed server said 503');
    assert.deepEqual(errors, ['restart: feed server said 503']);
    assert.equal(state.nextDue, new Date(clock + 3_600_000).toISOString());
    // A new process (restart) a minute later does not run it again before it is due.
    clock += 60_000;
    const r2 = new CycleRunner(db().kysely, { owner: 'r2', now });
    assert.deepEqual(await r2.tick([failing], signal), []);
    await r2.trigger('restart');
    assert.deepEqual(await r2.tick([failing], signal), ['restart']);
    assert.equal(calls, 2);
    state = (await r2.states()).find((s) => s.name === 'restart')!;
    assert.equal(state.runs, 2);
    assert.equal(state.lastOwner, 'r2');
  });

  test('a changed interval applies after a restart: shorter makes the cycle due, longer defers it; a trigger stays due', async () => {
    const t0 = Date.parse('2030-01-01T00:00:00Z');
    let clock = t0;
    const now = () => clock;
    let runs = 0;
    const spec = (intervalMs: number): CycleSpec => ({ name: 'retimed', intervalMs, run: async () => { runs++; } });
    const signal = new AbortController().signal;
    // the old configuration: every hour
    const before = new CycleRunner(db().kysely, { owner: 'old', now });
    assert.deepEqual(await before.tick([spec(3_600_000)], signal), ['retimed']);
    assert.equal((await before.states()).find((s) => s.name === 'retimed')!.nextDue, '2030-01-01T01:00:00.000Z');
    // restart with every 10 minutes, 11 minutes later: due now, not at 01:00
    clock = t0 + 11 * 60_000;
    const shorter = new CycleRunner(db().kysely, { owner: 'new', now });
    assert.deepEqual(await shorter.tick([spec(600_000)], signal), ['retimed']);
    assert.equal((await shorter.states()).find((s) => s.name === 'retimed')!.nextDue, '2030-01-01T00:21:00.000Z');
    // restart with every 2 hours, 20 minutes after that run: not due at 00:21, but at 02:11
    clock = t0 + 31 * 60_000;
    const longer = new CycleRunner(db().kysely, { owner: 'newer', now });
    assert.deepEqual(await longer.tick([spec(7_200_000)], signal), []);
    assert.equal((await longer.states()).find((s) => s.name === 'retimed')!.nextDue, '2030-01-01T02:11:00.000Z');
    // a trigger makes it due now whatever the interval
    await longer.trigger('retimed');
    assert.deepEqual(await longer.tick([spec(7_200_000)], signal), ['retimed']);
    assert.equal(runs, 3);
  });
});
