/**
 * `lading registry add|update|list|get|del`: registry credentials a Lading service uses to pull
 * images (`/registries`; the registry is URL-encoded in paths, `host:5000` included), with a CA
 * certificate per registry (`--ca-cert FILE`, the API's `registry_ca_cert`). `login|logout`
 * (registry-login.ts) are local: docker's config.json, for the standalone commands.
 */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { LadingError } from '../../errors.js';
import { addLoginCommands } from './registry-login.js';
import { addConnectionOptions } from '../client/connection.js';
import { seg } from '../client/http.js';
import { block, sortedTable, success, withService } from '../client/output.js';
import type { RegistryRecord } from '../client/shapes.js';

interface RegistryOptions {
  insecure?: boolean;
  registryType: string;
  skipValidate?: boolean;
  registryName?: string;
  caCert?: string;
}

export function registriesText(records: RegistryRecord[]): string {
  return records.map((r) => block([
    ['Registry', r.registry], ['Name', r.registry_name ?? 'N/A'], ['User', r.registry_user], ['Type', r.registry_type],
    ['Verify TLS', r.registry_verify], ['CA Certificate', caSummary(r.registry_ca_cert)], ['Created', r.created_at], ['Updated', r.last_updated],
  ])).join('');
}

function caSummary(pem: string | null | undefined): string {
  if (!pem) return 'system';
  const n = pem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
  return `${n} certificate${n === 1 ? '' : 's'} of its own`;
}

/** The PEM text of --ca-cert FILE. */
async function caCertFile(file: string): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (e) {
    throw new LadingError('BAD_INPUT', `--ca-cert: cannot read ${file}: ${(e as Error).message}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new LadingError('BAD_INPUT', `--ca-cert: ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return pem;
}

function registryOptions(cmd: Command): Command {
  return addConnectionOptions(cmd, { insecure: false })
    .option('--insecure', 'do not verify the registry\'s TLS certificate')
    .option('--registry-type <type>', 'docker_v2 or awsecr', 'docker_v2')
    .option('--skip-validate', 'store the credentials without trying them against the registry')
    .option('--registry-name <name>', 'a display name (default: the registry)')
    .option('--ca-cert <file>', 'CA certificates (PEM) the registry\'s certificate is checked against, kept with the record');
}

async function body(registry: string, user: string, pass: string, o: RegistryOptions): Promise<Record<string, unknown>> {
  return {
    ...(o.caCert ? { registry_ca_cert: await caCertFile(o.caCert) } : {}),
    registry,
    registry_user: user,
    registry_pass: pass,
    registry_type: o.registryType,
    registry_verify: !o.insecure,
    registry_name: o.registryName ?? registry,
  };
}

export function registryCommand(): Command {
  const group = new Command('registry')
    .description('registry credentials: add/update/list/get/del manage those a Lading service pulls with (they talk to the service); login/logout save local ones in docker\'s config.json for the standalone commands');

  registryOptions(group.command('add').argument('<registry>', 'host[:port] (or host/path prefix)').argument('<user>', 'user name').argument('<pass>', 'password or token'))
    .description('service: add registry credentials (tried against the registry unless --skip-validate)')
    .action(async (registry: string, user: string, pass: string, o: RegistryOptions, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const r = await svc.client.post<RegistryRecord[]>('/registries', await body(registry, user, pass, o), { validate: !o.skipValidate });
        svc.print(r, () => registriesText(r));
      }, { insecure: false });
    });

  registryOptions(group.command('update').argument('<registry>', 'host[:port]').argument('<user>', 'user name').argument('<pass>', 'password or token'))
    .description('service: replace a registry\'s credentials and settings')
    .action(async (registry: string, user: string, pass: string, o: RegistryOptions, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const r = await svc.client.put<RegistryRecord[]>(`/registries/${seg(registry)}`, await body(registry, user, pass, o), { validate: !o.skipValidate });
        svc.print(r, () => registriesText(r));
      }, { insecure: false });
    });

  addConnectionOptions(group.command('list'))
    .description('service: the registries with credentials')
    .action(async (_o: unknown, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const r = await svc.client.get<RegistryRecord[]>('/registries');
        svc.print(r, () => sortedTable(['Registry', 'Name', 'Type', 'User'], r.map((x) => [x.registry, x.registry_name ?? 'N/A', x.registry_type, x.registry_user]), 'Registry'));
      });
    });

  addConnectionOptions(group.command('get').argument('<registry>', 'host[:port]'))
    .description('service: one registry\'s settings (never its password)')
    .action(async (registry: string, _o: unknown, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const r = await svc.client.get<RegistryRecord[]>(`/registries/${seg(registry)}`);
        svc.print(r, () => registriesText(r));
      });
    });

  addConnectionOptions(group.command('del').argument('<registry>', 'host[:port]'))
    .description('service: forget a registry\'s credentials')
    .action(async (registry: string, _o: unknown, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const r = await svc.client.delete<unknown>(`/registries/${seg(registry)}`);
        svc.print(r, () => success());
      });
    });
  addLoginCommands(group);
  return group;
}
