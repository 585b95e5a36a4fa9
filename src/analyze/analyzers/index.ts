/**
 * The registry map of ecosystem analyzers: adding an ecosystem is one file in this folder and one
 * line here. Secrets, content search and retrieved files are configured per run (see analyze.ts).
 */
import type { Analyzer } from '../types.js';
import { distroAnalyzer } from './distro.js';
import { dpkgAnalyzer } from './dpkg.js';
import { apkAnalyzer } from './apk.js';
import { npmAnalyzer } from './npm.js';
import { npmLockAnalyzer } from './npm-lock.js';
import { yarnLockAnalyzer } from './yarn-lock.js';
import { pnpmLockAnalyzer } from './pnpm-lock.js';
import { pythonAnalyzer } from './python.js';
import { pipfileLockAnalyzer } from './pipfile-lock.js';
import { poetryLockAnalyzer } from './poetry-lock.js';
import { gemAnalyzer } from './gem.js';
import { gemfileLockAnalyzer } from './gemfile-lock.js';
import { rpmAnalyzer } from './rpm.js';
import { javaAnalyzer } from './java.js';
import { goAnalyzer } from './go.js';
import { gomodAnalyzer } from './gomod.js';
import { rustAnalyzer } from './rust.js';
import { dotnetAnalyzer } from './dotnet.js';
import { phpAnalyzer } from './php.js';

export { distroAnalyzer };

export const ANALYZERS: Analyzer[] = [
  distroAnalyzer,
  dpkgAnalyzer,
  apkAnalyzer,
  rpmAnalyzer,
  npmAnalyzer,
  npmLockAnalyzer,
  yarnLockAnalyzer,
  pnpmLockAnalyzer,
  pythonAnalyzer,
  pipfileLockAnalyzer,
  poetryLockAnalyzer,
  gemAnalyzer,
  gemfileLockAnalyzer,
  javaAnalyzer,
  goAnalyzer,
  gomodAnalyzer,
  rustAnalyzer,
  dotnetAnalyzer,
  phpAnalyzer,
];
