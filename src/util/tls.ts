/**
 * A TLS certificate and key read from files, checked (a bad file is an error naming it and its
 * configuration key), and read again while the server runs: when either file changes (checked
 * every `intervalMs`) or on SIGHUP, through tls.Server#setSecureContext. A reload that fails keeps
 * the certificate being served and is logged. Used by the API (listen.tls_*) and the admission
 * webhook (admission.tls_*).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { LadingError, describeError } from '../errors.js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** The configuration keys naming them (`listen.tls_cert_file`), for messages. */
  certKey: string;
  keyKey: string;
}

/** Read and check the pair; `what` starts every message (`listen`, `admission`). */
export function readTls(f: TlsFiles, what: string): { cert: Buffer; key: Buffer } {
  const read = (file: string, name: string) => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new LadingError('BAD_INPUT', `${what}: cannot read the TLS ${name} ${file}: ${describeError(e)}`, { cause: e });
    }
  };
  const cert = read(f.certFile, `certificate (${f.certKey})`);
  const key = read(f.keyFile, `key (${f.keyKey})`);
  try {
    new X509Certificate(cert);
  } catch (e) {
    throw new LadingError('BAD_INPUT', `${what}: the TLS certificate (${f.certKey}) ${f.certFile} is not a PEM certificate: ${describeError(e)}`, { cause: e });
  }
  try {
    createSecureContext({ cert, key });
  } catch (e) {
    throw new LadingError('BAD_INPUT', `${what}: the TLS key (${f.keyKey}) ${f.keyFile} cannot be used with the certificate ${f.certFile}: ${describeError(e)}`, { cause: e });
  }
  return { cert, key };
}

export interface TlsReloader {
  /** Read the files again now and serve them; false (logged) when they cannot be used. */
  reload(): boolean;
  stop(): void;
}

/** Keep `server` serving the files' current certificate (polling their times, and on SIGHUP). */
export function reloadTls(server: { setSecureContext(options: SecureContextOptions): void }, f: TlsFiles, what: string,
  options: { log: (message: string) => void; intervalMs: number }): TlsReloader {
  const stamp = () => {
    try {
      return `${statSync(f.certFile).mtimeMs}:${statSync(f.keyFile).mtimeMs}`;
    } catch {
      return 'missing';
    }
  };
  let seen = stamp();
  const reload = (): boolean => {
    seen = stamp();
    try {
      server.setSecureContext(readTls(f, what));
      options.log(`${what}: TLS certificate reloaded from ${f.certFile}`);
      return true;
    } catch (e) {
      options.log(`${what}: cannot reload the TLS certificate, still serving the previous one: ${describeError(e)}`);
      return false;
    }
  };
  const timer = setInterval(() => {
    if (stamp() !== seen) reload();
  }, options.intervalMs);
  timer.unref();
  const onHup = () => void reload();
  process.on('SIGHUP', onHup);
  return {
    reload,
    stop() {
      clearInterval(timer);
      process.off('SIGHUP', onHup);
    },
  };
}
