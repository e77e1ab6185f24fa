// Bundles each service's own code (services/<name>/src and libs/, generated proto code included)
// into one ES module, .local/build/<name>.mjs, so that a process starts without tsx compiling and
// resolving some hundred TypeScript files: under load that was most of a restart (see
// docs/RELIABILITY.md, "Start-up time"). Packages stay in node_modules, loaded as usual (native
// ones such as better-sqlite3, and those that read files beside their own code). Each bundled file
// keeps its own import.meta.url, so public/, openapi.json and proto/ are found where they are.
//   node --import tsx scripts/build-services.ts [service…]   (every service when none is named)
// Development keeps running the sources with tsx; the fault suite runs the bundles.
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';

const ROOT = path.resolve(import.meta.dirname, '..');
export const BUILD_DIR = path.join(ROOT, '.local', 'build');

/** import.meta.url and import.meta.dirname of each source file, not of the bundle. */
const ownLocation: Plugin = {
  name: 'own-location',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      const contents = text
        .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href))
        .replaceAll('import.meta.dirname', JSON.stringify(path.dirname(args.path)));
      return { contents, loader: 'ts' };
    });
  },
};

export function serviceNames(): string[] {
  const dir = path.join(ROOT, 'services');
  return readdirSync(dir).filter((name) => {
    try {
      return readFileSync(path.join(dir, name, 'src', 'main.ts')).length > 0;
    } catch {
      // A folder without a main is not a service.
      return false;
    }
  });
}

export async function buildServices(names: string[]): Promise<void> {
  const unknown = names.filter((n) => !serviceNames().includes(n));
  if (unknown.length) throw new Error(`no service named ${unknown.join(', ')} (services/<name>/src/main.ts)`);
  await build({
    entryPoints: Object.fromEntries(names.map((n) => [n, path.join(ROOT, 'services', n, 'src', 'main.ts')])),
    outdir: BUILD_DIR,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    tsconfig: path.join(ROOT, 'tsconfig.json'),
    sourcemap: 'linked',
    logLevel: 'warning',
    plugins: [ownLocation],
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const names = process.argv.slice(2);
  const started = Date.now();
  await buildServices(names.length ? names : serviceNames());
  console.log(`[build] ${names.length ? names.join(', ') : 'every service'} bundled into ${path.relative(ROOT, BUILD_DIR)}/ in ${Date.now() - started} ms`);
}
