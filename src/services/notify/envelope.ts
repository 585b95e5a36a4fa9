/**
 * What a notification looks like on the wire (Anchore's envelope, reference §4.4), where it goes
 * (the `webhooks` configuration: the type's own destination and the general one), and the
 * synthetic payloads POST /system/webhooks/{type}/test sends.
 */
import type { LadingConfig, NotificationType } from '../../config/schema.js';

export type WebhooksConfig = LadingConfig['webhooks'];
/** A destination name: `general` (webhooks.url) or a notification type (webhooks.types.<type>). */
export type TargetName = 'general' | NotificationType;

export interface Destination {
  /** The configured URL, placeholders not yet replaced. */
  url: string;
  auth?: { username: string; password: string };
  verifyTls: boolean;
}

/** The configured destination of this name, or undefined when it has no URL. */
export function destinationOf(webhooks: WebhooksConfig, name: TargetName): Destination | undefined {
  const own = name === 'general' ? undefined : webhooks.types[name];
  const url = name === 'general' ? webhooks.url : own?.url;
  if (!url) return undefined;
  const username = own?.username ?? webhooks.username;
  const password = own?.password ?? webhooks.password;
  return {
    url,
    ...(username !== undefined && password !== undefined ? { auth: { username, password } } : {}),
    verifyTls: own?.verify_tls ?? webhooks.verify_tls,
  };
}

/** Where a notification of this type goes: its own destination and the general one, each when configured. */
export function targetsFor(webhooks: WebhooksConfig, type: NotificationType): TargetName[] {
  return ([type, 'general'] as TargetName[]).filter((n) => destinationOf(webhooks, n) !== undefined);
}

/** Replace `<account>`, `<userId>` and `<notification_type>` in a configured URL. */
export function substitute(url: string, account: string, notificationType: string): string {
  return url.replaceAll('<account>', account).replaceAll('<userId>', account).replaceAll('<notification_type>', notificationType);
}

/** A URL as logged: no user name or password. */
export function withoutCredentials(url: URL): string {
  const u = new URL(url.href);
  u.username = '';
  u.password = '';
  return u.href;
}

export interface EnvelopeInput {
  id: string;
  account: string;
  email: string | null;
  type: NotificationType;
  subscriptionKey: string;
  payload: Record<string, unknown>;
  createdAt: string;
  lastUpdated: string;
  /** Attempts made before this one. */
  tries: number;
  deadline: string;
}

const RESERVED_PAYLOAD_KEYS = new Set(['userId', 'subscription_key', 'subscription_type', 'notificationId']);

function epochSeconds(iso: string): number {
  return Math.floor(new Date(iso).getTime() / 1000);
}

/** Anchore's notification body: the queue record around `data.notification_payload`. */
export function envelope(n: EnvelopeInput): Record<string, unknown> {
  const rest = Object.fromEntries(Object.entries(n.payload).filter(([k]) => !RESERVED_PAYLOAD_KEYS.has(k)));
  return {
    queueId: n.type,
    userId: n.account,
    dataId: n.id,
    created_at: epochSeconds(n.createdAt),
    last_updated: epochSeconds(n.lastUpdated),
    record_state_key: 'active',
    record_state_val: null,
    tries: n.tries,
    max_tries: epochSeconds(n.deadline),
    data: {
      notification_user: n.account,
      notification_user_email: n.email,
      notification_type: n.type,
      notification_payload: {
        userId: n.account,
        subscription_key: n.subscriptionKey,
        subscription_type: n.type,
        notificationId: n.id,
        ...rest,
      },
    },
  };
}

const TEST_TAG = 'docker.io/library/test:latest';
const TEST_DIGEST = 'test_image_digest';

/** The synthetic notification the test endpoint sends for each type: subscription key and payload. */
export function testNotification(type: NotificationType, account: string, now: string): { subscriptionKey: string; payload: Record<string, unknown> } {
  const annotations = ['test'];
  switch (type) {
    case 'tag_update':
      return { subscriptionKey: TEST_TAG, payload: { last_eval: [], curr_eval: [TEST_DIGEST], annotations } };
    case 'analysis_update':
      return {
        subscriptionKey: TEST_TAG,
        payload: {
          last_eval: { imageDigest: TEST_DIGEST, analysis_status: 'analyzing', annotations },
          curr_eval: { imageDigest: TEST_DIGEST, analysis_status: 'analyzed', annotations },
          annotations,
        },
      };
    case 'vuln_update':
      return {
        subscriptionKey: TEST_TAG,
        payload: {
          imageDigest: TEST_DIGEST,
          diff_vulnerability_result: {
            added: [{
              CVE_ID: 'CVE-0000-0000', Severity: 'High', Vulnerable_Package: 'test-1.0', Fix_Available: '1.1', URL: 'https://example.com/CVE-0000-0000',
              Package_Name: 'test', Package_Version: '1.0', Package_Type: 'dpkg', Feed: 'vulnerabilities', Feed_Group: 'debian:12',
            }],
            updated: [],
            removed: [],
          },
          annotations,
        },
      };
    case 'policy_eval':
      return {
        subscriptionKey: TEST_TAG,
        payload: {
          last_eval: { image_digest: TEST_DIGEST, status: 'pass', annotations },
          curr_eval: { image_digest: TEST_DIGEST, status: 'fail', annotations },
          annotations,
        },
      };
    case 'event_log':
      return {
        subscriptionKey: 'info',
        payload: {
          type: 'system.webhooks.test',
          level: 'info',
          message: 'test notification',
          details: {},
          timestamp: now.replace(/Z$/, ''),
          resource: { user_id: account, type: 'webhook', id: 'test' },
          source: { servicename: 'lading', hostid: 'lading', base_url: 'N/A', request_id: null },
        },
      };
  }
}
