/**
 * Registries: the credentials an account pulls with (services/registries.ts). GET /registries,
 * POST /registries?validate=, GET/PUT/DELETE /registries/{registry}. The registry in the path is
 * URL-encoded (`127.0.0.1%3A5000%2Fteam%2A`); raw slashes are accepted too. Responses are
 * Anchore's RegistryConfiguration list and never carry the password. `registry_ca_cert` (PEM, a
 * Lading extension) is the CA a registry's certificate is checked against, on top of the system ones.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { LadingError } from '../../errors.js';
import { REGISTRY_TYPES, caCertProblem, registryProblem, type RegistryInput, type RegistryRecord } from '../../services/registries.js';
import { ApiError } from '../errors.js';
import { parseInput } from '../validate.js';
import type { ApiDeps } from '../app.js';
import { accountOf } from '../context.js';
import { isoZ } from '../views.js';

const fields = {
  registry: z.string().min(1).max(1024),
  registry_user: z.string().min(1).max(1024),
  registry_pass: z.string().min(1).max(16 * 1024),
  registry_type: z.enum(REGISTRY_TYPES),
  registry_name: z.string().min(1).max(256).nullable(),
  registry_verify: z.boolean(),
  /** A Lading extension: the CA certificates (PEM) this registry's certificate is checked against. */
  registry_ca_cert: z.string().max(64 * 1024).nullable(),
};

const createSchema = z.strictObject({
  ...fields,
  registry_type: fields.registry_type.default('docker_v2'),
  registry_name: fields.registry_name.optional(),
  registry_verify: fields.registry_verify.default(true),
  registry_ca_cert: fields.registry_ca_cert.optional(),
});

/** PUT: what is left out keeps its stored value. */
const updateSchema = z.strictObject({
  registry: fields.registry.optional(),
  registry_user: fields.registry_user.optional(),
  registry_pass: fields.registry_pass.optional(),
  registry_type: fields.registry_type.optional(),
  registry_name: fields.registry_name.optional(),
  registry_verify: fields.registry_verify.optional(),
  /** null removes the record's CA. */
  registry_ca_cert: fields.registry_ca_cert.optional(),
});

function validateQuery(req: FastifyRequest): boolean {
  const v = (req.query as Record<string, unknown>).validate;
  if (v === undefined) return true;
  if (typeof v === 'string' && /^(true|1)$/i.test(v)) return true;
  if (typeof v === 'string' && /^(false|0)$/i.test(v)) return false;
  throw new ApiError(400, 'validate: expected true or false');
}

function checkRegistry(registry: string): string {
  const problem = registryProblem(registry);
  if (problem) throw new ApiError(400, problem);
  return registry;
}

/** The CA text as stored: undefined for none; a 400 when it is not PEM certificates. */
function caCert(pem: string | null | undefined): string | undefined {
  if (!pem) return undefined;
  const problem = caCertProblem(pem);
  if (problem) throw new ApiError(400, problem);
  return pem;
}

function withCa(pem: string | undefined): { caCert?: string } {
  return pem ? { caCert: pem } : {};
}

function registryParam(req: FastifyRequest): string {
  const p = req.params as { registry?: string; '*'?: string };
  return checkRegistry(p.registry ?? p['*'] ?? '');
}

/** Anchore's RegistryConfiguration. */
function registryView(r: RegistryRecord): Record<string, unknown> {
  return {
    registry: r.registry,
    userId: r.account,
    registry_user: r.user,
    registry_verify: r.verify,
    registry_type: r.type,
    registry_name: r.name,
    registry_ca_cert: r.caCert ?? null,
    created_at: isoZ(r.createdAt),
    last_updated: isoZ(r.lastUpdated),
  };
}

