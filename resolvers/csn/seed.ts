import { builtInSeed } from '../../src/population/builtInSeeds.js';

/** The store's rows come from generatePopulation's shared stream (npm run seed, writeStores). */
export const seed = builtInSeed('csn');
