export { generatePopulation, type PopulationOptions } from './generatePopulation.js';
export { writeStores, type WriteStoresOptions, type WriteStoresReport, type StoreFileReport } from './writeStores.js';
export { ensurePopulation, readPopulationMeta, type EnsurePopulationOptions, type EnsurePopulationResult } from './ensurePopulation.js';
export { samplePersons, PopulationTooSmallError, type SamplePersons } from './samplePersons.js';
export { STORE_AGENCIES, agencyDbPath, type StoreAgency, type PopulationMeta } from './storeSchemas.js';
export { GENERATOR_VERSION, REFERENCE_DATE, FIRST_DATA_YEAR, LAST_DATA_YEAR } from './model.js';
export type * from './model.js';
