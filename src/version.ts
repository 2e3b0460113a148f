import { readFileSync } from 'node:fs';

/** bo's version, from package.json; recorded in every manifest. */
export const TOOL_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
