import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** hookgate's `lambda/` folder: beside `lib/` in the repository, and in the package's `dist/`. */
export const LAMBDA_DIR = join(__dirname, '..', '..', 'lambda');

/**
 * The path of a module under hookgate's `lambda/` folder, for NodejsFunction to bundle:
 * `lambdaEntry('verifier', 'index')`. The TypeScript source in the repository (tests, the
 * reference app run by tsx), the compiled `.js` when hookgate is an installed package, whose
 * `dist/` holds JavaScript only.
 */
export function lambdaEntry(...segments: readonly string[]): string {
  const base = join(LAMBDA_DIR, ...segments);
  const source = `${base}.ts`;
  return existsSync(source) ? source : `${base}.js`;
}
