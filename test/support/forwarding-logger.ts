// Moved to support/forwarding-logger.ts (chaos workers forward events too); kept for existing imports.
export * from '../../support/forwarding-logger';
