// Writes schemas/feature-config.schema.json from the zod schema the action validates with.
// Run: npx tsx actions/render-taskdef/gen-schema.ts  (a test fails when the committed file is stale)
import { writeFileSync } from 'node:fs';
import { featureConfigJsonSchema } from './config-schema.js';

const out = new URL('../../schemas/feature-config.schema.json', import.meta.url);
writeFileSync(out, `${JSON.stringify(featureConfigJsonSchema(), null, 2)}\n`);
console.log(`wrote ${out.pathname}`);
