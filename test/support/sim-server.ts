// Moved to support/sim-server.ts and support/fetch-probe.ts (chaos runs use both); kept for existing imports.
export * from '../../support/sim-server';
export * from '../../support/fetch-probe';
