import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instructionFromHistory, guessDockerfile } from './metadata.js';

test('history lines become Dockerfile instructions', () => {
  const cases: [string, string][] = [
    ['/bin/sh -c #(nop) ADD file:5d673d25da3a14ce1f6cf66e4c7fd4f4b85a3759a9d93efb3fd9ff852b5b56e4 in / ', 'ADD file:5d673d25da3a14ce1f6cf66e4c7fd4f4b85a3759a9d93efb3fd9ff852b5b56e4 /'],
    ['/bin/sh -c #(nop)  CMD ["bash"]', 'CMD ["bash"]'],
    ['/bin/sh -c apt-get update && apt-get install -y curl', 'RUN apt-get update && apt-get install -y curl'],
    ['|2 VERSION=1.2 TARGET=x /bin/sh -c make install', 'RUN make install'],
    ['RUN /bin/sh -c useradd -u 1000 appuser # buildkit', 'RUN useradd -u 1000 appuser'],
    ['COPY app.jar /opt/app/ # buildkit', 'COPY app.jar /opt/app/'],
    ['USER appuser', 'USER appuser'],
    ['/bin/sh -c #(nop) COPY dir:abc in /app ', 'COPY dir:abc /app'],
    ['ENV PATH=/usr/bin', 'ENV PATH=/usr/bin'],
  ];
  for (const [input, want] of cases) assert.equal(instructionFromHistory(input), want, input);
});

test('guessed Dockerfile starts FROM scratch', () => {
  assert.equal(guessDockerfile([{ created_by: '/bin/sh -c #(nop) ADD file:x in / ' }, { created_by: '/bin/sh -c #(nop)  CMD ["bash"]', empty_layer: true }, {}]),
    'FROM scratch\nADD file:x /\nCMD ["bash"]\n');
});
