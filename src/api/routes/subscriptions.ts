/**
 * Subscriptions (list, add, get, update, delete: every answer a SubscriptionList, as Anchore's)
 * and `POST /repositories`, which lists a repository's tags with the registry and stores (or, with
 * dryrun, only shows) its repo_update subscription.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { LadingError } from '../../errors.js';
import type { RegistryClient } from '../../image/registry/client.js';
import { registryClient } from '../../image/sources/index.js';
import { parseReference } from '../../image/reference.js';
import { anchoreTag, parseTag } from '../../policy/index.js';
import { RegistryStore, withRegistryAccess } from '../../services/registries.js';
import {
  SUBSCRIPTION_TYPES, subscriptionId, type RepoUpdateValue, type Subscription, type SubscriptionType,
} from '../../store/subscriptions.js';
import { ApiError, STATUS_FOR_CODE } from '../errors.js';
import { parseInput } from '../validate.js';
import type { ApiDeps } from '../app.js';
import { accountOf } from '../context.js';
import { isoZ } from '../views.js';

/** A boolean query parameter as clients send it: true/false, True/False (anchore-cli), 1/0. */
export const boolParam = z.enum(['true', 'false', 'True', 'False', '1', '0']).transform((v) => v === 'true' || v === 'True' || v === '1');

const typeSchema = z.enum(SUBSCRIPTION_TYPES);
const idParams = z.object({ subscriptionId: z.string().regex(/^[0-9a-f]{32}$/, 'expected a subscription id (32 hex digits)') });
const listQuery = z.object({ subscription_key: z.string().min(1).optional(), subscription_type: typeSchema.optional() });
const addBody = z.object({
  subscription_key: z.string().min(1),
  subscription_type: typeSchema,
  subscription_value: z.string().nullable().optional(),
  active: z.boolean().optional(),
});
/** Only active and the value change; anchore-cli also sends the key and type, which are ignored. */
const updateBody = z.object({
  subscription_value: z.string().nullable().optional(),
  active: z.boolean().optional(),
  subscription_key: z.string().optional(),
  subscription_type: z.string().optional(),
});
const repoQuery = z.object({
  repository: z.string().min(1),
  autosubscribe: boolParam.optional(),
  lookuptag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/, 'expected a tag name').optional(),
  dryrun: boolParam.optional(),
});

export function subscriptionView(s: Subscription): Record<string, unknown> {
  return {
    subscription_id: s.subscriptionId,
    userId: s.account,
    subscription_type: s.type,
    subscription_key: s.key,
    subscription_value: s.value,
    active: s.active,
    created_at: isoZ(s.createdAt),
    last_updated: isoZ(s.lastUpdated),
  };
}

function reference(text: string, what: string) {
  try {
    return parseReference(text);
  } catch (e) {
    if (e instanceof LadingError) throw new ApiError(400, `${what}: ${e.message}`);
    throw e;
  }
}

/** A repository as the user gave it → where its tags are listed, and its key (`registry/repo`, Anchore's form). */
function repository(text: string): { registry: string; path: string; key: string } {
  const ref = reference(text, 'repository');
  if (text.includes('@') || text.slice(text.lastIndexOf('/') + 1).includes(':')) throw new ApiError(400, `repository: "${text}" names a tag or digest; give registry/repo only`);
  const t = parseTag(anchoreTag(`${ref.registry}/${ref.repository}`));
  return { registry: ref.registry, path: ref.repository, key: `${t.registry}/${t.repo}` };
}

/** A key fits its type: a tag for the tag subscriptions, registry/repo for repo_update, whose value is a JSON object. */
function checkSubscription(type: SubscriptionType, key: string, value: string | null | undefined): void {
  if (type === 'repo_update') {
    repository(key);
    if (value !== undefined && value !== null) {
      let doc: unknown;
      try {
        doc = JSON.parse(value);
      } catch {
        doc = undefined;
      }
      if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new ApiError(400, 'subscription_value: a repo_update value is a JSON object such as {"autosubscribe": false, "lookuptag": "latest"}');
    }
    return;
  }
  if (reference(key, 'subscription_key').digest !== undefined) throw new ApiError(400, `subscription_key: a ${type} subscription names a tag (registry/repo:tag), not a digest`);
}

