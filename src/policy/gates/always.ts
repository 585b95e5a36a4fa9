/** `always`: fires whenever it is in a policy; for blocking images by mapping, and for testing mappings and allowlists. */
import { defineGate, defineTrigger } from '../gate.js';

const always = defineTrigger({
  name: 'always',
  description: 'Fires unconditionally. Useful to block the images a mapping selects, or to test mappings and allowlists.',
  state: 'active',
  params: {},
  id: 'always',
  msg: 'Unconditional trigger match',
  evaluate(_subject, _p, ctx) {
    ctx.fire();
  },
});

export const alwaysGate = defineGate({
  name: 'always',
  description: 'A trigger that fires unconditionally when present in a policy.',
  state: 'active',
  triggers: { always },
});
