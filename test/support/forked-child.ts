// Moved to support/forked-child.ts (chaos runs fork children too); kept for existing imports.
export * from '../../support/forked-child';
