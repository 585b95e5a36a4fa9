/**
 * The parts of undici the registry client uses (Agent, ProxyAgent, request), loaded from undici's
 * own files rather than its index. The index also loads fetch, WebSocket, EventSource, the mock
 * agents, caches and interceptors: about 0.1 s of CPU at the start of every command that pulls an
 * image, more than the rest of a warm `lading sbom`'s own work. What undici's index does for these
 * three is done here the same way (the request methods on Dispatcher's prototype, the URL split).
 */
import type { Agent as AgentClass, Dispatcher, ProxyAgent as ProxyAgentClass } from 'undici';
import AgentImpl from 'undici/lib/dispatcher/agent.js';
import DispatcherImpl from 'undici/lib/dispatcher/dispatcher.js';
import ProxyAgentImpl from 'undici/lib/dispatcher/proxy-agent.js';
import api from 'undici/lib/api/index.js';

// As undici's index: request, stream, pipeline, upgrade and connect (ProxyAgent tunnels with connect).
Object.assign(DispatcherImpl.prototype, api);

export const Agent: typeof AgentClass = AgentImpl;
export const ProxyAgent: typeof ProxyAgentClass = ProxyAgentImpl;

export type RequestOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path'> & { dispatcher: Dispatcher };

/** undici's `request(url, { dispatcher, ... })`: the same call on the given dispatcher. */
export function request(url: URL, options: RequestOptions): Promise<Dispatcher.ResponseData> {
  const { dispatcher, ...rest } = options;
  return dispatcher.request({ ...rest, origin: url.origin, path: url.search ? `${url.pathname}${url.search}` : url.pathname });
}