/** Refusals first (406 for awsauto), then the login check when asked (406 with the registry's answer). */
function admitter(store: ApiDeps['registries']) {
  return async (input: RegistryInput, validate: boolean): Promise<void> => {
    const problem = store.usageProblem(input);
    if (problem) throw new ApiError(problem.status === 'forbidden' ? 406 : 400, problem.message);
    store.requireEncryption();
    if (!validate) return;
    try {
      await store.validate(input);
    } catch (e) {
      if (!(e instanceof LadingError) || e.code === 'INTERNAL') throw e;
      if (e.code === 'BAD_INPUT') throw new ApiError(400, e.message);
      if (e.code === 'DESTINATION_DENIED') throw new ApiError(403, e.message, { error_code: e.code });
      if (e.code === 'TLS' || e.code === 'NETWORK') throw new ApiError(406, `cannot log in to registry ${input.registry}: ${e.message}`, { error_code: e.code });
      throw new ApiError(406, `cannot log in to registry ${input.registry} with the supplied credentials: ${e.message}`, { error_code: e.code });
    }
  };
}

export function registriesRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const store = deps.registries;
  const admit = admitter(store);

  app.get('/registries', async (req) => {
    const account = await accountOf(req, deps, 'read');
    return (await store.list(account)).map(registryView);
  });

  app.post('/registries', async (req) => {
    const account = await accountOf(req, deps, 'write');
    const validate = validateQuery(req);
    const body = parseInput(createSchema, req.body, 'request body');
    const input: RegistryInput = {
      registry: checkRegistry(body.registry),
      ...(body.registry_name ? { name: body.registry_name } : {}),
      type: body.registry_type,
      user: body.registry_user,
      pass: body.registry_pass,
      verify: body.registry_verify,
      ...withCa(caCert(body.registry_ca_cert)),
    };
    if (await store.get(account, input.registry)) throw new ApiError(409, 'registry already exists in DB');
    await admit(input, validate);
    const added = await store.add(account, input);
    if (!added) throw new ApiError(409, 'registry already exists in DB');
    return [registryView(added)];
  });

  const getOne = async (req: FastifyRequest) => {
    const account = await accountOf(req, deps, 'read');
    const registry = registryParam(req);
    const found = await store.get(account, registry);
    if (!found) throw new ApiError(404, `registry ${registry} not found`);
    return [registryView(found)];
  };

  const updateOne = async (req: FastifyRequest) => {
    const account = await accountOf(req, deps, 'write');
    const registry = registryParam(req);
    const validate = validateQuery(req);
    const body = parseInput(updateSchema, req.body, 'request body');
    if (body.registry !== undefined && body.registry !== registry) throw new ApiError(400, `registry in the body (${body.registry}) is not the one in the path (${registry})`);
    const current = await store.get(account, registry);
    if (!current) throw new ApiError(404, `registry ${registry} not found`);
    const name = body.registry_name === undefined ? current.name : body.registry_name ?? registry;
    const input: RegistryInput = {
      registry,
      name,
      type: body.registry_type ?? current.type,
      user: body.registry_user ?? current.user,
      pass: body.registry_pass ?? (await store.password(account, registry))!,
      verify: body.registry_verify ?? current.verify,
      ...withCa(body.registry_ca_cert === undefined ? current.caCert : caCert(body.registry_ca_cert)),
    };
    await admit(input, validate);
    const updated = await store.update(account, input);
    if (!updated) throw new ApiError(404, `registry ${registry} not found`);
    return [registryView(updated)];
  };

  const deleteOne = async (req: FastifyRequest) => {
    const account = await accountOf(req, deps, 'write');
    const registry = registryParam(req);
    if (!(await store.delete(account, registry))) throw new ApiError(404, `registry ${registry} not found`);
    return true;
  };

  // `:registry` takes the encoded form (%2F); `*` takes a path with raw slashes.
  for (const path of ['/registries/:registry', '/registries/*']) {
    app.get(path, getOne);
    app.put(path, updateOne);
    app.delete(path, deleteOne);
  }
}
