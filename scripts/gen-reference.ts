import { writeFileSync } from 'node:fs';
import { renderReference } from '../src/config/reference.ts';

writeFileSync(new URL('../config/REFERENCE.md', import.meta.url), renderReference());
console.log('wrote config/REFERENCE.md');
