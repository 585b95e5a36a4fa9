/** (being written) */
import type { FastifyInstance } from 'fastify';
import type { ApiDeps } from '../app.js';

export function accountsRoutes(_app: FastifyInstance, _deps: ApiDeps): void {}
