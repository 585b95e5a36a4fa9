import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guessedDockerfile, historyLine, parseDockerfile } from './dockerfile.js';

const lines: [string, string | undefined][] = [
  ['/bin/sh -c #(nop)  CMD ["nginx" "-g" "daemon off;"]', 'CMD ["nginx" "-g" "daemon off;"]'],
  ['/bin/sh -c #(nop) ADD file:8a2b in / ', 'ADD file:8a2b in / '],
  ['/bin/sh -c apt-get update', 'RUN /bin/sh -c apt-get update'],
  ['|1 VERSION=1 /bin/sh -c make', 'RUN |1 VERSION=1 /bin/sh -c make'],
  ['RUN /bin/sh -c apt-get update # buildkit', 'RUN /bin/sh -c apt-get update'],
  ['COPY app /app # buildkit', 'COPY app /app'],
  ['EXPOSE map[80/tcp:{} 53/udp:{}]', 'EXPOSE 80/tcp 53/udp'],
  ['HEALTHCHECK &{["CMD-SHELL" "true"] "0s" "0s" "0s" "0s" \'\\x00\'}', 'HEALTHCHECK &{["CMD-SHELL" "true"] "0s" "0s" "0s" "0s" \'\\x00\'}'],
  ['', undefined],
];
for (const [createdBy, want] of lines) {
  test(`history line ${JSON.stringify(createdBy)}`, () => assert.equal(historyLine(createdBy), want));
}

test('guessed Dockerfile starts FROM scratch, one line per history entry', () => {
  assert.equal(guessedDockerfile([{ createdBy: '/bin/sh -c #(nop)  USER app', emptyLayer: true }, { createdBy: '', emptyLayer: true }]), 'FROM scratch\nUSER app\n');
});

test('parsing: directives upper-cased, comments and blank lines dropped, continuations joined', () => {
  const df = parseDockerfile('# c\nfrom debian\n\nrun a \\\n  b\nRUN c\n');
  assert.deepEqual([...df], [['FROM', ['from debian']], ['RUN', ['run a b', 'RUN c']]]);
});
