// Moved to support/capture-logger.ts (chaos workers capture logs too); kept for existing imports.
export * from '../../support/capture-logger';
