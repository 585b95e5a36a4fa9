/**
 * `syft-json`: syft's own JSON (the shape of `syft -o json`, schema 16), for tools that read it
 * (grype, `syft convert`). Each package is an artifact with its locations (layerID: the layer's
 * diff_id, as syft writes it), licences, CPEs, purl and the OS details in syft's metadata keys
 * (`source`, `sourceVersion`, `architecture`, `epoch`), so read-syft.ts reads back what was written.
 */
import { isSpdxExpression } from '../licenses.js';
import type { Distro, Package, Sbom } from '../model.js';
import { imageName, imageVersion, sha256Hex, sortPackages, type Json } from './common.js';

export const syftMediaType = 'application/vnd.syft+json';
const SCHEMA_VERSION = '16.0.34';

/** syft's `language` for an artifact type. */
const LANGUAGE: Record<string, string> = {
  npm: 'javascript', python: 'python', gem: 'ruby', 'java-archive': 'java', 'go-module': 'go',
  'rust-crate': 'rust', dotnet: 'dotnet', 'php-composer': 'php',
};

function artifact(p: Package, layerDiffIds: readonly string[]): Json {
  const metadata: Json = {
    ...(p.metadata ?? {}),
    ...(p.sourceName !== undefined ? { source: p.sourceName } : {}),
    ...(p.sourceVersion !== undefined ? { sourceVersion: p.sourceVersion } : {}),
    ...(p.arch !== undefined ? { architecture: p.arch } : {}),
    ...(p.epoch !== undefined ? { epoch: p.epoch } : {}),
  };
  return {
    id: sha256Hex(JSON.stringify([p.type, p.name, p.version, p.purl, p.locations])).slice(0, 16),
    name: p.name,
    version: p.version,
    type: p.type,
    foundBy: p.foundBy,
    locations: p.locations.map((l) => {
      const layerID = l.layerDiffId ?? (l.layer !== undefined ? layerDiffIds[l.layer] : undefined);
      return { path: l.path, ...(layerID ? { layerID } : {}), accessPath: l.path, annotations: { evidence: 'primary' } };
    }),
    licenses: p.licenses.map((l) => ({ value: l, spdxExpression: isSpdxExpression(l) ? l : '', type: 'declared', urls: [], locations: [] })),
    language: LANGUAGE[p.type] ?? '',
    cpes: p.cpes.map((cpe) => ({ cpe, source: 'lading' })),
    purl: p.purl,
    ...(Object.keys(metadata).length ? { metadata } : {}),
  };
}

function distro(d: Distro): Json {
  return {
    ...(d.prettyName ? { prettyName: d.prettyName } : {}),
    name: d.id,
    id: d.id,
    ...(d.versionId ? { version: d.versionId, versionID: d.versionId } : {}),
    ...(d.versionCodename ? { versionCodename: d.versionCodename } : {}),
    idLike: d.idLike,
  };
}

/** The syft JSON document as an object (for tests). */
export function syftDocument(sbom: Sbom): Json {
  const s = sbom.source;
  const diffIds = s.layers.map((l) => l.diffId);
  return {
    artifacts: sortPackages(sbom.packages).map((p) => artifact(p, diffIds)),
    artifactRelationships: [],
    source: {
      id: imageVersion(s),
      name: imageName(s),
      version: imageVersion(s),
      type: 'image',
      metadata: {
        userInput: imageName(s),
        imageID: s.imageId,
        ...(s.manifestDigest ? { manifestDigest: s.manifestDigest } : {}),
        mediaType: s.mediaType,
        tags: s.tags,
        imageSize: s.layers.reduce((n, l) => n + (l.uncompressedSize ?? l.size), 0),
        layers: s.layers.map((l) => ({ mediaType: l.mediaType, digest: l.diffId, size: l.uncompressedSize ?? l.size })),
        architecture: s.platform.architecture,
        ...(s.platform.variant ? { variant: s.platform.variant } : {}),
        os: s.platform.os,
      },
    },
    distro: sbom.distro ? distro(sbom.distro) : {},
    descriptor: { name: 'lading', version: sbom.tool.version },
    schema: { version: SCHEMA_VERSION, url: `https://raw.githubusercontent.com/anchore/syft/main/schema/json/schema-${SCHEMA_VERSION}.json` },
  };
}

export function writeSyftJson(sbom: Sbom): string {
  return `${JSON.stringify(syftDocument(sbom), null, 2)}\n`;
}
