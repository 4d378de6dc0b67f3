// Writes every model of designer_exports/ with the modelers' own serializers.
// Run `npm ci` once here, then `node designer_exports/make/build.mjs` (from anywhere);
// the output is byte-for-byte the files committed next to this folder.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import bpmnio from './models/bpmnio.mjs';
import camunda7 from './models/camunda7.mjs';
import camunda8 from './models/camunda8.mjs';
import spiffarena from './models/spiffarena.mjs';

const OUT = fileURLToPath(new URL('..', import.meta.url));

for (const models of [camunda7, camunda8, bpmnio, spiffarena]) {
  for (const [file, make] of Object.entries(models)) {
    const made = await make();
    const text = typeof made === 'string' ? made : JSON.stringify(made, null, 2);
    const path = `${OUT}${file}`;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    console.log(`wrote ${file}`);
  }
}
