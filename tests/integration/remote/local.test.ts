import { afterAll } from 'vitest';
import { createLocalHost } from '../../../src/remote/local.ts';
import { hostContract } from './host-contract.ts';

const host = createLocalHost();
afterAll(() => host.close());

hostContract('LocalHost', () => host);
