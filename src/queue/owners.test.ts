import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { isDeadLocalOwner, parseOwner, processAlive, thisProcess, workerOwnerId } from './owners.js';

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await once(child, 'exit');
  return child.pid!;
}

test('worker ids carry host, pid and this process instance; parsed back', () => {
  const self = thisProcess();
  const id = workerOwnerId('analyzer-0');
  assert.equal(id, `${self.hostname}:${process.pid}:${self.instance}:analyzer-0`);
  assert.deepEqual(parseOwner(id), { hostname: self.hostname, pid: process.pid, instance: self.instance });
  assert.deepEqual(parseOwner('h:12:analyzer-0'), { hostname: 'h', pid: 12 });
  assert.equal(parseOwner('w1'), undefined);
});

test('a dead pid of this host is a dead owner; a live one, another host, this process and unknown forms are not', async () => {
  const self = thisProcess();
  const dead = await deadPid();
  assert.equal(processAlive(dead), false);
  assert.equal(isDeadLocalOwner(`${self.hostname}:${dead}:0badc0de:analyzer-0`), true);
  assert.equal(isDeadLocalOwner(`${self.hostname}:${dead}:analyzer-1`), true, 'the older owner form');
  assert.equal(isDeadLocalOwner(`other-host:${dead}:0badc0de:analyzer-0`), false);
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  try {
    assert.equal(isDeadLocalOwner(`${self.hostname}:${sleeper.pid}:0badc0de:analyzer-0`), false);
  } finally {
    sleeper.kill();
  }
  assert.equal(isDeadLocalOwner(workerOwnerId('analyzer-0')), false, 'this process');
  // this pid with another instance: an earlier process that had this pid (a restarted container's pid 1)
  assert.equal(isDeadLocalOwner(`${self.hostname}:${process.pid}:0badc0de:analyzer-0`), true);
  assert.equal(isDeadLocalOwner('w1'), false);
});
