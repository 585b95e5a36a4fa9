/**
 * End-of-life gates: names old bundles still use. Rules naming them parse (their parameters are
 * not checked), are reported as end-of-life, and never fire.
 */
import { defineGate, defineTrigger, type GateDef } from '../gate.js';

function eolGate(name: string, description: string, supersededBy: string | undefined, triggers: [string, string][]): GateDef {
  return defineGate({
    name,
    description,
    state: 'eol',
    ...(supersededBy ? { supersededBy } : {}),
    triggers: Object.fromEntries(triggers.map(([t, d]) => [t, defineTrigger({ name: t, description: d, state: 'eol', params: {}, evaluate() {} })])),
  });
}

export const eolGates: GateDef[] = [
  eolGate('anchoresec', 'Vulnerability checks on distribution packages (end of life).', 'vulnerabilities', [
    ['vulnlow', 'Low severity vulnerabilities found.'],
    ['vulnmedium', 'Medium severity vulnerabilities found.'],
    ['vulnhigh', 'High severity vulnerabilities found.'],
    ['vulncritical', 'Critical severity vulnerabilities found.'],
    ['vulnunknown', 'Unknown or negligible severity vulnerabilities found.'],
    ['feedoutofdate', 'Vulnerability data older than a number of days.'],
    ['unsupporteddistro', 'No vulnerability data for the distribution.'],
  ]),
  eolGate('dockerfilecheck', 'Dockerfile instruction checks (end of life).', 'dockerfile', [
    ['directivecheck', 'An instruction meets a condition.'],
    ['effectiveuser', 'The effective user is root or not allowed.'],
    ['expose', 'Exposed ports not allowed, or forbidden.'],
    ['nofrom', 'No FROM line.'],
    ['fromscratch', 'FROM scratch.'],
    ['notag', 'FROM without an explicit tag.'],
    ['sudo', 'Instructions run sudo.'],
    ['volumepresent', 'A VOLUME line is present.'],
    ['nohealthcheck', 'No HEALTHCHECK instruction.'],
    ['nodockerfile', 'Analysed without an actual Dockerfile.'],
  ]),
  eolGate('filecheck', 'File checks (end of life).', 'files', [
    ['contentmatch', 'The content search found matches.'],
    ['filenamematch', 'A file name matches a regex.'],
    ['suidsgidcheck', 'Files with setuid or setgid bits.'],
  ]),
  eolGate('fileparse_passwd', '/etc/passwd checks (end of life).', 'passwd_file', [
    ['filenotstored', '/etc/passwd was not stored.'],
    ['usernamematch', 'A user name is present.'],
    ['useridmatch', 'A user id is present.'],
    ['groupidmatch', 'A group id is present.'],
    ['shellmatch', 'A login shell is used.'],
    ['pentrymatch', 'A whole entry is present.'],
  ]),
  eolGate('gemcheck', 'Ruby gem checks (end of life).', 'ruby_gems', [
    ['gemnotlatest', 'A gem is not the latest version.'],
    ['gemnotofficial', 'A gem is not in the gem feed.'],
    ['gembadversion', 'A gem version is not in the gem feed.'],
    ['gempkgfullmatch', 'A gem name and version is present.'],
    ['gempkgnamematch', 'A gem name is present.'],
    ['gemnofeed', 'The gem feed is not available.'],
  ]),
  eolGate('npmcheck', 'npm checks (end of life).', 'npms', [
    ['npmnotlatest', 'An npm package is not the latest version.'],
    ['npmnotofficial', 'An npm package is not in the npm feed.'],
    ['npmbadversion', 'An npm version is not in the npm feed.'],
    ['npmpkgfullmatch', 'An npm name and version is present.'],
    ['npmpkgnamematch', 'An npm name is present.'],
    ['npmnofeed', 'The npm feed is not available.'],
  ]),
  eolGate('metadatacheck', 'Image metadata checks (end of life).', 'metadata', [
    ['attributecheck', 'An image attribute meets a condition.'],
  ]),
  eolGate('licblacklist', 'License blacklists (end of life).', 'licenses', [
    ['licfullmatch', 'A package has a license (exact match).'],
    ['licsubmatch', 'A package has a license (substring match).'],
  ]),
  eolGate('pkgblacklist', 'Package blacklists (end of life).', 'packages', [
    ['pkgfullmatch', 'A package name and version is present.'],
    ['pkgnamematch', 'A package name is present.'],
  ]),
  eolGate('pkgcheck', 'Package checks (end of life).', 'packages', [
    ['pkgnotpresent', 'A package is not installed.'],
    ['verify', 'Package files differ from the package database.'],
  ]),
  eolGate('secretcheck', 'Secret checks (end of life).', 'secret_scans', [
    ['contentmatch', 'The secret search found matches.'],
    ['filenamematch', 'A file name matches a regex.'],
  ]),
  eolGate('suiddiff', 'Setuid file differences from the base image (end of life).', undefined, [
    ['suiddiff', 'Any of the other suiddiff triggers fired.'],
    ['suidfileadd', 'A setuid file the base image lacks.'],
    ['suidfiledel', 'A setuid file of the base image is gone.'],
    ['suidmodediff', 'A setuid file\'s mode differs from the base image.'],
  ]),
  eolGate('imagecheck', 'Image ancestry checks (end of life).', undefined, [
    ['baseoutofdate', 'The base image was updated since the image was built.'],
  ]),
  eolGate('pkgdiff', 'Package differences from the base image (end of life).', undefined, [
    ['pkgversiondiff', 'A package version differs from the base image.'],
    ['pkgadd', 'A package the base image lacks.'],
    ['pkgdel', 'A package of the base image is gone.'],
    ['pkgdiff', 'Any of the other pkgdiff triggers fired.'],
  ]),
];
