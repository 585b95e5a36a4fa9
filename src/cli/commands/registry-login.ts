/**
 * `lading registry login|logout HOST`: local registry credentials for the standalone commands
 * (`lading sbom`, `scan`, `evaluate`, `image inspect`), written to docker's config.json
 * (image/registry/docker-login.ts) after a login check against the registry. They never talk to a
 * Lading service (`lading registry add` stores credentials in one).
 */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { LadingError } from '../../errors.js';
import { readPasswordStdin } from '../options.js';

interface LoginOptions {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  insecure?: boolean;
  caCert?: string;
}

async function password(o: LoginOptions): Promise<string> {
  if (o.password !== undefined && o.passwordStdin) throw new LadingError('BAD_INPUT', '--password and --password-stdin are exclusive');
  if (o.passwordStdin) return readPasswordStdin();
  if (o.password !== undefined) {
    process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    return o.password;
  }
  throw new LadingError('BAD_INPUT', 'give the password with --password-stdin (echo "$TOKEN" | lading registry login HOST -u USER --password-stdin)');
}

async function login(host: string, o: LoginOptions): Promise<void> {
  if (!o.username) throw new LadingError('BAD_INPUT', 'give the user name with -u/--username');
  const creds = { username: o.username, password: await password(o) };
  const [{ checkLogin }, { saveDockerLogin }, { DEFAULT_TLS_HINT }] = await Promise.all([
    import('../../services/registries.js'), import('../../image/registry/docker-login.js'), import('../../image/registry/http.js'),
  ]);
  let caPem: string | undefined;
  if (o.caCert) caPem = await readFile(o.caCert, 'utf8').catch((e: Error) => { throw new LadingError('BAD_INPUT', `--ca-cert: cannot read ${o.caCert}: ${e.message}`); });
  await checkLogin(host, creds, { insecure: o.insecure === true, http: { tlsHint: DEFAULT_TLS_HINT, ...(caPem ? { caPem } : {}) } });
  const saved = await saveDockerLogin(host, creds);
  process.stdout.write(`Login Succeeded: ${host} (credentials saved in ${saved.path})\n`);
  if (saved.helper) process.stderr.write(`note: ${saved.path} names the credential helper "${saved.helper}", which is asked first for ${host}\n`);
}

export function addLoginCommands(group: Command): void {
  group.command('login').argument('<host>', 'registry host[:port] (docker.io for Docker Hub)')
    .description('local: check a login against the registry, then save it in docker\'s config.json ($DOCKER_CONFIG or ~/.docker) for the standalone commands')
    .option('-u, --username <name>', 'user name')
    .option('-p, --password <secret>', 'password or token (visible to other users of this machine: prefer --password-stdin)')
    .option('--password-stdin', 'read the password or token from stdin')
    .option('--insecure', 'do not verify the registry\'s TLS certificate (and allow plain HTTP)')
    .option('--ca-cert <file>', 'CA certificates (PEM) to check the registry\'s certificate against')
    .action(async (host: string, o: LoginOptions) => login(host, o));

  group.command('logout').argument('<host>', 'registry host[:port]')
    .description('local: remove a host\'s credentials from docker\'s config.json')
    .action(async (host: string) => {
      const { removeDockerLogin } = await import('../../image/registry/docker-login.js');
      const r = await removeDockerLogin(host);
      process.stdout.write(r.removed.length ? `Removing login credentials for ${host} from ${r.path}\n` : `Not logged in to ${host} (nothing in ${r.path})\n`);
    });
}