/** Tags of a repository from its registry, with the account's registry credentials; a registry's refusal is a 4xx with its message. */
async function listRepositoryTags(deps: ApiDeps, registries: RegistryStore, account: string, repo: { registry: string; path: string }): Promise<string[]> {
  let client: RegistryClient | undefined;
  try {
    const access = await registries.registryCredentialsFor(account, { registry: repo.registry, repository: repo.path });
    const so = withRegistryAccess(deps.sourceOptions ?? {}, access);
    client = registryClient(repo.registry, so);
    return (await client.listTags(repo.path)).sort();
  } catch (e) {
    if (e instanceof LadingError && e.code !== 'INTERNAL') {
      const status = STATUS_FOR_CODE[e.code] ?? 400;
      throw new ApiError(status, `cannot list the tags of ${repo.registry}/${repo.path}: ${e.message}`, { error_code: e.code });
    }
    throw e;
  } finally {
    await client?.close();
  }
}

export function subscriptionsRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const { subscriptions: store, registries } = deps;

  const mustGet = async (req: FastifyRequest): Promise<{ account: string; sub: Subscription }> => {
    const account = await accountOf(req, deps);
    const { subscriptionId: id } = parseInput(idParams, req.params, 'path');
    const sub = await store.get(account, id);
    if (!sub) throw new ApiError(404, `no subscription ${id}`);
    return { account, sub };
  };

  app.get('/subscriptions', async (req) => {
    const account = await accountOf(req, deps, 'read');
    const q = parseInput(listQuery, req.query, 'query');
    const subs = await store.list(account, {
      ...(q.subscription_key !== undefined ? { key: q.subscription_key } : {}),
      ...(q.subscription_type !== undefined ? { type: q.subscription_type } : {}),
    });
    return subs.map(subscriptionView);
  });

  app.post('/subscriptions', async (req) => {
    const account = await accountOf(req, deps, 'write');
    const body = parseInput(addBody, req.body, 'request body');
    checkSubscription(body.subscription_type, body.subscription_key, body.subscription_value);
    const sub = await store.add(account, {
      key: body.subscription_key,
      type: body.subscription_type,
      value: body.subscription_value ?? null,
      active: body.active ?? false,
    });
    if (!sub) {
      const id = subscriptionId(account, body.subscription_key, body.subscription_type);
      throw new ApiError(409, `a ${body.subscription_type} subscription for ${body.subscription_key} already exists (${id})`);
    }
    return [subscriptionView(sub)];
  });

  app.get('/subscriptions/:subscriptionId', async (req) => [subscriptionView((await mustGet(req)).sub)]);

  app.put('/subscriptions/:subscriptionId', async (req) => {
    const { account, sub } = await mustGet(req);
    const body = parseInput(updateBody, req.body, 'request body');
    if (body.subscription_value !== undefined) checkSubscription(sub.type, sub.key, body.subscription_value);
    const updated = await store.update(account, sub.subscriptionId, {
      ...(body.active !== undefined ? { active: body.active } : {}),
      ...(body.subscription_value !== undefined ? { value: body.subscription_value } : {}),
    });
    if (!updated) throw new ApiError(404, `no subscription ${sub.subscriptionId}`);
    return [subscriptionView(updated)];
  });

  app.delete('/subscriptions/:subscriptionId', async (req, reply) => {
    const { account, sub } = await mustGet(req);
    if (!(await store.delete(account, sub.subscriptionId))) throw new ApiError(404, `no subscription ${sub.subscriptionId}`);
    return reply.code(200).send();
  });

  app.post('/repositories', async (req) => {
    const account = await accountOf(req, deps, 'write');
    const q = parseInput(repoQuery, req.query, 'query');
    const repo = repository(q.repository);
    const tags = await listRepositoryTags(deps, registries, account, repo);
    const value: RepoUpdateValue = { autosubscribe: q.autosubscribe ?? false, lookuptag: q.lookuptag ?? 'latest', tagcount: tags.length };
    let sub: Subscription;
    if (q.dryrun) {
      sub = store.draft(account, { key: repo.key, type: 'repo_update', value: JSON.stringify(value), active: false });
    } else {
      const existing = await store.get(account, subscriptionId(account, repo.key, 'repo_update'));
      if (existing) {
        const merged = { ...(existing.value ? JSON.parse(existing.value) as object : {}), ...value };
        sub = (await store.update(account, existing.subscriptionId, { value: JSON.stringify(merged) }))!;
      } else {
        sub = (await store.add(account, { key: repo.key, type: 'repo_update', value: JSON.stringify(value), active: true }))
          ?? (await store.get(account, subscriptionId(account, repo.key, 'repo_update')))!;
      }
    }
    // As Anchore's: the answer's value also lists the tags found (they are not stored).
    return [{ ...subscriptionView(sub), subscription_value: JSON.stringify({ ...JSON.parse(sub.value ?? '{}') as object, repotags: tags }) }];
  });
}
