/**
 * `cyclonedx-xml`: CycloneDX 1.6 XML, the same document as `cyclonedx-json` (cyclonedx.ts builds
 * it) written in the XML schema's shape: `bom-ref`, `type` and the hash algorithm as attributes,
 * lists as wrapper elements, and each element's children in the order the XSD's sequence gives.
 * The cyclonedx-library's own XML serializer needs xmlbuilder2, which Lading does not depend on;
 * the few elements written here are written directly.
 */
import type { Sbom } from '../model.js';
import { cycloneDxDocument } from './cyclonedx.js';
import type { Json } from './common.js';

export const cycloneDxXmlMediaType = 'application/vnd.cyclonedx+xml; version=1.6';
export const CYCLONEDX_XML_NAMESPACE = 'http://cyclonedx.org/schema/bom/1.6';

/** Characters XML 1.0 cannot hold at all are dropped; the rest are escaped. */
export function xmlText(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function element(name: string, attrs: Record<string, string | undefined>, children: string[] | string, indent: string): string {
  const a = Object.entries(attrs).filter(([, v]) => v !== undefined).map(([k, v]) => ` ${k}="${xmlText(v!)}"`).join('');
  if (typeof children === 'string') return `${indent}<${name}${a}>${xmlText(children)}</${name}>`;
  if (children.length === 0) return `${indent}<${name}${a}/>`;
  return `${indent}<${name}${a}>\n${children.join('\n')}\n${indent}</${name}>`;
}

const s = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);

function leaf(name: string, v: unknown, indent: string): string[] {
  const text = s(v);
  return text === undefined ? [] : [element(name, {}, text, indent)];
}

function properties(list: unknown, indent: string): string[] {
  const props = arr(list);
  if (props.length === 0) return [];
  const inner = indent + '  ';
  return [element('properties', {}, props.map((p) => element('property', { name: s(p.name) }, s(p.value) ?? '', inner)), indent)];
}

function licenses(list: unknown, indent: string): string[] {
  const items = arr(list);
  if (items.length === 0) return [];
  const i1 = indent + '  ';
  const i2 = i1 + '  ';
  const children = items.map((l) => {
    if (typeof l.expression === 'string') return element('expression', {}, l.expression, i1);
    const lic = (l.license ?? {}) as Json;
    return element('license', {}, [...leaf('id', lic.id, i2), ...leaf('name', lic.name, i2)], i1);
  });
  return [element('licenses', {}, children, indent)];
}

function hashes(list: unknown, indent: string): string[] {
  const items = arr(list);
  if (items.length === 0) return [];
  return [element('hashes', {}, items.map((h) => element('hash', { alg: s(h.alg) }, s(h.content) ?? '', indent + '  ')), indent)];
}

/** A component, children in the XSD's order: name, version, description, hashes, licenses, cpe, purl, properties. */
function component(c: Json, indent: string, tag = 'component'): string {
  const i = indent + '  ';
  return element(tag, { type: s(c.type), 'bom-ref': s(c['bom-ref']) }, [
    ...leaf('name', c.name, i),
    ...leaf('version', c.version, i),
    ...leaf('description', c.description, i),
    ...hashes(c.hashes, i),
    ...licenses(c.licenses, i),
    ...leaf('cpe', c.cpe, i),
    ...leaf('purl', c.purl, i),
    ...properties(c.properties, i),
  ], indent);
}

function metadata(m: Json, indent: string): string {
  const i1 = indent + '  ';
  const tools = arr(((m.tools ?? {}) as Json).components);
  return element('metadata', {}, [
    ...leaf('timestamp', m.timestamp, i1),
    ...(tools.length ? [element('tools', {}, [element('components', {}, tools.map((t) => component(t, i1 + '    ')), i1 + '  ')], i1)] : []),
    ...(m.component ? [component(m.component as Json, i1)] : []),
  ], indent);
}

/** The CycloneDX 1.6 XML text of an SBOM. */
export function writeCycloneDxXml(sbom: Sbom): string {
  const doc = cycloneDxDocument(sbom);
  const body = [
    metadata(doc.metadata as Json, '  '),
    element('components', {}, arr(doc.components).map((c) => component(c, '    ')), '  '),
  ];
  const root = element('bom', { xmlns: CYCLONEDX_XML_NAMESPACE, serialNumber: s(doc.serialNumber), version: String(doc.version) }, body, '');
  return `<?xml version="1.0" encoding="UTF-8"?>\n${root}\n`;
}
