/**
 * `lading query images-by-vulnerability|images-by-package`: which images in the service are
 * affected by a vulnerability, or contain a package (`/query/images/...`).
 */
import { Command } from 'commander';
import { addConnectionOptions } from '../client/connection.js';
import { parseBool, sortedTable, withService } from '../client/output.js';
import type { QueryPage } from '../client/shapes.js';

export function byVulnerabilityText(page: QueryPage): string {
  const rows = (page.images ?? []).flatMap((r) => (r.image?.tag_history ?? []).flatMap((t) => (r.vulnerable_packages ?? []).map((p) =>
    [t.fulltag ?? 'N/A', p.severity ?? 'N/A', `${p.name}-${p.version}`, p.type, p.namespace ?? 'N/A', r.image?.imageDigest ?? 'N/A'])));
  return sortedTable(['Full Tag', 'Severity', 'Package', 'Package Type', 'Namespace', 'Digest'], rows);
}

export function byPackageText(page: QueryPage): string {
  const rows = (page.images ?? []).flatMap((r) => (r.image?.tag_history ?? []).flatMap((t) => (r.packages ?? []).map((p) =>
    [t.fulltag ?? 'N/A', `${p.name}-${p.version}`, p.type, r.image?.imageDigest ?? 'N/A'])));
  return sortedTable(['Full Tag', 'Package', 'Package Type', 'Digest'], rows);
}

export function queryCommand(): Command {
  const group = new Command('query').description('search the images of a Lading service');

  addConnectionOptions(group.command('images-by-vulnerability'))
    .description('images affected by a vulnerability')
    .requiredOption('--vulnerability-id <id>', 'CVE-…, GHSA-…')
    .option('--namespace <ns>', 'only this feed namespace (debian:12, github:npm, ...)')
    .option('--package <name>', 'only this affected package')
    .option('--severity <level>', 'only this severity')
    .option('--vendor-only <bool>', 'leave out what the vendor will not fix', parseBool, true)
    .action(async (o: { vulnerabilityId: string; namespace?: string; package?: string; severity?: string; vendorOnly: boolean }, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const r = await svc.client.get<QueryPage>('/query/images/by_vulnerability', {
          vulnerability_id: o.vulnerabilityId, namespace: o.namespace, affected_package: o.package, severity: o.severity, vendor_only: o.vendorOnly,
        });
        svc.print(r, () => byVulnerabilityText(r));
      });
    });

  addConnectionOptions(group.command('images-by-package'))
    .description('images that contain a package')
    .requiredOption('--name <name>', 'package name')
    .option('--version <version>', 'only this version')
    .option('--package-type <type>', 'only this type (dpkg, rpm, npm, python, java, ...)')
    .action(async (o: { name: string; version?: string; packageType?: string }, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const r = await svc.client.get<QueryPage>('/query/images/by_package', { name: o.name, version: o.version, package_type: o.packageType });
        svc.print(r, () => byPackageText(r));
      });
    });
  return group;
}
