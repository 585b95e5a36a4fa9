/** Types for the undici files ./undici.ts loads directly (undici ships types for its index only). */
declare module 'undici/lib/dispatcher/agent.js' {
  import type { Agent } from 'undici';
  const AgentImpl: typeof Agent;
  export default AgentImpl;
}
declare module 'undici/lib/dispatcher/proxy-agent.js' {
  import type { ProxyAgent } from 'undici';
  const ProxyAgentImpl: typeof ProxyAgent;
  export default ProxyAgentImpl;
}
declare module 'undici/lib/dispatcher/dispatcher.js' {
  const DispatcherImpl: { prototype: object };
  export default DispatcherImpl;
}
declare module 'undici/lib/api/index.js' {
  const api: Record<'request' | 'stream' | 'pipeline' | 'upgrade' | 'connect', unknown>;
  export default api;
}
