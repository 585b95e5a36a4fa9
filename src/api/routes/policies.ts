/** (being written) */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../app.js';

export function policiesRoutes(_app: FastifyInstance, _deps: ApiDeps): void {}
