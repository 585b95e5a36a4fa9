/** Every migration, by name; names sort in the order they apply. Add a file and a line. */
import type { Migration } from 'kysely';
import * as vulndb from './0001-vulndb.js';
import * as jobs from './0002-jobs.js';
import * as accounts from './0003-accounts.js';
import * as catalog from './0004-catalog.js';
import * as policyEvals from './0005-policy-evals.js';
import * as registries from './0006-registries.js';
import * as subscriptions from './0007-subscriptions-events.js';
import * as imports from './0008-imports.js';
import * as imagePackages from './0009-image-packages.js';
import * as notifications from './0010-notifications.js';
import * as cycles from './0011-cycles.js';
import * as vulnChanges from './0012-vuln-changes.js';
import * as archive from './0013-archive.js';
import * as services from './0014-services.js';
import * as imageSummaries from './0015-image-summaries.js';
import * as findings from './0016-findings.js';
import * as dropRematchIndex from './0017-drop-rematch-index.js';
import * as objectStore from './0018-object-store.js';
import * as findingChanges from './0019-finding-changes.js';
import * as imageListIndex from './0020-image-list-index.js';
import * as imageBases from './0021-image-bases.js';
import * as registryCaCert from './0022-registry-ca-cert.js';
import * as summaryPairIndex from './0023-summary-pair-index.js';
import * as summaryVersions from './0024-summary-versions.js';
import * as imageListSearch from './0025-image-list-search.js';
import * as findingChangeSets from './0026-finding-change-sets.js';
import * as archivedEvaluations from './0027-archived-evaluations.js';

export const MIGRATIONS: Record<string, Migration> = {
  '0001-vulndb': vulndb,
  '0002-jobs': jobs,
  '0003-accounts': accounts,
  '0004-catalog': catalog,
  '0005-policy-evals': policyEvals,
  '0006-registries': registries,
  '0007-subscriptions-events': subscriptions,
  '0008-imports': imports,
  '0009-image-packages': imagePackages,
  '0010-notifications': notifications,
  '0011-cycles': cycles,
  '0012-vuln-changes': vulnChanges,
  '0013-archive': archive,
  '0014-services': services,
  '0015-image-summaries': imageSummaries,
  '0016-findings': findings,
  '0017-drop-rematch-index': dropRematchIndex,
  '0018-object-store': objectStore,
  '0019-finding-changes': findingChanges,
  '0020-image-list-index': imageListIndex,
  '0021-image-bases': imageBases,
  '0022-registry-ca-cert': registryCaCert,
  '0023-summary-pair-index': summaryPairIndex,
  '0024-summary-versions': summaryVersions,
  '0025-image-list-search': imageListSearch,
  '0026-finding-change-sets': findingChangeSets,
  '0027-archived-evaluations': archivedEvaluations,
};
