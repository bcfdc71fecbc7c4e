// Moved to support/redis-server.ts (benchmarks start Redis clusters too); kept for existing imports.
export * from '../../support/redis-server';
