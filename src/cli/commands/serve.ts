/**
 * `lading serve [--config FILE] [--db URL] [--port N] [--host H] [--role ROLE[,ROLE...]] [--workers N]`:
 * the service. Loads the configuration, opens and migrates the database, makes sure the admin
 * exists (printing a generated password once in development mode), then runs the v1 API and/or
 * analyzer workers (and whichever other roles: config `roles`, `LADING_ROLES`) until SIGINT or SIGTERM.
 */
import { Command } from 'commander';
import type { ServeRole } from '../../services/server.js';
import type { ServeCliOptions } from './serve-run.js';

/** services/server's SERVE_ROLES, here so that defining the command loads no service code (a test keeps them equal). */
export const SERVE_ROLE_NAMES: readonly ServeRole[] = ['all', 'api', 'worker', 'watcher', 'feeds', 'notifier'];

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the service: the Anchore-compatible v1 API and analyzer workers (SQLite by default, PostgreSQL to scale out)')
    .option('--config <file>', 'configuration file (YAML); default $LADING_CONFIG')
    .option('--db <url>', 'database: a SQLite file path or postgres://… URL (overrides db_url)')
    .option('--host <host>', 'address to listen on (overrides listen.host)')
    .option('--port <n>', 'port to listen on (overrides listen.port)')
    .option('--role <roles>', `what this process runs, comma-separated: ${SERVE_ROLE_NAMES.join(', ')} (overrides roles; default all)`)
    .option('--workers <n>', 'analyzer workers in this process (overrides analysis.workers)')
    .action(async (o: ServeCliOptions) => {
      await (await import('./serve-run.js')).runServe(o);
    });
}
