// `npm run db:build`: builds the embedded FerretDB now instead of on first start.
import { defaultCacheDir, findOrBuildFerretDB } from '../db/embedded.ts';

const log = { info: (m: string) => console.log(m), warn: (m: string) => console.warn(m), error: (m: string) => console.error(m) };
const binary = await findOrBuildFerretDB({ engine: 'ferretdb', dataDir: '.', log: log as never }, defaultCacheDir());
console.log(`FerretDB ready: ${binary}`);
