// Moved to support/redis-cluster.ts (bench/micro/notice-cost.ts starts clusters too); kept for existing imports.
export * from '../../support/redis-cluster';
