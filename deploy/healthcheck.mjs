// The image's HEALTHCHECK: GET /health of this process, on the API port when it runs the api role,
// else on metrics.port (LADING_METRICS_PORT). The ports come from Lading's own configuration loading
// (file, environment), so the check follows whatever the container was configured with.
// Exit 0 healthy, 1 unhealthy (Docker's convention).
import { loadConfig } from '../dist/config/load.js';

const TIMEOUT_MS = 5000;

/** The address to reach a server bound to `host` from inside its own container. */
function localAddress(host) {
  if (host === '0.0.0.0' || host === '' || host === undefined) return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function target(config) {
  if (config.roles.includes('api')) return `http://${localAddress(config.listen.host)}:${config.listen.port}/health`;
  const metrics = config.metrics;
  if (metrics?.port) return `http://${localAddress(metrics.host ?? config.listen.host)}:${metrics.port}/health`;
  return undefined;
}

let url;
try {
  url = target(loadConfig());
} catch (e) {
  console.error(`unhealthy: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
if (url === undefined) {
  console.log('healthy: no HTTP endpoint to probe in this process (set LADING_METRICS_PORT to serve /health)');
  process.exit(0);
}
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!res.ok) {
    console.error(`unhealthy: ${url} answered ${res.status}`);
    process.exit(1);
  }
  console.log(`healthy: ${url} answered ${res.status}`);
} catch (e) {
  console.error(`unhealthy: ${url}: ${e instanceof Error ? (e.cause?.message ?? e.message) : String(e)}`);
  process.exit(1);
}
