/** The work of `lading serve`, loaded only when the command runs. */
import { loadConfig } from '../../config/load.js';
import { redactUrl } from '../../store/db.js';
import { startService } from '../../services/server.js';
import { LadingError } from '../../errors.js';

export interface ServeCliOptions {
  config?: string;
  db?: string;
  host?: string;
  port?: string;
  role?: string;
  workers?: string;
}

function intOption(v: string | undefined, what: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new LadingError('BAD_INPUT', `${what}: expected a whole number from ${min} to ${max}, got ${v}`);
  return n;
}

export async function runServe(o: ServeCliOptions): Promise<void> {
  const port = intOption(o.port, '--port', 1, 65535);
  const workers = intOption(o.workers, '--workers', 1, 256);
  const overrides: Record<string, unknown> = {};
  if (o.db) overrides.db_url = o.db;
  if (o.host || port !== undefined) overrides.listen = { ...(o.host ? { host: o.host } : {}), ...(port !== undefined ? { port } : {}) };
  if (workers !== undefined) overrides.analysis = { workers };
  if (o.role) overrides.roles = o.role.split(',').map((r) => r.trim()).filter(Boolean);
  const config = loadConfig({ ...(o.config ? { file: o.config } : {}), overrides });
  const service = await startService({ config, ...(workers !== undefined ? { workers } : {}) });
  const roles = config.roles.join(',');
  const err = (t: string) => process.stderr.write(t);
  if (service.bootstrap.generatedPassword) {
    err(`lading serve: created user admin with the generated password ${service.bootstrap.generatedPassword}\n`);
    err('lading serve: it is shown only this once; set admin.password (LADING_ADMIN_PASSWORD) in production\n');
  } else if (service.bootstrap.configuredPasswordMatches === false) {
    err('lading serve: warning: admin.password no longer opens user admin (it was changed since); the configured value is ignored\n');
  }
  err(`lading serve: database ${service.db.dialect === 'postgres' ? redactUrl(config.db_url) : service.db.location}\n`);
  if (service.url) err(`lading serve: API listening on ${service.url}/v1 (roles ${roles}), web UI on ${service.url}/ui/\n`);
  else err(`lading serve: ${roles} running\n`);
  if (service.admissionUrl) err(`lading serve: admission webhook on ${service.admissionUrl}/validate\n`);
  if (service.probeUrl) err(`lading serve: /health, /ready and /metrics on ${service.probeUrl}\n`);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      err(`lading serve: ${signal}: stopping\n`);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      service.close().finally(resolve);
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
}
